// https:// nodes (TLS with verification) and credentials (Basic from the
// URL, bearer headers): they reach the node and never leak into names,
// errors, stats or metrics.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/scripted_server.hpp"
#include "support/sim_fixture.hpp"
#include "support/tls_terminator.hpp"

#include <catch2/catch.hpp>

using namespace herd;

namespace {

std::string https_url(std::uint16_t port, std::string_view host = "127.0.0.1") {
    return "https://" + std::string(host) + ":" + std::to_string(port);
}

// The node's one failure cause of a call that failed everywhere.
node_cause only_cause(pool& p, std::string_view text, asio::io_context& io) {
    auto e = test::run(io, [](pool& pl, std::string_view t) -> awaitable<std::optional<error>> {
        try {
            co_await pl.embed(t);
        } catch (const error& err) {
            co_return err;
        }
        co_return std::nullopt;
    }(p, text));
    REQUIRE(e);
    REQUIRE(e->code() == errc::all_nodes_failed);
    REQUIRE(e->causes().size() == 1);
    return e->causes()[0];
}

// One herd-sim node behind the test's TLS terminator, and a config for it
// dialled as `host` with `ca` trusted.
struct tls_node {
    test::test_certs certs = test::make_test_certs();
    sim::cluster cluster{test::profiles({"zero"})};
    std::unique_ptr<test::tls_terminator> tls;
    asio::io_context io;

    tls_node() {
        cluster.start();
        tls = std::make_unique<test::tls_terminator>(cluster.port(0), certs);
    }
    pool_config config(const std::filesystem::path& ca, std::string_view host = "127.0.0.1") const {
        auto cfg = test::default_config(cluster);
        cfg.nodes = {https_url(tls->port(), host)};
        cfg.tls.ca_file = ca.string();
        cfg.call_timeout = std::chrono::seconds(5); // the bound of the failing cases; retries go round until it
        return cfg;
    }
};

} // namespace

TEST_CASE("https node: embeds and a streamed chat over verified TLS") {
    tls_node t;
    auto& io = t.io;
    pool p(io.get_executor(), t.config(t.certs.ca));
    REQUIRE(p.at(0).name() == https_url(t.tls->port()));

    std::vector<std::string> texts;
    for (int i = 0; i < 40; ++i) texts.push_back(test::text_for(i));
    auto m = test::run(io, p.embed(std::span<const std::string>(texts)));
    REQUIRE(m.rows() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) CHECK(test::is_rule_vector("all-minilm", texts[i], m.row(i), 384));

    std::string answer = test::run(io, [](pool& pl) -> awaitable<std::string> {
        auto s = co_await pl.chat_stream(chat_request("llama3.2").user("Hello!"));
        std::string text;
        while (auto part = co_await s.next()) text += part->content;
        co_return text;
    }(p));
    CHECK_FALSE(answer.empty());
    CHECK(t.tls->handshakes() >= 2); // pipelined connection(s) and the stream's own
    CHECK(t.tls->failed_handshakes() == 0);
    CHECK(t.cluster.counters(0).inputs == texts.size());
}

TEST_CASE("https node: a certificate from another CA fails with tls_failed naming the node and the reason") {
    tls_node t;
    pool p(t.io.get_executor(), t.config(t.certs.other_ca));
    auto cause = only_cause(p, "hello", t.io);
    CHECK(cause.code == errc::tls_failed);
    CHECK(cause.node == https_url(t.tls->port()));
    INFO(cause.message);
    CHECK(cause.message.find(https_url(t.tls->port())) != std::string::npos);
    CHECK(cause.message.find("certificate") != std::string::npos);
    CHECK(t.cluster.counters(0).requests == 0); // nothing got through
}

TEST_CASE("https node: the certificate must name the host dialled (an IP certificate is not 'localhost')") {
    tls_node t;
    pool p(t.io.get_executor(), t.config(t.certs.ca, "localhost"));
    auto cause = only_cause(p, "hello", t.io);
    CHECK(cause.code == errc::tls_failed);
    INFO(cause.message);
    CHECK(cause.message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("https node: a plain-HTTP server answers no handshake: tls_failed, within the call deadline") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    asio::io_context io;
    auto cfg = test::default_config(cluster);
    cfg.nodes = {https_url(cluster.port(0))};
    cfg.call_timeout = std::chrono::seconds(5);
    pool p(io.get_executor(), cfg);
    auto started = std::chrono::steady_clock::now();
    auto cause = only_cause(p, "hello", io);
    CHECK(cause.code == errc::tls_failed);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(7));
}

