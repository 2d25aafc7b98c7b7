#include "sim/counters.hpp"

#include <nlohmann/json.hpp>

namespace herd::sim {

namespace {

// Every counter once: its JSON name, its two homes, and whether it is a
// total (reset zeroes it) or a gauge of the present.
struct field {
    const char* name;
    std::uint64_t node_counters::*snap;
    live_counters::counter live_counters::*live;
    bool total;
};

constexpr field fields[] = {
    {"requests", &node_counters::requests, &live_counters::requests, true},
    {"embed_requests", &node_counters::embed_requests, &live_counters::embed_requests, true},
    {"inputs", &node_counters::inputs, &live_counters::inputs, true},
    {"bytes_in", &node_counters::bytes_in, &live_counters::bytes_in, true},
    {"bytes_out", &node_counters::bytes_out, &live_counters::bytes_out, true},
    {"connections", &node_counters::connections, &live_counters::connections, true},
    {"cancelled", &node_counters::cancelled, &live_counters::cancelled, true},
    {"faults", &node_counters::faults, &live_counters::faults, true},
    {"busy", &node_counters::busy, &live_counters::busy, true},
    {"queue", &node_counters::queue, &live_counters::queue, false},
    {"active", &node_counters::active, &live_counters::active, false},
    {"chat_requests", &node_counters::chat_requests, &live_counters::chat_requests, true},
    {"generate_requests", &node_counters::generate_requests, &live_counters::generate_requests, true},
};

} // namespace

void to_json(nlohmann::json& j, const node_counters& c) {
    j = nlohmann::json::object();
    for (const auto& f : fields) j[f.name] = c.*f.snap;
    auto& by = j["embed_options"] = nlohmann::json::object();
    for (const auto& [text, n] : c.embed_options) by[text] = {{"requests", n.requests}, {"inputs", n.inputs}};
}

node_counters live_counters::snapshot() const {
    node_counters s;
    for (const auto& f : fields) s.*f.snap = (this->*f.live).load(std::memory_order_relaxed);
    std::lock_guard lock(options_mutex_);
    s.embed_options = embed_options_;
    return s;
}

void live_counters::reset() {
    for (const auto& f : fields)
        if (f.total) (this->*f.live).store(0, std::memory_order_relaxed);
    std::lock_guard lock(options_mutex_);
    embed_options_.clear();
}

void live_counters::add_embed_options(const std::string& options_text, std::uint64_t inputs) {
    static const std::string overflow = "...";
    std::lock_guard lock(options_mutex_);
    auto it = embed_options_.find(options_text);
    if (it == embed_options_.end()) {
        const std::string& key = embed_options_.size() < 64 ? options_text : overflow;
        it = embed_options_.try_emplace(key).first;
    }
    ++it->second.requests;
    it->second.inputs += inputs;
}

} // namespace herd::sim
