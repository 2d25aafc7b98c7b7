// pool_config::max_response_bytes: a node cannot make the client allocate
// or accept more than the limit, whatever it claims.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::scripted_server;
using herd::test::tcp;

namespace {

// A node that answers every request with `reply` (then keeps reading).
scripted_server::handler answering(std::string reply) {
    return [reply](tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            co_await asio::async_write(s, asio::buffer(reply), compat::use_nothrow);
        }
    };
}

embed_outcome embed_once(asio::io_context& io, pool_config cfg) {
    pool p(io.get_executor(), std::move(cfg));
    std::string_view texts[] = {"a"};
    return test::run(io, p.embed_request(texts, {}));
}

} // namespace

TEST_CASE("max_response_bytes: the default fits 64 texts x 4096 dimensions of JSON floats") {
    // Go prints a float32 in at most 14 characters ("-0.0012345678,").
    CHECK(pool_config{}.max_response_bytes >= 2 * 64 * 4096 * 14);
}

TEST_CASE("max_response_bytes: a node claiming a 500 MB body fails with body_too_large, nothing reserved") {
    asio::io_context io;
    scripted_server server(io, answering("HTTP/1.1 200 OK\r\nContent-Length: 500000000\r\n\r\n{\"embeddings\":[[0.1,"));
    pool_config cfg;
    cfg.nodes = {server.url()};
    auto out = embed_once(io, cfg);
    REQUIRE(out.fail.code == errc::all_nodes_failed);
    REQUIRE(out.fail.causes.size() == 1);
    CHECK(out.fail.causes[0].code == errc::body_too_large);
    CHECK(out.fail.causes[0].message.find("max_response_bytes") != std::string::npos);
}

TEST_CASE("max_response_bytes: a chunked body growing past the limit fails with body_too_large") {
    asio::io_context io;
    std::string chunk(600, '1');
    std::string reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 2; ++i) reply += "258\r\n" + chunk + "\r\n"; // 0x258 = 600
    reply += "0\r\n\r\n";
    scripted_server server(io, answering(reply));
    pool_config cfg;
    cfg.nodes = {server.url()};
    cfg.max_response_bytes = 1000; // the setting under test
    auto out = embed_once(io, cfg);
    REQUIRE(out.fail.code == errc::all_nodes_failed);
    REQUIRE(out.fail.causes.size() == 1);
    CHECK(out.fail.causes[0].code == errc::body_too_large);
    CHECK(out.fail.causes[0].message.find("max_response_bytes") != std::string::npos);
}
