#pragma once
// A fixed-bucket histogram as Prometheus exposes one: a count per upper
// bound (plus +Inf), the sum and the count of observations. Plain value,
// cheap to copy into a stats snapshot. Not thread-safe.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace herd {

class histogram {
public:
    /// `bounds`: ascending upper bounds (sorted here); +Inf is implied.
    explicit histogram(std::vector<double> bounds = {}) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
        std::sort(bounds_.begin(), bounds_.end());
    }

    /// Counts `x` in the first bucket whose bound is >= x (Prometheus's
    /// `le`), and in the sum and count.
    void observe(double x) noexcept {
        auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), x) - bounds_.begin());
        ++counts_[i];
        sum_ += x;
        ++count_;
    }

    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Observations <= bounds()[i] (cumulative); i == bounds().size() is +Inf.
    std::uint64_t cumulative(std::size_t i) const noexcept {
        std::uint64_t n = 0;
        for (std::size_t k = 0; k <= i && k < counts_.size(); ++k) n += counts_[k];
        return n;
    }
    double sum() const noexcept { return sum_; }
    std::uint64_t count() const noexcept { return count_; }

    /// Seconds from 1 ms to 60 s: embedding requests on a GPU to model loads.
    static std::vector<double> latency_bounds() {
        return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    }
    /// Powers of two from 1 to 256: texts per request.
    static std::vector<double> size_bounds() { return {1, 2, 4, 8, 16, 32, 64, 128, 256}; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_; // per bucket, not cumulative; last is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

} // namespace herd
