#pragma once
// Statistics snapshots (plain values, safe to copy to another thread) and
// their Prometheus text exposition.

#include <cstdint>
#include <string>
#include <vector>

namespace herd {

struct node_stats {
    std::string url;
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::uint64_t inputs = 0;
    double success_rate = 1;         ///< recent (EWMA)
    double latency_p50 = 0;          ///< seconds, recent successful requests
    double latency_p95 = 0;
    double latency_p99 = 0;
    double latency_ewma = 0;
    std::size_t concurrency_limit = 0;
    std::size_t in_flight = 0;
    bool ejected = false;
    std::uint64_t ejections = 0;
    double embeddings_per_second = 0; ///< over the last 10 s
    std::string last_error;
};

struct pool_stats {
    std::vector<node_stats> nodes;
    std::uint64_t calls = 0;         ///< requests asked of the pool
    std::uint64_t failed_calls = 0;  ///< calls that failed everywhere
    std::uint64_t retries = 0;
    std::uint64_t hedges_sent = 0;
    std::uint64_t hedges_won = 0;
    std::uint64_t inputs = 0;        ///< texts embedded
    double embeddings_per_second = 0;
};

/// Prometheus text format (version 0.0.4) of a snapshot, metric names
/// prefixed "herd_".
std::string to_prometheus(const pool_stats& stats);

} // namespace herd
