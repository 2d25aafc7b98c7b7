#pragma once
// Go's name for a JSON value's kind, as Ollama's 400s say it ("json: cannot
// unmarshal <kind> into Go struct field ..."): herd-sim and herd serve both
// answer in Ollama's words. Private to src/ (not an installed header).

#include <nlohmann/json.hpp>

#include <string_view>

namespace herd::ollama {

/// "string", "number", "bool", "array" or "object". Never throws.
inline std::string_view go_kind(const nlohmann::json& v) noexcept {
    if (v.is_string()) return "string";
    if (v.is_number()) return "number";
    if (v.is_boolean()) return "bool";
    if (v.is_array()) return "array";
    return "object";
}

} // namespace herd::ollama
