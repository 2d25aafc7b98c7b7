#pragma once
// race and with_deadline: two operations at once, the first to finish
// wins, the other is cancelled and waited for. Nothing outlives the call
// and no outcome is reported by an exception.
//
//   auto r = co_await race([&] { return fetch(a); }, [&] { return fetch(b); });
//   if (r.winner == 0) use(*r.first); else use(*r.second);
//
//   auto d = co_await with_deadline([&] { return fetch(a); }, deadline);
//   if (d.expired) ...; // d.value holds what fetch returned when cancelled
//
// Branches are callables returning awaitable<A> / awaitable<B> (A and B
// default-constructible and movable). Each runs as its own coroutine
// (co_spawn) on the caller's executor, bound to its own
// asio::cancellation_signal. A branch reports every outcome, failure and
// cancellation included, as its value; it must not throw (a branch that
// does is a bug: race rethrows that exception once both finished).
//
// Outcomes (race_result::winner is the branch that finished first):
// - One finishes: the other gets terminal cancellation through its signal;
//   race waits until it finished too and returns both values. The loser's
//   value is what it returned on cancellation, or its real result when it
//   finished in the same turn.
// - Both fail: a failure is a value like any other, so the first to finish
//   wins. Branches that want "first success" park on failure until
//   cancelled (hedge.hpp does).
// - The caller is cancelled (terminal cancellation through the awaiting
//   coroutine's slot) while they run: both get terminal cancellation; race
//   waits for both and returns, `winner` being the first to finish.
// - The caller was cancelled before race was called (its
//   this_coro::cancellation_state says so): no branch starts, winner is -1
//   and both values are empty.
// Each branch is cancelled at most once.
//
// Exceptions: race never throws for cancellation. While it runs it turns
// off the caller's this_coro::throw_if_cancelled (restored before it
// returns), and branches run with it off: a cancellation that reaches a
// branch between two asynchronous operations does not throw at its next
// co_await; it is recorded in the branch's this_coro::cancellation_state,
// which a branch of several operations checks before starting the next
// (node::embed does). (A caller that keeps Asio's default
// throw_if_cancelled and was cancelled before the call gets Asio's own
// operation_aborted exception at `co_await race(...)`, before race runs.)
//
// Timer: with_deadline waits on `Timer` (asio::steady_timer by default;
// tests pass a timer on a virtual clock). Not thread-safe: one executor.

#include <herd/async/compat.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace herd {

template <typename A, typename B>
struct race_result {
    int winner = -1;         ///< 0: first branch, 1: second, -1: none started
    std::optional<A> first;  ///< the first branch's value (empty: it never started)
    std::optional<B> second; ///< the second branch's value
};

template <typename T>
struct deadline_result {
    std::optional<T> value; ///< the operation's value; empty only when the caller was cancelled before
    bool expired = false;   ///< the deadline came first and the operation was cancelled
};

namespace detail {

/// True when `state` (co_await this_coro::cancellation_state) was cancelled.
inline bool was_cancelled(const ::asio::cancellation_state& state) noexcept {
    return state.cancelled() != ::asio::cancellation_type::none;
}

template <typename F>
using branch_value_t = typename std::invoke_result_t<F&>::value_type;

struct race_state {
    explicit race_state(const executor& ex) : wake(ex, ::asio::steady_timer::time_point::max()) {}
    ::asio::steady_timer wake; // never expires: cancel() wakes the racer
    ::asio::cancellation_signal signals[2];
    bool done[2] = {false, false};
    bool cancel_sent[2] = {false, false};
    int finished = 0;
    int winner = -1;
    std::exception_ptr error;

    void on_done(int i, std::exception_ptr e) {
        if (winner < 0) winner = i;
        done[i] = true;
        ++finished;
        if (e && !error) error = e;
        wake.cancel();
    }
    void cancel(int i) {
        if (done[i] || cancel_sent[i]) return;
        cancel_sent[i] = true;
        signals[i].emit(::asio::cancellation_type::terminal);
    }
};

template <typename F>
awaitable<branch_value_t<F>> run_branch(F& f) {
    co_await ::asio::this_coro::throw_if_cancelled(false);
    co_return co_await f();
}

template <typename F, typename Store>
void start_branch(const executor& ex, race_state& st, int i, F& f, Store store) {
    ::asio::co_spawn(ex, run_branch(f),
                     ::asio::bind_cancellation_slot(st.signals[i].slot(),
                                                    [&st, i, store](std::exception_ptr e, branch_value_t<F> v) {
                                                        store(std::move(v));
                                                        st.on_done(i, e);
                                                    }));
}

} // namespace detail

/// Runs `a` and `b` at once; see the header for every outcome.
template <typename FA, typename FB>
auto race(FA a, FB b) -> awaitable<race_result<detail::branch_value_t<FA>, detail::branch_value_t<FB>>> {
    race_result<detail::branch_value_t<FA>, detail::branch_value_t<FB>> out;
    auto state = co_await ::asio::this_coro::cancellation_state;
    if (detail::was_cancelled(state)) co_return out;
    const bool threw_if_cancelled = co_await ::asio::this_coro::throw_if_cancelled();
    co_await ::asio::this_coro::throw_if_cancelled(false);
    auto ex = co_await ::asio::this_coro::executor;
    detail::race_state st(ex);
    detail::start_branch(ex, st, 0, a, [&out](auto v) { out.first.emplace(std::move(v)); });
    detail::start_branch(ex, st, 1, b, [&out](auto v) { out.second.emplace(std::move(v)); });
    while (st.finished < 2) {
        if (st.finished == 1) st.cancel(1 - st.winner);
        if (st.finished < 2) co_await st.wake.async_wait(compat::use_nothrow);
        if (st.finished == 0 && detail::was_cancelled(state)) { // the caller was cancelled
            st.cancel(0);
            st.cancel(1);
        }
    }
    co_await ::asio::this_coro::throw_if_cancelled(threw_if_cancelled);
    if (st.error) std::rethrow_exception(st.error);
    out.winner = st.winner;
    co_return out;
}

/// Runs `op` until it finishes or `deadline` passes, whichever is first;
/// on the deadline `op` is cancelled and waited for (see the header).
template <typename Timer = ::asio::steady_timer, typename F>
auto with_deadline(F op, typename Timer::time_point deadline) -> awaitable<deadline_result<detail::branch_value_t<F>>> {
    auto wait = [deadline]() -> awaitable<bool> {
        Timer timer(co_await ::asio::this_coro::executor, deadline);
        auto [ec] = co_await timer.async_wait(compat::use_nothrow);
        co_return !ec;
    };
    auto r = co_await race(std::move(op), std::move(wait));
    deadline_result<detail::branch_value_t<F>> out;
    out.value = std::move(r.first);
    out.expired = r.winner == 1 && r.second.value_or(false);
    co_return out;
}

} // namespace herd
