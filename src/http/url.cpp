#include <herd/http/url.hpp>

#include <charconv>

namespace herd::http {
namespace {

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= text.size()) return std::nullopt;
        auto [p, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc{} || p != text.data() + i + 3) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

// RFC 4648 base64, for the Basic scheme only: too small a need for a library.
std::string base64(std::string_view in) {
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned(static_cast<unsigned char>(in[i])) << 16) |
                     (unsigned(static_cast<unsigned char>(in[i + 1])) << 8) | static_cast<unsigned char>(in[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += digits[(v >> shift) & 63];
    }
    if (std::size_t rest = in.size() - i) {
        unsigned v = unsigned(static_cast<unsigned char>(in[i])) << 16;
        if (rest == 2) v |= unsigned(static_cast<unsigned char>(in[i + 1])) << 8;
        out += digits[(v >> 18) & 63];
        out += digits[(v >> 12) & 63];
        out += rest == 2 ? digits[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

} // namespace

std::string redact_credentials(std::string_view text) {
    auto start = text.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    auto at = text.rfind('@');
    if (at == std::string_view::npos || at < start) return std::string(text);
    return std::string(text.substr(0, start)) + "***" + std::string(text.substr(at));
}

std::string url::authority() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string url::str() const {
    return (api == api_kind::openai ? "openai+" : "") + std::string(tls() ? "https://" : "http://") + authority();
}

std::string url::basic_authorization() const {
    if (user.empty() && password.empty()) return {};
    return "Basic " + base64(user + ":" + password);
}

std::optional<url> url::parse(std::string_view text) {
    while (!text.empty() && (text.back() == '/' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    url u;
    if (auto scheme = text.find("://"); scheme != std::string_view::npos) {
        auto name = text.substr(0, scheme);
        if (name.starts_with("openai+")) {
            u.api = api_kind::openai;
            name.remove_prefix(7);
        }
        if (name == "https") {
            u.scheme = scheme::https;
            u.port = 443;
        } else if (name != "http") {
            return std::nullopt;
        }
        text.remove_prefix(scheme + 3);
    }
    if (auto slash = text.find('/'); slash != std::string_view::npos) text = text.substr(0, slash);
    if (auto at = text.rfind('@'); at != std::string_view::npos) {
        auto userinfo = text.substr(0, at);
        text.remove_prefix(at + 1);
        auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        auto password = percent_decode(colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
        if (!user || !password) return std::nullopt;
        u.user = std::move(*user);
        u.password = std::move(*password);
    }
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        u.host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        u.host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    } else {
        u.host = std::string(text);
    }
    // Only bytes a host name or address can hold: the host goes into the
    // Host header, so a CR, LF or space must never pass.
    if (u.host.empty()) return std::nullopt;
    for (unsigned char c : u.host)
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '[' || c == ']' || c == '@' || c == '?' || c == '#')
            return std::nullopt;
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535)
            return std::nullopt;
        u.port = static_cast<std::uint16_t>(value);
    }
    return u;
}

} // namespace herd::http
