// Discovery: nodes files (watched), DNS (A/AAAA, SRV), de-duplication, and
// herd::discover changing a running pool through live membership.
#include <herd/discover.hpp>
#include <herd/discovery/nodes_file.hpp>
#include <herd/discovery/same_server.hpp>
#include <herd/herd.hpp>

#include "support/dns_server.hpp"
#include "support/found_urls.hpp"
#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace herd;
using herd::test::urls_of;
using namespace std::chrono_literals;

namespace {

// Written whole, then renamed over the old file (as editors do).
void write_file(const std::string& path, const std::string& text) {
    {
        std::ofstream out(path + ".tmp", std::ios::trunc);
        out << text;
    }
    std::filesystem::rename(path + ".tmp", path);
}

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string("herd-") + name + "-" + std::to_string(::getpid())))
        .string();
}

pool_config empty_config() {
    pool_config cfg;
    cfg.model = "all-minilm";
    return cfg;
}

} // namespace

TEST_CASE("nodes file: one URL a line with comments, or JSON with per-node settings") {
    auto text = parse_nodes_file("# the cluster\n\nhttp://a:1\n  b:2   # cpu box\r\nc\n");
    REQUIRE(!text.fail);
    CHECK(urls_of(text.value) == std::vector<std::string>{"http://a:1", "b:2", "c"});

    auto json = parse_nodes_file(R"([ "http://a:1", {"url": "b:2", "connections": 1, "pipeline_depth": 4,
                                       "max_concurrency": 8} ])");
    REQUIRE(!json.fail);
    REQUIRE(json.value.size() == 2);
    CHECK(json.value[1] == found_node{"b:2", 1, 4, 8.0});
    auto kinds = parse_nodes_file(R"([{"url": "http://a:1", "api": "openai"}, {"url": "b:2", "api": "openai"},
                                       {"url": "openai+http://c:3", "api": "openai"}, {"url": "d", "api": "ollama"}])");
    REQUIRE(!kinds.fail);
    CHECK(urls_of(kinds.value) == std::vector<std::string>{"openai+http://a:1", "openai+http://b:2", "openai+http://c:3", "d"});
    CHECK(parse_nodes_file(R"([{"url": "openai+http://a:1", "api": "ollama"}])").fail.message ==
          "node 0: \"api\": \"ollama\" with an openai+ URL");
    CHECK(parse_nodes_file(R"([{"url": "a", "api": "tei"}])").fail.message ==
          "node 0: field 'api' is unknown or not a valid value");
    auto wrapped = parse_nodes_file(R"({"nodes": ["a"]})");
    CHECK(urls_of(wrapped.value) == std::vector<std::string>{"a"});

    auto bad_line = parse_nodes_file("http://a:1\nhttp://b:99999\n");
    CHECK(bad_line.fail.code == errc::protocol_error);
    CHECK(bad_line.fail.message == "line 2: not a node URL: 'http://b:99999'");
    CHECK(bad_line.value.empty());
    auto bad_field = parse_nodes_file(R"([{"url": "a", "conections": 2}])");
    CHECK(bad_field.fail.message == "node 0: field 'conections' is unknown or not a valid value");
    CHECK(parse_nodes_file("[1]").fail.message == "node 0: expected a URL string or an object");
    CHECK(parse_nodes_file("{oops").fail.message == "not valid JSON");
    CHECK(parse_nodes_file("").value.empty());
}

TEST_CASE("nodes file: edits add and remove nodes of a running pool") {
    sim::cluster a(test::profiles({"zero", "zero", "zero"}));
    a.start();
    auto path = temp_path("nodes");
    write_file(path, a.url(0) + "\n" + a.url(1) + "\n");
    asio::io_context io;
    pool p(io.get_executor(), empty_config());
    std::vector<std::string> events;
    auto d = test::run(io, discover(p, {"file:" + path}, {.file_poll = 5ms,
                                                          .on_event = [&](const std::string& e) { events.push_back(e); }}));
    CHECK(p.node_urls() == std::vector<std::string>{a.url(0), a.url(1)});
    auto added = d->added(), present = p.node_urls();
    std::sort(added.begin(), added.end());
    std::sort(present.begin(), present.end());
    CHECK(added == present);

    write_file(path, "# a0 retired\n" + a.url(1) + "\n" + a.url(2) + "\n");
    REQUIRE(test::eventually(io, [&] { return p.node_urls() == std::vector<std::string>{a.url(1), a.url(2)}; }));
    auto texts = std::vector<std::string>{"one", "two", "three"};
    auto m = test::run(io, p.embed_batch(texts));
    for (std::size_t i = 0; i < texts.size(); ++i) CHECK(test::is_rule_vector("all-minilm", texts[i], m[i], 384));

    // A broken edit keeps the nodes; fixing it brings per-node settings.
    write_file(path, "http://oops:0\n");
    REQUIRE(test::eventually(io, [&] { return !events.empty() && events.back().find("failed") != std::string::npos; }));
    CHECK(p.node_urls() == std::vector<std::string>{a.url(1), a.url(2)});
    write_file(path, R"([{"url": ")" + a.url(2) + R"(", "connections": 1}])");
    REQUIRE(test::eventually(io, [&] { return p.node_urls() == std::vector<std::string>{a.url(2)}; }));
    CHECK(p.at(0).http().options().connections == 1); // re-added with its own settings
    CHECK(events.back() == "discovery: added " + a.url(2));
    d->stop();
    std::filesystem::remove(path);
}

