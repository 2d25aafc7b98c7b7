// Soak (issue 14): the library embeds corpus after corpus for a given time
// against three herd-sim nodes whose faults change every few seconds (a
// node dies and comes back, answers 500s, hangs, drips its answers, sends
// the wrong number of vectors); at most two nodes are faulty at once. Every
// second it samples the process: resident set, open file descriptors,
// sockets among them, and requests in flight on the pool's nodes. At the
// end it prints the first window's averages against the last window's
// (windows of one minute, or a quarter of the run when shorter) and the
// totals: inputs asked, embedded, lost (in a batch that failed), duplicated
// or missing rows, and wrong vectors. Exits 1 when any is lost, duplicated
// or wrong.
//
//   bench_soak [--seconds 600] [--batch 400] [--fault-seconds 3] [--seed 1]
//
// The herd-sim nodes run in this process (their own thread), so the
// sampled memory is the client's plus the simulator's.
#include <herd/herd.hpp>
#include <herd/sim/embedding_rule.hpp>

#include "sim/cluster.hpp"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

namespace {

using namespace herd;
using steady = std::chrono::steady_clock;

struct sample {
    double t;             // seconds since start
    double rss_mib;
    std::size_t fds, sockets, in_flight;
};

double rss_mib() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void count_fds(std::size_t& fds, std::size_t& sockets) {
    fds = sockets = 0;
    for (auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        ++fds;
        std::error_code ec;
        auto target = std::filesystem::read_symlink(e.path(), ec);
        if (!ec && target.string().rfind("socket:", 0) == 0) ++sockets;
    }
}

// The faults a node cycles through; `none` keeps it healthy.
sim::fault_spec fault_of_kind(int kind) {
    using secs = sim::fault_spec::seconds;
    switch (kind) {
    case 1: return {.die_after = 20, .come_back_after = secs(1.5)};
    case 2: return {.error_rate = 0.3};
    case 3: return {.hang = true};
    case 4: return {.slow_drip_bytes = 512, .slow_drip_interval = secs(0.002)};
    case 5: return {.wrong_count = 1};
    case 6: return {.refuse = true, .come_back_after = secs(2)};
    default: return {};
    }
}
const char* kind_name(int kind) {
    static const char* names[] = {"healthy", "dies", "500s", "hangs", "drips", "wrong count", "refuses"};
    return names[kind];
}

struct args {
    double seconds = 600;
    std::size_t batch = 400;
    double fault_seconds = 3;
    unsigned seed = 1;
};

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view k = argv[i];
        if (k == "--seconds") a.seconds = std::stod(argv[i + 1]);
        else if (k == "--batch") a.batch = std::stoul(argv[i + 1]);
        else if (k == "--fault-seconds") a.fault_seconds = std::stod(argv[i + 1]);
        else if (k == "--seed") a.seed = static_cast<unsigned>(std::stoul(argv[i + 1]));
        else throw std::invalid_argument("unknown option " + std::string(k));
    }
    return a;
}

struct totals {
    std::uint64_t asked = 0, embedded = 0, lost = 0, duplicated = 0, wrong = 0, failed_batches = 0, batches = 0;
};

constexpr std::size_t dim = 384; // all-minilm on herd-sim

} // namespace

