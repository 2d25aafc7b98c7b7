#pragma once
// Test helpers for running a program (the herd tool) as a child process and
// reading the files it writes.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace herd::test {

struct process {
    pid_t pid = -1;
    int status = -1;

    /// Exit code (-1 when killed by a signal). Bounded: kills the process
    /// and fails the test if it outlives `limit`.
    int wait(std::chrono::seconds limit = std::chrono::seconds(60)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(10)); // polling a child, not synchronising logic
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        FAIL("the child process did not finish in time");
        return -1;
    }
};

/// Runs `exe` with `args`, stdin from /dev/null, stderr to `err_file`
/// (and stdout to `out_file` when given).
inline process start(const std::string& exe, std::vector<std::string> args, const std::string& err_file,
                     const std::string& out_file = {}) {
    args.insert(args.begin(), exe);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!out_file.empty())
        posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    process p;
    REQUIRE(posix_spawn(&p.pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    return p;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::size_t lines_in(const std::string& path) {
    auto text = slurp(path);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// A scratch directory, removed with everything in it at scope exit.
struct scratch {
    std::filesystem::path dir;
    static inline int made = 0; // several at once in one test
    explicit scratch(const std::string& prefix)
        : dir(std::filesystem::temp_directory_path() /
              (prefix + std::to_string(::getpid()) + "-" + std::to_string(made++))) {
        std::filesystem::create_directories(dir);
    }
    ~scratch() { std::filesystem::remove_all(dir); }
    std::string operator/(const char* name) const { return (dir / name).string(); }
    std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

} // namespace herd::test
