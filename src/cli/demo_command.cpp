// herd demo: a simulated cluster shaped like a typical user's (one GPU-like
// node, two CPU-like nodes 5x slower, one of which fails for a while), the
// shipped sample corpus, and the report.
#include "cli/commands.hpp"
#include "cli/corpus_io.hpp"
#include "cli/progress_view.hpp"

#include <herd/herd.hpp>
#include <herd/sim/embedding_rule.hpp>

#include "baseline/plain_client.hpp"
#include "sim/cluster.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace herd::cli {
namespace {

constexpr const char* demo_model = "all-minilm";
constexpr std::size_t demo_dim = 384;

std::string find_corpus(const args& a) {
    if (auto c = a.get("corpus")) return *c;
    const char* env = std::getenv("HERD_DATA_DIR");
    for (const char* dir : {env, "data", "../data", "../../data"})
        if (dir && std::filesystem::exists(std::string(dir) + "/sample_corpus.jsonl"))
            return std::string(dir) + "/sample_corpus.jsonl";
    throw std::invalid_argument("sample corpus not found: pass --corpus FILE (the repo ships data/sample_corpus.jsonl)");
}

std::vector<std::string> load_texts(const std::string& path, std::size_t limit) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("cannot read " + path);
    done_index none;
    corpus_reader reader(in, input_format::automatic, "id", "text", none);
    std::vector<std::string> texts;
    reader.read(texts, limit);
    return texts;
}

pool_config demo_config(std::vector<std::string> nodes) {
    pool_config c;
    c.nodes = std::move(nodes);
    c.model = demo_model;
    c.health.base_ejection = std::chrono::milliseconds(200);
    c.health.probe_interval = std::chrono::milliseconds(100);
    return c;
}

// What each node can do, measured by a plain saturating client (not herd)
// over texts like the corpus's: the cluster's ideal capacity is their sum.
std::vector<baseline::node_capacity> capacities(sim::cluster& c, const std::vector<std::string>& sample) {
    baseline::sweep_options sweep;
    sweep.point_time = std::chrono::duration<double>(0.5);
    sweep.confirm_time = std::chrono::duration<double>(2.0);
    return baseline::measure_capacity(c.urls(), demo_model, sample, sweep);
}

} // namespace

int demo_command(const args& a) {
    a.allow_only({"corpus", "texts", "time-scale"});
    auto texts = load_texts(find_corpus(a), a.number_or("texts", 1'000'000));
    sim::cluster cluster({sim::profile("gpu"), sim::profile("cpu"), sim::profile("cpu")},
                         {.time_scale = a.real_or("time-scale", 1.0)});
    cluster.start();
    const char* kinds[] = {"gpu (fast)", "cpu (5x slower)", "cpu (5x slower, fails mid-run)"};
    fmt::print("herd demo: {} texts, model {}, simulated nodes:\n", texts.size(), demo_model);
    for (std::size_t i = 0; i < cluster.size(); ++i) fmt::print("  {}  {}\n", cluster.url(i), kinds[i]);

    // Calibrate on texts like the corpus's (their length sets the cost).
    std::vector<std::string> sample(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(texts.size(), 300)));
    for (auto& s : sample) s += " (calibration)";
    fmt::print("measuring each node's capacity with a plain saturating client (batches 8-64, 1-4 in flight)...\n");
    auto caps = capacities(cluster, sample);
    double ideal = 0;
    for (auto& c : caps) ideal += c.best.rate();

    // Node 2 dies after a few requests and comes back a second later.
    cluster.set_fault(2, {.die_after = 4, .come_back_after = std::chrono::duration<double>(1.0)});
    asio::io_context io;
    pool p(io.get_executor(), demo_config(cluster.urls()));
    std::vector<std::string> names{"gpu", "cpu", "cpu"};
    progress_view view(stderr, texts.size(), names);
    auto show = [&](const progress& pr) { view.update(pr); };
    matrix m;
    std::exception_ptr failed;
    progress last;
    auto keep = [&](const progress& pr) {
        last = pr;
        show(pr);
    };
    auto started = clock::now();
    asio::co_spawn(io, p.embed_batch(texts, {.on_progress = keep}), [&](std::exception_ptr e, matrix r) {
        failed = e;
        m = std::move(r);
        io.stop();
    });
    io.run();
    double secs = seconds(clock::now() - started);
    view.finish();
    if (failed) std::rethrow_exception(failed);

    // Checked from the vectors alone, not herd's counters: a row never
    // written is still all zeros (the rule's vectors are unit length),
    // any other row must be the simulator's vector for its own text.
    std::size_t lost = texts.size() - std::min(texts.size(), m.rows()), wrong = 0;
    for (std::size_t i = 0; i < m.rows() && i < texts.size(); ++i) {
        auto row = m[i];
        if (std::all_of(row.begin(), row.end(), [](float x) { return x == 0.0f; })) ++lost;
        else if (!sim::matches_rule(demo_model, texts[i], row.data(), m.dim(), demo_dim)) ++wrong;
    }
    double rate = static_cast<double>(texts.size()) / secs;
    auto s = p.stats();
    fmt::print("\nreport\n");
    fmt::print("  texts            {}\n", texts.size());
    fmt::print("  seconds          {:.2f}\n", secs);
    fmt::print("  embeddings/s     {:.0f}\n", rate);
    fmt::print("  ideal capacity   {:.0f}/s (sum of each node's best rate for a plain client: {:.0f} + {:.0f} + {:.0f})\n",
               ideal, caps[0].best.rate(), caps[1].best.rate(), caps[2].best.rate());
    fmt::print("  efficiency       {:.0f}% (node 3 was down for a second of the run)\n", 100 * rate / ideal);
    for (std::size_t i = 0; i < last.per_node.size(); ++i)
        fmt::print("  node {} {:<4}     {:5.1f}% of texts, {} failures\n", i + 1, names[i],
                   100.0 * static_cast<double>(last.per_node[i]) / static_cast<double>(texts.size()),
                   s.nodes[i].failures);
    fmt::print("  retries          {}\n", last.retries);
    fmt::print("  backup tasks     {}\n", last.backups);
    fmt::print("  lost             {}\n", lost);
    fmt::print("  wrong vectors    {}\n", wrong);
    return lost == 0 && wrong == 0 ? 0 : 1;
}

} // namespace herd::cli
