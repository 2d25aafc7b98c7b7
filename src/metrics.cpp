// Prometheus text exposition of a pool_stats snapshot
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include <herd/metrics.hpp>

#include <fmt/format.h>

#include <cmath>

namespace herd {
namespace {

// Label values: backslash, double quote and newline escaped.
std::string label(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// Sample values as Prometheus spells the special ones.
std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}
std::string number(std::uint64_t v) { return fmt::format("{}", v); }

class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP herd_{} {}\n# TYPE herd_{} {}\n", name, help, name, type);
    }
    // `labels` already rendered: `node="..."` or empty.
    void sample(std::string_view name, std::string_view labels, const std::string& value) {
        if (labels.empty()) fmt::format_to(std::back_inserter(out_), "herd_{} {}\n", name, value);
        else fmt::format_to(std::back_inserter(out_), "herd_{}{{{}}} {}\n", name, labels, value);
    }
    // Cumulative buckets, +Inf equal to _count.
    void histogram_samples(std::string_view name, const std::string& labels, const histogram& h) {
        std::string sep = labels.empty() ? "" : ",";
        const auto& bounds = h.bounds();
        for (std::size_t i = 0; i < bounds.size(); ++i)
            sample(fmt::format("{}_bucket", name), fmt::format("{}{}le=\"{}\"", labels, sep, number(bounds[i])),
                   number(h.cumulative(i)));
        sample(fmt::format("{}_bucket", name), fmt::format("{}{}le=\"+Inf\"", labels, sep), number(h.count()));
        sample(fmt::format("{}_sum", name), labels, number(h.sum()));
        sample(fmt::format("{}_count", name), labels, number(h.count()));
    }

private:
    std::string& out_;
};

std::string node_label(const node_stats& n) { return fmt::format("node=\"{}\"", label(n.url)); }

} // namespace

std::string to_prometheus(const pool_stats& s) {
    std::string out;
    writer w(out);
    auto per_node = [&](const char* name, const char* type, const char* help, auto value) {
        w.family(name, type, help);
        for (const auto& n : s.nodes) w.sample(name, node_label(n), number(value(n)));
    };
    auto count = [](auto v) { return static_cast<std::uint64_t>(v); };
    per_node("node_requests_total", "counter", "Requests the node answered or failed.",
             [&](auto& n) { return count(n.requests); });
    w.family("node_failures_total", "counter", "Requests the node failed, by cause.");
    for (const auto& n : s.nodes)
        for (const auto& [cause, k] : n.failures_by_cause)
            w.sample("node_failures_total", fmt::format("{},cause=\"{}\"", node_label(n), label(cause)), number(k));
    per_node("node_inputs_total", "counter", "Texts the node embedded.", [&](auto& n) { return count(n.inputs); });
    w.family("node_request_duration_seconds", "histogram", "Latency of the node's successful embedding requests.");
    for (const auto& n : s.nodes) w.histogram_samples("node_request_duration_seconds", node_label(n), n.latency);
    w.family("node_time_to_first_token_seconds", "histogram", "Time to the first part of the node's completions.");
    for (const auto& n : s.nodes) w.histogram_samples("node_time_to_first_token_seconds", node_label(n), n.ttft);
    per_node("node_success_ratio", "gauge", "Recent success rate (EWMA, 0 to 1).",
             [](auto& n) { return n.success_rate; });
    per_node("node_concurrency_limit", "gauge", "Current adaptive (AIMD) limit of embedding requests.",
             [&](auto& n) { return count(n.concurrency_limit); });
    per_node("node_limit_decreases_total", "counter", "Times the AIMD limit was cut.",
             [&](auto& n) { return count(n.limit_decreases); });
    per_node("node_in_flight_requests", "gauge", "Embedding requests holding a permit.",
             [&](auto& n) { return count(n.in_flight); });
    per_node("node_queued_requests", "gauge", "Embedding requests waiting for a permit.",
             [&](auto& n) { return count(n.queued); });
    per_node("node_ejected", "gauge", "1 while health checking ejects the node.",
             [&](auto& n) { return count(n.ejected ? 1 : 0); });
    per_node("node_ejections_total", "counter", "Times the node was ejected.",
             [&](auto& n) { return count(n.ejections); });
    w.family("node_model_loaded", "gauge", "1 when the model is loaded on the node, 0 when only installed.");
    for (const auto& n : s.nodes)
        for (const auto& m : n.models)
            w.sample("node_model_loaded", fmt::format("{},model=\"{}\"", node_label(n), label(m.name)),
                     number(count(m.loaded ? 1 : 0)));

    auto total = [&](const char* name, const char* help, std::uint64_t v) {
        w.family(name, "counter", help);
        w.sample(name, "", number(v));
    };
    total("calls_total", "Requests asked of the pool.", s.calls);
    total("failed_calls_total", "Calls that failed on every node.", s.failed_calls);
    total("retries_total", "Retries sent.", s.retries);
    w.family("retry_budget_available", "gauge", "Retries the retry budget allows right now.");
    w.sample("retry_budget_available", "", number(s.retry_budget_left));
    total("hedges_sent_total", "Backup requests sent.", s.hedges_sent);
    total("hedges_won_total", "Backup requests that answered first.", s.hedges_won);
    w.family("coalesced_batch_texts", "histogram", "Texts per request of coalesced single embeds.");
    w.histogram_samples("coalesced_batch_texts", "", s.coalesced_batch_sizes);
    total("backup_tasks_total", "Corpus micro-batches sent again to a faster node.", s.backup_tasks);
    total("batches_given_back_total", "Corpus micro-batches that failed and went back to the queue.",
          s.batches_given_back);
    total("inputs_total", "Texts embedded.", s.inputs);
    return out;
}

} // namespace herd
