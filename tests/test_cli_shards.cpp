// herd embed --shard i/n and herd merge, run as processes against herd-sim.
#include "cli/corpus_io.hpp"
#include "support/process.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace herd;
using test::slurp;

namespace {

int run(std::vector<std::string> args, const std::string& err_file) {
    return test::start(HERD_CLI_EXE, std::move(args), err_file).wait();
}

struct scratch : test::scratch {
    scratch() : test::scratch("herd-shard-test-") {}
};

} // namespace

TEST_CASE("shard_lines: contiguous slices covering every line once, sizes within one") {
    for (std::size_t lines : {0u, 1u, 7u, 100u, 1001u}) {
        for (std::size_t n : {1u, 3u, 8u}) {
            std::size_t next = 0, smallest = lines, largest = 0;
            for (std::size_t i = 0; i < n; ++i) {
                auto r = cli::shard_lines(lines, i, n);
                CHECK(r.first == next);
                next = r.end;
                smallest = std::min(smallest, r.end - r.first);
                largest = std::max(largest, r.end - r.first);
            }
            CHECK(next == lines);
            CHECK(largest - smallest <= 1);
        }
    }
}

TEST_CASE("herd merge of every shard's output is byte-identical to one herd embed run") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    scratch tmp;
    {
        // Plain lines (ids are line numbers of the whole file), a blank line,
        // and no '\n' after the last line.
        std::ofstream in(tmp / "in.txt");
        for (int i = 0; i < 301; ++i) in << (i == 150 ? std::string() : test::text_for(static_cast<std::size_t>(i))) << (i < 300 ? "\n" : "");
    }
    auto nodes = cluster.url(0) + "," + cluster.url(1);
    for (std::string format : {"jsonl", "f32"}) {
        INFO(format);
        std::vector<std::string> common{"embed", "--nodes", nodes, "--model", "all-minilm", "--dimensions", "8",
                                        "--quiet", "--format", format};
        auto whole = tmp / ("whole." + format);
        auto args = common;
        args.insert(args.end(), {"--output", whole, tmp / "in.txt"});
        REQUIRE(run(args, tmp / "err") == 0);
        std::vector<std::string> merge{"merge", "--format", format, "--output", tmp / ("merged." + format)};
        for (int i = 0; i < 4; ++i) {
            auto shard = tmp / ("shard" + std::to_string(i) + "." + format);
            args = common;
            args.insert(args.end(), {"--shard", std::to_string(i) + "/4", "--output", shard, tmp / "in.txt"});
            REQUIRE(run(args, tmp / "err") == 0);
            merge.push_back(shard);
        }
        REQUIRE(run(merge, tmp / "err") == 0);
        auto merged = tmp / ("merged." + format);
        CHECK(slurp(merged) == slurp(whole));
        if (format == "f32") {
            CHECK(slurp(merged + ".ids") == slurp(whole + ".ids"));
            CHECK(slurp(merged + ".json") == slurp(whole + ".json"));
        } else {
            CHECK(slurp(merged + ".herd.json") == slurp(whole + ".herd.json"));
        }
    }
}

TEST_CASE("herd merge refuses shards of another model, torn shards and missing ones; --shard checks its value") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    scratch tmp;
    {
        std::ofstream in(tmp / "in.txt");
        for (int i = 0; i < 20; ++i) in << test::text_for(static_cast<std::size_t>(i)) << "\n";
    }
    auto shard = [&](const std::string& model, int i, const std::string& out) {
        return run({"embed", "--nodes", cluster.url(0), "--model", model, "--quiet", "--shard",
                    std::to_string(i) + "/2", "--output", out, tmp / "in.txt"},
                   tmp / "err");
    };
    REQUIRE(shard("all-minilm", 0, tmp / "a.jsonl") == 0);
    REQUIRE(shard("nomic-embed-text", 1, tmp / "b.jsonl") == 0);
    CHECK(run({"merge", "--output", tmp / "m.jsonl", tmp / "a.jsonl", tmp / "b.jsonl"}, tmp / "err") == 2);
    CHECK_THAT(slurp(tmp / "err"), Catch::Contains("--model all-minilm"));

    REQUIRE(shard("all-minilm", 1, tmp / "c.jsonl") == 0);
    {
        std::ofstream torn(tmp / "c.jsonl", std::ios::app);
        torn << "{\"id\":19,\"embedding\":[0.1,";
    }
    CHECK(run({"merge", "--output", tmp / "m.jsonl", tmp / "a.jsonl", tmp / "c.jsonl"}, tmp / "err") == 2);
    CHECK_THAT(slurp(tmp / "err"), Catch::Contains("torn record"));
    CHECK(run({"merge", "--output", tmp / "m.jsonl", tmp / "a.jsonl", tmp / "none.jsonl"}, tmp / "err") == 2);
    CHECK_THAT(slurp(tmp / "err"), Catch::Contains("not a herd embed output"));

    for (std::string bad : {"2/2", "1", "a/2", "0/0", "1/2x"}) {
        INFO(bad);
        CHECK(run({"embed", "--nodes", cluster.url(0), "--shard", bad, "--output", tmp / "x.jsonl", tmp / "in.txt"},
                  tmp / "err") == 2);
        CHECK_THAT(slurp(tmp / "err"), Catch::Contains("--shard is i/n"));
    }
    CHECK(run({"embed", "--nodes", cluster.url(0), "--shard", "0/2", "-"}, tmp / "err") == 2);
    CHECK_THAT(slurp(tmp / "err"), Catch::Contains("--shard needs INPUT to be a file"));
}
