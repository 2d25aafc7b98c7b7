#pragma once
// A node address: "http://host:port" (Ollama's default port 11434 when
// absent; a bare "host:port" is accepted too, as OLLAMA_HOST allows), or
// "https://host[:port]" for a node behind TLS (port 443 when absent).
// "http://user:password@host" carries Basic credentials: they go into an
// Authorization header and never into str(), names, errors or metrics.
// "openai+http://" and "openai+https://" name a server that speaks OpenAI's
// API (/v1/embeddings, /v1/chat/completions, /v1/models: llama.cpp's
// llama-server, vLLM, LM Studio) instead of Ollama's; the transport is the
// same.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd::http {

enum class scheme { http, https };
/// Which HTTP API the server at the address speaks.
enum class api_kind { ollama, openai };

struct url {
    std::string host;         ///< name or address; IPv6 without brackets
    std::uint16_t port = 11434;
    http::scheme scheme = scheme::http;
    http::api_kind api = api_kind::ollama;
    std::string user;         ///< from "user:password@", percent-decoded
    std::string password;

    /// "host:port" as sent in the Host header (IPv6 bracketed).
    std::string authority() const;
    /// "http://host:port" or "https://host:port" ("openai+" before either
    /// for an OpenAI-compatible server); never the credentials, so
    /// it is safe to log and is what names the node everywhere.
    std::string str() const;
    bool tls() const noexcept { return scheme == scheme::https; }
    /// "Basic base64(user:password)" when the URL had credentials, else empty.
    std::string basic_authorization() const;

    /// Parses `text`; nullopt for an empty host, a host with a control byte,
    /// space, non-ASCII byte or one of / [ ] @ ? #, a bad port, bad
    /// percent-escapes in the credentials or a scheme other than http, https,
    /// openai+http or openai+https.
    static std::optional<url> parse(std::string_view text);
};

/// `text` with any "user:password@" part replaced by "***@", for messages
/// about a URL that did not parse.
std::string redact_credentials(std::string_view text);

} // namespace herd::http
