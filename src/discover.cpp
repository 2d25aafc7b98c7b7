// herd::discover: sources asked in rounds, the pool changed through live
// membership (see discover.hpp).
#include <herd/discover.hpp>
#include <herd/discovery/nodes_file.hpp>
#include <herd/discovery/same_server.hpp>
#include <herd/http/url.hpp>

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <stdexcept>

namespace herd {

struct discovery::state {
    state(pool& pl, std::vector<std::unique_ptr<discovery_source>> src, discover_options o)
        : p(pl), sources(std::move(src)), options(std::move(o)), lists(sources.size()),
          due(sources.size(), time_point::min()), timer(p.get_executor()) {}

    pool& p;
    std::vector<std::unique_ptr<discovery_source>> sources;
    discover_options options;
    std::vector<std::vector<found_node>> lists; // each source's last good list
    std::vector<time_point> due;
    std::map<std::string, found_node> ours;     // nodes this discovery added, by URL
    ::asio::steady_timer timer;
    ::asio::cancellation_signal cancel;
    bool running = false, stopped = false;

    void event(const std::string& line) {
        if (options.on_event) options.on_event(line);
    }

    node_options options_for(const found_node& n) const {
        auto o = p.node_defaults();
        if (n.connections) o.http.connections = *n.connections;
        if (n.pipeline_depth) o.http.connection.pipeline_depth = *n.pipeline_depth;
        if (n.max_concurrency) {
            o.limiter.max_limit = *n.max_concurrency;
            o.limiter.initial_limit = std::min(o.limiter.initial_limit, *n.max_concurrency);
        }
        return o;
    }

    // Makes the nodes this discovery added exactly `wanted`.
    void apply(const std::vector<found_node>& wanted) {
        std::map<std::string, const found_node*> want;
        for (auto& n : wanted)
            if (auto u = http::url::parse(n.url)) want.emplace(u->str(), &n);
        for (auto it = ours.begin(); it != ours.end();) {
            auto w = want.find(it->first);
            if (w != want.end() && *w->second == it->second) {
                ++it;
                continue;
            }
            p.remove_node(it->first);
            event("discovery: removed " + it->first);
            it = ours.erase(it);
        }
        for (auto& n : wanted) {
            auto url = http::url::parse(n.url)->str();
            if (ours.count(url) || !p.add_node(url, options_for(n))) continue;
            ours.emplace(url, n);
            event("discovery: added " + url);
        }
    }

    awaitable<std::vector<failure>> round(bool all) {
        std::vector<failure> failures;
        for (std::size_t i = 0; i < sources.size(); ++i) {
            auto now = clock::now();
            if (!all && now < due[i]) continue;
            auto every = sources[i]->interval();
            due[i] = every > duration::zero() ? now + every : time_point::max();
            auto r = co_await sources[i]->list();
            if (stopped || r.fail.code == ::asio::error::operation_aborted) co_return failures;
            if (r.fail) {
                event(fmt::format("discovery: {} failed, keeping its {} nodes: {}", sources[i]->describe(),
                                  lists[i].size(), r.fail.describe()));
                failures.push_back(std::move(r.fail));
            } else {
                lists[i] = std::move(r.value);
            }
        }
        std::vector<found_node> merged;
        for (auto& l : lists) merged.insert(merged.end(), l.begin(), l.end());
        std::set<std::string> taken; // servers the pool has from elsewhere
        auto present = p.node_urls();
        for (auto& url : present) {
            if (ours.count(url)) continue;
            auto key = co_await server_key(url);
            taken.insert(key);
        }
        auto wanted = co_await one_per_server(std::move(merged), taken);
        if (!stopped) apply(wanted);
        co_return failures;
    }

    awaitable<void> loop(std::shared_ptr<state>) { // the argument keeps the state alive
        while (!stopped) {
            auto next = *std::min_element(due.begin(), due.end());
            if (next == time_point::max()) break; // every source is asked once only
            timer.expires_at(next);
            co_await timer.async_wait(compat::use_nothrow);
            if (stopped) break;
            co_await round(false);
        }
        running = false;
    }
};

discovery::discovery(pool& p, std::vector<std::unique_ptr<discovery_source>> sources, discover_options options)
    : s_(std::make_shared<state>(p, std::move(sources), std::move(options))) {}

discovery::~discovery() { stop(); }

awaitable<std::vector<failure>> discovery::refresh() {
    auto self = s_;
    co_return co_await self->round(true);
}

void discovery::start() {
    if (s_->running || s_->stopped) return;
    s_->running = true;
    ::asio::co_spawn(s_->p.get_executor(), s_->loop(s_),
                     ::asio::bind_cancellation_slot(s_->cancel.slot(), ::asio::detached));
}

void discovery::stop() {
    if (s_->stopped) return;
    s_->stopped = true;
    s_->timer.cancel();
    if (s_->running) s_->cancel.emit(::asio::cancellation_type::terminal);
}

std::vector<std::string> discovery::added() const {
    std::vector<std::string> out;
    for (auto& [url, n] : s_->ours) out.push_back(url);
    return out;
}

namespace {

// "NAME" or "NAME:PORT".
std::pair<std::string, std::uint16_t> name_and_port(std::string_view text, std::string_view spec) {
    std::uint16_t port = 11434;
    if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        auto p = text.substr(colon + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
        if (ec != std::errc{} || end != p.data() + p.size() || port == 0)
            throw std::invalid_argument(fmt::format("--discover {}: not a port: '{}'", spec, p));
        text = text.substr(0, colon);
    }
    if (text.empty()) throw std::invalid_argument(fmt::format("--discover {}: no name", spec));
    return {std::string(text), port};
}

} // namespace

std::unique_ptr<discovery_source> make_source(std::string_view spec, const discover_options& options) {
    auto colon = spec.find(':');
    auto kind = spec.substr(0, colon);
    auto rest = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
    if (kind == "file") {
        if (rest.empty()) throw std::invalid_argument(fmt::format("--discover {}: no path", spec));
        return std::make_unique<nodes_file_source>(std::string(rest), options.file_poll);
    }
    if (kind == "dns" || kind == "srv") {
        auto [name, port] = kind == "dns" ? name_and_port(rest, spec) : std::pair{std::string(rest), std::uint16_t{0}};
        if (name.empty()) throw std::invalid_argument(fmt::format("--discover {}: no name", spec));
        return std::make_unique<dns_source>(name, kind == "dns" ? dns_source::kind::addresses : dns_source::kind::srv,
                                            port, options.dns, options.dns_interval);
    }
    if (kind == "scan") {
        auto range = cidr_range::parse(rest);
        if (!range) throw std::invalid_argument(fmt::format("--discover {}: not an address range (CIDR)", spec));
        return std::make_unique<scan_source>(*range, options.scan);
    }
    throw std::invalid_argument(fmt::format("--discover {}: expected file:PATH, dns:NAME[:PORT], srv:NAME or scan:CIDR",
                                            spec));
}

awaitable<std::unique_ptr<discovery>> discover(pool& p, std::vector<std::string> specs, discover_options options) {
    std::vector<std::unique_ptr<discovery_source>> sources;
    for (auto& s : specs) sources.push_back(make_source(s, options));
    auto d = std::make_unique<discovery>(p, std::move(sources), std::move(options));
    co_await d->refresh();
    d->start();
    co_return d;
}

} // namespace herd
