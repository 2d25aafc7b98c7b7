#include "pool_impl.hpp"

#include <bit>


#include <fmt/format.h>

namespace herd {

pool::impl::impl(executor e, pool_config c)
    : ex(std::move(e)), config(std::move(c)), budget(config.retry), probe_timer(ex), rng(std::random_device{}()) {
    node_options& options = node_defaults;
    options.http.connections = config.connections_per_node;
    options.http.connection.pipeline_depth = config.pipeline_depth;
    options.http.connection.connect_timeout = config.connect_timeout;
    options.http.connection.limits.max_body_bytes = config.max_response_bytes;
    options.limiter = config.limiter;
    options.chat_limiter = config.chat_limiter;
    options.health = config.health;
    options.on_event = [this](const event& e) { emit(e); }; // the nodes live in *this
    for (const auto& text : config.nodes) {
        auto u = http::url::parse(text);
        // The text may hold credentials: name the node only by its parse.
        if (!u) throw error(errc::no_nodes, "not a node URL: '" + http::redact_credentials(text) + "'");
        nodes.push_back(std::make_shared<node>(ex, *u, options_for(*u, text, options)));
    }
}

node_options pool::impl::options_for(const http::url& u, std::string_view written, node_options base) {
    base.http.headers.insert(base.http.headers.end(), config.headers.begin(), config.headers.end());
    if (auto it = config.node_headers.find(std::string(written)); it != config.node_headers.end())
        base.http.headers.insert(base.http.headers.end(), it->second.begin(), it->second.end());
    if (u.tls() && !base.http.connection.tls) {
        // One context (one read of the CA store) for every https:// node.
        if (!tls) tls = http::make_tls_context(config.tls);
        base.http.connection.tls = tls;
    }
    return base;
}

void pool::impl::emit(event e) {
    e.time = std::chrono::system_clock::now();
    recent_events.push_back(e);
    if (recent_events.size() > recent_events_kept) recent_events.pop_front();
    if (config.on_event) config.on_event(recent_events.back());
}

void pool::impl::emit(event_kind kind, std::uint64_t request_id, const node* n, std::string detail, double value) {
    event e;
    e.kind = kind;
    e.request_id = request_id;
    if (n) e.node = n->name();
    e.detail = std::move(detail);
    e.value = value;
    emit(std::move(e));
}

hedge_policy& pool::impl::hedge_for(const std::string& model, std::size_t inputs) {
    // One policy per size class (1, 2-3, 4-7, ..., 128+): a 30-text request
    // is not slow next to the p95 of 1-text ones, and hedging it redoes it.
    auto cls = std::min<std::size_t>(std::bit_width(std::max<std::size_t>(inputs, 1)), 8) - 1;
    auto it = hedges.find(model);
    if (it == hedges.end()) it = hedges.emplace(model, std::vector<hedge_policy>(8, hedge_policy(config.hedge))).first;
    return it->second[cls];
}

bool pool::impl::eligible(node& n, const std::string& model) const {
    return !n.health().ejected() && n.model(model) != model_state::absent;
}

node* pool::impl::route(const std::string& model, std::span<node* const> exclude) {
    candidates.clear();
    for (auto& n : nodes) {
        if (!eligible(*n, model)) continue;
        if (std::find(exclude.begin(), exclude.end(), n.get()) != exclude.end()) continue;
        candidates.push_back(n.get());
    }
    if (candidates.empty()) return nullptr;
    if (candidates.size() == 1) return candidates.front();
    // The cheapest of all, not of two random ones: the load each cost counts
    // is this pool's own and exact (no stale view to herd on), and with one
    // fast node among slow ones, two random picks were both slow a third of
    // the time (3 nodes), sending a latency-bound call to a node 5x slower
    // while the fast one was free. The scan starts at a random node so ties
    // (idle nodes with no latency sample) spread.
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    const std::size_t start = pick(rng);
    const auto now = clock::now();
    node* best = nullptr;
    double best_cost = 0;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        node* x = candidates[(start + k) % candidates.size()];
        const double c = x->cost(now);
        // A node with the model loaded beats one that would have to load it.
        if (!best || x->model(model) > best->model(model) || (x->model(model) == best->model(model) && c < best_cost)) {
            best = x;
            best_cost = c;
        }
    }
    return best;
}

bool pool::impl::known_to_have(const std::string& model, std::span<node* const> exclude) const {
    return std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) {
        bool excluded = std::find(exclude.begin(), exclude.end(), n.get()) != exclude.end();
        return !excluded && eligible(*n, model) && (n->has_served(model) || n->model(model) >= model_state::installed);
    });
}

time_point pool::impl::attempt_deadline(node& n, const std::string& model, time_point call_deadline) const {
    auto limit = n.has_served(model) ? config.request_timeout : config.first_load_timeout;
    return std::min(call_deadline, clock::now() + limit);
}

