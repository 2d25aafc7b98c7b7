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
// or queueing — multiplies the limit by `decrease_factor`. Queueing is a
// latency above `queueing_factor` x the recent minimum for requests of a
// like size (and more than `min_queueing_delay` above it): requests are
// compared within size classes 1, 2-3, 4-7, ... (per input within a
// class), since a 64-text request is not slow next to a 1-text one. A
// size class with no sample yet judges nothing. One congestion event decreases once: drops of
// requests that started before the last decrease are ignored.
// The limit stays within [min_limit, max_limit].
//
// Cancellation and errors of acquire() are those of semaphore::acquire().
// Timing comes from the caller (time_point arguments): testable on virtual
// time. Not thread-safe.

#include <herd/async/semaphore.hpp>
#include <herd/async/stats.hpp>

#include <algorithm>
#include <bit>
#include <vector>

namespace herd {

struct limiter_options {
    double initial_limit = 2;
    double min_limit = 1;
    double max_limit = 64;
    double decrease_factor = 0.7;
    double queueing_factor = 2.5;          ///< latency/min above this is a drop
    /// Latency this close to the minimum is jitter, not queueing (a node
    /// answering in 100 us varies by more than 2.5x).
    duration min_queueing_delay = std::chrono::milliseconds(2);
    std::size_t latency_window = 128;      ///< samples per size class for the recent minimum
};

class limiter {
public:
    limiter(executor ex, limiter_options options = {})
        : options_(options), limit_(std::clamp(options.initial_limit, options.min_limit, options.max_limit)),
          latencies_(size_classes, quantile_window(options.latency_window ? options.latency_window : 1, 1)),
          sem_(std::move(ex), static_cast<std::size_t>(limit_)) {}

    /// Waits for a permit (see semaphore::acquire()).
    awaitable<semaphore::permit> acquire(int priority = semaphore::default_priority) {
        return sem_.acquire(priority);
    }

    /// A request that started at `started` succeeded after `latency`,
    /// computing `inputs` texts (1 for a chat).
    void on_success(duration latency, std::size_t inputs, time_point started, time_point now) {
        inputs = std::max<std::size_t>(inputs, 1);
        double per_input = seconds(latency) / static_cast<double>(inputs);
        auto& like = latencies_[std::min<std::size_t>(std::bit_width(inputs) - 1, size_classes - 1)];
        double floor = like.size() ? like.min() : per_input;
        like.add(per_input);
        double over = (per_input - floor) * static_cast<double>(inputs);
        if (per_input > options_.queueing_factor * floor && over > seconds(options_.min_queueing_delay) &&
            like.size() > 4) {
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

    static constexpr std::size_t size_classes = 8; // 1, 2-3, ..., 64-127, 128+

    limiter_options options_;
    double limit_;
    std::vector<quantile_window> latencies_; // per size class
    semaphore sem_;
    time_point last_decrease_{};
    std::size_t decreases_ = 0;
};

} // namespace herd
