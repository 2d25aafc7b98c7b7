#pragma once
// Newline-delimited JSON framing for streamed chat/generate bodies: bytes
// arrive in arbitrary pieces, complete lines come out. A line longer than
// `max_line` is an error (a runaway stream must not eat memory).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace herd::ollama {

class ndjson_splitter {
public:
    explicit ndjson_splitter(std::size_t max_line = 16 * 1024 * 1024) : max_line_(max_line) {}

    /// Appends bytes; false when the pending line (the bytes after the last
    /// '\n') grew past max_line. Work is linear in the bytes fed, however
    /// small the pieces (a node dripping a long line costs no rescans).
    bool feed(std::string_view bytes) {
        buffer_.append(bytes);
        auto nl = bytes.rfind('\n');
        pending_ = nl == std::string_view::npos ? pending_ + bytes.size() : bytes.size() - nl - 1;
        return pending_ <= max_line_;
    }

    /// The next complete line without its '\n' (a trailing '\r' dropped),
    /// skipping empty lines; nullopt until one is complete.
    std::optional<std::string> next() {
        for (;;) {
            auto end = buffer_.find('\n', scanned_);
            if (end == std::string::npos) {
                buffer_.erase(0, start_);
                start_ = 0;
                scanned_ = buffer_.size(); // no '\n' before here
                return std::nullopt;
            }
            std::string line = buffer_.substr(start_, end - start_);
            start_ = scanned_ = end + 1;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) return line;
        }
    }

    /// What is left after the stream ended (a last line without '\n').
    std::string rest() const { return buffer_.substr(start_); }

private:
    std::size_t max_line_;
    std::string buffer_;
    std::size_t start_ = 0;   // first byte of the pending line
    std::size_t scanned_ = 0; // bytes before it hold no '\n' past start_
    std::size_t pending_ = 0; // bytes after the last '\n' fed
};

} // namespace herd::ollama
