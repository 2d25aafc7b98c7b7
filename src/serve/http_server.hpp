#pragma once
// A small HTTP/1.1 server: the transport of `herd serve` (not part of the
// herd library).
//
//   herd::serve::router routes;
//   routes.add("GET", "/hello", [](request& req, response& res) -> awaitable<void> {
//       co_await res.send(200, "text/plain", "hi");
//   });
//   herd::serve::http_server server(io.get_executor(), routes.as_handler());
//   server.listen({asio::ip::make_address("127.0.0.1"), 11434});
//   server.start();
//   ... co_await server.shutdown(std::chrono::seconds(10));
//
// Connections. One session per accepted connection, with keep-alive and
// pipelining: a reader parses requests (herd's llhttp parser in request
// mode) as they arrive, up to `max_pipelined` ahead, and one worker runs
// the handler for each request in turn, so responses go out in request
// order, one at a time (as Ollama answers pipelined requests). A request
// with `Connection: close` or HTTP/1.0 without keep-alive is the
// connection's last; what follows it is dropped.
//
// Limits. A head over `max_header_bytes` is answered 431, a body over
// `max_body_bytes` 413, unparseable bytes 400; each with `Connection: close`
// and the body `server_options::reject_body` makes, then the connection is
// closed. Nothing is reserved ahead of the bytes that arrive.
//
// Handlers. `handler` is called once per request on the server's executor
// with the request and a `response` that stays valid until the handler's
// coroutine finishes. It answers with response::send (a whole body with
// Content-Length) or begin_stream / write / end_stream (chunked; for an
// HTTP/1.0 client a body delimited by closing the connection). A response
// to HEAD carries the head only. A handler that finishes without answering
// gets 500 sent for it; one that began a stream and did not end it gets the
// stream ended. A handler that throws: 500 when nothing was sent yet,
// otherwise the connection is closed (the client sees a torn body).
//
// Cancellation. The reader keeps reading while a handler runs. When the
// client closes or resets the connection (or sends EOF), the running
// handler gets terminal cancellation through the cancellation slot of its
// coroutine (asio::this_coro::cancellation_state), so whatever it awaits —
// a pool call, a timer — is cancelled; response::client_gone() turns true
// and writes fail with the socket's error. Handlers run with
// throw_if_cancelled off: cancellation arrives as operation_aborted from the
// operation being awaited (an exception for use_awaitable, a value for
// use_nothrow). Queued pipelined requests behind it are dropped. While
// `max_pipelined` requests are queued and the read buffer is full the reader
// stops reading (back-pressure), and a disconnect is noticed once the queue
// drains.
//
// Shutdown. shutdown(grace) stops accepting, closes idle connections at
// once, drops pipelined requests not yet started, lets each running handler
// finish (its response carries `Connection: close` when its head is still
// to be written), and closes each connection after it. When `grace` passes
// first, running handlers get terminal cancellation and their connections
// are closed; shutdown then waits for them to return.
//
// Threading: the server, its sessions and handlers run on one executor that
// must not run handlers concurrently (an io_context run by one thread, or
// a strand). Destroy the server only after shutdown() completed or the
// io_context stopped: handlers usually refer to objects the server's
// owner holds.

#include <herd/async/compat.hpp>
#include <herd/http/parser.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace herd::serve {

using tcp = ::asio::ip::tcp;

/// An extra response header (views: they must live until the write returns).
struct header_field {
    std::string_view name;
    std::string_view value;
};

/// One request as the handler sees it.
struct request {
    http::message message;       ///< method, target, headers (lower-case names), body
    std::uint64_t connection = 0; ///< the connection's id, unique within the server (fairness keys)
    tcp::endpoint peer;           ///< the client's address

    /// The target before any '?'.
    std::string_view path() const noexcept;
    /// The target after the first '?', without it (empty if none).
    std::string_view query() const noexcept;
    /// Value of the first header named `name` (lower-case), or empty.
    std::string_view header(std::string_view name) const noexcept { return message.header(name); }
};

