// The event log: pool_config::on_event sees a node die and come back, and
// one call's events share its request id through retries.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace herd;

namespace {

std::size_t index_of(const std::vector<event>& log, event_kind kind, const std::string& node) {
    for (std::size_t i = 0; i < log.size(); ++i)
        if (log[i].kind == kind && log[i].node == node) return i;
    return log.size();
}

// Single embeds one after another until `stop` holds (at most `limit`).
template <typename Stop>
awaitable<void> embed_until(pool& p, std::size_t limit, Stop stop) {
    for (std::size_t i = 0; i < limit && !stop(); ++i) {
        std::string text = test::text_for(i);
        co_await p.embed(text);
    }
}

} // namespace

TEST_CASE("event log: a node that dies is ejected, and re-admitted when it comes back") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    std::vector<event> log;
    auto cfg = test::test_config(cluster);
    cfg.on_event = [&](const event& e) { log.push_back(e); };
    asio::io_context io;
    pool p(io.get_executor(), cfg);
    const auto dead = cluster.url(1);
    cluster.set_fault(1, {.refuse = true});
    test::run(io, embed_until(p, 500, [&] { return index_of(log, event_kind::node_ejected, dead) < log.size(); }));
    auto ejected = index_of(log, event_kind::node_ejected, dead);
    REQUIRE(ejected < log.size());
    CHECK(log[ejected].request_id != 0); // a call's failure ejected it
    CHECK_FALSE(log[ejected].detail.empty());
    CHECK(p.stats().nodes[1].ejected);

    cluster.set_fault(1, {}); // listens again
    REQUIRE(test::eventually(io, [&] { return index_of(log, event_kind::node_readmitted, dead) < log.size(); }));
    auto readmitted = index_of(log, event_kind::node_readmitted, dead);
    CHECK(readmitted > ejected);
    CHECK(log[readmitted].request_id == 0); // a probe, not a call, re-admitted it
    CHECK_FALSE(p.stats().nodes[1].ejected);
    // The pool keeps them for the dashboard too.
    auto recent = p.stats().recent_events;
    CHECK(std::any_of(recent.begin(), recent.end(),
                      [&](auto& e) { return e.kind == event_kind::node_readmitted && e.node == dead; }));
}

TEST_CASE("event log: a retried call's events carry its one request id") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    cluster.set_fault(0, {.error_rate = 1.0}); // node 0 answers 500 to everything
    std::vector<event> log;
    auto cfg = test::test_config(cluster);
    cfg.on_event = [&](const event& e) { log.push_back(e); };
    asio::io_context io;
    pool p(io.get_executor(), cfg);
    const auto bad = cluster.url(0), good = cluster.url(1);
    // Sequential calls until node 0 is ejected: every call that met node 0
    // was retried on node 1.
    test::run(io, embed_until(p, 500, [&] { return index_of(log, event_kind::node_ejected, bad) < log.size(); }));
    REQUIRE(index_of(log, event_kind::node_ejected, bad) < log.size());

    std::map<std::uint64_t, std::vector<event>> by_call;
    for (const auto& e : log)
        if (e.request_id) by_call[e.request_id].push_back(e);
    std::size_t retried_calls = 0;
    for (const auto& [id, events] : by_call) {
        if (std::none_of(events.begin(), events.end(), [](auto& e) { return e.kind == event_kind::attempt_failed; }))
            continue; // answered by node 1 at once
        ++retried_calls;
        INFO("request " << id);
        // Each failed attempt on node 0 is followed by this call's retry on node 1.
        std::size_t failed = 0, retried = 0;
        for (const auto& e : events) {
            if (e.kind == event_kind::attempt_failed) {
                ++failed;
                CHECK(e.node == bad);
            }
            if (e.kind == event_kind::retry) {
                ++retried;
                CHECK(e.node == good);
                CHECK(e.value == 2); // the second attempt
            }
        }
        CHECK(failed == 1);
        CHECK(retried == 1);
    }
    CHECK(retried_calls >= cfg.health.failure_threshold); // the failures that ejected node 0
    auto bad_stats = p.stats().nodes[0];
    CHECK(bad_stats.failures_by_cause.at("server_error") == bad_stats.failures); // all 500s
    // The ejection is tied to the call whose failure caused it.
    auto& ejection = log[index_of(log, event_kind::node_ejected, bad)];
    REQUIRE(by_call.count(ejection.request_id));
    auto& of_call = by_call[ejection.request_id];
    CHECK(std::any_of(of_call.begin(), of_call.end(),
                      [&](auto& e) { return e.kind == event_kind::attempt_failed && e.node == bad; }));
    // As JSON lines (what `herd embed --log-format json` prints).
    auto j = nlohmann::json::parse(to_json(ejection));
    CHECK(j["event"] == "node_ejected");
    CHECK(j["request_id"] == ejection.request_id);
    CHECK(j["node"] == bad);
    CHECK(j["time"].get<std::string>().size() == 24); // 2026-11-30T10:04:13.123Z
}
