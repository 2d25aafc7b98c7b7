// Batch engine and coalescing (issue 6), in one run against herd-sim:
//
// 1. One gpu and two cpu nodes (cpu ~5x slower), 5,000 texts of 200 bytes.
//    Each node's solo throughput is measured first (the three at once, ~12 s
//    each), twice: embed_batch on a pool of that node alone, and raw
//    requests of exactly 64 texts with two in flight; ideal capacity = the sum of each node's better figure, ideal
//    makespan = texts / ideal. Then embed_batch over all three, several runs
//    each on a fresh pool (cold, as a user starts a job). Prints throughput
//    as % of ideal and makespan vs ideal (median of the runs), also against
//    the profile's expected capacity. Targets: >= 95% and within 5%.
// 2. Coalescing: 256 concurrent callers of single-text pool.embed on one
//    node with per-request overhead (gpu profile: 2 ms per request), coalesce
//    on vs off. Target: on >= 3x off.
//
//   bench_batch [--texts 5000] [--runs 5] [--solo-gpu 12000] [--solo-cpu 2400] [--solo-seconds 12]
//               [--callers 256] [--coalesce-seconds 6] [--time-scale 1]
#include "support/bench_support.hpp"

#include <herd/async/task_group.hpp>

#include <fmt/format.h>

namespace {

using namespace herd;

struct batch_run {
    double seconds = 0;
    std::size_t texts = 0;
    std::vector<std::uint64_t> per_node;
    double rate() const { return seconds > 0 ? static_cast<double>(texts) / seconds : 0; }
};

batch_run embed_all(asio::io_context& io, pool& p, sim::cluster& c, const std::vector<std::size_t>& nodes,
                    std::span<const std::string> texts) {
    std::vector<std::uint64_t> before;
    for (auto i : nodes) before.push_back(c.counters(i).inputs);
    auto t0 = clock::now();
    auto m = bench::run(io, [](pool& pl, std::span<const std::string> t) -> awaitable<matrix> {
        co_return co_await pl.embed_batch(t);
    }(p, texts));
    batch_run r;
    r.seconds = seconds(clock::now() - t0);
    r.texts = m.rows();
    if (m.rows() != texts.size()) throw std::runtime_error("embed_batch returned the wrong number of rows");
    for (std::size_t k = 0; k < nodes.size(); ++k) r.per_node.push_back(c.counters(nodes[k]).inputs - before[k]);
    return r;
}

// Each node's solo throughput, all three nodes measured at the same time
// (separate pools on separate nodes: they do not interact, and the runs are
// long enough to meet the profiles' random tails at about their rate):
//   engine: embed_batch of `engine_texts[i]` texts on a pool of node i alone;
//   raw:    requests of exactly 64 texts, two in flight (the node's one slot
//           never idles), for `raw_seconds`: the node's capacity without the
//           engine.
struct solo_result {
    double engine = 0, engine_seconds = 0, raw = 0;
    std::size_t engine_texts = 0;
};

awaitable<void> engine_solo(pool& p, std::span<const std::string> texts, solo_result& out) {
    auto t0 = clock::now();
    auto m = co_await p.embed_batch(texts);
    out.engine_seconds = seconds(clock::now() - t0);
    out.engine_texts = m.rows();
    out.engine = static_cast<double>(m.rows()) / out.engine_seconds;
}

awaitable<void> raw_solo(pool& p, std::span<const std::string_view> texts, double secs, solo_result& out) {
    constexpr std::size_t per = 64;
    const std::size_t chunks = texts.size() / per;
    auto call = [&](std::size_t i) -> awaitable<bench::call_result> {
        auto chunk = texts.subspan((i % chunks) * per, per);
        auto o = co_await p.embed_request(chunk, {});
        if (!o.ok()) o.fail.raise();
        co_return bench::call_result{o.reply.embeddings.rows(), o.reply.embeddings.storage().size()};
    };
    auto limit = std::chrono::duration_cast<duration>(std::chrono::duration<double>(secs));
    auto r = co_await bench::drive(std::size_t(1) << 40, 2, limit, call, false);
    bench::require_clean(r, "raw solo");
    out.raw = r.rate();
}

std::vector<solo_result> measure_solo(const std::vector<std::string>& urls, const std::vector<std::size_t>& engine_texts,
                                      double raw_seconds, std::size_t bytes) {
    asio::io_context io;
    std::vector<solo_result> out(urls.size());
    std::vector<std::unique_ptr<pool>> engine, raw;
    std::vector<std::vector<std::string>> texts;
    std::vector<std::vector<std::string_view>> views;
    for (std::size_t i = 0; i < urls.size(); ++i) {
        engine.push_back(std::make_unique<pool>(io.get_executor(), bench::bench_config({urls[i]}, "mxbai-embed-large", true)));
        raw.push_back(std::make_unique<pool>(io.get_executor(), bench::bench_config({urls[i]}, "mxbai-embed-large", false, 2)));
        texts.push_back(bench::corpus(std::max<std::size_t>(engine_texts[i], 64 * 64), bytes, 100000 * (i + 1)));
        views.emplace_back(texts.back().begin(), texts.back().end());
    }
    bench::run(io, [](std::vector<std::unique_ptr<pool>>& e, std::vector<std::unique_ptr<pool>>& r,
                      std::vector<std::vector<std::string>>& t, std::vector<std::vector<std::string_view>>& v,
                      const std::vector<std::size_t>& k, double secs, std::vector<solo_result>& res) -> awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        {
            task_group g(ex);
            for (std::size_t i = 0; i < e.size(); ++i)
                g.spawn(engine_solo(*e[i], std::span<const std::string>(t[i]).first(k[i]), res[i]));
            co_await g.join();
        }
        task_group g(ex);
        for (std::size_t i = 0; i < r.size(); ++i) g.spawn(raw_solo(*r[i], v[i], secs, res[i]));
        co_await g.join();
    }(engine, raw, texts, views, engine_texts, raw_seconds, out));
    return out;
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
    const std::size_t n = opt.size("texts", smoke ? 400 : 5000);
    const std::size_t solo_gpu = opt.size("solo-gpu", smoke ? 200 : 12000);
    const std::size_t solo_cpu = opt.size("solo-cpu", smoke ? 128 : 2400);
    const std::size_t bytes = 200;
    auto texts = bench::corpus(n, bytes);