ollama::embed_params pool::impl::params_for(const embed_options& o) const {
    return {std::string(o.model.empty() ? std::string_view(config.model) : o.model), o.truncate, o.dimensions,
            std::string(o.keep_alive), std::string(o.options)};
}

failure pool::impl::everyone_failed(std::vector<node_cause> causes) {
    // Nodes never tried in this call (ejected, lacking the model) are listed
    // with what they last said.
    for (const auto& n : nodes) {
        bool listed = std::any_of(causes.begin(), causes.end(), [&](auto& c) { return c.node == n->name(); });
        if (!listed) {
            std::string why = n->health().ejected() ? "ejected" : "not tried";
            if (!n->counters().last_error.empty()) why += ": " + n->counters().last_error;
            causes.push_back({n->name(), n->health().ejected() ? errc::node_ejected : errc::no_nodes, why});
        }
    }
    ++failed_calls;
    if (nodes.empty()) return failure{errc::no_nodes, "the pool has no nodes"};
    return failure{errc::all_nodes_failed, fmt::format("every node failed ({} nodes)", nodes.size()), 0,
                   std::move(causes)};
}

awaitable<embed_outcome> pool::impl::run_embed(const ollama::embed_params& params, std::span<const std::string_view> inputs,
                                               int priority) {
    ++calls;
    const auto id = new_request_id();
    budget.on_request();
    auto call_deadline = clock::now() + config.call_timeout;
    std::vector<node*> tried;
    std::vector<node_cause> causes;
    embed_outcome last;
    bool budget_spent = false;
    bool innocent = false; // the last attempt died for a request ahead of it
    for (std::size_t attempt = 0; attempt < std::max<std::size_t>(config.retry.max_attempts, 1); ++attempt) {
        if (clock::now() >= call_deadline) break;
        node* primary = route(params.model, tried);
        bool going_round = false;
        if (!primary && !tried.empty()) { // every eligible node failed it once
            primary = route(params.model, {});
            going_round = true;
        }
        if (!primary) break;
        if (attempt > 0 && !innocent) {
            if (!budget.try_retry(clock::now())) {
                budget_spent = true;
                break;
            }
            ++retries;
            emit(event_kind::retry, id, primary, going_round ? "every node tried: round again" : "",
                 static_cast<double>(attempt + 1));
            if (going_round) {
                ::asio::steady_timer pause(ex, backoff_delay(config.retry, attempt, rng));
                auto [ec] = co_await pause.async_wait(compat::use_nothrow);
                if (ec) {
                    last.fail = failure{ec, "cancelled"};
                    co_return last;
                }
            }
        }
        // A backup needs another eligible node not tried yet (route() left
        // the eligible ones in `candidates`).
        const bool hedgeable = config.hedge.enabled && !going_round && candidates.size() >= 2;
        auto& policy = hedge_for(params.model, inputs.size());
        bool backup_won = false;
        if (hedgeable) {
            auto result = co_await hedged(policy, [&](int i) -> awaitable<embed_outcome> {
                node* n = primary;
                if (i == 1) {
                    std::vector<node*> skip = tried;
                    skip.push_back(primary);
                    n = route(params.model, skip);
                    if (!n) co_return embed_outcome{failure{errc::no_nodes, "no node for a backup"}, {}, primary};
                }
                co_return co_await n->embed(params, inputs, priority, attempt_deadline(*n, params.model, call_deadline),
                                            nullptr, id);
            }, [primary, quiet = config.hedge.cold_delay] { return primary->stalled(clock::now(), quiet); });
            last = std::move(result.value);
            backup_won = result.backup_won;
        } else {
            // Nothing to hedge with: the attempt in this coroutine, no race,
            // no timer, no spawned branches.
            policy.on_call();
            last = co_await primary->embed(params, inputs, priority, attempt_deadline(*primary, params.model, call_deadline),
                                           nullptr, id);
        }
        if (last.ok()) {
            if (backup_won) {
                ++hedges_won;
                emit(event_kind::hedge_won, id, last.source, "the backup answered first");
            }
            policy.on_latency(last.latency);
            embedded(inputs.size());
            co_return last;
        }
        if (last.fail.code == ::asio::error::operation_aborted) co_return last;
        node* failed = last.source;
        // Resent at once, to any node (its own included), at no cost to the
        // retry budget: neither the request nor the node was at fault.
        innocent = last.fail.code == errc::pipeline_aborted;
        if (innocent) continue;
        emit(event_kind::attempt_failed, id, failed, last.fail.describe(), static_cast<double>(attempt + 1));
        if (failed->health().ejected()) ensure_probing();
        std::erase_if(causes, [&](auto& c) { return c.node == failed->name(); });
        causes.push_back({failed->name(), last.fail.code, last.fail.describe()});
        if (std::find(tried.begin(), tried.end(), failed) == tried.end()) tried.push_back(failed);
        if (!is_retryable(last.fail.code)) {
            // A node without the model: another known to have it may serve.
            if (last.fail.code == errc::model_not_found && known_to_have(params.model, tried)) continue;
            ++failed_calls;
            co_return last;
        }
    }
    last.fail = everyone_failed(std::move(causes));
    if (budget_spent) last.fail.message += " (retry budget exhausted)";
    co_return last;
}