TEST_CASE("a CA file that cannot be read is refused when the pool is made") {
    asio::io_context io;
    pool_config cfg;
    cfg.nodes = {"https://127.0.0.1:1"};
    cfg.tls.ca_file = "/nonexistent/ca.pem";
    try {
        pool p(io.get_executor(), cfg);
        FAIL("no error");
    } catch (const error& e) {
        CHECK(e.code() == errc::tls_failed);
        CHECK(std::string(e.what()).find("/nonexistent/ca.pem") != std::string::npos);
    }
}

TEST_CASE("credentials: Basic from the URL and bearer headers reach the node; no secret leaks") {
    const std::string password = "s3cr3t-pw", token = "tok-7f3a9";
    asio::io_context io;
    std::vector<http::message> seen;
    // Answers each request with a 500 and an error text, after noting it.
    test::scripted_server server(io, [&](test::tcp::socket s) -> awaitable<void> {
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            seen.push_back(reqs[0]);
            std::string body = R"({"error":"internal failure"})";
            std::string reply = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            auto [ec, n] = co_await asio::async_write(s, asio::buffer(reply), compat::use_nothrow);
            if (ec) co_return;
        }
    });
    std::string written = "http://alice:" + password + "@127.0.0.1:" + std::to_string(server.port());
    pool_config cfg;
    cfg.nodes = {written};
    cfg.model = "all-minilm";
    cfg.headers = {"X-Team: search"};
    cfg.node_headers[written] = {"Authorization-Proxy: Bearer " + token};
    cfg.call_timeout = std::chrono::seconds(3);
    pool p(io.get_executor(), cfg);
    CHECK(p.at(0).name() == server.url());

    auto cause = only_cause(p, "hello", io);
    REQUIRE_FALSE(seen.empty());
    CHECK(seen[0].header("authorization") == "Basic YWxpY2U6czNjcjN0LXB3"); // alice:s3cr3t-pw
    CHECK(seen[0].header("x-team") == "search");
    CHECK(seen[0].header("authorization-proxy") == "Bearer " + token);

    auto stats = p.stats();
    std::string everything = cause.node + cause.message + to_prometheus(stats);
    for (const auto& n : stats.nodes) everything += n.url + n.last_error;
    for (const auto& secret : {password, token, std::string("YWxpY2U6czNjcjN0LXB3")}) {
        INFO(secret);
        CHECK(everything.find(secret) == std::string::npos);
    }
    CHECK(everything.find("internal failure") != std::string::npos); // the text itself is kept

    // A URL that does not parse is named without its credentials.
    pool_config bad;
    bad.nodes = {"http://alice:" + password + "@127.0.0.1:99999"};
    try {
        pool q(io.get_executor(), bad);
        FAIL("no error");
    } catch (const error& e) {
        CHECK(std::string(e.what()).find(password) == std::string::npos);
        CHECK(std::string(e.what()).find("***@127.0.0.1:99999") != std::string::npos);
    }
}

TEST_CASE("url: schemes, default ports, credentials, redaction") {
    auto u = http::url::parse("https://ollama.example");
    REQUIRE(u);
    CHECK(u->tls());
    CHECK(u->port == 443);
    CHECK(u->str() == "https://ollama.example:443");
    auto b = http::url::parse("http://us%40er:p%3Ass@[::1]:8080/");
    REQUIRE(b);
    CHECK(b->user == "us@er");
    CHECK(b->password == "p:ss");
    CHECK(b->host == "::1");
    CHECK(b->str() == "http://[::1]:8080");
    CHECK(b->basic_authorization() == "Basic dXNAZXI6cDpzcw==");
    CHECK_FALSE(http::url::parse("ftp://host"));
    CHECK_FALSE(http::url::parse("http://a:%zz@host"));
    CHECK_FALSE(http::url::parse("http://a:%4@host"));
    CHECK(http::redact_credentials("http://u:p@h:1") == "http://***@h:1");
    CHECK(http::redact_credentials("h:1") == "h:1");
}
