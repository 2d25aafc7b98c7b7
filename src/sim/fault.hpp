#pragma once
// Faults a simulated node can be told to show. Each one applies to the
// model API endpoints only (/api/ and /v1/), never to /_sim/. JSON field names are the member
// names; durations are seconds (numbers).

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace herd::sim {

struct fault_spec {
    using seconds = std::chrono::duration<double>;

    bool refuse = false;          ///< listener closed: connect is refused
    bool reset_mid_body = false;  ///< status, headers and half the body, then RST
    bool hang = false;            ///< read requests, never answer
    double error_rate = 0;        ///< fraction 0..1 of requests answered 500 (seeded PRNG)
    std::uint64_t error_every = 0; ///< every Nth request answered 500 (0 = off)
    std::string error_message = "simulated runner failure"; ///< text of the 500s and stream errors
    bool busy = false;            ///< every request answered with Ollama's exact 503 (JSON)
    bool garbage = false;         ///< random non-HTTP bytes, then close
    std::size_t slow_drip_bytes = 0; ///< write responses in pieces of this many bytes (0 = off)
    seconds slow_drip_interval{0.001}; ///< pause between two pieces
    std::uint64_t die_after = 0;  ///< after N answered requests: close listener and connections (0 = off)
    seconds come_back_after{0};   ///< after dying or refusing, listen again with faults cleared (0 = never)
    int wrong_count = 0;          ///< embed answers carry this many vectors more (+1) or fewer (-1)
    bool reverse_order = false;   ///< /v1/embeddings items written last index first (their "index" right)
    std::optional<std::uint64_t> stream_error_after; ///< chat/generate: error line after N tokens

    /// True when no fault is set.
    bool none() const noexcept;
};

void to_json(nlohmann::json& j, const fault_spec& f);
/// Reads a fault spec; absent fields keep their defaults. Throws
/// std::invalid_argument on an unknown field or a wrong type.
fault_spec fault_from_json(const nlohmann::json& j);

} // namespace herd::sim
