#pragma once
// `herd serve` in-process for tests: a herd-sim cluster (its own thread)
// and a serve::service on 127.0.0.1:0 whose io_context runs on another
// thread, so tests talk to it with blocking clients.

#include "support/sim_fixture.hpp"

#include "serve/service.hpp"

#include <asio.hpp>

#include <future>
#include <optional>
#include <thread>

namespace herd::test {

struct serve_fixture {
    /// `short_timeouts`: the pool runs test_config (sim_fixture.hpp)
    /// instead of the shipped pool_config.
    explicit serve_fixture(std::vector<sim::node_profile> nodes, serve::service_options o = {},
                           bool short_timeouts = false)
        : cluster(std::move(nodes)) {
        cluster.start();
        o.listen = serve::tcp::endpoint(::asio::ip::make_address_v4("127.0.0.1"), 0);
        svc.emplace(io.get_executor(), short_timeouts ? test_config(cluster) : default_config(cluster), o);
        svc->start();
        thread = std::thread([this] { io.run(); });
    }
    ~serve_fixture() {
        stop(std::chrono::seconds(0));
        io.stop();
        thread.join();
        svc.reset();
    }

    std::uint16_t port() const { return svc->local_endpoint().port(); }

    /// Runs `f` on the service's thread and returns its value.
    template <typename F>
    auto on_service(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        ::asio::post(io, [&task] { task(); });
        return fut.get();
    }

    /// Graceful shutdown with `grace`; waits up to 30 s for it. Idempotent.
    void stop(std::chrono::steady_clock::duration grace) {
        if (stopped) return;
        stopped = true;
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        ::asio::co_spawn(io, svc->shutdown(grace), [done](std::exception_ptr) { done->set_value(); });
        fut.wait_for(std::chrono::seconds(30));
    }

    sim::cluster cluster;
    ::asio::io_context io;
    ::asio::executor_work_guard<::asio::io_context::executor_type> work{io.get_executor()};
    std::optional<serve::service> svc;
    std::thread thread;
    bool stopped = false;
};

} // namespace herd::test
