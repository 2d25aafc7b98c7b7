#include "sim/node.hpp"

#include "sim/control.hpp"
#include "sim/session.hpp"
#include "sim/wire.hpp"

#include <herd/openai/codec.hpp>
#include <herd/sim/embedding_rule.hpp>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>

#include <unistd.h>

namespace herd::sim {

using namespace std::chrono_literals;

node::node(asio::io_context& io, std::size_t index, node_profile profile, double time_scale, vector_cache& cache)
    : io_(io),
      index_(index),
      profile_(std::move(profile)),
      time_scale_(time_scale),
      cache_(cache),
      models_(profile_),
      rng_(fnv1a64("node", profile_.seed * 0x9E3779B97F4A7C15ULL + index)),
      faults_(std::make_shared<const fault_spec>(profile_.faults)),
      acceptor_(io),
      port_(profile_.port),
      comeback_(io) {}

std::string node::url() const { return "http://" + listen_address() + ":" + std::to_string(port_); }

void node::start() {
    listen();
    apply_faults();
}

void node::listen() {
    open_loopback(acceptor_, port_);
    // Written once, before the simulator's thread runs (a node comes back on
    // the same port), so other threads may read it.
    if (port_ == 0) port_ = acceptor_.local_endpoint().port();
    auto gen = ++listen_gen_;
    spawn(io_.get_executor(),
          accept_each(
              acceptor_, [this, gen] { return gen == listen_gen_ && !stopped_; },
              [this](tcp::socket socket) {
                  spawn(io_.get_executor(), serve(std::make_shared<session>(std::move(socket))));
              }));
}

void node::close_listener() {
    ++listen_gen_;
    std::error_code ignored;
    acceptor_.close(ignored);
}

void node::apply_faults() {
    if (stopped_) return;
    const auto& f = *faults_;
    if (f.refuse) {
        close_listener();
    } else if (!acceptor_.is_open()) {
        try {
            listen();
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "herd-sim: node %zu cannot listen on port %u again: %s\n", index_, port_, e.what());
        }
    }
    if (f.refuse && f.come_back_after.count() > 0) {
        comeback_.expires_after(std::chrono::duration_cast<steady_clock::duration>(f.come_back_after));
        comeback_.async_wait([this](std::error_code ec) {
            if (!ec && !stopped_) set_fault({});
        });
    }
}

void node::set_fault(fault_spec f) {
    faults_ = std::make_shared<const fault_spec>(std::move(f));
    served_ = error_seq_ = 0;
    comeback_.cancel();
    apply_faults();
}

void node::die() {
    // A crashed server: listener and every connection gone, then refusing
    // (until come_back_after, when that is set).
    // The listener first: whoever sees a connection close must then find
    // the port refusing.
    fault_spec dead;
    dead.refuse = true;
    dead.come_back_after = faults_->come_back_after;
    set_fault(std::move(dead));
    sessions_.close_all();
}

void node::shutdown() {
    stopped_ = true;
    comeback_.cancel();
    close_listener();
    sessions_.close_all();
    models_.cancel_all();
}

nlohmann::json node::describe() const {
    return {{"index", index_},       {"url", url()},        {"listening", listening()},
            {"profile", profile_},   {"faults", *faults_}, {"counters", counters_.snapshot()}};
}

void node::mark_fault(exchange& x) {
    if (x.faulted) return;
    x.faulted = true;
    live_counters::add(counters_.faults);
}

std::chrono::nanoseconds node::scaled(std::chrono::nanoseconds d, bool with_tail) {
    if (d <= 0ns) return 0ns;
    double factor = time_scale_;
    if (with_tail && rng_.chance(profile_.tail_fraction)) factor *= profile_.tail_multiplier;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * factor));
}

awaitable<void> node::serve(std::shared_ptr<session> s) {
    sessions_.add(s.get());
    live_counters::add(counters_.connections);
    while (!stopped_) {
        auto m = co_await s->next_request();
        if (!m || !co_await handle(*s, *m)) break;
    }
    s->close();
    sessions_.remove(s.get());
}

awaitable<bool> node::handle(session& s, http::message& m) {
    std::string_view path = m.target;
    path = path.substr(0, path.find('?'));
    if (path.substr(0, 6) == "/_sim/") {
        // Control: no faults, not counted.
        auto answer = node_control(*this, m.method, path, m.body);
        s.out.clear();
        wire::framing f{.keep_alive = m.keep_alive, .http10 = m.http10};
        wire::append_response(s.out, answer.status, wire::json_type, answer.body, f);
        co_return co_await s.write(s.out) && wire::keeps_alive(f, answer.body.size());
    }
    live_counters::add(counters_.requests);
    live_counters::add(counters_.bytes_in, s.request_bytes());
    exchange x{s, faults_, m.keep_alive, m.http10};
    bool keep = co_await dispatch(x, m, path);
    if (x.f == faults_ && x.f->die_after > 0 && ++served_ >= x.f->die_after && !stopped_) {
        die();
        keep = false;
    }
    co_return keep && x.keep_alive && !s.closed();
}

