// pool against a herd-sim cluster on loopback.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::text_for;

namespace {

constexpr std::size_t minilm_dim = 384;

// `calls` single embeds from `workers` concurrent coroutines; returns how
// many vectors were right, wrong, and how many calls threw.
struct tally {
    std::size_t right = 0, wrong = 0, failed = 0;
    std::string first_error;
};

awaitable<tally> many_embeds(pool& p, std::size_t calls, std::size_t workers) {
    tally t;
    std::size_t next = 0;
    task_group g(p.get_executor());
    for (std::size_t w = 0; w < workers; ++w)
        g.spawn([](pool& pl, std::size_t& n, std::size_t total, tally& out) -> awaitable<void> {
            while (n < total) {
                std::size_t i = n++;
                auto text = text_for(i);
                try {
                    auto v = co_await pl.embed(text);
                    if (test::is_rule_vector("all-minilm", text, v, minilm_dim)) ++out.right;
                    else ++out.wrong;
                } catch (const std::exception& e) {
                    if (out.first_error.empty()) out.first_error = e.what();
                    ++out.failed;
                }
            }
        }(p, next, calls, t));
    co_await g.join();
    co_return t;
}

} // namespace

TEST_CASE("pool.embed across three herd-sim nodes: every vector is its input's") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto t = test::run(io, many_embeds(p, 600, 32));
    INFO(t.first_error);
    CHECK(t.right == 600);
    CHECK(t.wrong == 0);
    CHECK(t.failed == 0);
    std::uint64_t total_inputs = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("node " << i << " requests " << cluster.counters(i).embed_requests);
        CHECK(cluster.counters(i).inputs > 0); // every node took a share
        total_inputs += cluster.counters(i).inputs;
    }
    // Work beyond the 600 texts comes only from hedges' backups (on a loaded
    // machine a few requests pass the p95 latency; the budget bounds them).
    auto st = p.stats();
    INFO("hedges " << st.hedges_sent << " retries " << st.retries << " calls " << st.calls);
    CHECK(total_inputs >= 600);
    if (st.hedges_sent == 0 && st.retries == 0) CHECK(total_inputs == 600);
    CHECK(st.hedges_sent <= 8 * 10 + st.calls / 20); // each size class's burst + 5% of calls
    // Coalescing: fewer requests than texts under concurrency.
    std::uint64_t requests = 0;
    for (std::size_t i = 0; i < 3; ++i) requests += cluster.counters(i).embed_requests;
    CHECK(requests < 600);
}

TEST_CASE("pool.embed(texts) keeps input order in one matrix") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    auto cfg = test::test_config(cluster);
    cfg.max_batch = 7;
    pool p(io.get_executor(), cfg);
    std::vector<std::string> texts;
    for (int i = 0; i < 100; ++i) texts.push_back(text_for(i));
    auto m = test::run(io, p.embed(std::span<const std::string>(texts)));
    REQUIRE(m.rows() == 100);
    REQUIRE(m.dim() == minilm_dim);
    for (std::size_t i = 0; i < 100; ++i) CHECK(test::is_rule_vector("all-minilm", texts[i], m[i], minilm_dim));
    // dimensions: truncated and renormalised like Ollama
    auto small = test::run(io, p.embed(std::span<const std::string>(texts), {.dimensions = 16}));
    REQUIRE(small.dim() == 16);
    CHECK(test::is_rule_vector("all-minilm", texts[5], small[5], minilm_dim));
    // empty input
    auto none = test::run(io, p.embed(std::span<const std::string>()));
    CHECK(none.rows() == 0);
}

TEST_CASE("pool: a node that refuses connections is routed around") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    cluster.set_fault(1, {.refuse = true});
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto t = test::run(io, many_embeds(p, 300, 16));
    INFO(t.first_error);
    CHECK(t.right == 300);
    CHECK(cluster.counters(1).requests == 0);
    auto s = p.stats();
    CHECK(s.nodes[1].failures > 0);
    CHECK(s.nodes[1].ejected);
}

