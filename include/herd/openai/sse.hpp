#pragma once
// Server-Sent Events framing (the WHATWG event-stream format) for streamed
// OpenAI chat answers: bytes arrive in arbitrary pieces, the data of each
// complete event comes out. Lines end in LF, CRLF or CR (a CRLF split
// between two pieces is still one line end); "data:" lines of one event
// are joined with '\n' (one leading space after the colon dropped); lines
// starting with ':' (comments, keep-alive pings), other fields (event:,
// id:, retry:) and events without data are skipped. A line longer than
// `max_line` is an error (a runaway stream must not eat memory).
// The end marker "data: [DONE]" is an ordinary event here; the reader
// decides what it means.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace herd::openai {

class sse_splitter {
public:
    explicit sse_splitter(std::size_t max_line = 16 * 1024 * 1024) : max_line_(max_line) {}

    /// Appends bytes; false when a line grew past max_line (the splitter is
    /// then unusable). Linear in the bytes fed, however small the pieces.
    bool feed(std::string_view bytes) {
        for (char c : bytes) {
            bool after_cr = std::exchange(last_cr_, c == '\r');
            if (c == '\n' && after_cr) continue; // the LF of a CRLF
            if (c == '\r' || c == '\n') {
                end_line();
                continue;
            }
            line_.push_back(c);
            if (line_.size() > max_line_) return false;
        }
        return true;
    }
    /// The data of the next complete event; nullopt until one is complete.
    std::optional<std::string> next() {
        if (events_.empty()) return std::nullopt;
        std::string e = std::move(events_.front());
        events_.pop_front();
        return e;
    }
    /// After the stream ended: ends a last line without its line end and
    /// dispatches an event the stream did not close with a blank line
    /// (servers that end in "data: [DONE]\n" and nothing more).
    void finish() {
        if (!line_.empty()) end_line();
        end_line();
    }

private:
    void end_line() {
        if (line_.empty()) { // a blank line dispatches the event
            if (has_data_) events_.push_back(std::move(data_));
            data_.clear();
            has_data_ = false;
            return;
        }
        std::string_view l(line_);
        if (l.substr(0, 5) == "data:") {
            l.remove_prefix(5);
            if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
            if (has_data_) data_.push_back('\n');
            data_.append(l);
            has_data_ = true;
        } // ':' comments and other fields carry nothing a chat stream needs
        line_.clear();
    }

    std::size_t max_line_;
    std::string line_;
    std::string data_;
    bool has_data_ = false;
    bool last_cr_ = false;
    std::deque<std::string> events_;
};

} // namespace herd::openai
