// A 400 for one coalesced text fails that caller alone.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace herd;

namespace {

constexpr std::size_t minilm_dim = 384;

struct caller_result {
    std::error_code ec;
    std::vector<float> vector;
};

// One concurrent pool.embed per text, all started in the same turn so the
// coalescer joins them into one request.
awaitable<std::vector<caller_result>> embed_together(pool& p, const std::vector<std::string>& texts,
                                                     const embed_options& options) {
    std::vector<caller_result> out(texts.size());
    task_group g(p.get_executor());
    for (std::size_t i = 0; i < texts.size(); ++i)
        g.spawn([](pool& pl, const std::string& text, const embed_options& o, caller_result& r) -> awaitable<void> {
            auto [ec, v] = co_await pl.async_embed(text, o, compat::use_nothrow);
            r.ec = ec;
            r.vector = std::move(v);
        }(p, texts[i], options, out[i]));
    co_await g.join();
    co_return out;
}


} // namespace

TEST_CASE("coalescing: an over-long text with truncate=false fails alone, every other caller gets its vector") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    // all-minilm's context is 256 tokens; herd-sim counts a token per 4 bytes.
    const std::string too_long(2000, 'w');

    std::set<std::size_t> bad;
    std::uint64_t expected_requests = 0;
    // The node's limit starts at 2: callers 0 and 1 find a free slot and go
    // alone; 2-7 pile up and leave as one batch of six when a slot frees.
    SECTION("one bad text among eight: alone 0, 1; 6 -> 3+3 -> 1+2 -> 1+1") {
        bad = {3};
        expected_requests = 2 + 1 + 2 + 2 + 2;
    }
    SECTION("two bad texts among eight: 0 alone, 5 in the batch: 6 -> 3+3 -> 1+2") {
        bad = {0, 5};
        expected_requests = 2 + 1 + 2 + 2;
    }
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 8; ++i) texts.push_back(bad.count(i) ? too_long + std::to_string(i) : test::text_for(i));
    embed_options options{.truncate = false};
    auto results = test::run(io, embed_together(p, texts, options));

    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("caller " << i);
        if (bad.count(i)) {
            CHECK(results[i].ec == errc::bad_request);
            CHECK(results[i].vector.empty());
        } else {
            CHECK_FALSE(results[i].ec);
            CHECK(test::is_rule_vector("all-minilm", texts[i], results[i].vector, minilm_dim));
        }
    }
    CHECK(cluster.counters(0).embed_requests == expected_requests);
    CHECK_FALSE(p.stats().nodes[0].ejected); // 400s are the input's fault, not the node's
}

TEST_CASE("coalescing: a 400 for a lone text is that caller's, with no resend") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    std::vector<std::string> texts{std::string(2000, 'w')};
    embed_options options{.truncate = false};
    auto results = test::run(io, embed_together(p, texts, options));
    CHECK(results[0].ec == errc::bad_request);
    CHECK(cluster.counters(0).embed_requests == 1);
}
