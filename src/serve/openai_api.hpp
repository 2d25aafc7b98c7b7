#pragma once
// The OpenAI-compatible API on the cluster, as Ollama's /v1 speaks it
// (ollama/openai/openai.go):
//
//   POST /v1/embeddings        {"model", "input": string | [strings],
//                              "encoding_format": "float" | "base64",
//                              "dimensions"} → {"object": "list", "data":
//                              [{"object": "embedding", "embedding", "index"}],
//                              "model", "usage"}; base64 is the floats'
//                              little-endian bytes. Spread as gateway.hpp says.
//   POST /v1/chat/completions  messages (string content or text/image_url
//                              parts), temperature, top_p, max_tokens,
//                              seed, stop, tools, response_format →
//                              chat.completion; with stream:true
//                              Server-Sent Events of chat.completion.chunk
//                              ending in `data: [DONE]` (stream_options
//                              include_usage adds a usage chunk). The client
//                              leaving cancels the node's generation.
//   GET  /v1/models            the union of the nodes' models
//
// Errors: OpenAI's object (openai::error_json, herd/openai/codec.hpp)
// {"error": {"message", "type", "param": null, "code": null}} with type invalid_request_error (400), not_found_error
// (404) or api_error (others); statuses as the Ollama API (ollama_api.hpp).
// An error after an event stream began is one `data: {"error": ...}` event.

#include "serve/gateway.hpp"
#include "serve/router.hpp"

namespace herd::serve {

/// Adds the routes above to `r`; `g` must outlive the router's use.
void add_openai_routes(router& r, gateway& g);

} // namespace herd::serve
