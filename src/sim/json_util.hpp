#pragma once
// Small helpers for reading herd-sim's JSON (config files, fault specs,
// request fields) with a clear error on a wrong type, and Go-style duration
// strings ("1.5s", "5m", "1h30m", "400us") as Ollama's keep_alive uses them.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace herd::sim {

/// An error answer decided while reading a request.
struct api_error {
    int status = 400;
    std::string body;   ///< JSON `{"error":...}` unless `plain`
    bool plain = false; ///< text/plain body
};

/// 400 `{"error": message}`.
api_error bad_request(std::string_view message);

/// A request body as a JSON object, or the 400 Ollama gives for an empty
/// body, bytes that are not JSON, or JSON that is not an object.
std::variant<nlohmann::json, api_error> parse_body(std::string_view body);

/// Parses a Go duration ("300ms", "1h30m", "-1s"); a bare number is seconds.
/// Returns nullopt when the text is not a duration.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// Ollama's keep_alive: a number of seconds or a duration string; negative
/// means forever. nullopt when absent. Throws std::invalid_argument.
std::optional<std::chrono::nanoseconds> keep_alive_from_json(const nlohmann::json& request);

/// A duration given as a number of `Unit`s or as a duration string.
template <typename Duration>
Duration duration_from_json(const nlohmann::json& v, std::string_view field) {
    if (v.is_number())
        return std::chrono::duration_cast<Duration>(
            std::chrono::duration<double, typename Duration::period>(v.get<double>()));
    if (v.is_string())
        if (auto d = parse_duration(v.get_ref<const std::string&>()))
            return std::chrono::duration_cast<Duration>(*d);
    throw std::invalid_argument("field " + std::string(field) + ": expected a number or a duration string");
}

/// Reads object field `name` of `j` into `out` when present (null counts as
/// absent). Throws std::invalid_argument naming the field on a type mismatch.
template <typename T>
void read_field(const nlohmann::json& j, const char* name, T& out) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return;
    try {
        if constexpr (std::is_same_v<T, bool>) {
            if (!it->is_boolean()) throw std::invalid_argument("expected true or false");
            out = it->template get<bool>();
        } else if constexpr (std::is_arithmetic_v<T>) {
            if (!it->is_number()) throw std::invalid_argument("expected a number");
            if constexpr (std::is_unsigned_v<T>)
                if (it->template get<double>() < 0) throw std::invalid_argument("expected a number >= 0");
            out = it->template get<T>();
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!it->is_string()) throw std::invalid_argument("expected a string");
            out = it->template get<std::string>();
        } else {
            out = duration_from_json<T>(*it, name);
        }
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("field ") + name + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("field ") + name + ": " + e.what());
    }
}

/// Throws std::invalid_argument when `j` is not an object or has a key not
/// in `known` (a typo in a config should not be silently ignored).
void check_fields(const nlohmann::json& j, std::initializer_list<std::string_view> known, std::string_view what);

} // namespace herd::sim
