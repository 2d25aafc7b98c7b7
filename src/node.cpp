#include <herd/async/race.hpp>
#include <herd/node.hpp>
#include <herd/openai/codec.hpp>

#include <fmt/format.h>

namespace herd {

node::node(executor ex, http::url url, node_options options)
    : name_(url.str()), http_(ex, url, options.http), limiter_(ex, options.limiter),
      chat_limiter_(ex, options.chat_limiter), health_(options.health) {
    on_event_ = std::move(options.on_event);
}

void node::emit(event_kind kind, std::uint64_t request_id, std::string detail, double value, std::string model) {
    if (!on_event_) return;
    event e;
    e.kind = kind;
    e.request_id = request_id;
    e.node = name_;
    e.model = std::move(model);
    e.detail = std::move(detail);
    e.value = value;
    on_event_(e);
}

void node::emit_changes(const watch& before, std::uint64_t request_id, const std::string& cause) {
    if (limiter_.decreases() != before.decreases)
        emit(event_kind::limit_decreased, request_id, cause, static_cast<double>(limiter_.limit()));
    if (!before.ejected && health_.ejected())
        emit(event_kind::node_ejected, request_id, cause, static_cast<double>(health_.ejections()));
    if (before.ejected && !health_.ejected()) emit(event_kind::node_readmitted, request_id, cause);
}

void node::record_probe(bool ok, time_point now) {
    bool was = health_.ejected();
    health_.on_probe(ok, now);
    if (was && !ok) emit(event_kind::node_ejected, 0, "probe failed", static_cast<double>(health_.ejections()));
    if (was && ok) emit(event_kind::node_readmitted, 0, "probe answered");
}

std::string node::describe_transport_failure(std::error_code ec, const std::string& reason) const {
    return reason.empty() ? fmt::format("{}: {}", name_, ec.message())
                          : fmt::format("{}: {}: {}", name_, ec.message(), reason);
}

namespace {
std::string base_name(std::string name) {
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ":latest") == 0) name.resize(name.size() - 7);
    return name;
}
} // namespace

namespace {

// A permit, waiting at most until `deadline`. Empty on timeout and on
// cancellation; never throws.
awaitable<semaphore::permit> acquire_until(limiter& lim, int priority, time_point deadline) {
    auto wait = [&lim, priority] { return lim.gate().acquire_nothrow(priority); };
    auto r = co_await with_deadline(std::move(wait), deadline);
    // A permit granted in the turn the deadline passed is still a permit.
    co_return r.value ? std::move(*r.value) : semaphore::permit{};
}

bool cancelled(const ::asio::cancellation_state& state) { return detail::was_cancelled(state); }

} // namespace

awaitable<embed_outcome> node::embed(const ollama::embed_params& params, std::span<const std::string_view> inputs,
                                     int priority, time_point deadline, semaphore::permit* held,
                                     std::uint64_t request_id) {
    embed_outcome out;
    out.source = this;
    out.source_ref = weak_from_this().lock(); // empty for a node not owned by a shared_ptr
    // Checked before each step: a cancellation that came between two
    // asynchronous steps is only recorded here (see race.hpp).
    auto state = co_await ::asio::this_coro::cancellation_state;
    if (cancelled(state)) {
        out.fail = failure{::asio::error::operation_aborted, "cancelled"};
        co_return out;
    }
    semaphore::permit permit;
    if (!held) permit = limiter_.gate().try_acquire(); // free: no race, no timer, no frame
    if (!held && !permit) permit = co_await acquire_until(limiter_, priority, deadline);
    if (cancelled(state)) {
        out.fail = failure{::asio::error::operation_aborted, "cancelled while waiting for a permit"};
        co_return out;
    }
    if (!held && !permit) {
        out.fail = failure{errc::timeout, "timed out waiting for a free slot on " + name_};
        co_return out;
    }
    auto started = clock::now();
    const bool openai = url().api == http::api_kind::openai;
    auto request = openai ? http_.format("POST", "/v1/embeddings", openai::encode_embeddings(params, inputs))
                          : http_.format("POST", "/api/embed", ollama::encode_embed(params, inputs));
    auto [ec, response, reason] = co_await http_.request(std::move(request), deadline);
    if (ec == ::asio::error::operation_aborted) {
        // A request given up after t took at least t: a hedge loser on a
        // hung node raises its latency estimate so routing avoids it.
        latency_peak_.add(seconds(clock::now() - started), clock::now());
        record_cancelled();
        out.fail = failure{ec, "cancelled"};
        co_return out;
    }
    if (ec) {
        out.fail = failure{ec, describe_transport_failure(ec, reason)};
    } else if ((out.fail = openai ? openai::check_status(response) : ollama::check_status(response))) {
        if (out.fail.code == errc::model_not_found) set_model(params.model, model_state::absent);
    } else if ((out.fail = openai ? openai::decode_embeddings(response.body, out.reply)
                                  : ollama::decode_embed(response.body, out.reply))) {
        // decode failure already described
    } else if (out.reply.embeddings.rows() != inputs.size()) {
        out.fail = failure{errc::wrong_embedding_count,
                           fmt::format("{} returned {} embeddings for {} inputs", name_,
                                       out.reply.embeddings.rows(), inputs.size())};
    }
    auto now = clock::now();
    if (out.fail) {
        record_failure(out.fail, started, now, false, request_id);
    } else {
        // Not saw_loaded(): routing prefers loaded nodes, and marking every
        // node that answered would pin traffic to the first one.
        if (!has_served(params.model) && model(params.model) < model_state::loaded)
            emit(event_kind::model_loaded, request_id, "first answer", 0, base_name(params.model));
        served_[params.model] = true;
        out.latency = now - started;
        record_success(now - started, inputs.size(), started, now, request_id);
        service_[params.model].on_complete(inputs.size(), started, now);
    }
    co_return out;
}

