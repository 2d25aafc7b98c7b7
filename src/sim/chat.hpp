#pragma once
// /api/chat and /api/generate: request validation, a deterministic token
// stream (seeded like the vectors: FNV-1a over model + "\0" + last prompt),
// and the NDJSON objects Ollama streams.

#include "sim/embed.hpp" // api_error

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace herd::sim {

struct chat_request {
    bool generate = false;        ///< /api/generate ("response") rather than /api/chat ("message")
    std::string model;
    std::string prompt;           ///< last message's content, or the prompt: seeds the tokens
    std::size_t prompt_bytes = 0; ///< all prompt text, for cost and prompt_eval_count
    bool load_only = false;       ///< no messages / no prompt: load the model and answer at once
    bool stream = true;
    bool openai = false;          ///< /v1/chat/completions: OpenAI's request and answer shapes
    std::optional<std::uint64_t> num_predict; ///< exact token count (done_reason "length")
    std::optional<std::chrono::nanoseconds> keep_alive;

    /// Tokens to produce: num_predict, else 8 (done_reason "stop").
    std::uint64_t token_count() const noexcept { return num_predict.value_or(8); }
    std::string_view done_reason() const noexcept { return num_predict ? "length" : "stop"; }
};

/// Reads a chat (or, `generate`, a generate) request body. Errors are
/// Ollama's 400s for the body and field types; a missing model is 400
/// "model is required" for chat, 404 "model '' not found" for generate; a
/// malformed name 400 "invalid model name". Whether the model exists is the
/// caller's check.
std::variant<chat_request, api_error> parse_chat(std::string_view body, bool generate);

/// Reads a /v1/chat/completions body: as parse_chat (messages with string
/// content), then OpenAI's stream (default false) and max_tokens (or
/// max_completion_tokens) as the token count; no messages is a 400.
/// Errors are Ollama-shaped; the caller turns them into OpenAI's.
std::variant<chat_request, api_error> parse_openai_chat(std::string_view body);

/// The same words for the same model and prompt, every time.
class token_source {
public:
    token_source(std::string_view model, std::string_view prompt) noexcept;
    /// The next token: a word, with a leading space after the first.
    std::string_view next();

private:
    std::uint64_t state_;
    std::uint64_t produced_ = 0;
    std::string token_;
};

struct chat_timing {
    std::chrono::nanoseconds total{0}, load{0}, prompt_eval{0}, eval{0};
    std::uint64_t prompt_eval_count = 0, eval_count = 0;
};

/// One streamed object (`done:false`) carrying `content`, with its newline.
void append_chat_part(std::string& out, const chat_request& r, std::string_view content);
/// The closing object: done, done_reason and timings; `content` is the
/// whole text for stream:false, empty when streaming. Newline-terminated.
void append_chat_final(std::string& out, const chat_request& r, std::string_view content,
                       std::string_view done_reason, const chat_timing& t);
/// The answer to a load-only (or unload) request, newline-terminated.
void append_chat_load(std::string& out, const chat_request& r, std::string_view done_reason);
/// `{"error":"..."}` and a newline: an error after the stream began.
void append_stream_error(std::string& out, std::string_view message);

/// OpenAI's answers (r.openai): one chat.completion.chunk event carrying
/// `content`; the closing chunk (finish_reason, usage) and `data: [DONE]`
/// when streaming, else the whole chat.completion object; an error event.
void append_openai_part(std::string& out, const chat_request& r, std::string_view content);
void append_openai_final(std::string& out, const chat_request& r, std::string_view content,
                         std::string_view done_reason, const chat_timing& t);
void append_openai_stream_error(std::string& out, std::string_view message);

} // namespace herd::sim
