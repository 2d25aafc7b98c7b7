// Live membership: pool.add_node / remove_node on a running pool.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <numeric>

using namespace herd;
using herd::test::corpus;
using herd::test::wrong_rows;

namespace {

std::size_t sum(const std::vector<std::size_t>& v) { return std::accumulate(v.begin(), v.end(), std::size_t{0}); }

// Single embeds, `lanes` at a time, while something else runs: each call
// answered exactly once, each vector checked.
struct single_stream {
    std::vector<std::string> texts;
    std::size_t answered = 0, wrong = 0, failed = 0, lanes_done = 0;

    awaitable<void> lane(pool& p, std::size_t first, std::size_t step) {
        for (std::size_t i = first; i < texts.size(); i += step) {
            auto [ec, v] = co_await p.async_embed(texts[i], compat::use_nothrow);
            if (ec) ++failed;
            else if (!test::is_rule_vector("all-minilm", texts[i], v, 384)) ++wrong;
            ++answered;
        }
        ++lanes_done;
    }
    void start(asio::io_context& io, pool& p, std::size_t lanes) {
        for (std::size_t l = 0; l < lanes; ++l) asio::co_spawn(io, lane(p, l, lanes), asio::detached);
    }
};

pool_config config_for(const sim::cluster& c) {
    auto cfg = test::default_config(c);
    return cfg;
}

} // namespace

TEST_CASE("membership: add_node and remove_node by URL") {
    sim::cluster a(test::profiles({"zero", "zero"}));
    a.start();
    asio::io_context io;
    pool p(io.get_executor(), config_for(a));
    CHECK(p.node_urls() == a.urls());
    CHECK_FALSE(p.add_node(a.url(0)));                               // already there
    CHECK_FALSE(p.add_node("127.0.0.1:" + std::to_string(a.port(0)))); // the same URL spelt short
    CHECK_THROWS_AS(p.add_node("http://host:notaport"), herd::error);
    CHECK_FALSE(p.remove_node("http://127.0.0.1:1"));
    CHECK(p.remove_node("127.0.0.1:" + std::to_string(a.port(1))));
    CHECK(p.node_urls() == std::vector<std::string>{a.url(0)});
    CHECK(p.remove_node(a.url(0)));
    CHECK(p.size() == 0);
    auto [ec, v] = test::run(io, p.async_embed("x", compat::use_nothrow));
    CHECK(ec == errc::no_nodes);
    CHECK(p.add_node(a.url(1)));
    auto w = test::run(io, p.embed("x"));
    CHECK(test::is_rule_vector("all-minilm", "x", w, 384));
    CHECK(a.counters(0).inputs == 0);
}

TEST_CASE("membership: a node removed mid-request finishes it and is destroyed afterwards") {
    sim::cluster a(test::profiles({"cpu"}), {.time_scale = 20}); // ~260 ms a request
    a.start();
    asio::io_context io;
    auto cfg = config_for(a);
    cfg.coalesce = false;
    pool p(io.get_executor(), cfg);
    std::weak_ptr<node> gone = p.at(0).weak_from_this();
    std::vector<float> v;
    bool done = false;
    asio::co_spawn(io, p.embed("hello"), [&](std::exception_ptr e, std::vector<float> r) {
        REQUIRE(!e);
        v = std::move(r);
        done = true;
    });
    REQUIRE(test::eventually(io, [&] { return gone.lock()->http().in_flight() == 1; }));
    CHECK(p.remove_node(a.url(0)));
    CHECK_FALSE(gone.expired()); // in use
    REQUIRE(test::eventually(io, [&] { return done; }));
    CHECK(test::is_rule_vector("all-minilm", "hello", v, 384));
    CHECK(test::eventually(io, [&] { return gone.expired(); })); // the last user let go
}

TEST_CASE("membership: changes in the middle of a 10,000-text batch and a stream of single embeds") {
    // a0..a2 at the start; a0 removed at 20%, b0 added at 40%, a1 removed
    // at 60%, b1 added at 70%.
    sim::cluster a(test::profiles({"gpu", "gpu", "gpu"}), {.time_scale = 0.5});
    sim::cluster b(test::profiles({"gpu", "gpu"}), {.time_scale = 0.5});
    a.start();
    b.start();
    asio::io_context io;
    pool p(io.get_executor(), config_for(a));
    auto removed0 = p.at(0).shared_from_this(); // watched after removal
    auto removed1 = p.at(1).shared_from_this();
    auto texts = corpus(10000);
    single_stream singles{corpus(400, "single ")};
    singles.start(io, p, 8);

    std::size_t step = 0, at_removal_requests = 0, at_removal_in_use = 0;
    auto change = [&](const progress& pr) {
        auto due = [&](double f) { return pr.done >= static_cast<std::size_t>(f * 10000); };
        if (step == 0 && due(0.2)) {
            at_removal_requests = removed0->counters().requests;
            at_removal_in_use = removed0->in_flight(); // holding or waiting for a permit
            REQUIRE(p.remove_node(a.url(0)));
            ++step;
        } else if (step == 1 && due(0.4)) {
            REQUIRE(p.add_node(b.url(0)));
            ++step;
        } else if (step == 2 && due(0.6)) {
            REQUIRE(p.remove_node(a.url(1)));
            ++step;
        } else if (step == 3 && due(0.7)) {
            REQUIRE(p.add_node(b.url(1)));
            ++step;
        }
    };
    batch_report report;
    auto keep = [&](const progress& pr) {
        change(pr);
        report.per_node = pr.per_node;
        report.node_urls = pr.node_urls;
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = keep, .progress_interval = std::chrono::milliseconds(2)}));
    REQUIRE(test::eventually(io, [&] { return singles.lanes_done == 8; }));

    CHECK(step == 4);
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);                 // nothing lost, every row right
    CHECK(sum(report.per_node) == texts.size());      // each row written once
    CHECK(report.node_urls == std::vector<std::string>{a.url(0), a.url(1), a.url(2), b.url(0), b.url(1)});
    CHECK(report.per_node[3] > 0); // the added nodes got work
    CHECK(report.per_node[4] > 0);
    CHECK(singles.answered == singles.texts.size());
    CHECK(singles.failed == 0);
    CHECK(singles.wrong == 0);
    // No new work after removal: only what held a permit then completed.
    CHECK(removed0->counters().requests <= at_removal_requests + at_removal_in_use);
    CHECK(p.node_urls() == std::vector<std::string>{a.url(2), b.url(0), b.url(1)});

    // Once idle, the removed nodes receive nothing more.
    REQUIRE(test::eventually(io, [&] { return removed0->http().in_flight() + removed1->http().in_flight() == 0; }));
    auto before0 = a.counters(0).requests, before1 = a.counters(1).requests;
    auto again = corpus(2000, "again ");
    auto m2 = test::run(io, p.embed_batch(again));
    CHECK(wrong_rows(m2, again) == 0);
    CHECK(a.counters(0).requests == before0);
    CHECK(a.counters(1).requests == before1);
}

