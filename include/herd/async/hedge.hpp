#pragma once
// Hedged requests: start a backup attempt when the first is slow.
//
//   auto r = co_await hedged(policy, [&](int i) -> awaitable<outcome> {...});
//
// attempt(0) starts at once. If it has not finished after policy.delay()
// (a high percentile of recent latency) and the hedge budget has a token,
// attempt(1) starts too. The first *successful* attempt wins and the other
// is cancelled through Asio cancellation — it is not waited for. If the
// first attempt fails before the backup started, no backup is started and
// its failure is returned at once (retrying is the caller's business). If
// both fail, the first failure is returned.
//
// `Outcome` is any movable value with `bool ok() const`. Attempts must not
// throw (except on cancellation of the loser, which is swallowed).
//
// Budget: each call deposits `budget_ratio` tokens, each backup spends one,
// so backups stay below budget_ratio x calls (+ a small burst).
//
// Streams (chat) are never hedged: a half-delivered answer is not
// idempotent. The pool only hedges embeddings.
//
// Cancellation: cancelling the hedged() call cancels both attempts.
// Timer: the delay waits on `Timer` (asio::steady_timer by default; tests
// pass a timer on a virtual clock). Not thread-safe.

#include <herd/async/compat.hpp>
#include <herd/async/stats.hpp>

#include <exception>
#include <optional>
#include <variant>

namespace herd {

struct hedge_options {
    bool enabled = true;
    double quantile = 0.95;        ///< delay = this quantile of recent latency
    duration min_delay = std::chrono::milliseconds(1);
    std::size_t min_samples = 20;  ///< no hedging before this many latencies
    double budget_ratio = 0.05;    ///< backups per call, at most
    double max_burst = 10;         ///< tokens that may pile up
};

class hedge_policy {
public:
    explicit hedge_policy(hedge_options o = {}) : options_(o), window_(256, 8) {}

    void on_latency(duration d) { window_.add(seconds(d)); }

    /// The delay after which a backup starts; nullopt while hedging is off
    /// or the window has too few samples.
    std::optional<duration> delay() {
        if (!options_.enabled || window_.size() < options_.min_samples) return std::nullopt;
        return std::max(options_.min_delay, from_seconds(window_.quantile(options_.quantile)));
    }

    void on_call() noexcept { tokens_ = std::min(tokens_ + options_.budget_ratio, options_.max_burst); }
    bool try_spend() noexcept {
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        ++sent_;
        return true;
    }
    void on_backup_won() noexcept { ++won_; }

    std::uint64_t sent() const noexcept { return sent_; }
    std::uint64_t won() const noexcept { return won_; }
    const hedge_options& options() const noexcept { return options_; }

private:
    hedge_options options_;
    quantile_window window_;
    double tokens_ = 0;
    std::uint64_t sent_ = 0;
    std::uint64_t won_ = 0;
};

template <typename Outcome>
struct hedge_result {
    Outcome value;
    bool backup_started = false;
    bool backup_won = false;
};

namespace detail {
template <typename Outcome>
struct failed_attempt {
    Outcome value;
};
struct backup_skipped {};
} // namespace detail

template <typename Timer = ::asio::steady_timer, typename Attempt>
auto hedged(hedge_policy& policy, Attempt attempt)
    -> awaitable<hedge_result<typename decltype(attempt(0))::value_type>> {
    using outcome = typename decltype(attempt(0))::value_type;
    policy.on_call();
    auto delay = policy.delay();
    if (!delay) {
        // Not `co_return result{co_await ...}`: g++ 12 destroys the awaited
        // temporary twice inside an aggregate initialiser.
        outcome only = co_await attempt(0);
        co_return hedge_result<outcome>{std::move(only)};
    }

    auto ex = co_await ::asio::this_coro::executor;
    Timer timer(ex);
    timer.expires_after(*delay);
    bool primary_failed = false;
    bool backup_started = false;

    auto primary = [&]() -> awaitable<outcome> {
        outcome r = co_await attempt(0);
        if (!r.ok()) {
            primary_failed = true;
            timer.cancel(); // a backup not yet started must not start
            throw detail::failed_attempt<outcome>{std::move(r)};
        }
        co_return r;
    };
    auto backup = [&]() -> awaitable<outcome> {
        auto [ec] = co_await timer.async_wait(compat::use_nothrow);
        if (!ec && !primary_failed && policy.try_spend()) {
            backup_started = true;
            outcome r = co_await attempt(1);
            if (!r.ok()) throw detail::failed_attempt<outcome>{std::move(r)};
            co_return r;
        }
        if (!primary_failed && !ec) {
            // No budget: stay out of the race until the primary ends.
            timer.expires_at(Timer::time_point::max());
            co_await timer.async_wait(compat::use_nothrow);
        }
        throw detail::backup_skipped{};
    };

    using namespace compat::awaitable_operators;
    try {
        auto v = co_await (primary() || backup());
        bool won = v.index() == 1;
        if (won) policy.on_backup_won();
        co_return hedge_result<outcome>{std::move(won ? std::get<1>(v) : std::get<0>(v)), backup_started, won};
    } catch (const ::asio::multiple_exceptions& e) {
        try {
            std::rethrow_exception(e.first_exception());
        } catch (detail::failed_attempt<outcome>& f) {
            co_return hedge_result<outcome>{std::move(f.value), backup_started, false};
        }
    }
}

} // namespace herd
