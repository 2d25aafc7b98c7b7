#pragma once
// Every difference between Asio versions herd meets, in one place.
//
// herd is written against standalone Asio 1.22 (Debian bookworm's
// libasio-dev). In 1.22 `as_tuple` and `deferred` still live in
// asio::experimental; from 1.24 on they moved to asio::. Awaitable operators
// and parallel_group are experimental in every version herd supports.

// Asio 1.22 turns co_await support on for clang only with the Coroutines
// TS (<experimental/coroutine>); clang 16+ with libstdc++ has C++20
// coroutines. (CMake defines this for every herd target too, since some
// files include Asio before this header.)
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/version.hpp>

#if ASIO_VERSION < 102400
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/deferred.hpp>
#endif

namespace herd::compat {

#if ASIO_VERSION < 102400
using ::asio::experimental::as_tuple;
inline constexpr auto& deferred = ::asio::experimental::deferred;
#else
using ::asio::as_tuple;
inline constexpr auto& deferred = ::asio::deferred;
#endif

/// Completion token for `co_await op(..., use_nothrow)`: yields a tuple
/// (error_code, results...) instead of throwing.
inline constexpr auto use_nothrow = as_tuple(::asio::use_awaitable);

/// Asio's awaitable `a || b` throws asio::multiple_exceptions when both
/// branches fail (which cancellation causes); herd's own races use
/// herd::race (race.hpp), which reports every outcome as a value.
namespace awaitable_operators = ::asio::experimental::awaitable_operators;

} // namespace herd::compat

namespace herd {
/// The executor every herd object runs on: any Asio executor, type-erased.
using executor = ::asio::any_io_executor;

template <typename T>
using awaitable = ::asio::awaitable<T, executor>;
} // namespace herd
