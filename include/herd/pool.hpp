#pragma once
// herd::pool — many Ollama nodes behind one awaitable interface.
//
//   herd::pool pool{io.get_executor(), herd::pool_config::from_env()};
//   std::vector<float> v = co_await pool.embed("what do llamas eat?");
//   herd::matrix m = co_await pool.embed(texts);          // order kept
//
// Routing: power of two choices over each node's cost (peak-EWMA latency x
// (in flight + 1)), skipping ejected nodes and nodes known to lack the
// model. Each attempt waits for a permit of the node's AIMD limiter.
// Hedging: a slow attempt gets a backup on another node (hedge.hpp).
// Retries: a retryable failure (connect, reset, timeout, 5xx, 503, garbage,
// wrong count) moves the request to another node, within the retry budget,
// never back to a node that failed it while an untried one is eligible;
// when every node was tried it goes round again after a jittered backoff.
// 400 and 404 surface at once with the node's own text.
// Health: consecutive failures eject a node; an active probe
// (GET /api/version) re-admits it when it answers again.
//
// Errors: the throwing forms throw herd::error: code all_nodes_failed (or
// no_nodes) with causes() listing each node's last failure, or the node's
// 400/404 with status() and its text. The error_code forms return an empty
// result and set `ec` instead.
// Cancellation: every call honours Asio cancellation; in-flight requests
// are abandoned (their responses read and discarded), permits released,
// and the call throws (or sets) asio::error::operation_aborted.
// Deadlines: pool_config::call_timeout bounds a whole call;
// request_timeout / first_load_timeout bound each attempt.
//
// Threading: one executor (one io_context thread); not thread-safe. Other
// threads hand work in with asio::post / co_spawn.
// Lifetime: idle keep-alive connections keep a read pending, so
// io_context::run() does not return while the pool lives; stop the
// io_context (or destroy the pool) when the work is done.

#include <herd/batch.hpp>
#include <herd/completion_stream.hpp>
#include <herd/matrix.hpp>
#include <herd/metrics.hpp>
#include <herd/node.hpp>
#include <herd/pool_config.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

/// Per-call options. Strings are views: what they name must outlive the
/// call (string literals and the caller's own strings do). The type is
/// trivially destructible on purpose: g++ 12 destroys a non-trivial
/// argument temporary written inside a co_await expression twice, and
/// `co_await pool.embed(t, {.model = "m"})` is how this is meant to be used.
struct embed_options {
    std::string_view model;   ///< empty: pool_config::model
    int priority = semaphore::default_priority; ///< 1..10, higher first
    unsigned dimensions = 0;  ///< truncate vectors to this many values
    bool truncate = true;     ///< let the node truncate over-long inputs
    std::string_view keep_alive; ///< e.g. "10m"; empty: node default
};

class pool {
public:
    pool(executor ex, pool_config config);
    ~pool();
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    /// One text's embedding. Concurrent calls for the same model and
    /// options are coalesced into one /api/embed request when
    /// pool_config::coalesce is on.
    awaitable<std::vector<float>> embed(std::string_view text, embed_options options = {});
    awaitable<std::vector<float>> embed(std::string_view text, std::error_code& ec,
                                        embed_options options = {});

    /// Many texts, spread over the nodes by the batch engine (embed_batch
    /// with default options); row i of the result is texts[i].
    awaitable<matrix> embed(std::span<const std::string_view> texts, embed_options options = {});
    awaitable<matrix> embed(std::span<const std::string_view> texts, std::error_code& ec,
                            embed_options options = {});
    awaitable<matrix> embed(std::span<const std::string> texts, embed_options options = {});

    /// A corpus over every node (see batch.hpp); row i is texts[i].
    /// Throws herd::error when every node failed, listing the inputs not
    /// done; operation_aborted when cancelled (all workers stopped).
    awaitable<matrix> embed_batch(std::span<const std::string_view> texts, batch_options options = {});
    awaitable<matrix> embed_batch(std::span<const std::string> texts, batch_options options = {});

    /// A corpus read from `source` in windows of options.window texts,
    /// vectors written to `sink` in input order; memory stays bounded by
    /// the window. Never throws for node failures: the report carries them.
    awaitable<batch_report> embed_stream(batch_source& source, batch_sink& sink, batch_options options = {});

    /// A whole chat/generate answer. Routed by `request.mode()` to a node
    /// that has the model (loaded on GPU, then loaded, then installed; never
    /// one known to lack it). A node failing before the first part is
    /// replaced by another; a failure after it throws herd::error with the
    /// text received so far in the message.
    awaitable<chat_response> chat(chat_request request);
    awaitable<chat_response> generate(generate_request request);

    /// The same, streamed (see completion_stream.hpp). Returns once the
    /// first part arrived. Throws herd::error when no node could start it.
    awaitable<completion_stream> chat_stream(chat_request request);
    awaitable<completion_stream> generate_stream(generate_request request);

    /// Loads `model` ahead of use on the nodes named in `nodes` (URLs as
    /// configured; empty: every node not known to lack it) and keeps it
    /// loaded for `keep_alive` (empty: the node's default). Returns the
    /// nodes that failed, with their causes (empty: all warmed).
    awaitable<std::vector<node_cause>> prewarm(std::string_view model, std::span<const std::string> nodes = {},
                                               std::string_view keep_alive = {});

    /// Asks every node now what it has installed (/api/tags) and loaded
    /// (/api/ps). The pool also does this in the background every
    /// pool_config::model_refresh_interval once completions are used.
    awaitable<void> refresh_models();

    /// One request for exactly these texts with full resilience (routing,
    /// hedging, retries, failover); the building block of the batch engine.
    /// Never throws; the outcome carries the failure.
    awaitable<embed_outcome> embed_request(std::span<const std::string_view> texts, embed_options options);

    /// A snapshot of every node's and the pool's statistics.
    pool_stats stats();

    std::size_t size() const noexcept;
    node& at(std::size_t i);
    const pool_config& config() const noexcept;
    const executor& get_executor() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace herd
