#pragma once
// Configuration of a herd::pool, with defaults that suit a few Ollama
// nodes on a LAN, and from_env() for HERD_NODES / OLLAMA_HOST.

#include <herd/async/hedge.hpp>
#include <herd/async/retry.hpp>
#include <herd/http/tls.hpp>
#include <herd/events.hpp>
#include <herd/node.hpp>

#include <map>
#include <string>
#include <vector>

namespace herd {

struct pool_config {
    /// Node URLs ("http://host:port"; "host:port" and "host" work too;
    /// "https://host" for a node behind TLS; "http://user:pass@host" sends
    /// Basic credentials). Nodes are named by the URL without credentials.
    std::vector<std::string> nodes;
    /// https:// nodes: CA file and verification (system CAs by default).
    http::tls_options tls{};
    /// Header lines sent to every node ("Authorization: Bearer ..."), and
    /// per node (key: the URL as written in `nodes`). Never logged, never
    /// in errors, stats or metrics.
    std::vector<std::string> headers;
    std::map<std::string, std::vector<std::string>> node_headers;
    /// Model used when a call names none.
    std::string model = "mxbai-embed-large";

    std::size_t connections_per_node = 2;
    std::size_t pipeline_depth = 8;
    duration connect_timeout = std::chrono::seconds(3);
    /// One attempt on a node that has served the model before.
    duration request_timeout = std::chrono::seconds(30);
    /// One attempt on a node that may have to load the model first.
    duration first_load_timeout = std::chrono::seconds(120);
    /// A whole call, retries and hedges included.
    duration call_timeout = std::chrono::seconds(300);

    limiter_options limiter{};       ///< per node, embedding requests
    limiter_options chat_limiter{.initial_limit = 2, .max_limit = 32, .queueing_factor = 3}; ///< per node, completions
    health_options health{};
    retry_options retry{};
    hedge_options hedge{};

    /// Longest silence between two parts of a streamed answer.
    duration stream_idle_timeout = std::chrono::seconds(60);
    /// How often /api/tags and /api/ps are asked again (0: only on demand).
    duration model_refresh_interval = std::chrono::seconds(30);

    /// Largest response body accepted from a node (an /api/embed reply,
    /// /api/tags, an error body) and longest line of a streamed answer; a
    /// node claiming or sending more fails the request with
    /// errc::body_too_large. The default fits 64 texts x 4096 dimensions of
    /// JSON floats (about 6 MB) with margin.
    std::size_t max_response_bytes = 16 * 1024 * 1024;

    /// Texts per /api/embed request when splitting a list.
    std::size_t max_batch = 64;
    /// Join concurrent single embeds into one request (see pool::embed).
    bool coalesce = true;

    /// Receives every event of the pool (events.hpp) on its executor, as it
    /// happens; empty: none are delivered (pool_stats::recent_events still
    /// keeps the last ones).
    event_callback on_event;

    /// Nodes from HERD_NODES (comma or space separated) or else OLLAMA_HOST
    /// (else http://127.0.0.1:11434); model from HERD_MODEL when set;
    /// HERD_NODE_TOKEN becomes "Authorization: Bearer TOKEN" for every node;
    /// HERD_CA_FILE is tls.ca_file.
    static pool_config from_env();

    /// Splits "a,b c" into node URLs.
    static std::vector<std::string> parse_node_list(std::string_view text);
};

} // namespace herd
