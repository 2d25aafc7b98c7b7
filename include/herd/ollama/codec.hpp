#pragma once
// JSON encoding of Ollama requests and decoding of its responses.
//
// Embedding responses are decoded with nlohmann's SAX interface straight
// into one float buffer: no JSON DOM is built for the vectors (a 1024-dim
// vector is ~20 KB of JSON, the client's hot path).
//
// Errors: decoders return a `failure` (never throw): protocol_error for
// bytes that are not the expected JSON; for a non-2xx status the server's
// own text (the "error" field, or the plain body of a 503) with the status.

#include <herd/error.hpp>
#include <herd/http/parser.hpp>
#include <herd/matrix.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace herd::ollama {

struct embed_params {
    std::string model;
    bool truncate = true;
    unsigned dimensions = 0;  ///< 0: the model's own dimension
    std::string keep_alive;   ///< empty: the server's default
    std::string options;      ///< a JSON object's text sent as "options"; empty: none

    bool operator==(const embed_params&) const = default;
};

struct embed_reply {
    matrix embeddings;
    std::string model;
    std::uint64_t total_duration = 0;
    std::uint64_t load_duration = 0;
    std::uint64_t prompt_eval_count = 0;
};

/// Appends `text` as a JSON string literal (quotes included). With
/// `escape_html`, <, > and & become \u003c, \u003e, \u0026 as Go's
/// encoding/json (hence Ollama) writes them.
void append_json_string(std::string& out, std::string_view text, bool escape_html = false);

/// The body of POST /api/embed for `inputs` (always the array form).
std::string encode_embed(const embed_params& params, std::span<const std::string_view> inputs);

/// Decodes a 200 body of /api/embed into `reply`. Every float is the
/// correctly rounded float of its decimal text; a number beyond float range,
/// a non-number or nested array inside "embeddings", rows of different
/// lengths, or bytes that are not JSON are errc::protocol_error.
failure decode_embed(std::string_view body, embed_reply& reply);

/// decode_embed without its fast scanner (nlohmann's SAX parser alone).
/// decode_embed must give the same answer, bit for bit, on every input;
/// tests/fuzz/fuzz_embed_decode.cpp checks that. For tests and fuzzing.
failure decode_embed_exact(std::string_view body, embed_reply& reply);

/// The failure an HTTP answer stands for: none for 2xx, else the status's
/// errc with the server's text.
failure check_status(const http::message& response);

} // namespace herd::ollama
