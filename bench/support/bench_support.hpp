#pragma once
// Shared helpers of herd's benchmark programs (bench/): which nodes to run
// against, running a coroutine on an io_context with a bound, a bounded
// load loop over many coroutines, percentiles, child processes (herd-sim,
// wrk) and CPU time.
//
// Nodes: HERD_BENCH_NODES (comma or space separated URLs) and
// HERD_BENCH_MODEL select live nodes; otherwise the program starts herd-sim
// nodes itself (in-process: the simulator runs on its own thread; or as a
// separate process with sim_process).

#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if HERD_BENCH_HAVE_SIM
#include "sim/cluster.hpp"
#endif

extern char** environ;

namespace herd::bench {

// ---------------------------------------------------------------- environment

inline std::string env_string(const char* name, std::string fallback = {}) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

inline std::size_t env_size(const char* name, std::size_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
}

inline double env_double(const char* name, double fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return std::strtod(v, nullptr);
}

/// HERD_BENCH_SMOKE=1: tiny sizes (ctest smoke runs).
inline bool smoke() { return env_size("HERD_BENCH_SMOKE", 0) != 0; }

/// Live nodes from HERD_BENCH_NODES (empty: use herd-sim).
inline std::vector<std::string> live_nodes() {
    return pool_config::parse_node_list(env_string("HERD_BENCH_NODES"));
}

/// Model to embed with: HERD_BENCH_MODEL, else mxbai-embed-large (1024 dims
/// on herd-sim).
inline std::string bench_model() { return env_string("HERD_BENCH_MODEL", "mxbai-embed-large"); }

/// `--name value` flags and bare `--flag`s of a scenario program.
class options {
public:
    options(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + a);
            a.erase(0, 2);
            if (auto eq = a.find('='); eq != std::string::npos) values_.emplace_back(a.substr(0, eq), a.substr(eq + 1));
            else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) values_.emplace_back(a, argv[++i]);
            else values_.emplace_back(a, "1");
        }
        if (flag("smoke")) setenv("HERD_BENCH_SMOKE", "1", 1);
    }
    bool flag(std::string_view name) const { return find(name) != nullptr; }
    std::string str(std::string_view name, std::string fallback) const {
        auto* v = find(name);
        return v ? *v : fallback;
    }
    double num(std::string_view name, double fallback) const {
        auto* v = find(name);
        return v ? std::stod(*v) : fallback;
    }
    std::size_t size(std::string_view name, std::size_t fallback) const {
        auto* v = find(name);
        return v ? static_cast<std::size_t>(std::stoull(*v)) : fallback;
    }
    /// "1,16,64" as numbers.
    std::vector<std::size_t> sizes(std::string_view name, std::string fallback) const {
        std::vector<std::size_t> out;
        std::string s = str(name, fallback);
        for (std::size_t at = 0; at < s.size();) {
            auto comma = s.find(',', at);
            if (comma == std::string::npos) comma = s.size();
            if (comma > at) out.push_back(static_cast<std::size_t>(std::stoull(s.substr(at, comma - at))));
            at = comma + 1;
        }
        return out;
    }

private:
    const std::string* find(std::string_view name) const {
        for (auto it = values_.rbegin(); it != values_.rend(); ++it)
            if (it->first == name) return &it->second;
        return nullptr;
    }
    std::vector<std::pair<std::string, std::string>> values_;
};

// ---------------------------------------------------------------- texts

/// A deterministic text of about `len` bytes, distinct for each i.
inline std::string text_for(std::size_t i, std::size_t len = 100) {
    static constexpr std::string_view filler =
        "llamas graze on the high plains of the andes and carry loads for the people who keep them; ";
    std::string s = "text " + std::to_string(i) + ": ";
    while (s.size() < len) s.append(filler.substr(0, std::min(filler.size(), len - s.size())));
    return s;
}

inline std::vector<std::string> corpus(std::size_t n, std::size_t len = 100, std::size_t first = 0) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(text_for(first + i, len));
    return out;
}

// ---------------------------------------------------------------- statistics

/// Nearest-rank quantile (q in 0..1) of `v` (copied and sorted); 0 if empty.
inline double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(k, v.size() - 1)];
}

inline double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

/// CPU seconds (user + system) this process has used so far.
inline double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// CPU seconds of the calling thread only (excludes an in-process herd-sim).
inline double thread_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// The 1-minute load average (from /proc/loadavg), for noise notes.
inline double load_average() {
    std::ifstream in("/proc/loadavg");
    double l = 0;
    in >> l;
    return l;
}

