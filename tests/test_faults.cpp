// The fault matrix: 2,000 single embeds on a 3-node herd-sim cluster where
// node 1 carries a fault. Every vector is checked against the deterministic
// rule: nothing lost, duplicated or misplaced.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::text_for;

namespace {

struct result_check {
    std::size_t right = 0, wrong = 0, missing = 0, failed = 0;
    std::string first_error;
};

// Embeds texts [first, first+count) from `workers` coroutines, each result
// stored at its index, then checks every slot.
awaitable<result_check> run_calls(pool& p, std::size_t first, std::size_t count, std::size_t workers) {
    std::vector<std::optional<std::vector<float>>> results(count);
    result_check check;
    std::size_t next = 0;
    task_group g(p.get_executor());
    for (std::size_t w = 0; w < workers; ++w)
        g.spawn([](pool& pl, std::size_t base, std::size_t& n, auto& slots, result_check& c) -> awaitable<void> {
            while (n < slots.size()) {
                std::size_t i = n++;
                try {
                    auto v = co_await pl.embed(text_for(base + i));
                    if (slots[i]) ++c.wrong; // a second result for one slot
                    slots[i] = std::move(v);
                } catch (const std::exception& e) {
                    if (c.first_error.empty()) c.first_error = e.what();
                    ++c.failed;
                }
            }
        }(p, first, next, results, check));
    co_await g.join();
    for (std::size_t i = 0; i < count; ++i) {
        if (!results[i]) ++check.missing;
        else if (test::is_rule_vector("all-minilm", text_for(first + i), *results[i], 384)) ++check.right;
        else ++check.wrong;
    }
    co_return check;
}


} // namespace

TEST_CASE("fault matrix: one faulty node of three loses nothing") {
    using sim::fault_spec;
    // `silent`: the faulty node never delivers a valid reply.
    auto [name, fault, silent] = GENERATE(table<const char*, fault_spec, bool>({
        {"refuses from the start", fault_spec{.refuse = true}, true},
        {"dies mid-run", fault_spec{.die_after = 10}, false},
        {"500 always", fault_spec{.error_rate = 1.0}, true},
        {"500 one in seven", fault_spec{.error_every = 7}, false},
        {"503 busy", fault_spec{.busy = true}, true},
        {"reset mid-body", fault_spec{.reset_mid_body = true}, true},
        {"hangs", fault_spec{.hang = true}, true},
        {"slow drip", fault_spec{.slow_drip_bytes = 512, .slow_drip_interval = std::chrono::duration<double>(0.0005)},
         false},
        {"garbage bytes", fault_spec{.garbage = true}, true},
        {"one embedding too few", fault_spec{.wrong_count = -1}, true},
        {"one embedding too many", fault_spec{.wrong_count = 1}, true},
    }));
    // What a user gets (pool_config as shipped), and the shorter timeouts
    // and larger retry allowance of test_config.
    auto defaults = GENERATE(true, false);
    INFO("fault: " << name << (defaults ? ", default pool_config" : ", test_config"));
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    cluster.set_fault(1, fault);
    asio::io_context io;
    pool p(io.get_executor(), defaults ? test::default_config(cluster) : test::test_config(cluster));
    auto started = clock::now();
    auto c = test::run(io, run_calls(p, 0, 2000, 64));
    INFO(c.first_error);
    CHECK(c.right == 2000);
    CHECK(c.wrong == 0);
    CHECK(c.missing == 0);
    CHECK(c.failed == 0);
    CHECK(clock::now() - started < std::chrono::seconds(30));
    // A node that never answers validly leaves every text to the healthy
    // two (retries and hedges may embed some twice, so not exact).
    if (silent) CHECK(cluster.counters(0).inputs + cluster.counters(2).inputs >= 2000);
}

TEST_CASE("fault matrix: a node that dies and comes back gets work again") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    cluster.set_fault(1, {.die_after = 5, .come_back_after = std::chrono::duration<double>(0.3)});
    asio::io_context io;
    auto cfg = test::test_config(cluster);
    cfg.max_batch = 4; // many small requests, so the node sees some before it dies
    pool p(io.get_executor(), cfg);
    auto first = test::run(io, run_calls(p, 0, 2000, 64));
    CHECK(first.right == 2000);
    CHECK(p.stats().nodes[1].failures > 0); // it did die under load
    // Wait (bounded) until the simulator revived it and a probe re-admitted it.
    asio::steady_timer tick(io);
    auto deadline = clock::now() + std::chrono::seconds(10);
    while (p.stats().nodes[1].ejected && clock::now() < deadline) {
        test::run(io, [&]() -> awaitable<void> {
            tick.expires_after(std::chrono::milliseconds(20));
            co_await tick.async_wait(compat::use_nothrow);
        }());
    }
    REQUIRE_FALSE(p.stats().nodes[1].ejected);
    auto before = cluster.counters(1).inputs;
    auto second = test::run(io, run_calls(p, 2000, 600, 32));
    CHECK(second.right == 600);
    auto st = p.stats();
    for (auto& n : st.nodes)
        UNSCOPED_INFO(n.url << " requests " << n.requests << " failures " << n.failures << " limit "
                            << n.concurrency_limit << " ewma " << n.latency_ewma << " ejected " << n.ejected);
    CHECK(cluster.counters(1).inputs > before);
}

TEST_CASE("fault matrix: every node failing fails every call with each node's cause, in bounded time") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    cluster.set_fault(0, {.error_rate = 1.0});
    cluster.set_fault(1, {.busy = true});
    cluster.set_fault(2, {.hang = true});
    asio::io_context io;
    auto cfg = test::test_config(cluster);
    cfg.call_timeout = std::chrono::seconds(3);
    pool p(io.get_executor(), cfg);
    auto started = clock::now();
    auto c = test::run(io, run_calls(p, 0, 100, 16));
    CHECK(c.failed == 100);
    CHECK(c.right == 0);
    CHECK(c.first_error.find("every node failed") != std::string::npos);
    CHECK(clock::now() - started < std::chrono::seconds(10));
}
