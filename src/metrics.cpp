#include <herd/metrics.hpp>

#include <fmt/format.h>

namespace herd {

std::string to_prometheus(const pool_stats& s) {
    std::string out;
    auto it = std::back_inserter(out);
    auto family = [&](const char* name, const char* type, const char* help) {
        fmt::format_to(it, "# HELP herd_{} {}\n# TYPE herd_{} {}\n", name, help, name, type);
    };
    auto per_node = [&](const char* name, const char* type, const char* help, auto value) {
        family(name, type, help);
        for (const auto& n : s.nodes) fmt::format_to(it, "herd_{}{{node=\"{}\"}} {}\n", name, n.url, value(n));
    };
    per_node("node_requests_total", "counter", "Requests sent to the node.", [](auto& n) { return n.requests; });
    per_node("node_failures_total", "counter", "Requests the node failed.", [](auto& n) { return n.failures; });
    per_node("node_inputs_total", "counter", "Texts the node embedded.", [](auto& n) { return n.inputs; });
    per_node("node_success_rate", "gauge", "Recent success rate (EWMA).", [](auto& n) { return n.success_rate; });
    family("node_latency_seconds", "gauge", "Recent request latency quantiles.");
    for (const auto& n : s.nodes)
        for (auto [q, v] : {std::pair{"0.5", n.latency_p50}, {"0.95", n.latency_p95}, {"0.99", n.latency_p99}})
            fmt::format_to(it, "herd_node_latency_seconds{{node=\"{}\",quantile=\"{}\"}} {}\n", n.url, q, v);
    per_node("node_concurrency_limit", "gauge", "Current adaptive concurrency limit.",
             [](auto& n) { return n.concurrency_limit; });
    per_node("node_in_flight", "gauge", "Requests in flight or waiting.", [](auto& n) { return n.in_flight; });
    per_node("node_ejected", "gauge", "1 while health checking ejects the node.",
             [](auto& n) { return n.ejected ? 1 : 0; });
    per_node("node_embeddings_per_second", "gauge", "Embeddings per second over 10 s.",
             [](auto& n) { return n.embeddings_per_second; });
    auto total = [&](const char* name, const char* help, auto v) {
        family(name, "counter", help);
        fmt::format_to(it, "herd_{} {}\n", name, v);
    };
    total("calls_total", "Requests asked of the pool.", s.calls);
    total("failed_calls_total", "Calls that failed on every node.", s.failed_calls);
    total("retries_total", "Retries sent.", s.retries);
    total("hedges_sent_total", "Backup requests sent.", s.hedges_sent);
    total("hedges_won_total", "Backup requests that answered first.", s.hedges_won);
    total("inputs_total", "Texts embedded.", s.inputs);
    return out;
}

} // namespace herd
