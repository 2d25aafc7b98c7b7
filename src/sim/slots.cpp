#include "sim/slots.hpp"

#include <algorithm>

namespace herd::sim {

bool slot_pool::try_acquire() noexcept {
    if (free_ == 0 || !waiters_.empty()) return false;
    --free_;
    return true;
}

awaitable<bool> slot_pool::acquire(session& s) {
    if (try_acquire()) co_return true;
    if (s.closed()) co_return false;
    waiter w{&s.timer()};
    waiters_.push_back(&w);
    s.timer().expires_at(steady_clock::time_point::max());
    co_await s.timer().async_wait(compat::use_nothrow);
    if (!w.granted) {
        // Woken by close or cancel_all: leave the line.
        waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &w), waiters_.end());
        co_return false;
    }
    co_return true;
}

void slot_pool::release() {
    if (waiters_.empty()) {
        ++free_;
        return;
    }
    waiter* w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->timer->cancel();
}

void slot_pool::cancel_all() {
    for (auto* w : waiters_) w->timer->cancel();
}

} // namespace herd::sim
