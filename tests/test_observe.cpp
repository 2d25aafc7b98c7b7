// The observability endpoints over HTTP (observe_server): /metrics,
// /api/herd/stats and /dashboard of a pool that did work on herd-sim.
#include <herd/herd.hpp>
#include <herd/http/client.hpp>

#include "observe/observe_server.hpp"
#include "support/prometheus_text.hpp"
#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace herd;

namespace {

awaitable<http::message> get(http::client& c, const char* path) {
    auto r = co_await c.control(c.format("GET", path), clock::now() + std::chrono::seconds(5));
    REQUIRE_FALSE(r.ec);
    co_return r.response;
}

awaitable<void> embeds(pool& p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::string text = test::text_for(i);
        co_await p.embed(text);
    }
}

} // namespace

TEST_CASE("observe_server serves /metrics, /api/herd/stats and a self-contained /dashboard") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    test::run(io, embeds(p, 20));
    observe::observe_server server(p, "127.0.0.1:0");
    REQUIRE(server.endpoint().port() != 0);
    http::client c(io.get_executor(), *http::url::parse("http://127.0.0.1:" + std::to_string(server.endpoint().port())));

    auto metrics = test::run(io, get(c, "/metrics"));
    CHECK(metrics.status == 200);
    CHECK(metrics.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    auto t = test::parse_prometheus(metrics.body);
    for (const auto& problem : t.problems) FAIL_CHECK(problem);
    CHECK(t.find("herd_inputs_total").at(0).value == 20);
    CHECK(t.find("herd_node_inputs_total", {{"node", cluster.url(1)}}).size() == 1);

    auto stats = test::run(io, get(c, "/api/herd/stats"));
    CHECK(stats.status == 200);
    CHECK(stats.header("content-type") == "application/json; charset=utf-8");
    CHECK(stats.header("cache-control") == "no-store");
    auto j = nlohmann::json::parse(stats.body);
    CHECK(j["inputs"] == 20);
    REQUIRE(j["nodes"].size() == 2);
    CHECK(j["nodes"][0]["url"] == cluster.url(0));
    CHECK(j["time"].get<double>() > 1.7e9); // seconds since the epoch

    auto page = test::run(io, get(c, "/dashboard"));
    CHECK(page.status == 200);
    CHECK(page.header("content-type") == "text/html; charset=utf-8");
    CHECK_THAT(page.body, Catch::Contains("<title>herd dashboard</title>") && Catch::Contains("/api/herd/stats"));
    // Nothing is fetched from elsewhere: no external script, style, font or image.
    for (const char* external : {"src=\"http", "href=\"http", "url(http", "@import", "src=\"//", "href=\"//"})
        CHECK(page.body.find(external) == std::string::npos);

    CHECK(test::run(io, get(c, "/nothing-here")).status == 404);
    test::run(io, server.shutdown());
}

TEST_CASE("observe::parse_endpoint takes HOST:PORT with a numeric IP and names what it refuses") {
    CHECK(observe::parse_endpoint("127.0.0.1:9464") ==
          serve::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9464));
    CHECK(observe::parse_endpoint("[::1]:0") == serve::tcp::endpoint(asio::ip::make_address("::1"), 0));
    for (const char* bad : {"9464", ":9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:9x"})
        CHECK_THROWS_WITH(observe::parse_endpoint(bad), Catch::Contains(std::string("'") + bad + "'"));
}
