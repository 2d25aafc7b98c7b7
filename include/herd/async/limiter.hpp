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
// latency above `queueing_factor` x the minimum for requests of a like size
// (over the last `latency_window` samples and at least `floor_memory`, so
// a queue that never drains does not become the minimum), and more than
// `min_queueing_delay` above it (jitter of fast nodes): requests are
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
#include <limits>
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
    /// The minimum also holds over at least this long (and at most twice
    /// it): 128 samples of a fast node are a few milliseconds, all of them
    /// queue-inflated once the limit runs ahead, and a minimum that forgets
    /// the idle latency that fast never sees queueing.
    duration floor_memory = std::chrono::seconds(5);
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
        const auto cls = std::min<std::size_t>(std::bit_width(inputs) - 1, size_classes - 1);
        auto& like = latencies_[cls];
        double floor = like.size() ? std::min(like.min(), floors_[cls].value(now, options_.floor_memory)) : per_input;
        like.add(per_input);
        floors_[cls].add(per_input, now, options_.floor_memory);
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

    // The minimum over the current and the previous period of `memory`.
    struct slow_min {
        double current = 0, previous = 0;
        time_point since{};
        bool seen = false;
        void add(double v, time_point now, duration memory) {
            if (!seen || now - since >= memory) {
                previous = seen ? current : v;
                current = v;
                since = now;
                seen = true;
            } else {
                current = std::min(current, v);
            }
        }
        double value(time_point now, duration memory) const {
            if (!seen) return std::numeric_limits<double>::infinity();
            return now - since >= memory ? current : std::min(current, previous);
        }
    };

    limiter_options options_;
    double limit_;
    std::vector<quantile_window> latencies_; // per size class
    slow_min floors_[size_classes];
    semaphore sem_;
    time_point last_decrease_{};
    std::size_t decreases_ = 0;
};

} // namespace herd
