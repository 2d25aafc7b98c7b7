// Micro-benchmarks of herd's awaitable primitives and bookkeeping: the
// per-request costs the pool pays around every HTTP request.
//
//   bench_primitives --benchmark_min_time=0.5
#include <herd/async/hedge.hpp>
#include <herd/async/limiter.hpp>
#include <herd/async/semaphore.hpp>
#include <herd/async/stats.hpp>
#include <herd/async/steal_deque.hpp>

#include <benchmark/benchmark.h>

#include <random>

namespace {

using namespace herd;

// ---------------------------------------------------------------- semaphore

// try_acquire + release: the uncontended fast path of every request.
void BM_semaphore_try_acquire(benchmark::State& state) {
    asio::io_context io;
    semaphore sem(io.get_executor(), 4);
    for (auto _ : state) {
        auto p = sem.try_acquire();
        benchmark::DoNotOptimize(p);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_semaphore_try_acquire);

// co_await acquire() with free permits, inside one coroutine on an
// io_context: the cost of the awaitable machinery on the fast path.
void BM_semaphore_co_await_free(benchmark::State& state) {
    asio::io_context io;
    semaphore sem(io.get_executor(), 4);
    constexpr std::size_t per_run = 1000;
    for (auto _ : state) {
        // Captureless coroutine lambdas: a capturing one would be a
        // temporary destroyed while its coroutine still runs.
        asio::co_spawn(io, [](semaphore& s, std::size_t n) -> awaitable<void> {
            for (std::size_t i = 0; i < n; ++i) {
                auto p = co_await s.acquire();
                benchmark::DoNotOptimize(p);
            }
        }(sem, per_run), asio::detached);
        io.restart();
        io.run();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_run));
}
BENCHMARK(BM_semaphore_co_await_free);

// Contended: `range(0)` coroutines share a limit of 1, so every acquire but
// the first waits in the queue and is woken by a release (timer cancel and
// a resumption through the io_context).
void BM_semaphore_co_await_contended(benchmark::State& state) {
    asio::io_context io;
    semaphore sem(io.get_executor(), 1);
    const auto workers = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t per_worker = 500;
    for (auto _ : state) {
        for (std::size_t w = 0; w < workers; ++w)
            asio::co_spawn(io, [](semaphore& s, std::size_t n) -> awaitable<void> {
                for (std::size_t i = 0; i < n; ++i) {
                    auto p = co_await s.acquire(static_cast<int>(1 + i % 10));
                    // Hold the permit across a turn of the event loop so
                    // the others queue behind it.
                    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                }
            }(sem, per_worker), asio::detached);
        io.restart();
        io.run();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * workers * per_worker));
}
BENCHMARK(BM_semaphore_co_await_contended)->Arg(2)->Arg(64);

// ---------------------------------------------------------------- limiter

// on_success with a latency near the recent minimum (additive increase
// path) while the limit is in use.
void BM_limiter_on_success(benchmark::State& state) {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 8, .max_limit = 64});
    std::vector<semaphore::permit> held;
    for (int i = 0; i < 8; ++i) held.push_back(lim.gate().try_acquire());
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> jitter(0, 200);
    auto now = clock::now();
    for (auto _ : state) {
        auto lat = std::chrono::microseconds(1000 + jitter(rng));
        now += std::chrono::microseconds(50);
        lim.on_success(lat, 1, now - lat, now);
    }
    benchmark::DoNotOptimize(lim.exact_limit());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_limiter_on_success);

// on_drop: one decrease per congestion event, later drops ignored (the
// cheap path most drops take), plus the occasional real decrease.
void BM_limiter_on_drop(benchmark::State& state) {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 32, .max_limit = 64});
    auto now = clock::now();
    std::size_t i = 0;
    for (auto _ : state) {
        now += std::chrono::microseconds(10);
        // Every 16th drop started after the last decrease: a new event.
        auto started = (++i % 16 == 0) ? now : now - std::chrono::milliseconds(5);
        lim.on_drop(started, now);
        if (lim.exact_limit() < 2) lim.on_success(std::chrono::microseconds(1), 1, now, now); // keep it moving
    }
    benchmark::DoNotOptimize(lim.decreases());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_limiter_on_drop);

