#pragma once
// A tiny blocking HTTP client for herd-sim's tests: raw request bytes out,
// responses read with herd's parser, every read bounded by a deadline
// (poll(2) before each blocking read), so no test can hang.

#include <herd/http/parser.hpp>

#include <asio.hpp>

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace sim_test {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

struct reply {
    herd::http::message msg;
    std::error_code ec;     ///< read or parse failure (EOF, reset, protocol error)
    bool timed_out = false; ///< nothing complete before the deadline
    std::string raw;        ///< every byte read for this reply
    std::size_t reads = 0;  ///< reads that returned bytes
    bool ok() const { return !ec && !timed_out; }
};

/// An HTTP/1.1 request with Host and, when there is a body, Content-Length.
inline std::string request(std::string_view method, std::string_view path, std::string_view body = {},
                           std::string_view extra_headers = {}) {
    std::string r;
    r += method;
    r += ' ';
    r += path;
    r += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!body.empty() || method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    r += extra_headers;
    r += "\r\n";
    r += body;
    return r;
}

class client {
public:
    explicit client(std::uint16_t port) : socket_(io_) {
        socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
        socket_.set_option(tcp::no_delay(true));
    }

    /// The error of a connect to `port` (none when it succeeded).
    static std::error_code try_connect(std::uint16_t port) {
        asio::io_context io;
        tcp::socket s(io);
        std::error_code ec;
        s.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
        return ec;
    }

    void send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }

    /// Reads until one response is complete, the connection fails, or the
    /// deadline passes. `head`: the answer to a HEAD request (no body).
    reply read(std::chrono::milliseconds timeout = 5000ms, bool head = false) {
        reply r;
        if (head) parser_.expect_no_body();
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            while (!pending_.empty()) {
                auto res = parser_.feed(pending_);
                r.raw.append(pending_, 0, res.consumed);
                pending_.erase(0, res.consumed);
                if (res.ec) {
                    r.ec = res.ec;
                    return r;
                }
                if (res.complete) {
                    r.msg = parser_.take();
                    return r;
                }
            }
            std::string chunk;
            if (!read_some(deadline, chunk, r)) {
                if (r.ec == asio::error::eof) {
                    auto fin = parser_.finish();
                    if (fin.complete) {
                        r.ec = {};
                        r.msg = parser_.take();
                    }
                }
                return r;
            }
            pending_ += chunk;
        }
    }

    /// Raw bytes: whatever arrives next (up to the deadline).
    std::string read_raw(std::chrono::milliseconds timeout = 5000ms) {
        reply r;
        std::string chunk;
        read_some(std::chrono::steady_clock::now() + timeout, chunk, r);
        return chunk;
    }

    void close() {
        std::error_code ignored;
        socket_.close(ignored);
    }

private:
    bool read_some(std::chrono::steady_clock::time_point deadline, std::string& out, reply& r) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{socket_.native_handle(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            r.timed_out = true;
            return false;
        }
        char buf[65536];
        std::error_code ec;
        auto n = socket_.read_some(asio::buffer(buf), ec);
        if (ec) {
            r.ec = ec;
            return false;
        }
        r.reads++;
        out.append(buf, n);
        return true;
    }

    asio::io_context io_;
    tcp::socket socket_;
    herd::http::parser parser_{herd::http::message_kind::response};
    std::string pending_;
};

/// One request on a fresh connection.
inline reply roundtrip(std::uint16_t port, std::string_view method, std::string_view path, std::string_view body = {},
                       std::chrono::milliseconds timeout = 5000ms) {
    client c(port);
    c.send(request(method, path, body));
    return c.read(timeout, method == "HEAD");
}

/// Polls `f` until it is true or `timeout` passes.
template <typename F>
bool eventually(F f, std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!f()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

} // namespace sim_test