namespace {

// Ollama's allowedHostsMiddleware on a loopback listener (DNS rebinding
// protection): the Host must be a local name or a loopback, private or
// unspecified address.
bool allowed_host(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.find(']') - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(':') == colon) {
        host = host.substr(0, colon);
    }
    std::string h(host);
    for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::error_code ec;
    auto a = asio::ip::make_address(h, ec);
    if (!ec) {
        if (a.is_loopback() || a.is_unspecified()) return true;
        if (a.is_v4()) {
            auto b = a.to_v4().to_bytes();
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
        }
        return (a.to_v6().to_bytes()[0] & 0xfe) == 0xfc; // fc00::/7
    }
    if (h.empty() || h == "localhost") return true;
    for (std::string_view tld : {".localhost", ".local", ".internal"})
        if (h.size() > tld.size() && h.compare(h.size() - tld.size(), tld.size(), tld) == 0) return true;
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0) {
        std::string own(name);
        for (auto& ch : own) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return h == own;
    }
    return false;
}

} // namespace

awaitable<bool> node::dispatch(exchange& x, const http::message& m, std::string_view path) {
    const bool embed = path == "/api/embed", legacy = path == "/api/embeddings";
    const bool chat = path == "/api/chat", generate = path == "/api/generate";
    const bool v1_embed = path == "/v1/embeddings", v1_chat = path == "/v1/chat/completions";
    x.openai = path.substr(0, 4) == "/v1/";
    if (embed || legacy || v1_embed) live_counters::add(counters_.embed_requests);
    if (chat || v1_chat) live_counters::add(counters_.chat_requests);
    if (generate) live_counters::add(counters_.generate_requests);

    // A foreign Host: 403, no type, no body.
    if (!allowed_host(m.header("host"))) co_return co_await reply(x, 403, {}, {});

    const fault_spec& f = *x.f;
    if (f.hang) {
        mark_fault(x);
        co_await x.s.drain();
        co_return false;
    }
    if (f.garbage) {
        mark_fault(x);
        co_await send_garbage(x);
        co_return false;
    }
    if (f.busy) {
        mark_fault(x);
        co_return co_await reply_busy(x);
    }
    const bool every = f.error_every > 0 && ++error_seq_ % f.error_every == 0;
    if (every || rng_.chance(f.error_rate)) {
        mark_fault(x);
        x.s.body = x.openai ? openai::error_json(500, f.error_message) : wire::error_json(f.error_message);
        co_return co_await reply(x, 500, wire::json_type, x.s.body);
    }

    const bool get = m.method == "GET", head = m.method == "HEAD", post = m.method == "POST";
    // Go's 405 page: its text, no charset, and the methods the route takes.
    constexpr std::string_view not_allowed = "405 method not allowed";
    if (path == "/" || path == "/api/version" || path == "/api/tags" || path == "/api/ps") {
        const bool ps = path == "/api/ps";
        if (!get && !(head && !ps))
            co_return co_await reply(x, 405, wire::plain_type, not_allowed, head, ps ? "GET" : "HEAD, GET");
        if (path == "/") co_return co_await reply(x, 200, wire::text_type, "Ollama is running", head);
        if (path == "/api/version") {
            x.s.body = "{\"version\":";
            wire::append_json_string(x.s.body, profile_.version);
            x.s.body += '}';
        } else {
            x.s.body = path == "/api/tags" ? models_.tags_json() : models_.ps_json(profile_.gpu);
        }
        co_return co_await reply(x, 200, wire::json_type, x.s.body, head);
    }
    if (path == "/v1/models") {
        if (!get) co_return co_await reply(x, 405, wire::plain_type, not_allowed, head, "GET");
        x.s.body = models_.openai_models_json();
        co_return co_await reply(x, 200, wire::json_type, x.s.body);
    }
    if (v1_embed || v1_chat) {
        if (!post) co_return co_await reply(x, 405, wire::plain_type, not_allowed, head, "POST");
        if (v1_embed) co_return co_await api_embed(x, m, false);
        co_return co_await api_chat(x, m, false);
    }
    if (embed || legacy || chat || generate) {
        if (!post) co_return co_await reply(x, 405, wire::plain_type, not_allowed, head, "POST");
        if (embed || legacy) co_return co_await api_embed(x, m, legacy);
        co_return co_await api_chat(x, m, generate);
    }
    co_return co_await reply(x, 404, wire::plain_type, "404 page not found", head);
}

} // namespace herd::sim