TEST_CASE("pool: all nodes down gives one clear error listing each node, within the deadline") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    for (std::size_t i = 0; i < 3; ++i) cluster.set_fault(i, {.refuse = true});
    asio::io_context io;
    auto cfg = test::test_config(cluster);
    cfg.call_timeout = std::chrono::seconds(3);
    pool p(io.get_executor(), cfg);
    auto started = clock::now();
    try {
        test::run(io, p.embed("anything"));
        FAIL("no error");
    } catch (const herd::error& e) {
        CHECK(e.code() == errc::all_nodes_failed);
        REQUIRE(e.causes().size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            bool listed = false;
            for (auto& c : e.causes()) listed |= c.node == cluster.url(i);
            CHECK(listed);
        }
        CHECK(std::string(e.what()).find(cluster.url(2)) != std::string::npos);
    }
    CHECK(clock::now() - started < std::chrono::seconds(4));

    auto [ec, v] = test::run(io, p.async_embed("anything", compat::use_nothrow));
    CHECK(ec == errc::all_nodes_failed);
    CHECK(v.empty());
}

TEST_CASE("pool: 404 and 400 surface at once with the node's own text") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    try {
        test::run(io, p.embed("x", {.model = "no-such-model"}));
        FAIL("no error");
    } catch (const herd::error& e) {
        CHECK(e.code() == errc::model_not_found);
        CHECK(e.status() == 404);
        CHECK_THAT(e.what(), Catch::StartsWith("model \"no-such-model\" not found, try pulling it first"));
    }
    const std::string too_long(100, 'm'); // Ollama: 400 "invalid model name"
    auto [ec, v] = test::run(io, p.async_embed("x", {.model = too_long}, compat::use_nothrow));
    CHECK(ec == errc::bad_request);
    CHECK(v.empty());
}

TEST_CASE("pool.stats and Prometheus text") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    test::run(io, many_embeds(p, 50, 4));
    auto s = p.stats();
    REQUIRE(s.nodes.size() == 2);
    CHECK(s.inputs == 50);
    CHECK(s.nodes[0].concurrency_limit == p.at(0).limiter().limit());
    auto text = to_prometheus(s);
    CHECK(text.find("herd_node_requests_total{node=\"" + cluster.url(0) + "\"}") != std::string::npos);
    CHECK(text.find("# TYPE herd_inputs_total counter") != std::string::npos);
}

TEST_CASE("pool_config from the environment") {
    setenv("HERD_NODES", "http://127.0.0.1:1, 127.0.0.1:2", 1);
    auto c = pool_config::from_env();
    CHECK(c.nodes == std::vector<std::string>{"http://127.0.0.1:1", "127.0.0.1:2"});
    unsetenv("HERD_NODES");
    setenv("OLLAMA_HOST", "127.0.0.1:3", 1);
    CHECK(pool_config::from_env().nodes == std::vector<std::string>{"127.0.0.1:3"});
    unsetenv("OLLAMA_HOST");
}

TEST_CASE("pool: a single text goes to the cheapest node, not the cheaper of two random ones") {
    // One fast node between two slow ones: power of two choices would draw
    // the two slow ones together a third of the time.
    auto slow = sim::profile("cpu");
    slow.request_overhead = std::chrono::milliseconds(200);
    sim::cluster cluster({slow, sim::profile("zero"), slow});
    cluster.start();
    asio::io_context io;
    auto cfg = test::default_config(cluster);
    cfg.hedge.enabled = false; // a backup would blur which node the router picked
    pool p(io.get_executor(), cfg);
    auto one_by_one = [&p](int n) -> awaitable<void> {
        for (int i = 0; i < n; ++i) {
            auto text = text_for(static_cast<std::size_t>(i));
            co_await p.embed(text);
        }
    };
    test::run(io, one_by_one(3)); // a node with no latency yet costs 0: each answers once
    for (std::size_t i = 0; i < 3; ++i) cluster.reset_counters(i);
    test::run(io, one_by_one(30));
    CHECK(cluster.counters(1).inputs == 30);
    CHECK(cluster.counters(0).embed_requests + cluster.counters(2).embed_requests == 0);
}
