#pragma once
// One backend node: its HTTP client, its adaptive concurrency limiter, its
// health, what it knows of the node's models, and its statistics.
//
// node::embed() is one attempt on this node: wait for a permit, send one
// /api/embed request (/v1/embeddings on an "openai+" node), decode, feed latency and outcome back into the
// limiter, health and stats. It never throws and never retries; the
// failure it returns carries the node's own error text.
//
// Cancellation: honours Asio (terminal) cancellation while waiting for a
// permit or for the answer, and a coroutine already cancelled when embed()
// starts or gets its permit sends nothing; the outcome is then
// asio::error::operation_aborted and the node is not blamed. No exception
// is thrown on any outcome (it checks cancellation before each co_await,
// so Asio's default throw_if_cancelled never fires in it). The permit
// wait is a with_deadline race (async/race.hpp). Not thread-safe.

#include <herd/async/health.hpp>
#include <herd/async/limiter.hpp>
#include <herd/async/service_model.hpp>
#include <herd/async/stats.hpp>
#include <herd/events.hpp>
#include <herd/histogram.hpp>
#include <herd/http/client.hpp>
#include <herd/ollama/codec.hpp>

#include <map>
#include <memory>
#include <span>
#include <string>

namespace herd {

struct node_options {
    http::client_options http{};
    limiter_options limiter{};
    limiter_options chat_limiter{.initial_limit = 2, .max_limit = 32, .queueing_factor = 3};
    health_options health{};
    /// Receives the node's events (ejected, re-admitted, limit cut, model
    /// loaded); the pool stamps and forwards them.
    event_callback on_event;
};

/// What a node is known to have, best first for routing.
enum class model_state { absent = 0, unknown, installed, loaded, loaded_gpu };

class node;

struct embed_outcome {
    failure fail;
    ollama::embed_reply reply;
    node* source = nullptr; ///< the node that answered or failed
    /// Keeps `source` alive while the outcome lives, when the node is
    /// shared (a pool's nodes are): it may leave its pool meanwhile.
    std::shared_ptr<node> source_ref;
    duration latency{};     ///< of the successful request
    bool ok() const noexcept { return !fail; }
};

/// Counters a node keeps; see metrics.hpp for the snapshot users read.
struct node_counters {
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::uint64_t inputs = 0;
    std::uint64_t cancelled = 0;
    std::string last_error;
    /// Failures counted by cause_name() of their code (error.hpp).
    std::map<std::string, std::uint64_t, std::less<>> failures_by_cause;
};

/// A pool holds its nodes in shared_ptrs; every coroutine that uses a node
/// across a suspension holds one too, so a removed node lives until its
/// last request ended.
class node : public std::enable_shared_from_this<node> {
public:
    node(executor ex, http::url url, node_options options = {});

    const std::string& name() const noexcept { return name_; }
    /// "URL: what went wrong[: why]" for a request that got no HTTP answer;
    /// `reason` is the transport's detail (the TLS handshake's complaint).
    std::string describe_transport_failure(std::error_code ec, const std::string& reason) const;
    const http::url& url() const noexcept { return http_.target(); }
    http::client& http() noexcept { return http_; }
    herd::limiter& limiter() noexcept { return limiter_; }
    /// Chat/generate slots (OLLAMA_NUM_PARALLEL), learnt apart from the
    /// embedding slots: a node runs one embedding request per model but
    /// several generations.
    herd::limiter& chat_limiter() noexcept { return chat_limiter_; }
    herd::health& health() noexcept { return health_; }
    const node_counters& counters() const noexcept { return counters_; }

    /// One /api/embed (or, for an OpenAI-compatible node, /v1/embeddings)
    /// attempt (see header). `deadline` bounds the wait for
    /// a permit and the request together. A caller that already holds one
    /// of this node's permits passes it as `held` (the batch engine).
    /// `request_id` marks the events this attempt causes (events.hpp).
    awaitable<embed_outcome> embed(const ollama::embed_params& params, std::span<const std::string_view> inputs,
                                   int priority, time_point deadline, semaphore::permit* held = nullptr,
                                   std::uint64_t request_id = 0);

