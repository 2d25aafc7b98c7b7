// The herd command-line tool, run as a process against herd-sim.
#include "cli/corpus_io.hpp"
#include "support/process.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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

TEST_CASE("herd embed --discover file: finds the nodes, one per server, and says so") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    scratch tmp;
    write_corpus(tmp / "in.jsonl", 50);
    std::ofstream(tmp / "nodes") << "# two nodes, the first spelt twice\n" << cluster.url(0) << "\nlocalhost:"
                                 << cluster.port(0) << "\n" << cluster.url(1) << "\n";
    auto code = start({"embed", "--discover", "file:" + (tmp / "nodes"), "--model", "all-minilm", "--output",
                       tmp / "out.jsonl", tmp / "in.jsonl"},
                      tmp / "err")
                    .wait();
    CHECK(code == 0);
    CHECK(lines_in(tmp / "out.jsonl") == 50);
    auto err = slurp(tmp / "err");
    CHECK_THAT(err, Catch::Contains("herd: discovery: added " + cluster.url(0) + "\n"));
    CHECK_THAT(err, Catch::Contains("herd: discovery: added " + cluster.url(1) + "\n"));
    CHECK_THAT(err, !Catch::Contains("localhost"));
    CHECK(cluster.counters(0).inputs + cluster.counters(1).inputs >= 50);

    CHECK(start({"embed", "--discover", "ldap:x", tmp / "in.jsonl"}, tmp / "e2").wait() == 2);
    CHECK_THAT(slurp(tmp / "e2"), Catch::Contains("expected file:PATH, dns:NAME[:PORT], srv:NAME or scan:CIDR"));
}

TEST_CASE("herd rejects bad usage with exit code 2") {
    scratch tmp;
    CHECK(start({"embed"}, tmp / "e1").wait() == 2);
    CHECK(start({"embed", "--format", "xml", "x"}, tmp / "e2").wait() == 2);
    CHECK_THAT(slurp(tmp / "e2"), Catch::Contains("--format is jsonl or f32"));
    CHECK(start({"frobnicate"}, tmp / "e3").wait() == 2);
}

namespace {

// A first run that leaves a 3-record output made with all-minilm at 8
// dimensions, and the arguments to run again on the same files.
struct made_output {
    sim::cluster cluster{test::profiles({"zero"})};
    scratch tmp;
    std::string out;

    explicit made_output(const char* format = "jsonl")
        : out(tmp / (std::string("out.") + format).c_str()) {
        cluster.start();
        write_corpus(tmp / "in.jsonl", 3);
        REQUIRE(start(args("all-minilm", "8", format), tmp / "err0").wait() == 0);
    }
    std::vector<std::string> args(const char* model, const char* dims, const char* format = "jsonl") {
        return {"embed", "--nodes", cluster.url(0), "--model", model, "--dimensions", dims, "--format", format,
                "--quiet", "--output", out, tmp / "in.jsonl"};
    }
};

} // namespace

TEST_CASE("herd embed records what made its output next to it, outside the JSONL") {
    made_output made;
    CHECK(nlohmann::json::parse(slurp(made.out + ".herd.json")) ==
          nlohmann::json{{"format", "jsonl"}, {"model", "all-minilm"}, {"dimensions", 8}});
    CHECK(lines_in(made.out) == 3);
    CHECK_THAT(slurp(made.out), Catch::StartsWith("{\"id\":\"doc-0\",\"embedding\":["));
    made_output f32("f32");
    CHECK(nlohmann::json::parse(slurp(f32.out + ".json")) ==
          nlohmann::json{{"format", "f32le"}, {"model", "all-minilm"}, {"dimensions", 8}, {"dim", 8}});
    CHECK(fs::file_size(f32.out) == 3 * 8 * sizeof(float));
}

TEST_CASE("herd embed refuses to resume into an output made with another model or dimensions") {
    auto format = GENERATE("jsonl", "f32");
    INFO(format);
    made_output made(format);
    auto before = slurp(made.out);

    CHECK(start(made.args("nomic-embed-text", "8", format), made.tmp / "err1").wait() == 2);
    auto err = slurp(made.tmp / "err1");
    CHECK_THAT(err, Catch::Contains("was made with --model all-minilm, this run asks for --model nomic-embed-text"));

    CHECK(start(made.args("all-minilm", "16", format), made.tmp / "err2").wait() == 2);
    CHECK_THAT(slurp(made.tmp / "err2"),
               Catch::Contains("made with --dimensions 8, this run asks for --dimensions 16"));

    CHECK(start(made.args("all-minilm", "0", format), made.tmp / "err3").wait() == 2);
    CHECK_THAT(slurp(made.tmp / "err3"),
               Catch::Contains("this run asks for no --dimensions (the model's own length)"));

    CHECK(slurp(made.out) == before); // untouched
    CHECK(start(made.args("all-minilm", "8", format), made.tmp / "err4").wait() == 0); // same: resumes
    CHECK(slurp(made.out) == before);
    CHECK_THAT(slurp(made.tmp / "err4"), Catch::Contains("skipped 3 already in"));
}

