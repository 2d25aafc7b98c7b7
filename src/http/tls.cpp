#include "transport.hpp"

#include <herd/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace herd::http {

tls_context::tls_context(const tls_options& options) : context_(::asio::ssl::context::tls_client) {
    context_.set_options(::asio::ssl::context::default_workarounds | ::asio::ssl::context::no_sslv2 |
                         ::asio::ssl::context::no_sslv3 | ::asio::ssl::context::no_tlsv1 |
                         ::asio::ssl::context::no_tlsv1_1);
    std::error_code ec;
    if (options.ca_file.empty()) {
        context_.set_default_verify_paths(ec);
    } else {
        context_.load_verify_file(options.ca_file, ec);
    }
    if (ec)
        throw error(errc::tls_failed,
                    "cannot load CA certificates" + (options.ca_file.empty() ? std::string() : " from '" + options.ca_file + "'") +
                        ": " + ec.message());
    context_.set_verify_mode(options.verify ? ::asio::ssl::verify_peer : ::asio::ssl::verify_none);
}

std::shared_ptr<tls_context> make_tls_context(const tls_options& options) {
    return std::make_shared<tls_context>(options);
}

std::shared_ptr<tls_context> tls_for(const url& target, std::shared_ptr<tls_context> configured) {
    if (!target.tls()) return nullptr;
    return configured ? configured : make_tls_context({});
}

transport::transport(executor ex, std::shared_ptr<tls_context> tls, std::string server_name)
    : ex_(ex), tls_(std::move(tls)), server_name_(std::move(server_name)), socket_(ex) {}

void transport::close() noexcept {
    std::error_code ignored;
    if (tls_stream_) {
        tls_stream_->lowest_layer().close(ignored);
        tls_stream_.reset();
    }
    socket_.close(ignored);
}

namespace {

// Tells OpenSSL which name (or address) the certificate must carry, and
// sends SNI for names: SNI may not carry an address (RFC 6066).
bool expect_peer(SSL* ssl, const std::string& name) {
    std::error_code ec;
    (void)::asio::ip::make_address(name, ec); // only: is it an address?
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1;
    return X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1 &&
           SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
}

std::string verify_reason(SSL* ssl, const std::error_code& ec) {
    long result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK) return std::string("certificate rejected: ") + X509_verify_cert_error_string(result);
    return ec.message();
}

} // namespace

awaitable<std::error_code> transport::open(const resolved_endpoints& endpoints, duration timeout) {
    reason_.clear();
    close();
    auto deadline = clock::now() + timeout;
    auto ec = co_await connect_within(socket_, endpoints, timeout);
    if (ec || !tls_) co_return ec;

    tls_stream_ = std::make_shared<tls_stream>(std::move(socket_), tls_->native());
    socket_ = ::asio::ip::tcp::socket(ex_);
    if (!expect_peer(tls_stream_->native_handle(), server_name_)) {
        reason_ = "cannot set the expected peer name '" + server_name_ + "'";
        close();
        co_return errc::tls_failed;
    }
    using namespace compat::awaitable_operators;
    ::asio::steady_timer timer(ex_, deadline);
    auto stream = tls_stream_; // alive until the handshake's handler ran
    auto r = co_await (stream->async_handshake(::asio::ssl::stream_base::client, compat::use_nothrow) ||
                       timer.async_wait(compat::use_nothrow));
    if (r.index() == 1) {
        auto [tec] = std::get<1>(r);
        close();
        if (tec == ::asio::error::operation_aborted) co_return tec;
        reason_ = "TLS handshake timed out";
        co_return errc::tls_failed;
    }
    auto [hec] = std::get<0>(r);
    if (hec == ::asio::error::operation_aborted) {
        close();
        co_return hec;
    }
    if (hec) {
        reason_ = verify_reason(tls_stream_->native_handle(), hec);
        close();
        co_return errc::tls_failed;
    }
    co_return std::error_code{};
}

} // namespace herd::http
