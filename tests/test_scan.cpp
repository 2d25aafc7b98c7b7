// The opt-in network scan: address ranges, confirmation, limits. On
// loopback addresses (127.0.0.0/8) with an unusual port; the same scan over
// real interfaces runs inside a network namespace (tests/scan_netns.sh runs
// the hidden [netns] case below there).
#include <herd/discover.hpp>
#include <herd/discovery/scan.hpp>
#include <herd/herd.hpp>

#include "support/found_urls.hpp"
#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace herd;
using herd::test::urls_of;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

namespace {

enum class behaviour { ollama, not_ollama, no_tags, hang };

// An HTTP responder on one address: what a host in the range does.
class host {
public:
    host(asio::io_context& io, const std::string& address, std::uint16_t port, behaviour b, int& open, int& max_open,
         std::vector<time_point>& firsts)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address(address), port)), b_(b), open_(open), max_open_(max_open),
          firsts_(firsts) {
        asio::co_spawn(io, accept(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
    awaitable<void> accept() {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(compat::use_nothrow);
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), serve(std::move(s)), asio::detached);
        }
    }
    awaitable<void> serve(tcp::socket s) {
        max_open_ = std::max(max_open_, ++open_);
        std::string in;
        char buf[1024];
        while (in.find("\r\n\r\n") == std::string::npos) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), compat::use_nothrow);
            if (ec) break;
            in.append(buf, n);
        }
        bool version = in.rfind("GET /api/version", 0) == 0;
        if (version) firsts_.push_back(clock::now());
        std::string body = "{}";
        int status = 200;
        if (b_ == behaviour::hang) {
            asio::steady_timer t(s.get_executor(), 10s);
            co_await t.async_wait(compat::use_nothrow);
        } else if (b_ == behaviour::not_ollama) {
            status = 404;
        } else if (version) {
            body = R"({"version":"0.24.0"})";
        } else if (b_ == behaviour::ollama) {
            body = R"({"models":[]})";
        } else {
            status = 500;
        }
        auto reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        co_await asio::async_write(s, asio::buffer(reply), compat::use_nothrow);
        --open_;
    }

    tcp::acceptor acceptor_;
    behaviour b_;
    int& open_;
    int& max_open_;
    std::vector<time_point>& firsts_;
};

} // namespace

TEST_CASE("scan: CIDR ranges") {
    auto r = cidr_range::parse("10.1.2.3/24");
    REQUIRE(r);
    CHECK(r->str() == "10.1.2.0/24");
    CHECK(r->size() == 256);
    CHECK(r->at(255).to_string() == "10.1.2.255");
    auto v6 = cidr_range::parse("fd00::1:7/112");
    REQUIRE(v6);
    CHECK(v6->str() == "fd00::1:0/112");
    CHECK(v6->at(0x1ff).to_string() == "fd00::1:1ff");
    CHECK(cidr_range::parse("192.0.2.9")->size() == 1);
    CHECK(cidr_range::parse("::/0")->size() == std::uint64_t{1} << 63);
    for (auto bad : {"10.0.0.0/33", "x/8", "10.0.0.0/", "10.0.0.0/8x", "fd00::/129"}) CHECK_FALSE(cidr_range::parse(bad));
}

TEST_CASE("scan: only hosts answering /api/version and /api/tags count, a hung host costs only its timeout") {
    asio::io_context io;
    int open = 0, max_open = 0;
    std::vector<time_point> firsts;
    host h2(io, "127.0.0.2", 0, behaviour::ollama, open, max_open, firsts);
    auto port = h2.port();
    host h3(io, "127.0.0.3", port, behaviour::not_ollama, open, max_open, firsts);
    host h4(io, "127.0.0.4", port, behaviour::no_tags, open, max_open, firsts);
    host h5(io, "127.0.0.5", port, behaviour::hang, open, max_open, firsts);
    host h6(io, "127.0.0.6", port, behaviour::ollama, open, max_open, firsts);
    // 127.0.0.1 (and .7, the broadcast address, skipped) have no listener.
    auto started = clock::now();
    auto r = test::run(io, scan(*cidr_range::parse("127.0.0.0/29"), {.port = port, .per_host_timeout = 300ms}));
    REQUIRE(!r.fail);
    CHECK(urls_of(r.value) == std::vector<std::string>{"http://127.0.0.2:" + std::to_string(port),
                                                       "http://127.0.0.6:" + std::to_string(port)});
    CHECK(clock::now() - started < 5s); // the hung host did not hold the scan
    CHECK(firsts.size() == 5);          // .0 and .7 were not probed, .1 refused
}

