#pragma once
// Bytes on the wire as Ollama (Go net/http + gin) writes them: response
// heads, Content-Length vs chunked framing, JSON strings escaped the way Go
// escapes them, shortest-form floats, RFC 3339 timestamps. Everything appends
// to a caller's buffer so a connection reuses one allocation.

#include <herd/ollama/codec.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace herd::sim::wire {

/// Go's net/http buffers this much before it switches a body to chunked.
inline constexpr std::size_t chunk_threshold = 2048;

inline constexpr std::string_view json_type = "application/json; charset=utf-8";
inline constexpr std::string_view text_type = "text/plain; charset=utf-8";
inline constexpr std::string_view ndjson_type = "application/x-ndjson";

/// Ollama's exact 503 text (two spaces after the full stop).
inline constexpr std::string_view busy_text = "server busy, please try again.  maximum pending requests exceeded";

std::string_view reason(int status) noexcept;

/// Appends a whole response. Bodies over chunk_threshold go chunked (in
/// pieces of `chunk_size`, 0 = one piece), others with Content-Length; a HEAD
/// answer (`head_only`) carries the head alone. Returns the head's length.
std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, bool head_only = false, std::size_t chunk_size = 0);

/// Head of a chunked stream whose chunks follow with append_chunk.
void append_stream_head(std::string& out, int status, std::string_view content_type, bool keep_alive);
void append_chunk(std::string& out, std::string_view data);
void append_last_chunk(std::string& out);

/// A JSON string literal (with quotes), escaped as Go's encoding/json does:
/// control characters, and <, > and & as \u003c, \u003e, \u0026.
inline void append_json_string(std::string& out, std::string_view s) { ollama::append_json_string(out, s, true); }
void append_float(std::string& out, float v);
void append_uint(std::string& out, std::uint64_t v);
/// RFC 3339 with nanoseconds, UTC ("2024-05-01T10:00:00.123456789Z").
void append_timestamp(std::string& out, std::chrono::system_clock::time_point t);

/// `{"error":"<message>"}`
std::string error_json(std::string_view message);

} // namespace herd::sim::wire
