// The model endpoints: /api/embed, /api/embeddings, /api/chat, /api/generate.
// A request waits for a slot of its model, pays the load when the model is
// cold, then its compute time on the connection's timer (none at all on a
// zero-cost node), and answers.

#include "sim/node.hpp"
#include "sim/wire.hpp"

#include <herd/openai/codec.hpp>

namespace herd::sim {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

nanoseconds since(steady_clock::time_point t) { return steady_clock::now() - t; }

} // namespace

awaitable<bool> node::api_embed(exchange& x, const http::message& m, bool legacy) {
    // Ollama's total_duration runs from here, so it holds the wait for the
    // model's slot; its load_duration does not.
    auto start = steady_clock::now();
    auto parsed = parse_embed(m.body, legacy);
    if (auto* e = std::get_if<api_error>(&parsed)) co_return co_await reply_error(x, *e);
    auto& r = std::get<embed_request>(parsed);

    api_error err;
    model_state* ms = find_model(r.model, "embeddings", err);
    if (!ms) co_return co_await reply_error(x, err);
    if (r.inputs.empty() && x.openai) co_return co_await reply_error(x, bad_request("invalid input"));
    if (r.inputs.empty()) {
        // Nothing to embed: Ollama loads the model (no slot needed) and
        // answers with no vectors and no durations.
        if (!co_await models_.ensure_loaded(x.s, *ms, scaled(profile_.model_load_time, false))) co_return false;
        model_table::apply_keep_alive(*ms, r.keep_alive);
        render_embed(x.s.body, r, ms->spec.dim, cache_, 0, {});
        co_return co_await reply(x, 200, wire::json_type, x.s.body);
    }
    std::size_t tokens = 0, bytes = 0;
    bool too_long = false;
    for (const auto& text : r.inputs) {
        auto t = estimate_tokens(text);
        too_long = too_long || (!r.truncate && t > ms->spec.context_length);
        tokens += std::min(t, ms->spec.context_length);
        bytes += text.size();
    }
    if (too_long) {
        err = {400, wire::error_json("the input length exceeds the context length"), false};
        co_return co_await reply_error(x, err);
    }

    slot_permit permit;
    bool keep = false;
    auto queued = co_await admit(x, *ms, permit, keep);
    if (!queued) co_return keep;
    // Inputs of one request run one after another in the slot: one wait
    // for their sum is the same as one wait each. The load_overhead share
    // of it is reported as load_duration (one tail draw for the whole).
    const nanoseconds base =
        profile_.request_overhead + profile_.per_input_cost * r.inputs.size() + profile_.per_char_cost * bytes;
    const auto cost = scaled(base, true);
    const double share = base > 0ns ? static_cast<double>(nanoseconds(profile_.load_overhead).count()) /
                                          static_cast<double>(base.count())
                                    : 0.0;
    const auto warm_load = nanoseconds(static_cast<std::int64_t>(static_cast<double>(cost.count()) * share));
    const auto load = since(start) - *queued + warm_load;
    if (cost > 0ns && !co_await x.s.sleep(cost)) co_return false;
    permit.reset();
    model_table::apply_keep_alive(*ms, r.keep_alive);

    int wrong = legacy ? 0 : x.f->wrong_count;
    if (wrong != 0) mark_fault(x);
    if (x.openai)
        render_openai_embed(x.s.body, r, ms->spec.dim, cache_, wrong, tokens, x.f->reverse_order);
    else
        render_embed(x.s.body, r, ms->spec.dim, cache_, wrong, {since(start), load, tokens});
    // Counted before the answer leaves (a client holding its vectors sees
    // them counted); a body cut by reset_mid_body is no success.
    if (!x.f->reset_mid_body) {
        live_counters::add(counters_.inputs, r.inputs.size());
        counters_.add_embed_options(r.options, r.inputs.size());
    }
    co_return co_await reply(x, 200, wire::json_type, x.s.body);
}

awaitable<bool> node::api_chat_load(exchange& x, const chat_request& r, model_state& ms) {
    // A request with only a model: load it (or unload with keep_alive 0)
    // and answer at once, as clients pre-warm.
    std::string_view reason = "load";
    if (r.keep_alive && *r.keep_alive == 0ns) {
        model_table::unload(ms);
        reason = "unload";
    } else {
        if (!co_await models_.ensure_loaded(x.s, ms, scaled(profile_.model_load_time, false))) co_return false;
        model_table::apply_keep_alive(ms, r.keep_alive);
    }
    x.s.body.clear();
    append_chat_load(x.s.body, r, reason);
    x.s.body.pop_back(); // a single JSON object has no newline
    co_return co_await reply(x, 200, wire::json_type, x.s.body);
}

