#pragma once
// A loopback TCP server whose per-connection behaviour is a coroutine the
// test writes, for driving the client through exact byte sequences.

#include <herd/async/compat.hpp>
#include <herd/http/parser.hpp>

#include <functional>
#include <string>

namespace herd::test {

using tcp = ::asio::ip::tcp;

class scripted_server {
public:
    using handler = std::function<awaitable<void>(tcp::socket)>;

    scripted_server(::asio::io_context& io, handler h)
        : acceptor_(io, tcp::endpoint(::asio::ip::make_address("127.0.0.1"), 0)), handler_(std::move(h)) {
        ::asio::co_spawn(io, accept_loop(), ::asio::detached);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    int accepted() const { return accepted_; }
    void close() { acceptor_.close(); }

private:
    awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(compat::use_nothrow);
            if (ec) co_return;
            ++accepted_;
            ::asio::co_spawn(acceptor_.get_executor(), handler_(std::move(socket)), ::asio::detached);
        }
    }

    tcp::acceptor acceptor_;
    handler handler_;
    int accepted_ = 0;
};

/// Reads requests from `socket` until `count` complete ones arrived (or the
/// peer closed); `reads` gets the number of requests seen per read call.
inline awaitable<std::vector<http::message>> read_requests(tcp::socket& socket, std::size_t count,
                                                          std::vector<std::size_t>* reads = nullptr) {
    http::parser p(http::message_kind::request);
    std::vector<http::message> out;
    char buf[8192];
    while (out.size() < count) {
        auto [ec, n] = co_await socket.async_read_some(::asio::buffer(buf), compat::use_nothrow);
        if (ec) break;
        std::string_view data(buf, n);
        std::size_t in_this_read = 0;
        while (!data.empty()) {
            auto r = p.feed(data);
            if (r.ec) co_return out;
            data.remove_prefix(r.consumed);
            if (r.complete) {
                out.push_back(p.take());
                ++in_this_read;
            }
        }
        if (reads) reads->push_back(in_this_read);
    }
    co_return out;
}

inline std::string response_with_body(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

} // namespace herd::test
