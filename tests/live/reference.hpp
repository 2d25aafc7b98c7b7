#pragma once
// The real server's own answers, fetched without herd: what the live tests
// compare herd's results with.
//
// Requests go over a fresh blocking HTTP/1.0 connection, so Ollama answers
// with a close-delimited body (no chunking, no keep-alive) that a few lines
// can read; the JSON is parsed with nlohmann. A herd bug therefore cannot
// hide on both sides of a comparison.

#include "live/live_env.hpp"

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace herd::live {

struct reply {
    int status = 0;
    nlohmann::json body; ///< null when the body is not JSON
};

/// POST `body` to 127.0.0.1:port `path`. Throws std::runtime_error when the
/// node cannot be reached or the answer is not HTTP.
inline reply post(std::uint16_t port, const std::string& path, const nlohmann::json& body) {
    ::asio::io_context io;
    ::asio::ip::tcp::socket s(io);
    s.connect({::asio::ip::make_address_v4("127.0.0.1"), port});
    auto payload = body.dump();
    auto head = "POST " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n\r\n";
    ::asio::write(s, std::vector<::asio::const_buffer>{::asio::buffer(head), ::asio::buffer(payload)});
    std::string raw;
    std::error_code ec;
    ::asio::read(s, ::asio::dynamic_buffer(raw), ec); // to EOF: the body is close-delimited
    auto split = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || split == std::string::npos)
        throw std::runtime_error("not an HTTP answer from port " + std::to_string(port));
    reply r;
    r.status = std::stoi(raw.substr(9, 3));
    r.body = nlohmann::json::parse(raw.begin() + static_cast<std::ptrdiff_t>(split) + 4, raw.end(), nullptr, false);
    if (r.body.is_discarded()) r.body = nullptr;
    return r;
}

/// The node's embedding of `text` asked alone.
inline std::vector<float> single_embedding(std::uint16_t port, const std::string& text) {
    auto r = post(port, "/api/embed", {{"model", embed_model()}, {"input", text}});
    if (r.status != 200) throw std::runtime_error("reference embed: HTTP " + std::to_string(r.status) + " " + r.body.dump());
    return r.body.at("embeddings").at(0).get<std::vector<float>>();
}

/// References for every text: text i asked alone of node i % nodes, one
/// thread per node (each real node embeds one request at a time).
inline std::vector<std::vector<float>> references(const std::vector<std::string>& texts) {
    auto urls = nodes();
    std::vector<std::vector<float>> refs(texts.size());
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(urls.size());
    for (std::size_t n = 0; n < urls.size(); ++n)
        threads.emplace_back([&, n] {
            try {
                auto port = loopback_port(urls[n]);
                for (std::size_t i = n; i < texts.size(); i += urls.size()) refs[i] = single_embedding(port, texts[i]);
            } catch (...) {
                errors[n] = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    return refs;
}

inline double cosine(std::span<const float> a, std::span<const float> b) {
    if (a.size() != b.size() || a.empty()) return -2;
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

/// The same vector, up to the float noise of batching.
inline constexpr double same_vector = 0.9999;

/// How rows compare with the references: a row matches when it is within
/// same_vector of its own reference and closer to it than to any other
/// (so a row of the wrong input cannot pass).
struct match_report {
    std::size_t matched = 0;
    std::string first_mismatch;
};

template <typename RowAt>
match_report match_rows(std::size_t rows, RowAt row_at, const std::vector<std::vector<float>>& refs) {
    match_report m;
    for (std::size_t i = 0; i < rows; ++i) {
        std::span<const float> row = row_at(i);
        std::size_t best = 0;
        double best_cos = -2;
        for (std::size_t j = 0; j < refs.size(); ++j)
            if (double c = cosine(row, refs[j]); c > best_cos) {
                best_cos = c;
                best = j;
            }
        double own = i < refs.size() ? cosine(row, refs[i]) : -2;
        if (own >= same_vector && best == i) ++m.matched;
        else if (m.first_mismatch.empty())
            m.first_mismatch = "row " + std::to_string(i) + ": cosine to its own reference " + std::to_string(own) +
                               ", closest reference is row " + std::to_string(best) + " (" + std::to_string(best_cos) + ")";
    }
    return m;
}

} // namespace herd::live
