#include "sim/chat.hpp"

#include "sim/json_util.hpp"
#include "sim/profile.hpp"
#include "sim/wire.hpp"

#include <herd/openai/chat.hpp>
#include <herd/openai/codec.hpp>
#include <herd/sim/embedding_rule.hpp>

#include <nlohmann/json.hpp>

#include <array>

namespace herd::sim {

namespace {

// A few tokens carry characters Go escapes (\u003c, \u0026), so clients'
// JSON decoding gets exercised by every stream.
constexpr std::array<std::string_view, 32> words = {
    "The",   "llama", "herd",   "grazes", "on",    "high",  "plains", ",",     "and",  "every", "node",
    "answers", "in",  "order", ".",       "Fast",  "vectors", "<3",   "&",     "quiet", "wind", "moves",
    "through", "grass", "while", "tokens", "flow", "steadily", "home", "again", "today", "!"};

void append_prefix(std::string& out, const chat_request& r) {
    out += "{\"model\":";
    wire::append_json_string(out, r.model);
    out += ",\"created_at\":\"";
    wire::append_timestamp(out, std::chrono::system_clock::now());
    out += '"';
}

void append_content(std::string& out, const chat_request& r, std::string_view content) {
    out += r.generate ? ",\"response\":" : ",\"message\":{\"role\":\"assistant\",\"content\":";
    wire::append_json_string(out, content);
    if (!r.generate) out += '}';
}

void append_field(std::string& out, std::string_view name, std::uint64_t v) {
    out += ",\"";
    out += name;
    out += "\":";
    wire::append_uint(out, v);
}

std::uint64_t ns(std::chrono::nanoseconds d) { return static_cast<std::uint64_t>(d.count()); }

} // namespace

std::variant<chat_request, api_error> parse_chat(std::string_view body, bool generate) {
    auto parsed = parse_body(body, generate ? "api.GenerateRequest" : "api.ChatRequest");
    if (auto* e = std::get_if<api_error>(&parsed)) return std::move(*e);
    auto& j = std::get<nlohmann::json>(parsed);

    chat_request r;
    r.generate = generate;
    try {
        read_field(j, "model", r.model);
        read_field(j, "stream", r.stream);
        r.keep_alive = keep_alive_from_json(j);
        if (auto o = j.find("options"); o != j.end() && o->is_object()) {
            std::int64_t n = -1;
            read_field(*o, "num_predict", n);
            if (n >= 0) r.num_predict = static_cast<std::uint64_t>(n); // negative: no limit given
        }
        if (generate) {
            read_field(j, "prompt", r.prompt);
            r.prompt_bytes = r.prompt.size();
        } else if (auto m = j.find("messages"); m != j.end() && !m->is_null()) {
            if (!m->is_array()) throw std::invalid_argument("messages must be an array");
            for (const auto& msg : *m) {
                if (!msg.is_object()) throw std::invalid_argument("each message must be an object");
                std::string role, content;
                read_field(msg, "role", role);
                read_field(msg, "content", content);
                r.prompt_bytes += content.size();
                r.prompt = std::move(content);
            }
            r.load_only = m->empty();
        } else {
            r.load_only = true;
        }
    } catch (const std::invalid_argument& e) {
        return bad_request(e.what());
    }
    if (generate) r.load_only = r.prompt.empty();
    // Ollama's words differ between the two endpoints.
    if (r.model.empty() && generate) return api_error{404, wire::error_json("model '' not found"), false};
    if (r.model.empty()) return bad_request("model is required");
    if (!valid_model_name(r.model)) return bad_request("invalid model name");
    return r;
}

std::variant<chat_request, api_error> parse_openai_chat(std::string_view body) {
    auto parsed = parse_chat(body, false);
    auto* r = std::get_if<chat_request>(&parsed);
    if (!r) return parsed;
    r->openai = true;
    auto j = nlohmann::json::parse(body, nullptr, false); // parse_chat took it: an object
    auto stream = j.find("stream");
    r->stream = stream != j.end() && stream->is_boolean() && stream->get<bool>();
    r->num_predict.reset();
    for (const char* k : {"max_tokens", "max_completion_tokens"})
        if (auto n = j.find(k); n != j.end() && n->is_number_unsigned()) r->num_predict = n->get<std::uint64_t>();
    if (r->load_only) return bad_request("[] is too short - 'messages'");
    return parsed;
}

token_source::token_source(std::string_view model, std::string_view prompt) noexcept
    : state_(fnv1a64(prompt, fnv1a64(std::string_view("\0", 1), fnv1a64(model)))) {
    if (state_ == 0) state_ = 0x9E3779B97F4A7C15ULL;
}

std::string_view token_source::next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    auto word = words[(state_ * 0x2545F4914F6CDD1DULL) >> 59];
    token_.clear();
    if (produced_++ > 0) token_ += ' ';
    token_ += word;
    return token_;
}

