#pragma once
// Chat and generate requests and the parts of their streamed answers.
//
//   auto req = herd::chat_request("llama3.2").system("Be brief.").user("Hello!");
//   auto req = herd::generate_request("llama3.2", "Why is the sky blue?");
//
// Requests are classes with builder methods, not aggregates: g++ 12
// destroys a braced aggregate temporary with non-trivial members twice when
// it is written inside a co_await expression, and
// `co_await pool.chat(herd::chat_request("m").user("hi"))` is how these
// are used. Every field Ollama accepts passes through faithfully: messages
// with roles, images (base64), tools and tool calls, format (a JSON
// schema or "json"), options, keep_alive, think; anything else with set().
// Unknown fields of responses are kept in `raw`.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace herd {

/// How the pool picks a node for a completion.
enum class routing_mode {
    fast,       ///< lowest expected latency (best model state, then cost)
    reliable,   ///< highest recent success rate; more attempts before failing
    background, ///< idle and slow nodes first, keeping fast ones free; priority 1
};

/// What chat and generate requests share (the pool takes either).
class completion_request {
public:
    const std::string& model() const { return model_; }
    int priority() const noexcept { return priority_; }
    routing_mode mode() const noexcept { return mode_; }
    /// The JSON body sent (stream is set by the pool).
    const nlohmann::json& body() const noexcept { return body_; }
    bool is_chat() const noexcept { return chat_; }

protected:
    completion_request(std::string model, bool chat) : model_(std::move(model)), chat_(chat) {
        body_["model"] = model_;
    }
    nlohmann::json body_;
    int priority_ = 5;
    routing_mode mode_ = routing_mode::fast;

private:
    std::string model_;
    bool chat_;
};

/// The setters both request kinds have, returning the derived type so
/// calls chain.
template <typename Self>
class completion_builder : public completion_request {
public:
    Self& options(nlohmann::json o) { return set("options", std::move(o)); }
    Self& format(nlohmann::json f) { return set("format", std::move(f)); }
    Self& keep_alive(std::string k) { return set("keep_alive", std::move(k)); }
    Self& think(bool t) { return set("think", t); }
    /// Any other request field, sent as given.
    Self& set(const std::string& key, nlohmann::json value) {
        body_[key] = std::move(value);
        return self();
    }
    /// 1..10, higher served first when the node is saturated (with aging).
    Self& priority(int p) {
        priority_ = p;
        return self();
    }
    Self& mode(routing_mode m) {
        mode_ = m;
        return self();
    }
    using completion_request::mode;
    using completion_request::priority;

protected:
    using completion_request::completion_request;

private:
    Self& self() { return static_cast<Self&>(*this); }
};

class chat_request : public completion_builder<chat_request> {
public:
    explicit chat_request(std::string model) : completion_builder(std::move(model), true) {
        body_["messages"] = nlohmann::json::array();
    }
    /// Appends {"role", "content"}.
    chat_request& message(std::string role, std::string content) {
        body_["messages"].push_back({{"role", std::move(role)}, {"content", std::move(content)}});
        return *this;
    }
    /// Appends a whole message object (tool results, tool_calls, images...).
    chat_request& message(nlohmann::json m) {
        body_["messages"].push_back(std::move(m));
        return *this;
    }
    chat_request& system(std::string c) { return message("system", std::move(c)); }
    chat_request& user(std::string c) { return message("user", std::move(c)); }
    chat_request& assistant(std::string c) { return message("assistant", std::move(c)); }
    /// Attaches a base64 image to the last message.
    chat_request& image(std::string base64) {
        body_["messages"].back()["images"].push_back(std::move(base64));
        return *this;
    }
    chat_request& tools(nlohmann::json t) { return set("tools", std::move(t)); }
};

class generate_request : public completion_builder<generate_request> {
public:
    generate_request(std::string model, std::string prompt) : completion_builder(std::move(model), false) {
        body_["prompt"] = std::move(prompt);
    }
    generate_request& system(std::string s) { return set("system", std::move(s)); }
    generate_request& image(std::string base64) {
        body_["images"].push_back(std::move(base64));
        return *this;
    }
};

/// One streamed object of a chat or generate answer.
struct chat_part {
    std::string content;     ///< message.content (chat) or response (generate)
    std::string thinking;    ///< message.thinking / thinking, when the model thinks
    bool done = false;
    std::string done_reason; ///< on the final part: "stop", "length", "load"...
    nlohmann::json raw;      ///< the object as received, unknown fields kept

    /// Timing fields of the final part (0 elsewhere), nanoseconds/counts.
    std::uint64_t total_duration = 0, load_duration = 0, prompt_eval_count = 0, prompt_eval_duration = 0,
                  eval_count = 0, eval_duration = 0;
};

/// A whole answer: the parts joined.
struct chat_response {
    std::string content;
    std::string thinking;
    nlohmann::json message;    ///< chat: {"role", "content", "tool_calls"?...}
    chat_part final_part;      ///< the done part with done_reason and timings
    std::string node;          ///< URL of the node that answered
};

namespace ollama {

/// Parses one NDJSON line of a chat/generate stream. An {"error": ...}
/// line becomes `error_text` (the part is then empty). Returns false when
/// the line is not a JSON object.
bool parse_part(const std::string& line, chat_part& part, std::string& error_text);

/// Adds `part` to a response being assembled.
void accumulate(chat_response& response, const chat_part& part);

} // namespace ollama
} // namespace herd
