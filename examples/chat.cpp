// Streams a chat reply to the terminal from whichever node serves the model
// best (HERD_NODES or OLLAMA_HOST).
//
//   HERD_NODES=http://127.0.0.1:11434 ./chat llama3.2 "Why is the sky blue?"
#include <herd/herd.hpp>

#include <fmt/format.h>

herd::awaitable<void> chat(herd::pool& pool, std::string model, std::string question) {
    try {
        auto request = herd::chat_request(model).user(question);
        auto stream = co_await pool.chat_stream(request);
        while (auto part = co_await stream.next()) {
            fmt::print("{}", part->content);
            std::fflush(stdout);
            if (part->done)
                fmt::print("\n[{} from {}: {} tokens, {:.2f} s]\n", part->done_reason, stream.node(), part->eval_count,
                           static_cast<double>(part->total_duration) / 1e9);
        }
    } catch (const herd::error& e) {
        fmt::print(stderr, "\nchat failed: {}\n", e.what());
    }
}

int main(int argc, char** argv) {
    std::string model = argc > 1 ? argv[1] : "llama3.2";
    std::string question = argc > 2 ? argv[2] : "Hello!";
    asio::io_context io;
    herd::pool pool{io.get_executor(), herd::pool_config::from_env()};
    asio::co_spawn(io, chat(pool, model, question), [&](std::exception_ptr) { io.stop(); });
    io.run();
}