void append_chat_part(std::string& out, const chat_request& r, std::string_view content) {
    append_prefix(out, r);
    append_content(out, r, content);
    out += ",\"done\":false}\n";
}

void append_chat_final(std::string& out, const chat_request& r, std::string_view content,
                       std::string_view done_reason, const chat_timing& t) {
    append_prefix(out, r);
    append_content(out, r, content);
    out += ",\"done_reason\":";
    wire::append_json_string(out, done_reason);
    out += ",\"done\":true";
    append_field(out, "total_duration", ns(t.total));
    append_field(out, "load_duration", ns(t.load));
    append_field(out, "prompt_eval_count", t.prompt_eval_count);
    append_field(out, "prompt_eval_duration", ns(t.prompt_eval));
    append_field(out, "eval_count", t.eval_count);
    append_field(out, "eval_duration", ns(t.eval));
    out += "}\n";
}

void append_chat_load(std::string& out, const chat_request& r, std::string_view done_reason) {
    append_prefix(out, r);
    append_content(out, r, "");
    out += ",\"done_reason\":";
    wire::append_json_string(out, done_reason);
    out += ",\"done\":true}\n";
}

void append_stream_error(std::string& out, std::string_view message) {
    out += wire::error_json(message);
    out += '\n';
}

namespace {

std::string openai_id(const chat_request& r) {
    // One id for every chunk of a request: its prompt's hash.
    return "chatcmpl-" + std::to_string(fnv1a64(r.prompt, fnv1a64(r.model)) % 1000000000);
}

nlohmann::json usage(const chat_timing& t) {
    return {{"prompt_tokens", t.prompt_eval_count},
            {"completion_tokens", t.eval_count},
            {"total_tokens", t.prompt_eval_count + t.eval_count}};
}

} // namespace

void append_openai_part(std::string& out, const chat_request& r, std::string_view content) {
    nlohmann::json delta{{"role", "assistant"}, {"content", content}};
    out += openai::sse_event(openai::chunk_object(openai_id(r), r.model, std::move(delta), nullptr));
}

void append_openai_final(std::string& out, const chat_request& r, std::string_view content,
                         std::string_view done_reason, const chat_timing& t) {
    if (r.stream) {
        auto last = openai::chunk_object(openai_id(r), r.model, nlohmann::json::object(), done_reason);
        last["usage"] = usage(t);
        out += openai::sse_event(last);
        out += "data: [DONE]\n\n";
        return;
    }
    nlohmann::json message{{"role", "assistant"}, {"content", content}};
    nlohmann::json choice{{"index", 0}, {"message", std::move(message)}, {"finish_reason", done_reason}};
    auto whole = openai::chunk_object(openai_id(r), r.model, nullptr, nullptr);
    whole["object"] = "chat.completion";
    whole["choices"] = nlohmann::json::array({std::move(choice)});
    whole["usage"] = usage(t);
    out += whole.dump();
}

void append_openai_stream_error(std::string& out, std::string_view message) {
    auto e = openai::error_json(500, message);
    e.pop_back(); // its newline
    out += "data: ";
    out += e;
    out += "\n\n";
}

} // namespace herd::sim
