#include <herd/http/client.hpp>
#include <herd/http/connection.hpp>
#include <herd/async/task_group.hpp>

#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::scripted_server;
using herd::test::tcp;

namespace {

std::string get(const http::url& u, std::string_view path) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + u.authority() + "\r\n\r\n";
}

time_point in(std::chrono::milliseconds d) { return clock::now() + d; }

// Requests for /0 ... /n-1, all started at once on one connection.
awaitable<std::vector<http::response_result>> fire(http::connection& c, const http::url& u, int n,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::vector<http::response_result> results(n);
    task_group group(co_await asio::this_coro::executor);
    for (int i = 0; i < n; ++i)
        group.spawn([](http::connection& conn, std::string req, time_point deadline,
                       http::response_result& slot) -> awaitable<void> {
            slot = co_await conn.request(std::move(req), deadline);
        }(c, get(u, "/" + std::to_string(i)), in(timeout), results[i]));
    co_await group.join();
    co_return results;
}

} // namespace

TEST_CASE("connection pipelines requests and matches responses in order") {
    asio::io_context io;
    std::vector<std::size_t> reads;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        auto reqs = co_await test::read_requests(s, 8, &reads);
        std::string out;
        for (auto& r : reqs) out += test::response_with_body("answer" + r.target);
        co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        co_await test::read_requests(s, 1); // keep open until the client goes
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u, {.pipeline_depth = 8});
    auto results = test::run(io, fire(c, u, 8));
    for (int i = 0; i < 8; ++i) {
        REQUIRE_FALSE(results[i].ec);
        CHECK(results[i].response.body == "answer/" + std::to_string(i));
    }
    CHECK(server.accepted() == 1);
    CHECK(*std::max_element(reads.begin(), reads.end()) >= 2); // several requests arrived in one read
}

TEST_CASE("connection respects its pipeline depth") {
    asio::io_context io;
    std::size_t max_seen = 0;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        for (int served = 0; served < 6;) {
            std::vector<std::size_t> reads;
            auto reqs = co_await test::read_requests(s, 2, &reads);
            max_seen = std::max(max_seen, reqs.size());
            std::string out;
            for (auto& r : reqs) out += test::response_with_body(r.target);
            served += static_cast<int>(reqs.size());
            co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        }
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u, {.pipeline_depth = 2});
    auto results = test::run(io, fire(c, u, 6));
    for (int i = 0; i < 6; ++i) CHECK(results[i].response.body == "/" + std::to_string(i));
    CHECK(max_seen == 2);
}

TEST_CASE("connection: a server closing mid-pipeline fails the unanswered requests, no hang") {
    asio::io_context io;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        auto reqs = co_await test::read_requests(s, 5);
        std::string out = test::response_with_body("first") + test::response_with_body("second");
        co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        s.close();
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u, {.pipeline_depth = 8});
    auto results = test::run(io, fire(c, u, 5));
    CHECK(results[0].response.body == "first");
    CHECK(results[1].response.body == "second");
    for (int i = 2; i < 5; ++i) CHECK(results[i].ec == errc::connection_lost);
    CHECK(is_retryable(results[2].ec));
}

TEST_CASE("connection reconnects after the server closes an idle keep-alive connection") {
    asio::io_context io;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        auto reqs = co_await test::read_requests(s, 1);
        std::string out = test::response_with_body("ok");
        co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        s.close(); // idle close after one answer
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u);
    auto first = test::run(io, c.request(get(u, "/a"), in(std::chrono::seconds(5))));
    CHECK(first.response.body == "ok");
    // Let the reader see the close before the next request.
    for (int i = 0; i < 100 && c.is_open(); ++i) io.run_one_for(std::chrono::milliseconds(10));
    auto second = test::run(io, c.request(get(u, "/b"), in(std::chrono::seconds(5))));
    REQUIRE_FALSE(second.ec);
    CHECK(second.response.body == "ok");
    CHECK(server.accepted() == 2);
    CHECK(c.connects() == 2);
}

TEST_CASE("connection: a cancelled request is abandoned and its response discarded") {
    asio::io_context io;
    bool first_arrived = false;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        auto a = co_await test::read_requests(s, 1);
        first_arrived = true;
        auto b = co_await test::read_requests(s, 1);
        std::string out = test::response_with_body("for" + a[0].target) + test::response_with_body("for" + b[0].target);
        co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        co_await test::read_requests(s, 1);
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u);
    asio::cancellation_signal cancel;
    std::error_code abandoned_ec;
    asio::co_spawn(io, [&]() -> awaitable<void> {
        auto r = co_await c.request(get(u, "/abandoned"), in(std::chrono::seconds(5)));
        abandoned_ec = r.ec;
    }, asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    for (int i = 0; i < 200 && !first_arrived; ++i) io.run_one_for(std::chrono::milliseconds(10));
    REQUIRE(first_arrived);
    cancel.emit(asio::cancellation_type::terminal);
    auto kept = test::run(io, c.request(get(u, "/kept"), in(std::chrono::seconds(5))));
    CHECK(abandoned_ec == asio::error::operation_aborted);
    REQUIRE_FALSE(kept.ec);
    CHECK(kept.response.body == "for/kept");
}

