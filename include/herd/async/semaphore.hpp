#pragma once
// A counting semaphore for coroutines on one executor, with priorities.
//
//   herd::semaphore sem{ex, 4};
//   auto permit = co_await sem.acquire(7);   // RAII: released at scope end
//
// Ordering: a waiter with a higher priority is served first; equal
// priorities are FIFO. Aging: every `aging_interval` permits granted to
// others while a waiter waits raise its effective priority by one, so low
// priority work is delayed, never starved.
//
// Limit: set_limit() may raise or lower the limit at any time. Raising
// wakes waiters at once; lowering revokes nothing — holders keep their
// permits and new grants wait until in_use() drops below the new limit.
//
// Cancellation: acquire() honours Asio cancellation (terminal, partial and
// total alike). A cancelled waiter leaves the queue and acquire() throws
// std::system_error(asio::error::operation_aborted); acquire_nothrow()
// returns an empty permit instead. A waiter granted a
// permit in the same turn its cancellation arrives keeps the permit (the
// permit is returned, the cancellation is ignored), so no permit can leak.
//
// Threading: not thread-safe; use from the executor's thread (one
// io_context thread, or a strand).
//
// Destruction: destroying the semaphore while coroutines wait wakes them
// with operation_aborted; permits must not outlive the semaphore.

#include <herd/async/compat.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <limits>

namespace herd {

class semaphore {
public:
    static constexpr int min_priority = 1;
    static constexpr int max_priority = 10;
    static constexpr int default_priority = 5;

    class permit {
    public:
        permit() = default;
        permit(permit&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)) {}
        permit& operator=(permit&& o) noexcept {
            if (this != &o) {
                release();
                owner_ = std::exchange(o.owner_, nullptr);
            }
            return *this;
        }
        ~permit() { release(); }
        /// Gives the permit back now (idempotent).
        void release() noexcept {
            if (auto* o = std::exchange(owner_, nullptr)) o->release_one();
        }
        explicit operator bool() const noexcept { return owner_ != nullptr; }

    private:
        friend class semaphore;
        explicit permit(semaphore* o) : owner_(o) {}
        semaphore* owner_ = nullptr;
    };

    semaphore(executor ex, std::size_t limit, std::uint64_t aging_interval = 16)
        : ex_(std::move(ex)), limit_(limit), aging_interval_(aging_interval ? aging_interval : 1) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;
    ~semaphore() {
        for (auto& q : queues_)
            for (waiter* w : q) {
                w->owner = nullptr;
                w->timer.cancel();
            }
    }

    /// Waits for a permit. `priority` is clamped to [min_priority,
    /// max_priority]. Throws operation_aborted when cancelled (see header).
    awaitable<permit> acquire(int priority = default_priority) {
        if (auto p = try_acquire()) co_return p;
        permit p = co_await acquire_nothrow(priority);
        if (!p) throw std::system_error(::asio::error::operation_aborted);
        co_return p;
    }

    /// As acquire(), but cancellation returns an empty permit instead of
    /// throwing; so does a call whose coroutine was already cancelled
    /// (this_coro::cancellation_state) when no permit is free.
    awaitable<permit> acquire_nothrow(int priority = default_priority) {
        if (auto p = try_acquire()) co_return p;
        auto state = co_await ::asio::this_coro::cancellation_state;
        if (state.cancelled() != ::asio::cancellation_type::none) co_return permit{};
        waiter w(ex_, this, clamp(priority), next_seq_++, granted_total_);
        queues_[w.priority - min_priority].push_back(&w);
        ++waiting_;
        co_await w.timer.async_wait(compat::use_nothrow);
        if (w.granted) {
            w.owner = nullptr; // the permit object takes over the count
            co_return permit(this);
        }
        // Cancelled or the semaphore was destroyed: leave the queue.
        w.unlink();
        co_return permit{};
    }

    /// A permit now if one is free and nobody waits, else an empty permit.
    permit try_acquire() {
        if (in_use_ < limit_ && waiting_ == 0) {
            ++in_use_;
            ++granted_total_;
            return permit(this);
        }
        return {};
    }

    /// Changes the limit (see header); wakes waiters when raised.
    void set_limit(std::size_t limit) {
        limit_ = limit;
        grant_waiters();
    }

    std::size_t limit() const noexcept { return limit_; }
    std::size_t in_use() const noexcept { return in_use_; }
    std::size_t waiting() const noexcept { return waiting_; }
    const executor& get_executor() const noexcept { return ex_; }

private:
    struct waiter {
        ::asio::steady_timer timer;
        semaphore* owner;
        int priority;
        std::uint64_t seq;
        std::uint64_t granted_at_enqueue;
        bool granted = false;

        waiter(const executor& ex, semaphore* o, int prio, std::uint64_t s, std::uint64_t g)
            : timer(ex, ::asio::steady_timer::time_point::max()), owner(o), priority(prio), seq(s),
              granted_at_enqueue(g) {}
        // A coroutine frame destroyed while waiting: leave the queue, or
        // give back a permit granted but never handed over.
        ~waiter() {
            if (owner && granted) owner->release_one();
            else unlink();
        }
        void unlink() {
            if (!owner || granted) return;
            auto& q = owner->queues_[priority - min_priority];
            for (auto it = q.begin(); it != q.end(); ++it)
                if (*it == this) {
                    q.erase(it);
                    --owner->waiting_;
                    break;
                }
            owner = nullptr;
        }
    };

    static int clamp(int p) { return p < min_priority ? min_priority : p > max_priority ? max_priority : p; }

    std::uint64_t effective_priority(const waiter& w) const {
        return static_cast<std::uint64_t>(w.priority) + (granted_total_ - w.granted_at_enqueue) / aging_interval_;
    }

    // The head of each priority queue is its oldest waiter, hence the one
    // with the most aging: only the heads compete.
    waiter* best_waiter() {
        waiter* best = nullptr;
        std::uint64_t best_prio = 0;
        for (auto& q : queues_) {
            if (q.empty()) continue;
            waiter* w = q.front();
            auto p = effective_priority(*w);
            if (!best || p > best_prio || (p == best_prio && w->seq < best->seq)) {
                best = w;
                best_prio = p;
            }
        }
        return best;
    }

    void grant_waiters() {
        while (in_use_ < limit_ && waiting_ > 0) {
            waiter* w = best_waiter();
            queues_[w->priority - min_priority].pop_front();
            --waiting_;
            ++in_use_;
            ++granted_total_;
            w->granted = true;
            w->timer.cancel();
        }
    }

    void release_one() noexcept {
        --in_use_;
        grant_waiters();
    }

    executor ex_;
    std::size_t limit_;
    std::uint64_t aging_interval_;
    std::size_t in_use_ = 0;
    std::size_t waiting_ = 0;
    std::uint64_t granted_total_ = 0;
    std::uint64_t next_seq_ = 0;
    std::array<std::deque<waiter*>, max_priority - min_priority + 1> queues_;
};

} // namespace herd