TEST_CASE("dns: every A and AAAA record of a name, SRV targets with their ports") {
    asio::io_context io;
    test::dns_server dns(io);
    dns.addresses["multi.herd.test"] = {"127.0.0.2", "127.0.0.3", "::1"};
    dns.addresses["n1.herd.test"] = {"127.0.0.4"};
    dns.srv["_ollama._tcp.herd.test"] = {{10, 5, 11500, "n1.herd.test"}, {0, 0, 11501, "gone.herd.test"}};
    dns_options o{.server = dns.endpoint(), .timeout = 2s};

    auto addrs = test::run(io, dns_addresses("multi.herd.test", o));
    REQUIRE(!addrs.fail);
    std::vector<std::string> got;
    for (auto& a : addrs.value) got.push_back(a.to_string());
    CHECK(got == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "::1"});

    dns_source all("multi.herd.test", dns_source::kind::addresses, 11434, o);
    CHECK(urls_of(test::run(io, all.list()).value) ==
          std::vector<std::string>{"http://127.0.0.2:11434", "http://127.0.0.3:11434", "http://[::1]:11434"});
    // Priority first; a target without addresses is listed by name.
    dns_source srv("herd.test", dns_source::kind::srv, 0, o);
    CHECK(srv.describe() == "srv:_ollama._tcp.herd.test");
    CHECK(urls_of(test::run(io, srv.list()).value) ==
          std::vector<std::string>{"http://gone.herd.test:11501", "http://127.0.0.4:11500"});

    auto missing = test::run(io, dns_addresses("nowhere.herd.test", o));
    CHECK(missing.fail.code == errc::protocol_error);
    CHECK(missing.fail.message == "DNS: no such name");
    dns.silent = true;
    auto quiet = test::run(io, dns_addresses("multi.herd.test", {.server = dns.endpoint(), .timeout = 50ms, .attempts = 2}));
    CHECK(quiet.fail.message == "DNS: no answer from 127.0.0.1 for multi.herd.test");
    // A+AAAA twice, SRV + A+AAAA of 2 targets, A+AAAA of the missing name,
    // and 2 attempts each for A and AAAA while silent.
    CHECK(dns.queries == 2 + 2 + 5 + 2 + 4);
}

TEST_CASE("dns: SRV records re-resolved while the pool runs") {
    sim::cluster a(test::profiles({"zero", "zero"}));
    a.start();
    asio::io_context io;
    test::dns_server dns(io);
    dns.addresses["n.herd.test"] = {"127.0.0.1"};
    dns.srv["_ollama._tcp.herd.test"] = {{0, 0, a.port(0), "n.herd.test"}, {0, 0, a.port(1), "n.herd.test"}};
    pool p(io.get_executor(), empty_config());
    auto d = test::run(io, discover(p, {"srv:herd.test"}, {.dns_interval = 10ms, .dns = {.server = dns.endpoint()}}));
    CHECK(p.node_urls() == std::vector<std::string>{a.url(0), a.url(1)});
    dns.srv["_ollama._tcp.herd.test"].pop_back();
    REQUIRE(test::eventually(io, [&] { return p.node_urls() == std::vector<std::string>{a.url(0)}; }));
    // A failing server keeps the last list.
    dns.srv.clear();
    dns.addresses.clear();
    auto failures = test::run(io, d->refresh());
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].message == "DNS: no such name");
    CHECK(p.node_urls() == std::vector<std::string>{a.url(0)});
    auto v = test::run(io, p.embed("hello"));
    CHECK(test::is_rule_vector("all-minilm", "hello", v, 384));
}

