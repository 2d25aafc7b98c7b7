#pragma once
// Per-node counters. The node (on the simulator's thread) bumps atomics;
// any thread may take a snapshot, so tests poll them without locking.

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace herd::sim {

struct node_counters {
    std::uint64_t requests = 0;       ///< HTTP requests answered or failed (all endpoints except /_sim)
    std::uint64_t embed_requests = 0; ///< /api/embed, /api/embeddings and /v1/embeddings
    std::uint64_t inputs = 0;         ///< texts embedded by embed requests that succeeded
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::uint64_t connections = 0;    ///< accepted
    std::uint64_t cancelled = 0;      ///< streams whose client closed the connection before done
    std::uint64_t faults = 0;         ///< requests that got an injected fault
    std::uint64_t busy = 0;           ///< 503 answers: the model's queue was full (or a busy fault)
    std::uint64_t queue = 0;          ///< now waiting for a slot
    std::uint64_t active = 0;         ///< now being computed
    std::uint64_t chat_requests = 0, generate_requests = 0; ///< chat: /api/chat and /v1/chat/completions
    /// Successful /api/embed requests and their texts by the request's
    /// "options" object (its JSON text, keys sorted; "" for none), so tests
    /// see which options reached the node and which texts shared a request.
    struct options_count {
        std::uint64_t requests = 0, inputs = 0;
        bool operator==(const options_count&) const = default;
    };
    std::map<std::string, options_count> embed_options;
};

void to_json(nlohmann::json& j, const node_counters& c);

/// The live counters behind node_counters. Relaxed atomics: a snapshot is
/// not one instant across fields, which polling tests do not need.
class live_counters {
public:
    using counter = std::atomic<std::uint64_t>;
    counter requests{0}, embed_requests{0}, inputs{0}, bytes_in{0}, bytes_out{0}, connections{0}, cancelled{0},
        faults{0}, queue{0}, active{0}, chat_requests{0}, generate_requests{0}, busy{0};

    static void add(counter& c, std::uint64_t n = 1) noexcept { c.fetch_add(n, std::memory_order_relaxed); }
    static void sub(counter& c, std::uint64_t n = 1) noexcept { c.fetch_sub(n, std::memory_order_relaxed); }

    node_counters snapshot() const;
    /// Zeroes the totals; queue and active describe the present and stay.
    void reset();

    /// Counts one successful embed request of `inputs` texts with options
    /// `options_text`. At most 64 distinct texts are kept (later ones
    /// count under "..."): a test's handful, bounded against a long run.
    void add_embed_options(const std::string& options_text, std::uint64_t inputs);

private:
    mutable std::mutex options_mutex_;
    std::map<std::string, node_counters::options_count> embed_options_;
};

} // namespace herd::sim