class session;

/// The answer to one request. Every write returns the socket's error (empty
/// on success); after an error the connection is closed and further writes
/// fail at once with asio::error::not_connected. Calling send or
/// begin_stream twice, or write/end_stream before begin_stream, is a bug
/// (std::logic_error).
class response {
public:
    explicit response(session& s) noexcept : session_(&s) {}
    response(const response&) = delete;
    response& operator=(const response&) = delete;

    /// The whole response: status line, Content-Type, Date, Content-Length,
    /// `extra`, then `body` (not for HEAD).
    awaitable<std::error_code> send(int status, std::string_view content_type, std::string_view body,
                                    std::span<const header_field> extra = {});

    /// Starts a streamed response (Transfer-Encoding: chunked; HTTP/1.0:
    /// no length, the connection closes after it).
    awaitable<std::error_code> begin_stream(int status, std::string_view content_type,
                                            std::span<const header_field> extra = {});
    /// Sends `data` as one chunk now (empty data sends nothing).
    awaitable<std::error_code> write(std::string_view data);
    /// Ends the stream (the zero chunk).
    awaitable<std::error_code> end_stream();

    bool started() const noexcept { return started_; }
    bool finished() const noexcept { return finished_; }
    /// True once the client closed or reset the connection.
    bool client_gone() const noexcept;
    /// Closes the connection after this response (and says so in its head
    /// when that is not written yet).
    void close_after() noexcept { close_after_ = true; }
    bool closing() const noexcept { return close_after_; }

private:
    friend class session;
    awaitable<std::error_code> write_head(int status, std::string_view content_type, std::string_view length_header,
                                          std::span<const header_field> extra, std::string_view body);

    session* session_;
    bool started_ = false;
    bool finished_ = false;
    bool streaming_ = false; // begin_stream was called
    bool chunked_ = false;
    bool head_only_ = false; // a stream answering HEAD: writes send nothing
    bool close_after_ = false;
};

/// Answers one request; see the header for what the server does around it.
using handler = std::function<awaitable<void>(request&, response&)>;

struct server_options {
    std::size_t max_header_bytes = 64 * 1024;        ///< 431 beyond
    std::size_t max_body_bytes = 64 * 1024 * 1024;   ///< 413 beyond
    std::size_t max_pipelined = 16;                  ///< parsed requests queued per connection
    std::size_t read_buffer_bytes = 32 * 1024;
    /// Content-Type and body of the 400/413/431 answers to unparseable,
    /// oversized or over-long requests; default: Go's plain text
    /// ("431 Request Header Fields Too Large").
    std::function<std::pair<std::string, std::string>(int status)> reject_body;
};

/// "OK", "Not Found", ... for `status` ("Unknown" for others).
std::string_view reason_phrase(int status) noexcept;

class http_server {
public:
    http_server(executor ex, handler h, server_options options = {});
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Opens, binds (SO_REUSEADDR) and listens. Throws std::system_error
    /// (address in use, not available, ...).
    void listen(const tcp::endpoint& where);
    /// The bound address (port 0 in listen() picks a free port).
    tcp::endpoint local_endpoint() const;
    /// Starts accepting on the executor. Accept errors other than the
    /// acceptor closing (out of descriptors) back off 10 ms and retry.
    void start();

    /// Graceful stop (see the header). Completes when every connection is
    /// closed and every handler returned. Never throws; idempotent.
    awaitable<void> shutdown(std::chrono::steady_clock::duration grace);

    /// Connections open now.
    std::size_t connections() const noexcept;
    /// Connections accepted since start.
    std::uint64_t accepted() const noexcept;

    struct state; ///< shared with the sessions (they may outlive a stopped server)

private:
    std::shared_ptr<state> state_;
};

} // namespace herd::serve
