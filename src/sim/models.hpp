#pragma once
// A node's installed models at run time: loaded or not, when a load ends,
// when keep_alive unloads them, and each model's slots. Expiry is checked
// lazily (on the next request or /api/ps), so no timer runs for it.

#include "sim/profile.hpp"
#include "sim/slots.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herd::sim {

struct model_state {
    model_state(const model_spec& s, std::size_t slots) : spec(s), slots(slots) {}

    model_spec spec;
    slot_pool slots;
    bool loaded = false;
    steady_clock::time_point expires = steady_clock::time_point::max();
    std::optional<steady_clock::time_point> loading_until; ///< a load in progress ends then

    /// Loaded and not expired at `now` (an expired model is unloaded here).
    bool is_loaded(steady_clock::time_point now) noexcept;
};

class model_table {
public:
    explicit model_table(const node_profile& p);

    /// The state of installed model `name` (":latest" ignored), or nullptr.
    model_state* find(std::string_view name) noexcept;

    /// Waits until `m` is loaded, paying `load_time` when it is not (requests
    /// arriving during a load wait for the same load). Returns the time
    /// waited, or nullopt when the connection closed meanwhile.
    awaitable<std::optional<std::chrono::nanoseconds>> ensure_loaded(session& s, model_state& m,
                                                                     std::chrono::nanoseconds load_time);

    /// After a request: keep `m` loaded for `keep_alive` (negative: forever,
    /// zero: unload once idle, nullopt: Ollama's default 5m).
    static void apply_keep_alive(model_state& m, std::optional<std::chrono::nanoseconds> keep_alive);

    /// Unloads `m` now (a load-only request with keep_alive 0).
    static void unload(model_state& m) noexcept;

    /// Wakes every request waiting for a slot (the node is stopping).
    void cancel_all();

    /// Bodies of GET /api/tags and GET /api/ps.
    std::string tags_json() const;
    std::string ps_json(bool gpu);
    /// Body of GET /v1/models: {"object": "list", "data": [{"id": "name:tag",
    /// "object": "model", "created", "owned_by": "library"}]}, as Ollama's /v1.
    std::string openai_models_json() const;

private:
    std::vector<std::unique_ptr<model_state>> models_;
};

} // namespace herd::sim
