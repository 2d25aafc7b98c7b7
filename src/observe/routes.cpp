#include "observe/routes.hpp"

#include "observe/dashboard_page.hpp"

#include <chrono>

namespace herd::observe {
namespace {

// Never cached: every poll and scrape wants the present.
const serve::header_field no_store[] = {{"Cache-Control", "no-store"}};

awaitable<void> metrics(pool& p, serve::response& res) {
    const std::string body = to_prometheus(p.stats());
    co_await res.send(200, "text/plain; version=0.0.4; charset=utf-8", body, no_store);
}

awaitable<void> stats(pool& p, serve::response& res) {
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string body = to_json(p.stats(), now);
    co_await res.send(200, "application/json; charset=utf-8", body, no_store);
}

awaitable<void> dashboard(serve::response& res) {
    co_await res.send(200, "text/html; charset=utf-8", dashboard_page(), no_store);
}

} // namespace

void add_routes(serve::router& routes, pool& p) {
    // Plain lambdas returning the coroutine of a free function: nothing the
    // coroutine uses lives in a lambda object.
    routes.add("GET", "/metrics", [&p](serve::request&, serve::response& res) { return metrics(p, res); });
    routes.add("GET", "/api/herd/stats", [&p](serve::request&, serve::response& res) { return stats(p, res); });
    routes.add("GET", "/dashboard", [](serve::request&, serve::response& res) { return dashboard(res); });
}

} // namespace herd::observe
