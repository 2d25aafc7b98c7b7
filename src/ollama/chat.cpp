#include <herd/ollama/chat.hpp>

namespace herd::ollama {
namespace {

std::string string_at(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::uint64_t count_at(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

} // namespace

bool parse_part(const std::string& line, chat_part& part, std::string& error_text) {
    part = chat_part{};
    error_text.clear();
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return false;
    if (auto e = j.find("error"); e != j.end()) {
        error_text = e->is_string() ? e->get<std::string>() : e->dump();
        return true;
    }
    if (auto m = j.find("message"); m != j.end() && m->is_object()) {
        part.content = string_at(*m, "content");
        part.thinking = string_at(*m, "thinking");
    } else {
        part.content = string_at(j, "response");
        part.thinking = string_at(j, "thinking");
    }
    auto done = j.find("done"); // j.value() would throw on a "done" that is not a bool
    part.done = done != j.end() && done->is_boolean() && done->get<bool>();
    part.done_reason = string_at(j, "done_reason");
    part.total_duration = count_at(j, "total_duration");
    part.load_duration = count_at(j, "load_duration");
    part.prompt_eval_count = count_at(j, "prompt_eval_count");
    part.prompt_eval_duration = count_at(j, "prompt_eval_duration");
    part.eval_count = count_at(j, "eval_count");
    part.eval_duration = count_at(j, "eval_duration");
    part.raw = std::move(j);
    return true;
}

void accumulate(chat_response& response, const chat_part& part) {
    response.content += part.content;
    response.thinking += part.thinking;
    if (auto m = part.raw.find("message"); m != part.raw.end() && m->is_object()) {
        if (response.message.is_null()) {
            auto role = string_at(*m, "role"); // a role that is not a string is not one
            response.message = {{"role", role.empty() ? std::string("assistant") : role}};
        }
        // Tool calls may come in any part: keep them all.
        if (auto calls = m->find("tool_calls"); calls != m->end() && calls->is_array())
            for (const auto& c : *calls) response.message["tool_calls"].push_back(c);
        for (auto it = m->begin(); it != m->end(); ++it)
            if (it.key() != "content" && it.key() != "thinking" && it.key() != "tool_calls" &&
                !response.message.contains(it.key()))
                response.message[it.key()] = it.value();
    }
    if (part.done) response.final_part = part;
    if (response.message.is_object()) {
        response.message["content"] = response.content;
        if (!response.thinking.empty()) response.message["thinking"] = response.thinking;
    }
}

} // namespace herd::ollama
