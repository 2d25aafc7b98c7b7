#pragma once
// Statistics snapshots (plain values, safe to copy to another thread) and
// their two expositions: Prometheus text for scrapers, JSON for the
// dashboard (GET /api/herd/stats).
//
// A library user serves metrics from their own HTTP server with one call
// on the pool's executor:
//
//   std::string body = herd::to_prometheus(pool.stats());   // text/plain; version=0.0.4

#include <herd/events.hpp>
#include <herd/histogram.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace herd {

/// A model a node has, as /api/tags, /api/ps and its own answers told.
struct model_presence {
    std::string name;
    bool loaded = false; ///< in memory now
    bool on_gpu = false; ///< loaded entirely in GPU memory
};

struct node_stats {
    std::string url;
    std::uint64_t requests = 0;      ///< answered or failed (embeddings and completions)
    std::uint64_t failures = 0;
    std::map<std::string, std::uint64_t> failures_by_cause; ///< by cause_name() (error.hpp)
    std::uint64_t inputs = 0;        ///< texts embedded
    double success_rate = 1;         ///< recent (EWMA)
    double latency_p50 = 0;          ///< seconds, recent successful requests
    double latency_p95 = 0;
    double latency_p99 = 0;
    double latency_ewma = 0;
    histogram latency{histogram::latency_bounds()}; ///< every successful embedding request, seconds
    histogram ttft{histogram::latency_bounds()};    ///< completions' time to first part, seconds
    std::size_t concurrency_limit = 0; ///< AIMD limit of embedding requests
    std::uint64_t limit_decreases = 0;
    std::size_t in_flight = 0;       ///< embedding requests holding a permit
    std::size_t queued = 0;          ///< embedding requests waiting for a permit
    bool ejected = false;
    std::uint64_t ejections = 0;
    double embeddings_per_second = 0; ///< over the last 10 s
    std::vector<model_presence> models;
    std::string last_error;
};

struct pool_stats {
    std::vector<node_stats> nodes;
    std::uint64_t calls = 0;         ///< requests asked of the pool
    std::uint64_t failed_calls = 0;  ///< calls that failed everywhere
    std::uint64_t retries = 0;
    double retry_budget_left = 0;    ///< retries the budget allows right now
    std::uint64_t hedges_sent = 0;
    std::uint64_t hedges_won = 0;
    histogram coalesced_batch_sizes{histogram::size_bounds()}; ///< texts per coalesced request
    std::uint64_t backup_tasks = 0;  ///< corpus micro-batches sent again to a faster node
    std::uint64_t batches_given_back = 0; ///< corpus micro-batches that failed and went back
    std::uint64_t inputs = 0;        ///< texts embedded
    double embeddings_per_second = 0;
    /// Texts embedded in each second of the last five minutes, oldest
    /// first; the last second is still counting.
    std::vector<std::uint64_t> throughput_history;
    std::vector<event> recent_events; ///< the last few, oldest first
};

/// Prometheus text format (version 0.0.4) of a snapshot: families named
/// herd_* (seconds as the unit, counters ending in _total), every node's
/// series labelled node="URL" (label values escaped), latencies as
/// histograms. Never throws except std::bad_alloc.
std::string to_prometheus(const pool_stats& stats);

/// The snapshot as one JSON object (what the dashboard polls); `now_unix`
/// is the "time" field in seconds since the epoch. Never throws except
/// std::bad_alloc.
std::string to_json(const pool_stats& stats, double now_unix);

} // namespace herd
