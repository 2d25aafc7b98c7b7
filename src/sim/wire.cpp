#include "sim/wire.hpp"

#include <charconv>
#include <ctime>

namespace herd::sim::wire {

std::string_view reason(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

namespace {

// Go sends a Date header on every response; formatting it once a second
// keeps it off the per-request cost.
std::string_view date_header() {
    thread_local std::time_t cached_at = 0;
    thread_local char buf[64];
    thread_local std::size_t len = 0;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        len = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        cached_at = now;
    }
    return {buf, len};
}

void append_hex(std::string& out, std::size_t n) {
    char buf[20];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
    out.append(buf, end);
}

// Go writes the handler's headers (sorted: Allow before Content-Type), then
// Date and Content-Length, then Connection and Transfer-Encoding.
void append_head(std::string& out, int status, std::string_view content_type, const framing& f) {
    out += f.http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_uint(out, static_cast<std::uint64_t>(status));
    out += ' ';
    out += reason(status);
    out += "\r\n";
    if (!f.allow.empty()) {
        out += "Allow: ";
        out += f.allow;
        out += "\r\n";
    }
    if (!content_type.empty()) {
        out += "Content-Type: ";
        out += content_type;
        out += "\r\n";
    }
    out += date_header();
}

// HTTP/1.1 says close when it closes; HTTP/1.0 says keep-alive when it
// keeps the connection (and nothing when it closes).
void append_connection(std::string& out, const framing& f, bool keep) {
    if (f.http10 && keep) out += "Connection: keep-alive\r\n";
    if (!f.http10 && !keep) out += "Connection: close\r\n";
}

} // namespace

bool keeps_alive(const framing& f, std::size_t body_size) noexcept {
    return f.keep_alive && !(f.http10 && body_size > chunk_threshold && !f.head_only);
}

std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            const framing& f) {
    const std::size_t start = out.size();
    append_head(out, status, content_type, f);
    const bool keep = keeps_alive(f, body.size());
    if (body.size() > chunk_threshold && !f.head_only) {
        append_connection(out, f, keep);
        if (f.http10) {
            // No chunking in HTTP/1.0: the body ends with the connection.
            out += "\r\n";
            std::size_t head = out.size() - start;
            out += body;
            return head;
        }
        out += "Transfer-Encoding: chunked\r\n\r\n";
        std::size_t head = out.size() - start;
        std::size_t piece = f.chunk_size == 0 ? body.size() : f.chunk_size;
        for (std::size_t at = 0; at < body.size(); at += piece) append_chunk(out, body.substr(at, piece));
        append_last_chunk(out);
        return head;
    }
    out += "Content-Length: ";
    append_uint(out, body.size());
    out += "\r\n";
    append_connection(out, f, keep);
    out += "\r\n";
    std::size_t head = out.size() - start;
    if (!f.head_only) out += body;
    return head;
}

std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, bool head_only, std::size_t chunk_size) {
    return append_response(out, status, content_type, body,
                           framing{.keep_alive = keep_alive, .head_only = head_only, .chunk_size = chunk_size});
}

void append_stream_head(std::string& out, int status, std::string_view content_type, const framing& f) {
    append_head(out, status, content_type, f);
    append_connection(out, f, f.keep_alive && !f.http10);
    out += f.http10 ? "\r\n" : "Transfer-Encoding: chunked\r\n\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return; // an empty chunk would end the body
    append_hex(out, data.size());
    out += "\r\n";
    out += data;
    out += "\r\n";
}

void append_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

namespace {

template <typename F>
void append_go_float(std::string& out, F v) {
    char buf[48];
    const F a = v < 0 ? -v : v;
    const bool sci = a != 0 && (a < F(1e-6) || a >= F(1e21));
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, sci ? std::chars_format::scientific : std::chars_format::fixed);
    std::size_t n = static_cast<std::size_t>(end - buf);
    // Go trims "e-07" to "e-7".
    if (sci && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
        buf[n - 2] = buf[n - 1];
        --n;
    }
    out.append(buf, n);
}

} // namespace

void append_float(std::string& out, float v) { append_go_float(out, v); }
void append_double(std::string& out, double v) { append_go_float(out, v); }

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    out.append(buf, n);
    char frac[16];
    auto [end, ec] = std::to_chars(frac, frac + sizeof frac, 1000000000 + ns % 1000000000);
    out += '.';
    out.append(frac + 1, end); // nine digits, leading zeros kept
    out += 'Z';
}

std::string error_json(std::string_view message) {
    std::string out = "{\"error\":";
    append_json_string(out, message);
    out += '}';
    return out;
}

} // namespace herd::sim::wire