TEST_CASE("membership: removing every node but one mid-batch") {
    sim::cluster a(test::profiles({"gpu", "gpu", "gpu"}), {.time_scale = 0.5});
    a.start();
    asio::io_context io;
    pool p(io.get_executor(), config_for(a));
    auto texts = corpus(10000);
    bool removed = false;
    std::vector<std::size_t> per_node;
    auto keep = [&](const progress& pr) {
        if (!removed && pr.done >= 2000) {
            REQUIRE(p.remove_node(a.url(0)));
            REQUIRE(p.remove_node(a.url(2)));
            removed = true;
        }
        per_node = pr.per_node;
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = keep, .progress_interval = std::chrono::milliseconds(2)}));
    CHECK(removed);
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);
    CHECK(sum(per_node) == texts.size());
    CHECK(per_node[1] > texts.size() / 2); // the one left did the rest
    CHECK(p.node_urls() == std::vector<std::string>{a.url(1)});
}

TEST_CASE("membership: a node added while the others fail takes over the batch") {
    sim::cluster a(test::profiles({"zero", "zero"}));
    sim::cluster b(test::profiles({"zero"}));
    a.start();
    b.start();
    a.set_fault(0, {.error_rate = 1.0});
    a.set_fault(1, {.refuse = true});
    asio::io_context io;
    pool p(io.get_executor(), config_for(a));
    auto texts = corpus(3000);
    bool added = false;
    std::vector<std::size_t> per_node;
    auto keep = [&](const progress& pr) {
        if (!added && pr.retries >= 3) added = p.add_node(b.url(0));
        per_node = pr.per_node;
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = keep, .progress_interval = std::chrono::milliseconds(2)}));
    CHECK(added);
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);
    REQUIRE(per_node.size() == 3);
    CHECK(per_node[2] == texts.size());
    CHECK(b.counters(0).inputs >= texts.size());
}

namespace {

struct texts_source : batch_source {
    const std::vector<std::string>& texts;
    std::size_t next = 0;
    explicit texts_source(const std::vector<std::string>& t) : texts(t) {}
    std::size_t read(std::vector<std::string>& out, std::size_t max) override {
        std::size_t n = 0;
        for (; n < max && next < texts.size(); ++n) out.push_back(texts[next++]);
        return n;
    }
};

struct checking_sink : batch_sink {
    const std::vector<std::string>& texts;
    std::size_t rows = 0, wrong = 0, out_of_order = 0;
    explicit checking_sink(const std::vector<std::string>& t) : texts(t) {}
    void write(std::size_t first, const matrix& m) override {
        if (first != rows) ++out_of_order;
        for (std::size_t r = 0; r < m.rows(); ++r)
            if (!test::is_rule_vector("all-minilm", texts[first + r], m[r], 384)) ++wrong;
        rows += m.rows();
    }
};

} // namespace

TEST_CASE("membership: embed_stream picks up added nodes and drops removed ones across windows") {
    sim::cluster a(test::profiles({"gpu", "gpu"}), {.time_scale = 0.5});
    sim::cluster b(test::profiles({"gpu"}), {.time_scale = 0.5});
    a.start();
    b.start();
    asio::io_context io;
    pool p(io.get_executor(), config_for(a));
    auto texts = corpus(6000);
    texts_source source(texts);
    checking_sink sink(texts);
    int step = 0;
    auto change = [&](const progress& pr) {
        if (step == 0 && pr.done >= 1500) { // inside the second window
            REQUIRE(p.add_node(b.url(0)));
            ++step;
        } else if (step == 1 && pr.done >= 3500) {
            REQUIRE(p.remove_node(a.url(0)));
            ++step;
        }
    };
    auto report = test::run(io, p.embed_stream(source, sink, {.window = 1000, .on_progress = change,
                                                              .progress_interval = std::chrono::milliseconds(2)}));
    CHECK(step == 2);
    CHECK(!report.fail);
    CHECK(sink.rows == texts.size());
    CHECK(sink.wrong == 0);
    CHECK(sink.out_of_order == 0);
    CHECK(sum(report.per_node) == texts.size());
    CHECK(report.node_urls == std::vector<std::string>{a.url(0), a.url(1), b.url(0)});
    CHECK(report.per_node[2] > 0);
}
