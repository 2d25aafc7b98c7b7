#pragma once
// The state behind a completion_stream (herd/completion_stream.hpp): the
// node's body, its framing (Ollama's NDJSON lines or an OpenAI-compatible
// node's Server-Sent Events), the parts parsed and not yet handed out, and
// the permit held until the stream ends. pool::impl::open_stream
// (chat.cpp) fills it; completion_stream.cpp hands its parts out.

#include <herd/completion_stream.hpp>
#include <herd/http/stream.hpp>
#include <herd/node.hpp>
#include <herd/ollama/ndjson.hpp>
#include <herd/openai/chat.hpp>
#include <herd/openai/sse.hpp>

#include <deque>
#include <memory>
#include <string>

namespace herd {

// A pump() failure that is the call's deadline, not the node's: reported
// as errc::timeout but never recorded against the node.
inline const std::error_code call_timed_out = ::asio::error::timed_out;

struct completion_stream::state {
    std::unique_ptr<http::body_stream> body;
    ollama::ndjson_splitter lines;
    bool sse = false;             // an OpenAI-compatible node: Server-Sent Events, not NDJSON
    openai::sse_splitter events;
    bool ended = false;           // the done part is parsed: nothing after it counts
    std::deque<chat_part> ready;
    semaphore::permit permit;
    herd::node* source = nullptr; // qualified: completion_stream::node() hides the type
    std::shared_ptr<herd::node> keep; // the source, removed from its pool meanwhile, lives on
    time_point started{};
    duration idle_timeout{};
    time_point call_deadline = time_point::max(); // pool_config::call_timeout, for whole answers
    std::string received;
    std::size_t handed_out = 0;
    bool done = false;
    failure broken; // a bad or error line: raised once the parts before it are out

    // Parses complete events into parts, up to the done part or the first
    // bad one. "[DONE]" without a finish_reason before it still ends the
    // answer (as "stop").
    void drain_events() {
        chat_part part;
        std::string error_text;
        while (!broken && !ended) {
            auto data = events.next();
            if (!data) break;
            if (*data == "[DONE]") {
                part = chat_part{};
                part.done = true;
                part.done_reason = "stop";
                part.raw = nlohmann::json{{"message", {{"role", "assistant"}, {"content", ""}}}};
            } else if (!openai::parse_chunk(*data, part, error_text)) {
                broken = failure{errc::protocol_error, "not a JSON object in the stream: " + data->substr(0, 200)};
                break;
            } else if (!error_text.empty()) {
                broken = failure{errc::stream_error, error_text};
                break;
            }
            ended = part.done;
            ready.push_back(std::move(part));
        }
    }

    bool feed(std::string_view piece) { return sse ? events.feed(piece) : lines.feed(piece); }

    // Parses complete lines into parts, up to the first bad one.
    void drain_lines() {
        if (sse) return drain_events();
        chat_part part;
        std::string error_text;
        while (!broken) {
            auto line = lines.next();
            if (!line) break;
            if (!ollama::parse_part(*line, part, error_text))
                broken = failure{errc::protocol_error, "not a JSON object in the stream: " + line->substr(0, 200)};
            else if (!error_text.empty())
                broken = failure{errc::stream_error, error_text};
            else
                ready.push_back(std::move(part));
        }
    }

    // Reads until a part is ready or the stream ends.
    awaitable<failure> pump() {
        while (ready.empty() && !broken) { // read() hands out buffered bytes before it ends
            std::error_code ec;
            auto idle_deadline = clock::now() + idle_timeout;
            auto piece = co_await body->read(std::min(idle_deadline, call_deadline), ec);
            if (ec == errc::timeout && clock::now() >= call_deadline && call_deadline < idle_deadline)
                co_return failure{call_timed_out, "the call took longer than pool_config::call_timeout"};
            if (ec) co_return failure{ec, ec == errc::timeout ? "no part within the idle timeout" : ec.message()};
            if (!piece) break;
            if (!feed(*piece)) co_return failure{errc::body_too_large, "a stream line exceeds the limit"};
            drain_lines();
        }
        if (ready.empty() && !broken && body->finished()) {
            if (sse) events.finish(); // a last event without its blank line
            else if (!lines.rest().empty()) lines.feed("\n"); // last line without its newline
            drain_lines();
        }
        co_return ready.empty() ? broken : failure{};
    }

    void finish() {
        done = true;
        permit.release();
        body->close();
    }
};

} // namespace herd
