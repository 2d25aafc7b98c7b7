// Chat and generate through herd::pool against real Ollama servers, with the
// chat model (HERD_TEST_CHAT_MODEL). Greedy decoding (temperature 0) makes
// the whole and the streamed answer of one request the same text.
#include <herd/herd.hpp>

#include "live/live_env.hpp"
#include "support/run.hpp"

#include <catch2/catch.hpp>

using namespace herd;

namespace {

// The first request may load the model (seconds on a busy machine).
constexpr auto limit = std::chrono::seconds(600);
constexpr int tokens = 8;

nlohmann::json greedy() { return {{"temperature", 0}, {"seed", 7}, {"num_predict", tokens}}; }

struct streamed {
    std::string joined;   // the parts' content, concatenated
    std::string received; // what the stream says it received
    std::size_t parts = 0;
    chat_part last;
};

awaitable<streamed> drain(completion_stream s) {
    streamed out;
    for (;;) {
        auto part = co_await s.next();
        if (!part) break;
        out.joined += part->content;
        out.last = *part;
    }
    out.received = s.received();
    out.parts = s.parts();
    co_return out;
}

template <typename Request>
awaitable<streamed> stream_of(pool& p, Request req) {
    if constexpr (std::is_same_v<Request, chat_request>) {
        auto s = co_await p.chat_stream(std::move(req));
        co_return co_await drain(std::move(s));
    } else {
        auto s = co_await p.generate_stream(std::move(req));
        co_return co_await drain(std::move(s));
    }
}

// What a whole answer and a streamed one of the same greedy request share.
void check_same_answer(const chat_response& whole, const streamed& stream) {
    INFO("whole answer: " << whole.content);
    CHECK(!whole.content.empty());
    CHECK(whole.final_part.done);
    CHECK(whole.final_part.done_reason == "length"); // num_predict ran out first
    CHECK(whole.final_part.eval_count == tokens);
    CHECK(stream.last.done);
    CHECK(stream.last.done_reason == "length");
    CHECK(stream.last.eval_count == tokens);
    CHECK(stream.joined == whole.content);
    CHECK(stream.received == stream.joined);
    CHECK(stream.parts >= 2); // really streamed: tokens arrived as separate parts
}

} // namespace

TEST_CASE("live: chat whole and streamed gives one greedy answer", "[live]") {
    asio::io_context io;
    pool p(io.get_executor(), live::config());
    auto req = chat_request(live::chat_model())
                   .system("You are terse.")
                   .user("Count from 1 to 30, separated by commas.")
                   .options(greedy());
    auto whole = test::run(io, p.chat(req), limit);
    CHECK(whole.message.at("role") == "assistant");
    CHECK(whole.message.at("content") == whole.content);
    auto stream = test::run(io, stream_of(p, req), limit);
    check_same_answer(whole, stream);
}

TEST_CASE("live: generate whole and streamed gives one greedy answer", "[live]") {
    asio::io_context io;
    pool p(io.get_executor(), live::config());
    auto req = generate_request(live::chat_model(), "List the planets of the solar system:").options(greedy());
    auto whole = test::run(io, p.generate(req), limit);
    auto stream = test::run(io, stream_of(p, req), limit);
    check_same_answer(whole, stream);
}

TEST_CASE("live: chat with an unknown model surfaces the node's 404 text", "[live]") {
    asio::io_context io;
    pool p(io.get_executor(), live::config());
    auto req = chat_request("no-such-chat-model").user("hi");
    std::string what = "no error";
    try {
        test::run(io, p.chat(req), limit);
    } catch (const herd::error& e) {
        what = e.what();
    }
    // /api/chat words it differently from /api/embed.
    CHECK_THAT(what, Catch::Contains("model 'no-such-chat-model' not found"));
}
