// herd serve: the cluster behind one Ollama- and OpenAI-compatible endpoint.
#include "cli/commands.hpp"
#include "cli/node_args.hpp"

#include "observe/routes.hpp"
#include "serve/service.hpp"

#include <fmt/format.h>

#include <csignal>
#include <fstream>

namespace herd::cli {

int serve_command(const args& a) {
    auto known = node_option_names();
    known.insert(known.end(), {"listen", "token", "max-queue", "max-body-mb", "grace", "port-file"});
    a.allow_only(known);
    if (!a.positional().empty()) throw std::invalid_argument("herd serve takes no positional arguments");
    auto config = pool_config_from_args(a);
    if (config.nodes.empty()) throw std::invalid_argument("herd serve needs nodes (--nodes, HERD_NODES or OLLAMA_HOST)");

    serve::service_options o;
    o.listen = serve::parse_listen(a.get_or("listen", "127.0.0.1:11434"));
    o.token = a.get_or("token", "");
    o.gateway.max_queue = a.number_or("max-queue", o.gateway.max_queue);
    o.http.max_body_bytes = a.number_or("max-body-mb", o.http.max_body_bytes >> 20) << 20;
    const auto grace = std::chrono::duration<double>(a.real_or("grace", 10));
    if (serve::needs_token_warning(o.listen, o.token))
        fmt::print(stderr, "herd serve: warning: listening on {} without --token: anyone who can reach it can use "
                           "the cluster\n", o.listen.address().to_string());

    asio::io_context io(1);
    serve::service svc(io.get_executor(), config, o);
    observe::add_routes(svc.routes(), svc.pool()); // /metrics, /api/herd/stats, /dashboard
    svc.start();
    auto where = svc.local_endpoint();
    fmt::print(stderr, "herd serve: listening on http://{}:{} over {} node(s)\n", where.address().to_string(),
               where.port(), config.nodes.size());
    if (auto file = a.get("port-file")) {
        std::ofstream(*file + ".tmp") << where.port() << "\n";
        std::rename((*file + ".tmp").c_str(), file->c_str()); // readers never see half a file
    }

    // SIGTERM/SIGINT: stop accepting, let requests in progress finish for
    // up to --grace seconds, then stop (the pool keeps the loop busy).
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int) {
        if (ec) return;
        fmt::print(stderr, "herd serve: shutting down (up to {:.0f} s for requests in progress)\n", grace.count());
        asio::co_spawn(io, svc.shutdown(std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace)),
                       [&](std::exception_ptr) { io.stop(); });
    });
    io.run();
    fmt::print(stderr, "herd serve: stopped\n");
    return 0;
}

} // namespace herd::cli
