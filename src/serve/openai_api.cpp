#include "serve/openai_api.hpp"

#include "serve/json_wire.hpp"
#include "serve/ollama_api.hpp"

#include <herd/openai/chat.hpp>
#include <herd/openai/codec.hpp>

#include <fmt/format.h>

#include <atomic>
#include <ctime>

namespace herd::serve {

namespace {

using json = nlohmann::json;
constexpr std::string_view openai_type = "application/json";

awaitable<void> send_error(response& res, int status, std::string_view message) {
    std::string body = openai::error_json(status, message);
    co_await res.send(status, openai_type, body);
}

awaitable<void> send_failure(response& res, const failure& f, std::string_view model) {
    if (f.code == ::asio::error::operation_aborted) co_return; // the client left
    int status = status_of(f);
    std::string text = status == 404 ? model_not_found_text(model) : text_of(f);
    co_await send_error(res, status, text);
}

awaitable<void> embeddings(gateway& g, request& req, response& res) {
    auto body = parse_json_body(req.message.body);
    if (!body.error.empty()) co_return co_await send_error(res, 400, body.error);
    const json& j = body.value;
    embed_call call;
    if (j.contains("model") && j["model"].is_string()) call.model = j["model"].get<std::string>();
    if (call.model.empty()) co_return co_await send_error(res, 400, "model is required");
    const json in = j.contains("input") ? j["input"] : json();
    if (in.is_string()) {
        call.texts.push_back(in.get<std::string>()); // "" is one input here
    } else if (in.is_array() && !in.empty()) {
        for (const auto& t : in) {
            if (!t.is_string()) co_return co_await send_error(res, 400, "invalid input type");
            call.texts.push_back(t.get<std::string>());
        }
    } else {
        co_return co_await send_error(res, 400, "invalid input");
    }
    if (j.contains("dimensions") && j["dimensions"].is_number_integer()) {
        auto d = j["dimensions"].get<std::int64_t>();
        call.dimensions = d > 0 ? static_cast<unsigned>(d) : 0;
    }
    std::string format = j.contains("encoding_format") && j["encoding_format"].is_string()
                             ? j["encoding_format"].get<std::string>()
                             : "float";
    if (format != "float" && format != "base64")
        co_return co_await send_error(res, 400, "invalid encoding_format: must be \"float\" or \"base64\"");
    auto ticket = g.admit();
    if (!ticket) co_return co_await send_error(res, 503, busy_text);
    auto answer = co_await g.embed(call, req.connection);
    if (answer.fail) co_return co_await send_failure(res, answer.fail, call.model);

    const auto& m = answer.vectors;
    std::string out = "{\"object\":\"list\",\"data\":[";
    out.reserve(64 + m.rows() * (m.dim() * 12 + 48));
    for (std::size_t i = 0; i < m.rows(); ++i) {
        if (i) out += ',';
        out += "{\"object\":\"embedding\",\"embedding\":";
        if (format == "base64") {
            out += '"';
            out += base64_floats(m.row(i));
            out += '"';
        } else {
            append_floats(out, m.row(i));
        }
        fmt::format_to(std::back_inserter(out), ",\"index\":{}}}", i);
    }
    fmt::format_to(std::back_inserter(out), "],\"model\":{},\"usage\":{{\"prompt_tokens\":{},\"total_tokens\":{}}}}}",
                   json(call.model).dump(), answer.prompt_tokens, answer.prompt_tokens);
    co_await res.send(200, openai_type, out);
}

// An OpenAI message's content as Ollama's: text parts joined, data-URL
// images as base64 images.
json ollama_message(const json& m) {
    json out = json::object();
    out["role"] = m.value("role", "user");
    const json content = m.contains("content") ? m["content"] : json("");
    if (content.is_string()) {
        out["content"] = content;
    } else if (content.is_array()) {
        std::string text;
        for (const auto& part : content) {
            if (!part.is_object()) continue;
            if (part.value("type", "") == "text") text += part.value("text", "");
            if (part.value("type", "") == "image_url" && part.contains("image_url")) {
                const json& u = part["image_url"];
                std::string url = u.is_string() ? u.get<std::string>() : u.value("url", "");
                auto comma = url.find(";base64,");
                if (comma != std::string::npos) out["images"].push_back(url.substr(comma + 8));
            }
        }
        out["content"] = text;
    } else {
        out["content"] = "";
    }
    for (const char* k : {"tool_calls", "name", "tool_call_id"})
        if (m.contains(k)) out[k] = m[k];
    return out;
}

chat_request ollama_chat(const std::string& model, const json& j) {
    chat_request r(model);
    if (j.contains("messages") && j["messages"].is_array())
        for (const auto& m : j["messages"]) r.message(ollama_message(m));
    json options = json::object();
    auto copy = [&](const char* from, const char* to) {
        if (j.contains(from) && !j[from].is_null()) options[to] = j[from];
    };
    copy("temperature", "temperature");
    copy("top_p", "top_p");
    copy("seed", "seed");
    copy("frequency_penalty", "frequency_penalty");
    copy("presence_penalty", "presence_penalty");
    copy("max_tokens", "num_predict");
    copy("max_completion_tokens", "num_predict");
    if (j.contains("stop") && j["stop"].is_string()) options["stop"] = json::array({j["stop"]});
    else copy("stop", "stop");
    if (!options.empty()) r.options(options);
    if (j.contains("tools") && j["tools"].is_array()) r.tools(j["tools"]);
    if (j.contains("response_format") && j["response_format"].is_object()) {
        const auto& f = j["response_format"];
        if (f.value("type", "") == "json_object") r.format("json");
        if (f.value("type", "") == "json_schema" && f.contains("json_schema") && f["json_schema"].contains("schema"))
            r.format(f["json_schema"]["schema"]);
    }
    return r;
}

std::string completion_id() {
    static std::atomic<std::uint64_t> next{0};
    return fmt::format("chatcmpl-{}", ++next);
}

json usage_of(const chat_part& p) {
    return json{{"prompt_tokens", p.prompt_eval_count},
                {"completion_tokens", p.eval_count},
                {"total_tokens", p.prompt_eval_count + p.eval_count}};
}

json finish_reason(const chat_part& p) {
    if (!p.done) return nullptr;
    if (p.raw.contains("message") && p.raw["message"].contains("tool_calls")) return "tool_calls";
    return p.done_reason.empty() ? json("stop") : json(p.done_reason);
}

json chunk_of(const std::string& id, const std::string& model, const chat_part& p) {
    json delta{{"role", "assistant"}, {"content", p.content}};
    if (!p.thinking.empty()) delta["reasoning"] = p.thinking;
    if (p.raw.contains("message") && p.raw["message"].contains("tool_calls"))
        delta["tool_calls"] = p.raw["message"]["tool_calls"];
    return openai::chunk_object(id, model, std::move(delta), finish_reason(p));
}

awaitable<void> event(response& res, const json& j, bool& gone) {
    std::string e = openai::sse_event(j);
    auto ec = co_await res.write(e);
    gone = static_cast<bool>(ec);
}

awaitable<void> stream_chat(response& res, completion_stream& stream, const std::string& model, bool usage) {
    const std::string id = completion_id();
    co_await res.begin_stream(200, "text/event-stream");
    bool gone = false;
    for (;;) {
        auto step = co_await gateway::next(stream);
        if (step.fail.code == ::asio::error::operation_aborted) co_return;
        if (step.fail) {
            json err = json::parse(openai::error_json(500, text_of(step.fail)));
            co_await event(res, err, gone);
            break;
        }
        if (!step.part) break;
        json chunk = chunk_of(id, model, *step.part);
        co_await event(res, chunk, gone);
        if (gone) co_return;
        if (step.part->done && usage) {
            json u = chunk;
            u["choices"] = json::array();
            u["usage"] = usage_of(*step.part);
            co_await event(res, u, gone);
        }
    }
    co_await res.write("data: [DONE]\n\n");
    co_await res.end_stream();
}

awaitable<void> chat_completions(gateway& g, request& req, response& res) {
    auto body = parse_json_body(req.message.body);
    if (!body.error.empty()) co_return co_await send_error(res, 400, body.error);
    const json& j = body.value;
    std::string model = j.contains("model") && j["model"].is_string() ? j["model"].get<std::string>() : "";
    if (model.empty()) co_return co_await send_error(res, 400, "model is required");
    if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
        co_return co_await send_error(res, 400, "[] is too short - 'messages'");
    const bool stream = j.contains("stream") && j["stream"].is_boolean() && j["stream"].get<bool>();
    const bool usage = j.contains("stream_options") && j["stream_options"].is_object() &&
                       j["stream_options"].value("include_usage", false);
    auto ticket = g.admit();
    if (!ticket) co_return co_await send_error(res, 503, busy_text);
    auto cr = ollama_chat(model, j);
    if (stream) {
        auto start = co_await g.open(std::move(cr));
        if (start.fail) co_return co_await send_failure(res, start.fail, model);
        co_await stream_chat(res, start.stream, model, usage);
        co_return;
    }
    auto whole = co_await g.complete(std::move(cr));
    if (whole.fail) co_return co_await send_failure(res, whole.fail, model);
    const auto& a = whole.answer;
    json message{{"role", "assistant"}, {"content", a.content}};
    if (!a.thinking.empty()) message["reasoning"] = a.thinking;
    if (a.message.is_object() && a.message.contains("tool_calls")) message["tool_calls"] = a.message["tool_calls"];
    json choice{{"index", 0}, {"message", message}, {"finish_reason", finish_reason(a.final_part)}};
    json out{{"id", completion_id()},
             {"object", "chat.completion"},
             {"created", static_cast<std::int64_t>(std::time(nullptr))},
             {"model", model},
             {"system_fingerprint", "fp_ollama"},
             {"choices", json::array({choice})},
             {"usage", usage_of(a.final_part)}};
    std::string text = out.dump();
    co_await res.send(200, openai_type, text);
}

awaitable<void> models(gateway& g, request&, response& res) {
    auto tags = co_await g.models("/api/tags");
    json data = json::array();
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& m : tags["models"])
        data.push_back(json{{"id", m["name"]}, {"object", "model"}, {"created", now}, {"owned_by", "library"}});
    json out{{"object", "list"}, {"data", data}};
    std::string text = out.dump() + "\n";
    co_await res.send(200, openai_type, text);
}

} // namespace

void add_openai_routes(router& r, gateway& g) {
    r.add("POST", "/v1/embeddings", [&g](request& req, response& res) { return embeddings(g, req, res); });
    r.add("POST", "/v1/chat/completions", [&g](request& req, response& res) { return chat_completions(g, req, res); });
    r.add("GET", "/v1/models", [&g](request& req, response& res) { return models(g, req, res); });
}

} // namespace herd::serve
