#include "cli/event_log.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace herd::cli {

event_log::event_log(const args& a) {
    auto format = a.get("log-format");
    if (!format) {
        if (a.get("log-file")) throw std::invalid_argument("--log-file needs --log-format json or text");
        return;
    }
    if (*format != "json" && *format != "text")
        throw std::invalid_argument("--log-format is json or text, not '" + *format + "'");
    json_ = *format == "json";
    out_ = stderr;
    if (auto file = a.get("log-file")) {
        out_ = std::fopen(file->c_str(), "a");
        if (!out_) throw std::invalid_argument(fmt::format("cannot open --log-file {}: {}", *file, std::strerror(errno)));
        owned_ = true;
    }
}

event_log::~event_log() {
    if (owned_) std::fclose(out_);
}

event_callback event_log::callback() {
    if (!out_) return {};
    return [this](const event& e) { write(e); };
}

void event_log::write(const event& e) {
    if (json_) {
        fmt::print(out_, "{}\n", to_json(e));
    } else {
        fmt::print(out_, "herd: event {}{}{}{}{}\n", to_string(e.kind), e.node.empty() ? "" : " node " + e.node,
                   e.model.empty() ? "" : " model " + e.model,
                   e.request_id ? fmt::format(" request {}", e.request_id) : "",
                   e.detail.empty() ? "" : ": " + e.detail);
    }
    std::fflush(out_);
}

} // namespace herd::cli
