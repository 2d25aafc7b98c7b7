// Chat contracts: a cancelled caller never blames or leaves its node;
// pool_config::call_timeout bounds the permit wait and the whole call.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::scripted_server;
using herd::test::tcp;

namespace {

// A node that reads requests and never answers; counts what arrived.
scripted_server::handler silent(int& requests) {
    return [&requests](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            ++requests;
        }
    };
}

// Background catalogue refreshes are off: these nodes would count them.
pool_config config_for(std::vector<std::string> nodes) {
    pool_config cfg;
    cfg.nodes = std::move(nodes);
    cfg.model_refresh_interval = duration::zero();
    return cfg;
}


std::error_code code_of(std::exception_ptr e) {
    try {
        if (e) std::rethrow_exception(e);
    } catch (const std::system_error& err) {
        return err.code();
    }
    return {};
}

} // namespace

TEST_CASE("chat: cancelling before the first part marks no node failed and tries no other node") {
    asio::io_context io;
    int requests_a = 0, requests_b = 0;
    scripted_server a(io, silent(requests_a)), b(io, silent(requests_b));
    pool p(io.get_executor(), config_for({a.url(), b.url()}));
    asio::cancellation_signal cancel;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, p.chat(chat_request("llama3.2").user("Hello")),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, chat_response) {
                       error = e;
                       done = true;
                   }));
    REQUIRE(test::eventually(io, [&] { return requests_a + requests_b == 1; })); // written, waiting for a part
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(test::eventually(io, [&] { return done; }));
    CHECK(code_of(error) == asio::error::operation_aborted);
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("node " << i);
        CHECK(p.at(i).counters().requests == 0);
        CHECK(p.at(i).counters().failures == 0);
        CHECK_FALSE(p.at(i).health().ejected());
    }
    CHECK(p.at(0).counters().cancelled + p.at(1).counters().cancelled == 1);
    CHECK(requests_a + requests_b == 1); // never moved to the other node
}

TEST_CASE("chat: cancelling while the request is being written marks no node failed") {
    // A node that accepts and never reads: a 32 MiB prompt cannot be
    // written into loopback's socket buffers, so the write is pending.
    asio::io_context io;
    auto never_reads = [](tcp::socket s) -> awaitable<void> {
        co_await s.async_wait(tcp::socket::wait_error, compat::use_nothrow);
    };
    scripted_server a(io, never_reads), b(io, never_reads);
    pool p(io.get_executor(), config_for({a.url(), b.url()}));
    asio::cancellation_signal cancel;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, p.chat(chat_request("llama3.2").user(std::string(32 * 1024 * 1024, 'x'))),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, chat_response) {
                       error = e;
                       done = true;
                   }));
    REQUIRE(test::eventually(io, [&] { return a.accepted() + b.accepted() == 1; }));
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(test::eventually(io, [&] { return done; }));
    CHECK(code_of(error) == asio::error::operation_aborted);
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("node " << i);
        CHECK(p.at(i).counters().requests == 0);
        CHECK(p.at(i).counters().failures == 0);
    }
    CHECK(a.accepted() + b.accepted() == 1); // never moved to the other node
}

TEST_CASE("chat: call_timeout bounds a chat whose node never answers") {
    asio::io_context io;
    int requests = 0;
    scripted_server a(io, silent(requests));
    auto cfg = config_for({a.url()});
    cfg.call_timeout = std::chrono::milliseconds(300); // the setting under test; first_load_timeout is 120 s
    pool p(io.get_executor(), cfg);
    auto started = clock::now();
    std::error_code ec;
    try {
        test::run(io, p.chat(chat_request("llama3.2").user("Hello")));
    } catch (const herd::error& e) {
        ec = e.code();
    }
    CHECK(ec == errc::timeout);
    CHECK(clock::now() - started < std::chrono::seconds(60));
    CHECK(requests == 1);
    CHECK(p.at(0).counters().failures == 0); // the call's deadline, not the node's fault
}

namespace {

// Answers the first chat with a head and one part, then holds the stream
// open; later requests are read and never answered.
scripted_server::handler one_open_stream(int& connections) {
    return [&connections](tcp::socket s) -> awaitable<void> {
        bool first = ++connections == 1;
        auto reqs = co_await test::read_requests(s, 1);
        if (first && !reqs.empty()) {
            std::string line = R"({"model":"llama3.2","message":{"role":"assistant","content":"Hi"},"done":false})"
                               "\n";
            char size[16];
            std::snprintf(size, sizeof size, "%zx", line.size());
            std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n" +
                              std::string(size) + "\r\n" + line + "\r\n";
            co_await asio::async_write(s, asio::buffer(out), compat::use_nothrow);
        }
        co_await test::read_requests(s, 100); // until the client closes
    };
}

} // namespace

TEST_CASE("chat: call_timeout bounds the wait for a chat slot") {
    asio::io_context io;
    int connections = 0;
    scripted_server a(io, one_open_stream(connections));
    auto cfg = config_for({a.url()});
    cfg.chat_limiter = {.initial_limit = 1, .min_limit = 1, .max_limit = 1}; // one slot, held by a stream
    cfg.call_timeout = std::chrono::milliseconds(300);                         // the setting under test
    pool p(io.get_executor(), cfg);
    std::string message;
    std::error_code ec;
    test::run(io, [&]() -> awaitable<void> {
        auto held = co_await p.chat_stream(chat_request("llama3.2").user("first"));
        try {
            co_await p.chat(chat_request("llama3.2").user("second"));
        } catch (const herd::error& e) {
            ec = e.code();
            message = e.what();
        }
    }());
    CHECK(ec == errc::timeout);
    CHECK(message.find("chat slot") != std::string::npos);
    CHECK(connections == 1); // the second chat never reached the node
    CHECK(p.at(0).counters().failures == 0);
}

TEST_CASE("chat: call_timeout bounds the whole answer, after the first part too") {
    asio::io_context io;
    int connections = 0;
    scripted_server a(io, one_open_stream(connections)); // one part, then silence
    auto cfg = config_for({a.url()});
    cfg.call_timeout = std::chrono::milliseconds(300); // the setting under test; stream_idle_timeout is 60 s
    pool p(io.get_executor(), cfg);
    std::string message;
    std::error_code ec;
    try {
        test::run(io, p.chat(chat_request("llama3.2").user("Hello")));
    } catch (const herd::error& e) {
        ec = e.code();
        message = e.what();
    }
    CHECK(ec == errc::timeout);
    CHECK(message.find("call_timeout") != std::string::npos);
    CHECK(connections == 1);
    CHECK(p.at(0).counters().failures == 0); // the call's deadline, not the node's fault
    CHECK(p.at(0).counters().cancelled == 1);
}
