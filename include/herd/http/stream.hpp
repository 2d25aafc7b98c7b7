#pragma once
// One HTTP request whose response body is read as it arrives (streamed
// chat/generate), on a connection of its own: a stream is long and not
// idempotent, so it must not block a pipeline, and closing its socket is
// how a client tells Ollama to stop generating.
//
//   body_stream s{ex, url, options};
//   auto ec = co_await s.start(request_bytes, deadline);   // head received
//   while (auto piece = co_await s.read(deadline)) ...      // body bytes
//
// Errors (returned, never thrown): connect_failed, tls_failed (reason()
// says why), connection_lost, timeout, protocol_error, body_too_large. A non-2xx status is not an
// error here: status() tells it and read() returns its body.
// Cancellation: honours Asio cancellation in every step (connect, write,
// read): the result is then operation_aborted, never connect_failed or
// timeout. close() or destruction closes the socket at once.
// Not thread-safe.

#include <herd/http/connection.hpp>

#include <memory>
#include <optional>

namespace herd::http {

class transport;

class body_stream {
public:
    body_stream(executor ex, url target, connection_options options = {});
    ~body_stream();
    body_stream(const body_stream&) = delete;
    body_stream& operator=(const body_stream&) = delete;

    /// Connects, sends `request` and waits for the response head.
    awaitable<std::error_code> start(std::string request, time_point deadline);

    /// The next piece of the body; an empty optional at its end. Sets `ec`
    /// on failure.
    awaitable<std::optional<std::string>> read(time_point deadline, std::error_code& ec);

    int status() const noexcept { return status_; }
    /// Why start() failed with errc::tls_failed.
    const std::string& reason() const noexcept;
    const message& head() const noexcept { return head_; }
    bool finished() const noexcept { return finished_; }
    void close();

private:
    awaitable<std::error_code> fill(time_point deadline);

    std::unique_ptr<transport> socket_;
    url target_;
    connection_options options_;
    parser parser_;
    message head_;
    std::string pending_;     // body bytes parsed but not yet read()
    std::vector<char> buffer_;
    int status_ = 0;
    bool finished_ = false;
};

} // namespace herd::http
