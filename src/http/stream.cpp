#include <herd/http/connect.hpp>
#include <herd/http/stream.hpp>

#include "transport.hpp"

namespace herd::http {

body_stream::body_stream(executor ex, url target, connection_options options)
    : socket_(std::make_unique<transport>(ex, tls_for(target, options.tls), target.host)), target_(std::move(target)), options_(options),
      parser_(message_kind::response, options.limits), buffer_(16 * 1024) {
    parser_.set_body_sink([this](std::string_view piece) { pending_.append(piece); });
}

body_stream::~body_stream() { close(); }

void body_stream::close() { socket_->close(); }

const std::string& body_stream::reason() const noexcept { return socket_->failure_reason(); }

awaitable<std::error_code> body_stream::start(std::string request, time_point deadline) {
    auto [rec, endpoints] = co_await resolve(target_);
    if (rec) co_return errc::connect_failed;
    auto timeout = std::min<duration>(options_.connect_timeout, deadline - clock::now());
    // co_await statements are kept out of if-conditions: g++ 12 miscompiles
    // some of those (an illegal instruction at run time).
    auto connected = co_await socket_->open(endpoints, timeout);
    if (connected) co_return connected;

    using namespace compat::awaitable_operators;
    ::asio::steady_timer timer(co_await ::asio::this_coro::executor, deadline);
    auto written = co_await (socket_->write(::asio::buffer(request)) ||
                             timer.async_wait(compat::use_nothrow));
    if (written.index() == 1) { // the deadline, or the caller cancelled
        auto [tec] = std::get<1>(written);
        co_return tec ? std::error_code(tec) : make_error_code(errc::timeout);
    }
    auto [wec, wn] = std::get<0>(written);
    if (wec == ::asio::error::operation_aborted) co_return wec;
    if (wec) co_return errc::connection_lost;
    while (!parser_.headers_done() && !finished_) {
        auto ec = co_await fill(deadline);
        if (ec) co_return ec;
    }
    if (!finished_) head_ = parser_.current(); // else fill() kept it
    status_ = head_.status;
    co_return std::error_code{};
}

awaitable<std::error_code> body_stream::fill(time_point deadline) {
    if (finished_) co_return std::error_code{};
    using namespace compat::awaitable_operators;
    ::asio::steady_timer timer(co_await ::asio::this_coro::executor, deadline);
    auto r = co_await (socket_->read_some(::asio::buffer(buffer_)) ||
                       timer.async_wait(compat::use_nothrow));
    if (r.index() == 1) {
        auto [tec] = std::get<1>(r);
        co_return tec ? std::error_code(tec) : make_error_code(errc::timeout);
    }
    auto [ec, n] = std::get<0>(r);
    if (ec == ::asio::error::operation_aborted) co_return ec;
    if (ec) {
        auto f = parser_.finish(); // a body delimited by the close
        if (f.complete) {
            finished_ = true;
            co_return std::error_code{};
        }
        co_return errc::connection_lost;
    }
    std::string_view data(buffer_.data(), n);
    while (!data.empty()) {
        auto p = parser_.feed(data);
        if (p.ec) co_return p.ec;
        data.remove_prefix(p.consumed);
        if (p.complete) {
            head_ = parser_.take(); // its body went to pending_
            finished_ = true;
            break; // one request per stream: bytes after it are ignored
        }
    }
    co_return std::error_code{};
}

awaitable<std::optional<std::string>> body_stream::read(time_point deadline, std::error_code& ec) {
    ec = {};
    while (pending_.empty() && !finished_) {
        auto filled = co_await fill(deadline);
        if (filled) {
            ec = filled;
            co_return std::nullopt;
        }
    }
    if (pending_.empty()) co_return std::nullopt;
    co_return std::exchange(pending_, {});
}

} // namespace herd::http
