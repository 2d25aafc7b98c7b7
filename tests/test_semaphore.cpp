#include <herd/async/semaphore.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using herd::semaphore;

namespace {

// Spawns a coroutine that acquires with `priority`, records `tag` when it
// gets the permit, and holds it until `release` is set.
struct harness {
    asio::io_context io;
    semaphore sem{io.get_executor(), 1, 4};
    std::vector<std::string> order;
    std::vector<semaphore::permit> held;

    void waiter(std::string tag, int priority) {
        asio::co_spawn(io, [](harness& h, std::string t, int p) -> herd::awaitable<void> {
            auto permit = co_await h.sem.acquire(p);
            h.order.push_back(t);
            h.held.push_back(std::move(permit));
        }(*this, std::move(tag), priority), asio::detached);
        io.restart();
        io.poll();
    }
    // Releases the oldest held permit and lets the next waiter in.
    void release_one() {
        held.erase(held.begin());
        io.restart();
        io.poll();
    }
};

} // namespace

TEST_CASE("semaphore grants up to its limit, then queues") {
    harness h;
    h.sem.set_limit(2);
    h.waiter("a", 5);
    h.waiter("b", 5);
    h.waiter("c", 5);
    CHECK(h.order == std::vector<std::string>{"a", "b"});
    CHECK(h.sem.in_use() == 2);
    CHECK(h.sem.waiting() == 1);
    h.release_one();
    CHECK(h.order == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("semaphore serves higher priority first, FIFO within a priority") {
    harness h;
    h.waiter("holder", 5);
    h.waiter("low1", 2);
    h.waiter("high1", 9);
    h.waiter("low2", 2);
    h.waiter("high2", 9);
    h.waiter("mid", 5);
    for (int i = 0; i < 5; ++i) h.release_one();
    CHECK(h.order == std::vector<std::string>{"holder", "high1", "high2", "mid", "low1", "low2"});
}

TEST_CASE("semaphore aging: low priority is not starved by a stream of high priority") {
    harness h; // aging_interval 4: +1 effective priority per 4 grants to others
    h.waiter("holder", 10);
    h.waiter("low", 1);
    std::size_t low_served_after = 0;
    for (int i = 0; i < 60 && low_served_after == 0; ++i) {
        h.waiter("high" + std::to_string(i), 10);
        h.release_one();
        if (std::find(h.order.begin(), h.order.end(), "low") != h.order.end()) low_served_after = h.order.size();
    }
    REQUIRE(low_served_after > 0);
    // 9 priority levels to climb at one level per 4 grants: about 36 grants.
    CHECK(low_served_after <= 40);
    CHECK(low_served_after >= 30);
}

TEST_CASE("semaphore limit raised while coroutines wait wakes them; lowered revokes nothing") {
    harness h;
    h.waiter("a", 5);
    h.waiter("b", 5);
    h.waiter("c", 5);
    CHECK(h.order.size() == 1);
    h.sem.set_limit(3);
    h.io.restart();
    h.io.poll();
    CHECK(h.order.size() == 3);
    h.sem.set_limit(1);
    CHECK(h.sem.in_use() == 3); // nothing revoked
    h.waiter("d", 5);
    h.release_one();
    h.release_one();
    CHECK(h.order.size() == 3); // in_use 1 == limit: d still waits
    h.release_one();
    CHECK(h.order.size() == 4);
    CHECK(h.order.back() == "d");
}

TEST_CASE("semaphore: a cancelled waiter leaves the queue and leaks no permit") {
    harness h;
    h.waiter("holder", 5);
    asio::cancellation_signal cancel;
    bool aborted = false;
    asio::co_spawn(h.io, [](harness& hh) -> herd::awaitable<void> { auto p = co_await hh.sem.acquire(5); }(h),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                       try {
                           if (e) std::rethrow_exception(e);
                       } catch (const std::system_error& se) {
                           aborted = se.code() == asio::error::operation_aborted;
                       }
                   }));
    h.io.restart();
    h.io.poll();
    CHECK(h.sem.waiting() == 1);
    cancel.emit(asio::cancellation_type::terminal);
    h.io.restart();
    h.io.poll();
    CHECK(aborted);
    CHECK(h.sem.waiting() == 0);
    h.release_one();
    CHECK(h.sem.in_use() == 0);
    h.waiter("next", 5);
    CHECK(h.order.back() == "next");
}

TEST_CASE("semaphore: cancellation racing a grant keeps the permit, never leaks it") {
    harness h;
    h.waiter("holder", 5);
    asio::cancellation_signal cancel;
    bool got = false;
    asio::co_spawn(h.io, [](harness& hh, bool& g) -> herd::awaitable<void> {
        auto p = co_await hh.sem.acquire(5);
        g = true;
    }(h, got), asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    h.io.restart();
    h.io.poll();
    h.held.clear();                              // grant to the waiter ...
    cancel.emit(asio::cancellation_type::terminal); // ... and cancel in the same turn
    h.io.restart();
    h.io.poll();
    CHECK(got);
    CHECK(h.sem.in_use() == 0);
    CHECK(h.sem.waiting() == 0);
}

TEST_CASE("semaphore try_acquire respects waiters") {
    harness h;
    h.waiter("holder", 5);
    h.waiter("queued", 5);
    h.sem.set_limit(1);
    CHECK_FALSE(h.sem.try_acquire());
}