// ---------------------------------------------------------------- running

/// Runs `a` on `io` until it finishes, then stops the io_context (a pool's
/// idle keep-alive connections would keep run() busy). Throws when it did
/// not finish within `limit`; rethrows what the coroutine threw.
template <typename T>
T run(::asio::io_context& io, awaitable<T> a, std::chrono::seconds limit = std::chrono::seconds(300)) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    ::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) value.emplace(std::move(v));
        done = true;
        io.stop();
    });
    io.restart();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(200));
    if (!done) throw std::runtime_error("benchmark step did not finish within its time limit");
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

inline void run(::asio::io_context& io, awaitable<void> a, std::chrono::seconds limit = std::chrono::seconds(300)) {
    run(io, [](awaitable<void> inner) -> awaitable<bool> {
        co_await std::move(inner);
        co_return true;
    }(std::move(a)), limit);
}

/// Outcome of a load loop.
struct load_result {
    std::size_t calls = 0;      ///< calls that returned
    std::size_t failed = 0;     ///< calls that threw
    std::size_t embeddings = 0; ///< vectors received
    std::size_t floats = 0;     ///< values received
    double seconds = 0;         ///< wall time of the loop
    std::vector<double> latencies; ///< seconds per successful call
    std::string first_error;

    double rate() const { return seconds > 0 ? static_cast<double>(embeddings) / seconds : 0; }
    double call_rate() const { return seconds > 0 ? static_cast<double>(calls - failed) / seconds : 0; }
};

/// What one call of a load loop returns: vectors and values received.
struct call_result {
    std::size_t embeddings = 0;
    std::size_t floats = 0;
};

/// `total` calls of `call(i)` (i = 0..total-1) from `workers` concurrent
/// coroutines, stopping early once `time_limit` has passed. `call` returns
/// awaitable<call_result>; an exception counts as a failed call.
template <typename Call>
awaitable<load_result> drive(std::size_t total, std::size_t workers, duration time_limit, Call call,
                             bool record_latency = true) {
    auto ex = co_await ::asio::this_coro::executor;
    load_result r;
    if (record_latency) r.latencies.reserve(std::min<std::size_t>(total, 1 << 20));
    std::size_t next = 0;
    auto started = clock::now();
    auto deadline = started + time_limit;
    task_group g(ex);
    for (std::size_t w = 0; w < std::max<std::size_t>(workers, 1); ++w)
        g.spawn([](Call& c, std::size_t& n, std::size_t total, time_point deadline, load_result& out,
                   bool lat) -> awaitable<void> {
            while (n < total && clock::now() < deadline) {
                std::size_t i = n++;
                auto t0 = clock::now();
                try {
                    call_result got = co_await c(i);
                    out.embeddings += got.embeddings;
                    out.floats += got.floats;
                    if (lat) out.latencies.push_back(seconds(clock::now() - t0));
                } catch (const std::exception& e) {
                    if (out.first_error.empty()) out.first_error = e.what();
                    ++out.failed;
                }
                ++out.calls;
            }
        }(call, next, total, deadline, r, record_latency));
    co_await g.join();
    r.seconds = seconds(clock::now() - started);
    co_return r;
}

// ---------------------------------------------------------------- processes

/// Output and resource use of a finished child process.
struct child_result {
    std::string output;  ///< stdout and stderr together
    int status = -1;     ///< exit code, or -signal
    double cpu_seconds = 0; ///< user + system of the child
};

/// Runs argv[0] (PATH searched) with its output captured; waits for it.
inline child_result run_child(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    child_result out;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) out.output.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR) break;
    }
    close(fds[0]);
    int status = 0;
    rusage u{};
    while (wait4(pid, &status, 0, &u) < 0 && errno == EINTR) {}
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    out.cpu_seconds = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                      static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    return out;
}

/// The herd-sim executable: $HERD_SIM, else the one built with the project.
inline std::string herd_sim_path() {
#ifdef HERD_SIM_EXE
    return env_string("HERD_SIM", HERD_SIM_EXE);
#else
    return env_string("HERD_SIM", "herd-sim");
#endif
}

