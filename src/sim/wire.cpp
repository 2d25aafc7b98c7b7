#include "sim/wire.hpp"

#include <charconv>
#include <ctime>

namespace herd::sim::wire {

std::string_view reason(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
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

void append_head(std::string& out, int status, std::string_view content_type, bool keep_alive) {
    out += "HTTP/1.1 ";
    append_uint(out, static_cast<std::uint64_t>(status));
    out += ' ';
    out += reason(status);
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\n";
    out += date_header();
    if (!keep_alive) out += "Connection: close\r\n";
}

} // namespace

std::size_t append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, bool head_only, std::size_t chunk_size) {
    const std::size_t start = out.size();
    append_head(out, status, content_type, keep_alive);
    if (body.size() > chunk_threshold && !head_only) {
        out += "Transfer-Encoding: chunked\r\n\r\n";
        std::size_t head = out.size() - start;
        if (chunk_size == 0) chunk_size = body.size();
        for (std::size_t at = 0; at < body.size(); at += chunk_size)
            append_chunk(out, body.substr(at, chunk_size));
        append_last_chunk(out);
        return head;
    }
    out += "Content-Length: ";
    append_uint(out, body.size());
    out += "\r\n\r\n";
    std::size_t head = out.size() - start;
    if (!head_only) out += body;
    return head;
}

void append_stream_head(std::string& out, int status, std::string_view content_type, bool keep_alive) {
    append_head(out, status, content_type, keep_alive);
    out += "Transfer-Encoding: chunked\r\n\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return; // an empty chunk would end the body
    append_hex(out, data.size());
    out += "\r\n";
    out += data;
    out += "\r\n";
}

void append_last_chunk(std::string& out) { out += "0\r\n\r\n"; }

void append_float(std::string& out, float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

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
