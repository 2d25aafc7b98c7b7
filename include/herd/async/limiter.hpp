#pragma once
// Adaptive concurrency limit (AIMD) over a priority semaphore.
//
//   auto permit = co_await lim.acquire(priority);
//   ... request ...
//   lim.on_success(latency, inputs, started, now) / lim.on_drop(started, now)
//
// Additive increase: a success observed while the limit was in use
// (in-flight at least half the limit) raises the limit by 1/limit, i.e.
// by about one per round of `limit` requests.
// Multiplicative decrease: a drop — 503 busy, timeout, connection failure,
// or a latency (per input) above `queueing_factor` x the node's recent
// minimum, which means requests are queueing on the node — multiplies the
// limit by `decrease_factor`. One congestion event decreases once: drops of
// requests that started before the last decrease are ignored.
// The limit stays within [min_limit, max_limit].
//
// Cancellation and errors of acquire() are those of semaphore::acquire().
// Timing comes from the caller (time_point arguments): testable on virtual
// time. Not thread-safe.

#include <herd/async/semaphore.hpp>
#include <herd/async/stats.hpp>

#include <algorithm>

namespace herd {

struct limiter_options {
    double initial_limit = 2;
    double min_limit = 1;
    double max_limit = 64;
    double decrease_factor = 0.7;
    double queueing_factor = 2.5;          ///< latency/min above this is a drop
    std::size_t latency_window = 128;      ///< samples for the recent minimum
};

class limiter {
public:
    limiter(executor ex, limiter_options options = {})
        : options_(options), limit_(std::clamp(options.initial_limit, options.min_limit, options.max_limit)),
          latencies_(options.latency_window ? options.latency_window : 1, 1),
          sem_(std::move(ex), static_cast<std::size_t>(limit_)) {}

    /// Waits for a permit (see semaphore::acquire()).
    awaitable<semaphore::permit> acquire(int priority = semaphore::default_priority) {
        return sem_.acquire(priority);
    }

    /// A request that started at `started` succeeded after `latency`,
    /// computing `inputs` texts (1 for a chat).
    void on_success(duration latency, std::size_t inputs, time_point started, time_point now) {
        double per_input = seconds(latency) / static_cast<double>(std::max<std::size_t>(inputs, 1));
        double floor = latencies_.size() ? latencies_.min() : per_input;
        latencies_.add(per_input);
        if (per_input > options_.queueing_factor * floor && latencies_.size() > 4) {
            on_drop(started, now);
            return;
        }
        // in_use() still counts this request's permit.
        if (static_cast<double>(sem_.in_use()) * 2 >= limit_) set(limit_ + 1.0 / limit_);
    }

    /// A request that started at `started` was dropped (busy, timeout,
    /// connection failure, queueing).
    void on_drop(time_point started, time_point now) {
        if (started < last_decrease_) return;
        last_decrease_ = now;
        ++decreases_;
        set(limit_ * options_.decrease_factor);
    }

    std::size_t limit() const noexcept { return sem_.limit(); }
    double exact_limit() const noexcept { return limit_; }
    std::size_t in_use() const noexcept { return sem_.in_use(); }
    std::size_t waiting() const noexcept { return sem_.waiting(); }
    std::size_t decreases() const noexcept { return decreases_; }
    semaphore& gate() noexcept { return sem_; }

private:
    void set(double l) {
        limit_ = std::clamp(l, options_.min_limit, options_.max_limit);
        sem_.set_limit(static_cast<std::size_t>(limit_));
    }

    limiter_options options_;
    double limit_;
    quantile_window latencies_;
    semaphore sem_;
    time_point last_decrease_{};
    std::size_t decreases_ = 0;
};

} // namespace herd
