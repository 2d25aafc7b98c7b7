#include <herd/http/url.hpp>

#include <charconv>

namespace herd::http {

std::string url::authority() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string url::str() const { return "http://" + authority(); }

std::optional<url> url::parse(std::string_view text) {
    while (!text.empty() && (text.back() == '/' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (auto scheme = text.find("://"); scheme != std::string_view::npos) {
        if (text.substr(0, scheme) != "http") return std::nullopt;
        text.remove_prefix(scheme + 3);
    }
    if (auto slash = text.find('/'); slash != std::string_view::npos) text = text.substr(0, slash);
    url u;
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
