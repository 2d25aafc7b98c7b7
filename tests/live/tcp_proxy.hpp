#pragma once
// A loopback TCP proxy in front of one real node, on its own thread, that
// can die like a crashed server: the live failover tests kill it mid-corpus
// instead of killing an Ollama process the rest of the suite shares.
//
//   live::tcp_proxy proxy(11434, 50'000);   // dies after 50,000 bytes back
//   pool_config cfg = live::config({proxy.url(), other_node});
//
// Dying: the listener closes (later connects are refused) and every
// connection is closed, the one that crossed the byte limit right after
// its first `cut_after` bytes (mid-answer). Bytes are passed through
// unchanged; each client connection gets its own upstream connection.

#include <herd/async/compat.hpp>

#include <array>
#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace herd::live {

class tcp_proxy {
public:
    explicit tcp_proxy(std::uint16_t target_port, std::size_t cut_after = std::numeric_limits<std::size_t>::max())
        : target_({::asio::ip::make_address_v4("127.0.0.1"), target_port}), cut_after_(cut_after) {
        acceptor_.open(::asio::ip::tcp::v4());
        acceptor_.bind({::asio::ip::make_address_v4("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        ::asio::co_spawn(io_, accept_loop(), ::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    // Every socket closed ends every coroutine, so run() returns by itself.
    ~tcp_proxy() {
        kill();
        work_.reset();
        thread_.join();
    }

    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    /// Any thread.
    void kill() {
        ::asio::post(io_, [this] { die(); });
    }
    bool dead() const noexcept { return dead_; }
    /// Bytes passed from the node back to clients.
    std::size_t bytes_back() const noexcept { return bytes_back_; }
    /// Client connections accepted.
    std::size_t connections() const noexcept { return connections_; }

private:
    using tcp = ::asio::ip::tcp;
    struct link {
        explicit link(tcp::socket c) : client(std::move(c)), upstream(client.get_executor()) {}
        tcp::socket client, upstream;
    };

    ::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(compat::as_tuple(::asio::use_awaitable));
            if (ec) co_return; // closed by die()
            ++connections_;
            auto l = std::make_shared<link>(std::move(socket));
            links_.push_back(l);
            ::asio::co_spawn(io_, serve(l), ::asio::detached);
        }
    }

    ::asio::awaitable<void> serve(std::shared_ptr<link> l) {
        auto [ec] = co_await l->upstream.async_connect(target_, compat::as_tuple(::asio::use_awaitable));
        if (ec || dead_) {
            close(*l);
            co_return;
        }
        ::asio::co_spawn(io_, pump(l, l->client, l->upstream, false), ::asio::detached);
        co_await pump(l, l->upstream, l->client, true);
    }

    // Copies one direction until either side ends, then closes both.
    ::asio::awaitable<void> pump(std::shared_ptr<link> l, tcp::socket& from, tcp::socket& to, bool back) {
        std::array<char, 16384> buf;
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(::asio::buffer(buf), compat::as_tuple(::asio::use_awaitable));
            if (ec) break;
            bool cut = false;
            if (back) {
                std::size_t room = cut_after_ - bytes_back_;
                if (n >= room) {
                    n = room;
                    cut = true;
                }
                bytes_back_ += n;
            }
            auto [wec, written] = co_await ::asio::async_write(to, ::asio::buffer(buf, n),
                                                               compat::as_tuple(::asio::use_awaitable));
            if (wec) break;
            if (cut) {
                die();
                co_return;
            }
        }
        close(*l);
    }

    static void close(link& l) {
        std::error_code ignored;
        l.client.close(ignored);
        l.upstream.close(ignored);
    }

    void die() {
        dead_ = true;
        std::error_code ignored;
        acceptor_.close(ignored);
        for (auto& l : links_) close(*l);
        links_.clear();
    }

    ::asio::io_context io_;
    ::asio::executor_work_guard<::asio::io_context::executor_type> work_{io_.get_executor()};
    tcp::acceptor acceptor_{io_};
    tcp::endpoint target_;
    std::size_t cut_after_;
    std::uint16_t port_ = 0;
    std::vector<std::shared_ptr<link>> links_; // touched on the proxy thread only
    std::atomic<bool> dead_{false};
    std::atomic<std::size_t> bytes_back_{0};
    std::atomic<std::size_t> connections_{0};
    std::thread thread_;
};

} // namespace herd::live
