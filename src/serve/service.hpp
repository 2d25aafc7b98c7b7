#pragma once
// `herd serve` assembled: a pool over the nodes, the gateway, the Ollama and
// OpenAI routes, bearer-token authentication and the HTTP server. The herd
// tool runs one; tests run one in-process over herd-sim.
//
//   herd::serve::service svc(io.get_executor(), pool_cfg, {.token = "s3cret"});
//   svc.routes().add("GET", "/metrics", ...); // more routes before start()
//   svc.start();                              // listens; throws system_error
//   ... co_await svc.shutdown(std::chrono::seconds(10));
//
// Authentication: with a token, every request must carry
// `Authorization: Bearer <token>`; others get 401 ({"error":"unauthorized"},
// on /v1/ paths in OpenAI's error shape). Without one, requests are not
// checked (bind to loopback, the default, or set a token: see
// needs_token_warning).
//
// Errors and cancellation are those of the parts (http_server.hpp,
// gateway.hpp, ollama_api.hpp, openai_api.hpp). Threading: one executor
// run by one thread, as the pool.

#include "serve/gateway.hpp"
#include "serve/http_server.hpp"
#include "serve/router.hpp"

#include <herd/pool.hpp>

#include <memory>

namespace herd::serve {

struct service_options {
    tcp::endpoint listen{::asio::ip::make_address_v4("127.0.0.1"), 11434};
    std::string token; ///< empty: no authentication
    gateway_options gateway{};
    server_options http{}; ///< max_body_bytes etc.; reject bodies are Ollama's JSON errors
};

class service {
public:
    service(executor ex, pool_config pool, service_options options);
    ~service();

    /// Binds options.listen and starts accepting. Throws std::system_error.
    void start();
    tcp::endpoint local_endpoint() const;
    /// Graceful stop (http_server::shutdown). Never throws.
    awaitable<void> shutdown(std::chrono::steady_clock::duration grace);

    /// The route table: add routes before start().
    router& routes() noexcept { return routes_; }
    herd::pool& pool() noexcept { return pool_; }
    serve::gateway& gateway() noexcept { return gateway_; }
    http_server& server() noexcept { return *server_; }

private:
    awaitable<void> handle(request& req, response& res);

    service_options options_;
    herd::pool pool_;
    serve::gateway gateway_;
    router routes_;
    std::unique_ptr<http_server> server_;
};

/// True when `where` is not a loopback address: serving it without a token
/// opens the cluster to the network (the command warns).
bool needs_token_warning(const tcp::endpoint& where, std::string_view token);

/// "127.0.0.1:11434", "[::1]:8080", ":11434" (all IPv4 interfaces), "host"
/// (port 11434) as an endpoint. Throws std::invalid_argument.
tcp::endpoint parse_listen(std::string_view text);

} // namespace herd::serve
