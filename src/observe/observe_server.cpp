#include "observe/observe_server.hpp"

#include "observe/routes.hpp"

#include <charconv>
#include <stdexcept>

namespace herd::observe {

serve::tcp::endpoint parse_endpoint(std::string_view address) {
    auto bad = [&] {
        return std::invalid_argument("not an address to listen on: '" + std::string(address) +
                                     "' (HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
    };
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) throw bad();
    auto host = address.substr(0, colon), port_text = address.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) throw bad();
    std::error_code aec;
    auto ip = ::asio::ip::make_address(std::string(host), aec);
    if (aec) throw bad();
    return {ip, static_cast<unsigned short>(port)};
}

observe_server::observe_server(pool& p, std::string_view address)
    : server_(p.get_executor(), routes_.as_handler()) {
    add_routes(routes_, p);
    server_.listen(parse_endpoint(address));
    server_.start();
}

} // namespace herd::observe
