// Timing logic of the resilience primitives, on virtual time.
#include <herd/async/health.hpp>
#include <herd/async/hedge.hpp>
#include <herd/async/limiter.hpp>
#include <herd/async/retry.hpp>
#include <herd/async/stats.hpp>

#include "support/manual_clock.hpp"
#include "support/throw_counter.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace herd;
using namespace std::chrono_literals;
using herd::test::manual_clock;
using herd::test::manual_timer;

namespace {

// Drives a limiter against a simulated node with `slots` parallel slots and
// a fixed service time: every request the limiter allows is queued on the
// node; its latency is its wait plus its service. Returns the final limit.
double settle(limiter& lim, int slots, int rounds) {
    const duration service = 10ms;
    time_point now{};
    for (int r = 0; r < rounds; ++r) {
        std::vector<semaphore::permit> held;
        while (auto p = lim.gate().try_acquire()) held.push_back(std::move(p));
        auto started = now;
        for (std::size_t i = 0; i < held.size(); ++i) {
            auto latency = service * static_cast<int>(i / slots + 1);
            lim.on_success(latency, 1, started, started + latency);
        }
        now += service * static_cast<int>((held.size() + slots - 1) / slots);
    }
    return lim.exact_limit();
}

} // namespace

TEST_CASE("limiter: additive increase while the limit is in use") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 4, .min_limit = 1, .max_limit = 64});
    std::vector<semaphore::permit> held;
    for (int i = 0; i < 4; ++i) held.push_back(lim.gate().try_acquire());
    time_point t{};
    for (int i = 0; i < 4; ++i) lim.on_success(10ms, 1, t, t + 10ms);
    CHECK(lim.exact_limit() == Approx(5).margin(0.1)); // about +1 per round of `limit`
}

TEST_CASE("limiter: no increase when the limit is not in use") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 8});
    auto p = lim.gate().try_acquire(); // 1 of 8 in use
    time_point t{};
    for (int i = 0; i < 50; ++i) lim.on_success(10ms, 1, t, t + 10ms);
    CHECK(lim.exact_limit() == 8);
}

TEST_CASE("limiter: multiplicative decrease, once per congestion event, within bounds") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 20, .min_limit = 2, .max_limit = 30, .decrease_factor = 0.5});
    time_point t0 = time_point{} + 1s;
    lim.on_drop(t0, t0 + 5ms);
    CHECK(lim.limit() == 10);
    // Requests that started before that decrease do not decrease again.
    lim.on_drop(t0, t0 + 6ms);
    lim.on_drop(t0 + 1ms, t0 + 7ms);
    CHECK(lim.limit() == 10);
    for (int i = 1; i < 20; ++i) lim.on_drop(t0 + i * 10ms, t0 + i * 10ms + 1ms);
    CHECK(lim.limit() == 2); // floor
    CHECK(lim.decreases() >= 3);
}

TEST_CASE("limiter: latency far above the recent minimum counts as a drop") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 10});
    time_point t{};
    for (int i = 0; i < 10; ++i) {
        t += 20ms;
        lim.on_success(10ms, 1, t, t + 10ms);
    }
    auto before = lim.exact_limit();
    t += 20ms;
    lim.on_success(100ms, 1, t, t + 100ms); // 10x the minimum: queueing
    CHECK(lim.exact_limit() < before);
}

TEST_CASE("limiter: converges on a queueing node; a node with more slots settles higher") {
    asio::io_context io;
    limiter one(io.get_executor(), {.initial_limit = 16});
    limiter four(io.get_executor(), {.initial_limit = 1});
    auto l1 = settle(one, 1, 400);
    auto l4 = settle(four, 4, 400);
    INFO("1-slot limit " << l1 << ", 4-slot limit " << l4);
    CHECK(l1 <= 3.5); // busy (>= 1 queued) without deep queueing
    CHECK(l4 >= 4);   // keeps all four slots busy
    CHECK(l4 > l1);
}

TEST_CASE("retry budget: retries stay within ratio x requests plus the floor") {
    retry_budget b({.budget_ratio = 0.2, .min_per_second = 2});
    time_point t = time_point{} + 1s;
    int allowed = 0;
    for (int i = 0; i < 1000; ++i) {
        b.on_request();
        if (b.try_retry(t)) ++allowed;
        if (b.try_retry(t)) ++allowed; // every request wants two retries
    }
    CHECK(allowed <= 200 + 2);
    CHECK(allowed >= 190);
    // Time passing refills only the floor.
    t += 1s;
    CHECK(b.try_retry(t));
    CHECK(b.try_retry(t));
    CHECK_FALSE(b.try_retry(t));
    CHECK(b.refused() > 0);
}

