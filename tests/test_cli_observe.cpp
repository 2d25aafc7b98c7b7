// The herd tool's observability, run as a process against herd-sim:
// `herd status` and `herd embed --log-format json`.
#include "support/process.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace herd;
using test::slurp;

namespace {

// The line of `text` that contains `needle` (empty when none).
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) return line;
    return {};
}

} // namespace

TEST_CASE("herd status: one line per node, the dead one marked, exit 1 only when none is usable") {
    sim::cluster cluster(test::profiles({"gpu", "cpu", "zero"}));
    cluster.start();
    cluster.set_fault(2, {.refuse = true});
    test::scratch tmp("herd-status-test-");
    auto nodes = cluster.url(0) + "," + cluster.url(1) + "," + cluster.url(2);
    auto code = test::start(HERD_CLI_EXE, {"status", "--nodes", nodes, "--timeout", "2"}, tmp / "err", tmp / "out")
                    .wait();
    auto out = slurp(tmp / "out");
    INFO(out << slurp(tmp / "err"));
    CHECK(code == 0);
    CHECK(line_with(out, "NODE").find("REACHABLE") != std::string::npos);
    auto gpu = line_with(out, cluster.url(0)), cpu = line_with(out, cluster.url(1)),
         dead = line_with(out, cluster.url(2));
    CHECK_THAT(gpu, Catch::Contains(" yes ") && Catch::Contains("0.5.7") && Catch::Contains(" ms ") &&
                        Catch::Contains("all-minilm (loaded, 100% VRAM)"));
    CHECK_THAT(cpu, Catch::Contains(" yes ") && Catch::Contains("(loaded, 0% VRAM)"));
    CHECK_THAT(dead, Catch::Contains(" no ") && Catch::Contains("could not connect"));
    CHECK_THAT(out, Catch::Contains("2 of 3 nodes usable"));

    code = test::start(HERD_CLI_EXE, {"status", "--nodes", cluster.url(2), "--timeout", "2"}, tmp / "err", tmp / "out")
               .wait();
    CHECK(code == 1);
    CHECK_THAT(slurp(tmp / "out"), Catch::Contains("0 of 1 nodes usable"));

    // An OpenAI-compatible node: probed with /v1/models, its models listed, none as loaded.
    code = test::start(HERD_CLI_EXE, {"status", "--nodes", "openai+" + cluster.url(0), "--timeout", "2"}, tmp / "err",
                       tmp / "out")
               .wait();
    CHECK(code == 0);
    auto openai = line_with(slurp(tmp / "out"), "openai+" + cluster.url(0));
    CHECK_THAT(openai, Catch::Contains(" yes ") && Catch::Contains(" openai ") && Catch::Contains("all-minilm") &&
                           !Catch::Contains("loaded"));
}

TEST_CASE("herd embed --log-format json writes the pool's events as JSON lines to --log-file") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    cluster.set_fault(1, {.refuse = true});
    test::scratch tmp("herd-log-test-");
    {
        std::ofstream in(tmp / "in.txt");
        for (int i = 0; i < 300; ++i) in << test::text_for(static_cast<std::size_t>(i)) << '\n';
    }
    auto code = test::start(HERD_CLI_EXE,
                            {"embed", "--nodes", cluster.url(0) + "," + cluster.url(1), "--model", "all-minilm",
                             "--quiet", "--batch", "8", "--log-format", "json", "--log-file", tmp / "events.jsonl",
                             "--output", tmp / "out.jsonl", tmp / "in.txt"},
                            tmp / "err")
                    .wait();
    INFO(slurp(tmp / "err"));
    CHECK(code == 0);
    std::ifstream log(tmp / "events.jsonl");
    std::size_t lines = 0, ejected = 0, given_back = 0;
    for (std::string line; std::getline(log, line); ++lines) {
        auto j = nlohmann::json::parse(line); // throws on a line that is not JSON
        REQUIRE(j.contains("time"));
        if (j["event"] == "node_ejected" && j["node"] == cluster.url(1)) ++ejected;
        if (j["event"] == "batch_given_back") {
            ++given_back;
            CHECK(j["request_id"] == 1); // the corpus is one call
        }
    }
    CHECK(lines > 0);
    CHECK(ejected >= 1);
    CHECK(given_back >= 1);
}
