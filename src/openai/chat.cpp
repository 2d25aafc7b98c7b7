#include <herd/openai/chat.hpp>

#include <ctime>

namespace herd::openai {

namespace {

using json = nlohmann::json;

// An Ollama message as OpenAI's: images become image_url parts.
json openai_message(const json& m) {
    if (!m.is_object() || !m.contains("images") || !m["images"].is_array()) return m;
    json out = m;
    out.erase("images");
    json parts = json::array();
    if (m.contains("content") && m["content"].is_string())
        parts.push_back(json{{"type", "text"}, {"text", m["content"]}});
    for (const auto& image : m["images"])
        if (image.is_string())
            parts.push_back(json{{"type", "image_url"},
                                 {"image_url", json{{"url", "data:image/png;base64," + image.get<std::string>()}}}});
    out["content"] = parts;
    return out;
}

std::string string_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::uint64_t count_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

} // namespace

json chat_body(const completion_request& req, bool stream) {
    const json& in = req.body();
    json out{{"model", req.model()}, {"stream", stream}};
    json messages = json::array();
    if (req.is_chat()) {
        if (in.contains("messages") && in["messages"].is_array())
            for (const auto& m : in["messages"]) messages.push_back(openai_message(m));
    } else {
        if (in.contains("system") && in["system"].is_string())
            messages.push_back(json{{"role", "system"}, {"content", in["system"]}});
        json user{{"role", "user"}, {"content", in.value("prompt", "")}};
        if (in.contains("images")) user["images"] = in["images"];
        messages.push_back(openai_message(user));
    }
    out["messages"] = std::move(messages);
    if (in.contains("tools")) out["tools"] = in["tools"];
    if (in.contains("options") && in["options"].is_object()) {
        const json& o = in["options"];
        for (const char* k : {"temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty"})
            if (o.contains(k)) out[k] = o[k];
        if (o.contains("num_predict")) out["max_tokens"] = o["num_predict"];
    }
    if (in.contains("format")) {
        const json& f = in["format"];
        if (f.is_string() && f.get<std::string>() == "json") out["response_format"] = json{{"type", "json_object"}};
        if (f.is_object())
            out["response_format"] = json{{"type", "json_schema"},
                                          {"json_schema", json{{"name", "herd"}, {"schema", f}}}};
    }
    return out;
}

bool parse_chunk(std::string_view data, chat_part& part, std::string& error_text) {
    part = chat_part{};
    error_text.clear();
    auto j = json::parse(data, nullptr, false);
    if (!j.is_object()) return false;
    if (auto e = j.find("error"); e != j.end()) {
        error_text = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                         ? (*e)["message"].get<std::string>()
                         : e->is_string() ? e->get<std::string>() : e->dump();
        return true;
    }
    json message{{"role", "assistant"}};
    if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty() && (*c)[0].is_object()) {
        const json& choice = (*c)[0];
        const json* m = nullptr;
        if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) m = &*d;
        else if (auto w = choice.find("message"); w != choice.end() && w->is_object()) m = &*w;
        if (m) {
            part.content = string_at(*m, "content");
            part.thinking = string_at(*m, "reasoning_content");
            if (part.thinking.empty()) part.thinking = string_at(*m, "reasoning");
            if (auto calls = m->find("tool_calls"); calls != m->end() && calls->is_array()) message["tool_calls"] = *calls;
        }
        if (auto f = choice.find("finish_reason"); f != choice.end() && f->is_string()) {
            part.done = true;
            part.done_reason = f->get<std::string>();
        }
    }
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
        part.prompt_eval_count = count_at(*u, "prompt_tokens");
        part.eval_count = count_at(*u, "completion_tokens");
    }
    message["content"] = part.content;
    j["message"] = std::move(message);
    part.raw = std::move(j);
    return true;
}

json chunk_object(const std::string& id, const std::string& model, json delta, json finish_reason) {
    json choice{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish_reason)}};
    return json{{"id", id},
                {"object", "chat.completion.chunk"},
                {"created", static_cast<std::int64_t>(std::time(nullptr))},
                {"model", model},
                {"system_fingerprint", "fp_ollama"},
                {"choices", json::array({std::move(choice)})}};
}

std::string sse_event(const json& j) { return "data: " + j.dump() + "\n\n"; }

} // namespace herd::openai