TEST_CASE("backoff grows exponentially with full jitter, capped") {
    retry_options o{.backoff_base = 10ms, .backoff_cap = 100ms};
    std::mt19937_64 rng(1);
    duration max1{}, max3{}, max9{};
    for (int i = 0; i < 2000; ++i) {
        max1 = std::max(max1, backoff_delay(o, 1, rng));
        max3 = std::max(max3, backoff_delay(o, 3, rng));
        max9 = std::max(max9, backoff_delay(o, 9, rng));
    }
    CHECK(max1 <= 10ms);
    CHECK(max1 > 9ms);
    CHECK(max3 <= 40ms);
    CHECK(max3 > 35ms);
    CHECK(max9 <= 100ms);
    CHECK(max9 > 95ms);
}

TEST_CASE("health: consecutive failures eject, backoff doubles, probe re-admits") {
    health h({.failure_threshold = 3, .base_ejection = 100ms, .max_ejection = 350ms});
    time_point t = time_point{} + 1s;
    CHECK_FALSE(h.on_failure(t));
    h.on_success(); // streak broken
    CHECK_FALSE(h.on_failure(t));
    CHECK_FALSE(h.on_failure(t));
    CHECK(h.on_failure(t));
    CHECK(h.ejected());
    CHECK_FALSE(h.probe_due(t + 99ms));
    CHECK(h.probe_due(t + 100ms));
    h.on_probe(false, t + 100ms); // still down: twice as long
    CHECK(h.ejected_until() == t + 300ms);
    h.on_probe(false, t + 300ms); // capped
    CHECK(h.ejected_until() == t + 650ms);
    h.on_probe(true, t + 650ms);
    CHECK_FALSE(h.ejected());
    CHECK(h.ejections() == 3);
}

TEST_CASE("stats: peak-EWMA jumps up at once and decays back") {
    peak_ewma p(1s);
    time_point t{};
    p.add(0.010, t);
    p.add(0.100, t + 1ms);
    CHECK(p.value() == Approx(0.100));
    for (int i = 1; i <= 10; ++i) p.add(0.010, t + i * 1s);
    CHECK(p.value() < 0.011);
    // Without new samples the estimate fades, so the node is tried again.
    CHECK(p.value(t + 15s) < 0.001);
}

TEST_CASE("stats: quantile window and rate meter") {
    quantile_window w(100, 1);
    for (int i = 1; i <= 100; ++i) w.add(i);
    CHECK(w.quantile(0.5) == Approx(50).margin(1));
    CHECK(w.quantile(0.99) == Approx(99).margin(1));
    CHECK(w.min() == 1);
    for (int i = 0; i < 100; ++i) w.add(1000); // window slides
    CHECK(w.quantile(0.5) == 1000);

    rate_meter r(1s, 10);
    time_point t = time_point{} + 100s;
    for (int i = 0; i < 10; ++i) r.add(50, t + i * 1s);
    CHECK(r.per_second(t + 9s) == Approx(50));
    CHECK(r.per_second(t + 100s) == 0); // idle longer than the window
}

namespace {

struct fake_outcome {
    int who = -1;
    bool success = true;
    bool ok() const { return success; }
};

// An attempt that takes `d` of virtual time, then succeeds (or fails),
// recording whether it was cancelled.
awaitable<fake_outcome> timed_attempt(int who, duration d, bool success, bool& cancelled) {
    manual_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    auto [ec] = co_await t.async_wait(compat::use_nothrow);
    if (ec) {
        cancelled = true;
        co_return fake_outcome{who, false};
    }
    co_return fake_outcome{who, success};
}

// One hedged call whose attempts take `primary` and `backup` of virtual
// time and succeed or not; `cancelled[i]` tells whether attempt i was.
struct hedge_call {
    std::optional<hedge_result<fake_outcome>> result;
    bool cancelled[2] = {false, false};
    manual_clock::time_point returned{};
    asio::cancellation_signal outer;

    void start(asio::io_context& io, hedge_policy& policy, duration primary, duration backup, bool succeed = true,
               bool backup_succeeds = true) {
        asio::co_spawn(io, [this, &policy, primary, backup, succeed, backup_succeeds]() -> awaitable<void> {
            result = co_await hedged<manual_timer>(policy, [&](int i) {
                return timed_attempt(i, i == 0 ? primary : backup, i == 0 ? succeed : succeed && backup_succeeds,
                                     cancelled[i]);
            });
            returned = manual_clock::now();
        }, asio::bind_cancellation_slot(outer.slot(), asio::detached));
        test::drain(io); // attempts start now, not one step later
    }
};

hedge_policy trained_policy(duration typical, double ratio = 1.0) {
    hedge_policy p({.quantile = 0.95, .min_samples = 20, .budget_ratio = ratio, .max_burst = 10, .initial_tokens = 0});
    for (int i = 0; i < 100; ++i) p.on_latency(typical);
    return p;
}

} // namespace