int main(int argc, char** argv) try {
    auto a = parse(argc, argv);
    sim::cluster nodes({sim::profile("zero"), sim::profile("zero"), sim::profile("zero")});
    nodes.start();
    asio::io_context io;
    pool_config cfg;
    cfg.nodes = nodes.urls();
    cfg.model = "all-minilm";
    // Short attempt and call deadlines so that a hung node costs seconds,
    // not the default minutes, within a soak.
    cfg.request_timeout = std::chrono::seconds(2);
    cfg.first_load_timeout = std::chrono::seconds(2);
    cfg.call_timeout = std::chrono::seconds(60);
    auto p = std::make_unique<pool>(io.get_executor(), cfg);

    auto start = steady::now();
    auto end = start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(a.seconds));
    std::atomic<bool> done{false};

    // Faults change on their own thread (cluster::set_fault is thread-safe).
    std::thread faults([&] {
        std::mt19937 rng(a.seed);
        std::vector<int> kind(nodes.size(), 0);
        while (!done) {
            std::size_t healthy = 0;
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                kind[i] = static_cast<int>(rng() % 7);
                if (healthy == 0 && i + 1 == nodes.size()) kind[i] = 0; // one node always healthy
                if (kind[i] == 0) ++healthy;
                nodes.set_fault(i, fault_of_kind(kind[i]));
            }
            fmt::print("  {:6.1f} s faults: {} / {} / {}\n", std::chrono::duration<double>(steady::now() - start).count(),
                       kind_name(kind[0]), kind_name(kind[1]), kind_name(kind[2]));
            auto until = steady::now() + std::chrono::duration_cast<steady::duration>(
                                             std::chrono::duration<double>(a.fault_seconds));
            while (!done && steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        for (std::size_t i = 0; i < nodes.size(); ++i) nodes.set_fault(i, {});
    });

    std::vector<sample> samples;
    totals sum;
    asio::steady_timer sampler(io);
    std::function<void()> take_sample = [&] {
        sample s{std::chrono::duration<double>(steady::now() - start).count(), rss_mib(), 0, 0, 0};
        count_fds(s.fds, s.sockets);
        for (auto& n : p->stats().nodes) s.in_flight += n.in_flight;
        samples.push_back(s);
        if (done) return;
        sampler.expires_after(std::chrono::seconds(1));
        sampler.async_wait([&](std::error_code ec) {
            if (!ec) take_sample();
        });
    };
    take_sample();

    // A named lambda: it must outlive the coroutine it starts.
    auto work = [&]() -> awaitable<void> {
        batch_options options;
        for (std::uint64_t round = 0; steady::now() < end; ++round) {
            std::vector<std::string> texts;
            for (std::size_t i = 0; i < a.batch; ++i) texts.push_back(fmt::format("soak {} text {}", round, i));
            std::vector<std::string_view> views(texts.begin(), texts.end());
            sum.asked += texts.size();
            ++sum.batches;
            auto [ec, m] = co_await p->async_embed_batch(views, options, compat::use_nothrow);
            if (ec) {
                ++sum.failed_batches;
                sum.lost += texts.size();
                fmt::print("  batch {} failed: {}\n", round, ec.message());
                continue;
            }
            if (m.rows() > texts.size()) sum.duplicated += m.rows() - texts.size();
            if (m.rows() < texts.size()) sum.lost += texts.size() - m.rows();
            for (std::size_t i = 0; i < std::min(m.rows(), texts.size()); ++i) {
                auto row = m.row(i);
                if (sim::matches_rule("all-minilm", texts[i], row.data(), row.size(), dim)) ++sum.embedded;
                else ++sum.wrong;
            }
        }
        done = true;
        sampler.cancel();
        take_sample();
        p.reset();
        io.stop();
    };
    asio::co_spawn(io, work(), asio::detached);
    io.run();
    done = true;
    faults.join();

    // First and last window: a minute, or a quarter of a shorter run.
    double window = std::min(60.0, a.seconds / 4);
    auto average = [&](double from, double to) {
        sample avg{0, 0, 0, 0, 0};
        std::size_t n = 0;
        std::size_t fds = 0, sockets = 0;
        for (auto& s : samples)
            if (s.t >= from && s.t < to) {
                avg.rss_mib += s.rss_mib;
                fds += s.fds;
                sockets += s.sockets;
                ++n;
            }
        if (n) {
            avg.rss_mib /= static_cast<double>(n);
            avg.fds = fds / n;
            avg.sockets = sockets / n;
        }
        return avg;
    };
    double last_t = samples.empty() ? 0 : samples.back().t;
    auto first = average(0, window), last = average(last_t - window, last_t + 1);
    std::size_t peak_in_flight = 0;
    for (auto& s : samples) peak_in_flight = std::max(peak_in_flight, s.in_flight);
    fmt::print("\nsoak: {:.0f} s, {} batches of {} texts, faults changing every {} s\n", last_t, sum.batches, a.batch,
               a.fault_seconds);
    fmt::print("  {:<22} {:>12} {:>12}\n", "", fmt::format("first {:.0f} s", window), fmt::format("last {:.0f} s", window));
    fmt::print("  {:<22} {:>12.1f} {:>12.1f}  ({:+.1f}%)\n", "RSS MiB", first.rss_mib, last.rss_mib,
               first.rss_mib > 0 ? 100 * (last.rss_mib - first.rss_mib) / first.rss_mib : 0);
    fmt::print("  {:<22} {:>12} {:>12}\n", "open fds", first.fds, last.fds);
    fmt::print("  {:<22} {:>12} {:>12}\n", "sockets", first.sockets, last.sockets);
    fmt::print("  peak requests in flight {}\n", peak_in_flight);
    fmt::print("  inputs {}  embedded right {}  lost {}  duplicated {}  wrong {}  failed batches {}\n", sum.asked,
               sum.embedded, sum.lost, sum.duplicated, sum.wrong, sum.failed_batches);
    return sum.lost || sum.duplicated || sum.wrong ? 1 : 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "bench_soak: {}\n", e.what());
    return 2;
}