void pool::impl::ensure_probing() {
    if (probing || closing) return;
    probing = true;
    ::asio::co_spawn(ex, probe_loop(shared_from_this()), ::asio::detached);
}

awaitable<void> pool::impl::probe_loop(std::shared_ptr<impl> self) {
    // Runs only while some node is ejected, so an idle pool lets
    // io_context::run() return.
    while (!closing) {
        bool any = false;
        for (auto& n : nodes) {
            if (!n->health().ejected()) continue;
            any = true;
            if (n->health().probe_due(clock::now()) && !probes_running.count(n.get())) {
                probes_running.insert(n.get());
                ::asio::co_spawn(ex, probe(self, n), ::asio::detached);
            }
        }
        if (!any) break;
        probe_timer.expires_after(config.health.probe_interval);
        co_await probe_timer.async_wait(compat::use_nothrow);
    }
    probing = false;
}

awaitable<void> pool::impl::probe(std::shared_ptr<impl>, std::shared_ptr<node> n) {
    auto deadline = clock::now() + std::max(config.health.probe_interval * 4, config.connect_timeout);
    // An OpenAI-compatible server has no /api/version; its model list is
    // the cheapest answer it gives.
    const char* path = n->url().api == http::api_kind::openai ? "/v1/models" : "/api/version";
    auto probed = co_await n->http().control(n->http().format("GET", path), deadline);
    n->record_probe(!probed.ec && probed.response.status == 200, clock::now());
    probes_running.erase(n.get());
}

pool::pool(executor ex, pool_config config) : impl_(std::make_shared<impl>(std::move(ex), std::move(config))) {}

pool::~pool() {
    impl_->closing = true;
    impl_->probe_timer.cancel();
    impl_->refresh_timer.cancel();
}

batch_options pool::impl::batch_for(const embed_options& o) const {
    return {.model = o.model, .priority = o.priority, .dimensions = o.dimensions, .truncate = o.truncate,
            .keep_alive = o.keep_alive, .options = o.options, .max_batch = config.max_batch};
}

pool_stats pool::stats() {
    auto& s = *impl_;
    pool_stats out;
    auto now = clock::now();
    for (auto& n : s.nodes) {
        node_stats ns;
        ns.url = n->name();
        const auto& c = n->counters();
        ns.requests = c.requests;
        ns.failures = c.failures;
        ns.inputs = c.inputs;
        ns.last_error = c.last_error;
        ns.success_rate = n->success_rate();
        ns.latency_p50 = n->latency_quantile(0.5);
        ns.latency_p95 = n->latency_quantile(0.95);
        ns.latency_p99 = n->latency_quantile(0.99);
        ns.latency_ewma = n->latency_ewma();
        ns.failures_by_cause.insert(c.failures_by_cause.begin(), c.failures_by_cause.end());
        ns.latency = n->latency_histogram();
        ns.ttft = n->ttft_histogram();
        ns.concurrency_limit = n->limiter().limit();
        ns.limit_decreases = n->limiter().decreases();
        ns.in_flight = n->limiter().in_use();
        ns.queued = n->limiter().waiting();
        for (const auto& [name, state] : n->models())
            if (state >= model_state::installed)
                ns.models.push_back({name, state >= model_state::loaded, state == model_state::loaded_gpu});
        // Without /api/ps (a pool that only embeds), an answer shows the
        // model loaded.
        for (const auto& [name, yes] : n->served())
            if (n->model(name) < model_state::installed) ns.models.push_back({name, true, false});
        ns.ejected = n->health().ejected();
        ns.ejections = n->health().ejections();
        ns.embeddings_per_second = n->inputs_per_second(now);
        out.embeddings_per_second += ns.embeddings_per_second;
        out.nodes.push_back(std::move(ns));
    }
    out.calls = s.calls;
    out.failed_calls = s.failed_calls;
    out.retries = s.retries;
    out.retry_budget_left = s.budget.available(now);
    out.coalesced_batch_sizes = s.coalesced_sizes;
    out.backup_tasks = s.backup_tasks;
    out.batches_given_back = s.batches_given_back;
    out.throughput_history = s.throughput.buckets(now);
    out.recent_events.assign(s.recent_events.begin(), s.recent_events.end());
    for (auto& [model, by_size] : s.hedges)
        for (auto& h : by_size) out.hedges_sent += h.sent();
    out.hedges_won = s.hedges_won;
    out.inputs = s.inputs_done;
    return out;
}

std::size_t pool::size() const noexcept { return impl_->nodes.size(); }
node& pool::at(std::size_t i) { return *impl_->nodes.at(i); }
const pool_config& pool::config() const noexcept { return impl_->config; }
const executor& pool::get_executor() const noexcept { return impl_->ex; }

} // namespace herd
