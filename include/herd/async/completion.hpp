#pragma once
// Any Asio completion token for herd's operations (as Boost.Redis's
// async_exec does it, in Asio 1.22 terms: no any_completion_handler yet).
//
//   pool.async_embed(text, asio::use_awaitable)          // awaitable
//   pool.async_embed(text, herd::compat::use_nothrow)    // tuple (ec, v)
//   pool.async_embed(text, herd::compat::deferred)       // started later
//   pool.async_embed(text, [](std::error_code ec, std::vector<float> v) {...});
//
// An operation is a compiled coroutine that reports its outcome as a
// result<T> (a failure and a value) instead of throwing. async_run() adapts
// it to any token with signature void(std::error_code, T) (void(error_code)
// for T = void): asio::async_initiate, whose initiation co_spawns the
// coroutine on the object's executor with the handler's associated
// cancellation slot bound, so cancelling the handler (cancelling an
// awaiting coroutine, or emitting on a slot bound with
// asio::bind_cancellation_slot) delivers terminal cancellation to the
// coroutine. The handler runs on its associated executor (by default the
// object's), never inside the initiating call; on failure its value is
// what the operation says (empty unless documented otherwise). Nothing runs before a deferred operation is
// started. The coroutine runs with throw_if_cancelled off, so cancellation
// surfaces as operation_aborted in the error_code, not as an exception.
// An exception escaping the coroutine anyway is reported as its
// system_error code (any other exception: std::errc::io_error).

#include <herd/async/compat.hpp>
#include <herd/error.hpp>

#include <exception>
#include <system_error>
#include <type_traits>

namespace herd {

/// What an operation produced: `value` when `fail` is empty.
template <typename T>
struct result {
    failure fail;
    T value{};
};
template <>
struct result<void> {
    failure fail;
};

/// Runs the awaitable with throw_if_cancelled off in the calling coroutine
/// (restored afterwards), so herd's internals report cancellation as a
/// value even when awaited from a coroutine with Asio's default.
template <typename T>
awaitable<T> without_cancel_throws(awaitable<T> a) {
    const bool was = co_await ::asio::this_coro::throw_if_cancelled();
    co_await ::asio::this_coro::throw_if_cancelled(false);
    T out = co_await std::move(a);
    co_await ::asio::this_coro::throw_if_cancelled(was);
    co_return out;
}

namespace detail {

template <typename T>
struct signature_of {
    using type = void(std::error_code, T);
};
template <>
struct signature_of<void> {
    using type = void(std::error_code);
};

inline std::error_code code_of(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error& s) {
        return s.code();
    } catch (...) {
        return std::make_error_code(std::errc::io_error);
    }
}

// co_spawn's completion handler: forwards the result to the token's
// handler, keeping that handler's executor and cancellation slot.
template <typename Handler, typename T>
struct spawn_completion {
    Handler handler;
    executor fallback;

    using executor_type = ::asio::associated_executor_t<Handler, executor>;
    using cancellation_slot_type = ::asio::associated_cancellation_slot_t<Handler>;
    executor_type get_executor() const noexcept { return ::asio::get_associated_executor(handler, fallback); }
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return ::asio::get_associated_cancellation_slot(handler);
    }

    void operator()(std::exception_ptr e, result<T> r) {
        std::error_code ec = e ? code_of(e) : r.fail.code;
        if constexpr (std::is_void_v<T>) std::move(handler)(ec);
        else std::move(handler)(ec, std::move(r.value));
    }
};

template <typename T, typename Make>
awaitable<result<T>> run_nothrow(Make make) {
    co_await ::asio::this_coro::throw_if_cancelled(false);
    co_return co_await make();
}

} // namespace detail

/// Starts `make()` (returning awaitable<result<T>>) on `ex` for any
/// completion token; see the header.
template <typename T, typename Token, typename Make>
auto async_run(executor ex, Token&& token, Make make) {
    return ::asio::async_initiate<Token, typename detail::signature_of<T>::type>(
        [](auto handler, executor on, Make m) {
            using completion = detail::spawn_completion<std::decay_t<decltype(handler)>, T>;
            ::asio::co_spawn(on, detail::run_nothrow<T>(std::move(m)), completion{std::move(handler), on});
        },
        token, std::move(ex), std::move(make));
}

} // namespace herd
