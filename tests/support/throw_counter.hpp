#pragma once
// Counts C++ exceptions thrown in this process: throw_counter.cpp
// interposes __cxa_throw (every `throw` goes through it) and forwards to
// the real one. Link throw_counter.cpp into a test to use it.

#include <cstdint>

namespace herd::test {

/// Exceptions thrown so far by the calling thread.
std::uint64_t exceptions_thrown() noexcept;

} // namespace herd::test
