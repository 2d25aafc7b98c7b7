// Live membership: nodes added to and removed from a running pool.
//
// A node is owned by shared_ptrs: the pool's list, and every coroutine that
// uses it across a suspension (node::embed's outcome, a completion stream,
// a probe, a model refresh, a batch's member list). Removing a node only
// drops the pool's reference, so routing stops choosing it at once while
// whatever is in flight on it finishes against a live object; the node is
// destroyed (its connections closed) when the last user lets go.
#include "pool_impl.hpp"

#include <algorithm>

namespace herd {

namespace {

std::string canonical(std::string_view url) {
    auto u = http::url::parse(url);
    return u ? u->str() : std::string(url);
}

} // namespace

bool pool::add_node(std::string_view url) { return add_node(url, impl_->node_defaults); }

bool pool::add_node(std::string_view url, const node_options& options) {
    auto u = http::url::parse(url);
    if (!u) throw error(errc::no_nodes, "not a node URL: '" + http::redact_credentials(url) + "'");
    auto& s = *impl_;
    auto name = u->str();
    if (std::any_of(s.nodes.begin(), s.nodes.end(), [&](auto& n) { return n->name() == name; })) return false;
    s.nodes.push_back(std::make_shared<node>(s.ex, *u, s.options_for(*u, url, options)));
    // Completions route on the model catalogue: ask the newcomer too.
    if (s.refreshing) {
        auto ask = [](std::shared_ptr<impl> self, std::shared_ptr<node> n) -> awaitable<void> {
            co_await self->refresh_node(std::move(n));
        };
        ::asio::co_spawn(s.ex, ask(s.shared_from_this(), s.nodes.back()), ::asio::detached);
    }
    s.membership_changed();
    return true;
}

bool pool::remove_node(std::string_view url) {
    auto& s = *impl_;
    auto name = canonical(url);
    auto it = std::find_if(s.nodes.begin(), s.nodes.end(), [&](auto& n) { return n->name() == name; });
    if (it == s.nodes.end()) return false;
    s.nodes.erase(it); // users in flight hold their own references
    s.membership_changed();
    return true;
}

node_options pool::node_defaults() const { return impl_->node_defaults; }

std::vector<std::string> pool::node_urls() const {
    std::vector<std::string> out;
    for (auto& n : impl_->nodes) out.push_back(n->name());
    return out;
}

} // namespace herd