TEST_CASE("scan: concurrency and rate limits") {
    asio::io_context io;
    int open = 0, max_open = 0;
    std::vector<time_point> firsts;
    std::vector<std::unique_ptr<host>> hosts;
    hosts.push_back(std::make_unique<host>(io, "127.0.0.1", 0, behaviour::ollama, open, max_open, firsts));
    auto port = hosts[0]->port();
    for (int i = 2; i <= 14; ++i)
        hosts.push_back(std::make_unique<host>(io, "127.0.0." + std::to_string(i), port, behaviour::ollama, open,
                                               max_open, firsts));
    auto before = clock::now(); // no probe starts earlier
    auto r = test::run(io, scan(*cidr_range::parse("127.0.0.0/28"), {.port = port, .concurrency = 3, .per_second = 50}));
    CHECK(r.value.size() == 14);
    CHECK(max_open <= 3);
    REQUIRE(firsts.size() == 14);
    // 14 starts at most 50 a second: the 14th starts 13 x 20 ms after the
    // first at the earliest (and is accepted after it started).
    CHECK(*std::max_element(firsts.begin(), firsts.end()) - before >= 13 * 20ms);

    auto big = test::run(io, scan(*cidr_range::parse("10.0.0.0/8")));
    CHECK(big.fail.message == "scan: 10.0.0.0/8 has 16777216 addresses, more than the limit of 4096");
}

// Run by tests/scan_netns.sh inside the namespace it made: scans
// HERD_SCAN_RANGE on port 11434, expects exactly HERD_SCAN_EXPECT (URLs,
// comma-separated), then embeds through the nodes found.
TEST_CASE("scan: the test network namespace", "[.netns]") {
    const char* range = std::getenv("HERD_SCAN_RANGE");
    const char* expect = std::getenv("HERD_SCAN_EXPECT");
    REQUIRE(range);
    REQUIRE(expect);
    asio::io_context io;
    auto r = test::run(io, scan(*cidr_range::parse(range), {.per_host_timeout = 500ms}));
    REQUIRE(!r.fail);
    CHECK(urls_of(r.value) == pool_config::parse_node_list(expect));
    pool_config cfg;
    cfg.model = "all-minilm";
    pool p(io.get_executor(), cfg);
    auto d = test::run(io, discover(p, {std::string("scan:") + range}));
    CHECK(p.node_urls() == pool_config::parse_node_list(expect));
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) texts.push_back("netns text " + std::to_string(i));
    auto m = test::run(io, p.embed_batch(texts));
    for (std::size_t i = 0; i < texts.size(); ++i) CHECK(test::is_rule_vector("all-minilm", texts[i], m[i], 384));
    for (std::size_t i = 0; i < p.size(); ++i) CHECK(p.at(i).counters().inputs > 0);
}

TEST_CASE("scan: cancelled, it stops its probes and fails with operation_aborted") {
    asio::io_context io;
    int open = 0, max_open = 0;
    std::vector<time_point> firsts;
    host hung(io, "127.0.0.1", 0, behaviour::hang, open, max_open, firsts);
    asio::cancellation_signal cancel;
    std::optional<result<std::vector<found_node>>> r;
    asio::co_spawn(io, scan(*cidr_range::parse("127.0.0.1"), {.port = hung.port(), .per_host_timeout = 60s}),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr, result<std::vector<found_node>> v) {
                       r = std::move(v);
                   }));
    REQUIRE(test::eventually(io, [&] { return firsts.size() == 1; }));
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(test::eventually(io, [&] { return r.has_value(); }));
    CHECK(r->fail.code == asio::error::operation_aborted);
    CHECK(r->value.empty());
}
