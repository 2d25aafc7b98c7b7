// herd-sim: serves simulated Ollama nodes on loopback ports until SIGINT or
// SIGTERM. See README.md ("herd-sim") for the config format.

#include "sim/cluster.hpp"
#include "sim/session.hpp"

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* usage =
    "usage: herd-sim (--config FILE | --node PROFILE [--node PROFILE ...])\n"
    "                [--port-base N] [--ports-file FILE] [--control-port N]\n"
    "                [--time-scale X] [--seed S] [--listen ADDRESS]\n"
    "Ports default to free ones; --port-base N gives node i port N+i.\n";

void print_usage(std::FILE* to) {
    std::fputs(usage, to);
    std::fprintf(to, "profiles: %.*s\n", static_cast<int>(herd::sim::profile_names().size()),
                 herd::sim::profile_names().data());
}

struct args {
    std::optional<std::string> config;
    std::vector<std::string> profiles;
    std::optional<std::uint16_t> port_base, control_port;
    std::optional<std::string> ports_file;
    std::optional<double> time_scale;
    std::optional<std::uint64_t> seed;
};

template <typename T>
T number(std::string_view flag, std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        throw std::invalid_argument(std::string(flag) + ": not a number: " + std::string(text));
    return value;
}

args parse_args(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view flag = argv[i];
        if (flag == "-h" || flag == "--help") {
            print_usage(stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
        std::string_view value = argv[++i];
        if (flag == "--config") a.config = std::string(value);
        else if (flag == "--node") a.profiles.emplace_back(value);
        else if (flag == "--port-base") a.port_base = number<std::uint16_t>(flag, value);
        else if (flag == "--ports-file") a.ports_file = std::string(value);
        else if (flag == "--control-port") a.control_port = number<std::uint16_t>(flag, value);
        else if (flag == "--time-scale") a.time_scale = number<double>(flag, value);
        else if (flag == "--seed") a.seed = number<std::uint64_t>(flag, value);
        else if (flag == "--listen") herd::sim::set_listen_address(std::string(value)); // default 127.0.0.1
        else throw std::invalid_argument("unknown option " + std::string(flag));
    }
    if (a.config.has_value() == !a.profiles.empty())
        throw std::invalid_argument("give either --config or at least one --node");
    return a;
}

herd::sim::cluster_config make_config(const args& a) {
    herd::sim::cluster_config c;
    if (a.config) {
        c = herd::sim::load_cluster_config(*a.config);
    } else {
        for (const auto& name : a.profiles) c.nodes.push_back(herd::sim::profile(name));
    }
    for (std::size_t i = 0; i < c.nodes.size(); ++i) {
        if (a.port_base) c.nodes[i].port = static_cast<std::uint16_t>(*a.port_base + i);
        if (a.seed) c.nodes[i].seed = *a.seed;
    }
    if (a.time_scale) c.options.time_scale = *a.time_scale;
    if (a.control_port) c.options.control_port = *a.control_port;
    return c;
}

// Written whole under a temporary name, then renamed: a script polling for
// the file never reads half of it.
void write_ports_file(const std::string& path, const std::vector<std::string>& urls) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const auto& u : urls) out << u << '\n';
        if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

} // namespace

int main(int argc, char** argv) {
    try {
        auto a = parse_args(argc, argv);
        auto config = make_config(a);
        std::vector<std::string> names;
        for (const auto& p : config.nodes) names.push_back(p.name);
        herd::sim::cluster sim(std::move(config.nodes), config.options);
        sim.start();
        for (std::size_t i = 0; i < sim.size(); ++i) std::printf("node %zu %s %s\n", i, names[i].c_str(), sim.url(i).c_str());
        std::printf("control %s\n", sim.control_url().c_str());
        std::fflush(stdout);
        if (a.ports_file) write_ports_file(*a.ports_file, sim.urls());

        asio::io_context signals_io;
        asio::signal_set signals(signals_io, SIGINT, SIGTERM);
        signals.async_wait([](std::error_code, int) {});
        signals_io.run();
        sim.stop();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "herd-sim: %s\n", e.what());
        print_usage(stderr);
        return 2;
    }
}
