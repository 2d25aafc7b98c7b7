#pragma once
// Small helpers for reading herd-sim's JSON (config files, fault specs,
// request fields) with a clear error on a wrong type, and Go-style duration
// strings ("1.5s", "5m", "1h30m", "400us") as Ollama's keep_alive uses them.

#include "ollama/go_kind.hpp"

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

/// A request body as a JSON object, decoded as Go's json.Decoder does into
/// a struct of type `go_type` (e.g. "api.EmbedRequest"): the first value
/// counts and bytes after it are ignored, `null` is an empty object. Errors
/// are Ollama's 400s: "missing request body" (empty or blank), "unexpected
/// EOF" (cut short), "json: cannot unmarshal array into Go value of type
/// ...", and for other syntax errors Go's "invalid character 'x' looking for
/// beginning of value" (Go words some cases differently).
std::variant<nlohmann::json, api_error> parse_body(std::string_view body, std::string_view go_type);

/// Go's name for the JSON kind of a value in its type errors.
using ollama::go_kind;

/// Reads request field `name` of `j` into `out` (a std::string, bool or
/// std::int64_t: Go's string, bool and int) as encoding/json does: absent
/// or null leaves `out`. On a type mismatch returns false and sets `error`
/// to Go's text, "json: cannot unmarshal <kind> into Go struct field
/// <owner>.<name> of type <type>".
template <typename T>
bool read_go_field(const nlohmann::json& j, std::string_view owner, const char* name, T& out, std::string& error) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return true;
    std::string_view go_type;
    if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean()) return out = it->template get<bool>(), true;
        go_type = "bool";
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string()) return out = it->template get<std::string>(), true;
        go_type = "string";
    } else {
        static_assert(std::is_same_v<T, std::int64_t>);
        if (it->is_number_integer()) return out = it->template get<std::int64_t>(), true;
        go_type = "int";
    }
    error = "json: cannot unmarshal ";
    error += go_kind(*it);
    if (std::is_same_v<T, std::int64_t> && it->is_number()) error += " " + it->dump(); // a number that is no int
    error += " into Go struct field ";
    error += owner;
    error += '.';
    error += name;
    error += " of type ";
    error += go_type;
    return false;
}

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
