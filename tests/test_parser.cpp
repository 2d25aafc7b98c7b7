#include <herd/http/parser.hpp>
#include <herd/http/url.hpp>
#include <herd/ollama/ndjson.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using herd::http::message;
using herd::http::message_kind;
using herd::http::parser;
namespace http = herd::http;
namespace ollama = herd::ollama;

namespace {

const std::string chunked_response =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    "7\r\n{\"a\":[1\r\n"
    "9\r\n,2.5e-05]\r\n"
    "1\r\n}\r\n"
    "0\r\n\r\n";
const std::string length_response =
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n"
    "{\"error\":\"nope x\"}";
const std::string empty_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

// Feeds `pieces` in order, taking every message the parser completes.
std::vector<message> parse_all(parser& p, const std::vector<std::string>& pieces) {
    std::vector<message> out;
    for (const auto& piece : pieces) {
        std::string_view rest = piece;
        while (!rest.empty()) {
            auto r = p.feed(rest);
            REQUIRE_FALSE(r.ec);
            rest.remove_prefix(r.consumed);
            if (r.complete) out.push_back(p.take());
        }
    }
    return out;
}

void check_three(const std::vector<message>& got) {
    REQUIRE(got.size() == 3);
    CHECK(got[0].status == 200);
    CHECK(got[0].chunked);
    CHECK(got[0].body == "{\"a\":[1,2.5e-05]}");
    CHECK(got[0].header("content-type") == "application/json");
    CHECK(got[1].status == 404);
    CHECK_FALSE(got[1].chunked);
    CHECK(got[1].body == "{\"error\":\"nope x\"}");
    CHECK(got[2].status == 200);
    CHECK(got[2].body.empty());
}

} // namespace

TEST_CASE("parser reads pipelined responses from one buffer") {
    parser p(message_kind::response);
    check_three(parse_all(p, {chunked_response + length_response + empty_response}));
}

TEST_CASE("parser handles a pipelined stream split at every byte, in two pieces") {
    const std::string all = chunked_response + length_response + empty_response;
    for (std::size_t cut = 0; cut <= all.size(); ++cut) {
        parser p(message_kind::response);
        check_three(parse_all(p, {all.substr(0, cut), all.substr(cut)}));
    }
}

TEST_CASE("parser handles a pipelined stream split at every pair of points, in three pieces") {
    const std::string all = chunked_response + length_response;
    for (std::size_t a = 0; a <= all.size(); a += 3)
        for (std::size_t b = a; b <= all.size(); b += 5) {
            parser p(message_kind::response);
            auto got = parse_all(p, {all.substr(0, a), all.substr(a, b - a), all.substr(b)});
            REQUIRE(got.size() == 2);
            CHECK(got[0].body == "{\"a\":[1,2.5e-05]}");
            CHECK(got[1].body == "{\"error\":\"nope x\"}");
        }
}

TEST_CASE("parser byte by byte") {
    const std::string all = chunked_response + length_response + empty_response;
    std::vector<std::string> bytes;
    for (char c : all) bytes.emplace_back(1, c);
    parser p(message_kind::response);
    check_three(parse_all(p, bytes));
}

TEST_CASE("parser rejects garbage with protocol_error") {
    parser p(message_kind::response);
    auto r = p.feed("\x01\x02garbage not http\r\n\r\n");
    CHECK(r.ec == herd::errc::protocol_error);
}

TEST_CASE("parser enforces header and body limits") {
    SECTION("header") {
        parser p(message_kind::response, {.max_header_bytes = 32, .max_body_bytes = 1024});
        auto r = p.feed("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n");
        CHECK(r.ec == herd::errc::header_too_large);
    }
    SECTION("declared content-length") {
        parser p(message_kind::response, {.max_header_bytes = 1024, .max_body_bytes = 10});
        auto r = p.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
        CHECK(r.ec == herd::errc::body_too_large);
    }
    SECTION("chunked body growing past the limit") {
        parser p(message_kind::response, {.max_header_bytes = 1024, .max_body_bytes = 10});
        auto r = p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n");
        CHECK(r.ec == herd::errc::body_too_large);
    }
}

TEST_CASE("parser never reserves a claimed body ahead of its bytes") {
    // A node claims 500 MB under a limit that allows it and sends 1000 bytes.
    parser p(message_kind::response, {.max_header_bytes = 1024, .max_body_bytes = 1024u * 1024 * 1024});
    auto r = p.feed("HTTP/1.1 200 OK\r\nContent-Length: 500000000\r\n\r\n");
    REQUIRE_FALSE(r.ec);
    REQUIRE(p.headers_done());
    CHECK(p.current().body.capacity() < 64);
    r = p.feed(std::string(1000, 'x'));
    REQUIRE_FALSE(r.ec);
    CHECK(p.current().body.size() == 1000);
    CHECK(p.current().body.capacity() < 4096); // received plus a small step, not 500 MB
}

TEST_CASE("parser grows a large body in few steps and never past its Content-Length") {
    const std::size_t length = 5 * 1024 * 1024 + 17;
    parser p(message_kind::response);
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
    REQUIRE_FALSE(p.feed(head).ec);
    const std::string piece(64 * 1024, 'y');
    std::size_t sent = 0, reallocations = 0, capacity = p.current().body.capacity();
    bool complete = false;
    while (sent < length) {
        auto n = std::min(piece.size(), length - sent);
        auto r = p.feed(std::string_view(piece).substr(0, n));
        REQUIRE_FALSE(r.ec);
        sent += n;
        complete = r.complete;
        if (complete) break;
        auto now = p.current().body.capacity();
        if (now != capacity) ++reallocations;
        capacity = now;
        CHECK(capacity <= 2 * sent + 1024 * 1024);
    }
    REQUIRE(complete);
    auto m = p.take();
    CHECK(m.body.size() == length);
    CHECK(m.body.capacity() <= length + 64 * 1024);
    CHECK(reallocations <= 16);
}

