#include "sim/control.hpp"

#include "sim/wire.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace herd::sim {

namespace {

control_answer error(int status, std::string_view message) { return {status, wire::error_json(message)}; }

control_answer ok(const nlohmann::json& j) { return {200, j.dump()}; }

// Applies a fault spec from a request body to `n`.
control_answer set_fault_from(node& n, std::string_view body) {
    auto j = body.empty() ? nlohmann::json::object() : nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return error(400, "fault: body is not JSON");
    try {
        n.set_fault(fault_from_json(j));
    } catch (const std::invalid_argument& e) {
        return error(400, e.what());
    }
    return ok(n.describe());
}

} // namespace

control_answer node_control(node& n, std::string_view method, std::string_view path, std::string_view body) {
    if (path == "/_sim/counters" && method == "GET") return ok(n.counters().snapshot());
    if (path == "/_sim/node" && method == "GET") return ok(n.describe());
    if (path == "/_sim/fault" && method == "GET") return ok(n.faults());
    if (path == "/_sim/fault" && method == "POST") return set_fault_from(n, body);
    if (path == "/_sim/reset" && method == "POST") {
        n.counters().reset();
        return ok(n.counters().snapshot());
    }
    return error(404, "no such control endpoint");
}

control_server::control_server(asio::io_context& io, std::vector<node*> nodes)
    : io_(io), nodes_(std::move(nodes)), acceptor_(io) {}

void control_server::start(std::uint16_t port) {
    open_loopback(acceptor_, port);
    port_ = acceptor_.local_endpoint().port();
    spawn(io_.get_executor(), accept_each(
                                  acceptor_, [this] { return !stopped_; },
                                  [this](tcp::socket socket) {
                                      spawn(io_.get_executor(), serve(std::make_shared<session>(std::move(socket))));
                                  }));
}

void control_server::shutdown() {
    stopped_ = true;
    std::error_code ignored;
    acceptor_.close(ignored);
    sessions_.close_all();
}

control_answer control_server::answer(std::string_view method, std::string_view path, std::string_view body) {
    constexpr std::string_view prefix = "/_sim/nodes";
    if (path.substr(0, prefix.size()) != prefix) return error(404, "no such control endpoint");
    path.remove_prefix(prefix.size());
    if (path.empty() || path == "/") {
        if (method != "GET") return error(405, "use GET");
        auto list = nlohmann::json::array();
        for (auto* n : nodes_) list.push_back(n->describe());
        return ok(list);
    }
    // "/{i}" or "/{i}/fault" or "/{i}/reset"
    path.remove_prefix(1);
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), index);
    if (ec != std::errc{}) return error(404, "no such control endpoint");
    std::string_view action(end, static_cast<std::size_t>(path.data() + path.size() - end));
    if (index >= nodes_.size()) return error(404, "no node " + std::to_string(index));
    node& n = *nodes_[index];
    if (action.empty() && method == "GET") return ok(n.describe());
    if (action == "/fault" && method == "POST") return set_fault_from(n, body);
    if (action == "/reset" && method == "POST") {
        n.counters().reset();
        return ok(n.describe());
    }
    return error(404, "no such control endpoint");
}

awaitable<void> control_server::serve(std::shared_ptr<session> s) {
    sessions_.add(s.get());
    while (!stopped_) {
        auto m = co_await s->next_request();
        if (!m) break;
        std::string_view path = m->target;
        auto a = answer(m->method, path.substr(0, path.find('?')), m->body);
        s->out.clear();
        wire::append_response(s->out, a.status, wire::json_type, a.body, m->keep_alive);
        if (!co_await s->write(s->out) || !m->keep_alive) break;
    }
    s->close();
    sessions_.remove(s.get());
}

} // namespace herd::sim