TEST_CASE("herd embed rejects a corrupt or invalid sidecar with exit code 2") {
    auto [format, sidecar, content, message] = GENERATE(table<const char*, const char*, const char*, const char*>({
        {"jsonl", ".herd.json", "{\"format\": \"jsonl\", \"mod", "not a JSON object"},
        {"jsonl", ".herd.json", "{\"format\":\"jsonl\",\"dimensions\":8}", "no \"model\" name"},
        {"jsonl", ".herd.json", "{\"format\":\"jsonl\",\"model\":\"all-minilm\",\"dimensions\":\"8\"}",
         "no \"dimensions\" count"},
        {"f32", ".json", "{\"format\":\"f32le\",\"model\":\"all-minilm\",\"dimensions\":8,\"dim\":0}",
         "\"dim\" is 0, not a row length"},
        {"f32", ".json", "{\"format\":\"f32le\",\"model\":\"all-minilm\",\"dimensions\":8,\"dim\":-8}",
         "\"dim\" is -8, not a row length"},
        {"f32", ".json", "{\"format\":\"f32le\",\"model\":\"all-minilm\",\"dimensions\":8}", "no \"dim\" but"},
        {"f32", ".json", "[1,2]", "not a JSON object"},
    }));
    INFO(format << " " << content);
    made_output made(format);
    auto before = slurp(made.out);
    {
        std::ofstream s(made.out + sidecar, std::ios::trunc);
        s << content;
    }
    CHECK(start(made.args("all-minilm", "8", format), made.tmp / "err").wait() == 2);
    auto err = slurp(made.tmp / "err");
    CHECK_THAT(err, Catch::Contains(made.out + sidecar));
    CHECK_THAT(err, Catch::Contains(message));
    CHECK(slurp(made.out) == before);
}

TEST_CASE("herd embed will not take over an output it cannot vouch for") {
    made_output made;
    fs::remove(made.out + ".herd.json");
    CHECK(start(made.args("all-minilm", "8"), made.tmp / "err1").wait() == 2);
    CHECK_THAT(slurp(made.tmp / "err1"), Catch::Contains("has no " + made.out + ".herd.json"));
    // An output of the other format is named as such.
    made_output f32("f32");
    CHECK(start(f32.args("all-minilm", "8", "jsonl"), f32.tmp / "err2").wait() == 2);
    CHECK_THAT(slurp(f32.tmp / "err2"), Catch::Contains("was written with --format f32, not jsonl"));
}

TEST_CASE("herd embed rejects --batch 0 and --window 0 as bad usage") {
    scratch tmp;
    write_corpus(tmp / "in.jsonl", 1);
    CHECK(start({"embed", "--nodes", "127.0.0.1:9", "--batch", "0", tmp / "in.jsonl"}, tmp / "e1").wait() == 2);
    CHECK_THAT(slurp(tmp / "e1"), Catch::Contains("--batch takes a number from 1"));
    CHECK(start({"embed", "--nodes", "127.0.0.1:9", "--window", "0", tmp / "in.jsonl"}, tmp / "e2").wait() == 2);
    CHECK_THAT(slurp(tmp / "e2"), Catch::Contains("--window takes a number from 1"));
}

namespace {

herd::matrix rows_of(std::initializer_list<float> firsts, std::size_t dim = 2) {
    herd::matrix m(firsts.size(), dim);
    std::size_t r = 0;
    for (float f : firsts) m.row(r++)[0] = f;
    return m;
}

} // namespace

TEST_CASE("embedding_writer puts each row at its input's index, whatever order rows come in") {
    scratch tmp;
    std::istringstream in("{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"x\"}\n"
                          "{\"id\":\"c\",\"text\":\"x\"}\n{\"id\":\"d\",\"text\":\"x\"}\n");
    cli::done_index none;
    cli::corpus_reader reader(in, cli::input_format::automatic, "id", "text", none);
    std::vector<std::string> texts;
    REQUIRE(reader.read(texts, 10) == 4);
    auto out = tmp / "out.jsonl";
    {
        cli::embedding_writer w(out, {.format = cli::output_format::jsonl, .model = "m"}, reader, true);
        w.write(2, rows_of({3, 4})); // ahead of a gap: held
        CHECK(w.written() == 0);
        CHECK(slurp(out).empty());
        w.write(0, rows_of({1, 2})); // fills the gap: all four go out in order
        CHECK(w.written() == 4);
        CHECK_THROWS_AS(w.write(1, rows_of({9})), std::logic_error); // input 1 again
    }
    CHECK(slurp(out) == "{\"id\":\"a\",\"embedding\":[1,0]}\n{\"id\":\"b\",\"embedding\":[2,0]}\n"
                        "{\"id\":\"c\",\"embedding\":[3,0]}\n{\"id\":\"d\",\"embedding\":[4,0]}\n");
    CHECK_THROWS_AS(reader.id(0), std::out_of_range); // released once written
}

TEST_CASE("embedding_writer refuses f32 rows of another length than the file holds") {
    scratch tmp;
    std::istringstream in("one\ntwo\n");
    cli::done_index none;
    cli::corpus_reader reader(in, cli::input_format::lines, "id", "text", none);
    std::vector<std::string> texts;
    REQUIRE(reader.read(texts, 10) == 2);
    auto out = tmp / "out.f32";
    cli::embedding_writer w(out, {.format = cli::output_format::f32, .model = "m"}, reader, true);
    w.write(0, rows_of({1}, 2));
    CHECK(nlohmann::json::parse(slurp(out + ".json"))["dim"] == 2);
    CHECK_THROWS_WITH(w.write(1, rows_of({2}, 3)), Catch::Contains("holds rows of 2 floats, the nodes now return 3"));
    CHECK(fs::file_size(out) == 2 * sizeof(float));
    CHECK(slurp(out + ".ids") == "0\n");
}
