#pragma once
// A streamed chat or generate answer from one node.
//
//   auto s = co_await pool.chat_stream(herd::chat_request("llama3.2").user("Hello!"));
//   while (auto part = co_await s.next()) fmt::print("{}", part->content);
//
// The pool returns the stream once the first part has arrived, so a node
// that fails before its first token has already been replaced by another.
// After that the answer is tied to its node: a failure surfaces and is
// never silently restarted elsewhere (the caller has seen part of it).
//
// next(): the next part, nullopt after the final (done) part. Throws
// herd::error: errc::stream_error with the node's text for an
// {"error": ...} line; connection_lost / timeout / protocol_error when the
// node fails mid-answer. The message says how much had been received.
// Cancellation: next() honours Asio cancellation (operation_aborted).
// cancel(), destroying the stream, or cancelling next() closes the
// connection, which tells Ollama to stop generating; other requests are
// unaffected. The stream holds one of its node's chat permits until it
// ends; it must not outlive the pool.

#include <herd/async/compat.hpp>
#include <herd/ollama/chat.hpp>

#include <memory>
#include <optional>

namespace herd {

class completion_stream {
public:
    struct state;
    /// An empty stream (what a failed async_chat_stream hands its handler):
    /// only destruction and assignment are valid.
    completion_stream() noexcept;
    explicit completion_stream(std::unique_ptr<state> s);
    completion_stream(completion_stream&&) noexcept;
    completion_stream& operator=(completion_stream&&) noexcept;
    ~completion_stream();

    awaitable<std::optional<chat_part>> next();
    void cancel();

    /// URL of the node answering.
    const std::string& node() const;
    /// Parts handed out so far.
    std::size_t parts() const noexcept;
    /// Text received so far.
    const std::string& received() const;

private:
    std::unique_ptr<state> s_;
};

using chat_stream = completion_stream;

} // namespace herd
