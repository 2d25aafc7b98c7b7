#pragma once
// How long a node takes to serve a request of n inputs, learnt apart from
// the time requests wait in the node's queue.
//
//   model.on_complete(inputs, started, ended);   // every successful request
//   model.predict(n);                            // seconds of service
//   model.batch_for(0.05, 300ms, 1, 64);         // texts per request
//
// Why not latency: an Ollama embedding model serves one request at a time
// and requests sent while it is busy wait in its queue; that wait is part
// of the latency a client sees (measured on a real node: 200-316 ms of
// latency for 40 ms of work). Sizing batches by latency shrinks them as
// the queue grows, and the fixed per-request cost then dominates.
//
// How: completions of a one-at-a-time server are spaced by service times.
// A request that ended at `ended` was served from max(started, end of the
// previous completion) to `ended`. Those service times are fitted to
// fixed + per_input x n by least squares over a sliding window, so the
// per-request cost (which batching amortises) and the per-input cost are
// known separately. On a server with several slots the gaps measure node
// time per request (1 / throughput), which is what batch sizing needs.
// A sample far above the prediction (a random tail) is dropped unless
// several come in a row (the node really slowed down). The first
// completion is not used: it carries connection set-up and often the
// model's load.
//
// Time comes from the caller: testable on virtual time. Not thread-safe.

#include <herd/async/compat.hpp>
#include <herd/async/stats.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace herd {

class service_model {
public:
    struct options {
        std::size_t window = 64;  ///< recent requests the fit uses
        double outlier = 3.0;     ///< a sample above this x prediction is a tail
        std::size_t outliers_in_a_row = 3; ///< ...unless this many come in a row
    };

    service_model() : service_model(options{}) {}
    explicit service_model(options o) : options_(o), samples_(std::max<std::size_t>(o.window, 2)) {}

    /// A request of `inputs` inputs, sent at `started`, answered at `ended`.
    void on_complete(std::size_t inputs, time_point started, time_point ended) {
        auto begin = std::max(started, last_end_);
        last_end_ = std::max(last_end_, ended);
        if (ended > begin && inputs > 0) seen_per_input_ = seconds(ended - begin) / static_cast<double>(inputs);
        if (!warm_) {
            warm_ = true;
            return;
        }
        if (ended <= begin || inputs == 0) return; // overlapped another slot's answer
        double s = seconds(ended - begin);
        double n = static_cast<double>(inputs);
        if (known() && s > options_.outlier * predict(inputs) && ++outliers_ < options_.outliers_in_a_row) return;
        outliers_ = 0;
        samples_[next_] = {n, s};
        next_ = (next_ + 1) % samples_.size();
        count_ = std::min(count_ + 1, samples_.size());
        fit();
    }

    /// True once any request has been answered.
    bool answered() const noexcept { return warm_; }
    /// True once a fit exists (two samples or more).
    bool known() const noexcept { return count_ >= 2; }
    std::size_t samples() const noexcept { return count_; }
    /// When the last request answered (the epoch before any): the request
    /// queued behind it started its service then, not when it was sent.
    time_point last_end() const noexcept { return last_end_; }
    /// Seconds every request costs whatever its size (0 until known).
    double fixed() const noexcept { return fixed_; }
    /// Seconds each input adds (0 until known).
    double per_input() const noexcept { return per_input_; }
    /// Seconds of service for a request of `inputs` inputs.
    double predict(std::size_t inputs) const noexcept {
        return fixed_ + per_input_ * static_cast<double>(inputs);
    }
    /// Inputs per second with requests of `inputs` inputs back to back.
    double throughput(std::size_t inputs) const noexcept {
        double t = predict(inputs);
        return t > 0 ? static_cast<double>(inputs) / t : 0;
    }

    /// Texts per request: the smallest batch whose fixed cost is at most
    /// `overhead_share` of its service time, and at least enough to fill
    /// `target` of service; within [lo, hi]. Before the fit exists, as
    /// many as the last answer's time per input says fill `target` (a real
    /// CPU node can take 0.5 s a text: 16 of them would hold 8 s of a
    /// short corpus; a GPU node answers 4 texts in 17 ms and should get
    /// full requests at once). That time counts the fixed cost and the
    /// first answer's set-up as per input, so it errs towards smaller
    /// requests. Before any answer: `fallback`.
    std::size_t batch_for(double overhead_share, duration target, std::size_t lo, std::size_t hi,
                          std::size_t fallback) const noexcept {
        lo = std::max<std::size_t>(lo, 1);
        hi = std::max(hi, lo);
        if (!known() || per_input_ <= 0) {
            double fill = seen_per_input_ > 0 ? std::ceil(seconds(target) / seen_per_input_) : 0;
            if (fill > 0) fallback = fill < static_cast<double>(hi) ? static_cast<std::size_t>(fill) : hi;
            return std::clamp(fallback, lo, hi);
        }
        double amortise = fixed_ * (1 - overhead_share) / (std::max(overhead_share, 1e-3) * per_input_);
        double fill = seconds(target) / per_input_;
        double n = std::ceil(std::max(amortise, fill));
        if (!(n < static_cast<double>(hi))) return hi; // also catches NaN
        return std::clamp(static_cast<std::size_t>(n), lo, hi);
    }

private:
    struct sample {
        double n = 0, s = 0;
    };

    void fit() noexcept {
        double sn = 0, ss = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            sn += samples_[i].n;
            ss += samples_[i].s;
        }
        double k = static_cast<double>(count_);
        double mn = sn / k, ms = ss / k;
        double var = 0, cov = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            var += (samples_[i].n - mn) * (samples_[i].n - mn);
            cov += (samples_[i].n - mn) * (samples_[i].s - ms);
        }
        // Sizes too alike to separate the two costs (the slope is not
        // clearly above its own noise: requests of 14-16 texts can put all
        // of the time in a "fixed" cost, and a node would then be sent 64
        // texts it takes four times as long for), or a fit that noise bent
        // below zero: all of the time is per input. That over-predicts
        // larger requests, the safe side for batch sizes and queue
        // estimates.
        const double slope = var > 1e-9 ? cov / var : 0;
        double residuals = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            double r = samples_[i].s - ms - slope * (samples_[i].n - mn);
            residuals += r * r;
        }
        const double slope_error = count_ > 2 && var > 1e-9 ? std::sqrt(residuals / (k - 2) / var) : slope;
        if (var < 1e-9 || cov <= 0 || slope < significant * slope_error || ms - slope * mn < 0) {
            fixed_ = 0;
            per_input_ = ms / std::max(mn, 1e-9);
            return;
        }
        per_input_ = slope;
        fixed_ = ms - per_input_ * mn;
    }

    static constexpr double significant = 3; ///< the slope must exceed this many standard errors

    options options_;
    std::vector<sample> samples_;
    std::size_t next_ = 0, count_ = 0, outliers_ = 0;
    time_point last_end_{};
    bool warm_ = false;
    double fixed_ = 0, per_input_ = 0;
    double seen_per_input_ = 0; // the last answer's service time per input, fitted or not
};

} // namespace herd
