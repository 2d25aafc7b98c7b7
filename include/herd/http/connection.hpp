#pragma once
// One keep-alive HTTP/1.1 connection to a node, with pipelining.
//
// request() queues a serialized request; a writer sends every queued
// request in one write (up to `pipeline_depth` unanswered at once) and a
// reader matches responses to requests in order. The socket is opened on
// the first request and again after the server closes an idle keep-alive
// connection; a connect failure fails the requests waiting for it.
//
// Errors (returned in `response_result::ec`, never thrown):
//  - errc::connect_failed: the connection could not be opened in time.
//  - errc::tls_failed: an https:// node's TLS handshake failed (bad
//    certificate, wrong host name, not TLS); `reason` says why.
//  - errc::connection_lost: the request was written but the connection
//    dropped before its response (the caller may resend idempotent
//    requests). Requests not yet written are sent on a new connection.
//  - errc::timeout: no response by the deadline. A timed-out request that
//    was already written closes the connection (a server that stopped
//    answering would otherwise stall every request behind it), failing
//    the others in flight with errc::pipeline_aborted: they did nothing
//    wrong, may be resent, and say nothing about the node's health.
//    Requests not yet written go on a new connection.
//  - errc::protocol_error / header_too_large / body_too_large: the bytes
//    were not a valid response; the connection is closed.
//
// Cancellation: request() honours Asio cancellation. A cancelled request
// that was not yet written is dropped; one already written is abandoned:
// its response is still read (to keep the pipeline in order) and
// discarded. request() then returns asio::error::operation_aborted.
//
// Threading: single executor; not thread-safe.

#include <herd/async/compat.hpp>
#include <herd/async/stats.hpp>
#include <herd/http/parser.hpp>
#include <herd/http/tls.hpp>
#include <herd/http/url.hpp>

#include <memory>
#include <optional>
#include <string>

namespace herd::http {

struct connection_options {
    std::size_t pipeline_depth = 8;                       ///< written, unanswered requests at most
    duration connect_timeout = std::chrono::seconds(5);
    parser_limits limits{};
    /// For https:// targets (client makes one with the system's CAs when
    /// null); ignored for http://.
    std::shared_ptr<tls_context> tls;
};

struct response_result {
    std::error_code ec;
    message response;
    std::string reason; ///< for errc::tls_failed: what the handshake said
};

class connection {
public:
    connection(executor ex, url target, connection_options options = {});
    ~connection(); ///< closes; requests still waiting fail with operation_aborted
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Sends `bytes` (a whole HTTP request) and waits for its response until
    /// `deadline`. `head` marks a request whose response has no body.
    awaitable<response_result> request(std::string bytes, time_point deadline, bool head = false);

    /// Requests queued or unanswered on this connection.
    std::size_t load() const noexcept;
    /// When the oldest request still queued or unanswered here was made,
    /// abandoned ones included (they hold the pipeline until answered).
    std::optional<time_point> oldest_request() const noexcept;
    bool is_open() const noexcept;
    /// Times the socket was (re)opened.
    std::size_t connects() const noexcept;
    /// Closes the socket; requests in flight fail with connection_lost.
    void close();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace herd::http
