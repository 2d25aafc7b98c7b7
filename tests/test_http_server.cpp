// The HTTP/1.1 server of `herd serve` (src/serve/http_server.hpp, router.hpp):
// routing, keep-alive, pipelining in order, limits, streaming, client
// disconnect cancelling the handler, and graceful shutdown. The server runs
// on its own thread; the test talks to it with a blocking client.

#include "test_sim_client.hpp"

#include "http/ascii.hpp"
#include "serve/http_server.hpp"
#include "serve/router.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace sim_test;
using herd::serve::handler;
using herd::serve::header_field;
using herd::serve::http_server;
using herd::serve::response;
using herd::serve::router;
using herd::serve::server_options;
using serve_request = herd::serve::request;
using herd::awaitable;
using herd::compat::use_nothrow;

namespace {

// A server on 127.0.0.1:0 whose io_context runs on its own thread.
struct running_server {
    explicit running_server(const router& r, server_options o = {})
        : server(io.get_executor(), r.as_handler(), std::move(o)) {
        server.listen(herd::serve::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
        server.start();
        thread = std::thread([this] { io.run(); });
    }
    ~running_server() {
        if (!stopped) shutdown(std::chrono::seconds(0));
        work.reset();
        io.stop();
        thread.join();
    }
    std::uint16_t port() const { return server.local_endpoint().port(); }

    // Runs `f` on the server's thread and waits for it.
    template <typename F>
    auto on_server(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io, [&task] { task(); });
        return fut.get();
    }

    // Starts shutdown(grace) on the server's thread; the future is ready when it completed.
    std::future<void> start_shutdown(std::chrono::steady_clock::duration grace) {
        stopped = true;
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        asio::co_spawn(io, server.shutdown(grace), [done](std::exception_ptr) { done->set_value(); });
        return fut;
    }
    void shutdown(std::chrono::steady_clock::duration grace) {
        REQUIRE(start_shutdown(grace).wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    }

    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    http_server server;
    std::thread thread;
    bool stopped = false;
};

handler text(std::string body) {
    return [body](serve_request&, response& res) -> awaitable<void> { co_await res.send(200, "text/plain", body); };
}

// A handler parked on a timer until the test releases (cancels) it.
struct gate {
    std::atomic<int> entered{0};
    std::atomic<int> aborted{0};  // the wait ended by the handler's cancellation
    std::atomic<bool> saw_gone{false};
    asio::steady_timer* timer = nullptr; // touched on the server's thread only
    bool released = false;

    handler park() {
        return [this](serve_request&, response& res) -> awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
            timer = &t;
            ++entered;
            auto [ec] = co_await t.async_wait(use_nothrow);
            timer = nullptr;
            if (ec == asio::error::operation_aborted && !released) ++aborted;
            saw_gone = res.client_gone();
            co_await res.send(200, "text/plain", "released");
        };
    }
    void release(running_server& s) {
        s.on_server([this] {
            released = true;
            if (timer) timer->cancel();
            return 0;
        });
    }
};

} // namespace

TEST_CASE("http_server: routes, 404 and 405 as Gin answers, HEAD on a GET route, keep-alive") {
    router r;
    r.add("GET", "/hello", text("hi there"));
    r.add("POST", "/echo", [](serve_request& req, response& res) -> awaitable<void> {
        std::string body = std::string(req.path()) + "|" + std::string(req.query()) + "|" + req.message.body;
        co_await res.send(200, "text/plain", body);
    });
    running_server s(r);
    client c(s.port());

    c.send(request("GET", "/hello"));
    auto a = c.read();
    REQUIRE(a.ok());
    CHECK(a.msg.status == 200);
    CHECK(a.msg.body == "hi there");
    CHECK(a.msg.header("content-length") == "8");
    CHECK(!a.msg.header("date").empty());

    c.send(request("POST", "/echo?x=1", "abc"));
    auto b = c.read();
    CHECK(b.msg.body == "/echo|x=1|abc");

    c.send(request("GET", "/nothing"));
    auto d = c.read();
    CHECK(d.msg.status == 404);
    CHECK(d.msg.body == "404 page not found");

    c.send(request("GET", "/echo"));
    auto e = c.read();
    CHECK(e.msg.status == 405);
    CHECK(e.msg.header("allow") == "POST");
    CHECK(e.msg.body == "405 method not allowed");

    c.send(request("HEAD", "/hello"));
    auto f = c.read(5000ms, true);
    CHECK(f.msg.status == 200);
    CHECK(f.msg.header("content-length") == "8");
    CHECK(f.msg.body.empty());

    // all on one connection
    CHECK(s.on_server([&] { return s.server.accepted(); }) == 1);
}

