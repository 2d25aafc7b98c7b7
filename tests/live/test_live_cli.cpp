// The herd tool (`herd embed`) against real Ollama servers: every row of a
// corpus, in order, once, even when a node dies mid-corpus.
#include "live/reference.hpp"
#include "live/tcp_proxy.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>

using namespace herd;

namespace {

constexpr auto limit = std::chrono::seconds(600); // see test_live_embed.cpp

struct scratch : test::scratch {
    scratch() : test::scratch("herd-live-cli-") {}
};

void write_corpus(const std::string& path, const std::vector<std::string>& texts) {
    std::ofstream out(path);
    for (std::size_t i = 0; i < texts.size(); ++i)
        out << nlohmann::json{{"id", "doc-" + std::to_string(i)}, {"text", texts[i]}}.dump() << '\n';
}

// The output file's rows: ids and vectors, in file order.
struct rows {
    std::vector<std::string> ids;
    std::vector<std::vector<float>> vectors;
};

rows read_output(const std::string& path) {
    rows r;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        r.ids.push_back(j.at("id"));
        r.vectors.push_back(j.at("embedding").get<std::vector<float>>());
    }
    return r;
}

// Every id once, in input order, each row its own text's vector.
void check_every_row(const rows& out, const std::vector<std::vector<float>>& refs) {
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < refs.size(); ++i) expected.push_back("doc-" + std::to_string(i));
    CHECK(out.ids.size() == refs.size());
    CHECK(std::set<std::string>(out.ids.begin(), out.ids.end()).size() == out.ids.size()); // no duplicate
    CHECK(out.ids == expected);
    auto m = live::match_rows(
        out.vectors.size(), [&](std::size_t i) { return std::span<const float>(out.vectors[i]); }, refs);
    INFO(m.first_mismatch);
    CHECK(m.matched == refs.size());
}

std::string node_list(const std::vector<std::string>& urls) {
    std::string s;
    for (const auto& u : urls) s += (s.empty() ? "" : ",") + u;
    return s;
}

} // namespace

TEST_CASE("live: herd embed writes every row of a corpus in order", "[live]") {
    auto texts = live::corpus(40);
    auto refs = live::references(texts);
    scratch tmp;
    write_corpus(tmp / "in.jsonl", texts);
    auto code = test::start(HERD_CLI_EXE,
                            {"embed", "--nodes", node_list(live::nodes()), "--model", live::embed_model(), "--quiet",
                             "--output", tmp / "out.jsonl", tmp / "in.jsonl"},
                            tmp / "err")
                    .wait(limit);
    INFO(test::slurp(tmp / "err"));
    REQUIRE(code == 0);
    check_every_row(read_output(tmp / "out.jsonl"), refs);
    CHECK_THAT(test::slurp(tmp / "err"), Catch::Contains("herd: embedded 40 texts"));
}

TEST_CASE("live: herd embed loses and duplicates no row when a node dies mid-corpus", "[live]") {
    auto texts = live::corpus(100);
    auto refs = live::references(texts);
    scratch tmp;
    write_corpus(tmp / "in.jsonl", texts);
    // The first node sits behind a proxy that dies after ~14 vectors, in the
    // middle of an answer of up to 8 (--batch 8).
    live::tcp_proxy proxy(live::loopback_port(live::nodes()[0]), 60'000);
    auto urls = live::nodes();
    urls[0] = proxy.url();
    auto code = test::start(HERD_CLI_EXE,
                            {"embed", "--nodes", node_list(urls), "--model", live::embed_model(), "--batch", "8",
                             "--quiet", "--output", tmp / "out.jsonl", tmp / "in.jsonl"},
                            tmp / "err")
                    .wait(limit);
    INFO(test::slurp(tmp / "err"));
    REQUIRE(code == 0);
    CHECK(proxy.dead());
    CHECK(proxy.bytes_back() == 60'000);
    check_every_row(read_output(tmp / "out.jsonl"), refs);
}
