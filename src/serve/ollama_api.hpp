#pragma once
// Ollama's REST API on the cluster, with a real server's statuses and error
// texts (shared/OLLAMA.md, shared/real-ollama/WIRE.md):
//
//   POST /api/embed        {"model", "input": string | [strings], "truncate",
//                          "dimensions", "keep_alive", "options"} → {"model",
//                          "embeddings", "total_duration", "load_duration",
//                          "prompt_eval_count"}; rows in input order, spread
//                          as gateway.hpp says. `options` is accepted and not
//                          passed on (the pool sends its own parameters).
//   POST /api/embeddings   legacy {"model", "prompt"} → {"embedding"}
//   POST /api/chat, /api/generate
//                          stream (default): NDJSON, each node line passed on
//                          as it arrives; an error after the head is a final
//                          {"error"} line. stream:false: one JSON object.
//                          The client leaving cancels the node's generation.
//   GET  /api/tags, /api/ps  the union of the nodes' lists
//   GET  /api/version      the first answering node's version
//   GET|HEAD /             200 "Ollama is running"
//
// Errors: {"error": text}. 400 for a body that is not a JSON object
// ("missing request body", "unexpected EOF", ...), an input of the wrong
// type ("invalid input type"), a missing model on chat/generate ("model is
// required") and a node's 400 text; 404 for an unknown model (/api/embed:
// `model "x" not found, try pulling it first`; empty model: `model '' not
// found`; chat/generate: `model 'x' not found`); 503 `server busy, please
// try again.  maximum pending requests exceeded` past the gateway's
// max_queue; 500 with each node's cause when every node failed.

#include "serve/gateway.hpp"
#include "serve/router.hpp"

namespace herd::serve {

/// Adds the routes above to `r`; `g` must outlive the router's use.
void add_ollama_routes(router& r, gateway& g);

/// Ollama's 503 text past the queue limit (two spaces after the stop).
inline constexpr std::string_view busy_text = "server busy, please try again.  maximum pending requests exceeded";

} // namespace herd::serve
