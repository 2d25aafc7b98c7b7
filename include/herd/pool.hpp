#pragma once
// herd::pool — many Ollama nodes behind one awaitable interface.
//
//   herd::pool pool{io.get_executor(), herd::pool_config::from_env()};
//   std::vector<float> v = co_await pool.embed("what do llamas eat?");
//   herd::matrix m = co_await pool.embed(texts);          // order kept
//   auto [ec, w] = co_await pool.async_embed(text, herd::compat::use_nothrow);
//
// Routing: the cheapest eligible node by cost (peak-EWMA latency x (in
// flight + 1); one with the model loaded first), skipping ejected nodes and
// nodes known to lack the model. Each attempt waits for its AIMD permit.
// Hedging: a slow attempt gets a backup on another node (hedge.hpp).
// Retries: a retryable failure (connect, reset, timeout, 5xx, 503, garbage,
// wrong count) moves the request to another node, within the retry budget,
// never back to a node that failed it while an untried one is eligible;
// when every node was tried it goes round again after a jittered backoff.
// 400 and 404 surface at once with the node's own text.
// Health: consecutive failures eject a node; an active probe
// (GET /api/version; GET /v1/models for an OpenAI-compatible "openai+"
// node) re-admits it when it answers again.
//
// Forms: every operation has a completion-token form, async_embed(...,
// token) and so on (any Asio token: use_awaitable, as_tuple, deferred, a
// callback; handler void(std::error_code, T)), and a short awaitable form,
// `co_await pool.embed(text)`, that throws.
// Errors: the short forms throw herd::error: code all_nodes_failed (or
// no_nodes) with causes() listing each node's last failure, or the node's
// 400/404 with status() and its text. The token forms never throw: the
// handler gets that code and an empty value (embed_request and
// embed_stream also hand over their outcome / report).
// Cancellation: cancelling the awaiting coroutine or the handler's bound
// cancellation slot delivers terminal cancellation: a permit wait leaves
// the queue, in-flight requests are abandoned (their responses read and
// discarded, the node not blamed), hedges' backups are cancelled and
// waited for; the handler gets asio::error::operation_aborted, a short
// form throws it. A coalesced single-text call stops waiting at once; its
// batch goes on for the other callers. (A coroutine that keeps Asio's
// default throw_if_cancelled also gets Asio's own exception at its next
// co_await once cancelled, before any herd code runs.)
// Inside herd, failure and cancellation travel as values (async/race.hpp):
// the single-text and embed_request paths throw nothing on success,
// failure or cancellation until a short form raises the failure for its
// caller. Completions and the batch engine may still throw internally on
// failure; the token forms turn such an exception into its code.
// Deadlines: pool_config::call_timeout bounds a whole call;
// request_timeout / first_load_timeout bound each attempt.
//
// Threading: one executor (one io_context thread); not thread-safe. Other
// threads hand work in with asio::post / co_spawn.
// Lifetime: idle keep-alive connections keep a read pending, so
// io_context::run() does not return while the pool lives; stop the
// io_context (or destroy the pool) when the work is done.

#include <herd/async/completion.hpp>
#include <herd/batch.hpp>
#include <herd/completion_stream.hpp>
#include <herd/matrix.hpp>
#include <herd/metrics.hpp>
#include <herd/node.hpp>
#include <herd/pool_config.hpp>

#include <initializer_list>
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
    /// Ollama's "options" (e.g. {"num_ctx":256}) as a JSON object's text,
    /// sent as it is; empty: none. Not checked here: text that is not a
    /// JSON object makes the node answer 400 (bad_request). Single texts
    /// are coalesced only with others whose options text is the same.
    std::string_view options;
};

class pool {
public:
    pool(executor ex, pool_config config);
    ~pool();
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    // Completion-token forms (see async/completion.hpp): any Asio token,
    // handler signature void(std::error_code, T); on failure the value is
    // empty and the code is the one the throwing form's herd::error has
    // (cancellation: asio::error::operation_aborted). They never throw.
    // Texts and spans are views: what they name must stay alive until the
    // handler runs (a deferred operation: until it completes). The pool
    // must outlive every operation.

    /// One text's embedding (as embed(text)); T = std::vector<float>.
    template <typename Token>
    auto async_embed(std::string_view text, embed_options options, Token&& token) {
        return async_run<std::vector<float>>(get_executor(), std::forward<Token>(token),
                                             [this, text, options] { return embed_core(text, options); });
    }
    template <typename Token>
    auto async_embed(std::string_view text, Token&& token) {
        return async_embed(text, embed_options{}, std::forward<Token>(token));
    }

