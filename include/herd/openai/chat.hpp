#pragma once
// Chat and generate requests to an OpenAI-compatible node, and the parts
// of its answers, in herd's types (ollama/chat.hpp).
//
// Both chat and generate go to POST /v1/chat/completions: a generate
// request becomes one user message (its "system" a system message before
// it), because /v1/completions takes no chat template and llama-server,
// vLLM and LM Studio all serve chat. The pool always streams (a whole
// answer is its stream's parts joined), so requests carry "stream": true.

#include <herd/ollama/chat.hpp>

#include <string>
#include <string_view>

namespace herd::openai {

/// The /v1/chat/completions body for `req`: model, messages (Ollama's
/// base64 "images" become image_url data-URL parts), tools, stream, and
/// from Ollama's "options" temperature, top_p, seed, stop,
/// frequency_penalty, presence_penalty and num_predict as max_tokens;
/// format "json" becomes response_format json_object, a schema
/// json_schema. Other Ollama fields (keep_alive, think, options without an
/// OpenAI name) have no equivalent and are dropped.
nlohmann::json chat_body(const completion_request& req, bool stream);

/// Parses one event's data (or a whole chat.completion body): content from
/// choices[0].delta.content or choices[0].message.content, thinking from
/// their reasoning_content or reasoning, done and done_reason from a
/// non-null finish_reason, prompt_eval_count and eval_count from "usage".
/// `part.raw` is the object as received plus a "message" object in
/// Ollama's shape ({"role", "content", "tool_calls"?}) so accumulate()
/// joins parts of both kinds alike. An {"error": ...} object becomes
/// `error_text` (the part is then empty). Returns false when `data` is not
/// a JSON object. "[DONE]" is the caller's to recognise first.
bool parse_chunk(std::string_view data, chat_part& part, std::string& error_text);

/// A chat.completion.chunk object: {"id", "object", "created" (now),
/// "model", "system_fingerprint", "choices": [{"index": 0, "delta",
/// "finish_reason"}]}. herd serve and herd-sim stream these.
nlohmann::json chunk_object(const std::string& id, const std::string& model, nlohmann::json delta,
                            nlohmann::json finish_reason);

/// One Server-Sent Event carrying `j`: "data: <json>\n\n".
std::string sse_event(const nlohmann::json& j);

} // namespace herd::openai
