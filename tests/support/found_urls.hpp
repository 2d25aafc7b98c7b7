#pragma once
// The URLs of what a discovery source listed, for exact comparisons.

#include <herd/discovery/source.hpp>

#include <string>
#include <vector>

namespace herd::test {

inline std::vector<std::string> urls_of(const std::vector<found_node>& nodes) {
    std::vector<std::string> out;
    for (auto& n : nodes) out.push_back(n.url);
    return out;
}

} // namespace herd::test
