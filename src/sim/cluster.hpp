#pragma once
// A simulated Ollama cluster in-process: every node on its own loopback
// port, plus a control port, all served by ONE io_context on ONE internal
// thread. What tests, `herd demo` and the herd-sim program run.
//
//   herd::sim::cluster c({herd::sim::profile("gpu"), herd::sim::profile("cpu")});
//   c.start();                                  // ports bound when this returns
//   pool_config.nodes = c.urls();
//   c.set_fault(1, {.refuse = true});           // from any thread
//   CHECK(c.counters(0).inputs == 5000);

#include "sim/counters.hpp"
#include "sim/fault.hpp"
#include "sim/profile.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace herd::sim {

struct cluster_options {
    double time_scale = 1.0;        ///< multiplies every profile delay (not fault durations)
    std::uint16_t control_port = 0; ///< 0: a free port
};

class cluster {
public:
    explicit cluster(std::vector<node_profile> nodes, cluster_options options = {});
    ~cluster(); ///< stops
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    /// Binds every port (synchronously: urls() are valid when it returns)
    /// and runs the io_context on the internal thread. Throws
    /// std::system_error when a port cannot be bound.
    void start();
    /// Closes everything and joins the thread. Idempotent.
    void stop();

    std::size_t size() const;
    std::string url(std::size_t i) const; ///< "http://127.0.0.1:PORT"
    std::vector<std::string> urls() const;
    std::uint16_t port(std::size_t i) const;

    /// Replaces node i's faults (thread-safe; for new requests). refuse and
    /// die close the listener (die: open connections too); a spec without
    /// them re-listens on the same port.
    void set_fault(std::size_t i, fault_spec f);
    fault_spec faults(std::size_t i) const;        ///< thread-safe copy
    node_counters counters(std::size_t i) const;   ///< thread-safe snapshot
    void reset_counters(std::size_t i);            ///< zeroes totals; queue/active stay
    const node_profile& profile_of(std::size_t i) const;

    std::string control_url() const;               ///< "http://127.0.0.1:PORT" of /_sim/nodes
    std::uint16_t control_port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A whole config: `{"nodes": [{"profile": "gpu", "port": 0, ...overrides...,
/// "faults": {...}}], "time_scale": 1, "seed": 1, "control_port": 0}`. A
/// top-level seed is every node's seed unless the node gives its own.
struct cluster_config {
    std::vector<node_profile> nodes;
    cluster_options options;
};

/// Throws std::invalid_argument on a bad config.
cluster_config cluster_config_from_json(const nlohmann::json& j);
/// Reads a config file. Throws std::invalid_argument (bad JSON or fields)
/// or std::runtime_error (unreadable file).
cluster_config load_cluster_config(const std::string& path);
/// A cluster (not started) from config JSON.
std::unique_ptr<cluster> cluster_from_json(const nlohmann::json& j);

} // namespace herd::sim
