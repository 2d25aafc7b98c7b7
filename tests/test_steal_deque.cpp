#include <herd/async/steal_deque.hpp>
#include <herd/async/task_group.hpp>

#include "support/run.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace herd;

TEST_CASE("steal_deque: owner takes from the front, thief steals the back half of the fullest") {
    asio::io_context io;
    steal_deque<int> q(io.get_executor(), 3);
    for (int i = 0; i < 6; ++i) q.push(0, i);
    q.push(1, 100);
    CHECK(*q.try_pop_own(0) == 0);
    CHECK(q.steal(2) == 3); // half of 5, rounded up, from deque 0
    CHECK(q.size(0) == 2);
    CHECK(*q.try_pop_own(2) == 3); // stolen in their original order
    CHECK(*q.try_pop_own(2) == 4);
    CHECK(*q.try_pop_own(0) == 1);
    CHECK(q.steals() == 1);
}

TEST_CASE("steal_deque: pop waits for a push, and close() drains then ends") {
    asio::io_context io;
    steal_deque<int> q(io.get_executor(), 2);
    std::vector<int> got;
    bool ended = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
        while (auto v = co_await q.pop(1)) got.push_back(*v);
        ended = true;
    }, asio::detached);
    io.poll();
    CHECK(got.empty());
    q.push(0, 7); // pushed to another deque: the waiter steals it
    io.restart();
    io.poll();
    CHECK(got == std::vector<int>{7});
    q.push(1, 8);
    q.close();
    io.restart();
    io.poll();
    CHECK(got == std::vector<int>{7, 8});
    CHECK(ended);
}

TEST_CASE("steal_deque: a cancelled pop takes nothing") {
    asio::io_context io;
    steal_deque<int> q(io.get_executor(), 1);
    asio::cancellation_signal cancel;
    bool aborted = false;
    asio::co_spawn(io, [&]() -> awaitable<void> {
        try {
            co_await q.pop(0);
        } catch (const std::system_error& e) {
            aborted = e.code() == asio::error::operation_aborted;
        }
    }, asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    io.poll();
    cancel.emit(asio::cancellation_type::terminal);
    io.restart();
    io.poll();
    CHECK(aborted);
    q.push(0, 1);
    CHECK(q.size() == 1);
}

TEST_CASE("steal_deque: stealing under contention hands out every item exactly once") {
    asio::io_context io;
    const std::size_t workers = 8, items = 5000;
    steal_deque<std::size_t> q(io.get_executor(), workers);
    for (std::size_t i = 0; i < items; ++i) q.push(i % 2, i); // only two deques seeded
    std::vector<std::size_t> seen;
    std::vector<std::size_t> per_worker(workers, 0);
    test::run(io, [&]() -> awaitable<void> {
        task_group g(io.get_executor());
        for (std::size_t w = 0; w < workers; ++w)
            g.spawn([](steal_deque<std::size_t>& d, std::size_t me, std::vector<std::size_t>& out,
                       std::size_t& mine, std::size_t total) -> awaitable<void> {
                while (auto v = co_await d.pop(me)) {
                    out.push_back(*v);
                    ++mine;
                    if (*v % 3 == 0 && *v < total) d.push(me, *v + total); // work that makes work
                    if (out.size() == total + (total + 2) / 3) d.close();
                    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); // interleave
                }
            }(q, w, seen, per_worker[w], items));
        co_await g.join();
    }());
    std::set<std::size_t> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());
    CHECK(seen.size() == items + (items + 2) / 3);
    for (std::size_t w = 0; w < workers; ++w) CHECK(per_worker[w] > 0); // everyone stole some
    CHECK(q.steals() > 0);
}

TEST_CASE("steal_deque: a waiter whose frame is destroyed without resuming is forgotten") {
    // The deque outlives the io_context that runs the waiting coroutine:
    // destroying the io_context destroys that coroutine's frames mid-wait.
    std::optional<asio::io_context> io(std::in_place);
    steal_deque<int> q(io->get_executor(), 1);
    bool resumed = false;
    asio::co_spawn(*io, [&]() -> awaitable<void> {
        co_await q.wait();
        resumed = true;
    }, asio::detached);
    io->poll();
    io.reset(); // the waiting frame is destroyed here
    CHECK_FALSE(resumed);
    q.push(0, 1); // must not touch the destroyed waiter's timer
    q.close();
    CHECK(q.size() == 1);
    CHECK(*q.try_pop_own(0) == 1);
}

TEST_CASE("steal_deque: a deque added later steals from the others at once") {
    asio::io_context io;
    steal_deque<int> q(io.get_executor(), 1);
    for (int i = 0; i < 4; ++i) q.push(0, i);
    CHECK(q.add_queue() == 1);
    CHECK(q.queues() == 2);
    CHECK(q.size(1) == 0);
    CHECK(q.steal(1) == 2);
    CHECK(*q.try_pop_own(1) == 2);
    CHECK(q.size() == 3);
}
