#include "sim/cluster.hpp"

#include "sim/control.hpp"
#include "sim/json_util.hpp"
#include "sim/node.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace herd::sim {

struct cluster::impl {
    // Destroyed in reverse: nodes and control (their sockets and timers)
    // go before the io_context they were made on.
    asio::io_context io{1};
    vector_cache cache;
    std::vector<std::unique_ptr<node>> nodes;
    std::unique_ptr<control_server> control;
    cluster_options options;
    std::thread thread;
    std::future<void> done; // ready when the thread's run() returned
    bool started = false, stopped = false;

    // Runs `f` on the simulator's thread and waits for it; directly when
    // that thread is not running (before start, after stop) or is us.
    template <typename F>
    auto on_thread(F&& f) {
        if (!thread.joinable() || io.get_executor().running_in_this_thread()) return f();
        std::packaged_task<decltype(f())()> task(std::forward<F>(f));
        auto result = task.get_future();
        asio::post(io, [&task] { task(); });
        return result.get();
    }
};

cluster::cluster(std::vector<node_profile> nodes, cluster_options options) : impl_(std::make_unique<impl>()) {
    impl_->options = options;
    std::vector<node*> raw;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        impl_->nodes.push_back(
            std::make_unique<node>(impl_->io, i, std::move(nodes[i]), options.time_scale, impl_->cache));
        raw.push_back(impl_->nodes.back().get());
    }
    impl_->control = std::make_unique<control_server>(impl_->io, std::move(raw));
}

cluster::~cluster() { stop(); }

void cluster::start() {
    auto& s = *impl_;
    if (s.started) return;
    s.started = true;
    try {
        for (auto& n : s.nodes) n->start();
        s.control->start(s.options.control_port);
    } catch (...) {
        // A port could not be bound: close what was opened and let the
        // accept loops already spawned see their closed listeners and end.
        s.control->shutdown();
        for (auto& n : s.nodes) n->shutdown();
        s.io.run();
        s.stopped = true;
        throw;
    }
    std::promise<void> finished;
    s.done = finished.get_future();
    s.thread = std::thread([&s, finished = std::move(finished)]() mutable {
        for (;;) {
            try {
                s.io.run();
                break;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "herd-sim: %s\n", e.what());
            }
        }
        finished.set_value();
    });
}

void cluster::stop() {
    auto& s = *impl_;
    if (s.stopped || !s.started) return;
    s.stopped = true;
    asio::post(s.io, [&s] {
        s.control->shutdown();
        for (auto& n : s.nodes) n->shutdown();
    });
    // Every socket and timer is closed above, so run() returns once the
    // coroutines unwind. The deadline only guards against a bug hanging here.
    if (s.done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
        std::fprintf(stderr, "herd-sim: shutdown did not drain in 5 s; stopping the loop\n");
        s.io.stop();
    }
    s.thread.join();
}

std::size_t cluster::size() const { return impl_->nodes.size(); }

std::string cluster::url(std::size_t i) const { return impl_->nodes.at(i)->url(); }

std::vector<std::string> cluster::urls() const {
    std::vector<std::string> out;
    for (auto& n : impl_->nodes) out.push_back(n->url());
    return out;
}

std::uint16_t cluster::port(std::size_t i) const { return impl_->nodes.at(i)->port(); }

void cluster::set_fault(std::size_t i, fault_spec f) {
    node& n = *impl_->nodes.at(i);
    impl_->on_thread([&n, &f] { n.set_fault(std::move(f)); });
}

fault_spec cluster::faults(std::size_t i) const {
    node& n = *impl_->nodes.at(i);
    return impl_->on_thread([&n] { return n.faults(); });
}

node_counters cluster::counters(std::size_t i) const { return impl_->nodes.at(i)->counters().snapshot(); }

void cluster::reset_counters(std::size_t i) { impl_->nodes.at(i)->counters().reset(); }

const node_profile& cluster::profile_of(std::size_t i) const { return impl_->nodes.at(i)->profile(); }

std::string cluster::control_url() const { return "http://127.0.0.1:" + std::to_string(control_port()); }

std::uint16_t cluster::control_port() const { return impl_->control->port(); }

cluster_config cluster_config_from_json(const nlohmann::json& j) {
    check_fields(j, {"nodes", "time_scale", "seed", "control_port"}, "config");
    cluster_config c;
    read_field(j, "time_scale", c.options.time_scale);
    read_field(j, "control_port", c.options.control_port);
    if (c.options.time_scale < 0) throw std::invalid_argument("config: time_scale must be >= 0");
    auto nodes = j.find("nodes");
    if (nodes == j.end() || !nodes->is_array() || nodes->empty())
        throw std::invalid_argument("config: \"nodes\" must be a non-empty array");
    std::uint64_t seed = 1;
    read_field(j, "seed", seed);
    for (std::size_t i = 0; i < nodes->size(); ++i) {
        const auto& spec = (*nodes)[i];
        try {
            auto p = profile_from_json(spec);
            if (!spec.contains("seed")) p.seed = seed;
            c.nodes.push_back(std::move(p));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("node " + std::to_string(i) + ": " + e.what());
        }
    }
    return c;
}

cluster_config load_cluster_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) throw std::invalid_argument(path + ": not valid JSON");
    return cluster_config_from_json(j);
}

std::unique_ptr<cluster> cluster_from_json(const nlohmann::json& j) {
    auto c = cluster_config_from_json(j);
    return std::make_unique<cluster>(std::move(c.nodes), c.options);
}

} // namespace herd::sim
