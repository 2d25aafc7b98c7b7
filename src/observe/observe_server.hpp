#pragma once
// The observability endpoints (routes.hpp) on an HTTP server of their own,
// for a program that serves nothing else: `herd embed --metrics-listen`.

#include "serve/http_server.hpp"
#include "serve/router.hpp"

#include <herd/pool.hpp>

#include <string_view>

namespace herd::observe {

class observe_server {
public:
    /// Listens on `address` ("127.0.0.1:9464", "[::1]:9464"; port 0 picks a
    /// free one) and serves /metrics, /api/herd/stats and /dashboard of `p`
    /// on `p`'s executor. Throws std::invalid_argument for an address that
    /// is not HOST:PORT with a numeric IP, std::system_error when it cannot
    /// listen. `p` must outlive this object and its io_context's run().
    observe_server(pool& p, std::string_view address);

    /// The address listened on (the port chosen when 0 was asked).
    serve::tcp::endpoint endpoint() const { return server_.local_endpoint(); }

    /// Stops accepting and closes connections (http_server::shutdown).
    awaitable<void> shutdown() { return server_.shutdown(std::chrono::seconds(1)); }

private:
    serve::router routes_;
    serve::http_server server_;
};

/// "HOST:PORT" (IPv6 in brackets) as an endpoint. Throws
/// std::invalid_argument naming the text when it is not one.
serve::tcp::endpoint parse_endpoint(std::string_view address);

} // namespace herd::observe
