// The batch engine against herd-sim.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::corpus;
using herd::test::wrong_rows;

TEST_CASE("embed_batch: every input embedded exactly once into its position") {
    auto n = GENERATE(1, 7, 10000);
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(static_cast<std::size_t>(n));
    std::size_t last_done = 0, backups = 0;
    auto count = [&](const progress& pr) {
        last_done = pr.done;
        backups = pr.backups;
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = count}));
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);
    CHECK(last_done == texts.size()); // the last report is the whole batch
    std::uint64_t inputs = 0;
    for (std::size_t i = 0; i < 3; ++i) inputs += cluster.counters(i).inputs;
    // Computed twice only by backup tasks (each at most one micro-batch).
    CHECK(inputs >= texts.size());
    CHECK(inputs <= texts.size() + backups * 64);
}

TEST_CASE("embed_batch: node failures in the middle lose nothing") {
    sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
    cluster.start();
    cluster.set_fault(0, {.die_after = 20});
    cluster.set_fault(2, {.error_every = 5});
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(10000);
    auto m = test::run(io, p.embed_batch(texts, {.max_batch = 16}));
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);
    CHECK(cluster.counters(1).inputs > 0);
}

TEST_CASE("embed_batch: uses every node of a mixed cluster, fast nodes most") {
    sim::cluster cluster(test::profiles({"gpu", "cpu", "cpu"}), {.time_scale = 0.1});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(3000);
    std::vector<std::size_t> share;
    auto keep = [&](const progress& pr) { share = pr.per_node; };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = keep}));
    CHECK(wrong_rows(m, texts) == 0);
    REQUIRE(share.size() == 3);
    CHECK(share[1] > 0);
    CHECK(share[2] > 0);
    CHECK(share[0] > share[1]);
}

TEST_CASE("embed_batch: a one-at-a-time slow node is kept busy with at most two requests") {
    // An Ollama-like CPU node (one embed slot, 25.7 ms + ~19 ms a text)
    // beside a batch-hungry GPU node. More than one request waiting in the
    // slow node's queue only holds texts the GPU node must take back as
    // backups at the end; herd-sim's queue gauge, read at every progress
    // report, shows how many waited.
    sim::cluster cluster(test::profiles({"gpu-batch", "ollama-cpu"}), {.time_scale = 0.5});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(12000); // about 3 s: the slow node answers some 10 requests
    std::uint64_t most_waiting = 0;
    std::size_t reports = 0;
    auto watch = [&](const progress&) {
        ++reports;
        most_waiting = std::max(most_waiting, cluster.counters(1).queue);
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = watch, .progress_interval = std::chrono::milliseconds(2)}));
    CHECK(wrong_rows(m, texts) == 0);
    CHECK(reports > 20);
    CHECK(most_waiting <= 1);
    std::uint64_t inputs = cluster.counters(0).inputs + cluster.counters(1).inputs;
    CHECK(inputs >= texts.size());
    CHECK(inputs <= texts.size() + texts.size() * 3 / 100); // backups: at most 3% more node work
    CHECK(cluster.counters(1).inputs > 0);
}

TEST_CASE("embed_batch: a node's first answer sizes its next requests") {
    // A GPU-like node (17 ms a request, 0.2 ms a text, one at a time):
    // nothing more is sent before its first small request (4 texts)
    // answers, and that answer already calls for full requests of 64. Sent
    // blind, the next requests had 16 texts each until a fit existed.
    sim::cluster cluster(test::profiles({"gpu-batch"}), {.time_scale = 0.5});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(600);
    // Requests and texts the node has answered, read together (the
    // per-options tally is kept under one lock), at the first progress
    // report after its second answer.
    std::uint64_t requests = 0, inputs = 0;
    auto watch = [&](const progress&) {
        if (requests >= 2) return;
        std::uint64_t r = 0, n = 0;
        for (auto& [options, count] : cluster.counters(0).embed_options) {
            r += count.requests;
            n += count.inputs;
        }
        if (r >= 2) {
            requests = r;
            inputs = n;
        }
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = watch, .progress_interval = std::chrono::milliseconds(1)}));
    CHECK(wrong_rows(m, texts) == 0);
    REQUIRE(requests >= 2);
    CHECK((inputs - 4) / (requests - 1) >= 48); // 64 each (one may be a half-size one); was 16
    CHECK(cluster.counters(0).embed_requests <= 12); // was 14
}

