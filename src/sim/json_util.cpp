#include "sim/json_util.hpp"

#include "sim/wire.hpp"

#include <charconv>

namespace herd::sim {

api_error bad_request(std::string_view message) { return {400, wire::error_json(message), false}; }

std::variant<nlohmann::json, api_error> parse_body(std::string_view body) {
    if (body.empty()) return bad_request("missing request body");
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return bad_request("invalid character in request body: not JSON");
    if (!j.is_object()) return bad_request("json: cannot unmarshal request body: expected an object");
    return j;
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    bool negative = false;
    if (s.front() == '-' || s.front() == '+') {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    double total_ns = 0;
    bool any = false;
    while (!s.empty()) {
        double value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc{}) return std::nullopt;
        s.remove_prefix(static_cast<std::size_t>(end - s.data()));
        double unit = 0;
        // Longest unit names first so "ms" is not read as "m".
        for (auto [name, ns] : {std::pair<std::string_view, double>{"ns", 1}, {"us", 1e3}, {"µs", 1e3},
                                {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}) {
            if (s.substr(0, name.size()) == name) {
                unit = ns;
                s.remove_prefix(name.size());
                break;
            }
        }
        if (unit == 0) {
            // A bare number (no unit at all) means seconds, as Ollama's env.
            if (any || !s.empty()) return std::nullopt;
            unit = 1e9;
        }
        total_ns += value * unit;
        any = true;
    }
    if (!any) return std::nullopt;
    auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(total_ns));
    return negative ? -ns : ns;
}

std::optional<std::chrono::nanoseconds> keep_alive_from_json(const nlohmann::json& request) {
    auto it = request.find("keep_alive");
    if (it == request.end() || it->is_null()) return std::nullopt;
    if (it->is_number())
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(it->get<double>()));
    if (it->is_string())
        if (auto d = parse_duration(it->get_ref<const std::string&>())) return *d;
    throw std::invalid_argument("time: invalid duration " + it->dump());
}

void check_fields(const nlohmann::json& j, std::initializer_list<std::string_view> known, std::string_view what) {
    if (!j.is_object()) throw std::invalid_argument(std::string(what) + ": expected a JSON object");
    for (const auto& item : j.items()) {
        bool found = false;
        for (auto k : known) found = found || k == item.key();
        if (!found) throw std::invalid_argument(std::string(what) + ": unknown field \"" + item.key() + "\"");
    }
}

} // namespace herd::sim
