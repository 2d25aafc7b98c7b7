// completion_stream: hands out the parts of one node's streamed answer,
// recording the outcome against the node.
#include "completion_stream_state.hpp"

#include <fmt/format.h>

namespace herd {

completion_stream::completion_stream() noexcept = default;
completion_stream::completion_stream(std::unique_ptr<state> s) : s_(std::move(s)) {}
completion_stream::completion_stream(completion_stream&&) noexcept = default;
completion_stream& completion_stream::operator=(completion_stream&&) noexcept = default;
completion_stream::~completion_stream() { cancel(); }

void completion_stream::cancel() {
    if (s_ && !s_->done) {
        s_->source->record_cancelled();
        s_->finish();
    }
}

const std::string& completion_stream::node() const { return s_->source->name(); }
std::size_t completion_stream::parts() const noexcept { return s_->handed_out; }
const std::string& completion_stream::received() const { return s_->received; }

awaitable<std::optional<chat_part>> completion_stream::next() {
    auto& s = *s_;
    if (s.done && s.ready.empty()) co_return std::nullopt;
    if (s.ready.empty()) {
        auto started = clock::now();
        auto f = co_await s.pump();
        if (f.code == ::asio::error::operation_aborted || f.code == call_timed_out) {
            cancel(); // the caller's doing, not the node's
            if (f.code == call_timed_out) f.code = errc::timeout;
            f.raise();
        }
        if (!f && s.ready.empty()) f = failure{errc::connection_lost, "the stream ended without a final part"};
        if (f) {
            s.source->record_failure(f, started, clock::now(), true);
            s.finish();
            f.message = fmt::format("{} failed after {} parts ({} characters received): {}", s.source->name(),
                                    s.handed_out, s.received.size(), f.describe());
            f.raise();
        }
    }
    chat_part part = std::move(s.ready.front());
    s.ready.pop_front();
    ++s.handed_out;
    s.received += part.content;
    if (part.done) {
        s.source->record_completion(clock::now() - s.started, s.handed_out);
        s.finish();
    }
    co_return part;
}

} // namespace herd
