#include <herd/discovery/same_server.hpp>
#include <herd/http/url.hpp>

#include <fmt/format.h>

#include <algorithm>

#include <ifaddrs.h>
#include <netinet/in.h>

namespace herd {

std::vector<::asio::ip::address> own_addresses() {
    std::vector<::asio::ip::address> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            out.emplace_back(::asio::ip::address_v4(ntohl(a->sin_addr.s_addr)));
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
            ::asio::ip::address_v6::bytes_type b;
            std::copy_n(reinterpret_cast<const unsigned char*>(&a->sin6_addr), 16, b.begin());
            out.emplace_back(::asio::ip::address_v6(b, a->sin6_scope_id));
        }
    }
    ::freeifaddrs(list);
    return out;
}

namespace {

bool is_local(const ::asio::ip::address& a) {
    if (a.is_loopback() || a.is_unspecified()) return true;
    auto own = own_addresses();
    return std::any_of(own.begin(), own.end(), [&](auto& o) {
        // Scope ids differ between a link-local address and its spelling in a URL.
        if (o.is_v6() && a.is_v6()) return o.to_v6().to_bytes() == a.to_v6().to_bytes();
        return o == a;
    });
}

std::string key_of(::asio::ip::address a, std::uint16_t port) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ::asio::ip::make_address_v4(::asio::ip::v4_mapped, a.to_v6());
    if (is_local(a)) return fmt::format("local:{}", port);
    return a.is_v6() ? fmt::format("[{}]:{}", a.to_v6().to_string(), port) : fmt::format("{}:{}", a.to_string(), port);
}

} // namespace

awaitable<std::string> server_key(std::string_view text) {
    auto u = http::url::parse(text);
    if (!u) co_return std::string{};
    std::error_code ec;
    auto literal = ::asio::ip::make_address(u->host, ec);
    if (!ec) co_return key_of(literal, u->port);
    ::asio::ip::tcp::resolver resolver(co_await ::asio::this_coro::executor);
    auto [rec, results] = co_await resolver.async_resolve(u->host, std::to_string(u->port), compat::use_nothrow);
    if (rec || results.empty()) co_return fmt::format("{}:{}", u->host, u->port);
    co_return key_of(results.begin()->endpoint().address(), u->port);
}

awaitable<std::vector<found_node>> one_per_server(std::vector<found_node> nodes, std::set<std::string>& taken) {
    std::vector<found_node> out;
    for (auto& n : nodes) {
        auto key = co_await server_key(n.url);
        if (key.empty() || !taken.insert(key).second) continue;
        out.push_back(std::move(n));
    }
    co_return out;
}

} // namespace herd
