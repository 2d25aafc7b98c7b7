#pragma once
// JSON pieces both APIs of `herd serve` write and read: request bodies
// parsed with Go-like error texts, error bodies, and vectors written
// without building a JSON tree (a 100,000-row answer is written straight
// into one string).

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace herd::serve {

/// Content-Type of Ollama's JSON answers.
inline constexpr std::string_view json_type = "application/json; charset=utf-8";

/// A request body parsed as a JSON object, or the 400 text Ollama gives:
/// "missing request body" (empty), "unexpected EOF" (cut short), or a
/// parse/type message.
struct json_body {
    nlohmann::json value;
    std::string error; ///< non-empty: the body is unusable
};
json_body parse_json_body(std::string_view body);

/// {"error":"text"}
std::string error_json(std::string_view text);

/// Appends `[v0,v1,...]`, each float in its shortest form that reads back
/// as the same float.
void append_floats(std::string& out, std::span<const float> values);

/// Base64 of the floats' little-endian IEEE-754 bytes (OpenAI's
/// encoding_format "base64").
std::string base64_floats(std::span<const float> values);

/// A keep_alive value as Ollama takes it (a duration string, or a number
/// of seconds) as a duration string; nullopt when it is neither.
std::optional<std::string> keep_alive_text(const nlohmann::json& v);

} // namespace herd::serve
