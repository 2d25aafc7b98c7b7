#pragma once
// herd::discover: a pool whose nodes follow their sources while it runs.
//
//   auto d = co_await herd::discover(pool, {"file:/etc/herd/nodes", "srv:lan"});
//   // d->added(): the nodes it put in the pool; it keeps watching until d dies
//
// Sources (one string each, as `herd embed --discover` takes them):
//   file:PATH        a nodes file, re-read when it changes (discovery/nodes_file.hpp)
//   dns:NAME[:PORT]  one node per A/AAAA address of NAME (port 11434 by default)
//   srv:NAME         the SRV records of _ollama._tcp.NAME (discovery/dns.hpp)
//   scan:CIDR        an opt-in scan for Ollama on port 11434, once (discovery/scan.hpp)
//
// Each round asks every source that is due, merges their lists in source
// order, keeps one node per server (discovery/same_server.hpp; nodes the
// pool had from elsewhere count as taken) and changes the pool through live
// membership: nodes listed and missing are added, nodes this discovery
// added and no longer listed are removed. Nodes it did not add are never
// removed. A source that fails keeps its previous list (a DNS timeout or a
// half-written file does not empty the pool). A node whose settings change
// in a nodes file is removed and added again.
//
// Threading: the pool's executor. The pool must outlive the discovery.

#include <herd/discovery/dns.hpp>
#include <herd/discovery/scan.hpp>
#include <herd/discovery/source.hpp>
#include <herd/pool.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

struct discover_options {
    duration file_poll = std::chrono::seconds(2);     ///< file: how often the file is looked at
    duration dns_interval = std::chrono::seconds(30); ///< dns:, srv: how often names are resolved again
    dns_options dns{};
    scan_options scan{};
    /// Told each node added or removed and each source failure, one line
    /// each (for logs); may be empty. Never given a URL's credentials
    /// beyond what the source listed.
    std::function<void(const std::string&)> on_event;
};

/// A source from its spec (see the header). Throws std::invalid_argument for
/// an unknown kind, an empty name or path, or a CIDR or port that does not
/// parse.
std::unique_ptr<discovery_source> make_source(std::string_view spec, const discover_options& options = {});

class discovery {
public:
    discovery(pool& p, std::vector<std::unique_ptr<discovery_source>> sources, discover_options options = {});
    ~discovery(); ///< stops watching (see stop())
    discovery(const discovery&) = delete;
    discovery& operator=(const discovery&) = delete;

    /// One round now, every source asked whether due or not. Returns each
    /// failing source's failure (its previous list was kept). Never throws;
    /// cancellation stops the round (sources not yet asked keep their lists).
    awaitable<std::vector<failure>> refresh();
    /// Asks each source again every interval() in the background until
    /// stop(). Does nothing when no source has an interval.
    void start();
    /// Stops the background rounds (a round in progress is cancelled). The
    /// nodes stay in the pool. Idempotent.
    void stop();
    /// URLs of the nodes this discovery has in the pool now.
    std::vector<std::string> added() const;

    struct state;

private:
    std::shared_ptr<state> s_;
};

/// Makes a source of each spec, runs a first round (so the pool has the
/// nodes when it returns) and watches in the background. Throws
/// std::invalid_argument for a bad spec (before any I/O). Source failures of
/// the first round go to options.on_event; the pool may still be empty.
awaitable<std::unique_ptr<discovery>> discover(pool& p, std::vector<std::string> specs, discover_options options = {});

} // namespace herd
