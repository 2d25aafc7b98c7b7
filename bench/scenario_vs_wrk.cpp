// herd vs wrk (issue 3, issue 7 "client overhead"): single-text embeds per
// second against one node, herd's pool.embed next to wrk posting the same
// request (bench/wrk_embed.lua), with the same number of connections, in
// one run. Rounds alternate the clients so machine noise hits all of them.
//
//   bench_vs_wrk [--connections 1,16,64] [--seconds 3] [--rounds 3] [--coalesced-callers 256]
//
// Node: a herd-sim `zero` node in its own process (as a real node would
// be); HERD_BENCH_NODES/HERD_BENCH_MODEL: the first listed live node.
// Lines per connection count C:
//   wrk      -t1 -cC: C connections, one request in flight on each; wrk does
//            not parse the JSON it receives.
//   herd off coalescing off, C callers, C connections, limit pinned at C in
//            flight (pipeline depth 1): the same request stream as wrk,
//            every 1024-float vector decoded.
//   herd on  coalescing on, 256 callers, same C connections and limit:
//            requests carry many texts (emb/s counts texts).
// The targets (issue 15, at 16 and 64 connections): herd off >= 60% of
// wrk's req/s; herd on >= 100% of wrk's req/s in embeddings/s.
#include "support/bench_support.hpp"

#include <fmt/format.h>

#include <map>
#include <regex>

namespace {

using namespace herd;

struct sample {
    double req_s = 0, emb_s = 0, p50_ms = 0, p99_ms = 0, cpu_us_per_req = 0, node_cpu = 0;
};

double to_ms(double v, const std::string& unit) {
    if (unit == "us") return v / 1e3;
    if (unit == "s") return v * 1e3;
    if (unit == "m") return v * 60e3;
    return v; // ms
}

// One wrk run: req/s, latency percentiles and wrk's CPU.
sample run_wrk(const std::string& url, std::size_t conns, double secs, const std::string& lua,
               const bench::sim_process* sim) {
    double node_cpu0 = sim ? sim->cpu_seconds() : 0;
    auto t0 = std::chrono::steady_clock::now();
    auto r = bench::run_child({"wrk", "-t1", fmt::format("-c{}", conns), fmt::format("-d{}s", std::max(1.0, secs)),
                               "--latency", "-s", lua, url + "/api/embed"});
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.status != 0) throw std::runtime_error("wrk failed:\n" + r.output);
    if (r.output.find("Non-2xx") != std::string::npos || r.output.find("Socket errors") != std::string::npos)
        throw std::runtime_error("wrk saw errors:\n" + r.output);
    sample s;
    std::smatch m;
    if (std::regex_search(r.output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) s.req_s = std::stod(m[1]);
    std::smatch total;
    double requests = 0;
    if (std::regex_search(r.output, total, std::regex(R"((\d+) requests in)"))) requests = std::stod(total[1]);
    std::regex pct(R"((50|99)%\s+([0-9.]+)(us|ms|s|m)\b)");
    for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), pct); it != std::sregex_iterator(); ++it) {
        double v = to_ms(std::stod((*it)[2]), (*it)[3]);
        if ((*it)[1] == "50") s.p50_ms = v;
        else s.p99_ms = v;
    }
    s.emb_s = s.req_s;
    s.cpu_us_per_req = requests > 0 ? r.cpu_seconds / requests * 1e6 : 0;
    s.node_cpu = sim ? (sim->cpu_seconds() - node_cpu0) / wall : 0;
    return s;
}

// One herd run: `callers` coroutines embedding `text` for `secs` seconds.
sample run_herd(const std::string& url, const std::string& model, std::size_t conns, bool coalesce,
                std::size_t callers, double secs, const std::string& text, const bench::sim_process* sim) {
    asio::io_context io;
    pool p(io.get_executor(), bench::bench_config({url}, model, coalesce, conns));
    auto call = [&](std::size_t) -> awaitable<bench::call_result> {
        auto v = co_await p.embed(text);
        co_return bench::call_result{1, v.size()};
    };
    // Warm-up: every connection open.
    bench::require_clean(bench::run(io, bench::drive(conns * 20, callers, std::chrono::seconds(30), call, false)),
                         "warm-up");
    auto calls_before = p.stats().calls;
    double cpu0 = bench::process_cpu_seconds();
    double node_cpu0 = sim ? sim->cpu_seconds() : 0;
    auto limit = std::chrono::duration_cast<duration>(std::chrono::duration<double>(secs));
    auto r = bench::run(io, bench::drive(std::size_t(1) << 40, callers, limit, call));
    double cpu = bench::process_cpu_seconds() - cpu0;
    bench::require_clean(r, "herd");
    auto requests = static_cast<double>(p.stats().calls - calls_before);
    sample s;
    s.req_s = requests / r.seconds;
    s.emb_s = r.rate();
    s.p50_ms = bench::quantile(r.latencies, 0.5) * 1e3;
    s.p99_ms = bench::quantile(r.latencies, 0.99) * 1e3;
    s.cpu_us_per_req = requests > 0 ? cpu / requests * 1e6 : 0;
    s.node_cpu = sim ? (sim->cpu_seconds() - node_cpu0) / r.seconds : 0;
    return s;
}

