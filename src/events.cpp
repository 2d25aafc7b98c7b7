#include "event_json.hpp"

#include <fmt/format.h>

#include <ctime>

namespace herd {

std::string_view to_string(event_kind kind) noexcept {
    switch (kind) {
    case event_kind::node_ejected: return "node_ejected";
    case event_kind::node_readmitted: return "node_readmitted";
    case event_kind::limit_decreased: return "limit_decreased";
    case event_kind::model_loaded: return "model_loaded";
    case event_kind::attempt_failed: return "attempt_failed";
    case event_kind::retry: return "retry";
    case event_kind::hedge_won: return "hedge_won";
    case event_kind::batch_given_back: return "batch_given_back";
    }
    return "unknown";
}

namespace {

// "2026-11-30T10:04:13.123Z"
std::string utc(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

} // namespace

namespace detail {

nlohmann::json as_json(const event& e) {
    nlohmann::json j{{"time", utc(e.time)}, {"event", std::string(to_string(e.kind))}};
    if (e.request_id) j["request_id"] = e.request_id;
    if (!e.node.empty()) j["node"] = e.node;
    if (!e.model.empty()) j["model"] = e.model;
    if (!e.detail.empty()) j["detail"] = e.detail;
    if (e.value != 0) j["value"] = e.value;
    return j;
}

} // namespace detail

std::string to_json(const event& e) {
    // Node error texts may hold any bytes: replace what is not UTF-8.
    return detail::as_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace herd