TEST_CASE("hedge: delay is the high percentile of recent latency") {
    hedge_policy p({.quantile = 0.95, .min_samples = 20, .cold_delay = 700ms});
    CHECK(p.delay() == 700ms); // too few samples: the cold delay
    for (int i = 1; i <= 100; ++i) p.on_latency(i * 1ms);
    REQUIRE(p.delay());
    CHECK(*p.delay() >= 94ms);
    CHECK(*p.delay() <= 96ms);
}

TEST_CASE("hedge: a cold policy backs up a hung first call after cold_delay, within its initial tokens") {
    asio::io_context io;
    hedge_policy policy({.cold_delay = 500ms, .initial_tokens = 1});
    hedge_call first, second;
    first.start(io, policy, 100000ms, 5ms);
    second.start(io, policy, 100000ms, 5ms);
    test::advance(io, 499ms);
    CHECK(policy.sent() == 0); // not before the cold delay
    test::advance(io, 10ms);
    REQUIRE(first.result);
    CHECK(first.result->backup_won);
    CHECK(policy.sent() == 1);        // one initial token (+0.1 from two calls): one backup
    CHECK_FALSE(second.result);       // the other waits for its primary
}

TEST_CASE("hedge: a backup due without a token looks again every delay and starts once calls deposit one") {
    asio::io_context io;
    hedge_policy policy({.cold_delay = 500ms, .budget_ratio = 0.5, .initial_tokens = 0});
    hedge_call hung, quick;
    auto t0 = manual_clock::now();
    hung.start(io, policy, 100000ms, 5ms); // deposits 0.5
    test::advance(io, 600ms);
    CHECK(policy.sent() == 0); // due at 500 ms, no token
    quick.start(io, policy, 1ms, 1ms);     // deposits the other 0.5
    test::advance(io, 10ms);
    REQUIRE(quick.result);
    CHECK_FALSE(hung.result);
    test::advance(io, 400ms); // the next look, at 1000 ms, finds the token
    REQUIRE(hung.result);
    CHECK(hung.result->backup_won);
    CHECK(policy.sent() == 1);
    CHECK(hung.returned - t0 == 1005ms); // the look at 1000 ms, then the 5 ms backup
}

TEST_CASE("hedge: a primary whose target is stalled gets its backup without a token") {
    asio::io_context io;
    hedge_policy policy({.cold_delay = 500ms, .initial_tokens = 0});
    std::optional<hedge_result<fake_outcome>> result;
    bool cancelled[2] = {false, false};
    bool stalled = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
        result = co_await hedged<manual_timer>(
            policy, [&](int i) { return timed_attempt(i, i == 0 ? 100000ms : 5ms, true, cancelled[i]); },
            [&] { return stalled; });
    }, asio::detached);
    test::drain(io);
    test::advance(io, 600ms);
    CHECK(policy.sent() == 0); // no token, not stalled: it waits
    stalled = true;
    test::advance(io, 500ms); // the next look sees the stall
    REQUIRE(result);
    CHECK(result->backup_won);
    CHECK(cancelled[0]);
    CHECK(policy.sent() == 1); // counted as sent, though no token was spent
}

TEST_CASE("hedge: a slow primary gets a backup, the backup wins and the loser is cancelled") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    hedge_call r;
    r.start(io, policy, 1000ms, 5ms);
    test::advance(io, 9ms);
    CHECK(policy.sent() == 0); // not before the delay
    test::advance(io, 10ms);   // delay (10 ms) passed, backup (5 ms) done
    REQUIRE(r.result);
    CHECK(r.result->value.who == 1);
    CHECK(r.result->backup_started);
    CHECK(r.result->backup_won);
    CHECK(r.cancelled[0]); // not waited for: cancelled long before its 1000 ms
    CHECK_FALSE(r.cancelled[1]);
    CHECK(policy.won() == 1);
}

TEST_CASE("hedge: a fast primary wins without a backup") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    hedge_call r;
    r.start(io, policy, 3ms, 3ms);
    test::advance(io, 20ms);
    REQUIRE(r.result);
    CHECK(r.result->value.who == 0);
    CHECK_FALSE(r.result->backup_started);
    CHECK(policy.sent() == 0);
}

