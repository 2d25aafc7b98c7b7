#include "serve/ollama_api.hpp"

#include "ollama/go_kind.hpp"
#include "serve/json_wire.hpp"

#include <fmt/format.h>

namespace herd::serve {

namespace {

using json = nlohmann::json;

awaitable<void> send_error(response& res, int status, std::string_view text) {
    std::string body = error_json(text);
    co_await res.send(status, json_type, body);
}

awaitable<void> send_json(response& res, const json& j) {
    std::string body = j.dump();
    co_await res.send(200, json_type, body);
}

// The 4xx/5xx answer for a failed pool call; nothing for a cancelled one
// (the client is gone).
awaitable<void> send_failure(response& res, const failure& f, std::string_view model, bool embed) {
    if (f.code == ::asio::error::operation_aborted) co_return;
    int status = status_of(f);
    // An unknown model gets Ollama's text for the endpoint, whichever node said it.
    std::string text = status != 404 ? text_of(f)
                       : embed       ? model_not_found_text(model)
                                     : fmt::format("model '{}' not found", model);
    co_await send_error(res, status, text);
}

// model, truncate, dimensions, keep_alive, options of an embed body; false
// (and the 400 text in `error`) when a field has the wrong type.
bool embed_params_of(const json& body, bool legacy, embed_call& call, std::string& error) {
    if (body.contains("model") && body["model"].is_string()) call.model = body["model"].get<std::string>();
    if (body.contains("truncate") && body["truncate"].is_boolean()) call.truncate = body["truncate"].get<bool>();
    if (body.contains("dimensions") && !body["dimensions"].is_null()) {
        if (!body["dimensions"].is_number_integer()) {
            error = "invalid dimensions";
            return false;
        }
        auto d = body["dimensions"].get<std::int64_t>();
        call.dimensions = d > 0 ? static_cast<unsigned>(d) : 0;
    }
    if (body.contains("keep_alive") && !body["keep_alive"].is_null()) {
        auto k = keep_alive_text(body["keep_alive"]);
        if (!k) {
            error = "invalid keep_alive";
            return false;
        }
        call.keep_alive = *k;
    }
    if (body.contains("options") && !body["options"].is_null()) {
        const json& o = body["options"];
        if (!o.is_object()) {
            error = fmt::format("json: cannot unmarshal {} into Go struct field {}.options of type map[string]interface {{}}",
                                ollama::go_kind(o), legacy ? "EmbeddingRequest" : "EmbedRequest");
            return false;
        }
        if (!o.empty()) call.options = o.dump(); // nlohmann's objects are sorted: equal options, equal text
    }
    return true;
}

awaitable<void> embed(gateway& g, request& req, response& res, bool legacy) {
    auto body = parse_json_body(req.message.body);
    if (!body.error.empty()) co_return co_await send_error(res, 400, body.error);
    embed_call call;
    std::string error;
    if (!embed_params_of(body.value, legacy, call, error)) co_return co_await send_error(res, 400, error);
    if (legacy) {
        if (call.model.empty()) co_return co_await send_error(res, 400, "model is required");
        const json& p = body.value.contains("prompt") ? body.value["prompt"] : json();
        if (p.is_string() && !p.get<std::string>().empty()) call.texts.push_back(p.get<std::string>());
    } else {
        if (call.model.empty()) co_return co_await send_error(res, 404, "model '' not found");
        const json& in = body.value.contains("input") ? body.value["input"] : json();
        if (in.is_string()) {
            if (!in.get<std::string>().empty()) call.texts.push_back(in.get<std::string>());
        } else if (in.is_array()) {
            call.texts.reserve(in.size());
            for (const auto& t : in) {
                if (!t.is_string()) co_return co_await send_error(res, 400, "invalid input type");
                call.texts.push_back(t.get<std::string>());
            }
        } else if (!in.is_null()) {
            co_return co_await send_error(res, 400, "invalid input type");
        }
    }
    auto ticket = g.admit();
    if (!ticket) co_return co_await send_error(res, 503, busy_text);
    const auto started = clock::now();
    auto answer = co_await g.embed(call, req.connection);
    if (answer.fail) co_return co_await send_failure(res, answer.fail, call.model, true);

    std::string out;
    const auto& m = answer.vectors;
    out.reserve(64 + m.rows() * m.dim() * 12);
    if (legacy) {
        out += "{\"embedding\":";
        append_floats(out, m.empty() ? std::span<const float>{} : m.row(0));
        out += '}';
    } else {
        out += "{\"model\":";
        out += json(call.model).dump();
        out += ",\"embeddings\":[";
        for (std::size_t i = 0; i < m.rows(); ++i) {
            if (i) out += ',';
            append_floats(out, m.row(i));
        }
        out += ']';
        if (!call.texts.empty()) {
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started).count();
            fmt::format_to(std::back_inserter(out), ",\"total_duration\":{},\"load_duration\":0,\"prompt_eval_count\":{}",
                           ns, answer.prompt_tokens);
        }
        out += '}';
    }
    co_await res.send(200, json_type, out);
}

// Streams `stream`'s parts as NDJSON lines; an error after the head is a
// final {"error"} line.
awaitable<void> relay(response& res, completion_stream& stream) {
    co_await res.begin_stream(200, "application/x-ndjson");
    for (;;) {
        auto step = co_await gateway::next(stream);
        if (step.fail.code == ::asio::error::operation_aborted) co_return; // the client left
        if (step.fail) {
            std::string line = error_json(text_of(step.fail)) + "\n";
            co_await res.write(line);
            break;
        }
        if (!step.part) break;
        std::string line = step.part->raw.dump() + "\n";
        auto ec = co_await res.write(line);
        if (ec) co_return;
    }
    co_await res.end_stream();
}

awaitable<void> completion(gateway& g, request& req, response& res, bool chat) {
    auto body = parse_json_body(req.message.body);
    if (!body.error.empty()) co_return co_await send_error(res, 400, body.error);
    const json& j = body.value;
    std::string model = j.contains("model") && j["model"].is_string() ? j["model"].get<std::string>() : "";
    if (model.empty()) co_return co_await send_error(res, 400, "model is required");
    const bool stream = !(j.contains("stream") && j["stream"].is_boolean() && !j["stream"].get<bool>());
    auto ticket = g.admit();
    if (!ticket) co_return co_await send_error(res, 503, busy_text);

    // Every field passes through as the client sent it; the pool sets stream.
    auto fill = [&](auto& r) {
        for (auto& [k, v] : j.items())
            if (k != "model" && k != "stream") r.set(k, v);
    };
    chat_request cr(model);
    std::string prompt = j.contains("prompt") && j["prompt"].is_string() ? j["prompt"].get<std::string>() : "";
    generate_request gr(model, prompt);
    if (chat) fill(cr); else fill(gr);

    if (stream) {
        stream_start start;
        if (chat) start = co_await g.open(std::move(cr));
        else start = co_await g.open(std::move(gr));
        if (start.fail) co_return co_await send_failure(res, start.fail, model, false);
        co_await relay(res, start.stream);
        co_return;
    }
    whole_answer whole;
    if (chat) whole = co_await g.complete(std::move(cr));
    else whole = co_await g.complete(std::move(gr));
    if (whole.fail) co_return co_await send_failure(res, whole.fail, model, false);
    json out = whole.answer.final_part.raw;
    if (chat) {
        out["message"] = whole.answer.message;
    } else {
        out["response"] = whole.answer.content;
        if (!whole.answer.thinking.empty()) out["thinking"] = whole.answer.thinking;
    }
    co_await send_json(res, out);
}

} // namespace

void add_ollama_routes(router& r, gateway& g) {
    r.add("GET", "/", [](request&, response& res) -> awaitable<void> {
        co_await res.send(200, "text/plain; charset=utf-8", "Ollama is running");
    });
    r.add("POST", "/api/embed", [&g](request& req, response& res) { return embed(g, req, res, false); });
    r.add("POST", "/api/embeddings", [&g](request& req, response& res) { return embed(g, req, res, true); });
    r.add("POST", "/api/chat", [&g](request& req, response& res) { return completion(g, req, res, true); });
    r.add("POST", "/api/generate", [&g](request& req, response& res) { return completion(g, req, res, false); });
    r.add("GET", "/api/tags", [&g](request&, response& res) -> awaitable<void> {
        auto j = co_await g.models("/api/tags");
        co_await send_json(res, j);
    });
    r.add("GET", "/api/ps", [&g](request&, response& res) -> awaitable<void> {
        auto j = co_await g.models("/api/ps");
        co_await send_json(res, j);
    });
    r.add("GET", "/api/version", [&g](request&, response& res) -> awaitable<void> {
        json j;
        j["version"] = co_await g.version();
        co_await send_json(res, j);
    });
}

} // namespace herd::serve
