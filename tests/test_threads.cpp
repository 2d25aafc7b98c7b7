// The entry points other threads may use, run under ThreadSanitizer by
// scripts/test-clang (build-tsan): herd-sim's cluster API (set_fault,
// faults, counters from any thread while its own thread serves) and work
// handed into a pool with asio::post from several threads while the pool's
// io_context runs on its own thread.

#include <herd/herd.hpp>

#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace herd;

TEST_CASE("threads: embeds posted from four threads while a fifth flips herd-sim's faults") {
    sim::cluster sim(test::profiles({"zero", "zero"}));
    sim.start();
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    auto cfg = test::default_config(sim);
    auto p = std::make_unique<pool>(io.get_executor(), cfg);
    std::thread runner([&] { io.run(); });

    constexpr int threads = 4, per_thread = 25;
    std::atomic<int> right{0}, wrong{0}, failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < threads; ++t)
        clients.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                std::string text = test::text_for(static_cast<std::size_t>(t * per_thread + i));
                std::promise<std::pair<std::error_code, std::vector<float>>> answer;
                asio::post(io, [&] {
                    p->async_embed(text, [&](std::error_code ec, std::vector<float> v) {
                        answer.set_value({ec, std::move(v)});
                    });
                });
                auto [ec, v] = answer.get_future().get(); // bounded: call_timeout
                if (ec) ++failed;
                else if (test::is_rule_vector("all-minilm", text, v, v.size())) ++right;
                else ++wrong;
            }
        });
    std::thread flipper([&] {
        // 500s on node 1 every third request, then none, over and over
        // while the clients run; counters read from this thread too.
        for (int i = 0; i < 50; ++i) {
            sim.set_fault(1, i % 2 ? sim::fault_spec{} : sim::fault_spec{.error_every = 3});
            (void)sim.faults(1);
            (void)sim.counters(0);
        }
        sim.set_fault(1, {});
    });
    for (auto& c : clients) c.join();
    flipper.join();
    asio::post(io, [&] {
        p.reset(); // destroyed on its own thread
        guard.reset();
        io.stop();
    });
    runner.join();

    CHECK(right == threads * per_thread);
    CHECK(wrong == 0);
    CHECK(failed == 0);
    CHECK(sim.counters(0).inputs + sim.counters(1).inputs >= static_cast<std::uint64_t>(threads * per_thread));
}
