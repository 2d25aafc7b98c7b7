#pragma once
// The pool's event log: what changed in the cluster and why (a node
// ejected or re-admitted, a concurrency limit cut, a model loaded, a hedge
// that won, a micro-batch given back, a failed attempt and its retry).
//
// Events of one call carry the same request id, through its retries and
// hedges (a corpus call: one id for all its micro-batches); events not
// caused by a call (a probe re-admitting a node, a model seen in /api/ps)
// carry 0. Library users receive them through pool_config::on_event; the
// pool also keeps the most recent ones in pool_stats::recent_events.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace herd {

enum class event_kind {
    node_ejected,     ///< consecutive failures (or a failed probe) ejected the node
    node_readmitted,  ///< a probe or a request succeeded on an ejected node
    limit_decreased,  ///< the node's AIMD limit was cut (value: the new limit)
    model_loaded,     ///< the node has `model` loaded now (it had not before)
    attempt_failed,   ///< one attempt of a call failed on `node` (detail: why)
    retry,            ///< the call is sent again, to `node` (value: attempt number)
    hedge_won,        ///< the backup on `node` answered before the primary
    batch_given_back, ///< a corpus micro-batch failed on `node` and went back (value: texts)
};

/// "node_ejected", "limit_decreased", ...
std::string_view to_string(event_kind kind) noexcept;

struct event {
    std::chrono::system_clock::time_point time;
    event_kind kind = event_kind::attempt_failed;
    std::uint64_t request_id = 0; ///< 0: not caused by a call
    std::string node;             ///< the node's URL
    std::string model;            ///< empty when not about a model
    std::string detail;           ///< the cause, in words
    double value = 0;             ///< see event_kind
};

/// One JSON object on one line (no newline): {"time": "2026-...Z", "event":
/// "node_ejected", "request_id": 7, "node": ..., "model": ..., "detail":
/// ..., "value": ...}; empty strings and a zero value are left out.
std::string to_json(const event& e);

/// Receives events on the pool's executor, in order. It must not throw and
/// must not destroy the pool.
using event_callback = std::function<void(const event&)>;

} // namespace herd
