// A node that is broken, malicious or not Ollama at all. For each hostile
// behaviour: the caller gets a clear error naming the node, the node's
// health reacts, the call's deadline holds, a healthy node in the same pool
// embeds every text right, and the client never holds more memory than
// pool_config's limits allow (a counting operator new watches it).
#include <herd/herd.hpp>
#include <herd/sim/embedding_rule.hpp>

#include "support/counting_allocator.hpp"
#include "support/run.hpp"
#include "support/scripted_server.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace herd;
using herd::test::scripted_server;
using herd::test::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t mib = 1024 * 1024;

// Writes `bytes`; false once the client is gone.
awaitable<bool> send(tcp::socket& s, std::string_view bytes) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes), compat::use_nothrow);
    co_return !ec;
}

// A correct /api/embed answer for one request (herd-sim's rule vectors).
std::string good_answer(const http::message& request) {
    auto j = nlohmann::json::parse(request.body);
    auto rows = nlohmann::json::array();
    for (auto& text : j["input"]) rows.push_back(sim::expected_embedding("all-minilm", text.get<std::string>(), 16));
    nlohmann::json reply{{"model", "all-minilm"}, {"embeddings", rows}};
    return test::response_with_body(reply.dump());
}

struct hostile {
    const char* name;
    errc expected;
    // What the node does with each request it reads (bounded in bytes and time).
    std::function<awaitable<void>(tcp::socket&, const http::message&)> answer;
};

// Sends a 200 with a JSON body.
auto json_200(std::string body) {
    return [body](tcp::socket& s, const http::message&) -> awaitable<void> {
        co_await send(s, test::response_with_body(body));
    };
}

std::vector<hostile> hostile_nodes() {
    std::vector<hostile> h;
    h.push_back({"100 KB of headers", errc::header_too_large, [](tcp::socket& s, const http::message&) -> awaitable<void> {
                     std::string head = "HTTP/1.1 200 OK\r\n";
                     for (int i = 0; head.size() < 100 * 1024; ++i) head += fmt::format("X-Junk-{}: {}\r\n", i, std::string(100, 'j'));
                     co_await send(s, head + "Content-Length: 2\r\n\r\n{}");
                 }});
    h.push_back({"an endless chunked body", errc::body_too_large, [](tcp::socket& s, const http::message&) -> awaitable<void> {
                     bool open = co_await send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                     if (!open) co_return;
                     std::string chunk = "10000\r\n" + std::string(0x10000, '1') + "\r\n";
                     for (int i = 0; i < 64 * 16; ++i) { // 64 MiB at most, far past the limit
                         bool sent = co_await send(s, chunk);
                         if (!sent) co_return;
                     }
                 }});
    h.push_back({"Content-Length: 10000000000", errc::body_too_large, [](tcp::socket& s, const http::message&) -> awaitable<void> {
                     co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n{\"embeddings\":[[");
                 }});
    h.push_back({"one byte at a time after the headers (slowloris)", errc::timeout,
                 [](tcp::socket& s, const http::message&) -> awaitable<void> {
                     bool open = co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                     if (!open) co_return;
                     asio::steady_timer t(s.get_executor());
                     for (int i = 0; i < 200; ++i) { // 10 s at most; the client gives up long before
                         t.expires_after(std::chrono::milliseconds(50));
                         co_await t.async_wait(compat::use_nothrow);
                         bool sent = co_await send(s, " ");
                         if (!sent) co_return;
                     }
                 }});
    h.push_back({"vectors of different lengths", errc::protocol_error, json_200(R"({"embeddings":[[0.5,0.5],[1]]})")});
    h.push_back({"NaN in a vector", errc::protocol_error, json_200(R"({"embeddings":[[NaN]]})")});
    h.push_back({"strings in a vector", errc::protocol_error, json_200(R"({"embeddings":[["0.5"]]})")});
    h.push_back({"an HTTP/1.0 reply without length that never ends", errc::timeout,
                 [](tcp::socket& s, const http::message& m) -> awaitable<void> {
                     auto answer = good_answer(m);
                     auto body = answer.substr(answer.find("\r\n\r\n") + 4);
                     co_await send(s, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body);
                     asio::steady_timer t(s.get_executor(), std::chrono::seconds(10)); // holds the socket open
                     co_await t.async_wait(compat::use_nothrow);
                 }});
    h.push_back({"TLS handshake bytes on the plain port", errc::protocol_error, [](tcp::socket& s, const http::message&) -> awaitable<void> {
                     // A TLS 1.2 ServerHello record header and the start of its body.
                     std::string tls("\x16\x03\x03\x00\x4a\x02\x00\x00\x46\x03\x03", 11);
                     co_await send(s, tls + std::string(32, '\x5a'));
                 }});
    return h;
}

