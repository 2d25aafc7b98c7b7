#include "baseline/plain_client.hpp"

#include <herd/http/parser.hpp>
#include <herd/http/url.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace herd::baseline {
namespace {

using steady = std::chrono::steady_clock;

class blocking_connection {
public:
    explicit blocking_connection(const http::url& u) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &found) != 0 || !found)
            throw std::runtime_error("cannot resolve " + u.str());
        fd_ = ::socket(found->ai_family, SOCK_STREAM, 0);
        int ok = fd_ >= 0 ? ::connect(fd_, found->ai_addr, found->ai_addrlen) : -1;
        freeaddrinfo(found);
        if (ok != 0) throw std::runtime_error("cannot connect to " + u.str() + ": " + std::strerror(errno));
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~blocking_connection() {
        if (fd_ >= 0) ::close(fd_);
    }
    blocking_connection(const blocking_connection&) = delete;
    blocking_connection& operator=(const blocking_connection&) = delete;

    // Sends `request` and reads one whole response.
    http::message exchange(const std::string& request) {
        for (std::size_t sent = 0; sent < request.size();) {
            auto n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
            sent += static_cast<std::size_t>(n);
        }
        for (;;) {
            if (!pending_.empty()) {
                auto r = parser_.feed(pending_);
                if (r.ec) throw std::runtime_error("bad response: " + r.ec.message());
                pending_.erase(0, r.consumed);
                if (r.complete) return parser_.take();
                if (!pending_.empty()) continue;
            }
            char buf[65536];
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) throw std::runtime_error("connection closed by the node");
            pending_.assign(buf, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_ = -1;
    http::parser parser_{http::message_kind::response};
    std::string pending_;
};

std::string embed_request(const http::url& u, const std::string& model, const std::vector<std::string>& texts,
                          std::size_t first, std::size_t batch) {
    nlohmann::json input = nlohmann::json::array();
    for (std::size_t k = 0; k < batch; ++k) input.push_back(texts[(first + k) % texts.size()]);
    std::string body = nlohmann::json{{"model", model}, {"input", std::move(input)}}.dump();
    return "POST /api/embed HTTP/1.1\r\nHost: " + u.authority() +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace

rate_point measure_point(const std::string& url, const std::string& model, const std::vector<std::string>& texts,
                         std::size_t batch, std::size_t depth, const sweep_options& options) {
    auto u = http::url::parse(url);
    if (!u) throw std::runtime_error("not a node URL: " + url);
    if (texts.empty() || batch == 0 || depth == 0) throw std::runtime_error("measure_point: nothing to send");
    // Requests are prepared before the clock starts: the client's own cost
    // is not the node's.
    std::vector<std::string> requests;
    for (std::size_t k = 0; k < std::min<std::size_t>(texts.size(), 64); ++k)
        requests.push_back(embed_request(*u, model, texts, k * batch, batch));
    std::vector<std::unique_ptr<blocking_connection>> conns;
    for (std::size_t d = 0; d < depth; ++d) conns.push_back(std::make_unique<blocking_connection>(*u));

    std::atomic<std::size_t> started{0}, done{0};
    std::atomic<steady::rep> last_answer{0};
    std::string error;
    std::atomic<bool> failed{false};
    auto t0 = steady::now();
    auto soft_end = t0 + std::chrono::duration_cast<steady::duration>(options.point_time);
    auto hard_end = t0 + std::chrono::duration_cast<steady::duration>(options.max_point_time);
    std::vector<std::thread> threads;
    for (std::size_t d = 0; d < depth; ++d)
        threads.emplace_back([&, d] {
            try {
                for (std::size_t mine = 0;; ++mine) {
                    auto now = steady::now();
                    bool enough = now >= soft_end && mine >= 2;
                    if (enough || now >= hard_end || failed) break;
                    auto k = started++;
                    if (k >= options.max_requests) break;
                    auto reply = conns[d]->exchange(requests[k % requests.size()]);
                    if (reply.status != 200)
                        throw std::runtime_error("HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200));
                    ++done;
                    auto at = (steady::now() - t0).count();
                    for (auto seen = last_answer.load(); seen < at && !last_answer.compare_exchange_weak(seen, at);) {}
                }
            } catch (const std::exception& e) {
                if (!failed.exchange(true)) error = e.what();
            }
        });
    for (auto& t : threads) t.join();
    if (failed) throw std::runtime_error(url + ": " + error);
    rate_point p;
    p.batch = batch;
    p.depth = depth;
    p.texts = done * batch;
    p.seconds = std::chrono::duration<double>(steady::duration(last_answer.load())).count();
    return p;
}

std::vector<node_capacity> measure_capacity(const std::vector<std::string>& urls, const std::string& model,
                                            const std::vector<std::string>& texts, const sweep_options& options) {
    std::vector<node_capacity> out(urls.size());
    std::vector<std::string> errors(urls.size());
    std::vector<std::thread> nodes;
    for (std::size_t i = 0; i < urls.size(); ++i)
        nodes.emplace_back([&, i] {
            try {
                auto& c = out[i];
                c.url = urls[i];
                rate_point top;
                auto keep = [&](rate_point p) {
                    c.sweep.push_back(p);
                    if (p.rate() > top.rate()) top = p;
                };
                for (auto b : options.batches) keep(measure_point(urls[i], model, texts, b, 2, options));
                std::size_t best_batch = top.batch;
                for (auto d : options.depths)
                    if (d != 2) keep(measure_point(urls[i], model, texts, best_batch, d, options));
                auto confirm = options;
                confirm.point_time = options.confirm_time;
                c.best = measure_point(urls[i], model, texts, top.batch, top.depth, confirm);
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        });
    for (auto& t : nodes) t.join();
    for (auto& e : errors)
        if (!e.empty()) throw std::runtime_error("capacity sweep: " + e);
    return out;
}

} // namespace herd::baseline
