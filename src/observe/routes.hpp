#pragma once
// The observability endpoints, added to a `herd serve` router:
//
//   GET /metrics          Prometheus text (metrics.hpp's to_prometheus)
//   GET /api/herd/stats   the same snapshot as JSON (to_json), for the dashboard
//   GET /dashboard        the dashboard page (dashboard_page.hpp)
//
// `herd serve` mounts them next to its APIs; `herd embed --metrics-listen`
// on a server of their own (observe_server.hpp).

#include "serve/router.hpp"

#include <herd/pool.hpp>

namespace herd::observe {

/// Adds the three routes to `routes`. Each handler reads `p` on the
/// server's executor, which must be the pool's; `p` must outlive the
/// server's handlers. A handler never fails: a client gone mid-answer only
/// ends its write.
void add_routes(serve::router& routes, pool& p);

} // namespace herd::observe
