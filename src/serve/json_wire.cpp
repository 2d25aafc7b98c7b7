#include "serve/json_wire.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstring>

namespace herd::serve {

json_body parse_json_body(std::string_view body) {
    json_body out;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        out.error = "missing request body";
        return out;
    }
    try {
        out.value = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        out.error = e.byte >= body.size() ? "unexpected EOF"
                                          : fmt::format("invalid character '{}' looking for beginning of value",
                                                        body[e.byte > 0 ? e.byte - 1 : 0]);
        return out;
    }
    if (!out.value.is_object())
        out.error = fmt::format("json: cannot unmarshal {} into Go value of request type", out.value.type_name());
    return out;
}

std::string error_json(std::string_view text) {
    nlohmann::json j;
    j["error"] = text;
    return j.dump();
}

void append_floats(std::string& out, std::span<const float> values) {
    out += '[';
    auto it = std::back_inserter(out);
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        fmt::format_to(it, "{}", values[i]);
    }
    out += ']';
}

std::string base64_floats(std::span<const float> values) {
    static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(values.size() * 4, '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        auto u = std::bit_cast<std::uint32_t>(values[i]);
        for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) | std::uint8_t(bytes[i + 2]);
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += table[(n >> 6) & 63];
        out += table[n & 63];
    }
    if (i < bytes.size()) {
        std::uint32_t n = std::uint8_t(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= std::uint8_t(bytes[i + 1]) << 8;
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? table[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> keep_alive_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return fmt::format("{}s", v.get<std::int64_t>());
    if (v.is_number()) return fmt::format("{}s", v.get<double>());
    return std::nullopt;
}

} // namespace herd::serve