TEST_CASE("parser gives a chunked body the last body's size at once, and no more") {
    // A node answers batches of alike sizes: the second 600 KB body must
    // arrive into one allocation of the first one's size, not a series of
    // doublings; a smaller one after it keeps the same bound.
    auto chunked = [](std::size_t bytes) {
        std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t sent = 0; sent < bytes; sent += 4096) wire += "1000\r\n" + std::string(4096, 'x') + "\r\n";
        return wire + "0\r\n\r\n";
    };
    parser p(message_kind::response);
    auto first = parse_all(p, {chunked(600 * 1024)});
    REQUIRE(first.size() == 1);
    REQUIRE(first[0].body.size() == 600 * 1024);
    auto second = parse_all(p, {chunked(600 * 1024)});
    REQUIRE(second.size() == 1);
    CHECK(second[0].body.capacity() == 600 * 1024);
    auto small = parse_all(p, {chunked(8 * 1024)});
    REQUIRE(small.size() == 1);
    CHECK(small[0].body.size() == 8 * 1024);
    CHECK(small[0].body.capacity() == 600 * 1024);
    auto after_small = parse_all(p, {chunked(8 * 1024)});
    CHECK(after_small[0].body.capacity() < 64 * 1024); // the bound follows the last body, not the largest
}

TEST_CASE("parser reports a response cut by the peer as connection_lost") {
    parser p(message_kind::response);
    auto r = p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
    REQUIRE_FALSE(r.ec);
    REQUIRE_FALSE(r.complete);
    CHECK(p.finish().ec == herd::errc::connection_lost);
}

TEST_CASE("parser completes a body delimited by connection close") {
    parser p(message_kind::response);
    auto r = p.feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc");
    REQUIRE_FALSE(r.ec);
    auto f = p.finish();
    REQUIRE(f.complete);
    auto m = p.take();
    CHECK(m.body == "abc");
    CHECK_FALSE(m.keep_alive);
}

TEST_CASE("parser streams the body to a sink") {
    parser p(message_kind::response);
    std::string streamed;
    p.set_body_sink([&](std::string_view part) { streamed.append(part); });
    auto got = parse_all(p, {chunked_response.substr(0, 90), chunked_response.substr(90)});
    REQUIRE(got.size() == 1);
    CHECK(got[0].body.empty());
    CHECK(streamed == "{\"a\":[1,2.5e-05]}");
}

TEST_CASE("parser honours expect_no_body for HEAD answers") {
    parser p(message_kind::response);
    p.expect_no_body();
    auto got = parse_all(p, {"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" + empty_response});
    REQUIRE(got.size() == 2);
    CHECK(got[0].body.empty());
}

TEST_CASE("parser reads pipelined requests for the simulator") {
    parser p(message_kind::request);
    auto got = parse_all(p, {"POST /api/embed HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 2\r\n\r\n{}"
                             "GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n"});
    REQUIRE(got.size() == 2);
    CHECK(got[0].method == "POST");
    CHECK(got[0].target == "/api/embed");
    CHECK(got[0].body == "{}");
    CHECK(got[1].method == "GET");
    CHECK(got[1].target == "/api/version");
}

TEST_CASE("url: a host with a byte that could break the Host header is refused") {
    for (std::string_view bad : {"http://a\r\nX-Evil: 1:80", "a b:80", "http://x\x7f:1", "[a]b]:1", "x]:y:80",
                                 "h\xc3\xa9:1"}) { // user@host is credentials now: test_tls_auth
        INFO(bad);
        CHECK_FALSE(http::url::parse(bad));
    }
    auto v6 = http::url::parse("[fe80::1%eth0]:1"); // a zone index stays allowed
    REQUIRE(v6);
    CHECK(v6->host == "fe80::1%eth0");
    CHECK(http::url::parse(v6->str())->host == v6->host);
}

TEST_CASE("ndjson_splitter: a long pending line is caught as it grows, whatever came before it in the piece") {
    ollama::ndjson_splitter split(8);
    CHECK(split.feed("{\"a\":1}\n0123"));
    CHECK(split.next() == std::optional<std::string>("{\"a\":1}"));
    CHECK_FALSE(split.next());
    CHECK(split.feed("4567"));           // 8 pending: at the limit
    CHECK_FALSE(split.feed("8"));        // 9: past it
    ollama::ndjson_splitter other(4);
    CHECK_FALSE(other.feed("ok\n123456")); // the line after the '\n' is already too long
}

TEST_CASE("ndjson_splitter: a line dripped one byte at a time comes out whole") {
    ollama::ndjson_splitter split;
    std::string line(5000, 'x');
    for (char c : line + "\r\n\n{}\n") REQUIRE(split.feed(std::string_view(&c, 1)));
    CHECK(split.next() == std::optional<std::string>(line));
    CHECK(split.next() == std::optional<std::string>("{}"));
    CHECK_FALSE(split.next());
    CHECK(split.rest().empty());
}
