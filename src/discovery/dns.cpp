// A minimal DNS stub resolver over UDP (why: see dns.hpp).
#include <herd/async/race.hpp>
#include <herd/discovery/dns.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace herd {

namespace {

constexpr std::uint16_t type_a = 1, type_aaaa = 28, type_srv = 33, type_opt = 41, class_in = 1;

failure dns_failure(std::string what) { return failure{errc::protocol_error, "DNS: " + std::move(what)}; }

::asio::ip::udp::endpoint default_server() {
    std::ifstream conf("/etc/resolv.conf");
    std::string line;
    while (std::getline(conf, line)) {
        std::istringstream words(line);
        std::string key, value;
        words >> key >> value;
        std::error_code ec;
        auto a = ::asio::ip::make_address(value, ec);
        if (key == "nameserver" && !ec) return {a, 53};
    }
    return {::asio::ip::make_address("127.0.0.1"), 53};
}

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xff);
}

// Header, one question, and an EDNS0 OPT record asking for 4096-byte answers.
std::optional<std::string> encode_query(std::uint16_t id, std::string_view name, std::uint16_t type) {
    std::string q;
    put16(q, id);
    put16(q, 0x0100); // recursion desired
    put16(q, 1);
    put16(q, 0);
    put16(q, 0);
    put16(q, 1);
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    while (!name.empty()) {
        auto dot = name.find('.');
        auto label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return std::nullopt;
        q += static_cast<char>(label.size());
        q += label;
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    q += '\0';
    put16(q, type);
    put16(q, class_in);
    q += '\0'; // OPT: root name, type, UDP size, extended rcode/flags, no data
    put16(q, type_opt);
    put16(q, 4096);
    put16(q, 0);
    put16(q, 0);
    put16(q, 0);
    return q;
}

// Bounds-checked reading of an answer.
struct reader {
    std::string_view msg;
    std::size_t pos = 0;
    bool ok = true;

    std::uint8_t u8(std::size_t at) {
        if (at >= msg.size()) {
            ok = false;
            return 0;
        }
        return static_cast<std::uint8_t>(msg[at]);
    }
    std::uint16_t u16() {
        auto v = static_cast<std::uint16_t>(u8(pos) << 8 | u8(pos + 1));
        pos += 2;
        return v;
    }
    // A name at `pos`, following compression pointers (at most 64 jumps).
    std::string name() {
        std::string out;
        std::size_t at = pos;
        bool jumped = false;
        for (int jumps = 0; ok && jumps < 64;) {
            auto len = u8(at);
            if ((len & 0xc0) == 0xc0) {
                auto target = static_cast<std::size_t>((len & 0x3f) << 8 | u8(at + 1));
                if (!jumped) pos = at + 2;
                jumped = true;
                at = target;
                ++jumps;
                continue;
            }
            if (len == 0) {
                if (!jumped) pos = at + 1;
                return out;
            }
            if (at + 1 + len > msg.size()) break;
            if (!out.empty()) out += '.';
            out.append(msg.substr(at + 1, len));
            at += 1 + len;
        }
        ok = false;
        return out;
    }
};

struct answer {
    std::vector<::asio::ip::address> addresses;
    std::vector<srv_target> srv;
};

failure parse_answer(std::string_view msg, std::uint16_t id, answer& out) {
    reader r{msg};
    if (r.u16() != id) return dns_failure("answer to another query");
    auto flags = r.u16();
    auto qd = r.u16(), an = r.u16();
    r.u16();
    r.u16();
    if (!r.ok || !(flags & 0x8000)) return dns_failure("not an answer");
    if (flags & 0x0200) return dns_failure("answer truncated (more records than fit in 4096 bytes)");
    static const char* rcodes[] = {"", "format error", "server failure", "no such name", "not implemented", "refused"};
    if (auto rcode = flags & 0xf) return dns_failure(rcode < 6 ? rcodes[rcode] : fmt::format("error {}", rcode));
    for (unsigned i = 0; i < qd && r.ok; ++i) {
        r.name();
        r.pos += 4;
    }
    for (unsigned i = 0; i < an && r.ok; ++i) {
        r.name();
        auto type = r.u16();
        r.u16(); // class
        r.pos += 4; // ttl
        auto len = r.u16();
        auto data = r.pos;
        if (!r.ok || data + len > msg.size()) return dns_failure("malformed answer");
        if (type == type_a && len == 4) {
            ::asio::ip::address_v4::bytes_type b;
            std::copy_n(msg.data() + data, 4, reinterpret_cast<char*>(b.data()));
            out.addresses.emplace_back(::asio::ip::address_v4(b));
        } else if (type == type_aaaa && len == 16) {
            ::asio::ip::address_v6::bytes_type b;
            std::copy_n(msg.data() + data, 16, reinterpret_cast<char*>(b.data()));
            out.addresses.emplace_back(::asio::ip::address_v6(b));
        } else if (type == type_srv && len >= 7) {
            srv_target t;
            t.priority = r.u16();
            t.weight = r.u16();
            t.port = r.u16();
            t.host = r.name();
            out.srv.push_back(std::move(t));
        }
        r.pos = data + len;
    }
    return r.ok ? failure{} : dns_failure("malformed answer");
}

// One question, `options.attempts` times at most, each within `timeout`.
awaitable<failure> ask(std::string_view name, std::uint16_t type, const dns_options& options, answer& out) {
    auto ex = co_await ::asio::this_coro::executor;
    auto server = options.server.value_or(default_server());
    static thread_local std::mt19937 ids{std::random_device{}()};
    failure last = dns_failure(fmt::format("no answer from {} for {}", server.address().to_string(), name));
    for (int attempt = 0; attempt < std::max(options.attempts, 1); ++attempt) {
        auto id = static_cast<std::uint16_t>(ids());
        auto query = encode_query(id, name, type);
        if (!query) co_return dns_failure(fmt::format("not a DNS name: '{}'", name));
        ::asio::ip::udp::socket socket(ex);
        std::error_code ec;
        socket.open(server.protocol(), ec);
        if (!ec) socket.connect(server, ec); // only the server's datagrams arrive
        if (ec) co_return failure{ec, fmt::format("DNS: {}", ec.message())};
        auto [sec, sent] = co_await socket.async_send(::asio::buffer(*query), compat::use_nothrow);
        (void)sent;
        auto deadline = clock::now() + options.timeout;
        std::string buffer(4096, '\0');
        while (!sec) { // skip stray datagrams until ours or the deadline
            auto receive = [&]() -> awaitable<std::pair<std::error_code, std::size_t>> {
                auto [rec, n] = co_await socket.async_receive(::asio::buffer(buffer), compat::use_nothrow);
                co_return std::pair{rec, n};
            };
            auto got = co_await with_deadline(receive, deadline);
            auto state = co_await ::asio::this_coro::cancellation_state;
            if (state.cancelled() != ::asio::cancellation_type::none)
                co_return failure{::asio::error::operation_aborted, "cancelled"};
            if (got.expired || !got.value) break;
            auto [rec, n] = *got.value;
            if (rec) {
                last = failure{rec, fmt::format("DNS: {}", rec.message())};
                break;
            }
            std::string_view msg(buffer.data(), n);
            bool ours = n >= 2 && (static_cast<std::uint8_t>(msg[0]) << 8 | static_cast<std::uint8_t>(msg[1])) == id;
            if (!ours) continue;
            answer a;
            auto f = parse_answer(msg, id, a);
            if (!f) out = std::move(a);
            co_return f;
        }
    }
    co_return last;
}

} // namespace

