// Chat and generate: model-aware routing, streams with failover before the
// first part, pre-warming and the model catalogue refresh.
#include "completion_stream_state.hpp"
#include "pool_impl.hpp"

#include <herd/async/task_group.hpp>
#include <herd/openai/codec.hpp>

#include <fmt/format.h>

#include <limits>

namespace herd {

namespace {

int rank(node& n, const std::string& model) { return static_cast<int>(n.model(model)); }

} // namespace

node* pool::impl::route_completion(const completion_request& req, std::span<node* const> tried) {
    const auto& model = req.model();
    auto now = clock::now();
    node* best = nullptr;
    auto better = [&](node* a, node* b) { // true when a beats b
        switch (req.mode()) {
        case routing_mode::fast:
            if (rank(*a, model) != rank(*b, model)) return rank(*a, model) > rank(*b, model);
            return a->chat_cost(now) < b->chat_cost(now);
        case routing_mode::reliable:
            if (a->success_rate() != b->success_rate()) return a->success_rate() > b->success_rate();
            if (rank(*a, model) != rank(*b, model)) return rank(*a, model) > rank(*b, model);
            return a->chat_cost(now) < b->chat_cost(now);
        case routing_mode::background: {
            auto busy = [](node* n) { return n->chat_limiter().in_use() + n->chat_limiter().waiting(); };
            if (busy(a) != busy(b)) return busy(a) < busy(b);
            // The slower node, so fast ones stay free; a node not measured
            // yet counts as slowest (background work explores it).
            auto slowness = [](node* n) {
                return n->seconds_per_part() > 0 ? n->seconds_per_part() : std::numeric_limits<double>::infinity();
            };
            return slowness(a) > slowness(b);
        }
        }
        return false;
    };
    for (auto& n : nodes) {
        if (!eligible(*n, model)) continue;
        if (std::find(tried.begin(), tried.end(), n.get()) != tried.end()) continue;
        if (!best || better(n.get(), best)) best = n.get();
    }
    return best;
}

namespace {

// A chat permit on `lim` by `deadline`: {timeout, empty} when the deadline
// passes first, {operation_aborted, empty} when the caller cancels.
awaitable<std::pair<std::error_code, semaphore::permit>> permit_by(limiter& lim, int priority, time_point deadline) {
    if (auto p = lim.gate().try_acquire()) co_return std::pair{std::error_code{}, std::move(p)};
    auto wait = [](limiter& l, int pr) -> awaitable<std::pair<std::error_code, semaphore::permit>> {
        try {
            auto p = co_await l.acquire(pr);
            co_return std::pair{std::error_code{}, std::move(p)};
        } catch (const std::system_error& e) {
            co_return std::pair{e.code(), semaphore::permit{}};
        }
    };
    using namespace compat::awaitable_operators;
    ::asio::steady_timer timer(co_await ::asio::this_coro::executor, deadline);
    auto r = co_await (wait(lim, priority) || timer.async_wait(compat::use_nothrow));
    if (r.index() == 0) co_return std::move(std::get<0>(r));
    auto [tec] = std::get<1>(r);
    co_return std::pair{tec ? std::error_code(tec) : make_error_code(errc::timeout), semaphore::permit{}};
}

} // namespace

awaitable<completion_stream> pool::impl::open_stream(const completion_request& req, bool bound_whole_call) {
    ensure_refreshing();
    // Read, not awaited, after a failure: awaiting anything once cancelled throws.
    auto cancellation = co_await ::asio::this_coro::cancellation_state;
    const auto call_deadline = clock::now() + config.call_timeout;
    auto body = req.body();
    body["stream"] = true;
    const std::string payload = body.dump();
    const char* path = req.is_chat() ? "/api/chat" : "/api/generate";
    std::string openai_payload; // made when an OpenAI-compatible node is tried
    int priority = req.mode() == routing_mode::background ? semaphore::min_priority : req.priority();
    std::size_t attempts = req.mode() == routing_mode::reliable ? config.retry.max_attempts * 2 : config.retry.max_attempts;
    auto call_timeout = [&](node& n, const char* where) {
        return failure{errc::timeout, fmt::format("chat call timed out after pool_config::call_timeout ({} ms) {} {}",
                                                  std::chrono::duration_cast<std::chrono::milliseconds>(config.call_timeout).count(),
                                                  where, n.name())};
    };

    std::vector<node*> tried;
    std::vector<node_cause> causes;
    const auto id = new_request_id();
    for (std::size_t attempt = 0; attempt < attempts; ++attempt) {
        node* n = route_completion(req, tried);
        if (!n) break;
        if (attempt > 0) emit(event_kind::retry, id, n, "", static_cast<double>(attempt + 1));
        tried.push_back(n);
        auto s = std::make_unique<completion_stream::state>();
        s->source = n;
        s->keep = n->shared_from_this();
        s->idle_timeout = config.stream_idle_timeout;
        s->call_deadline = call_deadline;
        auto [pec, permit] = co_await permit_by(n->chat_limiter(), priority, call_deadline);
        if (pec == errc::timeout) call_timeout(*n, "waiting for a chat slot on").raise();
        if (pec) failure{pec, "cancelled while waiting for a chat slot"}.raise();
        s->permit = std::move(permit);
        auto started = clock::now();
        s->started = started;
        auto first_deadline = std::min(call_deadline, started + (n->model(req.model()) >= model_state::loaded
                                                                     ? config.request_timeout
                                                                     : config.first_load_timeout));
        http::connection_options options = n->http().options().connection; // TLS context and all
        options.limits.max_body_bytes = std::numeric_limits<std::size_t>::max(); // a stream is bounded per line
        s->body = std::make_unique<http::body_stream>(ex, n->url(), options);
        s->lines = ollama::ndjson_splitter(config.max_response_bytes);
        s->sse = n->url().api == http::api_kind::openai;
        s->events = openai::sse_splitter(config.max_response_bytes);
        failure f;
        if (s->sse && openai_payload.empty()) openai_payload = openai::chat_body(req, true).dump();
        auto request = s->sse ? n->http().format("POST", "/v1/chat/completions", openai_payload)
                              : n->http().format("POST", path, payload);
        auto ec = co_await s->body->start(std::move(request), first_deadline);
        if (ec) {
            f = failure{ec, n->describe_transport_failure(ec, s->body->reason())};
        } else if (s->body->status() != 200) {
            http::message answer = s->body->head();
            std::error_code rec;
            while (auto piece = co_await s->body->read(first_deadline, rec)) {
                answer.body += *piece;
                if (answer.body.size() > config.max_response_bytes) {
                    rec = errc::body_too_large;
                    break;
                }
            }
            f = rec == errc::body_too_large ? failure{rec, fmt::format("{}: {}", n->name(), rec.message())}
                 : s->sse ? openai::check_status(answer) : ollama::check_status(answer);
            if (f.code == errc::model_not_found) n->set_model(req.model(), model_state::absent);
        } else {
            s->idle_timeout = first_deadline - clock::now(); // the first part may wait for a model load
            f = co_await s->pump();
            s->idle_timeout = config.stream_idle_timeout;
            if (!f && s->ready.empty()) f = failure{errc::connection_lost, "no part before the stream ended"};
        }
        // A cancelled caller or the call's own deadline says nothing about
        // the node: neither is recorded against it, and no other node is tried.
        bool cancelled = cancellation.cancelled() != ::asio::cancellation_type::none;
        if (f.code == ::asio::error::operation_aborted || cancelled) {
            n->record_cancelled();
            failure{::asio::error::operation_aborted, "cancelled"}.raise();
        }
        if (f && (f.code == call_timed_out || clock::now() >= call_deadline)) {
            n->record_cancelled();
            call_timeout(*n, "waiting for the first part from").raise();
        }
        if (!f) {
            n->record_first_token(clock::now() - started, started, clock::now(), id);
            n->saw_loaded(req.model());
            if (!bound_whole_call) s->call_deadline = time_point::max(); // the caller paces a stream
            co_return completion_stream(std::move(s));
        }
        n->record_failure(f, started, clock::now(), true, id);
        emit(event_kind::attempt_failed, id, n, f.describe(), static_cast<double>(attempt + 1));
        if (n->health().ejected()) ensure_probing();
        causes.push_back({n->name(), f.code, f.describe()});
        // Before the first part nothing was delivered: another node may
        // answer, unless the request itself is wrong.
        if (f.code == errc::bad_request) f.raise();
    }
    auto all = everyone_failed(std::move(causes));
    if (tried.empty()) all = failure{errc::no_nodes, "no node has model '" + req.model() + "'"};
    all.raise();
}

awaitable<chat_response> pool::impl::whole(const completion_request& req) {
    auto stream = co_await open_stream(req, true);
    chat_response response;
    response.node = stream.node();
    while (auto part = co_await stream.next()) ollama::accumulate(response, *part);
    co_return response;
}

awaitable<void> pool::impl::refresh_node(std::shared_ptr<node> held) {
    node& n = *held;
    auto deadline = clock::now() + config.connect_timeout + std::chrono::seconds(2);
    if (n.url().api == http::api_kind::openai) {
        // OpenAI's API has no /api/ps: what /v1/models lists counts as
        // installed (a server loads on demand or serves one loaded model),
        // never as loaded, so routing prefers an Ollama node known to hold
        // the model in memory.
        auto listed = co_await n.http().control(n.http().format("GET", "/v1/models"), deadline);
        std::vector<std::string> ids;
        if (listed.ec || listed.response.status != 200 || !openai::parse_models(listed.response.body, ids)) co_return;
        n.set_models(ids, {}, {});
        co_return;
    }
    auto tags_result = co_await n.http().control(n.http().format("GET", "/api/tags"), deadline);
    auto ps_result = co_await n.http().control(n.http().format("GET", "/api/ps"), deadline);
    if (tags_result.ec || tags_result.response.status != 200) co_return; // keep what we knew
    const auto& tags = tags_result.response;
    const auto& ps = ps_result.response;
    const auto& pec = ps_result.ec;
    auto names = [](const std::string& body, bool gpu_only) {
        std::vector<std::string> out;
        auto j = nlohmann::json::parse(body, nullptr, false);
        if (!j.is_object() || !j.contains("models") || !j["models"].is_array()) return out;
        for (const auto& m : j["models"]) {
            if (!m.is_object() || !m.contains("name")) continue;
            auto size = m.value("size", std::uint64_t{0}), vram = m.value("size_vram", std::uint64_t{0});
            if (!gpu_only || (size > 0 && vram == size)) out.push_back(m["name"].get<std::string>());
        }
        return out;
    };
    bool ps_ok = !pec && ps.status == 200;
    n.set_models(names(tags.body, false), ps_ok ? names(ps.body, false) : std::vector<std::string>{},
                 ps_ok ? names(ps.body, true) : std::vector<std::string>{});
}

awaitable<void> pool::impl::refresh_all() {
    task_group g(ex);
    for (auto& n : nodes) g.spawn(refresh_node(n));
    co_await g.join();
}

void pool::impl::ensure_refreshing() {
    if (refreshing || closing || config.model_refresh_interval <= duration::zero()) return;
    refreshing = true;
    ::asio::co_spawn(ex, refresh_loop(shared_from_this()), ::asio::detached);
}

awaitable<void> pool::impl::refresh_loop(std::shared_ptr<impl>) {
    // Requests never wait for this: they route on what is known meanwhile.
    while (!closing) {
        co_await refresh_all();
        refresh_timer.expires_after(config.model_refresh_interval);
        co_await refresh_timer.async_wait(compat::use_nothrow);
    }
}

awaitable<chat_response> pool::chat(chat_request request) {
    auto self = impl_;
    co_return co_await self->whole(request);
}

awaitable<chat_response> pool::generate(generate_request request) {
    auto self = impl_;
    co_return co_await self->whole(request);
}

awaitable<completion_stream> pool::chat_stream(chat_request request) {
    auto self = impl_;
    co_return co_await self->open_stream(request, false);
}

awaitable<completion_stream> pool::generate_stream(generate_request request) {
    auto self = impl_;
    co_return co_await self->open_stream(request, false);
}

awaitable<void> pool::refresh_models() {
    auto self = impl_;
    co_await self->refresh_all();
}

awaitable<std::vector<node_cause>> pool::prewarm(std::string_view model, std::span<const std::string> targets,
                                                 std::string_view keep_alive) {
    auto self = impl_;
    std::string name(model);
    nlohmann::json body{{"model", name}, {"stream", false}};
    if (!keep_alive.empty()) body["keep_alive"] = std::string(keep_alive);
    const std::string payload = body.dump();
    std::vector<node_cause> failed;
    task_group g(self->ex);
    for (auto& n : self->nodes) {
        bool named = targets.empty() ? n->model(name) != model_state::absent
                                     : std::find(targets.begin(), targets.end(), n->name()) != targets.end() ||
                                           std::find(targets.begin(), targets.end(), n->url().authority()) != targets.end();
        if (!named) continue;
        if (n->url().api == http::api_kind::openai) {
            // OpenAI's API has no way to load a model without generating.
            if (!targets.empty())
                failed.push_back({n->name(), errc::bad_request, "an OpenAI-compatible node cannot be pre-warmed"});
            continue;
        }
        g.spawn([](impl& s, std::shared_ptr<node> held, const std::string& p, const std::string& m,
                   std::vector<node_cause>& out) -> awaitable<void> {
            node& nd = *held;
            auto deadline = clock::now() + s.config.first_load_timeout;
            auto [ec, answer, reason] = co_await nd.http().control(nd.http().format("POST", "/api/generate", p), deadline);
            failure f = ec ? failure{ec, nd.describe_transport_failure(ec, reason)} : ollama::check_status(answer);
            if (f) out.push_back({nd.name(), f.code, f.describe()});
            else nd.saw_loaded(m);
        }(*self, n, payload, name, failed));
    }
    co_await g.join();
    if (targets.empty() && std::none_of(self->nodes.begin(), self->nodes.end(),
                                        [&](auto& n) { return n->model(name) != model_state::absent; }))
        failed.push_back({"", errc::no_nodes, "no node has model '" + name + "'"});
    co_return failed;
}

} // namespace herd