/// herd-sim as a separate process (its own CPU, as a real node would be),
/// stopped with SIGTERM when this object goes.
class sim_process {
public:
    /// `args`: herd-sim options such as {"--node", "zero"}; --ports-file is
    /// added. Waits (at most 10 s) until the nodes listen.
    explicit sim_process(std::vector<std::string> args) {
        char dir_template[] = "/tmp/herd-bench-XXXXXX";
        if (!mkdtemp(dir_template)) throw std::runtime_error("mkdtemp failed");
        dir_ = dir_template;
        std::string ports = dir_ + "/ports";
        std::vector<std::string> argv{herd_sim_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--ports-file");
        argv.push_back(ports);
        std::vector<char*> raw;
        for (auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
        raw.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        int rc = posix_spawnp(&pid_, raw[0], &fa, nullptr, raw.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(ports);
            if (in) {
                for (std::string line; std::getline(in, line);)
                    if (!line.empty()) urls_.push_back(line);
                if (!urls_.empty()) return;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("herd-sim exited at start (" + argv[0] + ")");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        throw std::runtime_error("herd-sim did not write its ports file within 10 s");
    }
    sim_process(const sim_process&) = delete;
    sim_process& operator=(const sim_process&) = delete;
    ~sim_process() { stop(); }

    const std::vector<std::string>& urls() const noexcept { return urls_; }
    pid_t pid() const noexcept { return pid_; }

    /// CPU seconds the herd-sim process has used so far (/proc/PID/stat).
    double cpu_seconds() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
        std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close_paren = s.rfind(')');
        if (close_paren == std::string::npos) return 0;
        std::vector<std::string> fields;
        std::string cur;
        for (std::size_t i = close_paren + 2; i < s.size(); ++i) {
            if (s[i] == ' ') {
                fields.push_back(cur);
                cur.clear();
            } else {
                cur += s[i];
            }
        }
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        if (fields.size() < 13) return 0;
        double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
    }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
            pid_ = -1;
        }
        if (!dir_.empty()) {
            std::remove((dir_ + "/ports").c_str());
            rmdir(dir_.c_str());
            dir_.clear();
        }
    }

private:
    pid_t pid_ = -1;
    std::string dir_;
    std::vector<std::string> urls_;
};

#if HERD_BENCH_HAVE_SIM
/// Nodes a benchmark runs against: live ones (HERD_BENCH_NODES) or an
/// in-process herd-sim cluster of `profiles`.
struct node_set {
    std::unique_ptr<sim::cluster> sim;
    std::vector<std::string> urls;
    std::string model;
    bool live() const noexcept { return !sim; }

    /// Bytes the simulated nodes have written so far (0 for live nodes).
    std::uint64_t bytes_out() const {
        std::uint64_t b = 0;
        if (sim)
            for (std::size_t i = 0; i < sim->size(); ++i) b += sim->counters(i).bytes_out;
        return b;
    }
};

inline node_set start_nodes(std::vector<sim::node_profile> profiles, double time_scale = 1.0) {
    node_set s;
    s.model = bench_model();
    s.urls = live_nodes();
    if (!s.urls.empty()) return s;
    s.sim = std::make_unique<sim::cluster>(std::move(profiles), sim::cluster_options{.time_scale = time_scale});
    s.sim->start();
    s.urls = s.sim->urls();
    return s;
}

inline std::vector<sim::node_profile> profiles(std::initializer_list<const char*> names) {
    std::vector<sim::node_profile> out;
    for (auto n : names) out.push_back(sim::profile(n));
    return out;
}
#endif

/// A pool config for benchmarks: `urls`, `model`, and a concurrency limit
/// pinned to `limit` requests per node when limit > 0 (no AIMD), so a run
/// measures the client at a known load.
inline pool_config bench_config(std::vector<std::string> urls, std::string model, bool coalesce,
                                std::size_t limit = 0) {
    pool_config cfg;
    cfg.nodes = std::move(urls);
    cfg.model = std::move(model);
    cfg.coalesce = coalesce;
    if (limit > 0) {
        auto l = static_cast<double>(limit);
        cfg.limiter.initial_limit = cfg.limiter.min_limit = cfg.limiter.max_limit = l;
        cfg.connections_per_node = limit;
        cfg.pipeline_depth = 1;
    }
    return cfg;
}

/// HTTP requests the pool's nodes made (pool_stats::calls counts only
/// single-request calls, not the batch engine's micro-batches).
inline std::uint64_t node_requests(const pool_stats& s) {
    std::uint64_t n = 0;
    for (auto& ns : s.nodes) n += ns.requests;
    return n;
}

/// Fails loudly: a benchmark whose calls failed measures nothing.
inline void require_clean(const load_result& r, const char* what) {
    if (r.failed > 0)
        throw std::runtime_error(std::string(what) + ": " + std::to_string(r.failed) + " of " +
                                 std::to_string(r.calls) + " calls failed; first: " + r.first_error);
}

} // namespace herd::bench
