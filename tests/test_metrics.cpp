// Metrics: the Prometheus exposition read back by a strict parser, and the
// values a pool reports after real work on herd-sim.
#include <herd/herd.hpp>

#include "support/prometheus_text.hpp"
#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace herd;

namespace {

// Buckets of every histogram series are cumulative and +Inf equals _count.
void check_histograms(const test::prom_text& t) {
    for (const auto& [family, type] : t.types) {
        if (type != "histogram") continue;
        for (const auto& count : t.find(family + "_count")) {
            auto labels = count.labels;
            double last = 0;
            std::size_t buckets = 0;
            bool inf_seen = false;
            for (const auto& b : t.find(family + "_bucket", labels)) {
                INFO(family << " le=" << b.labels.at("le"));
                CHECK(b.value >= last);
                last = b.value;
                ++buckets;
                if (b.labels.at("le") == "+Inf") {
                    inf_seen = true;
                    CHECK(b.value == count.value);
                }
            }
            CHECK(buckets > 1);
            CHECK(inf_seen);
            CHECK(t.find(family + "_sum", labels).size() == 1);
        }
    }
}

// Names follow the conventions: herd_ prefix, counters end in _total.
void check_names(const test::prom_text& t) {
    for (const auto& [family, type] : t.types) {
        INFO(family);
        CHECK(family.rfind("herd_", 0) == 0);
        bool total = family.size() > 6 && family.compare(family.size() - 6, 6, "_total") == 0;
        CHECK(total == (type == "counter"));
    }
}

awaitable<void> embeds(pool& p, std::size_t n) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < n; ++i) texts.push_back(test::text_for(i));
    for (const auto& t : texts) co_await p.embed(t);
}

} // namespace

TEST_CASE("to_prometheus: every line valid, label values escaped, histograms cumulative") {
    pool_stats s;
    node_stats n;
    n.url = "http://a\"b\\c\nd:1"; // every character that needs escaping
    n.requests = 7;
    n.failures = 2;
    n.failures_by_cause = {{"timeout", 1}, {"server_error", 1}};
    for (double x : {0.0005, 0.003, 0.003, 0.2, 99.0}) n.latency.observe(x);
    n.ttft.observe(0.04);
    n.models = {{"all-minilm", true, false}, {"llama3.2", false, false}};
    n.concurrency_limit = 4;
    n.ejected = true;
    s.nodes.push_back(n);
    s.coalesced_batch_sizes.observe(3);
    s.calls = 9;
    auto t = test::parse_prometheus(to_prometheus(s));
    for (const auto& p : t.problems) FAIL_CHECK(p);
    check_names(t);
    check_histograms(t);

    auto node = std::map<std::string, std::string>{{"node", n.url}};
    REQUIRE(t.find("herd_node_requests_total", node).size() == 1);
    CHECK(t.find("herd_node_requests_total", node)[0].value == 7);
    CHECK(t.find("herd_node_failures_total", {{"node", n.url}, {"cause", "timeout"}}).at(0).value == 1);
    CHECK(t.find("herd_node_ejected", node).at(0).value == 1);
    CHECK(t.find("herd_node_model_loaded", {{"node", n.url}, {"model", "all-minilm"}}).at(0).value == 1);
    CHECK(t.find("herd_node_model_loaded", {{"node", n.url}, {"model", "llama3.2"}}).at(0).value == 0);
    CHECK(t.find("herd_node_request_duration_seconds_bucket", {{"node", n.url}, {"le", "0.001"}}).at(0).value == 1);
    CHECK(t.find("herd_node_request_duration_seconds_bucket", {{"node", n.url}, {"le", "0.005"}}).at(0).value == 3);
    CHECK(t.find("herd_node_request_duration_seconds_bucket", {{"node", n.url}, {"le", "60"}}).at(0).value == 4);
    CHECK(t.find("herd_node_request_duration_seconds_count", node).at(0).value == 5);
    CHECK(t.find("herd_coalesced_batch_texts_bucket", {{"le", "2"}}).at(0).value == 0);
    CHECK(t.find("herd_coalesced_batch_texts_bucket", {{"le", "4"}}).at(0).value == 1);
    CHECK(t.find("herd_calls_total").at(0).value == 9);
}

