// serve/service.hpp's helpers: --listen parsing and the no-token warning.

#include "serve/service.hpp"

#include <catch2/catch.hpp>

using herd::serve::needs_token_warning;
using herd::serve::parse_listen;

TEST_CASE("serve service: --listen forms, and bad ones refused") {
    CHECK(parse_listen("127.0.0.1:8080").port() == 8080);
    CHECK(parse_listen("127.0.0.1:8080").address().to_string() == "127.0.0.1");
    CHECK(parse_listen("[::1]:9000").address().to_string() == "::1");
    CHECK(parse_listen("[::1]:9000").port() == 9000);
    CHECK(parse_listen(":11500").address().to_string() == "0.0.0.0");
    CHECK(parse_listen("localhost").address().to_string() == "127.0.0.1");
    CHECK(parse_listen("localhost").port() == 11434);
    CHECK_THROWS_AS(parse_listen("127.0.0.1:99999"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("example.com:80"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen("[::1"), std::invalid_argument);
}

TEST_CASE("serve service: a warning only for a non-loopback address without a token") {
    CHECK_FALSE(needs_token_warning(parse_listen("127.0.0.1:1"), ""));
    CHECK_FALSE(needs_token_warning(parse_listen("[::1]:1"), ""));
    CHECK(needs_token_warning(parse_listen(":1"), ""));
    CHECK_FALSE(needs_token_warning(parse_listen(":1"), "t"));
}
