#pragma once
// A node's HTTP client: a small fixed set of pipelined keep-alive
// connections. Each request goes to the connection with the shortest
// pipeline, so a slow response delays as few requests as possible.
// Concurrency limits live above (node's limiter); the client only spreads.
//
// Control traffic (health probes, /api/tags, /api/ps, model loads that
// can take minutes) goes through control() on a connection of its own, so
// it neither waits behind embeddings nor, by timing out, takes them down.
//
// Errors and cancellation are those of connection::request(). Not
// thread-safe.

#include <herd/http/connection.hpp>

#include <memory>
#include <string>
#include <vector>

namespace herd::http {

struct client_options {
    std::size_t connections = 2;
    connection_options connection{};
    /// Extra header lines for every request ("Name: value", one per entry),
    /// e.g. "Authorization: Bearer ..." for a node behind an auth proxy.
    /// Secret by assumption: they are sent and never logged.
    std::vector<std::string> headers;
};

class client {
public:
    client(executor ex, url target, client_options options = {});

    /// Sends a whole HTTP request on the least-loaded connection.
    awaitable<response_result> request(std::string bytes, time_point deadline, bool head = false);

    /// Sends one request on a new connection that is closed once the answer
    /// (or the deadline) comes: for control traffic. Never touches the
    /// pipelined connections and is not counted in in_flight()/connects().
    /// Errors and cancellation as connection::request().
    awaitable<response_result> control(std::string bytes, time_point deadline, bool head = false);

    /// Builds a request with Host, Content-Type (when a body is given),
    /// Content-Length, the URL's Basic credentials and options().headers.
    std::string format(std::string_view method, std::string_view path, std::string_view body = {},
                       std::string_view content_type = "application/json") const;

    const url& target() const noexcept { return target_; }
    const executor& get_executor() const noexcept { return ex_; }
    const client_options& options() const noexcept { return options_; }
    std::size_t in_flight() const noexcept;
    /// The oldest request queued or unanswered on any of the connections
    /// (see connection::oldest_request()); nullopt when none.
    std::optional<time_point> oldest_request() const noexcept;
    std::size_t connects() const noexcept;
    void close();

private:
    executor ex_;
    url target_;
    client_options options_;
    std::string fixed_headers_; // authorization and extra headers, formatted once
    std::vector<std::unique_ptr<connection>> connections_;
};

} // namespace herd::http
