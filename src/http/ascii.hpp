#pragma once
// Case-insensitive ASCII comparison for HTTP tokens (header values such as
// "100-continue"). Private to src/: herd's servers (serve, herd-sim) share
// it; it is not part of the installed headers. Locale-independent: only
// A-Z fold, as HTTP's case-insensitive tokens are ASCII.

#include <string_view>

namespace herd::http {

/// True when `a` and `b` are equal ignoring ASCII letter case. Never throws.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

} // namespace herd::http