sample median_of(const std::vector<sample>& v) {
    auto pick = [&](auto field) {
        std::vector<double> x;
        for (auto& s : v) x.push_back(s.*field);
        return bench::median(x);
    };
    return {pick(&sample::req_s), pick(&sample::emb_s), pick(&sample::p50_ms), pick(&sample::p99_ms),
            pick(&sample::cpu_us_per_req), pick(&sample::node_cpu)};
}

} // namespace

int main(int argc, char** argv) try {
    bench::options opt(argc, argv);
    const bool smoke = bench::smoke();
    auto conns_list = opt.sizes("connections", smoke ? "4" : "1,16,64");
    const double secs = opt.num("seconds", smoke ? 1 : 3);
    const std::size_t rounds = opt.size("rounds", smoke ? 1 : 3);
    const std::size_t coalesced_callers = opt.size("coalesced-callers", smoke ? 32 : 256);
    const std::string lua = opt.str("lua", std::string(HERD_BENCH_DIR) + "/wrk_embed.lua");
    const std::string text = bench::env_string("HERD_BENCH_TEXT", "hello world");
    const std::string model = bench::bench_model();

    std::unique_ptr<bench::sim_process> sim;
    std::string url;
    auto live = bench::live_nodes();
    if (!live.empty()) {
        url = live.front();
    } else {
        sim = std::make_unique<bench::sim_process>(std::vector<std::string>{"--node", "zero"});
        url = sim->urls().front();
    }
    setenv("HERD_BENCH_MODEL", model.c_str(), 1); // for the Lua script
    setenv("HERD_BENCH_TEXT", text.c_str(), 1);

    fmt::print("herd vs wrk: single-text /api/embed, model {}, text \"{}\", node {} ({})\n", model, text, url,
               sim ? "herd-sim zero, separate process" : "live");
    fmt::print("{} round(s) of {} s per client and connection count, clients alternating; medians shown\n", rounds,
               secs);
    fmt::print("load average at start: {:.2f}, cores: {}\n\n", bench::load_average(),
               std::thread::hardware_concurrency());

    std::map<std::pair<std::size_t, int>, std::vector<sample>> results;
    for (std::size_t round = 0; round < rounds; ++round)
        for (auto c : conns_list) {
            // Alternate the order of the clients between rounds.
            for (int k = 0; k < 3; ++k) {
                int which = static_cast<int>((static_cast<std::size_t>(k) + round) % 3);
                sample s;
                if (which == 0) s = run_wrk(url, c, secs, lua, sim.get());
                else if (which == 1) s = run_herd(url, model, c, false, c, secs, text, sim.get());
                else s = run_herd(url, model, c, true, std::max(coalesced_callers, c), secs, text, sim.get());
                results[{c, which}].push_back(s);
                fmt::print("  round {} conns {:>3} {:<9} {:>9.0f} emb/s {:>9.0f} req/s\n", round + 1, c,
                           which == 0 ? "wrk" : which == 1 ? "herd off" : "herd on", s.emb_s, s.req_s);
                std::fflush(stdout);
            }
        }

    fmt::print("{:>5} | {:<34} | {:>9} | {:>9} | {:>7} | {:>7} | {:>10} | {:>8} | {:>8}\n", "conns", "client",
               "req/s", "emb/s", "p50 ms", "p99 ms", "CPU us/req", "node CPU", "vs wrk");
    fmt::print("{}\n", std::string(124, '-'));
    for (auto c : conns_list) {
        auto w = median_of(results[{c, 0}]);
        const char* names[3] = {"wrk -t1 (Lua, body not parsed)", "herd, coalesce off, {} callers",
                                "herd, coalesce on, {} callers"};
        for (int which = 0; which < 3; ++which) {
            auto s = median_of(results[{c, which}]);
            std::size_t callers = which == 1 ? c : std::max(coalesced_callers, c);
            std::string name = which == 0 ? names[0] : fmt::format(fmt::runtime(names[which]), callers);
            // Embeddings delivered per second against wrk's requests (one
            // embedding each); for coalescing off that is req/s vs req/s.
            std::string ratio = which == 0 ? "" : fmt::format("{:.0f}%", 100 * s.emb_s / w.req_s);
            fmt::print("{:>5} | {:<34} | {:>9.0f} | {:>9.0f} | {:>7.2f} | {:>7.2f} | {:>10.1f} | {:>7.0f}% | {:>8}\n", c,
                       name, s.req_s, s.emb_s, s.p50_ms, s.p99_ms, s.cpu_us_per_req, 100 * s.node_cpu, ratio);
        }
    }
    fmt::print("\nvs wrk = herd emb/s / wrk req/s (targets: coalesce off, where emb/s = req/s, >= 60%; coalesce on >= 100%).\n"
               "CPU us/req = client CPU per HTTP request; node CPU = herd-sim's CPU use during the run.\n"
               "load average at end: {:.2f}\n",
               bench::load_average());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vs_wrk: %s\n", e.what());
    return 1;
}