TEST_CASE("http_server: a fallback takes every path without routes") {
    router r;
    r.fallback(text("fallback"));
    running_server s(r);
    auto a = roundtrip(s.port(), "GET", "/anything/else");
    CHECK(a.msg.status == 200);
    CHECK(a.msg.body == "fallback");
}

TEST_CASE("http_server: pipelined requests are answered in order, and Connection: close drops the rest") {
    router r;
    gate g;
    r.add("GET", "/slow", g.park());
    r.add("GET", "/a", text("a"));
    r.add("GET", "/b", text("b"));
    running_server s(r);

    client c(s.port());
    c.send(request("GET", "/slow") + request("GET", "/a") + request("GET", "/b"));
    REQUIRE(eventually([&] { return g.entered == 1; }));
    g.release(s);
    CHECK(c.read().msg.body == "released");
    CHECK(c.read().msg.body == "a");
    CHECK(c.read().msg.body == "b");

    client d(s.port());
    d.send(request("GET", "/a", {}, "Connection: close\r\n") + request("GET", "/b"));
    auto first = d.read();
    CHECK(first.msg.body == "a");
    CHECK(first.msg.header("connection") == "close");
    auto second = d.read();
    CHECK(second.ec == asio::error::eof);
}

TEST_CASE("http_server: over-long heads get 431, big bodies 413 (reject_body), garbage 400, then close") {
    router r;
    r.add("POST", "/x", text("ok"));
    server_options o;
    o.max_header_bytes = 1024;
    o.max_body_bytes = 100;
    o.reject_body = [](int status) {
        return std::pair<std::string, std::string>{"application/json", "{\"status\":" + std::to_string(status) + "}"};
    };
    running_server s(r, o);

    client a(s.port());
    a.send(request("POST", "/x", "{}", "X-Big: " + std::string(2000, 'y') + "\r\n"));
    auto ra = a.read();
    CHECK(ra.msg.status == 431);
    CHECK(ra.msg.body == "{\"status\":431}");
    CHECK(ra.msg.header("connection") == "close");
    CHECK(a.read().ec == asio::error::eof);

    client b(s.port());
    b.send(request("POST", "/x", std::string(101, 'z')));
    auto rb = b.read();
    CHECK(rb.msg.status == 413);
    CHECK(rb.msg.header("content-type") == "application/json");

    client c(s.port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(c.read().msg.status == 400);

    // exactly at the limit is fine
    CHECK(roundtrip(s.port(), "POST", "/x", std::string(100, 'z')).msg.status == 200);
}

TEST_CASE("http_server: default reject bodies are Go's plain text") {
    router r;
    server_options o;
    o.max_header_bytes = 256;
    running_server s(r, o);
    client a(s.port());
    a.send(request("GET", "/", {}, "X-Big: " + std::string(500, 'y') + "\r\n"));
    auto ra = a.read();
    CHECK(ra.msg.status == 431);
    CHECK(ra.msg.body == "431 Request Header Fields Too Large");
    CHECK(ra.msg.header("content-type") == "text/plain; charset=utf-8");
}

TEST_CASE("http_server: a streamed response is chunked as written, and HTTP/1.0 gets a close-delimited body") {
    router r;
    r.add("GET", "/stream", [](serve_request&, response& res) -> awaitable<void> {
        co_await res.begin_stream(200, "application/x-ndjson");
        for (int i = 0; i < 3; ++i) {
            std::string line = "{\"n\":" + std::to_string(i) + "}\n";
            co_await res.write(line);
        }
        co_await res.end_stream();
    });
    r.add("GET", "/unended", [](serve_request&, response& res) -> awaitable<void> {
        co_await res.begin_stream(200, "text/event-stream");
        co_await res.write("data: x\n\n");
    });
    running_server s(r);

    client c(s.port());
    c.send(request("GET", "/stream"));
    auto a = c.read();
    REQUIRE(a.ok());
    CHECK(a.msg.chunked);
    CHECK(a.msg.body == "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
    CHECK(a.raw.find("8\r\n{\"n\":1}\n\r\n") != std::string::npos); // one chunk per write

    // a stream the handler left open is ended for it; the connection stays usable
    c.send(request("GET", "/unended"));
    CHECK(c.read().msg.body == "data: x\n\n");
    c.send(request("GET", "/stream"));
    CHECK(c.read().msg.status == 200);

    client old(s.port());
    old.send("GET /stream HTTP/1.0\r\n\r\n");
    auto b = old.read();
    REQUIRE(b.ok());
    CHECK(!b.msg.chunked);
    CHECK(b.msg.header("connection") == "close");
    CHECK(b.msg.body == "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
}

TEST_CASE("http_server: a handler that throws or answers nothing gets 500, and the connection survives the latter") {
    router r;
    r.add("GET", "/throw", [](serve_request&, response&) -> awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
    });
    r.add("GET", "/silent", [](serve_request&, response&) -> awaitable<void> { co_return; });
    r.add("GET", "/ok", text("ok"));
    running_server s(r);
    client c(s.port());
    c.send(request("GET", "/silent"));
    CHECK(c.read().msg.status == 500);
    c.send(request("GET", "/throw"));
    CHECK(c.read().msg.status == 500);
    c.send(request("GET", "/ok"));
    CHECK(c.read().msg.body == "ok");
}

TEST_CASE("http_server: the client closing cancels the running handler") {
    router r;
    gate g;
    r.add("GET", "/park", g.park());
    running_server s(r);
    {
        client c(s.port());
        c.send(request("GET", "/park"));
        REQUIRE(eventually([&] { return g.entered == 1; }));
        c.close();
    }
    REQUIRE(eventually([&] { return g.aborted == 1; }));
    CHECK(g.saw_gone);
    CHECK(eventually([&] { return s.on_server([&] { return s.server.connections(); }) == 0; }));
}

TEST_CASE("http_server: Expect: 100-continue gets 100 Continue before the body") {
    router r;
    r.add("POST", "/x", [](serve_request& req, response& res) -> awaitable<void> {
        co_await res.send(200, "text/plain", req.message.body);
    });
    running_server s(r);
    client c(s.port());
    c.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n");
    CHECK(c.read_raw() == "HTTP/1.1 100 Continue\r\n\r\n");
    c.send("hello");
    CHECK(c.read().msg.body == "hello");
}

TEST_CASE("http::iequals: ASCII letters fold, nothing else does") {
    using herd::http::iequals;
    STATIC_REQUIRE(iequals("100-Continue", "100-continue"));
    CHECK(iequals("", ""));
    CHECK(iequals("KEEP-alive", "keep-ALIVE"));
    CHECK_FALSE(iequals("close", "closed"));
    CHECK_FALSE(iequals("a-b", "a_b"));
    CHECK_FALSE(iequals("[", "{")); // '[' is 'Z' + 1 and '{' is 'z' + 1: not letters
    CHECK_FALSE(iequals("\xC4", "\xE4")); // Latin-1 A-umlaut and a-umlaut: not ASCII
}

TEST_CASE("http_server: connection ids tell connections apart") {
    router r;
    r.add("GET", "/id", [](serve_request& req, response& res) -> awaitable<void> {
        std::string id = std::to_string(req.connection);
        co_await res.send(200, "text/plain", id);
    });
    running_server s(r);
    client a(s.port()), b(s.port());
    a.send(request("GET", "/id"));
    auto a1 = a.read().msg.body;
    a.send(request("GET", "/id"));
    CHECK(a.read().msg.body == a1);
    b.send(request("GET", "/id"));
    CHECK(b.read().msg.body != a1);
}

TEST_CASE("http_server: shutdown closes idle connections, lets a running handler finish, refuses new ones") {
    router r;
    gate g;
    r.add("GET", "/park", g.park());
    r.add("GET", "/a", text("a"));
    running_server s(r);
    client idle(s.port());
    idle.send(request("GET", "/a"));
    CHECK(idle.read().msg.body == "a");
    client busy(s.port());
    busy.send(request("GET", "/park") + request("GET", "/a"));
    REQUIRE(eventually([&] { return g.entered == 1; }));

    const auto port = s.port();
    auto done = s.start_shutdown(std::chrono::seconds(30));
    CHECK(idle.read().ec == asio::error::eof);
    CHECK(client::try_connect(port));
    CHECK(done.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
    g.release(s);
    auto last = busy.read();
    CHECK(last.msg.status == 200);
    CHECK(last.msg.body == "released");
    CHECK(last.msg.header("connection") == "close");
    CHECK(busy.read().ec == asio::error::eof); // the pipelined /a was dropped
    CHECK(done.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK(g.aborted == 0);
}

TEST_CASE("http_server: past the grace period shutdown cancels handlers and closes") {
    router r;
    gate g;
    r.add("GET", "/park", g.park());
    running_server s(r);
    client busy(s.port());
    busy.send(request("GET", "/park"));
    REQUIRE(eventually([&] { return g.entered == 1; }));
    s.shutdown(std::chrono::milliseconds(0));
    CHECK(g.aborted == 1);
    auto r2 = busy.read();
    CHECK(!r2.ok());
    CHECK(s.on_server([&] { return s.server.connections(); }) == 0);
}
