// The herd command-line tool, run as a process against herd-sim.
#include "support/process.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace herd;
using test::lines_in;
using test::slurp;

namespace {

// Runs the herd tool with `args`, stderr to `err_file`.
test::process start(std::vector<std::string> args, const std::string& err_file) {
    return test::start(HERD_CLI_EXE, std::move(args), err_file);
}

struct scratch : test::scratch {
    scratch() : test::scratch("herd-cli-test-") {}
};

void write_corpus(const std::string& path, std::size_t n) {
    std::ofstream out(path);
    for (std::size_t i = 0; i < n; ++i) out << "{\"id\": \"doc-" << i << "\", \"text\": \"" << test::text_for(i) << "\"}\n";
}

} // namespace

TEST_CASE("herd embed resumes a killed run and ends with the same output as an uninterrupted one") {
    auto slow = sim::profile("cpu"); // slow enough to be killed mid-run
    sim::cluster cluster({slow, slow});
    cluster.start();
    scratch tmp;
    write_corpus(tmp / "in.jsonl", 600);
    auto nodes = cluster.url(0) + "," + cluster.url(1);
    std::vector<std::string> common{"embed", "--nodes", nodes, "--model", "all-minilm", "--dimensions", "8",
                                    "--window", "64", "--batch", "16", "--quiet", tmp / "in.jsonl"};

    auto whole_args = common;
    whole_args.insert(whole_args.end(), {"--output", tmp / "whole.jsonl"});
    REQUIRE(start(whole_args, tmp / "err0").wait() == 0);
    REQUIRE(lines_in(tmp / "whole.jsonl") == 600);

    auto resumed_args = common;
    resumed_args.insert(resumed_args.end(), {"--output", tmp / "resumed.jsonl"});
    auto first = start(resumed_args, tmp / "err1");
    auto deadline = clock::now() + std::chrono::seconds(30);
    while (lines_in(tmp / "resumed.jsonl") < 100 && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5)); // polling a file, not synchronising logic
    kill(first.pid, SIGKILL);
    waitpid(first.pid, nullptr, 0);
    auto partial = lines_in(tmp / "resumed.jsonl");
    REQUIRE(partial >= 100);
    REQUIRE(partial < 600); // really killed mid-run

    REQUIRE(start(resumed_args, tmp / "err2").wait() == 0);
    CHECK(slurp(tmp / "resumed.jsonl") == slurp(tmp / "whole.jsonl"));
    CHECK_THAT(slurp(tmp / "err2"), Catch::Contains("skipped"));
    // Nothing recomputed: inputs embedded across both runs <= 600 + what the kill lost in flight.
}

TEST_CASE("herd embed reports malformed lines with their numbers and embeds the rest") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    scratch tmp;
    {
        std::ofstream in(tmp / "in.jsonl");
        in << "{\"id\": 1, \"text\": \"fine\"}\n"
           << "{\"id\": 2, \"text\": \n"            // line 2: broken JSON
           << "{\"id\": 3}\n"                       // line 3: no text
           << "\n"
           << "{\"id\": 5, \"text\": \"also fine\"}\n";
    }
    auto code = start({"embed", "--nodes", cluster.url(0), "--model", "all-minilm", "--quiet", "--output",
                       tmp / "out.jsonl", tmp / "in.jsonl"},
                      tmp / "err")
                    .wait();
    CHECK(code == 2);
    auto err = slurp(tmp / "err");
    CHECK_THAT(err, Catch::Contains("input line 2: not valid JSON"));
    CHECK_THAT(err, Catch::Contains("input line 3: no \"text\" field"));
    CHECK(lines_in(tmp / "out.jsonl") == 2);
    CHECK_THAT(slurp(tmp / "out.jsonl"), Catch::StartsWith("{\"id\":1,\"embedding\":["));
}

TEST_CASE("herd embed writes an f32 matrix with an id index, plain lines numbered from 0") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    scratch tmp;
    {
        std::ofstream in(tmp / "in.txt");
        in << "first text\nsecond text\nthird text\n";
    }
    REQUIRE(start({"embed", "--nodes", cluster.url(0), "--model", "all-minilm", "--quiet", "--format", "f32",
                   "--output", tmp / "out.f32", tmp / "in.txt"},
                  tmp / "err")
                .wait() == 0);
    CHECK(fs::file_size(tmp / "out.f32") == 3 * 384 * sizeof(float));
    CHECK(slurp(tmp / "out.f32.ids") == "0\n1\n2\n");
    auto raw = slurp(tmp / "out.f32");
    std::vector<float> row(384);
    std::memcpy(row.data(), raw.data() + 384 * sizeof(float), 384 * sizeof(float));
    CHECK(test::is_rule_vector("all-minilm", "second text", row, 384));
}

TEST_CASE("herd embed exits non-zero with a clear message when every node is down") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    cluster.set_fault(0, {.refuse = true});
    scratch tmp;
    write_corpus(tmp / "in.jsonl", 5);
    auto code = start({"embed", "--nodes", cluster.url(0), "--model", "all-minilm", "--quiet", "--give-up", "1",
                       "--output", tmp / "out.jsonl", tmp / "in.jsonl"},
                      tmp / "err")
                    .wait();
    CHECK(code == 1);
    auto err = slurp(tmp / "err");
    CHECK_THAT(err, Catch::Contains("every node failed"));
    CHECK_THAT(err, Catch::Contains(cluster.url(0)));
    CHECK_THAT(err, Catch::Contains("run the same command again to resume"));
}

TEST_CASE("herd rejects bad usage with exit code 2") {
    scratch tmp;
    CHECK(start({"embed"}, tmp / "e1").wait() == 2);
    CHECK(start({"embed", "--format", "xml", "x"}, tmp / "e2").wait() == 2);
    CHECK_THAT(slurp(tmp / "e2"), Catch::Contains("--format is jsonl or f32"));
    CHECK(start({"frobnicate"}, tmp / "e3").wait() == 2);
}
