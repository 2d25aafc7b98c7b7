// Batch engine and coalescing (issues 6 and 12), in one run:
//
// 1. For each node set (herd-sim profiles, or the live nodes of
//    HERD_BENCH_NODES): each node's capacity as a plain saturating client
//    (baseline/plain_client.hpp, not herd) measures it — the best of batches
//    of 8-64 texts at 2 in flight, then 1-4 in flight at the best batch —
//    all nodes at once; ideal = the sum. Then embed_batch over every node,
//    several runs each on a fresh pool with the default pool_config (cold,
//    as a user starts a job), and `herd embed` (the CLI, --format f32) over
//    the same texts. Prints each rate as % of the ideal, texts per request
//    and the extra node work (inputs the nodes embedded beyond the corpus:
//    backup tasks and retries; herd-sim's own counters when simulated).
//    Targets: >= 95% of the ideal, extra work <= 3%.
// 2. Coalescing: 256 concurrent callers of single-text pool.embed on one
//    node with per-request overhead (gpu profile: 2 ms per request), coalesce
//    on vs off. Target: on >= 3x off.
//
// Texts: "paragraph i " + "lorem ipsum dolor " x (8 + i % 9), 150-300 bytes
// (issue 12's corpus).
//
//   bench_batch [--sets "gpu,cpu,cpu;ollama-cpu,ollama-cpu;gpu-batch,ollama-cpu"] [--texts 2000]
//               [--runs 3] [--point-seconds 2] [--confirm-seconds 10] [--time-scale 1] [--no-cli]
//               [--batches 8,16,32,64] [--depths 1,2,3,4]
//               [--callers 256] [--coalesce-seconds 6]
#include "support/bench_support.hpp"

#include "baseline/plain_client.hpp"

#include <herd/async/task_group.hpp>

#include <fmt/format.h>

#include <fstream>

namespace {

using namespace herd;

std::vector<std::string> paragraphs(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string t = "paragraph " + std::to_string(i) + " ";
        for (std::size_t k = 0; k < 8 + i % 9; ++k) t += "lorem ipsum dolor ";
        out.push_back(std::move(t));
    }
    return out;
}

// Inputs the nodes have embedded so far: herd-sim's counters, else what
// the pool's nodes received (live nodes report nothing of their own).
std::uint64_t node_inputs(const bench::node_set& nodes, const pool_stats* st) {
    std::uint64_t sum = 0;
    if (nodes.sim) {
        for (std::size_t i = 0; i < nodes.sim->size(); ++i) sum += nodes.sim->counters(i).inputs;
    } else if (st) {
        for (auto& n : st->nodes) sum += n.inputs;
    }
    return sum;
}

struct herd_run {
    double seconds = 0;
    std::uint64_t requests = 0, node_inputs = 0;
    std::size_t backups = 0, retries = 0;
    std::string limits; // each node's concurrency limit at the end
    double cpu = 0;     // herd's thread's CPU seconds (not the in-process herd-sim)
};

herd_run embed_all(const bench::node_set& nodes, const std::vector<std::string>& texts) {
    asio::io_context io;
    pool_config cfg;
    cfg.nodes = nodes.urls;
    cfg.model = nodes.model;
    pool p(io.get_executor(), cfg);
    auto before = node_inputs(nodes, nullptr);
    auto cpu0 = bench::thread_cpu_seconds();
    auto t0 = clock::now();
    progress last;
    auto keep = [&](const progress& pr) { last = pr; };
    auto m = bench::run(io, [](pool& pl, std::span<const std::string> t, auto& on) -> awaitable<matrix> {
        co_return co_await pl.embed_batch(t, {.on_progress = on});
    }(p, texts, keep), std::chrono::seconds(600));
    herd_run r;
    r.cpu = bench::thread_cpu_seconds() - cpu0;
    r.backups = last.backups;
    r.retries = last.retries;
    r.seconds = seconds(clock::now() - t0);
    if (m.rows() != texts.size()) throw std::runtime_error("embed_batch returned the wrong number of rows");
    auto st = p.stats();
    r.requests = bench::node_requests(st);
    r.node_inputs = node_inputs(nodes, &st) - before;
    for (std::size_t i = 0; i < st.nodes.size(); ++i)
        r.limits += fmt::format("{}{} ({} cuts)", i ? "/" : "", st.nodes[i].concurrency_limit, p.at(i).limiter().decreases());
    return r;
}

// `herd embed` as a user runs it, over the same texts; wall time of the
// whole process.
double cli_seconds(const bench::node_set& nodes, const std::vector<std::string>& texts) {
    char dir_template[] = "/tmp/herd-bench-cli-XXXXXX";
    if (!mkdtemp(dir_template)) throw std::runtime_error("mkdtemp failed");
    std::string dir = dir_template, in = dir + "/texts.txt", out = dir + "/out.f32";
    {
        std::ofstream f(in);
        for (auto& t : texts) f << t << '\n';
    }
    std::string urls;
    for (auto& u : nodes.urls) urls += (urls.empty() ? "" : ",") + u;
    auto t0 = clock::now();
    auto r = bench::run_child({HERD_CLI_EXE, "embed", "--nodes", urls, "--model", nodes.model, "--format", "f32",
                               "--output", out, in});
    double secs = seconds(clock::now() - t0);
    for (auto f : {in, out, out + ".ids", out + ".json"}) std::remove(f.c_str());
    rmdir(dir.c_str());
    if (r.status != 0) throw std::runtime_error("herd embed failed: " + r.output);
    return secs;
}

