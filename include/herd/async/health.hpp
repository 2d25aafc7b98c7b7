#pragma once
// Passive health of one node: `failure_threshold` consecutive failures
// eject it for a backoff that doubles with each ejection (capped). When the
// backoff has passed, the node is due for an active probe; a probe that
// succeeds re-admits it, one that fails ejects it again for twice as long.
//
// Any success re-admits and clears the failure streak. Time comes from the
// caller. Not thread-safe.

#include <herd/async/stats.hpp>

#include <algorithm>
#include <cstdint>

namespace herd {

struct health_options {
    std::size_t failure_threshold = 3;
    duration base_ejection = std::chrono::milliseconds(500);
    duration max_ejection = std::chrono::seconds(30);
    duration probe_interval = std::chrono::milliseconds(250); ///< between probes of an ejected node
};

class health {
public:
    explicit health(health_options o = {}) : options_(o) {}

    void on_success() noexcept {
        streak_ = 0;
        if (ejected_) readmit();
    }

    /// Returns true when this failure ejects the node.
    bool on_failure(time_point now) noexcept {
        ++streak_;
        if (ejected_ || streak_ < options_.failure_threshold) return false;
        eject(now);
        return true;
    }

    /// A probe of an ejected node came back.
    void on_probe(bool ok, time_point now) noexcept {
        if (!ejected_) return;
        if (ok) readmit();
        else eject(now);
    }

    bool ejected() const noexcept { return ejected_; }
    /// An ejected node whose ejection time has passed: probe it.
    bool probe_due(time_point now) const noexcept { return ejected_ && now >= until_; }
    time_point ejected_until() const noexcept { return until_; }
    std::uint64_t ejections() const noexcept { return ejections_; }
    const health_options& options() const noexcept { return options_; }

private:
    void eject(time_point now) noexcept {
        ejected_ = true;
        ++ejections_;
        ++consecutive_ejections_;
        auto d = options_.base_ejection * (1LL << std::min<std::uint64_t>(consecutive_ejections_ - 1, 16));
        until_ = now + std::min<duration>(d, options_.max_ejection);
    }
    void readmit() noexcept {
        ejected_ = false;
        streak_ = 0;
        consecutive_ejections_ = 0;
    }

    health_options options_;
    std::size_t streak_ = 0;
    bool ejected_ = false;
    time_point until_{};
    std::uint64_t ejections_ = 0;
    std::uint64_t consecutive_ejections_ = 0;
};

} // namespace herd