bool node::stalled(time_point now, duration quiet) const noexcept {
    // A slow node answers too, only later: wait three of its usual
    // latencies before calling its silence a stall.
    quiet = std::max(quiet, from_seconds(3 * latency_ewma_.value()));
    auto oldest = http_.oldest_request();
    return oldest && *oldest <= now - quiet && last_answer_ <= now - quiet;
}

void node::record_success(duration latency, std::size_t inputs, time_point started, time_point now,
                          std::uint64_t request_id) {
    last_answer_ = now;
    auto before = watch_state();
    ++counters_.requests;
    counters_.inputs += inputs;
    latency_peak_.add(seconds(latency), now);
    latency_ewma_.add(seconds(latency));
    latencies_.add(seconds(latency));
    latency_histogram_.observe(seconds(latency));
    success_rate_.add(1.0);
    input_rate_.add(inputs, now);
    limiter_.on_success(latency, inputs, started, now);
    health_.on_success();
    emit_changes(before, request_id, "queueing seen in latency");
}

void node::record_failure(const failure& f, time_point started, time_point now, bool completion,
                          std::uint64_t request_id) {
    if (f.code == errc::pipeline_aborted) return; // another request's timeout: says nothing of this node
    last_answer_ = now;
    auto before = watch_state();
    ++counters_.requests;
    ++counters_.failures;
    ++counters_.failures_by_cause[std::string(cause_name(f.code))];
    counters_.last_error = f.describe();
    success_rate_.add(0.0);
    // 400/404 are the input's or the model's fault, not the node's.
    if (!is_retryable(f.code)) return;
    (completion ? chat_limiter_ : limiter_).on_drop(started, now);
    health_.on_failure(now);
    emit_changes(before, request_id, counters_.last_error);
}

double node::cost(time_point now) const noexcept {
    // A hedge loser releases its permit when cancelled but stays on the
    // connection until its answer comes: count it, or new calls queue
    // behind the slow request (measured: p99 cut 1.5x -> 8.5x).
    auto load = std::max(limiter_.in_use(), http_.in_flight()) + limiter_.waiting();
    // A node that never answers has no latency sample, so its peak-EWMA
    // says 0; the age of its oldest unanswered request says how slow it is
    // (without this a hung node attracts every call).
    auto oldest = http_.oldest_request();
    double waited = oldest ? seconds(now - *oldest) : 0;
    return std::max(latency_peak_.value(now), waited) * static_cast<double>(load + 1);
}

const service_model& node::service(const std::string& model) const {
    static const service_model unknown;
    auto it = service_.find(model);
    return it == service_.end() ? unknown : it->second;
}

model_state node::model(const std::string& name) const {
    auto it = models_.find(base_name(name));
    if (it != models_.end()) return it->second;
    return catalogue_known_ ? model_state::absent : model_state::unknown;
}

void node::set_model(const std::string& name, model_state state) { models_[base_name(name)] = state; }

void node::set_models(const std::vector<std::string>& installed, const std::vector<std::string>& loaded,
                      const std::vector<std::string>& on_gpu) {
    auto before = std::move(models_);
    models_.clear();
    catalogue_known_ = true;
    for (const auto& m : installed) models_[base_name(m)] = model_state::installed;
    for (const auto& m : loaded) models_[base_name(m)] = model_state::loaded;
    for (const auto& m : on_gpu) models_[base_name(m)] = model_state::loaded_gpu;
    for (const auto& [m, state] : models_) {
        auto was = before.find(m);
        if (state >= model_state::loaded && (was == before.end() || was->second < model_state::loaded))
            emit(event_kind::model_loaded, 0, state == model_state::loaded_gpu ? "in GPU memory (/api/ps)" : "/api/ps",
                 0, m);
    }
}

void node::saw_loaded(const std::string& name) {
    auto& s = models_[base_name(name)];
    if (s >= model_state::loaded) return;
    s = model_state::loaded;
    emit(event_kind::model_loaded, 0, "answered a request", 0, base_name(name));
}

void node::record_first_token(duration ttft, time_point started, time_point now, std::uint64_t request_id) {
    auto before = watch_state();
    ttft_peak_.add(seconds(ttft), now);
    ttft_histogram_.observe(seconds(ttft));
    success_rate_.add(1.0);
    ++counters_.requests;
    chat_limiter_.on_success(ttft, 1, started, now);
    health_.on_success();
    emit_changes(before, request_id, "a completion started");
}

double node::chat_cost(time_point now) const noexcept {
    return ttft_peak_.value(now) * static_cast<double>(chat_limiter_.in_use() + chat_limiter_.waiting() + 1);
}

} // namespace herd
