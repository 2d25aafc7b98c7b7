#pragma once
// Nodes from DNS: every A/AAAA address of a name (one node per address), or
// the SRV records of _ollama._tcp.NAME (hosts and ports), asked again every
// interval so a changed record set changes the pool.
//
//   herd::dns_source all{"ollama.lan", herd::dns_source::kind::addresses};
//   herd::dns_source srv{"lan", herd::dns_source::kind::srv};  // _ollama._tcp.lan
//
// Why a DNS client of its own instead of getaddrinfo/res_nquery: both block,
// so they need a thread and cannot be cancelled, while every other herd
// operation is an awaitable on one executor with a deadline; the standard
// getaddrinfo cannot ask for SRV records at all, and neither can be pointed
// at a server on another port (what a test with its own DNS server needs).
// A query is one UDP datagram with an EDNS0 buffer of 4096 bytes, so a few
// hundred records fit. Limits, on purpose: UDP only (a truncated answer is
// a failure, and the previous node list stays), no search domains (give a
// fully qualified name), /etc/hosts is not read (list such nodes in a nodes
// file).

#include <herd/discovery/source.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace herd {

struct dns_options {
    /// The server to ask; unset: the first `nameserver` in /etc/resolv.conf
    /// (127.0.0.1:53 when there is none).
    std::optional<::asio::ip::udp::endpoint> server;
    duration timeout = std::chrono::seconds(2); ///< per attempt
    int attempts = 2;
};

struct srv_target {
    std::string host;
    std::uint16_t port = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
};

/// The A and AAAA records of `name`, IPv4 first, in the server's order.
/// Fails on timeout, on an error answer (NXDOMAIN, SERVFAIL, ...) or a
/// truncated one; a name with no address records gives an empty list.
/// Never throws; honours Asio cancellation (fails with operation_aborted).
awaitable<result<std::vector<::asio::ip::address>>> dns_addresses(std::string name, dns_options options = {});

/// The SRV records of `name` (e.g. "_ollama._tcp.lan"), by priority, then
/// weight (higher first). Errors as dns_addresses.
awaitable<result<std::vector<srv_target>>> dns_srv(std::string name, dns_options options = {});

class dns_source final : public discovery_source {
public:
    enum class kind {
        addresses, ///< http://ADDRESS:port for each A/AAAA record of the name
        srv,       ///< _ollama._tcp.NAME (or NAME when it starts with '_'):
                   ///< http://ADDRESS:PORT for each address of each target
    };
    dns_source(std::string name, kind k, std::uint16_t port = 11434, dns_options options = {},
               duration every = std::chrono::seconds(30));
    /// A target whose own addresses cannot be resolved is listed by name
    /// (the system resolver may know it when herd connects).
    awaitable<result<std::vector<found_node>>> list() override;
    duration interval() const override { return every_; }
    std::string describe() const override;

private:
    std::string name_;
    kind kind_;
    std::uint16_t port_;
    dns_options options_;
    duration every_;
};

} // namespace herd
