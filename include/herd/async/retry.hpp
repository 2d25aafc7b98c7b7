#pragma once
// Retry policy pieces: a retry budget and exponential backoff with jitter.
//
// retry_budget (as in Finagle/Envoy): each request deposits `ratio` of a
// token, each retry withdraws one; a floor of `min_per_second` retries is
// always allowed so a quiet client can still retry. Retries therefore stay
// below ratio x requests (plus the floor) even when every node fails,
// which keeps a failing cluster from being buried in retries.
//
// backoff: full jitter over base x 2^attempt, capped.
//
// Time comes from the caller. Not thread-safe.

#include <herd/async/stats.hpp>

#include <algorithm>
#include <cstdint>
#include <random>

namespace herd {

struct retry_options {
    double budget_ratio = 0.2;       ///< retries per request, on average
    double min_per_second = 10;      ///< retries always allowed per second
    std::size_t max_attempts = 6;    ///< attempts per call, first included
    duration backoff_base = std::chrono::milliseconds(5);
    duration backoff_cap = std::chrono::milliseconds(500);
};

class retry_budget {
public:
    explicit retry_budget(retry_options o = {}) : options_(o) {}

    /// A first attempt was made.
    void on_request() noexcept { tokens_ = std::min(tokens_ + options_.budget_ratio, cap()); }

    /// True (and spends) when a retry is allowed now.
    bool try_retry(time_point now) noexcept {
        refill_floor(now);
        if (floor_tokens_ >= 1) {
            floor_tokens_ -= 1;
            ++retries_;
            return true;
        }
        if (tokens_ >= 1) {
            tokens_ -= 1;
            ++retries_;
            return true;
        }
        ++refused_;
        return false;
    }

    /// Retries allowed at `now` if asked (the floor refilled to `now`, plus
    /// the deposited tokens); for metrics, spends nothing.
    double available(time_point now) const noexcept {
        double floor = options_.min_per_second;
        if (last_ != time_point{})
            floor = std::min(options_.min_per_second, floor_tokens_ + seconds(now - last_) * options_.min_per_second);
        return floor + tokens_;
    }

    std::uint64_t retries() const noexcept { return retries_; }
    std::uint64_t refused() const noexcept { return refused_; }

private:
    double cap() const noexcept { return std::max(10.0, options_.budget_ratio * 1000); }
    void refill_floor(time_point now) noexcept {
        if (last_ == time_point{}) { // start with a full floor
            last_ = now;
            floor_tokens_ = options_.min_per_second;
        }
        floor_tokens_ = std::min(options_.min_per_second,
                                 floor_tokens_ + seconds(now - last_) * options_.min_per_second);
        last_ = now;
    }

    retry_options options_;
    double tokens_ = 0;
    double floor_tokens_ = 0;
    time_point last_{};
    std::uint64_t retries_ = 0;
    std::uint64_t refused_ = 0;
};

/// Backoff before retry number `attempt` (1 = first retry): uniform in
/// [0, min(cap, base x 2^(attempt-1))].
template <typename Rng>
duration backoff_delay(const retry_options& o, std::size_t attempt, Rng& rng) {
    double ceiling = seconds(o.backoff_base) * static_cast<double>(1ULL << std::min<std::size_t>(attempt ? attempt - 1 : 0, 20));
    ceiling = std::min(ceiling, seconds(o.backoff_cap));
    std::uniform_real_distribution<double> d(0, ceiling);
    return from_seconds(d(rng));
}

} // namespace herd
