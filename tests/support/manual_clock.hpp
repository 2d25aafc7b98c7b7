#pragma once
// A virtual clock for timing tests: time moves only when the test says so.
// `manual_timer` is an Asio timer on it; its wait traits make the reactor
// re-check timers at once, so advance() + drain() fires due timers
// without any real waiting.

#include <herd/async/compat.hpp>

#include <chrono>

namespace herd::test {

struct manual_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept { return current(); }
    static void advance(duration d) noexcept { current() += d; }
    static time_point& current() noexcept {
        static time_point t{};
        return t;
    }
};

struct manual_wait_traits {
    static manual_clock::duration to_wait_duration(const manual_clock::duration&) { return {}; }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point&) { return {}; }
};

using manual_timer = ::asio::basic_waitable_timer<manual_clock, manual_wait_traits>;

/// Runs every handler that is ready, including timers due on the manual
/// clock, until nothing more happens.
inline void drain(::asio::io_context& io) {
    for (int idle = 0; idle < 3;) {
        io.restart();
        idle = io.poll() ? 0 : idle + 1;
    }
}

/// Moves virtual time forward in `step`s up to `total`, draining each step.
inline void advance(::asio::io_context& io, std::chrono::nanoseconds total,
                    std::chrono::nanoseconds step = std::chrono::milliseconds(1)) {
    for (std::chrono::nanoseconds done{}; done < total; done += step) {
        manual_clock::advance(step);
        drain(io);
    }
}

} // namespace herd::test
