#pragma once
// JSON of OpenAI's API as OpenAI-compatible servers (llama.cpp's
// llama-server, vLLM, LM Studio, Ollama's own /v1) speak it: embedding
// requests and answers, model lists and error objects. A node addressed as
// "openai+http://..." (http/url.hpp) is spoken to with these.
//
// Errors: decoders return a `failure` (never throw), with the same causes
// the Ollama decoders give (ollama/codec.hpp), so the pool's retries treat
// both kinds alike: protocol_error for bytes that are not the expected
// JSON (and for rows whose "index" fields are not 0..n-1 once each); for a
// non-2xx status the error object's message with the status's errc.

#include <herd/error.hpp>
#include <herd/http/parser.hpp>
#include <herd/ollama/codec.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herd::openai {

/// The body of POST /v1/embeddings: {"model", "input": [texts],
/// "encoding_format": "float"} and "dimensions" when params sets it
/// (truncate and keep_alive have no OpenAI equivalent and are left out).
std::string encode_embeddings(const ollama::embed_params& params, std::span<const std::string_view> inputs);

/// Decodes a 200 body of /v1/embeddings ({"data": [{"index", "embedding"}],
/// "model", "usage"}) into `reply`, rows in order of their "index" (servers
/// may answer out of order). Floats are read exactly as the Ollama decoder
/// reads them (the nearest float to the decimal text), by the same fast
/// scanner for the shape servers write and nlohmann's SAX parser otherwise. protocol_error for:
/// no "data" array, an item without "index" or "embedding", an index that
/// is not below the number of items or that repeats, rows of different
/// lengths, a non-number in a row, or bytes that are not JSON. A 200 body
/// with an "error" object is server_error with its message. The count of
/// rows is the caller's to check against its inputs.
failure decode_embeddings(std::string_view body, ollama::embed_reply& reply);

/// decode_embeddings without its fast scanner (nlohmann's SAX parser
/// alone): the same answer, bit for bit, on every input (tests and the
/// openai_decode fuzz target check that). For tests and fuzzing.
failure decode_embeddings_exact(std::string_view body, ollama::embed_reply& reply);

/// The failure an HTTP answer stands for: none for 2xx; else the message of
/// OpenAI's {"error": {"message", "type", "code"}} (or of Ollama's
/// {"error": "text"}, or the plain body) with the status, as errc:
/// 404, or a "model_not_found" code at any status, model_not_found (the
/// model is absent there: not the node's fault); 400/422 bad_request;
/// 429 and 503 server_busy (retryable elsewhere); other 5xx server_error;
/// else http_error.
failure check_status(const http::message& response);

/// The model ids of a GET /v1/models answer ({"data": [{"id": ...}]});
/// false when the body is not that shape.
bool parse_models(std::string_view body, std::vector<std::string>& ids);

/// An OpenAI error body for `status`: {"error": {"message", "type",
/// "param": null, "code": null}} and a newline, type invalid_request_error
/// (400), not_found_error (404) or api_error (others). herd serve and
/// herd-sim answer errors of their /v1 routes with it.
std::string error_json(int status, std::string_view message);

} // namespace herd::openai