    std::vector<sim::node_profile> profs = {sim::profile("gpu"), sim::profile("cpu"), sim::profile("cpu")};
    sim::cluster cluster(profs, {.time_scale = ts});
    cluster.start();
    auto urls = cluster.urls();
    const char* names[] = {"gpu", "cpu", "cpu"};

    fmt::print("batch: herd-sim gpu + cpu + cpu (time scale {}), {} texts of {} bytes, model mxbai-embed-large, "
               "default pool_config and batch_options\n",
               ts, n, bytes);
    fmt::print("load average at start: {:.2f}, cores: {}\n\n", bench::load_average(),
               std::thread::hardware_concurrency());

    // 1a. Solo throughput of each node (all three at once).
    const double raw_seconds = opt.num("solo-seconds", smoke ? 0.5 : 12);
    auto solo = measure_solo(urls, {solo_gpu, solo_cpu, solo_cpu}, raw_seconds, bytes);
    double ideal = 0, engine_ideal = 0, raw_ideal = 0, profile_ideal = 0;
    fmt::print("solo, the three nodes measured at once: embed_batch on a pool of that node alone (herd's engine),\n"
               "and raw: requests of exactly 64 texts, 2 in flight, for {} s (the node's capacity without the\n"
               "engine); ideal uses each node's better figure\n",
               raw_seconds);
    fmt::print("{:<6} | {:>6} | {:>8} | {:>13} | {:>11} | {:>14}\n", "node", "texts", "seconds", "engine tx/s",
               "raw tx/s", "profile exp/s");
    for (std::size_t i = 0; i < 3; ++i) {
        ideal += std::max(solo[i].engine, solo[i].raw);
        engine_ideal += solo[i].engine;
        raw_ideal += solo[i].raw;
        double cap = profile_capacity(cluster.profile_of(i), bytes, ts);
        profile_ideal += cap;
        fmt::print("{:<6} | {:>6} | {:>8.2f} | {:>13.1f} | {:>11.1f} | {:>14.1f}\n", names[i], solo[i].engine_texts,
                   solo[i].engine_seconds, solo[i].engine, solo[i].raw, cap);
    }
    double ideal_makespan = static_cast<double>(n) / ideal;
    fmt::print("ideal = sum of each node's better solo = {:.1f} texts/s, ideal makespan for {} texts = {:.2f} s\n"
               "(sum of engine solo {:.1f}/s, of raw solo {:.1f}/s; profile expectation with tails {:.1f}/s = "
               "{:.2f} s)\n\n",
               ideal, n, ideal_makespan, engine_ideal, raw_ideal, profile_ideal,
               static_cast<double>(n) / profile_ideal);

