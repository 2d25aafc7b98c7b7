#include <herd/async/task_group.hpp>
#include <herd/discovery/scan.hpp>
#include <herd/http/client.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>

namespace herd {

std::optional<cidr_range> cidr_range::parse(std::string_view text) {
    auto slash = text.find('/');
    std::error_code ec;
    auto a = ::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return std::nullopt;
    unsigned bits = a.is_v4() ? 32 : 128, prefix = bits;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (perr != std::errc{} || end != p.data() + p.size() || p.empty() || prefix > bits) return std::nullopt;
    }
    cidr_range r;
    r.prefix = prefix;
    if (a.is_v4()) {
        std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
        r.first = ::asio::ip::address_v4(a.to_v4().to_uint() & mask);
    } else {
        auto b = a.to_v6().to_bytes();
        for (unsigned i = 0; i < 16; ++i) {
            unsigned keep = prefix > i * 8 ? std::min(prefix - i * 8, 8u) : 0;
            b[i] &= static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
        }
        r.first = ::asio::ip::address_v6(b);
    }
    return r;
}

std::uint64_t cidr_range::size() const noexcept {
    unsigned host_bits = (first.is_v4() ? 32 : 128) - prefix;
    return host_bits >= 63 ? std::uint64_t{1} << 63 : std::uint64_t{1} << host_bits;
}

::asio::ip::address cidr_range::at(std::uint64_t i) const {
    if (first.is_v4()) return ::asio::ip::address_v4(first.to_v4().to_uint() + static_cast<std::uint32_t>(i));
    auto b = first.to_v6().to_bytes();
    for (int k = 15; k >= 0 && i; --k, i >>= 8) { // add i to the low bytes
        unsigned sum = b[static_cast<std::size_t>(k)] + static_cast<unsigned>(i & 0xff);
        b[static_cast<std::size_t>(k)] = static_cast<unsigned char>(sum);
        if (sum > 0xff) i += 0x100; // carry into the next byte
    }
    return ::asio::ip::address_v6(b);
}

std::string cidr_range::str() const { return fmt::format("{}/{}", first.to_string(), prefix); }

namespace {

bool json_has(const std::string& body, const char* field, bool array) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains(field)) return false;
    return array ? j[field].is_array() : j[field].is_string();
}

// One host: both answers within `deadline`, each on a connection of its own.
awaitable<bool> is_ollama(http::url target, duration timeout) {
    auto deadline = clock::now() + timeout;
    http::client_options o;
    o.connections = 1;
    o.connection.connect_timeout = timeout;
    o.connection.limits.max_body_bytes = 1 << 20;
    http::client c(co_await ::asio::this_coro::executor, target, o);
    auto version = co_await c.control(c.format("GET", "/api/version"), deadline);
    if (version.ec || version.response.status != 200 || !json_has(version.response.body, "version", false))
        co_return false;
    auto tags = co_await c.control(c.format("GET", "/api/tags"), deadline);
    co_return !tags.ec && tags.response.status == 200 && json_has(tags.response.body, "models", true);
}

struct scan_run {
    const cidr_range& range;
    const scan_options& options;
    std::vector<std::uint64_t> order; // indices to probe
    std::size_t next = 0;
    time_point next_start = clock::now();
    std::vector<std::pair<std::uint64_t, std::string>> hits;

    awaitable<void> worker() {
        const auto gap = std::chrono::duration_cast<duration>(std::chrono::duration<double>(1.0 / options.per_second));
        while (next < order.size()) {
            auto i = order[next++];
            auto start = std::max(clock::now(), next_start); // the rate limit: one start per gap
            next_start = start + gap;
            if (start > clock::now()) {
                ::asio::steady_timer pause(co_await ::asio::this_coro::executor, start);
                co_await pause.async_wait(::asio::use_awaitable); // throws when cancelled
            }
            http::url u;
            u.host = range.at(i).to_string();
            u.port = options.port;
            if (co_await is_ollama(u, options.per_host_timeout)) hits.emplace_back(i, u.str());
        }
    }
};

} // namespace

awaitable<result<std::vector<found_node>>> scan(cidr_range range, scan_options options) {
    result<std::vector<found_node>> r;
    std::uint64_t n = range.size();
    bool skip_ends = range.first.is_v4() && range.prefix <= 30;
    if (n > options.max_hosts) {
        r.fail = failure{errc::protocol_error, fmt::format("scan: {} has {} addresses, more than the limit of {}",
                                                           range.str(), n, options.max_hosts)};
        co_return r;
    }
    scan_run run{range, options, {}};
    for (std::uint64_t i = 0; i < n; ++i)
        if (!skip_ends || (i != 0 && i != n - 1)) run.order.push_back(i);
    options.per_second = std::max(options.per_second, 0.001);
    task_group workers(co_await ::asio::this_coro::executor);
    for (std::size_t w = 0; w < std::max<std::size_t>(options.concurrency, 1) && w < run.order.size(); ++w)
        workers.spawn(run.worker());
    try {
        co_await workers.join();
    } catch (const std::system_error& e) {
        r.fail = failure{e.code(), "scan cancelled"};
        co_return r;
    }
    std::sort(run.hits.begin(), run.hits.end());
    for (auto& [i, url] : run.hits) r.value.push_back({url});
    co_return r;
}

scan_source::scan_source(cidr_range range, scan_options options, duration every)
    : range_(std::move(range)), options_(options), every_(every) {}

} // namespace herd