std::vector<std::vector<std::string>> parse_sets(const std::string& text) {
    std::vector<std::vector<std::string>> sets;
    std::size_t at = 0;
    while (at <= text.size()) {
        auto semi = std::min(text.find(';', at), text.size());
        std::vector<std::string> set;
        for (auto& name : pool_config::parse_node_list(text.substr(at, semi - at))) set.push_back(name);
        if (!set.empty()) sets.push_back(std::move(set));
        at = semi + 1;
    }
    return sets;
}

void run_set(const std::vector<std::string>& names, const std::vector<std::string>& texts, const bench::options& opt,
             double ts, bool smoke) {
    std::vector<sim::node_profile> profs;
    for (auto& n : names) profs.push_back(sim::profile(n));
    auto nodes = bench::start_nodes(profs, ts);
    std::string label;
    if (nodes.live()) {
        for (auto& u : nodes.urls) label += (label.empty() ? "" : ", ") + u;
    } else {
        for (auto& n : names) label += (label.empty() ? "" : " + ") + n;
        label = "herd-sim " + label + fmt::format(" (time scale {})", ts);
    }
    fmt::print("== {}: {} texts, model {}, load average {:.2f}\n", label, texts.size(), nodes.model,
               bench::load_average());

    baseline::sweep_options sweep;
    sweep.point_time = std::chrono::duration<double>(opt.num("point-seconds", smoke ? 0.2 : 2.0));
    sweep.confirm_time = std::chrono::duration<double>(opt.num("confirm-seconds", smoke ? 0.4 : 10.0));
    sweep.batches = opt.sizes("batches", smoke ? "8,32" : "8,16,32,64");
    sweep.depths = opt.sizes("depths", "1,2,3,4");
    auto caps = baseline::measure_capacity(nodes.urls, nodes.model, texts, sweep);
    double ideal = 0;
    fmt::print("capacity (plain saturating client: sweep, then {} s at the best point):\n",
               sweep.confirm_time.count());
    for (std::size_t i = 0; i < caps.size(); ++i) {
        std::string points;
        for (auto& p : caps[i].sweep) points += fmt::format(" {}x{}:{:.0f}", p.batch, p.depth, p.rate());
        fmt::print("  node {} {:<10} best {:>8.1f} texts/s (batch {}, {} in flight); batch x depth: rate{}\n", i + 1,
                   nodes.live() ? "" : names[i], caps[i].best.rate(), caps[i].best.batch, caps[i].best.depth, points);
        ideal += caps[i].best.rate();
    }
    fmt::print("  ideal = sum = {:.1f} texts/s\n", ideal);

    const std::size_t runs = opt.size("runs", smoke ? 1 : 3);
    std::vector<double> rates;
    double extra_sum = 0, per_request_sum = 0;
    for (std::size_t k = 0; k < runs; ++k) {
        auto r = embed_all(nodes, texts);
        double rate = static_cast<double>(texts.size()) / r.seconds;
        double extra = 100.0 * (static_cast<double>(r.node_inputs) - static_cast<double>(texts.size())) /
                       static_cast<double>(texts.size());
        double per_request = static_cast<double>(texts.size()) / static_cast<double>(std::max<std::uint64_t>(r.requests, 1));
        rates.push_back(rate);
        extra_sum += extra;
        per_request_sum += per_request;
        fmt::print("  embed_batch run {}: {:>8.1f} texts/s = {:5.1f}% of ideal, {:.1f} texts/request, extra node "
                   "work {:+.1f}% ({} backups, {} retries), limits {}, client CPU {:.0f}%\n",
                   k + 1, rate, 100 * rate / ideal, per_request, extra, r.backups, r.retries, r.limits,
                   100 * r.cpu / r.seconds);
    }
    double med = bench::median(rates);
    fmt::print("  embed_batch median {:.1f} texts/s = {:.1f}% of ideal (target >= 95%), mean extra node work "
               "{:+.1f}% (target <= 3%), {:.1f} texts/request\n",
               med, 100 * med / ideal, extra_sum / static_cast<double>(runs), per_request_sum / static_cast<double>(runs));
    if (!opt.flag("no-cli")) {
        double secs = cli_seconds(nodes, texts);
        double rate = static_cast<double>(texts.size()) / secs;
        fmt::print("  herd embed (CLI, f32): {:.1f} texts/s = {:.1f}% of ideal\n", rate, 100 * rate / ideal);
    }
    fmt::print("\n");
}

