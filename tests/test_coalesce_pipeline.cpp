// The coalescer under a burst: a pile of half a batch leaves at once,
// queued behind the node's current request (two per node at most); a
// smaller pile, or one with no room, waits for a request to return.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace herd;

TEST_CASE("coalescing: a pile of half a batch leaves at once behind the request in flight, never a third") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    // Answers written 4 KB a millisecond: the lone caller's request is still
    // being answered when the burst behind it has piled up.
    cluster.set_fault(0, {.slow_drip_bytes = 4096});
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    const std::size_t half = test::default_config(cluster).max_batch / 2;
    const std::size_t callers = 1 + 2 * half + 10; // a lone caller, two big piles, ten more
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < callers; ++i) texts.push_back(test::text_for(i));
    std::vector<std::vector<float>> vectors(callers);
    std::size_t most_in_flight = 0, most_waiting = 0; // the node's requests sent, and waiting for a permit
    std::size_t most_beside_lone = 0; // requests in flight while the first (lone) caller waits for its vector

    auto burst = [&]() -> awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        std::size_t finished = 0;
        task_group g(ex);
        for (std::size_t i = 0; i < callers; ++i)
            g.spawn([](pool& pl, const std::string& text, std::vector<float>& out, std::size_t& done) -> awaitable<void> {
                out = co_await pl.embed(text);
                ++done;
            }(p, texts[i], vectors[i], finished));
        // Watches the node's requests in flight until every caller has its
        // vector (bounded: each turn of the loop waits for the io_context).
        while (finished < callers) {
            const auto node = p.stats().nodes.at(0);
            most_in_flight = std::max(most_in_flight, node.in_flight);
            most_waiting = std::max(most_waiting, node.queued);
            if (vectors[0].empty()) most_beside_lone = std::max(most_beside_lone, node.in_flight);
            co_await asio::post(ex, asio::use_awaitable);
        }
        co_await g.join();
    };
    test::run(io, burst());

    for (std::size_t i = 0; i < callers; ++i) {
        INFO("caller " << i);
        CHECK(test::is_rule_vector("all-minilm", texts[i], vectors[i], 384));
    }
    // The lone text; the first big pile while it was in flight; the second
    // pile and the ten after it together when the lone one returned (not
    // before: two per node): three requests, never more than two at once.
    CHECK(most_in_flight == 2);
    CHECK(most_waiting == 0);
    CHECK(most_beside_lone == 2); // the first big pile did not wait for the lone text's answer
    const auto counters = cluster.counters(0);
    CHECK(counters.embed_requests == 3);
    CHECK(counters.inputs == callers);
}
