#pragma once
// A small authoritative DNS server on 127.0.0.1 for tests: answers A, AAAA
// and SRV questions from records the test sets (and changes) while it runs;
// an unknown name gets NXDOMAIN. Written apart from herd's resolver so the
// two do not share mistakes. One question per query, no compression in
// questions (what herd sends).

#include <herd/async/compat.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace herd::test {

struct srv_record {
    std::uint16_t priority, weight, port;
    std::string target;
};

class dns_server {
public:
    explicit dns_server(::asio::io_context& io)
        : socket_(io, ::asio::ip::udp::endpoint(::asio::ip::make_address("127.0.0.1"), 0)) {
        ::asio::co_spawn(io, serve(), ::asio::detached);
    }
    ~dns_server() { socket_.close(); }

    ::asio::ip::udp::endpoint endpoint() const { return socket_.local_endpoint(); }
    std::map<std::string, std::vector<std::string>> addresses; ///< name -> "1.2.3.4", "::1"
    std::map<std::string, std::vector<srv_record>> srv;
    bool silent = false;  ///< read queries, answer none
    int queries = 0;

private:
    static void put16(std::string& out, unsigned v) {
        out += static_cast<char>((v >> 8) & 0xff);
        out += static_cast<char>(v & 0xff);
    }
    static void put_name(std::string& out, const std::string& name) {
        std::size_t pos = 0;
        while (pos < name.size()) {
            auto dot = name.find('.', pos);
            if (dot == std::string::npos) dot = name.size();
            out += static_cast<char>(dot - pos);
            out += name.substr(pos, dot - pos);
            pos = dot + 1;
        }
        out += '\0';
    }

    std::string answer(const std::string& q) {
        std::string name;
        std::size_t pos = 12;
        while (pos < q.size() && q[pos] != 0) {
            auto len = static_cast<std::size_t>(static_cast<unsigned char>(q[pos]));
            if (!name.empty()) name += '.';
            name += q.substr(pos + 1, len);
            pos += 1 + len;
        }
        auto qtype = static_cast<unsigned>(static_cast<unsigned char>(q[pos + 1]) << 8 | static_cast<unsigned char>(q[pos + 2]));
        std::string question = q.substr(12, pos + 5 - 12);
        std::vector<std::string> rrs;
        bool known = addresses.count(name) || srv.count(name);
        auto rr = [&](unsigned type, const std::string& data) {
            std::string r;
            put16(r, 0xc00c); // the question's name
            put16(r, type);
            put16(r, 1);
            put16(r, 0);
            put16(r, 60);
            put16(r, static_cast<unsigned>(data.size()));
            rrs.push_back(r + data);
        };
        static const std::vector<std::string> none;
        auto listed = addresses.find(name);
        for (auto& text : listed == addresses.end() ? none : listed->second) {
            auto a = ::asio::ip::make_address(text);
            if (a.is_v4() && qtype == 1) {
                auto b = a.to_v4().to_bytes();
                rr(1, std::string(b.begin(), b.end()));
            } else if (a.is_v6() && qtype == 28) {
                auto b = a.to_v6().to_bytes();
                rr(28, std::string(b.begin(), b.end()));
            }
        }
        if (auto records = srv.find(name); qtype == 33 && records != srv.end())
            for (auto& s : records->second) {
                std::string d;
                put16(d, s.priority);
                put16(d, s.weight);
                put16(d, s.port);
                put_name(d, s.target);
                rr(33, d);
            }
        std::string out = q.substr(0, 2);
        put16(out, known ? 0x8180 : 0x8183); // answer, RD, RA; NXDOMAIN when unknown
        put16(out, 1);
        put16(out, static_cast<unsigned>(rrs.size()));
        put16(out, 0);
        put16(out, 0);
        out += question;
        for (auto& r : rrs) out += r;
        return out;
    }

    awaitable<void> serve() {
        char buf[1500];
        for (;;) {
            ::asio::ip::udp::endpoint from;
            auto [ec, n] = co_await socket_.async_receive_from(::asio::buffer(buf), from, compat::use_nothrow);
            if (ec == ::asio::error::operation_aborted || !socket_.is_open()) co_return;
            if (ec || n < 17) continue;
            ++queries;
            if (silent) continue;
            auto reply = answer(std::string(buf, n));
            co_await socket_.async_send_to(::asio::buffer(reply), from, compat::use_nothrow);
        }
    }

    ::asio::ip::udp::socket socket_;
};

} // namespace herd::test