// ---------------------------------------------------------------- steal_deque

// Owner push then take from the front.
void BM_steal_deque_push_pop(benchmark::State& state) {
    asio::io_context io;
    steal_deque<std::uint32_t> q(io.get_executor(), 3);
    std::uint32_t v = 0;
    for (auto _ : state) {
        q.push(0, v++);
        auto item = q.try_pop_own(0);
        benchmark::DoNotOptimize(item);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_steal_deque_push_pop);

// A thief takes half of a deque of range(0) items (items moved per second).
void BM_steal_deque_steal(benchmark::State& state) {
    asio::io_context io;
    const auto n = static_cast<std::uint32_t>(state.range(0));
    std::size_t moved = 0;
    for (auto _ : state) {
        state.PauseTiming();
        steal_deque<std::uint32_t> q(io.get_executor(), 3);
        for (std::uint32_t i = 0; i < n; ++i) q.push(1, i);
        state.ResumeTiming();
        moved += q.steal(0);
        benchmark::DoNotOptimize(q.size(0));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(moved));
}
BENCHMARK(BM_steal_deque_steal)->Arg(64)->Arg(4096);

// co_await pop() on items already there (the batch worker's loop).
void BM_steal_deque_co_await_pop(benchmark::State& state) {
    asio::io_context io;
    constexpr std::uint32_t per_run = 1000;
    for (auto _ : state) {
        steal_deque<std::uint32_t> q(io.get_executor(), 2);
        for (std::uint32_t i = 0; i < per_run; ++i) q.push(i % 2, i);
        q.close();
        asio::co_spawn(io, [](steal_deque<std::uint32_t>& d) -> awaitable<void> {
            while (auto item = co_await d.pop(0)) benchmark::DoNotOptimize(*item);
        }(q), asio::detached);
        io.restart();
        io.run();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_run));
}
BENCHMARK(BM_steal_deque_co_await_pop);

// ---------------------------------------------------------------- hedging

// What the pool does per call: on_call + delay() + on_latency.
void BM_hedge_policy_per_call(benchmark::State& state) {
    hedge_policy policy;
    std::mt19937 rng(1);
    std::lognormal_distribution<double> lat(std::log(0.003), 0.4);
    for (int i = 0; i < 256; ++i) policy.on_latency(from_seconds(lat(rng)));
    for (auto _ : state) {
        policy.on_call();
        auto d = policy.delay();
        benchmark::DoNotOptimize(d);
        policy.on_latency(from_seconds(lat(rng)));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_hedge_policy_per_call);

// ---------------------------------------------------------------- quantile_window

void BM_quantile_window_add(benchmark::State& state) {
    quantile_window w(512, 16);
    double x = 0.001;
    for (auto _ : state) {
        w.add(x);
        x = x * 1.0001 + 1e-7;
        if (x > 0.01) x = 0.001;
    }
    benchmark::DoNotOptimize(w.size());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_quantile_window_add);

// add + quantile on every sample: the cached quantile is recomputed every
// `refresh_every` (16) samples, an O(capacity) nth_element.
void BM_quantile_window_add_quantile(benchmark::State& state) {
    quantile_window w(static_cast<std::size_t>(state.range(0)), 16);
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> d(0.001, 0.01);
    for (int i = 0; i < state.range(0); ++i) w.add(d(rng));
    for (auto _ : state) {
        w.add(d(rng));
        benchmark::DoNotOptimize(w.quantile(0.95));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_quantile_window_add_quantile)->Arg(256)->Arg(512);

// min(): the limiter asks for the window minimum on every success (O(n)).
void BM_quantile_window_min(benchmark::State& state) {
    quantile_window w(static_cast<std::size_t>(state.range(0)), 1);
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> d(0.001, 0.01);
    for (int i = 0; i < state.range(0); ++i) w.add(d(rng));
    for (auto _ : state) benchmark::DoNotOptimize(w.min());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_quantile_window_min)->Arg(128)->Arg(512);

} // namespace

BENCHMARK_MAIN();
