// Fairness between client connections in `herd serve`: one connection's big
// list does not starve another connection's single queries (gateway.hpp:
// the big list runs at a low priority on the nodes' queues, the single
// queries at a high one).

#include "test_sim_client.hpp"

#include "support/serve_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace sim_test;
using herd::test::serve_fixture;
using json = nlohmann::json;
using std::chrono::steady_clock;

TEST_CASE("serve fairness: single queries from one connection pass a 6,000-text list from another") {
    serve_fixture f(herd::test::profiles({"gpu", "gpu"}));
    json big{{"model", "all-minilm"}, {"input", json::array()}};
    for (int i = 0; i < 6000; ++i) big["input"].push_back(herd::test::text_for(static_cast<std::size_t>(i)));

    std::atomic<bool> big_done{false};
    steady_clock::duration big_took{};
    int big_status = 0;
    std::thread bulk([&] {
        auto start = steady_clock::now();
        auto r = roundtrip(f.port(), "POST", "/api/embed", big.dump(), 60000ms);
        big_took = steady_clock::now() - start;
        big_status = r.msg.status;
        big_done = true;
    });
    // Wait (bounded) until the nodes are busy with the list.
    REQUIRE(eventually([&] { return f.cluster.counters(0).inputs + f.cluster.counters(1).inputs > 300; }, 10000ms));

    client c(f.port());
    std::vector<steady_clock::duration> latencies;
    int wrong = 0;
    for (int i = 0; i < 20 && !big_done; ++i) {
        std::string text = "query " + std::to_string(i);
        json q{{"model", "all-minilm"}, {"input", text}};
        auto start = steady_clock::now();
        c.send(request("POST", "/api/embed", q.dump()));
        auto r = c.read(10000ms);
        latencies.push_back(steady_clock::now() - start);
        REQUIRE(r.ok());
        auto v = json::parse(r.msg.body)["embeddings"][0].get<std::vector<float>>();
        wrong += !herd::test::is_rule_vector("all-minilm", text, v, 384);
    }
    bool overlapped = !big_done; // the queries ran while the list was still in progress
    bulk.join();
    CHECK(big_status == 200);
    CHECK(wrong == 0);
    REQUIRE(latencies.size() >= 5);
    CHECK(overlapped);
    std::sort(latencies.begin(), latencies.end());
    auto median = latencies[latencies.size() / 2];
    auto seconds = [](steady_clock::duration d) { return std::chrono::duration<double>(d).count(); };
    INFO("median query " << seconds(median) << " s, slowest " << seconds(latencies.back()) << " s, list "
                         << seconds(big_took) << " s");
    // A query waits for at most the micro-batches already in service, not
    // for the list: the typical query is an order of magnitude faster than
    // the list, and none waits for half of it. Bounds relative to the list,
    // not in seconds, so a slow machine or a sanitizer build scales both.
    CHECK(median * 10 < big_took);
    CHECK(latencies.back() * 2 < big_took);
}
