#pragma once
// Opt-in discovery by scanning an address range for Ollama (port 11434),
// for networks where nobody knows every node's address. Off unless asked
// for (`herd embed --discover scan:10.0.0.0/24`): scanning a network that
// is not yours may be unwelcome.
//
// Each address is probed with GET /api/version (200 with a JSON "version")
// and then GET /api/tags (200 with a JSON "models" array) on a connection
// of its own; only a host answering both counts, so another service on the
// port is not taken for a node. At most `concurrency` hosts are probed at
// once, new probes start at most `per_second` a second, and each host gets
// `per_host_timeout` for the connect and both requests together. Nothing
// outside the range is contacted.

#include <herd/discovery/source.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace herd {

/// An address range "10.0.0.0/24", "fd00::/120"; a bare address is a range
/// of one.
struct cidr_range {
    ::asio::ip::address first; ///< the range's base (host bits cleared)
    unsigned prefix = 32;

    /// nullopt for text that is not ADDRESS[/PREFIX] with PREFIX in range.
    static std::optional<cidr_range> parse(std::string_view text);
    /// Addresses in the range (2^(bits - prefix), saturating at 2^63).
    std::uint64_t size() const noexcept;
    /// The i-th address of the range (i < size()).
    ::asio::ip::address at(std::uint64_t i) const;
    std::string str() const;
};

struct scan_options {
    std::uint16_t port = 11434;
    std::size_t concurrency = 32;   ///< hosts probed at once
    double per_second = 100;        ///< probes started per second, at most
    duration per_host_timeout = std::chrono::seconds(1); ///< connect + both requests
    std::uint64_t max_hosts = 4096; ///< a larger range is refused (a /20 of IPv4)
};

/// Probes every address of `range` (for IPv4 prefixes up to /30 the network
/// and broadcast addresses are skipped) and lists the Ollama servers found,
/// in address order. Fails (errc::protocol_error) for a range larger than
/// max_hosts; probes that time out or are refused are simply not hits.
/// Never throws; on cancellation every probe is stopped and the result
/// fails with operation_aborted.
awaitable<result<std::vector<found_node>>> scan(cidr_range range, scan_options options = {});

class scan_source final : public discovery_source {
public:
    /// `every`: scan again this often (zero: once).
    explicit scan_source(cidr_range range, scan_options options = {}, duration every = duration::zero());
    awaitable<result<std::vector<found_node>>> list() override { return scan(range_, options_); }
    duration interval() const override { return every_; }
    std::string describe() const override { return "scan:" + range_.str(); }

private:
    cidr_range range_;
    scan_options options_;
    duration every_;
};

} // namespace herd
