// herd as a benchmark client: the program bench/callgrind.sh runs under
// valgrind and bench/compare/compare.py runs next to the Python clients.
// Prints one JSON line with what it measured (its own CPU time included).
//
//   bench_client single --nodes URL[,URL...] [--calls 2000] [--callers 64] [--coalesce 0|1]
//                       [--hedge 0|1] [--limit N] [--bytes 100] [--distinct 1000] [--warmup 200]
//                       [--seconds 60] [--label NAME]
//   bench_client batch  --nodes URLS [--texts 5000] [--bytes 200] [--warmup 0]
//
// single: `calls` pool.embed calls of distinct texts (cycling over
//   `distinct` of them) from `callers` coroutines, after `warmup` calls;
//   default pool_config but for coalesce, hedge (on by default) and
//   --limit N (N requests in flight per node, N connections, no AIMD).
// batch:  one pool.embed_batch over `texts` texts (default batch_options).
// Under valgrind (callgrind) only the measured part is instrumented when
// run with --instr-atstart=no.
#include "support/bench_support.hpp"

#include <fmt/format.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

using namespace herd;

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_client single|batch --nodes URLS [options]\n");
        return 2;
    }
    std::string mode = argv[1];
    bench::options opt(argc - 1, argv + 1);
    auto nodes = pool_config::parse_node_list(opt.str("nodes", ""));
    if (nodes.empty()) throw std::invalid_argument("--nodes is required");
    const std::string model = opt.str("model", bench::bench_model());
    const std::size_t bytes = opt.size("bytes", mode == "batch" ? 200 : 100);
    const std::string label = opt.str("label", "herd");

    asio::io_context io;
    bench::load_result r;
    double cpu = 0;
    std::uint64_t requests = 0;
    std::size_t dim = 0;
    std::string limits; // each node's concurrency limit at the end
    auto note_limits = [&](pool& p) {
        for (auto& n : p.stats().nodes) {
            if (!limits.empty()) limits += ',';
            limits += std::to_string(n.concurrency_limit);
        }
    };
    if (mode == "single") {
        const std::size_t calls = opt.size("calls", 2000), callers = opt.size("callers", 64);
        const std::size_t warmup = opt.size("warmup", 200);
        auto texts = bench::corpus(opt.size("distinct", 1000), bytes);
        auto cfg = bench::bench_config(nodes, model, opt.size("coalesce", 1) != 0);
        if (auto l = opt.size("limit", 0)) cfg = bench::bench_config(nodes, model, cfg.coalesce, l);
        cfg.hedge.enabled = opt.size("hedge", 1) != 0;
        pool p(io.get_executor(), cfg);
        auto call = [&](std::size_t i) -> awaitable<bench::call_result> {
            auto v = co_await p.embed(texts[i % texts.size()]);
            co_return bench::call_result{1, v.size()};
        };
        if (warmup) bench::require_clean(bench::run(io, bench::drive(warmup, callers, std::chrono::seconds(60), call, false)), "warm-up");
        auto before = p.stats().calls;
        auto limit = std::chrono::duration_cast<duration>(std::chrono::duration<double>(opt.num("seconds", 60)));
        double cpu0 = bench::process_cpu_seconds();
        CALLGRIND_START_INSTRUMENTATION;
        r = bench::run(io, bench::drive(calls, callers, limit, call));
        CALLGRIND_STOP_INSTRUMENTATION;
        cpu = bench::process_cpu_seconds() - cpu0;
        bench::require_clean(r, "bench_client single");
        requests = p.stats().calls - before;
        dim = r.embeddings ? r.floats / r.embeddings : 0;
        note_limits(p);
    } else if (mode == "batch") {
        auto texts = bench::corpus(opt.size("texts", 5000), bytes);
        pool p(io.get_executor(), bench::bench_config(nodes, model, true));
        if (auto w = opt.size("warmup", 0)) {
            auto warm = bench::corpus(w, bytes, 1000000);
            bench::run(io, p.embed_batch(std::span<const std::string>(warm)));
        }
        auto before = bench::node_requests(p.stats());
        double cpu0 = bench::process_cpu_seconds();
        auto t0 = clock::now();
        CALLGRIND_START_INSTRUMENTATION;
        auto m = bench::run(io, p.embed_batch(std::span<const std::string>(texts)));
        CALLGRIND_STOP_INSTRUMENTATION;
        r.seconds = seconds(clock::now() - t0);
        cpu = bench::process_cpu_seconds() - cpu0;
        r.calls = 1;
        r.embeddings = m.rows();
        r.floats = m.rows() * m.dim();
        dim = m.dim();
        requests = bench::node_requests(p.stats()) - before;
        note_limits(p);
        if (m.rows() != texts.size()) throw std::runtime_error("embed_batch returned the wrong number of rows");
    } else {
        throw std::invalid_argument("mode must be single or batch");
    }
    fmt::print("{{\"client\": \"{}\", \"mode\": \"{}\", \"embeddings\": {}, \"requests\": {}, \"dim\": {}, "
               "\"seconds\": {:.6f}, \"rate\": {:.3f}, \"p50_ms\": {:.4f}, \"p99_ms\": {:.4f}, \"cpu_s\": {:.4f}, "
               "\"limits\": \"{}\"}}\n",
               label, mode, r.embeddings, requests, dim, r.seconds, r.rate(),
               bench::quantile(r.latencies, 0.5) * 1e3, bench::quantile(r.latencies, 0.99) * 1e3, cpu, limits);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_client: %s\n", e.what());
    return 1;
}
