// race / with_deadline: every interleaving on virtual time, none throws.
#include <herd/async/race.hpp>

#include "support/manual_clock.hpp"
#include "support/throw_counter.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using namespace std::chrono_literals;
using herd::test::manual_clock;
using herd::test::manual_timer;
using duration = std::chrono::nanoseconds;

namespace {

struct value {
    int who = -1;
    bool ok = false;
    bool cancelled = false;
    manual_clock::time_point at{};
};

// Branches record how many of them are running: race must leave none.
struct bench {
    int running = 0;
    int started = 0;

    // Takes `d` of virtual time, then succeeds (or fails). When cancelled
    // it returns at once, or after `cleanup` of further virtual time.
    awaitable<value> branch(int who, duration d, bool ok, duration cleanup = {}) {
        ++running;
        ++started;
        manual_timer t(co_await asio::this_coro::executor);
        t.expires_after(d);
        auto [ec] = co_await t.async_wait(compat::use_nothrow);
        value v{who, ok && !ec, bool(ec), manual_clock::now()};
        if (ec && cleanup > duration::zero()) {
            t.expires_after(cleanup); // a slow cancellation: not itself cancellable
            co_await t.async_wait(compat::use_nothrow);
            v.at = manual_clock::now();
        }
        --running;
        co_return v;
    }
};

using result_t = race_result<value, value>;

// Runs race(a, b) in a coroutine bound to `outer`; `done` is set with the
// result and the number of branches still running when race returned.
struct harness {
    asio::io_context io;
    asio::cancellation_signal outer;
    bench b;
    std::optional<result_t> result;
    int running_at_return = -1;
    manual_clock::time_point returned_at{};
    bool after_race_cancelled = false;

    template <typename Race>
    void start(Race make, duration wait_before = {}) {
        asio::co_spawn(io, [this, make, wait_before]() -> awaitable<void> {
            co_await asio::this_coro::throw_if_cancelled(false);
            if (wait_before > duration::zero()) { // a chance to cancel before race
                manual_timer t(co_await asio::this_coro::executor, wait_before);
                co_await t.async_wait(compat::use_nothrow);
            }
            result = co_await make();
            running_at_return = b.running;
            returned_at = manual_clock::now();
            manual_timer t(co_await asio::this_coro::executor, 100ms); // time for a late cancel
            auto [ec] = co_await t.async_wait(compat::use_nothrow);
            after_race_cancelled = bool(ec);
        }, asio::bind_cancellation_slot(outer.slot(), asio::detached));
        test::drain(io);
    }
    auto race_of(duration a, bool a_ok, duration b_, bool b_ok, duration cleanup = {}) {
        return [this, a, a_ok, b_, b_ok, cleanup] {
            return race([=, this] { return b.branch(0, a, a_ok, cleanup); },
                        [=, this] { return b.branch(1, b_, b_ok, cleanup); });
        };
    }
};

} // namespace

