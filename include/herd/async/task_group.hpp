#pragma once
// Structured concurrency: coroutines spawned into a group are joined by the
// group's owner, so none outlives the data it borrows.
//
//   task_group g{ex};
//   for (...) g.spawn(work(i));
//   co_await g.join();
//
// join() waits until every spawned coroutine has finished. If join() itself
// is cancelled (Asio cancellation), it cancels every child (terminal
// cancellation), still waits for all of them to finish, then throws
// operation_aborted. If a child throws, the first exception is rethrown by
// join() after all children finished (the others are cancelled first).
// cancel() cancels all children without waiting.
//
// Not thread-safe. The group must outlive its children: always join.

#include <herd/async/compat.hpp>

#include <exception>
#include <memory>
#include <vector>

namespace herd {

class task_group {
public:
    explicit task_group(executor ex) : ex_(std::move(ex)), done_(ex_, ::asio::steady_timer::time_point::max()) {}
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    void spawn(awaitable<void> task) {
        auto& signal = *signals_.emplace_back(std::make_unique<::asio::cancellation_signal>());
        ++running_;
        ::asio::co_spawn(ex_, std::move(task),
                         ::asio::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e) {
                             if (e && !error_) {
                                 error_ = e;
                                 cancel();
                             }
                             if (--running_ == 0) done_.cancel();
                         }));
    }

    void cancel() {
        for (auto& s : signals_) s->emit(::asio::cancellation_type::terminal);
    }

    std::size_t running() const noexcept { return running_; }

    awaitable<void> join() {
        bool cancelled = false;
        while (running_ > 0) {
            co_await done_.async_wait(compat::use_nothrow);
            if (running_ > 0 && !cancelled) {
                auto state = co_await ::asio::this_coro::cancellation_state;
                if (state.cancelled() != ::asio::cancellation_type::none) {
                    cancelled = true;
                    cancel();
                    co_await ::asio::this_coro::reset_cancellation_state();
                }
            }
        }
        signals_.clear();
        if (cancelled) throw std::system_error(::asio::error::operation_aborted);
        if (auto e = std::exchange(error_, nullptr)) std::rethrow_exception(e);
    }

private:
    executor ex_;
    ::asio::steady_timer done_;
    std::size_t running_ = 0;
    std::exception_ptr error_;
    std::vector<std::unique_ptr<::asio::cancellation_signal>> signals_;
};

} // namespace herd
