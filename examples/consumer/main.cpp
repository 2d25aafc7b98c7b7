// One embedding from an Ollama node (or herd-sim) through an installed herd.
//   herd-consumer http://127.0.0.1:11434
#include <herd/herd.hpp>

#include <cstdio>
#include <exception>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: herd-consumer NODE_URL\n");
        return 2;
    }
    asio::io_context io;
    herd::pool_config cfg;
    cfg.nodes = {argv[1]};
    cfg.model = "mxbai-embed-large";
    herd::pool pool{io.get_executor(), cfg};

    int status = 1;
    asio::co_spawn(
        io,
        [&]() -> herd::awaitable<void> {
            std::vector<float> v = co_await pool.embed("what do llamas eat?");
            std::printf("herd-consumer: %zu values from %s\n", v.size(), argv[1]);
            status = v.size() == 1024 ? 0 : 1; // mxbai-embed-large's dimension
        },
        [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    std::fprintf(stderr, "herd-consumer: embed failed: %s\n", x.what());
                }
            }
            io.stop(); // the pool's background timers would keep run() going
        });
    io.run();
    return status;
}
