#pragma once
// Work-stealing deques for coroutines on one executor: one deque per worker
// group (herd: per node). The owner takes from the front of its own deque;
// a worker whose deque is empty steals half of the fullest other deque,
// taken from the back (the work its owner would reach last).
//
//   steal_deque<range> q{ex, nodes};
//   q.push(i, item);                 // seed or give back
//   while (auto item = co_await q.pop(i)) ...
//
// pop(i) returns at once when deque i (or, by stealing, any deque) has an
// item; otherwise it waits until an item is pushed or the deques are
// closed. After close(), pop() drains what is left, then returns nullopt.
// Items pushed are never lost: every item pushed is returned by exactly one
// pop() (or remains inside when the object is destroyed).
//
// Cancellation: pop() honours Asio cancellation while waiting and then
// throws std::system_error(operation_aborted); no item is taken. A waiting
// coroutine whose frame is destroyed without resuming (its io_context
// destroyed first) leaves nothing behind: later pushes wake nobody.
// Lifetime: the deques must outlive every pop()/wait() in progress.
// Not thread-safe: one executor.

#include <herd/async/compat.hpp>

#include <deque>
#include <list>
#include <optional>
#include <vector>

namespace herd {

template <typename T>
class steal_deque {
public:
    steal_deque(executor ex, std::size_t queues) : ex_(std::move(ex)), queues_(queues ? queues : 1) {}
    steal_deque(const steal_deque&) = delete;
    steal_deque& operator=(const steal_deque&) = delete;
    ~steal_deque() { wake_all(); }

    /// Adds an empty deque (a new worker group); returns its index.
    std::size_t add_queue() {
        queues_.emplace_back();
        return queues_.size() - 1;
    }

    /// Adds `item` at the back of deque `q` and wakes one waiter.
    void push(std::size_t q, T item) {
        queues_.at(q).push_back(std::move(item));
        ++size_;
        wake_one();
    }

    /// Owner's take: front of deque `q`, without waiting or stealing.
    std::optional<T> try_pop_own(std::size_t q) {
        auto& d = queues_.at(q);
        if (d.empty()) return std::nullopt;
        T item = std::move(d.front());
        d.pop_front();
        --size_;
        return item;
    }

    /// Moves the back half (rounded up) of the fullest other deque to the
    /// back of deque `thief`. Returns how many items moved.
    std::size_t steal(std::size_t thief) {
        std::size_t victim = thief;
        for (std::size_t i = 0; i < queues_.size(); ++i)
            if (i != thief && (victim == thief || queues_[i].size() > queues_[victim].size())) victim = i;
        if (victim == thief || queues_[victim].empty()) return 0;
        auto& from = queues_[victim];
        std::size_t n = (from.size() + 1) / 2;
        // Keep the stolen items in their original order.
        auto first = from.end() - static_cast<std::ptrdiff_t>(n);
        for (auto it = first; it != from.end(); ++it) queues_[thief].push_back(std::move(*it));
        from.erase(first, from.end());
        ++steals_;
        return n;
    }

    /// Own front, else stolen, else waits (see header).
    awaitable<std::optional<T>> pop(std::size_t q) {
        for (;;) {
            if (auto item = try_pop_own(q)) co_return item;
            if (steal(q) > 0) continue;
            if (closed_) co_return std::nullopt;
            co_await wait();
        }
    }

    /// Waits until something is pushed, notify_all() is called or the
    /// deques are closed; takes nothing. Throws operation_aborted when
    /// cancelled.
    awaitable<void> wait() {
        if (closed_) co_return;
        ::asio::steady_timer signal(ex_, ::asio::steady_timer::time_point::max());
        // Removed by its destructor, also when this frame is destroyed
        // without resuming (e.g. its io_context is destroyed first).
        waiter_slot slot(waiters_, &signal);
        co_await signal.async_wait(compat::use_nothrow);
        if (!slot.woken()) throw std::system_error(::asio::error::operation_aborted);
    }

    /// Wakes every waiter (for example when the work they wait for may be
    /// finished elsewhere).
    void notify_all() { wake_all(); }

    /// No more work will be pushed once what is inside is gone: waiting
    /// pops return nullopt when everything is empty.
    void close() {
        closed_ = true;
        wake_all();
    }

    /// Reopens after close() (items may be pushed again).
    void reopen() noexcept { closed_ = false; }

    bool closed() const noexcept { return closed_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t size(std::size_t q) const { return queues_.at(q).size(); }
    std::size_t queues() const noexcept { return queues_.size(); }
    std::size_t steals() const noexcept { return steals_; }

private:
    using waiter_list = std::list<::asio::steady_timer*>;

    // A waiter's entry in waiters_, for the lifetime of its wait() frame.
    class waiter_slot {
    public:
        waiter_slot(waiter_list& list, ::asio::steady_timer* timer)
            : list_(list), it_(list.insert(list.end(), timer)) {}
        waiter_slot(const waiter_slot&) = delete;
        waiter_slot& operator=(const waiter_slot&) = delete;
        ~waiter_slot() { list_.erase(it_); }
        /// wake_one()/wake_all() cleared the entry (else: cancelled).
        bool woken() const noexcept { return *it_ == nullptr; }

    private:
        waiter_list& list_;
        waiter_list::iterator it_;
    };

    void wake_one() {
        for (auto& w : waiters_)
            if (w) {
                std::exchange(w, nullptr)->cancel();
                return;
            }
    }
    void wake_all() {
        for (auto& w : waiters_)
            if (w) std::exchange(w, nullptr)->cancel();
    }

    executor ex_;
    std::vector<std::deque<T>> queues_;
    waiter_list waiters_;
    std::size_t size_ = 0;
    std::size_t steals_ = 0;
    bool closed_ = false;
};

} // namespace herd