TEST_CASE("race: the first to finish wins, the other is cancelled and waited for") {
    auto thrown = test::exceptions_thrown();
    harness h;
    auto t0 = manual_clock::now();
    h.start(h.race_of(5ms, true, 50ms, true));
    test::advance(h.io, 5ms);
    REQUIRE(h.result);
    CHECK(h.result->winner == 0);
    CHECK(h.result->first->ok);
    CHECK(h.result->first->at == t0 + 5ms);
    CHECK(h.result->second->cancelled); // not left to run its 50 ms
    CHECK(h.returned_at == t0 + 5ms);
    CHECK(h.running_at_return == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: the second branch can win") {
    auto thrown = test::exceptions_thrown();
    harness h;
    h.start(h.race_of(50ms, true, 5ms, true));
    test::advance(h.io, 5ms);
    REQUIRE(h.result);
    CHECK(h.result->winner == 1);
    CHECK(h.result->second->ok);
    CHECK(h.result->first->cancelled);
    CHECK(h.running_at_return == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: both fail: the first failure wins, both values are returned, nothing throws") {
    auto thrown = test::exceptions_thrown();
    harness h;
    h.start(h.race_of(3ms, false, 0ms, false)); // b fails without waiting
    test::advance(h.io, 1ms);
    REQUIRE(h.result);
    CHECK(h.result->winner == 1);
    CHECK_FALSE(h.result->second->ok);
    CHECK_FALSE(h.result->first->ok);
    CHECK(h.result->first->cancelled);
    CHECK(h.running_at_return == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: the caller cancelled before the call: no branch starts") {
    auto thrown = test::exceptions_thrown();
    harness h;
    h.start(h.race_of(5ms, true, 5ms, true), 10ms);
    h.outer.emit(asio::cancellation_type::terminal); // during the wait before race
    test::drain(h.io);
    REQUIRE(h.result);
    CHECK(h.result->winner == -1);
    CHECK_FALSE(h.result->first);
    CHECK_FALSE(h.result->second);
    CHECK(h.b.started == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: the caller cancelled while both run: both are cancelled and waited for") {
    auto thrown = test::exceptions_thrown();
    harness h;
    auto t0 = manual_clock::now();
    h.start(h.race_of(50ms, true, 60ms, true));
    test::advance(h.io, 2ms);
    CHECK_FALSE(h.result);
    h.outer.emit(asio::cancellation_type::terminal);
    test::drain(h.io);
    REQUIRE(h.result);
    CHECK(h.result->winner == 0);
    CHECK(h.result->first->cancelled);
    CHECK(h.result->second->cancelled);
    CHECK(h.returned_at == t0 + 2ms);
    CHECK(h.running_at_return == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: the caller cancelled while the loser winds down: race still waits for it") {
    auto thrown = test::exceptions_thrown();
    harness h;
    auto t0 = manual_clock::now();
    h.start(h.race_of(5ms, true, 50ms, true, 3ms)); // the loser takes 3 ms to stop
    test::advance(h.io, 6ms);
    CHECK_FALSE(h.result);
    h.outer.emit(asio::cancellation_type::terminal);
    test::drain(h.io);
    CHECK_FALSE(h.result); // a second cancellation does not cut the clean-up short
    test::advance(h.io, 2ms);
    REQUIRE(h.result);
    CHECK(h.result->winner == 0);
    CHECK(h.result->second->at == t0 + 8ms);
    CHECK(h.returned_at == t0 + 8ms);
    CHECK(h.running_at_return == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("race: the caller cancelled after race returned: nothing of race is left") {
    auto thrown = test::exceptions_thrown();
    harness h;
    h.start(h.race_of(5ms, true, 50ms, true));
    test::advance(h.io, 5ms);
    REQUIRE(h.result);
    CHECK(h.running_at_return == 0);
    h.outer.emit(asio::cancellation_type::terminal); // reaches the caller's next wait only
    test::drain(h.io);
    CHECK(h.after_race_cancelled);
    CHECK(h.b.started == 2);
    CHECK(h.b.running == 0);
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("with_deadline: the operation first, or the deadline first and the operation cancelled") {
    auto thrown = test::exceptions_thrown();
    for (bool in_time : {true, false}) {
        harness h;
        std::optional<deadline_result<value>> r;
        auto t0 = manual_clock::now();
        asio::co_spawn(h.io, [&]() -> awaitable<void> {
            auto op = [&] { return h.b.branch(0, in_time ? 5ms : 50ms, true); };
            r = co_await with_deadline<manual_timer>(op, t0 + 10ms);
        }, asio::detached);
        test::advance(h.io, 10ms);
        REQUIRE(r);
        REQUIRE(r->value);
        CHECK(r->expired == !in_time);
        CHECK(r->value->ok == in_time);
        CHECK(r->value->cancelled == !in_time);
        CHECK(h.b.running == 0);
    }
    CHECK(test::exceptions_thrown() == thrown);
}
