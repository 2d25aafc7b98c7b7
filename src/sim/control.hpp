#pragma once
// The /_sim/ control endpoints. On the cluster's control port:
//   GET  /_sim/nodes              [{index, url, listening, profile, faults, counters}]
//   GET  /_sim/nodes/{i}          one of them
//   POST /_sim/nodes/{i}/fault    body: a fault spec; replaces the node's faults ({} clears)
//   POST /_sim/nodes/{i}/reset    zeroes the node's counters
// On each node's own port (while it listens):
//   GET  /_sim/counters, GET /_sim/node, GET|POST /_sim/fault

#include "sim/node.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herd::sim {

struct control_answer {
    int status = 200;
    std::string body; ///< JSON
};

/// /_sim/ requests that arrive on a node's own port.
control_answer node_control(node& n, std::string_view method, std::string_view path, std::string_view body);

/// The cluster's control listener, on the simulator's thread.
class control_server {
public:
    control_server(asio::io_context& io, std::vector<node*> nodes);
    /// Binds 127.0.0.1:`port` (0 = a free port). Throws system_error.
    void start(std::uint16_t port);
    void shutdown();
    std::uint16_t port() const noexcept { return port_; }

    /// Answers one control request (exposed for tests of the routing).
    control_answer answer(std::string_view method, std::string_view path, std::string_view body);

private:
    awaitable<void> serve(std::shared_ptr<session> s);

    asio::io_context& io_;
    std::vector<node*> nodes_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    session_set sessions_;
    bool stopped_ = false;
};

} // namespace herd::sim
