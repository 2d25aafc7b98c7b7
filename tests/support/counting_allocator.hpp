#pragma once
// Counts the bytes the program holds through operator new (linked into a
// test binary, support/counting_allocator.cpp replaces the global
// operator new/delete): tests assert that a peer cannot make herd hold
// more than its limits allow.

#include <cstddef>

namespace herd::test {

/// Bytes allocated through operator new and not yet freed.
std::size_t live_bytes() noexcept;
/// The most live_bytes() reached since the last reset_peak().
std::size_t peak_bytes() noexcept;
/// Starts a new peak from the current live bytes.
void reset_peak() noexcept;

} // namespace herd::test
