#pragma once
// TLS for https:// nodes: OpenSSL through Asio's ssl support. The peer's
// certificate chain and its host name (or IP address, for a numeric host)
// are verified by default, against the system's CA store or the CAs in
// ca_file; SNI is sent for host names. The context is opaque here so that
// herd's public headers need no OpenSSL headers.

#include <memory>
#include <string>

namespace herd::http {

struct tls_options {
    std::string ca_file; ///< PEM file of trusted CAs; empty: the system's store
    bool verify = true;  ///< false accepts any certificate: for tests only
};

/// An asio::ssl::context set up from tls_options (src/http/tls.cpp).
class tls_context;

/// Makes a client context. Throws herd::error (errc::tls_failed) naming the
/// file when ca_file cannot be read or holds no certificate.
std::shared_ptr<tls_context> make_tls_context(const tls_options& options);

} // namespace herd::http