TEST_CASE("same server: loopback, localhost and this machine's addresses are one server") {
    asio::io_context io;
    auto key = [&](const std::string& url) { return test::run(io, server_key(url)); };
    CHECK(key("http://127.0.0.1:11500") == "local:11500");
    CHECK(key("localhost:11500") == "local:11500");
    CHECK(key("http://[::1]:11500") == "local:11500");
    CHECK(key("http://127.0.0.9:11500") == "local:11500");
    CHECK(key("http://[::ffff:127.0.0.1]:11500") == "local:11500");
    CHECK(key("http://127.0.0.1:11501") == "local:11501");
    CHECK(key("http://192.0.2.7:11500") == "192.0.2.7:11500"); // TEST-NET-1: parsed, never contacted
    for (auto& own : own_addresses()) {
        if (own.is_v6() && own.to_v6().is_link_local()) continue; // needs a scope in a URL
        auto host = own.is_v6() ? "[" + own.to_string() + "]" : own.to_string();
        CHECK(key("http://" + host + ":11500") == "local:11500");
    }
    std::set<std::string> taken{"local:1"};
    auto kept = test::run(io, one_per_server({{"http://127.0.0.1:2"}, {"localhost:2"}, {"http://[::1]:3"},
                                              {"127.0.0.1:1"}, {"http://192.0.2.7:2"}},
                                             taken));
    CHECK(urls_of(kept) == std::vector<std::string>{"http://127.0.0.1:2", "http://[::1]:3", "http://192.0.2.7:2"});
}

TEST_CASE("discover: one node per server across sources and the pool's own nodes") {
    sim::cluster a(test::profiles({"zero", "zero"}));
    a.start();
    auto path = temp_path("dedupe");
    auto p0 = std::to_string(a.port(0)), p1 = std::to_string(a.port(1));
    write_file(path, "http://localhost:" + p0 + "\nhttp://127.0.0.1:" + p1 + "\nhttp://[::1]:" + p1 + "\n");
    asio::io_context io;
    auto cfg = empty_config();
    cfg.nodes = {a.url(0)}; // the pool has a0 already, spelt 127.0.0.1
    pool p(io.get_executor(), cfg);
    auto d = test::run(io, discover(p, {"file:" + path, "file:" + path}));
    CHECK(p.node_urls() == std::vector<std::string>{a.url(0), a.url(1)});
    CHECK(d->added() == std::vector<std::string>{a.url(1)});
    std::filesystem::remove(path);
}

TEST_CASE("discover: source specs") {
    CHECK(make_source("file:/etc/herd/nodes")->describe() == "file:/etc/herd/nodes");
    CHECK(make_source("dns:ollama.lan:8080")->describe() == "dns:ollama.lan");
    CHECK(make_source("srv:lan")->describe() == "srv:_ollama._tcp.lan");
    CHECK(make_source("scan:10.1.2.3/24")->describe() == "scan:10.1.2.0/24");
    CHECK(make_source("scan:10.1.2.3/24")->interval() == duration::zero());
    CHECK_THROWS_AS(make_source("scan:10.1.2.3/33"), std::invalid_argument);
    CHECK_THROWS_AS(make_source("dns:lan:0"), std::invalid_argument);
    CHECK_THROWS_AS(make_source("file:"), std::invalid_argument);
    CHECK_THROWS_WITH(make_source("mdns:x"),
                      "--discover mdns:x: expected file:PATH, dns:NAME[:PORT], srv:NAME or scan:CIDR");
}

TEST_CASE("dns: a cancelled query fails with operation_aborted at once") {
    asio::io_context io;
    test::dns_server dns(io);
    dns.silent = true;
    asio::cancellation_signal cancel;
    std::optional<result<std::vector<asio::ip::address>>> r;
    asio::co_spawn(io, dns_addresses("x.herd.test", {.server = dns.endpoint(), .timeout = 60s}),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr, result<std::vector<asio::ip::address>> v) {
                       r = std::move(v);
                   }));
    REQUIRE(test::eventually(io, [&] { return dns.queries == 1; }));
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(test::eventually(io, [&] { return r.has_value(); }));
    CHECK(r->fail.code == asio::error::operation_aborted);
    CHECK(dns.queries == 1); // no AAAA query after the cancellation
}

TEST_CASE("discover: after stop() the pool no longer follows the file") {
    auto path = temp_path("stop");
    write_file(path, "http://127.0.0.1:1\n"); // never contacted: nothing is embedded
    asio::io_context io;
    pool p(io.get_executor(), empty_config());
    auto d = test::run(io, discover(p, {"file:" + path}, {.file_poll = 5ms}));
    CHECK(p.node_urls() == std::vector<std::string>{"http://127.0.0.1:1"});
    d->stop();
    io.restart();
    io.run(); // returns: the watch loop ended, nothing else is pending
    write_file(path, "http://127.0.0.1:2\n");
    io.restart();
    io.run();
    CHECK(p.node_urls() == std::vector<std::string>{"http://127.0.0.1:1"});
    CHECK(d->added() == std::vector<std::string>{"http://127.0.0.1:1"});
    std::filesystem::remove(path);
}
