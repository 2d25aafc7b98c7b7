#include "sim/json_util.hpp"

#include "sim/wire.hpp"

#include <charconv>
#include <sstream>

namespace herd::sim {

api_error bad_request(std::string_view message) { return {400, wire::error_json(message), false}; }

namespace {

bool blank(std::string_view s) noexcept {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

// The slow path, for a body that is not exactly one JSON value: Go decodes
// the first value and ignores what follows, and says EOF for a cut body.
std::variant<nlohmann::json, api_error> parse_prefix(std::string_view body) {
    try {
        std::istringstream in{std::string(body)};
        nlohmann::json j;
        in >> j; // reads one value, leaves the rest
        return j;
    } catch (const nlohmann::json::parse_error& e) {
        if (e.byte >= body.size()) return bad_request("unexpected EOF");
        std::string text = "invalid character '";
        text += body[e.byte > 0 ? e.byte - 1 : 0];
        text += "' looking for beginning of value";
        return bad_request(text);
    }
}

} // namespace

std::variant<nlohmann::json, api_error> parse_body(std::string_view body, std::string_view go_type) {
    if (blank(body)) return bad_request("missing request body");
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        auto prefix = parse_prefix(body);
        if (auto* e = std::get_if<api_error>(&prefix)) return std::move(*e);
        j = std::move(std::get<nlohmann::json>(prefix));
    }
    if (j.is_null()) return nlohmann::json::object();
    if (!j.is_object()) {
        std::string text = "json: cannot unmarshal ";
        text += go_kind(j);
        text += " into Go value of type ";
        text += go_type;
        return bad_request(text);
    }
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
