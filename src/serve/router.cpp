#include "serve/router.hpp"

namespace herd::serve {

router& router::add(std::string_view method, std::string_view path, handler h) {
    routes_[std::string(path)][std::string(method)] = std::move(h);
    return *this;
}

router& router::fallback(handler h) {
    fallback_ = std::move(h);
    return *this;
}

awaitable<void> router::operator()(request& req, response& res) const {
    auto path = routes_.find(req.path());
    if (path == routes_.end()) {
        if (fallback_) {
            co_await fallback_(req, res);
            co_return;
        }
        co_await res.send(404, "text/plain", "404 page not found");
        co_return;
    }
    std::string_view method = req.message.method;
    auto h = path->second.find(method);
    if (h == path->second.end() && method == "HEAD") h = path->second.find(std::string_view("GET"));
    if (h == path->second.end()) {
        std::string allow;
        for (auto& [m, unused] : path->second) allow += (allow.empty() ? "" : ", ") + m;
        const header_field extra[] = {{"Allow", allow}};
        co_await res.send(405, "text/plain", "405 method not allowed", extra);
        co_return;
    }
    co_await h->second(req, res);
}

handler router::as_handler() const {
    return [this](request& req, response& res) { return (*this)(req, res); };
}

} // namespace herd::serve
