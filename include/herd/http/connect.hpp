#pragma once
// Opening a TCP connection to a node, bounded in time; shared by the
// pipelined connection and the streamed request.

#include <herd/async/compat.hpp>
#include <herd/async/stats.hpp>
#include <herd/error.hpp>
#include <herd/http/url.hpp>

namespace herd::http {

using resolved_endpoints = ::asio::ip::tcp::resolver::results_type;

/// Resolves the node's host (numeric addresses resolve without a lookup).
awaitable<std::pair<std::error_code, resolved_endpoints>> resolve(const url& target);

/// Connects `socket` to one of `endpoints` within `timeout`, with
/// TCP_NODELAY. Returns errc::connect_failed on refusal or timeout (the
/// socket is closed then). Honours Asio cancellation: a cancelled connect
/// returns asio::error::operation_aborted, never connect_failed.
awaitable<std::error_code> connect_within(::asio::ip::tcp::socket& socket, const resolved_endpoints& endpoints,
                                          duration timeout);

} // namespace herd::http