// A node whose every request gets `answer`; the connection then stays open
// (reading) so that only the client decides when it ends.
scripted_server::handler serving(hostile h) {
    return [h](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            co_await h.answer(s, reqs.front());
        }
    };
}

pool_config short_config(std::vector<std::string> nodes) {
    pool_config cfg;
    cfg.nodes = std::move(nodes);
    cfg.model = "all-minilm";
    cfg.request_timeout = std::chrono::milliseconds(300);
    cfg.first_load_timeout = std::chrono::milliseconds(300);
    cfg.call_timeout = std::chrono::seconds(2);
    cfg.connect_timeout = std::chrono::milliseconds(300);
    cfg.max_response_bytes = mib;
    cfg.health.base_ejection = std::chrono::milliseconds(100);
    cfg.health.probe_interval = std::chrono::milliseconds(50);
    return cfg;
}

} // namespace

TEST_CASE("hostile node: a clear error naming it, health reacts, deadline and memory bound hold") {
    for (auto& h : hostile_nodes()) {
        DYNAMIC_SECTION(h.name) {
            asio::io_context io;
            scripted_server node(io, serving(h));
            auto cfg = short_config({node.url()});
            pool p(io.get_executor(), cfg);
            std::string_view texts[] = {"a", "b"};
            test::reset_peak();
            auto before = test::live_bytes();
            auto start = clock_type::now();
            auto out = test::run(io, p.embed_request(texts, {}));
            auto took = clock_type::now() - start;
            auto grew = test::peak_bytes() - before;
            INFO(out.fail.describe());
            REQUIRE(out.fail);
            REQUIRE_FALSE(out.fail.causes.empty());
            CHECK(out.fail.causes.back().node == node.url());
            CHECK(out.fail.causes.back().code == h.expected);
            CHECK(took < cfg.call_timeout + std::chrono::milliseconds(500));
            auto st = p.stats();
            CHECK(st.nodes[0].failures > 0);
            CHECK_FALSE(st.nodes[0].last_error.empty());
            // Two max_response_bytes (a body and the string it grows into)
            // plus connection buffers and bookkeeping; the endless body alone
            // would be 64 MiB.
            INFO("peak growth " << grew << " bytes");
            CHECK(grew < 2 * cfg.max_response_bytes + 2 * mib);
        }
    }
}

TEST_CASE("hostile node: a healthy node in the same pool embeds every text right") {
    sim::cluster healthy(test::profiles({"zero"}));
    healthy.start();
    for (auto& h : hostile_nodes()) {
        DYNAMIC_SECTION(h.name) {
            asio::io_context io;
            scripted_server node(io, serving(h));
            auto cfg = short_config({node.url(), healthy.url(0)});
            cfg.call_timeout = std::chrono::seconds(20);
            pool p(io.get_executor(), cfg);
            std::vector<std::string> texts;
            for (std::size_t i = 0; i < 300; ++i) texts.push_back(test::text_for(i));
            auto m = test::run(io, p.embed_batch(texts, {}));
            REQUIRE(m.rows() == texts.size());
            std::size_t wrong = 0;
            for (std::size_t i = 0; i < texts.size(); ++i)
                if (!test::is_rule_vector("all-minilm", texts[i], m.row(i), m.dim())) ++wrong;
            CHECK(wrong == 0);
        }
    }
}

TEST_CASE("hostile node: an answer to a request never sent closes the connection, no row goes astray") {
    // Each request gets its answer and then one more: the extra one reaches
    // a connection with nothing in flight, which herd drops as a protocol
    // error; the next call opens a new connection and is answered right.
    asio::io_context io;
    scripted_server node(io, [](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            auto answer = good_answer(reqs.front());
            co_await send(s, answer + answer);
        }
    });
    auto cfg = short_config({node.url()});
    pool p(io.get_executor(), cfg);
    for (int i = 0; i < 3; ++i) {
        std::string text = test::text_for(static_cast<std::size_t>(i));
        auto v = test::run(io, p.embed(text));
        CHECK(test::is_rule_vector("all-minilm", text, v, v.size()));
    }
    CHECK(node.accepted() >= 2);
}

TEST_CASE("hostile node: an HTTP/1.0 reply delimited by the close is a whole answer") {
    asio::io_context io;
    scripted_server node(io, [](tcp::socket s) -> awaitable<void> {
        auto reqs = co_await test::read_requests(s, 1);
        if (reqs.empty()) co_return;
        auto answer = good_answer(reqs.front());
        co_await send(s, "HTTP/1.0 200 OK\r\n\r\n" + answer.substr(answer.find("\r\n\r\n") + 4));
        s.close();
    });
    pool p(io.get_executor(), short_config({node.url()}));
    std::string text = "hello";
    auto v = test::run(io, p.embed(text));
    CHECK(test::is_rule_vector("all-minilm", text, v, v.size()));
}