// What a node can do at best: batches of 64 texts of `bytes` bytes each,
// with the profile's expected tail (tail_fraction of requests take
// tail_multiplier times as long).
double profile_capacity(const sim::node_profile& p, std::size_t bytes, double time_scale) {
    double per_batch = std::chrono::duration<double>(p.request_overhead).count() +
                       64 * (std::chrono::duration<double>(p.per_input_cost).count() +
                             static_cast<double>(bytes) * std::chrono::duration<double>(p.per_char_cost).count());
    double tail = 1 + p.tail_fraction * (p.tail_multiplier - 1);
    return 64 / (per_batch * tail * time_scale);
}

double coalesce_rate(const std::string& url, bool coalesce, std::size_t callers, double secs,
                     const std::vector<std::string>& texts, double* requests_per_embed, std::size_t* final_limit) {
    asio::io_context io;
    pool p(io.get_executor(), bench::bench_config({url}, "mxbai-embed-large", coalesce));
    auto call = [&](std::size_t i) -> awaitable<bench::call_result> {
        auto v = co_await p.embed(texts[i % texts.size()]);
        co_return bench::call_result{1, v.size()};
    };
    bench::require_clean(bench::run(io, bench::drive(callers, callers, std::chrono::seconds(30), call, false)),
                         "warm-up");
    auto before = p.stats();
    auto limit = std::chrono::duration_cast<duration>(std::chrono::duration<double>(secs));
    auto r = bench::run(io, bench::drive(std::size_t(1) << 40, callers, limit, call, false));
    bench::require_clean(r, "coalescing run");
    auto after = p.stats();
    *requests_per_embed = static_cast<double>(bench::node_requests(after) - bench::node_requests(before)) /
                          static_cast<double>(r.embeddings);
    *final_limit = after.nodes[0].concurrency_limit;
    return r.rate();
}

} // namespace

int main(int argc, char** argv) try {
    bench::options opt(argc, argv);
    const bool smoke = bench::smoke();
    const double ts = opt.num("time-scale", smoke ? 0.05 : 1.0);
    const std::size_t n = opt.size("texts", smoke ? 200 : 2000);
    auto texts = paragraphs(n);
    fmt::print("batch: default pool_config and batch_options; cores: {}\n\n", std::thread::hardware_concurrency());

    // 1. Each node set: capacities by a plain client, then herd.
    if (!bench::live_nodes().empty()) {
        run_set({}, texts, opt, ts, smoke);
    } else {
        auto sets = opt.str("sets", smoke ? "gpu,cpu" : "gpu,cpu,cpu;ollama-cpu,ollama-cpu;gpu-batch,ollama-cpu");
        for (auto& set : parse_sets(sets)) run_set(set, texts, opt, ts, smoke);
    }

    // The coalescing part runs on herd-sim's gpu profile.
    sim::cluster cluster({sim::profile("gpu")}, {.time_scale = ts});
    cluster.start();
    auto urls = cluster.urls();
    const std::size_t bytes = 200;
    auto short_texts = bench::corpus(4096, bytes);

    // 2. Coalescing on one gpu-profile node (2 ms per request).
    const std::size_t callers = opt.size("callers", smoke ? 64 : 256);
    const double secs = opt.num("coalesce-seconds", smoke ? 0.5 : 6);
    double rpe_off = 0, rpe_on = 0;
    std::size_t lim_off = 0, lim_on = 0;
    double off = coalesce_rate(urls[0], false, callers, secs, short_texts, &rpe_off, &lim_off);
    double on = coalesce_rate(urls[0], true, callers, secs, short_texts, &rpe_on, &lim_on);
    fmt::print("coalescing: {} callers of single-text pool.embed on the gpu node (2 ms/request + 0.5 ms/text + "
               "1.5 us/byte), {} s each\n",
               callers, secs);
    fmt::print("{:<14} | {:>10} | {:>14} | {:>12}\n", "coalesce", "texts/s", "requests/text", "final limit");
    fmt::print("{:<14} | {:>10.1f} | {:>14.3f} | {:>12}\n", "off", off, rpe_off, lim_off);
    fmt::print("{:<14} | {:>10.1f} | {:>14.3f} | {:>12}\n", "on", on, rpe_on, lim_on);
    auto gpu = cluster.profile_of(0);
    double req_s = std::chrono::duration<double>(gpu.request_overhead + gpu.per_input_cost).count() +
                   static_cast<double>(bytes) * std::chrono::duration<double>(gpu.per_char_cost).count();
    double best_off = 1 / (req_s * (1 + gpu.tail_fraction * (gpu.tail_multiplier - 1)) * ts);
    double best_on = profile_capacity(gpu, bytes, ts);
    fmt::print("on/off = {:.2f}x (target >= 3x); profile bound: off {:.0f}/s, on {:.0f}/s = {:.2f}x\n", on / off,
               best_off, best_on, best_on / best_off);
    fmt::print("load average at end: {:.2f}\n", bench::load_average());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_batch: %s\n", e.what());
    return 1;
}