    /// Records an attempt's result (used by embed() and by chat requests);
    /// `request_id` marks the events it causes (re-admission, limit cut).
    void record_success(duration latency, std::size_t inputs, time_point started, time_point now,
                        std::uint64_t request_id = 0);
    /// A completion whose first part came after `ttft`.
    void record_first_token(duration ttft, time_point started, time_point now, std::uint64_t request_id = 0);
    /// A completion that delivered `parts` parts in `total`.
    void record_completion(duration total, std::size_t parts) {
        seconds_per_part_.add(seconds(total) / static_cast<double>(std::max<std::size_t>(parts, 1)));
    }
    /// Recent generation speed (seconds per streamed part, EWMA; 0 unknown).
    double seconds_per_part() const noexcept { return seconds_per_part_.value(); }
    /// Routing cost of a completion: time to first token x (streams + 1).
    double chat_cost(time_point now) const noexcept;
    /// `completion`: the failure was a chat/generate's (feeds chat_limiter).
    void record_failure(const failure& f, time_point started, time_point now, bool completion = false,
                        std::uint64_t request_id = 0);
    /// An active probe of the node answered (`ok`) or not: re-admits or
    /// ejects it again (health.hpp), with the event.
    void record_probe(bool ok, time_point now);
    void record_cancelled() noexcept { ++counters_.cancelled; }
    /// True when the node has requests outstanding and has answered none
    /// (success or failure) for `quiet` (or three of its usual latencies,
    /// if longer): it looks hung, not merely slow.
    /// The pool then hedges its requests without spending budget.
    bool stalled(time_point now, duration quiet) const noexcept;

    /// Service time of `model`'s embedding requests by size, learnt apart
    /// from the node's queue (see service_model.hpp): sizes the batch
    /// engine's micro-batches and judges its stragglers. Each model has its
    /// own (Ollama runs each loaded model's requests one at a time).
    const service_model& service(const std::string& model) const;

    /// Routing cost: expected latency x (requests in flight + 1), where
    /// expected latency is the larger of the recent peak latency and the
    /// age of the oldest request still unanswered on its connections
    /// (a request cancelled after t counts as a latency of t). A node with no latency
    /// sample and nothing in flight costs 0, so new nodes get tried.
    double cost(time_point now) const noexcept;
    std::size_t in_flight() const noexcept { return limiter_.in_use() + limiter_.waiting(); }

    /// Seconds of latency (EWMA) of recent completions' first part.
    double ttft() const noexcept { return ttft_peak_.value(); }
    /// Latency quantile over recent successful requests, in seconds.
    double latency_quantile(double q) { return latencies_.quantile(q); }
    double latency_ewma() const noexcept { return latency_ewma_.value(); }
    double success_rate() const noexcept { return success_rate_.empty() ? 1.0 : success_rate_.value(); }
    double inputs_per_second(time_point now) { return input_rate_.per_second(now); }
    /// Every successful embedding request's latency, in seconds.
    const histogram& latency_histogram() const noexcept { return latency_histogram_; }
    /// Every successful completion's time to its first part, in seconds.
    const histogram& ttft_histogram() const noexcept { return ttft_histogram_; }

    model_state model(const std::string& name) const;
    /// Every model the node is known to have, by name (without ":latest").
    const std::map<std::string, model_state, std::less<>>& models() const noexcept { return models_; }
    void set_model(const std::string& name, model_state state);
    /// What /api/tags and /api/ps said: installed names, loaded names and
    /// which of those are fully in GPU memory. Models not listed become
    /// absent. Names are compared without a ":latest" suffix.
    void set_models(const std::vector<std::string>& installed, const std::vector<std::string>& loaded,
                    const std::vector<std::string>& on_gpu);
    /// A successful answer proves the model is loaded now.
    void saw_loaded(const std::string& name);
    /// A success proves the model is on the node (at least loaded now).
    bool has_served(const std::string& model) const { return served_.count(model) != 0; }
    /// The models the node has answered for, by name as asked.
    const std::map<std::string, bool, std::less<>>& served() const noexcept { return served_; }

private:
    void emit(event_kind kind, std::uint64_t request_id, std::string detail, double value = 0, std::string model = {});
    // Events for what changed since `before` (health, limit).
    struct watch {
        bool ejected;
        std::size_t decreases;
    };
    watch watch_state() const noexcept { return {health_.ejected(), limiter_.decreases()}; }
    void emit_changes(const watch& before, std::uint64_t request_id, const std::string& cause);

    std::string name_;
    event_callback on_event_;
    http::client http_;
    herd::limiter limiter_;
    herd::limiter chat_limiter_;
    herd::health health_;
    node_counters counters_;
    peak_ewma latency_peak_{std::chrono::seconds(2)};
    time_point last_answer_{}; // the last success or failure heard from the node
    peak_ewma ttft_peak_{std::chrono::seconds(10)};
    ewma seconds_per_part_{0.2};
    ewma latency_ewma_{0.1};
    ewma success_rate_{0.05};
    quantile_window latencies_{512, 16};
    rate_meter input_rate_;
    histogram latency_histogram_{histogram::latency_bounds()};
    histogram ttft_histogram_{histogram::latency_bounds()};
    std::map<std::string, service_model, std::less<>> service_;
    std::map<std::string, model_state, std::less<>> models_;
    bool catalogue_known_ = false; // /api/tags answered: unlisted means absent
    std::map<std::string, bool, std::less<>> served_;
};

} // namespace herd
