// A 400 for one coalesced text fails that caller alone; texts with
// different options never share a node request.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace herd;

namespace {

constexpr std::size_t minilm_dim = 384;

struct caller_result {
    std::error_code ec;
    std::vector<float> vector;
};

// One concurrent pool.embed per text (text i with options[i]), all started
// in the same turn so the coalescer joins them into one request.
awaitable<std::vector<caller_result>> embed_together(pool& p, const std::vector<std::string>& texts,
                                                     const std::vector<embed_options>& options) {
    std::vector<caller_result> out(texts.size());
    task_group g(p.get_executor());
    for (std::size_t i = 0; i < texts.size(); ++i)
        g.spawn([](pool& pl, const std::string& text, const embed_options& o, caller_result& r) -> awaitable<void> {
            auto [ec, v] = co_await pl.async_embed(text, o, compat::use_nothrow);
            r.ec = ec;
            r.vector = std::move(v);
        }(p, texts[i], options[i], out[i]));
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
    // One request per node: caller 0 goes alone; 1-7 pile up and leave as
    // one batch of seven when it returns.
    SECTION("one bad text among eight: 0 alone; 7 -> 3+4 -> 1+2 -> 1+1") {
        bad = {3};
        expected_requests = 1 + 1 + 2 + 2 + 2;
    }
    SECTION("two bad texts among eight: 0 alone, 5 in the batch: 7 -> 3+4 -> 2+2 -> 1+1") {
        bad = {0, 5};
        expected_requests = 1 + 1 + 2 + 2 + 2;
    }
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 8; ++i) texts.push_back(bad.count(i) ? too_long + std::to_string(i) : test::text_for(i));
    std::vector<embed_options> options(texts.size(), embed_options{.truncate = false});
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
    std::vector<embed_options> options{{.truncate = false}};
    auto results = test::run(io, embed_together(p, texts, options));
    CHECK(results[0].ec == errc::bad_request);
    CHECK(cluster.counters(0).embed_requests == 1);
}

TEST_CASE("coalescing: texts with different options never share a request, equal options do") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    // Callers alternate between two options texts. Each text has its own
    // coalescer: in each, the first caller goes alone (one request per
    // node) and the other three pile up and leave together.
    const std::string a = R"({"num_ctx":128})", b = R"({"num_ctx":256,"seed":1})";
    std::vector<std::string> texts;
    std::vector<embed_options> options;
    for (std::size_t i = 0; i < 8; ++i) {
        texts.push_back(test::text_for(i));
        options.push_back({.options = i % 2 ? b : a});
    }
    auto results = test::run(io, embed_together(p, texts, options));
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("caller " << i);
        CHECK_FALSE(results[i].ec);
        CHECK(test::is_rule_vector("all-minilm", texts[i], results[i].vector, minilm_dim));
    }
    using count = sim::node_counters::options_count;
    const std::map<std::string, count> want{{a, {2, 4}}, {b, {2, 4}}};
    CHECK(cluster.counters(0).embed_options == want);
}
