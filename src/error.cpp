#include <herd/error.hpp>

#include <asio/error.hpp>
#include <fmt/format.h>

namespace herd {
namespace {

class herd_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "herd"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::connect_failed: return "could not connect to node";
        case errc::connection_lost: return "connection lost before the response arrived";
        case errc::timeout: return "request timed out";
        case errc::server_busy: return "node is busy (503)";
        case errc::server_error: return "node failed (5xx)";
        case errc::bad_request: return "node rejected the request (400)";
        case errc::model_not_found: return "model not found on node (404)";
        case errc::http_error: return "unexpected HTTP status";
        case errc::protocol_error: return "malformed response";
        case errc::header_too_large: return "response header too large";
        case errc::body_too_large: return "response body over the size limit (pool_config::max_response_bytes)";
        case errc::wrong_embedding_count: return "node returned the wrong number of embeddings";
        case errc::stream_error: return "error inside the response stream";
        case errc::all_nodes_failed: return "every node failed";
        case errc::no_nodes: return "no node can serve the request";
        case errc::node_ejected: return "node is ejected";
        case errc::budget_exhausted: return "retry budget exhausted";
        case errc::pipeline_aborted: return "connection closed because a request ahead of this one timed out";
        case errc::tls_failed: return "TLS handshake or certificate verification failed";
        }
        return "unknown herd error";
    }
};

} // namespace

const std::error_category& category() noexcept {
    static const herd_category instance;
    return instance;
}

bool is_retryable(std::error_code ec) noexcept {
    if (!ec) return false;
    if (ec == asio::error::operation_aborted) return false;
    if (ec.category() != category()) return true; // socket-level errors
    switch (static_cast<errc>(ec.value())) {
    case errc::bad_request:
    case errc::model_not_found:
    case errc::no_nodes:
    case errc::all_nodes_failed:
    case errc::budget_exhausted:
        return false;
    default:
        return true;
    }
}

std::string_view cause_name(std::error_code ec) noexcept {
    if (!ec) return "none";
    if (ec == asio::error::operation_aborted) return "cancelled";
    if (ec.category() != category()) return "socket";
    switch (static_cast<errc>(ec.value())) {
    case errc::connect_failed: return "connect_failed";
    case errc::connection_lost: return "connection_lost";
    case errc::timeout: return "timeout";
    case errc::server_busy: return "server_busy";
    case errc::server_error: return "server_error";
    case errc::bad_request: return "bad_request";
    case errc::model_not_found: return "model_not_found";
    case errc::http_error: return "http_error";
    case errc::protocol_error: return "protocol_error";
    case errc::header_too_large: return "header_too_large";
    case errc::body_too_large: return "body_too_large";
    case errc::wrong_embedding_count: return "wrong_embedding_count";
    case errc::stream_error: return "stream_error";
    case errc::all_nodes_failed: return "all_nodes_failed";
    case errc::no_nodes: return "no_nodes";
    case errc::node_ejected: return "node_ejected";
    case errc::tls_failed: return "tls_failed";
    case errc::budget_exhausted: return "budget_exhausted";
    case errc::pipeline_aborted: return "pipeline_aborted";
    }
    return "other";
}

errc errc_from_status(int status) noexcept {
    if (status == 400) return errc::bad_request;
    if (status == 404) return errc::model_not_found;
    if (status == 503) return errc::server_busy;
    if (status >= 500) return errc::server_error;
    return errc::http_error;
}

std::string error_text(int status, std::string_view text) {
    if (text.empty()) return fmt::format("HTTP {}", status);
    constexpr std::size_t most = 300;
    std::string out(text.substr(0, most));
    if (text.size() > most) {
        auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
        // Back to the start of the character the cut may have split.
        std::size_t keep = out.size();
        while (keep > 0 && continuation(out[keep - 1])) --keep;
        if (keep > 0 && static_cast<unsigned char>(out[keep - 1]) >= 0xC0) --keep;
        out.resize(keep);
    }
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    if (text.size() > most) out += fmt::format("... ({} bytes)", text.size());
    return out;
}

std::string failure::describe() const {
    return message.empty() ? code.message() : message;
}

void failure::raise() const {
    std::string what = describe();
    for (const auto& c : causes)
        what += "\n  " + c.node + ": " + (c.message.empty() ? c.code.message() : c.message);
    throw error(code, std::move(what), status, causes);
}

} // namespace herd
