#pragma once
// A model's parallel slots on a node, with a FIFO of requests waiting for
// one (Ollama runs a loaded model's requests in order of arrival). A waiter
// sleeps on its connection's timer; release() hands the slot over directly
// by waking the first waiter, so no one can overtake it.

#include "sim/session.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <utility>

namespace herd::sim {

class slot_pool {
public:
    explicit slot_pool(std::size_t slots) : free_(slots), size_(slots) {}
    slot_pool(const slot_pool&) = delete;
    slot_pool& operator=(const slot_pool&) = delete;

    /// Takes a slot now when one is free and no one waits.
    bool try_acquire() noexcept;
    /// Waits on `s`'s timer for a slot. False when woken without one
    /// (the connection was closed, or cancel_all()).
    awaitable<bool> acquire(session& s);
    void release();
    /// Wakes every waiter without a slot.
    void cancel_all();

    std::size_t waiting() const noexcept { return waiters_.size(); }
    /// True when no slot is taken.
    bool idle() const noexcept { return free_ == size_; }

private:
    struct waiter {
        asio::steady_timer* timer;
        bool granted = false;
    };
    std::size_t free_, size_;
    std::deque<waiter*> waiters_;
};

/// Holds one slot and gives it back on destruction; `gauge` (the node's
/// "active" counter) counts the slots held.
class slot_permit {
public:
    using gauge_type = std::atomic<std::uint64_t>;

    slot_permit() = default;
    slot_permit(slot_pool& p, gauge_type& gauge) : pool_(&p), gauge_(&gauge) {
        gauge_->fetch_add(1, std::memory_order_relaxed);
    }
    slot_permit(slot_permit&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)), gauge_(std::exchange(o.gauge_, nullptr)) {}
    slot_permit& operator=(slot_permit&& o) noexcept {
        if (this != &o) {
            reset();
            pool_ = std::exchange(o.pool_, nullptr);
            gauge_ = std::exchange(o.gauge_, nullptr);
        }
        return *this;
    }
    ~slot_permit() { reset(); }
    void reset() {
        if (!pool_) return;
        gauge_->fetch_sub(1, std::memory_order_relaxed);
        std::exchange(pool_, nullptr)->release();
    }
    explicit operator bool() const noexcept { return pool_ != nullptr; }

private:
    slot_pool* pool_ = nullptr;
    gauge_type* gauge_ = nullptr;
};

} // namespace herd::sim
