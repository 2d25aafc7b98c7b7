#pragma once
// Incremental HTTP/1.1 message parser over llhttp, shared by herd's client
// (responses) and herd-sim (requests).
//
// Feed bytes as they arrive, in pieces of any size; the parser stops after
// each complete message so the caller takes it before parsing the next one
// from the same buffer (pipelining). Content-Length and chunked bodies are
// both handled. Header and body sizes are capped by `parser_limits` and a
// breach is an error (errc::header_too_large / errc::body_too_large), as is
// any byte llhttp rejects (errc::protocol_error). After an error the parser
// must be reset() before further use.
//
// Memory: a claimed Content-Length is checked against the limit but never
// reserved ahead; the body grows with the bytes that arrive (capacity at
// most about twice what was received plus 1 MiB), so a peer that claims
// a huge body and sends little costs little.
//
// Written over llhttp rather than by hand: llhttp is the parser Node.js runs,
// a state machine that never allocates per byte.

#include <herd/error.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::http {

struct parser_limits {
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 512 * 1024 * 1024; ///< herd's pool passes pool_config::max_response_bytes
};

enum class message_kind { request, response };

/// One parsed message. Header names are lower-cased.
struct message {
    int status = 0;     ///< responses
    std::string method; ///< requests
    std::string target; ///< requests
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;   ///< empty when a body sink is installed
    bool keep_alive = true;
    bool chunked = false;
    bool http10 = false; ///< sent as HTTP/1.0 (a server then cannot answer chunked)

    /// Value of the first header named `name` (lower-case), or empty.
    std::string_view header(std::string_view name) const noexcept;
};

class parser {
public:
    explicit parser(message_kind kind, parser_limits limits = {});
    ~parser();
    parser(const parser&) = delete;
    parser& operator=(const parser&) = delete;

    struct result {
        std::size_t consumed = 0; ///< bytes of the input used
        bool complete = false;    ///< a whole message is ready: take() it
        std::error_code ec;       ///< parse failure; the parser is unusable
    };

    /// Parses as much of `data` as belongs to the current message.
    result feed(std::string_view data);

    /// Call when the peer closed the stream: completes a body delimited by
    /// end of connection, else reports errc::connection_lost when a message
    /// was started but not finished. Returns complete=true if a message ends.
    result finish();

    /// True once any byte of the current message has been parsed.
    bool in_message() const noexcept;

    /// The completed message; the parser is ready for the next one.
    message take();

    /// Head of the message being parsed; valid from headers_done().
    const message& current() const noexcept;
    bool headers_done() const noexcept;

    /// The next response carries no body whatever its headers say (the
    /// answer to HEAD).
    void expect_no_body();

    /// Body bytes go to `sink` as they arrive instead of into message::body
    /// (for streamed NDJSON). The limit on body size still applies. Pass an
    /// empty function to go back to collecting.
    void set_body_sink(std::function<void(std::string_view)> sink);

    void reset();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace herd::http