TEST_CASE("embed_batch: all nodes failing fails with the inputs not done and each node's cause") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    cluster.set_fault(0, {.error_rate = 1.0});
    cluster.set_fault(1, {.refuse = true});
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(50);
    try {
        test::run(io, p.embed_batch(texts, {.give_up_after = std::chrono::seconds(1)}));
        FAIL("no error");
    } catch (const herd::error& e) {
        CHECK(e.code() == errc::all_nodes_failed);
        CHECK_THAT(e.what(), Catch::Contains("50 of 50 inputs not embedded: 0 1 2"));
        CHECK(e.causes().size() == 2);
    }
}

TEST_CASE("embed_batch: cancellation stops every worker") {
    sim::cluster cluster(test::profiles({"cpu", "cpu"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    auto texts = corpus(2000);
    asio::cancellation_signal cancel;
    bool aborted = false, finished = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
        try {
            co_await p.embed_batch(texts);
        } catch (const herd::error& e) {
            aborted = e.code() == asio::error::operation_aborted;
        }
        finished = true;
    }, asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    // Run until some requests are out, then cancel.
    auto deadline = clock::now() + std::chrono::seconds(10);
    while (cluster.counters(0).embed_requests + cluster.counters(1).embed_requests < 2 && clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(5));
    cancel.emit(asio::cancellation_type::terminal);
    while (!finished && clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(5));
    REQUIRE(finished);
    CHECK(aborted);
    CHECK(p.at(0).in_flight() == 0); // every permit given back
    CHECK(p.at(1).in_flight() == 0);
    CHECK(p.at(0).limiter().waiting() == 0);
}

namespace {

struct vector_source : batch_source {
    std::vector<std::string> all;
    std::size_t next = 0;
    std::size_t read(std::vector<std::string>& texts, std::size_t max) override {
        std::size_t n = std::min(max, all.size() - next);
        texts.insert(texts.end(), all.begin() + next, all.begin() + next + n);
        next += n;
        return n;
    }
};

struct checking_sink : batch_sink {
    const std::vector<std::string>* texts;
    std::size_t expected_next = 0, wrong = 0, max_rows = 0;
    void write(std::size_t first, const matrix& rows) override {
        if (first != expected_next) ++wrong;
        for (std::size_t r = 0; r < rows.rows(); ++r)
            if (!test::is_rule_vector("all-minilm", (*texts)[first + r], rows[r], 384)) ++wrong;
        expected_next = first + rows.rows();
        max_rows = std::max(max_rows, rows.rows());
    }
};

} // namespace

TEST_CASE("embed_stream: windows in order, memory bounded by the window") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    vector_source source;
    source.all = corpus(2500);
    checking_sink sink;
    sink.texts = &source.all;
    auto report = test::run(io, p.embed_stream(source, sink, {.window = 1000}));
    CHECK_FALSE(report.fail);
    CHECK(report.inputs == 2500);
    CHECK(sink.expected_next == 2500);
    CHECK(sink.wrong == 0);
    CHECK(sink.max_rows == 1000);
}

TEST_CASE("embed_batch: a model no node has fails at once, with the node's text") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    auto texts = corpus(20);
    // Waiting give_up_after (an hour here) would fail the test by its limit.
    batch_options o{.model = "no-such-model", .give_up_after = std::chrono::hours(1)};
    try {
        test::run(io, p.embed_batch(texts, o), std::chrono::seconds(20));
        FAIL("embed_batch of an unknown model succeeded");
    } catch (const herd::error& e) {
        CHECK(e.code() == errc::model_not_found);
        CHECK_THAT(e.what(), Catch::Contains("model \"no-such-model\" not found, try pulling it first"));
    }
}

TEST_CASE("embed_batch: waits for a slow healthy node while another refuses every connection") {
    auto slow = sim::profile("zero");
    slow.request_overhead = std::chrono::milliseconds(300); // each request outlasts give_up_after
    sim::cluster cluster({sim::profile("zero"), slow});
    cluster.start();
    cluster.set_fault(0, {.refuse = true});
    asio::io_context io;
    pool p(io.get_executor(), test::default_config(cluster));
    auto texts = corpus(40);
    auto m = test::run(io, p.embed_batch(texts, {.give_up_after = std::chrono::milliseconds(100)}));
    REQUIRE(m.rows() == texts.size());
    CHECK(wrong_rows(m, texts) == 0);
    CHECK(cluster.counters(1).inputs == texts.size());
}
