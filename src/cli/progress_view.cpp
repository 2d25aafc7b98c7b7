#include "cli/progress_view.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace herd::cli {

progress_view::progress_view(std::FILE* out, std::size_t total, std::vector<std::string> node_names,
                             std::size_t already_done)
    : out_(out), tty_(isatty(fileno(out)) != 0), total_(total), already_done_(already_done),
      names_(std::move(node_names)) {}

std::string progress_view::line(const progress& p) const {
    std::size_t done = already_done_ + p.done;
    std::string s;
    if (total_ > 0) {
        double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
        int filled = static_cast<int>(frac * 24);
        s = fmt::format("[{}{}] {:5.1f}% {}/{}", std::string(filled, '#'), std::string(24 - filled, '.'), frac * 100,
                        done, total_);
        if (p.rate > 0 && done < total_)
            s += fmt::format(" eta {:.0f}s", static_cast<double>(total_ - done) / p.rate);
    } else {
        s = fmt::format("{} done", done);
    }
    s += fmt::format(" {:.0f}/s", p.rate);
    std::size_t sum = 0;
    for (auto n : p.per_node) sum += n;
    if (sum > 0) {
        s += " |";
        for (std::size_t i = 0; i < p.per_node.size() && i < names_.size(); ++i)
            s += fmt::format(" {} {:.0f}%", names_[i], 100.0 * static_cast<double>(p.per_node[i]) / static_cast<double>(sum));
    }
    if (p.retries) s += fmt::format(" retries {}", p.retries);
    return s;
}

void progress_view::update(const progress& p) {
    if (tty_) {
        fmt::print(out_, "\r{}\x1b[K", line(p));
        std::fflush(out_);
        drawn_ = true;
    } else if (last_plain_ < 0 || p.seconds - last_plain_ >= 2.0) {
        fmt::print(out_, "progress: {}\n", line(p));
        std::fflush(out_);
        last_plain_ = p.seconds;
    }
}

void progress_view::finish() {
    if (tty_ && drawn_) fmt::print(out_, "\n");
}

} // namespace herd::cli
