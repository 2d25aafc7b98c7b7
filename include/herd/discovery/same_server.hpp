#pragma once
// De-duplication: URLs that reach the same server become one node, so a
// machine is never counted twice (http://localhost:11434,
// http://127.0.0.1:11434 and http://<this machine's LAN address>:11434 are
// one Ollama).
//
// Two URLs are the same server when their hosts resolve (system resolver,
// first address) to the same address and their ports are equal, where every
// loopback address, the unspecified address and every address of this
// machine's own interfaces count as one address ("local"). An IPv4-mapped
// IPv6 address is its IPv4 address.

#include <herd/discovery/source.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

/// This machine's own interface addresses (getifaddrs); empty if unknown.
std::vector<::asio::ip::address> own_addresses();

/// The key of the server `url` reaches: "local:PORT", "ADDRESS:PORT", or
/// "NAME:PORT" for a name that does not resolve (so it matches only
/// itself); "" for a URL that does not parse. Never throws; a cancelled
/// resolution keys by name.
awaitable<std::string> server_key(std::string_view url);

/// `nodes` with only the first node of each server, order kept. Keys in
/// `taken` are dropped as well (e.g. nodes already in the pool); the keys
/// kept are added to it.
awaitable<std::vector<found_node>> one_per_server(std::vector<found_node> nodes, std::set<std::string>& taken);

} // namespace herd
