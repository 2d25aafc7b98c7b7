#pragma once
// The options every herd command that talks to nodes shares: which nodes,
// which model, and how to reach them (TLS CA, extra headers such as a
// token). One place, so `embed`, `serve` and `status` accept the same.

#include "cli/args.hpp"

#include <herd/pool_config.hpp>

namespace herd::cli {

/// Names of the options read by pool_config_from_args(), for allow_only().
const std::vector<std::string>& node_option_names();

/// pool_config::from_env(), then --nodes, --model, --ca-file, --header
/// ("Name: value", e.g. an Authorization header; HERD_NODE_TOKEN in the
/// environment does the same for a bearer token) and --insecure (no
/// certificate verification). Throws std::invalid_argument on a bad value.
pool_config pool_config_from_args(const args& a);

} // namespace herd::cli