    // 1b. The whole cluster, `runs` times, each on a fresh pool (cold, as a
    // user starts a job). The profiles' random 10x tails make single runs
    // noisy, hence several.
    const std::size_t runs = opt.size("runs", smoke ? 1 : 5);
    fmt::print("{:<10} | {:>8} | {:>10} | {:>10} | {:>18} | {:>13} | {:>12} | {}\n", "cluster", "seconds", "texts/s",
               "% of ideal", "makespan vs ideal", "% eng. solo", "% prof. exp.", "per node (gpu/cpu/cpu)");
    std::vector<double> rates;
    std::uint64_t requests = 0, retries = 0;
    for (std::size_t k = 0; k < runs; ++k) {
        asio::io_context io;
        pool p(io.get_executor(), bench::bench_config(urls, "mxbai-embed-large", true));
        auto r = embed_all(io, p, cluster, {0, 1, 2}, texts);
        rates.push_back(r.rate());
        auto st = p.stats();
        requests += bench::node_requests(st);
        retries += st.retries;
        fmt::print("{:<10} | {:>8.2f} | {:>10.1f} | {:>9.1f}% | {:>+17.1f}% | {:>12.1f}% | {:>11.1f}% | {}/{}/{}\n",
                   fmt::format("run {}", k + 1), r.seconds, r.rate(), 100 * r.rate() / ideal,
                   100 * (r.seconds / ideal_makespan - 1), 100 * r.rate() / engine_ideal,
                   100 * r.rate() / profile_ideal, r.per_node[0], r.per_node[1], r.per_node[2]);
    }
    double med = bench::median(rates);
    double med_seconds = static_cast<double>(n) / med;
    fmt::print("{:<10} | {:>8.2f} | {:>10.1f} | {:>9.1f}% | {:>+17.1f}% | {:>12.1f}% | {:>11.1f}% |\n", "median",
               med_seconds, med, 100 * med / ideal, 100 * (med_seconds / ideal_makespan - 1), 100 * med / engine_ideal,
               100 * med / profile_ideal);
    fmt::print("{} requests over the runs ({:.1f} texts each), {} retries\n", requests,
               static_cast<double>(n * runs) / static_cast<double>(std::max<std::uint64_t>(requests, 1)), retries);
    fmt::print("targets (median): throughput >= 95% of ideal, makespan within 5%: {}\n\n",
               100 * med / ideal >= 95 && med_seconds / ideal_makespan <= 1.05 ? "met" : "NOT met");

    // 2. Coalescing on one gpu-profile node (2 ms per request).
    const std::size_t callers = opt.size("callers", smoke ? 64 : 256);
    const double secs = opt.num("coalesce-seconds", smoke ? 0.5 : 6);
    double rpe_off = 0, rpe_on = 0;
    std::size_t lim_off = 0, lim_on = 0;
    double off = coalesce_rate(urls[0], false, callers, secs, texts, &rpe_off, &lim_off);
    double on = coalesce_rate(urls[0], true, callers, secs, texts, &rpe_on, &lim_on);
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
