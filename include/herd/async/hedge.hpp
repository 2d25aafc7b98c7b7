#pragma once
// Hedged requests: start a backup attempt when the first is slow.
//
//   auto r = co_await hedged(policy, [&](int i) -> awaitable<outcome> {...});
//
// attempt(0) starts at once. If it has not finished after policy.delay()
// (a high percentile of recent latency) and the hedge budget has a token,
// attempt(1) starts too. The first *successful* attempt wins; the other is
// cancelled (terminal) and waited for, so no attempt outlives the call
// (race.hpp). A failed attempt waits while the other may still succeed.
// If the primary fails before the backup started, no backup starts and
// its failure is returned (retrying is the caller's business). If both
// fail, the primary's failure is returned.
//
// `Outcome` is any default-constructible, movable value with
// `bool ok() const`. Attempts must not throw; they report cancellation as
// an outcome, and check this_coro::cancellation_state before each of
// their asynchronous steps (they run with throw_if_cancelled off).
// hedged() itself throws nothing: not on a lost race, not on cancellation
// (in a coroutine with Asio's default throw_if_cancelled, Asio throws at
// the caller's next co_await once cancelled; pool operations turn it off).
//
// Budget: each call deposits `budget_ratio` tokens, each backup spends one,
// so backups stay below budget_ratio x calls (+ initial_tokens + a small
// burst). A backup due when no token is left checks again every delay
// until the primary ends. `stalled()`, when given and true at that moment,
// lets the backup start without a token: the caller knows the primary's
// target is hung (nothing answered), which is failure, not tail latency.
//
// Streams (chat) are never hedged: a half-delivered answer is not
// idempotent. The pool only hedges embeddings.
//
// Cancellation: cancelling the hedged() call cancels the running attempts
// (and a backup not yet started never starts); hedged() returns once they
// returned, with the primary's (cancelled) outcome unless an attempt
// succeeded in the same turn. A call already cancelled runs attempt(0)
// alone, which returns its cancelled outcome at once.
// Timer: the delay waits on `Timer` (asio::steady_timer by default; tests
// pass a timer on a virtual clock). Not thread-safe.

#include <herd/async/compat.hpp>
#include <herd/async/race.hpp>
#include <herd/async/stats.hpp>

#include <algorithm>
#include <optional>

namespace herd {

struct hedge_options {
    bool enabled = true;
    double quantile = 0.95;        ///< delay = this quantile of recent latency
    duration min_delay = std::chrono::milliseconds(1);
    std::size_t min_samples = 20;  ///< latencies before the quantile is trusted
    /// The delay while fewer than min_samples latencies are known: a cold
    /// pool whose first calls met a hung node gets them back after this.
    duration cold_delay = std::chrono::seconds(1);
    double budget_ratio = 0.05;    ///< backups per call, at most
    double max_burst = 10;         ///< tokens that may pile up
    double initial_tokens = 5;     ///< tokens a new policy starts with (<= max_burst)
};

class hedge_policy {
public:
    explicit hedge_policy(hedge_options o = {})
        : options_(o), window_(256, 8), tokens_(std::clamp(o.initial_tokens, 0.0, o.max_burst)) {}

    void on_latency(duration d) { window_.add(seconds(d)); }

    /// The delay after which a backup starts: cold_delay while the window
    /// has too few samples; nullopt while hedging is off.
    std::optional<duration> delay() {
        if (!options_.enabled) return std::nullopt;
        if (window_.size() < options_.min_samples) return std::max(options_.min_delay, options_.cold_delay);
        return std::max(options_.min_delay, from_seconds(window_.quantile(options_.quantile)));
    }

    void on_call() noexcept { tokens_ = std::min(tokens_ + options_.budget_ratio, options_.max_burst); }
    bool try_spend() noexcept {
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        ++sent_;
        return true;
    }
    /// A backup started without a token (see hedged()'s `stalled`).
    void spend_free() noexcept { ++sent_; }
    void on_backup_won() noexcept { ++won_; }

    std::uint64_t sent() const noexcept { return sent_; }
    std::uint64_t won() const noexcept { return won_; }
    const hedge_options& options() const noexcept { return options_; }

private:
    hedge_options options_;
    quantile_window window_;
    double tokens_;
    std::uint64_t sent_ = 0;
    std::uint64_t won_ = 0;
};

template <typename Outcome>
struct hedge_result {
    Outcome value;
    bool backup_started = false;
    bool backup_won = false;
};

struct never_stalled {
    bool operator()() const noexcept { return false; }
};

template <typename Timer = ::asio::steady_timer, typename Attempt, typename Stalled = never_stalled>
auto hedged(hedge_policy& policy, Attempt attempt, Stalled stalled = {})
    -> awaitable<hedge_result<typename decltype(attempt(0))::value_type>> {
    using outcome = typename decltype(attempt(0))::value_type;
    policy.on_call();
    auto delay = policy.delay();
    auto state = co_await ::asio::this_coro::cancellation_state;
    if (!delay || detail::was_cancelled(state)) {
        // Not `co_return result{co_await ...}`: g++ 12 destroys the awaited
        // temporary twice inside an aggregate initialiser.
        outcome only = co_await attempt(0);
        co_return hedge_result<outcome>{std::move(only)};
    }

    bool primary_running = true, backup_running = false, backup_started = false;
    // Waits until the race cancels this branch: a failed attempt stays in
    // the race while the other one may still succeed.
    auto park = [](Timer& t) -> awaitable<void> {
        auto state = co_await ::asio::this_coro::cancellation_state;
        if (detail::was_cancelled(state)) co_return;
        t.expires_at(Timer::time_point::max());
        co_await t.async_wait(compat::use_nothrow);
    };
    auto primary = [&]() -> awaitable<outcome> {
        outcome r = co_await attempt(0);
        primary_running = false;
        if (!r.ok() && backup_running) {
            Timer parked(co_await ::asio::this_coro::executor);
            co_await park(parked);
        }
        co_return r;
    };
    auto backup = [&]() -> awaitable<std::optional<outcome>> {
        Timer timer(co_await ::asio::this_coro::executor);
        timer.expires_after(*delay);
        auto [ec] = co_await timer.async_wait(compat::use_nothrow);
        auto state = co_await ::asio::this_coro::cancellation_state;
        if (ec || detail::was_cancelled(state)) co_return std::nullopt; // the primary ended, or the call was cancelled
        // No token yet: look again after another delay while the primary
        // runs (calls keep depositing), so a burst of requests on a hung
        // node is rescued within the budget instead of waiting for its
        // timeout.
        while (!policy.try_spend()) {
            if (stalled()) {
                policy.spend_free();
                break;
            }
            timer.expires_after(*delay);
            auto [wec] = co_await timer.async_wait(compat::use_nothrow);
            auto again = co_await ::asio::this_coro::cancellation_state;
            if (wec || detail::was_cancelled(again)) co_return std::nullopt;
        }
        backup_started = backup_running = true;
        outcome r = co_await attempt(1);
        backup_running = false;
        if (!r.ok() && primary_running) co_await park(timer);
        co_return r;
    };

    auto r = co_await race(std::move(primary), std::move(backup));
    if (!r.first) { // unreachable: the call was not cancelled before the race
        outcome only = co_await attempt(0);
        co_return hedge_result<outcome>{std::move(only)};
    }
    std::optional<outcome> second = r.second ? std::move(*r.second) : std::nullopt;
    bool won = second && second->ok() && (r.winner == 1 || !r.first->ok());
    if (won) policy.on_backup_won();
    co_return hedge_result<outcome>{std::move(won ? *second : *r.first), backup_started, won};
}

} // namespace herd
