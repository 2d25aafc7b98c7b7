#pragma once
// Test-only TLS in front of a plain loopback server: a certificate made by
// the test (openssl CLI) for 127.0.0.1, and a terminator on its own thread
// that accepts TLS and passes bytes to the plain port, as a reverse proxy
// in front of an Ollama node would.
//
//   auto certs = herd::test::make_test_certs();        // CA, server cert, another CA
//   herd::test::tls_terminator tls(sim_port, certs);  // https://127.0.0.1:tls.port()

#include <herd/async/compat.hpp>

#include <asio/ssl.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

namespace herd::test {

struct test_certs {
    std::filesystem::path dir, ca, cert, key, other_ca;
};

/// A CA, a server certificate it signed for IP 127.0.0.1 (no DNS name), and
/// an unrelated CA, in a fresh temporary directory. Fails the test when the
/// openssl tool is missing or fails.
inline test_certs make_test_certs() {
    test_certs c;
    c.dir = std::filesystem::temp_directory_path() / ("herd-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(c.dir);
    c.ca = c.dir / "ca.pem";
    c.cert = c.dir / "server.pem";
    c.key = c.dir / "server.key";
    c.other_ca = c.dir / "other-ca.pem";
    std::string d = c.dir.string();
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script = "cd '" + d + "' && exec 2>openssl.log"
        " && openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=herd test CA'"
        " && openssl req" + ec + " -keyout server.key -out server.csr -subj '/CN=127.0.0.1'"
        " && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        "    -extfile ext.cnf -out server.pem"
        " && openssl req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=other CA'";
    INFO("openssl log: " << d << "/openssl.log");
    REQUIRE(std::system(script.c_str()) == 0);
    return c;
}

class tls_terminator {
public:
    tls_terminator(std::uint16_t plain_port, const test_certs& certs)
        : target_(::asio::ip::make_address_v4("127.0.0.1"), plain_port) {
        ssl_.use_certificate_chain_file(certs.cert.string());
        ssl_.use_private_key_file(certs.key.string(), ::asio::ssl::context::pem);
        acceptor_.open(tcp::v4());
        acceptor_.bind({::asio::ip::make_address_v4("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        ::asio::co_spawn(io_, accept_loop(), ::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~tls_terminator() {
        io_.stop();
        thread_.join();
    }
    tls_terminator(const tls_terminator&) = delete;
    tls_terminator& operator=(const tls_terminator&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// Handshakes that completed / failed (a client refusing our certificate).
    std::size_t handshakes() const noexcept { return handshakes_; }
    std::size_t failed_handshakes() const noexcept { return failed_; }

private:
    using tcp = ::asio::ip::tcp;
    using tls_stream = ::asio::ssl::stream<tcp::socket>;
    struct link {
        link(tcp::socket s, ::asio::ssl::context& ctx) : client(std::move(s), ctx), upstream(client.get_executor()) {}
        tls_stream client;
        tcp::socket upstream;
        void close() {
            std::error_code ignored;
            client.lowest_layer().close(ignored);
            upstream.close(ignored);
        }
    };

    ::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(compat::use_nothrow);
            if (ec) co_return;
            ::asio::co_spawn(io_, serve(std::make_shared<link>(std::move(socket), ssl_)), ::asio::detached);
        }
    }

    ::asio::awaitable<void> serve(std::shared_ptr<link> l) {
        auto [hec] = co_await l->client.async_handshake(::asio::ssl::stream_base::server, compat::use_nothrow);
        if (hec) {
            ++failed_;
            l->close();
            co_return;
        }
        ++handshakes_;
        auto [cec] = co_await l->upstream.async_connect(target_, compat::use_nothrow);
        if (cec) {
            l->close();
            co_return;
        }
        ::asio::co_spawn(io_, pump(l, l->client, l->upstream), ::asio::detached);
        co_await pump(l, l->upstream, l->client);
    }

    template <typename From, typename To>
    static ::asio::awaitable<void> pump(std::shared_ptr<link> l, From& from, To& to) {
        std::array<char, 16384> buf;
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(::asio::buffer(buf), compat::use_nothrow);
            if (ec) break;
            auto [wec, written] = co_await ::asio::async_write(to, ::asio::buffer(buf, n), compat::use_nothrow);
            if (wec) break;
        }
        l->close();
    }

    ::asio::io_context io_;
    ::asio::ssl::context ssl_{::asio::ssl::context::tls_server};
    tcp::acceptor acceptor_{io_};
    tcp::endpoint target_;
    std::uint16_t port_ = 0;
    std::atomic<std::size_t> handshakes_{0}, failed_{0};
    std::thread thread_;
};

} // namespace herd::test
