#pragma once
// A place nodes are found: a nodes file, DNS, a network scan. herd::discover
// (discover.hpp) asks its sources again and again and keeps a pool's
// membership in step with what they list.
//
//   auto src = herd::nodes_file_source("/etc/herd/nodes");
//   auto [fail, nodes] = co_await src.list();

#include <herd/async/completion.hpp>
#include <herd/async/stats.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herd {

/// A node a source lists: its URL and the settings a nodes file may give it
/// (unset: the pool's own, see pool::node_defaults()).
struct found_node {
    std::string url;
    std::optional<std::size_t> connections;    ///< pipelined connections to it
    std::optional<std::size_t> pipeline_depth; ///< requests in flight per connection
    std::optional<double> max_concurrency;     ///< its limiter's upper bound
    bool operator==(const found_node&) const = default;
};

class discovery_source {
public:
    virtual ~discovery_source() = default;
    /// The nodes there now. A failure (unreadable file, DNS timeout) says
    /// nothing about the nodes: the caller keeps what it had. Never throws;
    /// honours Asio cancellation (then fails with operation_aborted).
    virtual awaitable<result<std::vector<found_node>>> list() = 0;
    /// How often list() is worth calling again (zero: once is enough).
    virtual duration interval() const = 0;
    /// "file:/etc/herd/nodes" and the like, for messages.
    virtual std::string describe() const = 0;
};

} // namespace herd
