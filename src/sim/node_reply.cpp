// Writing answers, with the faults that act on the bytes (reset mid-body,
// slow drip, garbage), and the steps every model request shares: finding
// the model and taking one of its slots.

#include "sim/node.hpp"
#include "sim/wire.hpp"

#include <herd/openai/codec.hpp>

#include <nlohmann/json.hpp>

namespace herd::sim {

awaitable<bool> node::reply(exchange& x, int status, std::string_view content_type, std::string_view body,
                            bool head_only, std::string_view allow) {
    x.s.out.clear();
    wire::framing f{.keep_alive = x.keep_alive,
                    .http10 = x.http10,
                    .head_only = head_only,
                    .chunk_size = profile_.chunk_size,
                    .allow = allow};
    auto head = wire::append_response(x.s.out, status, content_type, body, f);
    x.keep_alive = wire::keeps_alive(f, body.size());
    co_return co_await deliver(x, x.s.out, head) == sent::ok;
}

awaitable<bool> node::reply_busy(exchange& x) {
    live_counters::add(counters_.busy);
    x.s.body = x.openai ? openai::error_json(503, wire::busy_text) : wire::error_json(wire::busy_text);
    co_return co_await reply(x, 503, wire::json_type, x.s.body);
}

awaitable<bool> node::reply_error(exchange& x, const api_error& e) {
    if (x.openai && !e.plain) {
        // Ollama's {"error": "text"} in OpenAI's shape, as Ollama's /v1 does.
        auto j = nlohmann::json::parse(e.body, nullptr, false);
        auto text = j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : e.body;
        x.s.body = openai::error_json(e.status, text);
        co_return co_await reply(x, e.status, wire::json_type, x.s.body);
    }
    co_return co_await reply(x, e.status, e.plain ? wire::text_type : wire::json_type, e.body);
}

awaitable<node::sent> node::deliver(exchange& x, std::string_view bytes, std::size_t head_len) {
    const fault_spec& f = *x.f;
    if (f.reset_mid_body) {
        // Status line, headers and half the body, then a reset.
        mark_fault(x);
        auto cut = head_len + (bytes.size() - head_len) / 2;
        live_counters::add(counters_.bytes_out, cut);
        co_await x.s.write(bytes.substr(0, cut));
        x.s.abort();
        co_return sent::reset;
    }
    if (f.slow_drip_bytes > 0) {
        mark_fault(x);
        auto pause = std::chrono::duration_cast<steady_clock::duration>(f.slow_drip_interval);
        for (std::size_t at = 0; at < bytes.size(); at += f.slow_drip_bytes) {
            if (at > 0 && pause.count() > 0 && !co_await x.s.sleep(pause)) co_return sent::gone;
            auto piece = bytes.substr(at, f.slow_drip_bytes);
            live_counters::add(counters_.bytes_out, piece.size());
            if (!co_await x.s.write(piece)) co_return sent::gone;
        }
        co_return sent::ok;
    }
    // Counted before the write, so a client that has its answer also sees
    // it in the counters.
    live_counters::add(counters_.bytes_out, bytes.size());
    if (!co_await x.s.write(bytes)) co_return sent::gone;
    co_return sent::ok;
}

awaitable<void> node::send_garbage(exchange& x) {
    // Bytes no HTTP parser accepts: the first one is not 'H' (nor CR/LF).
    auto& out = x.s.out;
    out.clear();
    auto n = 64 + rng_.next() % 128;
    for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(rng_.next() & 0xff);
    out[0] = static_cast<char>(0x80 | (out[0] & 0x7f));
    live_counters::add(counters_.bytes_out, out.size());
    co_await x.s.write(out);
    x.s.close();
}

awaitable<std::optional<std::chrono::nanoseconds>> node::admit(exchange& x, model_state& m, slot_permit& permit,
                                                               bool& keep) {
    keep = false;
    auto queued = std::chrono::nanoseconds(0);
    if (m.slots.try_acquire()) {
        permit = slot_permit(m.slots, counters_.active);
    } else if (m.slots.waiting() >= profile_.queue_limit) {
        // OLLAMA_MAX_QUEUE: at most queue_limit requests wait for one model.
        keep = co_await reply_busy(x);
        co_return std::nullopt;
    } else {
        live_counters::add(counters_.queue);
        auto since = steady_clock::now();
        bool got = co_await m.slots.acquire(x.s);
        live_counters::sub(counters_.queue);
        if (!got) co_return std::nullopt;
        queued = steady_clock::now() - since;
        permit = slot_permit(m.slots, counters_.active);
    }
    if (!co_await models_.ensure_loaded(x.s, m, scaled(profile_.model_load_time, false))) co_return std::nullopt;
    co_return queued;
}

model_state* node::find_model(std::string_view name, std::string_view verb, api_error& err) {
    auto* m = models_.find(name);
    if (!m) {
        std::string text;
        if (verb == "embeddings") {
            text = "model \"";
            text += name;
            text += "\" not found, try pulling it first";
        } else {
            text = "model '";
            text += name;
            text += "' not found";
        }
        err = {404, wire::error_json(text), false};
        return nullptr;
    }
    if (verb != "embeddings" && m->spec.kind != model_kind::chat) {
        std::string text = "\"";
        text += name;
        text += "\" does not support ";
        text += verb;
        err = {400, wire::error_json(text), false};
        return nullptr;
    }
    return m;
}

} // namespace herd::sim