TEST_CASE("hedge: a primary failing before the delay returns at once, no backup") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    hedge_call r;
    r.start(io, policy, 2ms, 2ms, false);
    test::advance(io, 3ms);
    REQUIRE(r.result);
    CHECK_FALSE(r.result->value.ok());
    CHECK(r.result->value.who == 0);
    CHECK_FALSE(r.result->backup_started);
}

TEST_CASE("hedge: the budget caps backups at the configured ratio") {
    asio::io_context io;
    auto policy = trained_policy(10ms, 0.05);
    int done = 0;
    const int waves = 20, per_wave = 20, calls = waves * per_wave;
    for (int w = 0; w < waves; ++w) {
        for (int k = 0; k < per_wave; ++k) {
            asio::co_spawn(io, [&]() -> awaitable<void> {
                bool c0 = false, c1 = false;
                // Every primary is slow: every call would like a backup.
                co_await hedged<manual_timer>(policy, [&](int i) {
                    return timed_attempt(i, i == 0 ? 50ms : 5ms, true, i == 0 ? c0 : c1);
                });
                ++done;
            }, asio::detached);
        }
        test::advance(io, 60ms);
    }
    CHECK(done == calls);
    CHECK(policy.sent() <= static_cast<std::uint64_t>(calls * 0.05) + 1);
    CHECK(policy.sent() >= static_cast<std::uint64_t>(calls * 0.05) - 1);
}

TEST_CASE("hedge: a primary winning while hedging is on throws nothing") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    auto thrown = test::exceptions_thrown();
    hedge_call r;
    r.start(io, policy, 3ms, 3ms);
    test::advance(io, 3ms);
    REQUIRE(r.result);
    CHECK(r.result->value.who == 0);
    CHECK_FALSE(r.result->backup_started);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("hedge: the primary failing after the backup started waits for the backup, which wins") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    hedge_call f; // a primary that fails at 12 ms, a backup (from 10 ms) that succeeds at 20 ms
    auto t1 = manual_clock::now();
    asio::co_spawn(io, [&]() -> awaitable<void> {
        f.result = co_await hedged<manual_timer>(policy, [&](int i) {
            return timed_attempt(i, i == 0 ? 12ms : 10ms, i == 1, f.cancelled[i]);
        });
        f.returned = manual_clock::now();
    }, asio::detached);
    test::drain(io);
    test::advance(io, 20ms);
    REQUIRE(f.result);
    CHECK(f.result->value.who == 1);
    CHECK(f.result->value.ok());
    CHECK(f.result->backup_won);
    CHECK(f.returned == t1 + 20ms);
}

TEST_CASE("hedge: both attempts fail: the primary's failure once both ended, nothing thrown") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    auto thrown = test::exceptions_thrown();
    auto t0 = manual_clock::now();
    hedge_call r;
    r.start(io, policy, 30ms, 5ms, false); // the backup fails at 15 ms, the primary at 30 ms
    test::advance(io, 29ms);
    CHECK_FALSE(r.result); // the failed backup waits for the primary
    test::advance(io, 1ms);
    REQUIRE(r.result);
    CHECK(r.result->value.who == 0);
    CHECK_FALSE(r.result->value.ok());
    CHECK(r.result->backup_started);
    CHECK_FALSE(r.result->backup_won);
    CHECK(r.returned == t0 + 30ms);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("hedge: cancelling the call cancels both attempts and returns at once") {
    asio::io_context io;
    auto policy = trained_policy(10ms);
    auto thrown = test::exceptions_thrown();
    auto t0 = manual_clock::now();
    hedge_call r;
    r.start(io, policy, 100ms, 100ms);
    test::advance(io, 15ms); // the backup started at 10 ms
    r.outer.emit(asio::cancellation_type::terminal);
    test::drain(io);
    REQUIRE(r.result);
    CHECK(r.cancelled[0]);
    CHECK(r.cancelled[1]);
    CHECK(r.result->backup_started);
    CHECK_FALSE(r.result->value.ok());
    CHECK(r.returned == t0 + 15ms);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("hedge: without budget no backup starts and the slow primary's answer returns") {
    asio::io_context io;
    auto policy = trained_policy(10ms, 0.0);
    hedge_call r;
    r.start(io, policy, 40ms, 5ms);
    test::advance(io, 40ms);
    REQUIRE(r.result);
    CHECK(r.result->value.who == 0);
    CHECK(r.result->value.ok());
    CHECK_FALSE(r.result->backup_started);
    CHECK(policy.sent() == 0);
}
