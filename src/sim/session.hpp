#pragma once
// One accepted HTTP/1.1 connection on the server side: reads requests one at
// a time out of whatever the client sent (several pipelined requests may sit
// in one read), writes answers, and owns the one timer every wait on behalf
// of this connection uses, so closing the connection wakes any such wait.

#include <herd/async/compat.hpp>
#include <herd/http/parser.hpp>

#include <asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace herd::sim {

using tcp = asio::ip::tcp;
using steady_clock = std::chrono::steady_clock;

/// Largest request body the simulator accepts (then 413 and close).
inline constexpr std::size_t max_request_body = 64 * 1024 * 1024;

class session {
public:
    explicit session(tcp::socket socket);

    /// The next complete request. nullopt when the peer closed or the read
    /// failed, or after a malformed request got its 4xx (the connection is
    /// then finished).
    awaitable<std::optional<http::message>> next_request();
    /// Bytes on the wire of the request next_request() returned last.
    std::size_t request_bytes() const noexcept { return request_bytes_; }

    /// Writes all of `bytes`; false when the connection is gone.
    awaitable<bool> write(std::string_view bytes);
    /// Reads and drops everything until the peer closes (a hung server).
    awaitable<void> drain();
    /// Waits `d` on the connection's timer; false when woken early by close().
    awaitable<bool> sleep(steady_clock::duration d);

    /// Orderly close (FIN). Wakes any wait on timer(). Idempotent.
    void close() noexcept;
    /// Abortive close: SO_LINGER 0, so the peer sees a reset.
    void abort() noexcept;
    /// True once this side closed the connection (not the peer).
    bool closed() const noexcept { return closed_; }

    asio::steady_timer& timer() noexcept { return timer_; }
    tcp::socket& socket() noexcept { return socket_; }

    std::string out;  ///< response bytes, reused between requests
    std::string body; ///< response body, reused between requests

private:
    awaitable<void> reject(std::error_code ec);

    tcp::socket socket_;
    asio::steady_timer timer_;
    http::parser parser_;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0; // unparsed bytes in buf_
    std::size_t request_bytes_ = 0;
    bool closed_ = false;
};

/// The open sessions of a listener, so dying or stopping closes them all.
class session_set {
public:
    void add(session* s) { set_.insert(s); }
    void remove(session* s) { set_.erase(s); }
    void close_all();
    std::size_t size() const noexcept { return set_.size(); }

private:
    std::unordered_set<session*> set_;
};

/// Opens `a` on 127.0.0.1:`port` (0 = a free port) with SO_REUSEADDR, so a
/// node that comes back can bind its old port again. Throws system_error.
/// (herd-sim --listen binds another address, see set_listen_address.)
void open_loopback(tcp::acceptor& a, std::uint16_t port);

/// The address open_loopback binds from now on, process-wide (herd-sim
/// --listen, for hosts inside a test's network namespace); "127.0.0.1".
void set_listen_address(const std::string& address);
const std::string& listen_address();

/// Accepts on `a` until it is closed or `current()` turns false, handing
/// each socket (TCP_NODELAY set) to `on_accept`.
awaitable<void> accept_each(tcp::acceptor& a, std::function<bool()> current,
                            std::function<void(tcp::socket)> on_accept);

/// co_spawn on `ex` that reports an escaped exception on stderr instead of
/// dropping it silently.
void spawn(const executor& ex, awaitable<void> task);

} // namespace herd::sim