awaitable<bool> node::stream_write(exchange& x, bool& head_sent, std::string_view line, bool last,
                                   std::string_view type) {
    auto& out = x.s.out;
    out.clear();
    std::size_t head = 0;
    if (!head_sent) {
        wire::append_stream_head(out, 200, type, {.keep_alive = x.keep_alive, .http10 = x.http10});
        head = out.size();
        head_sent = true;
        // An HTTP/1.0 stream is delimited by the close.
        if (x.http10) x.keep_alive = false;
    }
    if (x.http10) {
        out += line;
    } else {
        wire::append_chunk(out, line);
        if (last) wire::append_last_chunk(out);
    }
    auto result = co_await deliver(x, out, head);
    // The client hung up mid-stream: Ollama cancels the generation.
    if (result == sent::gone && !x.s.closed()) live_counters::add(counters_.cancelled);
    co_return result == sent::ok;
}

awaitable<bool> node::api_chat(exchange& x, const http::message& m, bool generate) {
    auto start = steady_clock::now();
    auto parsed = x.openai ? parse_openai_chat(m.body) : parse_chat(m.body, generate);
    if (auto* e = std::get_if<api_error>(&parsed)) co_return co_await reply_error(x, *e);
    auto& r = std::get<chat_request>(parsed);
    const std::string_view type = x.openai ? "text/event-stream" : wire::ndjson_type;

    api_error err;
    model_state* ms = find_model(r.model, generate ? "generate" : "chat", err);
    if (!ms) co_return co_await reply_error(x, err);
    if (r.load_only) co_return co_await api_chat_load(x, r, *ms);

    slot_permit permit;
    bool keep = false;
    auto queued = co_await admit(x, *ms, permit, keep);
    if (!queued) co_return keep;

    chat_timing t;
    t.load = since(start) - *queued;
    t.prompt_eval_count = r.prompt_bytes / 4 + 1;
    auto prompt_start = steady_clock::now();
    auto prompt_cost = scaled(profile_.request_overhead + profile_.per_char_cost * r.prompt_bytes, true);
    if (prompt_cost > 0ns && !co_await x.s.sleep(prompt_cost)) co_return false;
    t.prompt_eval = since(prompt_start);

    // One tail draw per request: a slow request is slow for every token.
    auto interval = scaled(profile_.token_interval, true);
    token_source tokens(base_model_name(r.model), r.prompt);
    std::string text; // the whole answer, for stream:false
    bool head_sent = false;
    auto eval_start = steady_clock::now();
    const auto error_after = x.f->stream_error_after;
    for (std::uint64_t i = 0; i < r.token_count(); ++i) {
        if (error_after && i == *error_after) {
            mark_fault(x);
            permit.reset();
            if (!r.stream) {
                x.s.body = x.openai ? openai::error_json(500, x.f->error_message) : wire::error_json(x.f->error_message);
                co_return co_await reply(x, 500, wire::json_type, x.s.body);
            }
            x.s.body.clear();
            if (x.openai) append_openai_stream_error(x.s.body, x.f->error_message);
            else append_stream_error(x.s.body, x.f->error_message);
            co_return co_await stream_write(x, head_sent, x.s.body, true, type);
        }
        if (interval > 0ns && !co_await x.s.sleep(interval)) co_return false;
        auto token = tokens.next();
        t.eval_count++;
        if (!r.stream) {
            text += token;
            continue;
        }
        x.s.body.clear();
        if (x.openai) append_openai_part(x.s.body, r, token);
        else append_chat_part(x.s.body, r, token);
        if (!co_await stream_write(x, head_sent, x.s.body, false, type)) co_return false;
    }
    t.eval = since(eval_start);
    t.total = since(start);
    permit.reset();
    model_table::apply_keep_alive(*ms, r.keep_alive);

    x.s.body.clear();
    if (x.openai) {
        append_openai_final(x.s.body, r, text, r.done_reason(), t);
        if (r.stream) co_return co_await stream_write(x, head_sent, x.s.body, true, type);
        co_return co_await reply(x, 200, wire::json_type, x.s.body);
    }
    append_chat_final(x.s.body, r, text, r.done_reason(), t);
    if (r.stream) co_return co_await stream_write(x, head_sent, x.s.body, true);
    x.s.body.pop_back();
    co_return co_await reply(x, 200, wire::json_type, x.s.body);
}

} // namespace herd::sim
