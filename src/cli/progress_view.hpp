#pragma once
// Shows batch progress: a one-line bar redrawn in place on a terminal
// (rate, ETA, each node's share), plain progress lines otherwise (logs,
// CI), at most one every few seconds.

#include <herd/batch.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace herd::cli {

class progress_view {
public:
    /// `total` 0 when unknown (stdin). `node_names` label the shares.
    progress_view(std::FILE* out, std::size_t total, std::vector<std::string> node_names, std::size_t already_done = 0);
    void update(const progress& p);
    /// Ends the bar's line on a terminal.
    void finish();

private:
    std::string line(const progress& p) const;

    std::FILE* out_;
    bool tty_;
    std::size_t total_;
    std::size_t already_done_;
    std::vector<std::string> names_;
    double last_plain_ = -1;
    bool drawn_ = false;
};

} // namespace herd::cli
