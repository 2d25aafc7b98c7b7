// The coalescer under a burst: a pile of half a batch leaves at once,
// queued behind the node's current request (two per node at most), where
// the node's learnt costs say two full batches end well inside one
// attempt's timeout; a smaller pile, or one with no room, waits for a
// request to return.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace herd;

namespace {

// What a burst of single embeds did at the one node.
struct burst_seen {
    std::size_t most_in_flight = 0;   // the node's requests sent at once
    std::size_t most_waiting = 0;     // requests waiting for the node's limiter
    std::size_t most_beside_lone = 0; // requests in flight while the first (lone) caller waited
    std::size_t wrong = 0;            // callers without their text's vector
};

// A few texts one at a time (the node's costs are then known), then
// `callers` single embeds started in the same turn, watched until each has
// its vector (bounded: each turn of the watch waits for the io_context).
burst_seen run_burst(asio::io_context& io, pool& p, std::size_t callers) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < callers; ++i) texts.push_back(test::text_for(i));
    std::vector<std::vector<float>> vectors(callers);
    burst_seen seen;
    auto burst = [&]() -> awaitable<void> {
        for (std::size_t i = 0; i < 3; ++i) co_await p.embed("warm-up " + std::to_string(i));
        auto ex = co_await asio::this_coro::executor;
        std::size_t finished = 0;
        task_group g(ex);
        for (std::size_t i = 0; i < callers; ++i)
            g.spawn([](pool& pl, const std::string& text, std::vector<float>& out, std::size_t& done) -> awaitable<void> {
                out = co_await pl.embed(text);
                ++done;
            }(p, texts[i], vectors[i], finished));
        while (finished < callers) {
            const auto node = p.stats().nodes.at(0);
            seen.most_in_flight = std::max(seen.most_in_flight, node.in_flight);
            seen.most_waiting = std::max(seen.most_waiting, node.queued);
            if (vectors[0].empty()) seen.most_beside_lone = std::max(seen.most_beside_lone, node.in_flight);
            co_await asio::post(ex, asio::use_awaitable);
        }
        co_await g.join();
    };
    test::run(io, burst());
    for (std::size_t i = 0; i < callers; ++i)
        if (!test::is_rule_vector("all-minilm", texts[i], vectors[i], 384)) ++seen.wrong;
    return seen;
}

} // namespace

TEST_CASE("coalescing: a pile of half a batch leaves at once behind the request in flight, never a third") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    // Answers written 4 KB a millisecond: the lone caller's request is still
    // being answered when the burst behind it has piled up.
    cluster.set_fault(0, {.slow_drip_bytes = 4096});
    asio::io_context io;
    const auto config = test::default_config(cluster);
    pool p(io.get_executor(), config);
    const std::size_t half = config.max_batch / 2;
    const std::size_t callers = 1 + 2 * half + 10; // a lone caller, two big piles, ten more
    const auto seen = run_burst(io, p, callers);
    CHECK(seen.wrong == 0);
    // The lone text; the first big pile while it was in flight; the second
    // pile and the ten after it together when the lone one returned (not
    // before: two per node): three requests, never more than two at once.
    CHECK(seen.most_in_flight == 2);
    CHECK(seen.most_waiting == 0);
    CHECK(seen.most_beside_lone == 2); // the first big pile did not wait for the lone text's answer
    const auto counters = cluster.counters(0);
    CHECK(counters.embed_requests == 3 + 3);
    CHECK(counters.inputs == callers + 3);
}

TEST_CASE("coalescing: no request queues behind another on a node too slow for two batches within the timeout") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    cluster.set_fault(0, {.slow_drip_bytes = 4096}); // a text's answer takes a millisecond or more
    asio::io_context io;
    auto config = test::default_config(cluster);
    // Two batches of max_batch at the warm-up's time per text (>= 1 ms)
    // exceed a quarter of this timeout; one batch still fits in it.
    config.request_timeout = std::chrono::milliseconds(400);
    pool p(io.get_executor(), config);
    const auto seen = run_burst(io, p, 1 + config.max_batch + 10);
    CHECK(seen.wrong == 0);
    CHECK(seen.most_in_flight == 1);
    CHECK(seen.most_waiting == 0);
}