awaitable<result<std::vector<::asio::ip::address>>> dns_addresses(std::string name, dns_options options) {
    result<std::vector<::asio::ip::address>> r;
    answer v4, v6;
    auto f4 = co_await ask(name, type_a, options, v4);
    if (f4.code == ::asio::error::operation_aborted) {
        r.fail = f4;
        co_return r;
    }
    auto f6 = co_await ask(name, type_aaaa, options, v6);
    if (f4 && f6) { // one family answering is enough
        r.fail = f4;
        co_return r;
    }
    r.value = std::move(v4.addresses);
    r.value.insert(r.value.end(), v6.addresses.begin(), v6.addresses.end());
    co_return r;
}

awaitable<result<std::vector<srv_target>>> dns_srv(std::string name, dns_options options) {
    result<std::vector<srv_target>> r;
    answer a;
    r.fail = co_await ask(name, type_srv, options, a);
    std::stable_sort(a.srv.begin(), a.srv.end(), [](auto& x, auto& y) {
        return x.priority != y.priority ? x.priority < y.priority : x.weight > y.weight;
    });
    r.value = std::move(a.srv);
    co_return r;
}

dns_source::dns_source(std::string name, kind k, std::uint16_t port, dns_options options, duration every)
    : name_(std::move(name)), kind_(k), port_(port), options_(std::move(options)), every_(every) {
    if (kind_ == kind::srv && !name_.starts_with("_")) name_ = "_ollama._tcp." + name_;
}

std::string dns_source::describe() const { return (kind_ == kind::srv ? "srv:" : "dns:") + name_; }

namespace {

std::string url_of(const ::asio::ip::address& a, std::uint16_t port) {
    return a.is_v6() ? fmt::format("http://[{}]:{}", a.to_string(), port) : fmt::format("http://{}:{}", a.to_string(), port);
}

} // namespace

awaitable<result<std::vector<found_node>>> dns_source::list() {
    result<std::vector<found_node>> r;
    if (kind_ == kind::addresses) {
        auto found = co_await dns_addresses(name_, options_);
        r.fail = found.fail;
        for (auto& a : found.value) r.value.push_back({url_of(a, port_)});
        co_return r;
    }
    auto targets = co_await dns_srv(name_, options_);
    r.fail = targets.fail;
    for (auto& t : targets.value) {
        if (r.fail) break;
        auto addresses = co_await dns_addresses(t.host, options_);
        if (addresses.fail.code == ::asio::error::operation_aborted) r.fail = addresses.fail;
        if (addresses.fail || addresses.value.empty()) r.value.push_back({fmt::format("http://{}:{}", t.host, t.port)});
        for (auto& a : addresses.value) r.value.push_back({url_of(a, t.port)});
    }
    if (r.fail) r.value.clear();
    co_return r;
}

} // namespace herd
