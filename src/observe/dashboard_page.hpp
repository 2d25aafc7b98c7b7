#pragma once
// The dashboard page served at GET /dashboard: HTML, CSS and JavaScript in
// one document compiled into the binary. It shows every node (health,
// ejected, models loaded, limit, in flight, p50/p99, share of work), the
// cluster's throughput as a chart, retries, hedges and errors, and the
// recent events, polling GET /api/herd/stats (metrics.hpp's to_json) once
// a second.
//
// DOM hooks for tests: one `tr.node` per node with data-url and data-state
// ("healthy", "degraded", "ejected"), and #rate with data-rate.

#include <string_view>

namespace herd::observe {

/// The whole page (text/html; charset=utf-8). Static storage; never throws.
std::string_view dashboard_page() noexcept;

} // namespace herd::observe
