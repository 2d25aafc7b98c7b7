// herd's Conan test: with a node URL, co_await one embedding from it and
// check it is herd-sim's deterministic vector for the text; without one
// (a package built without tools), only prove that herd links and runs.
#include <herd/herd.hpp>
#include <herd/sim/embedding_rule.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    herd::pool_config cfg;
    cfg.model = "mxbai-embed-large";
    if (argc < 2) {
        std::printf("test_package: herd links (no node given, default model %s)\n", cfg.model.c_str());
        return 0;
    }
    cfg.nodes = {argv[1]};
    asio::io_context io;
    herd::pool pool{io.get_executor(), cfg};

    constexpr std::string_view text = "hello from herd's test_package";
    constexpr std::size_t dim = 1024; // mxbai-embed-large
    bool ok = false;
    asio::co_spawn(
        io,
        [&]() -> herd::awaitable<void> {
            std::vector<float> v = co_await pool.embed(text);
            ok = v.size() == dim && herd::sim::matches_rule(cfg.model, text, v.data(), v.size(), dim);
            std::printf("test_package: %zu values from %s, %s\n", v.size(), argv[1],
                        ok ? "as herd-sim's rule says" : "NOT herd-sim's vector");
        },
        [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    std::fprintf(stderr, "test_package: embed failed: %s\n", x.what());
                }
            }
            io.stop(); // the pool's background timers would keep run() going
        });
    io.run_for(std::chrono::seconds(60)); // a hung node fails the test, not CI
    return ok ? 0 : 1;
}