    /// Many texts (as embed(texts)); T = matrix, row i is texts[i].
    template <typename Token>
    auto async_embed(std::span<const std::string_view> texts, embed_options options, Token&& token) {
        return async_run<matrix>(get_executor(), std::forward<Token>(token),
                                 [this, texts, options] { return embed_many_core(texts, options); });
    }
    template <typename Token>
    auto async_embed(std::span<const std::string_view> texts, Token&& token) {
        return async_embed(texts, embed_options{}, std::forward<Token>(token));
    }
    /// A braced list of texts embeds every one: {"a", "b"} is two texts.
    template <typename Token>
    auto async_embed(std::initializer_list<std::string_view> texts, embed_options options, Token&& token) {
        return async_embed(std::span<const std::string_view>(texts.begin(), texts.size()), options,
                           std::forward<Token>(token));
    }
    template <typename Token>
    auto async_embed(std::initializer_list<std::string_view> texts, Token&& token) {
        return async_embed(texts, embed_options{}, std::forward<Token>(token));
    }

    /// A corpus over every node (as embed_batch); T = matrix.
    template <typename Token>
    auto async_embed_batch(std::span<const std::string_view> texts, batch_options options, Token&& token) {
        return async_run<matrix>(get_executor(), std::forward<Token>(token),
                                 [this, texts, options] { return embed_batch_core(texts, options); });
    }

    /// A corpus from `source` to `sink` (as embed_stream); T = batch_report,
    /// the code being the report's failure.
    template <typename Token>
    auto async_embed_stream(batch_source& source, batch_sink& sink, batch_options options, Token&& token) {
        return async_run<batch_report>(get_executor(), std::forward<Token>(token),
                                       [this, &source, &sink, options] { return embed_stream_core(source, sink, options); });
    }

    /// A whole chat / generate answer (as chat, generate); T = chat_response.
    template <typename Token>
    auto async_chat(chat_request request, Token&& token) {
        return async_run<chat_response>(get_executor(), std::forward<Token>(token),
                                        [this, r = std::move(request)] { return completion_core(r); });
    }
    template <typename Token>
    auto async_generate(generate_request request, Token&& token) {
        return async_run<chat_response>(get_executor(), std::forward<Token>(token),
                                        [this, r = std::move(request)] { return completion_core(r); });
    }

    /// The answer streamed (as chat_stream, generate_stream); T =
    /// completion_stream (empty on failure).
    template <typename Token>
    auto async_chat_stream(chat_request request, Token&& token) {
        return async_run<completion_stream>(get_executor(), std::forward<Token>(token),
                                            [this, r = std::move(request)] { return stream_core(r); });
    }
    template <typename Token>
    auto async_generate_stream(generate_request request, Token&& token) {
        return async_run<completion_stream>(get_executor(), std::forward<Token>(token),
                                            [this, r = std::move(request)] { return stream_core(r); });
    }

    /// As prewarm (arguments copied); T = std::vector<node_cause>, the
    /// nodes that failed (the code is set only for cancellation).
    template <typename Token>
    auto async_prewarm(std::string_view model, std::span<const std::string> nodes, std::string_view keep_alive,
                       Token&& token) {
        return async_run<std::vector<node_cause>>(
            get_executor(), std::forward<Token>(token),
            [this, m = std::string(model), n = std::vector<std::string>(nodes.begin(), nodes.end()),
             k = std::string(keep_alive)] { return prewarm_core(m, n, k); });
    }

    /// As refresh_models; signature void(std::error_code).
    template <typename Token>
    auto async_refresh_models(Token&& token) {
        return async_run<void>(get_executor(), std::forward<Token>(token), [this] { return refresh_core(); });
    }

    /// As embed_request; T = embed_outcome, the code being its failure's.
    template <typename Token>
    auto async_embed_request(std::span<const std::string_view> texts, embed_options options, Token&& token) {
        return async_run<embed_outcome>(get_executor(), std::forward<Token>(token),
                                        [this, texts, options] { return request_core(texts, options); });
    }

    // Short forms: `co_await pool.embed(text)`. They throw herd::error (see
    // the header) where the token forms pass an error_code.

    /// One text's embedding. Concurrent calls for the same model and
    /// options are coalesced into one /api/embed request when
    /// pool_config::coalesce is on and such calls have a request in flight
    /// while the node the router picks is busy (otherwise a call sends its
    /// own text at once). The pile leaves when one of those requests
    /// returns, or at once when it holds half a max_batch and the node's
    /// learnt costs put two full batches within a quarter of
    /// request_timeout (at most two requests per node then). The vector is
    /// the decoded row itself (no copy). No exception is thrown on success.
    awaitable<std::vector<float>> embed(std::string_view text, embed_options options = {});

