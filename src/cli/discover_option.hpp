#pragma once
// --discover SOURCE (repeatable) and its settings, for every command that
// runs a pool (herd embed; herd serve can use the same). See discover.hpp.
//
//   --discover file:PATH | dns:NAME[:PORT] | srv:NAME | scan:CIDR
//   --dns-server ADDRESS[:PORT]   ask this server (default: /etc/resolv.conf)
//   --scan-concurrency N (32)  --scan-rate PER_SECOND (100)  --scan-timeout SECONDS (1)

#include "cli/args.hpp"

#include <herd/discover.hpp>

#include <memory>
#include <string>
#include <vector>

namespace herd::cli {

/// The option names above, for args::allow_only.
std::vector<std::string> discover_option_names();

/// True when --discover was given: the pool then starts with --nodes only
/// (not HERD_NODES / OLLAMA_HOST's default).
bool wants_discovery(const args& a);

/// Starts discovery on `p` when --discover was given (else nullptr): runs
/// `io` until the first round is done, so the pool has its nodes, and
/// keeps watching while `io` runs. Node changes and source failures go to
/// stderr unless `quiet`. Throws std::invalid_argument for a bad option.
std::unique_ptr<discovery> start_discovery(::asio::io_context& io, pool& p, const args& a, bool quiet);

} // namespace herd::cli
