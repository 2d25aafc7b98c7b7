// End-to-end benchmarks: herd::pool against real HTTP nodes.
//
// Nodes: HERD_BENCH_NODES (comma-separated URLs) and HERD_BENCH_MODEL for
// live Ollama nodes; otherwise one herd-sim `zero` node in-process (its own
// thread, answers in microseconds: what is measured is the client).
//
//   bench_e2e --benchmark_min_time=1
//   HERD_BENCH_NODES=http://gpu1:11434,http://cpu1:11434 HERD_BENCH_MODEL=nomic-embed-text bench_e2e
//
// Counters: embeddings/s, vec_bytes/s (floats received x 4), wire_bytes/s
// (response bytes the simulated node wrote; 0 with live nodes), latency
// p50/p99 of one call in ms. Each iteration is a fixed number of calls
// (HERD_BENCH_OPS, default 512; embed_batch: HERD_BENCH_TEXTS, default 2048)
// and every load loop is bounded in time (60 s).
#include "support/bench_support.hpp"

#include <benchmark/benchmark.h>

namespace {

using namespace herd;

bench::node_set& nodes() {
    static bench::node_set s = bench::start_nodes(bench::profiles({"zero"}));
    return s;
}

const std::vector<std::string>& texts() {
    static auto t = bench::corpus(1000, 100);
    return t;
}

std::size_t ops() { return bench::env_size("HERD_BENCH_OPS", bench::smoke() ? 32 : 512); }
std::size_t batch_texts() { return bench::env_size("HERD_BENCH_TEXTS", bench::smoke() ? 128 : 2048); }

void report(benchmark::State& state, const std::vector<bench::load_result>& runs, std::uint64_t wire_bytes) {
    double embeddings = 0, floats = 0;
    std::vector<double> lat;
    for (auto& r : runs) {
        embeddings += static_cast<double>(r.embeddings);
        floats += static_cast<double>(r.floats);
        lat.insert(lat.end(), r.latencies.begin(), r.latencies.end());
    }
    using C = benchmark::Counter;
    state.counters["embeddings/s"] = C(embeddings, C::kIsRate);
    state.counters["vec_bytes/s"] = C(floats * 4, C::kIsRate, C::kIs1024);
    state.counters["wire_bytes/s"] = C(static_cast<double>(wire_bytes), C::kIsRate, C::kIs1024);
    if (!lat.empty()) {
        state.counters["p50_ms"] = bench::quantile(lat, 0.5) * 1e3;
        state.counters["p99_ms"] = bench::quantile(lat, 0.99) * 1e3;
    }
}

// Single-text pool.embed from range(1) concurrent coroutines, coalescing
// off (range(0) = 0: one request per text) or on.
void BM_embed_single(benchmark::State& state) {
    auto& ns = nodes();
    const bool coalesce = state.range(0) != 0;
    const auto callers = static_cast<std::size_t>(state.range(1));
    asio::io_context io;
    pool p(io.get_executor(), bench::bench_config(ns.urls, ns.model, coalesce));
    auto call = [&p](std::size_t i) -> awaitable<bench::call_result> {
        auto v = co_await p.embed(texts()[i % texts().size()]);
        co_return bench::call_result{1, v.size()};
    };
    // Warm-up: connections open, limiter settled, vectors cached by the sim.
    bench::require_clean(bench::run(io, bench::drive(256, callers, std::chrono::seconds(60), call, false)), "warm-up");
    std::vector<bench::load_result> runs;
    auto bytes_before = ns.bytes_out();
    for (auto _ : state) {
        auto r = bench::run(io, bench::drive(ops(), callers, std::chrono::seconds(60), call));
        bench::require_clean(r, "embed");
        runs.push_back(std::move(r));
    }
    report(state, runs, ns.bytes_out() - bytes_before);
    auto s = p.stats();
    state.counters["requests/embed"] =
        s.inputs ? static_cast<double>(s.calls) / static_cast<double>(s.inputs) : 0;
}
BENCHMARK(BM_embed_single)
    ->ArgNames({"coalesce", "callers"})
    ->Args({0, 1})
    ->Args({0, 16})
    ->Args({0, 256})
    ->Args({1, 16})
    ->Args({1, 256})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// embed_batch over HERD_BENCH_TEXTS texts in micro-batches of exactly
// range(0) texts, with range(1) requests in flight per node (the limiter
// pinned there, as many connections).
void BM_embed_batch(benchmark::State& state) {
    auto& ns = nodes();
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto concurrency = static_cast<std::size_t>(state.range(1));
    asio::io_context io;
    pool p(io.get_executor(), bench::bench_config(ns.urls, ns.model, true, concurrency));
    std::vector<std::string> corpus;
    for (std::size_t i = 0; i < batch_texts(); ++i) corpus.push_back(texts()[i % texts().size()]);
    batch_options options{.min_batch = batch, .max_batch = batch};
    auto call = [&](std::size_t) -> awaitable<bench::call_result> {
        auto m = co_await p.embed_batch(std::span<const std::string>(corpus), options);
        co_return bench::call_result{m.rows(), m.rows() * m.dim()};
    };
    bench::require_clean(bench::run(io, bench::drive(1, 1, std::chrono::seconds(60), call, false)), "warm-up");
    std::vector<bench::load_result> runs;
    auto bytes_before = ns.bytes_out();
    for (auto _ : state) {
        auto r = bench::run(io, bench::drive(1, 1, std::chrono::seconds(120), call, false));
        bench::require_clean(r, "embed_batch");
        runs.push_back(std::move(r));
    }
    report(state, runs, ns.bytes_out() - bytes_before);
}
BENCHMARK(BM_embed_batch)
    ->ArgNames({"batch", "concurrency"})
    ->Args({1, 4})
    ->Args({16, 1})
    ->Args({16, 4})
    ->Args({64, 1})
    ->Args({64, 4})
    ->Args({64, 16})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
