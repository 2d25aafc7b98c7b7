#include "sim/session.hpp"

#include "http/ascii.hpp"
#include "sim/wire.hpp"

#include <cstdio>
#include <exception>

namespace herd::sim {

using compat::use_nothrow;

namespace {

constexpr std::size_t read_buffer_size = 32 * 1024;

} // namespace

session::session(tcp::socket socket)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      parser_(http::message_kind::request, http::parser_limits{64 * 1024, max_request_body}),
      buf_(read_buffer_size) {}

awaitable<std::optional<http::message>> session::next_request() {
    request_bytes_ = 0;
    bool sent_continue = false;
    for (;;) {
        if (begin_ < end_) {
            auto r = parser_.feed(std::string_view(buf_.data() + begin_, end_ - begin_));
            begin_ += r.consumed;
            request_bytes_ += r.consumed;
            if (r.ec) {
                co_await reject(r.ec);
                co_return std::nullopt;
            }
            // Clients that ask first (curl on big bodies) wait for this. Go
            // sends it when the handler reads the body, even one that came
            // along with the head.
            const bool ask = !sent_continue && parser_.headers_done() &&
                             http::iequals(parser_.current().header("expect"), "100-continue");
            if (r.complete) {
                auto m = parser_.take();
                if (ask && !m.body.empty() && !co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return std::nullopt;
                co_return m;
            }
            if (ask) {
                sent_continue = true;
                if (!co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return std::nullopt;
            }
        }
        begin_ = end_ = 0;
        if (closed_) co_return std::nullopt;
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf_), use_nothrow);
        if (ec) co_return std::nullopt;
        end_ = n;
    }
}

awaitable<void> session::reject(std::error_code ec) {
    out.clear();
    if (ec == errc::body_too_large) {
        // The simulator's own cap (Ollama has none): a JSON 413.
        wire::append_response(out, 413, wire::json_type, wire::error_json("http: request body too large"), false);
    } else {
        // As Go's net/http writes it: no Date, no Content-Length, the body
        // ends with the connection.
        std::string_view what = ec == errc::header_too_large ? "431 Request Header Fields Too Large" : "400 Bad Request";
        out += "HTTP/1.1 ";
        out += what;
        out += "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
        out += what;
    }
    co_await write(out);
    close();
}

awaitable<bool> session::write(std::string_view bytes) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), use_nothrow);
    co_return !ec;
}

awaitable<void> session::drain() {
    for (;;) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf_), use_nothrow);
        if (ec) co_return;
    }
}

awaitable<bool> session::sleep(steady_clock::duration d) {
    if (closed_) co_return false;
    timer_.expires_after(d);
    auto [ec] = co_await timer_.async_wait(use_nothrow);
    co_return !ec && !closed_;
}

void session::close() noexcept {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
}

void session::abort() noexcept {
    std::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    closed_ = true;
    socket_.close(ignored);
    timer_.cancel();
}

void session_set::close_all() {
    // close() does not remove (the session's own coroutine does), but copy
    // anyway so a close that resumes someone cannot invalidate the loop.
    std::vector<session*> all(set_.begin(), set_.end());
    for (auto* s : all) s->close();
}

namespace {
std::string& listen_on() {
    static std::string address = "127.0.0.1";
    return address;
}
} // namespace

void set_listen_address(const std::string& address) { listen_on() = address; }
const std::string& listen_address() { return listen_on(); }

void open_loopback(tcp::acceptor& a, std::uint16_t port) {
    tcp::endpoint ep(asio::ip::make_address(listen_on()), port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
}

awaitable<void> accept_each(tcp::acceptor& a, std::function<bool()> current,
                            std::function<void(tcp::socket)> on_accept) {
    while (a.is_open() && current()) {
        auto [ec, socket] = co_await a.async_accept(use_nothrow);
        if (!current()) co_return; // this acceptor was closed (and maybe reopened) meanwhile
        if (ec == asio::error::operation_aborted || !a.is_open()) co_return;
        if (ec) {
            // Out of descriptors and the like: back off instead of spinning.
            asio::steady_timer t(a.get_executor(), std::chrono::milliseconds(10));
            co_await t.async_wait(use_nothrow);
            continue;
        }
        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        on_accept(std::move(socket));
    }
}

void spawn(const executor& ex, awaitable<void> task) {
    asio::co_spawn(ex, std::move(task), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "herd-sim: task failed: %s\n", x.what());
        }
    });
}

} // namespace herd::sim
