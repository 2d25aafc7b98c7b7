#include "serve/service.hpp"

#include "serve/json_wire.hpp"
#include "serve/ollama_api.hpp"
#include "serve/openai_api.hpp"

#include <herd/openai/codec.hpp>

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace herd::serve {

namespace {

server_options with_json_rejects(server_options o) {
    if (!o.reject_body)
        o.reject_body = [](int status) -> std::pair<std::string, std::string> {
            if (status == 413) return {std::string(json_type), error_json("http: request body too large")};
            return {"text/plain; charset=utf-8", fmt::format("{} {}", status, reason_phrase(status))};
        };
    return o;
}

} // namespace

service::service(executor ex, pool_config pool, service_options options)
    : options_(std::move(options)), pool_(ex, std::move(pool)), gateway_(pool_, options_.gateway) {
    add_ollama_routes(routes_, gateway_);
    add_openai_routes(routes_, gateway_);
    server_ = std::make_unique<http_server>(
        ex, [this](request& req, response& res) { return handle(req, res); }, with_json_rejects(options_.http));
}

service::~service() = default;

void service::start() {
    server_->listen(options_.listen);
    server_->start();
}

tcp::endpoint service::local_endpoint() const { return server_->local_endpoint(); }

awaitable<void> service::shutdown(std::chrono::steady_clock::duration grace) { return server_->shutdown(grace); }

awaitable<void> service::handle(request& req, response& res) {
    if (!options_.token.empty() && req.header("authorization") != "Bearer " + options_.token) {
        std::string body = req.path().substr(0, 4) == "/v1/" ? openai::error_json(401, "unauthorized")
                                                             : error_json("unauthorized");
        const header_field challenge[] = {{"WWW-Authenticate", "Bearer"}};
        co_await res.send(401, json_type, body, challenge);
        co_return;
    }
    co_await routes_(req, res);
}

bool needs_token_warning(const tcp::endpoint& where, std::string_view token) {
    return token.empty() && !where.address().is_loopback();
}

tcp::endpoint parse_listen(std::string_view text) {
    std::string_view host = text, port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("bad --listen address: " + std::string(text));
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') throw std::invalid_argument("bad --listen address: " + std::string(text));
            port_text = text.substr(close + 2);
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 11434;
    if (!port_text.empty()) {
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535)
            throw std::invalid_argument("bad --listen port: " + std::string(text));
    }
    if (host.empty()) host = "0.0.0.0";
    if (host == "localhost") host = "127.0.0.1";
    std::error_code ec;
    auto addr = ::asio::ip::make_address(std::string(host), ec);
    if (ec) throw std::invalid_argument("bad --listen address (numeric IP expected): " + std::string(text));
    return {addr, static_cast<std::uint16_t>(port)};
}

} // namespace herd::serve