    /// Many texts, spread over the nodes by the batch engine (embed_batch
    /// with default options); row i of the result is texts[i]. A braced
    /// list, `embed({"a", "b"})`, is many texts.
    awaitable<matrix> embed(std::span<const std::string_view> texts, embed_options options = {});
    awaitable<matrix> embed(std::span<const std::string> texts, embed_options options = {});
    awaitable<matrix> embed(std::initializer_list<std::string_view> texts, embed_options options = {});

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
    /// On an OpenAI-compatible node both go to /v1/chat/completions as
    /// Server-Sent Events (a generate request as one user message).
    awaitable<completion_stream> chat_stream(chat_request request);
    awaitable<completion_stream> generate_stream(generate_request request);

    /// Loads `model` ahead of use on the nodes named in `nodes` (URLs as
    /// configured; empty: every node not known to lack it) and keeps it
    /// loaded for `keep_alive` (empty: the node's default). Returns the
    /// nodes that failed, with their causes (empty: all warmed). An
    /// OpenAI-compatible node cannot load without generating: it is
    /// skipped, or reported as failed (bad_request) when named in `nodes`.
    awaitable<std::vector<node_cause>> prewarm(std::string_view model, std::span<const std::string> nodes = {},
                                               std::string_view keep_alive = {});

    /// Asks every node now what it has installed (/api/tags) and loaded
    /// (/api/ps); an OpenAI-compatible node what GET /v1/models lists,
    /// taken as installed (it has no loaded state). The pool also does this in the background every
    /// pool_config::model_refresh_interval once completions are used.
    awaitable<void> refresh_models();

    /// One request for exactly these texts with full resilience (routing,
    /// hedging, retries, failover); the building block of the batch engine.
    /// Never throws, cancellation included; the outcome carries the failure
    /// (operation_aborted when cancelled).
    awaitable<embed_outcome> embed_request(std::span<const std::string_view> texts, embed_options options);

    /// A snapshot of every node's and the pool's statistics.
    pool_stats stats();

    // Live membership (src/membership.cpp). Like every pool operation, call
    // these on the pool's executor; they complete at once (no I/O).

    /// Adds a node at `url` ("http://host:port", "host:port" or "host")
    /// with node_defaults(), or with `options`. Returns false, changing
    /// nothing, when a node with the same URL is in the pool already.
    /// Routing sees it at once: single embeds and completions may pick it on
    /// their next attempt, running embed_batch / embed_stream calls start
    /// workers for it in this turn (it steals from the other nodes' queues).
    /// Throws herd::error (errc::no_nodes) for a URL that does not parse.
    bool add_node(std::string_view url);
    bool add_node(std::string_view url, const node_options& options);
    /// Removes the node whose URL is `url` (as add_node spells it). Returns
    /// false when there is none. The node gets no new work from this call
    /// on; requests already sent to it finish there, and a failure moves
    /// them to other nodes as usual. A running batch hands the node's queued
    /// texts to the other nodes at once, and an idle node may re-send the
    /// removed node's in-flight micro-batches (the first answer is kept, so
    /// nothing is lost or written twice). The node object lives until the
    /// last request, stream or batch using it has ended. A pool left without
    /// nodes fails new calls with errc::no_nodes; a running batch waits
    /// batch_options::give_up_after for a node to be added. Never throws.
    bool remove_node(std::string_view url);
    /// The options add_node(url) gives a node (from pool_config).
    node_options node_defaults() const;
    /// The current nodes' URLs, in pool order.
    std::vector<std::string> node_urls() const;

    /// Current nodes; indices change when nodes are added or removed.
    std::size_t size() const noexcept;
    node& at(std::size_t i);
    const pool_config& config() const noexcept;
    const executor& get_executor() const noexcept;

    struct impl;

private:
    // The compiled coroutines behind both forms; they report failure in
    // the result instead of throwing (src/pool_api.cpp).
    awaitable<result<std::vector<float>>> embed_core(std::string_view text, embed_options options);
    awaitable<result<matrix>> embed_many_core(std::span<const std::string_view> texts, embed_options options);
    awaitable<result<matrix>> embed_batch_core(std::span<const std::string_view> texts, batch_options options);
    awaitable<result<batch_report>> embed_stream_core(batch_source& source, batch_sink& sink, batch_options options);
    awaitable<result<chat_response>> completion_core(const completion_request& request);
    awaitable<result<completion_stream>> stream_core(const completion_request& request);
    awaitable<result<std::vector<node_cause>>> prewarm_core(const std::string& model,
                                                            std::span<const std::string> nodes,
                                                            const std::string& keep_alive);
    awaitable<result<void>> refresh_core();
    awaitable<result<embed_outcome>> request_core(std::span<const std::string_view> texts, embed_options options);

    std::shared_ptr<impl> impl_;
};

} // namespace herd
