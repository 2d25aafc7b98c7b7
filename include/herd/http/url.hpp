#pragma once
// A node address: "http://host:port" (Ollama's default port 11434 when
// absent; a bare "host:port" is accepted too, as OLLAMA_HOST allows).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd::http {

struct url {
    std::string host;         ///< name or address; IPv6 without brackets
    std::uint16_t port = 11434;

    /// "host:port" as sent in the Host header (IPv6 bracketed).
    std::string authority() const;
    /// "http://host:port"
    std::string str() const;

    /// Parses `text`; nullopt for an empty host, a host with a control byte,
    /// space, non-ASCII byte or one of / [ ] @ ? #, a bad port or a scheme
    /// other than http (herd speaks plain HTTP/1.1, as Ollama does).
    static std::optional<url> parse(std::string_view text);
};

} // namespace herd::http
