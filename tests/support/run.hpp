#pragma once
// Test helpers: run a coroutine to completion on an io_context, bounded.

#include <herd/async/compat.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <optional>

namespace herd::test {

/// Runs `a` on `io` until it finishes (or `limit` passes: then the test
/// fails instead of hanging). Rethrows what the coroutine threw.
template <typename T>
T run(::asio::io_context& io, awaitable<T> a, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    ::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) value.emplace(std::move(v));
        done = true;
    });
    io.restart();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(100));
    REQUIRE(done);
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

/// Bounded wait (real time, 5 s) until `pred` holds, running `io`
/// meanwhile: for conditions another thread (herd-sim) makes true.
template <typename Pred>
bool eventually(::asio::io_context& io, Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return pred();
}

inline void run(::asio::io_context& io, awaitable<void> a, std::chrono::seconds limit = std::chrono::seconds(60)) {
    run(io, [](awaitable<void> inner) -> awaitable<bool> {
        co_await std::move(inner);
        co_return true;
    }(std::move(a)), limit);
}

} // namespace herd::test
