// The stats snapshot as JSON, for the dashboard (GET /api/herd/stats).
#include "event_json.hpp"

#include <herd/metrics.hpp>

namespace herd {

std::string to_json(const pool_stats& s, double now_unix) {
    using nlohmann::json;
    json nodes = json::array();
    for (const auto& n : s.nodes) {
        json models = json::array();
        for (const auto& m : n.models) models.push_back({{"name", m.name}, {"loaded", m.loaded}, {"on_gpu", m.on_gpu}});
        nodes.push_back({{"url", n.url},
                         {"requests", n.requests},
                         {"failures", n.failures},
                         {"failures_by_cause", n.failures_by_cause},
                         {"inputs", n.inputs},
                         {"success_rate", n.success_rate},
                         {"latency_p50", n.latency_p50},
                         {"latency_p95", n.latency_p95},
                         {"latency_p99", n.latency_p99},
                         {"concurrency_limit", n.concurrency_limit},
                         {"limit_decreases", n.limit_decreases},
                         {"in_flight", n.in_flight},
                         {"queued", n.queued},
                         {"ejected", n.ejected},
                         {"ejections", n.ejections},
                         {"embeddings_per_second", n.embeddings_per_second},
                         {"models", std::move(models)},
                         {"last_error", n.last_error}});
    }
    json events = json::array();
    for (const auto& e : s.recent_events) events.push_back(detail::as_json(e));
    json j{{"time", now_unix},
           {"nodes", std::move(nodes)},
           {"calls", s.calls},
           {"failed_calls", s.failed_calls},
           {"retries", s.retries},
           {"retry_budget_left", s.retry_budget_left},
           {"hedges_sent", s.hedges_sent},
           {"hedges_won", s.hedges_won},
           {"backup_tasks", s.backup_tasks},
           {"batches_given_back", s.batches_given_back},
           {"inputs", s.inputs},
           {"embeddings_per_second", s.embeddings_per_second},
           {"throughput_history", s.throughput_history},
           {"events", std::move(events)}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace herd
