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
/// Go's own 404 and 405 pages say text/plain without a charset.
inline constexpr std::string_view plain_type = "text/plain";
inline constexpr std::string_view ndjson_type = "application/x-ndjson";

/// Ollama's exact 503 text (two spaces after the full stop), sent as
/// `{"error": busy_text}`.
inline constexpr std::string_view busy_text = "server busy, please try again.  maximum pending requests exceeded";

std::string_view reason(int status) noexcept;

/// How one response is framed, decided by the request it answers.
struct framing {
    bool keep_alive = true;     ///< false: Connection: close (HTTP/1.1) and the connection ends
    bool http10 = false;        ///< an HTTP/1.0 request: 1.0 status line, no chunking (close-delimited)
    bool head_only = false;     ///< a HEAD answer: the head alone, Content-Length of the body it would have
    std::size_t chunk_size = 0; ///< chunked bodies in pieces of this size; 0 = one chunk (Go's way)
    std::string_view allow;     ///< an Allow header (405), empty for none
};

/// Appends a whole response as Go's net/http writes it (an empty
/// `content_type` leaves the header out): headers in the
/// order Allow, Content-Type, Date, Content-Length, Connection,
/// Transfer-Encoding, no Server header. Bodies over chunk_threshold go
/// chunked (an HTTP/1.0 request gets them close-delimited instead, and
/// `f.keep_alive` must then be treated as false: see keeps_alive()).
/// Returns the head's length.
std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            const framing& f);
/// The same with the HTTP/1.1 defaults.
std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, bool head_only = false, std::size_t chunk_size = 0);

/// Whether the connection stays open after a response of `body_size` bytes
/// framed by `f` (an HTTP/1.0 body too big for Content-Length ends with the
/// connection).
bool keeps_alive(const framing& f, std::size_t body_size) noexcept;

/// Head of a streamed body whose pieces follow with append_chunk (HTTP/1.1)
/// or as raw bytes until close (HTTP/1.0, `f.http10`).
void append_stream_head(std::string& out, int status, std::string_view content_type, const framing& f);
void append_chunk(std::string& out, std::string_view data);
void append_last_chunk(std::string& out);

/// A JSON string literal (with quotes), escaped as Go's encoding/json does:
/// control characters, and <, > and & as \u003c, \u003e, \u0026.
inline void append_json_string(std::string& out, std::string_view s) { ollama::append_json_string(out, s, true); }
/// A float32 / float64 as Go's encoding/json writes it: the shortest digits
/// that read back exactly, plain notation except below 1e-6 or from 1e21
/// (then "1e-7", exponent without a leading zero).
void append_float(std::string& out, float v);
void append_double(std::string& out, double v);
void append_uint(std::string& out, std::uint64_t v);
/// RFC 3339 with nanoseconds, UTC ("2024-05-01T10:00:00.123456789Z").
void append_timestamp(std::string& out, std::chrono::system_clock::time_point t);

/// `{"error":"<message>"}`
std::string error_json(std::string_view message);

} // namespace herd::sim::wire