TEST_CASE("a pool's metrics after work on herd-sim: per-node series with the work done") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    test::run(io, embeds(p, 40));
    auto s = p.stats();
    auto t = test::parse_prometheus(to_prometheus(s));
    for (const auto& pr : t.problems) FAIL_CHECK(pr);
    check_names(t);
    check_histograms(t);
    double inputs = 0, latency_count = 0;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        std::map<std::string, std::string> node{{"node", cluster.url(i)}};
        REQUIRE(t.find("herd_node_inputs_total", node).size() == 1);
        inputs += t.find("herd_node_inputs_total", node)[0].value;
        latency_count += t.find("herd_node_request_duration_seconds_count", node).at(0).value;
        CHECK(t.find("herd_node_concurrency_limit", node).at(0).value == static_cast<double>(p.at(i).limiter().limit()));
        CHECK(t.find("herd_node_in_flight_requests", node).at(0).value == 0);
        CHECK(t.find("herd_node_queued_requests", node).at(0).value == 0);
        if (s.nodes[i].inputs > 0) // it answered for the model: loaded (no /api/ps asked)
            CHECK(t.find("herd_node_model_loaded", {{"node", cluster.url(i)}, {"model", "all-minilm"}}).at(0).value == 1);
    }
    // A hedge's loser may have answered too: its node did that work.
    CHECK(inputs >= 40);
    CHECK(inputs <= 40.0 + static_cast<double>(s.hedges_sent));
    CHECK(latency_count == static_cast<double>(s.nodes[0].requests + s.nodes[1].requests));
    CHECK(t.find("herd_inputs_total").at(0).value == 40);
    CHECK(t.find("herd_calls_total").at(0).value == 40); // one by one: nothing to coalesce
    CHECK(t.find("herd_coalesced_batch_texts_count").at(0).value == 40);
    CHECK(t.find("herd_retry_budget_available").at(0).value >= 10); // the floor of retries per second
    std::uint64_t per_second = 0;
    for (auto n : s.throughput_history) per_second += n;
    CHECK(s.throughput_history.size() == 300);
    CHECK(per_second == 40);
}

TEST_CASE("cause_name: herd's codes by name, cancellation and socket errors apart") {
    CHECK(cause_name(errc::timeout) == "timeout");
    CHECK(cause_name(errc::server_busy) == "server_busy");
    CHECK(cause_name(errc::pipeline_aborted) == "pipeline_aborted");
    CHECK(cause_name(asio::error::operation_aborted) == "cancelled");
    CHECK(cause_name(asio::error::connection_refused) == "socket");
    CHECK(cause_name({}) == "none");
}

TEST_CASE("rate_meter::buckets: each second's count, oldest first, idle seconds zero") {
    rate_meter m(std::chrono::seconds(1), 4);
    time_point t0{std::chrono::seconds(100)};
    m.add(3, t0);
    m.add(2, t0 + std::chrono::milliseconds(500));
    m.add(7, t0 + std::chrono::seconds(2));
    CHECK(m.buckets(t0 + std::chrono::seconds(2)) == std::vector<std::uint64_t>{0, 5, 0, 7});
    CHECK(m.buckets(t0 + std::chrono::seconds(3)) == std::vector<std::uint64_t>{5, 0, 7, 0});
    CHECK(m.buckets(t0 + std::chrono::seconds(60)) == std::vector<std::uint64_t>{0, 0, 0, 0}); // idle past the window
}

TEST_CASE("to_json of a snapshot: every node and the pool totals, for the dashboard") {
    pool_stats s;
    node_stats n;
    n.url = "http://127.0.0.1:1";
    n.inputs = 5;
    n.latency_p99 = 0.25;
    n.models = {{"all-minilm", true, true}};
    s.nodes.push_back(n);
    s.inputs = 5;
    s.throughput_history = {0, 4, 1};
    event e;
    e.kind = event_kind::node_ejected;
    e.node = n.url;
    e.request_id = 3;
    s.recent_events.push_back(e);
    auto j = nlohmann::json::parse(to_json(s, 1234.5));
    CHECK(j["time"] == 1234.5);
    CHECK(j["inputs"] == 5);
    CHECK(j["throughput_history"] == nlohmann::json::array({0, 4, 1}));
    REQUIRE(j["nodes"].size() == 1);
    CHECK(j["nodes"][0]["url"] == n.url);
    CHECK(j["nodes"][0]["latency_p99"] == 0.25);
    CHECK(j["nodes"][0]["models"][0]["on_gpu"] == true);
    CHECK(j["events"][0]["event"] == "node_ejected");
    CHECK(j["events"][0]["request_id"] == 3);
}
