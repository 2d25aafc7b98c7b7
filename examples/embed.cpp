// Embeds the texts given on the command line across the nodes in HERD_NODES
// (or OLLAMA_HOST), one co_await per text, all concurrently.
//
//   HERD_NODES=http://127.0.0.1:11434,http://127.0.0.1:11435 ./embed "hello" "world"
#include <herd/herd.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

herd::awaitable<void> embed_one(herd::pool& pool, std::string text) {
    try {
        std::vector<float> v = co_await pool.embed(text);
        fmt::print("{:<30} dim {} first {:+.4f}\n", text, v.size(), v.empty() ? 0.0f : v[0]);
    } catch (const herd::error& e) {
        fmt::print(stderr, "{}: {}\n", text, e.what());
    }
}

int main(int argc, char** argv) {
    asio::io_context io;
    herd::pool pool{io.get_executor(), herd::pool_config::from_env()};
    std::vector<std::string> texts(argv + 1, argv + argc);
    if (texts.empty()) texts = {"what do llamas eat?"};
    std::size_t left = texts.size();
    for (auto& t : texts)
        asio::co_spawn(io, embed_one(pool, t), [&](std::exception_ptr) {
            if (--left == 0) io.stop(); // idle keep-alive connections would keep run() going
        });
    io.run();
}
