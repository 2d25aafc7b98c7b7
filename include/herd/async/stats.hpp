#pragma once
// Streaming statistics for latency-driven decisions. Every type takes the
// current time from its caller (a `time_point` argument), never from a clock
// of its own, so tests drive them on virtual time.
//
// Not thread-safe; plain values, no allocation after construction.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herd {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

/// Seconds as a double, for arithmetic on durations.
inline double seconds(duration d) noexcept { return std::chrono::duration<double>(d).count(); }
inline duration from_seconds(double s) noexcept {
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
}

/// Exponentially weighted moving average with a fixed weight per sample.
class ewma {
public:
    explicit ewma(double alpha = 0.2) : alpha_(alpha) {}
    void add(double x) noexcept {
        value_ = seeded_ ? value_ + alpha_ * (x - value_) : x;
        seeded_ = true;
    }
    double value() const noexcept { return value_; }
    bool empty() const noexcept { return !seeded_; }

private:
    double alpha_;
    double value_ = 0;
    bool seeded_ = false;
};

/// Peak-EWMA (Finagle): jumps up to a slower sample at once, decays towards
/// faster ones with time constant `tau`. A router scoring nodes by it moves
/// away from a node the moment it slows down and returns gradually. Read
/// with value(now), the estimate also decays while no sample arrives, so a
/// node avoided once is tried again instead of being starved forever.
class peak_ewma {
public:
    explicit peak_ewma(duration tau = std::chrono::seconds(10)) : tau_(seconds(tau)) {}

    void add(double sample, time_point now) noexcept {
        if (!seeded_ || sample > value_) {
            value_ = sample;
        } else {
            double w = std::exp(-std::max(0.0, seconds(now - last_)) / tau_);
            value_ = value_ * w + sample * (1 - w);
        }
        last_ = now;
        seeded_ = true;
    }
    /// The last estimate, 0 before the first sample.
    double value() const noexcept { return value_; }
    /// The estimate decayed by the time since the last sample.
    double value(time_point now) const noexcept {
        return value_ * std::exp(-std::max(0.0, seconds(now - last_)) / tau_);
    }
    bool empty() const noexcept { return !seeded_; }

private:
    double tau_;
    double value_ = 0;
    time_point last_{};
    bool seeded_ = false;
};

/// Quantiles over the last `capacity` samples (a sliding window). quantile()
/// costs O(capacity) and is cached until `refresh_every` new samples
/// arrived, so asking on every request is cheap.
class quantile_window {
public:
    explicit quantile_window(std::size_t capacity = 512, std::size_t refresh_every = 16)
        : samples_(capacity), refresh_every_(refresh_every ? refresh_every : 1) {}

    void add(double x) noexcept {
        samples_[next_] = x;
        next_ = (next_ + 1) % samples_.size();
        count_ = std::min(count_ + 1, samples_.size());
        ++since_refresh_;
    }

    std::size_t size() const noexcept { return count_; }

    /// The q-quantile (0..1) of the window, or 0 when empty.
    double quantile(double q) {
        if (count_ == 0) return 0;
        if (q != cached_q_ || since_refresh_ >= refresh_every_) {
            scratch_.assign(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(count_));
            auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_ - 1) + 0.5);
            std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(k), scratch_.end());
            cached_ = scratch_[k];
            cached_q_ = q;
            since_refresh_ = 0;
        }
        return cached_;
    }

    /// The smallest sample in the window (0 when empty).
    double min() const noexcept {
        if (count_ == 0) return 0;
        return *std::min_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(count_));
    }

private:
    std::vector<double> samples_;
    std::vector<double> scratch_;
    std::size_t next_ = 0;
    std::size_t count_ = 0;
    std::size_t refresh_every_;
    std::size_t since_refresh_ = 0;
    double cached_ = 0;
    double cached_q_ = -1;
};

/// Events per second over a sliding window of `buckets` x `bucket_width`.
class rate_meter {
public:
    explicit rate_meter(duration bucket_width = std::chrono::seconds(1), std::size_t buckets = 10)
        : width_(bucket_width), counts_(buckets, 0) {}

    void add(std::uint64_t n, time_point now) noexcept {
        advance(now);
        counts_[head_] += n;
    }

    double per_second(time_point now) noexcept {
        advance(now);
        std::uint64_t total = 0;
        for (auto c : counts_) total += c;
        return static_cast<double>(total) / (seconds(width_) * static_cast<double>(counts_.size()));
    }

    /// The count of each bucket of the window, oldest first; the last is
    /// the bucket `now` falls in (still filling).
    std::vector<std::uint64_t> buckets(time_point now) {
        advance(now);
        std::vector<std::uint64_t> out;
        out.reserve(counts_.size());
        for (std::size_t i = 1; i <= counts_.size(); ++i) out.push_back(counts_[(head_ + i) % counts_.size()]);
        return out;
    }

private:
    void advance(time_point now) noexcept {
        auto slot = (now.time_since_epoch() / width_);
        if (!started_) {
            slot_ = slot;
            started_ = true;
        }
        if (slot - slot_ >= static_cast<long long>(counts_.size())) { // idle longer than the window
            std::fill(counts_.begin(), counts_.end(), 0);
            slot_ = slot;
        }
        while (slot_ < slot) {
            head_ = (head_ + 1) % counts_.size();
            counts_[head_] = 0;
            ++slot_;
        }
    }

    duration width_;
    std::vector<std::uint64_t> counts_;
    std::size_t head_ = 0;
    long long slot_ = 0;
    bool started_ = false;
};

} // namespace herd