TEST_CASE("connection: a server that never answers times out and the connection is closed") {
    asio::io_context io;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        co_await test::read_requests(s, 100); // reads, never answers
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u);
    auto r = test::run(io, c.request(get(u, "/x"), in(std::chrono::milliseconds(100))));
    CHECK(r.ec == errc::timeout);
    CHECK_FALSE(c.is_open());
}

TEST_CASE("connection: a timeout fails the written requests behind it with pipeline_aborted; unsent ones move") {
    asio::io_context io;
    int connections = 0;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        if (++connections == 1) {
            co_await test::read_requests(s, 100); // takes two, answers none
            co_return;
        }
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            std::string out = test::response_with_body("for" + reqs[0].target);
            co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        }
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u, {.pipeline_depth = 2});
    std::vector<http::response_result> results(3);
    test::run(io, [&]() -> awaitable<void> {
        task_group group(io.get_executor());
        for (int i = 0; i < 3; ++i)
            group.spawn([](http::connection& conn, std::string req, time_point deadline,
                           http::response_result& slot) -> awaitable<void> {
                slot = co_await conn.request(std::move(req), deadline);
            }(c, get(u, "/" + std::to_string(i)), in(std::chrono::milliseconds(i == 0 ? 100 : 10000)), results[i]));
        co_await group.join();
    }());
    CHECK(results[0].ec == errc::timeout);
    CHECK(results[1].ec == errc::pipeline_aborted); // written behind the stalled one
    CHECK(is_retryable(results[1].ec));
    REQUIRE_FALSE(results[2].ec); // never written: sent on a new connection
    CHECK(results[2].response.body == "for/2");
    CHECK(connections == 2);
}

TEST_CASE("connection: refused connect is connect_failed") {
    asio::io_context io;
    std::uint16_t port;
    {
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    } // closed: nothing listens there now
    http::url u{"127.0.0.1", port};
    http::connection c(io.get_executor(), u);
    auto r = test::run(io, c.request(get(u, "/"), in(std::chrono::seconds(5))));
    CHECK(r.ec == errc::connect_failed);
    CHECK(is_retryable(r.ec));
}

TEST_CASE("connection: garbage bytes are a protocol error") {
    asio::io_context io;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        co_await test::read_requests(s, 1);
        std::string junk = "\x16\x03\x01 this is not http\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(junk), compat::use_nothrow);
        co_await test::read_requests(s, 1);
    });
    auto u = *http::url::parse(server.url());
    http::connection c(io.get_executor(), u);
    auto r = test::run(io, c.request(get(u, "/"), in(std::chrono::seconds(5))));
    CHECK(r.ec == errc::protocol_error);
}

TEST_CASE("client spreads requests over its connections") {
    asio::io_context io;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            std::string out = test::response_with_body(reqs[0].target);
            co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        }
    });
    auto u = *http::url::parse(server.url());
    http::client cl(io.get_executor(), u, {.connections = 3});
    std::vector<std::string> bodies;
    test::run(io, [&]() -> awaitable<void> {
        task_group group(io.get_executor());
        for (int i = 0; i < 9; ++i)
            group.spawn([](http::client& c, int k, std::vector<std::string>& out) -> awaitable<void> {
                auto r = co_await c.request(c.format("GET", "/" + std::to_string(k)), in(std::chrono::seconds(5)));
                out.push_back(r.response.body);
            }(cl, i, bodies));
        co_await group.join();
    }());
    CHECK(bodies.size() == 9);
    CHECK(server.accepted() == 3);
    CHECK(cl.connects() == 3);
}

TEST_CASE("url parsing") {
    CHECK(http::url::parse("http://127.0.0.1:8080")->port == 8080);
    CHECK(http::url::parse("localhost")->port == 11434);
    CHECK(http::url::parse("[::1]:9")->host == "::1");
    CHECK(http::url::parse("http://[::1]:9/")->authority() == "[::1]:9");
    CHECK(http::url::parse("https://x:1")->tls()); // TLS: test_tls_auth.cpp
    CHECK_FALSE(http::url::parse("ftp://x:1"));
    CHECK_FALSE(http::url::parse("http://x:99999"));
    CHECK_FALSE(http::url::parse(""));
}

TEST_CASE("client::control sends on a connection of its own and closes it") {
    asio::io_context io;
    bool closed_by_client = false;
    scripted_server server(io, [&](tcp::socket s) -> awaitable<void> {
        auto reqs = co_await test::read_requests(s, 1);
        if (reqs.empty()) co_return;
        std::string out = test::response_with_body("control" + reqs[0].target);
        co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        closed_by_client = (co_await test::read_requests(s, 1)).empty();
    });
    auto u = *http::url::parse(server.url());
    http::client cl(io.get_executor(), u, {.connections = 2});
    auto r = test::run(io, cl.control(cl.format("GET", "/api/version"), in(std::chrono::seconds(5))));
    REQUIRE_FALSE(r.ec);
    CHECK(r.response.body == "control/api/version");
    CHECK(cl.connects() == 0); // the pipelined connections were not used
    CHECK(cl.in_flight() == 0);
    auto limit = clock::now() + std::chrono::seconds(5); // until the server sees the close
    while (!closed_by_client && clock::now() < limit) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    CHECK(closed_by_client);
    CHECK(server.accepted() == 1);
}
