#pragma once
// The byte stream under a connection or a body_stream: a TCP socket, or TLS
// over one for https:// nodes. Private to src/http so that only this file
// and tls.cpp see OpenSSL.
//
// open() resolves nothing: it connects to `endpoints` and, for TLS, runs
// the handshake (SNI, certificate and host-name verification), all within
// `timeout`. Errors: errc::connect_failed (refused, unreachable, timed out),
// errc::tls_failed with the reason in failure_reason() (bad certificate,
// a peer that does not speak TLS). Cancellation gives operation_aborted.
// read_some()/write() are Asio's own operations on the right stream, so
// they add no coroutine frame. Not thread-safe.

#include <herd/async/compat.hpp>
#include <herd/http/connect.hpp>
#include <herd/http/tls.hpp>

#include <asio/ssl.hpp>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace herd::http {

class tls_context {
public:
    explicit tls_context(const tls_options& options);
    ::asio::ssl::context& native() noexcept { return context_; }

private:
    ::asio::ssl::context context_;
};

/// The context a connection to `target` uses: `configured` for an https://
/// target (a default one, the system's CAs, when null), none for http://.
std::shared_ptr<tls_context> tls_for(const url& target, std::shared_ptr<tls_context> configured);

class transport {
public:
    using io_result = std::tuple<std::error_code, std::size_t>;

    /// `tls` null: plain TCP. `server_name` is verified and sent as SNI.
    transport(executor ex, std::shared_ptr<tls_context> tls, std::string server_name);

    awaitable<std::error_code> open(const resolved_endpoints& endpoints, duration timeout);
    void close() noexcept;
    /// Why the last open() failed with errc::tls_failed (empty otherwise).
    const std::string& failure_reason() const noexcept { return reason_; }

    template <typename Buffers>
    awaitable<io_result> read_some(const Buffers& buffers) {
        if (tls_stream_) return tls_read_some(tls_stream_, buffers);
        return socket_.async_read_some(buffers, compat::use_nothrow);
    }
    template <typename Buffers>
    awaitable<io_result> write(const Buffers& buffers) {
        if (tls_stream_) return tls_write(tls_stream_, buffers);
        return ::asio::async_write(socket_, buffers, compat::use_nothrow);
    }

private:
    using tls_stream = ::asio::ssl::stream<::asio::ip::tcp::socket>;

    // An operation on a TLS stream uses the stream until its handler runs,
    // which is after close(): these frames keep it alive that long.
    template <typename Buffers>
    static awaitable<io_result> tls_read_some(std::shared_ptr<tls_stream> stream, Buffers buffers) {
        co_return co_await stream->async_read_some(buffers, compat::use_nothrow);
    }
    template <typename Buffers>
    static awaitable<io_result> tls_write(std::shared_ptr<tls_stream> stream, Buffers buffers) {
        co_return co_await ::asio::async_write(*stream, buffers, compat::use_nothrow);
    }

    executor ex_;
    std::shared_ptr<tls_context> tls_;
    std::string server_name_;
    ::asio::ip::tcp::socket socket_;
    // A TLS session cannot be reused after close: one stream per open().
    std::shared_ptr<tls_stream> tls_stream_;
    std::string reason_;
};

} // namespace herd::http
