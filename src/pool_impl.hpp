#pragma once
// pool's private state, shared by the pool's source files (routing and
// retries in pool.cpp, coalescing in coalescer.cpp).

#include <herd/async/hedge.hpp>
#include <herd/async/retry.hpp>
#include <herd/pool.hpp>

#include <functional>
#include <list>
#include <deque>
#include <map>
#include <random>
#include <set>

namespace herd {

// Joins concurrent single-text embeds with the same parameters into one
// request. A caller sends its own text at once, in its own coroutine, when
// the coalescer has nothing in flight, or fewer requests than there are
// eligible nodes and the node the router picks is idle: a lone caller pays
// nothing. Otherwise callers pile up and leave together, as one batch,
// when a request returns. No timer, no post: an
// idle pool adds no latency and a burst forms batches by itself.
struct coalesce_waiter {
    coalesce_waiter(const executor& ex, std::string_view t, int p)
        : text(t), priority(p), signal(ex, ::asio::steady_timer::time_point::max()) {}
    std::string text; // owned: the caller may be cancelled while its batch runs
    int priority;
    ::asio::steady_timer signal;
    std::vector<float> embedding;
    failure fail;
    bool done = false;
    bool abandoned = false; // the caller was cancelled: do not resend its text
};

struct coalescer {
    ollama::embed_params params;
    std::vector<std::shared_ptr<coalesce_waiter>> open;
    std::size_t in_flight = 0; // requests of this coalescer, lone callers' included
};

struct pool::impl : std::enable_shared_from_this<pool::impl> {
    impl(executor ex, pool_config config);

    executor ex;
    pool_config config;
    // shared_ptr: a removed node lives on while a request, stream, probe or
    // batch still uses it (each holds a reference; see membership.cpp).
    std::vector<std::shared_ptr<node>> nodes;
    node_options node_defaults;
    std::shared_ptr<http::tls_context> tls; // made for the first https:// node
    /// `base` plus pool_config's headers (all nodes, and this URL's as
    /// written) and the TLS context for an https:// node.
    node_options options_for(const http::url& u, std::string_view written, node_options base);
    /// Running batch windows, told at once when nodes come or go.
    std::list<std::function<void()>> membership_watchers;
    void membership_changed() {
        for (auto& w : membership_watchers) w();
    }
    retry_budget budget;
    std::map<std::string, std::vector<hedge_policy>, std::less<>> hedges; // by model, then size class
    ::asio::steady_timer probe_timer;
    std::set<node*> probes_running;
    std::mt19937_64 rng;
    std::vector<node*> candidates; // scratch for route()
    bool probing = false;
    bool closing = false;

    std::uint64_t calls = 0, failed_calls = 0, retries = 0, hedges_won = 0, inputs_done = 0;
    std::uint64_t backup_tasks = 0, batches_given_back = 0;
    histogram coalesced_sizes{histogram::size_bounds()};
    rate_meter throughput{std::chrono::seconds(1), 300}; // texts per second, for the dashboard's chart
    void embedded(std::size_t texts) {
        inputs_done += texts;
        throughput.add(texts, clock::now());
    }

    // The event log (events.hpp): ids for calls, the last events kept.
    std::uint64_t last_request_id = 0;
    std::deque<event> recent_events;
    static constexpr std::size_t recent_events_kept = 100;
    std::uint64_t new_request_id() noexcept { return ++last_request_id; }
    /// Stamps `e` with the time, keeps it and hands it to config.on_event.
    void emit(event e);
    void emit(event_kind kind, std::uint64_t request_id, const node* n, std::string detail, double value = 0);

    hedge_policy& hedge_for(const std::string& model, std::size_t inputs);
    bool eligible(node& n, const std::string& model) const;
    /// The cheapest eligible node not in `exclude` (pool.cpp says why).
    node* route(const std::string& model, std::span<node* const> exclude);
    bool known_to_have(const std::string& model, std::span<node* const> exclude) const;
    time_point attempt_deadline(node& n, const std::string& model, time_point call_deadline) const;
    ollama::embed_params params_for(const embed_options& o) const;
    batch_options batch_for(const embed_options& o) const;
    failure everyone_failed(std::vector<node_cause> causes);

    /// One request for exactly `inputs`, with routing, hedging, retries.
    // Coroutines here take non-trivial arguments by reference to objects in
    // the caller's frame, never by value from a temporary (g++ 12 bug, see
    // embed_options).
    awaitable<embed_outcome> run_embed(const ollama::embed_params& params, std::span<const std::string_view> inputs,
                                       int priority);
    struct batch_run;
    /// The batch engine (batch.cpp): from `source` window by window, or
    /// `texts` in one window; results to `sink` and/or `whole`.
    awaitable<batch_report> run_batch(batch_source* source, std::span<const std::string_view> texts,
                                      batch_sink* sink, matrix* whole, const batch_options& options);
    /// One text (pool::embed): coalesced when config.coalesce, else one
    /// request; a caller cancelled before the call sends nothing.
    awaitable<embed_outcome> embed_single(std::string_view text, embed_options options);

    std::list<coalescer> coalescers; // one per distinct embed_params (a list: flush holds references)
    std::size_t capacity(const std::string& model);
    void flush(coalescer& c);
    std::size_t big_pile() const noexcept; // waiting texts that go even behind a request in flight
    // Whether the node the router picks is quick enough for a second request.
    bool may_queue_behind(const std::string& model, std::size_t batch_size);
    awaitable<void> run_coalesced(std::shared_ptr<impl> self, coalescer& c,
                                  std::vector<std::shared_ptr<coalesce_waiter>> batch);
    /// Sends `batch` as one request and wakes its callers; on a 400 splits
    /// it in halves and settles each, so only the offending texts fail.
    awaitable<void> settle(coalescer& c, std::span<const std::shared_ptr<coalesce_waiter>> batch);

    // Completions (chat.cpp).
    node* route_completion(const completion_request& req, std::span<node* const> tried);
    /// Opens a stream once its first part arrived. Cancelling the caller or
    /// passing call_timeout never counts against a node. `bound_whole_call`:
    /// call_timeout also bounds the parts after the first (whole answers).
    awaitable<completion_stream> open_stream(const completion_request& req, bool bound_whole_call);
    awaitable<chat_response> whole(const completion_request& req);
    awaitable<void> refresh_node(std::shared_ptr<node> n);
    awaitable<void> refresh_all();
    void ensure_refreshing();
    awaitable<void> refresh_loop(std::shared_ptr<impl> self);
    ::asio::steady_timer refresh_timer{ex};
    bool refreshing = false;

    void ensure_probing();
    awaitable<void> probe_loop(std::shared_ptr<impl> self);
    awaitable<void> probe(std::shared_ptr<impl> self, std::shared_ptr<node> n);
};

} // namespace herd
