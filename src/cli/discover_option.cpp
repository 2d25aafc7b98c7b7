#include "cli/discover_option.hpp"

#include <fmt/format.h>

namespace herd::cli {

std::vector<std::string> discover_option_names() {
    return {"discover", "dns-server", "scan-concurrency", "scan-rate", "scan-timeout"};
}

bool wants_discovery(const args& a) { return !a.all("discover").empty(); }

namespace {

::asio::ip::udp::endpoint dns_server(const std::string& text) {
    // "1.2.3.4", "1.2.3.4:5353", "[::1]:5353", "::1"
    std::string host = text, port = "53";
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        host = text.substr(1, close == std::string::npos ? std::string::npos : close - 1);
        if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
    } else if (text.find(':') == text.rfind(':') && text.find(':') != std::string::npos) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    std::error_code ec;
    auto address = ::asio::ip::make_address(host, ec);
    unsigned long p = 0;
    try {
        p = std::stoul(port);
    } catch (const std::exception&) {
        ec = std::make_error_code(std::errc::invalid_argument);
    }
    if (ec || p == 0 || p > 65535) throw std::invalid_argument("--dns-server takes ADDRESS[:PORT], not '" + text + "'");
    return {address, static_cast<std::uint16_t>(p)};
}

} // namespace

std::unique_ptr<discovery> start_discovery(::asio::io_context& io, pool& p, const args& a, bool quiet) {
    if (!wants_discovery(a)) return nullptr;
    discover_options o;
    if (auto server = a.get("dns-server")) o.dns.server = dns_server(*server);
    o.scan.concurrency = a.number_or("scan-concurrency", o.scan.concurrency);
    o.scan.per_second = a.real_or("scan-rate", o.scan.per_second);
    o.scan.per_host_timeout = from_seconds(a.real_or("scan-timeout", 1.0));
    if (o.scan.concurrency == 0 || o.scan.per_second <= 0)
        throw std::invalid_argument("--scan-concurrency and --scan-rate take numbers above 0");
    if (!quiet) o.on_event = [](const std::string& line) { fmt::print(stderr, "herd: {}\n", line); };
    std::unique_ptr<discovery> d;
    std::exception_ptr error;
    bool done = false;
    ::asio::co_spawn(io, discover(p, a.all("discover"), std::move(o)),
                     [&](std::exception_ptr e, std::unique_ptr<discovery> r) {
                         error = e;
                         d = std::move(r);
                         done = true;
                     });
    while (!done && io.run_one() > 0) {
    }
    io.restart();
    if (error) std::rethrow_exception(error); // a bad spec: std::invalid_argument
    return d;
}

} // namespace herd::cli
