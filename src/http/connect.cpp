#include <herd/http/connect.hpp>

namespace herd::http {

awaitable<std::pair<std::error_code, resolved_endpoints>> resolve(const url& target) {
    ::asio::ip::tcp::resolver resolver(co_await ::asio::this_coro::executor);
    auto [ec, results] = co_await resolver.async_resolve(target.host, std::to_string(target.port), compat::use_nothrow);
    co_return std::pair{ec, std::move(results)};
}

awaitable<std::error_code> connect_within(::asio::ip::tcp::socket& socket, const resolved_endpoints& endpoints,
                                          duration timeout) {
    using namespace compat::awaitable_operators;
    ::asio::steady_timer timer(co_await ::asio::this_coro::executor, timeout);
    auto r = co_await (::asio::async_connect(socket, endpoints, compat::use_nothrow) ||
                       timer.async_wait(compat::use_nothrow));
    // The timer's branch ends with operation_aborted only when the caller
    // cancelled: that is the caller's doing, not a refusal by the node.
    std::error_code ec = r.index() == 0 ? std::get<0>(std::get<0>(r)) : std::get<0>(std::get<1>(r));
    if (r.index() == 1 && !ec) ec = errc::connect_failed;
    if (!ec) socket.set_option(::asio::ip::tcp::no_delay(true), ec);
    if (ec) {
        std::error_code ignored;
        socket.close(ignored);
        if (ec != ::asio::error::operation_aborted) ec = errc::connect_failed;
    }
    co_return ec;
}

} // namespace herd::http
