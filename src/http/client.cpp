#include <herd/http/client.hpp>

#include <fmt/format.h>

#include <stdexcept>

namespace herd::http {

client::client(executor ex, url target, client_options options)
    : ex_(std::move(ex)), target_(std::move(target)), options_(std::move(options)) {
    if (options_.connections == 0) options_.connections = 1;
    // One context for every connection to the node (and its CA store read once).
    if (target_.tls() && !options_.connection.tls) options_.connection.tls = make_tls_context({});
    if (auto basic = target_.basic_authorization(); !basic.empty()) fixed_headers_ += "Authorization: " + basic + "\r\n";
    for (const auto& line : options_.headers) {
        // A line break would let a header value smuggle a request.
        if (line.find_first_of("\r\n") != std::string::npos || line.find(':') == std::string::npos)
            throw std::invalid_argument("not a header line 'Name: value'");
        fixed_headers_ += line + "\r\n";
    }
    for (std::size_t i = 0; i < options_.connections; ++i)
        connections_.push_back(std::make_unique<connection>(ex_, target_, options_.connection));
}

awaitable<response_result> client::request(std::string bytes, time_point deadline, bool head) {
    connection* best = connections_.front().get();
    for (auto& c : connections_) {
        // Prefer an open connection over opening another at equal load.
        if (c->load() < best->load() || (c->load() == best->load() && c->is_open() && !best->is_open()))
            best = c.get();
    }
    co_return co_await best->request(std::move(bytes), deadline, head);
}

awaitable<response_result> client::control(std::string bytes, time_point deadline, bool head) {
    connection_options once = options_.connection;
    once.pipeline_depth = 1;
    connection c(ex_, target_, once);
    auto result = co_await c.request(std::move(bytes), deadline, head);
    co_return result; // c closes its socket as it goes
}

std::string client::format(std::string_view method, std::string_view path, std::string_view body,
                           std::string_view content_type) const {
    std::string out;
    out.reserve(128 + fixed_headers_.size() + body.size());
    fmt::format_to(std::back_inserter(out), "{} {} HTTP/1.1\r\nHost: {}\r\n", method, path, target_.authority());
    out += fixed_headers_;
    if (!body.empty() || method == "POST")
        fmt::format_to(std::back_inserter(out), "Content-Type: {}\r\nContent-Length: {}\r\n", content_type,
                       body.size());
    out += "\r\n";
    out += body;
    return out;
}

std::optional<time_point> client::oldest_request() const noexcept {
    std::optional<time_point> oldest;
    for (auto& c : connections_)
        if (auto t = c->oldest_request(); t && (!oldest || *t < *oldest)) oldest = t;
    return oldest;
}

std::size_t client::in_flight() const noexcept {
    std::size_t n = 0;
    for (auto& c : connections_) n += c->load();
    return n;
}

std::size_t client::connects() const noexcept {
    std::size_t n = 0;
    for (auto& c : connections_) n += c->connects();
    return n;
}

void client::close() {
    for (auto& c : connections_) c->close();
}

} // namespace herd::http
