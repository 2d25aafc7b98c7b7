#include "sim/models.hpp"

#include "sim/wire.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace herd::sim {

using namespace std::chrono_literals;

bool model_state::is_loaded(steady_clock::time_point now) noexcept {
    if (loaded && now >= expires) loaded = false;
    return loaded;
}

model_table::model_table(const node_profile& p) {
    for (const auto& spec : p.models) {
        auto slots = spec.kind == model_kind::chat ? p.chat_slots : p.embed_slots;
        auto m = std::make_unique<model_state>(spec, slots);
        m->loaded = std::find(p.loaded.begin(), p.loaded.end(), spec.name) != p.loaded.end();
        models_.push_back(std::move(m));
    }
}

model_state* model_table::find(std::string_view name) noexcept {
    name = base_model_name(name);
    for (auto& m : models_)
        if (m->spec.name == name) return m.get();
    return nullptr;
}

awaitable<std::optional<std::chrono::nanoseconds>> model_table::ensure_loaded(session& s, model_state& m,
                                                                              std::chrono::nanoseconds load_time) {
    auto start = steady_clock::now();
    if (m.is_loaded(start)) co_return 0ns;
    if (!m.loading_until || *m.loading_until < start) m.loading_until = start + load_time;
    if (*m.loading_until > start && !co_await s.sleep(*m.loading_until - start)) co_return std::nullopt;
    m.loaded = true;
    m.loading_until.reset();
    m.expires = steady_clock::time_point::max();
    co_return steady_clock::now() - start;
}

void model_table::apply_keep_alive(model_state& m, std::optional<std::chrono::nanoseconds> keep_alive) {
    auto ka = keep_alive.value_or(5min);
    if (ka < 0ns) {
        m.expires = steady_clock::time_point::max();
    } else if (ka == 0ns) {
        // Ollama unloads once the model has no request left.
        if (m.slots.idle()) unload(m);
        else m.expires = steady_clock::now();
    } else {
        m.expires = steady_clock::now() + ka;
    }
}

void model_table::unload(model_state& m) noexcept {
    m.loaded = false;
    m.loading_until.reset();
}

void model_table::cancel_all() {
    for (auto& m : models_) m->slots.cancel_all();
}

namespace {

std::string digest_of(std::string_view name) {
    std::string hex;
    std::uint64_t h = fnv1a64(name);
    char buf[17];
    for (int i = 0; i < 4; ++i) {
        h = fnv1a64("digest", h);
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        hex += buf;
    }
    return hex;
}

// Fields in Ollama's order; /api/tags has modified_at after "model".
nlohmann::ordered_json model_entry(const model_spec& m, std::optional<std::string> modified_at) {
    std::string full = m.name.find(':') == std::string::npos ? m.name + ":latest" : m.name;
    nlohmann::ordered_json e = {{"name", full}, {"model", full}};
    if (modified_at) e["modified_at"] = *modified_at;
    e.update(nlohmann::ordered_json{
            {"size", m.size},
            {"digest", digest_of(m.name)},
            {"details",
             {{"parent_model", ""},
              {"format", "gguf"},
              {"family", m.family},
              {"families", nlohmann::ordered_json::array({m.family})},
              {"parameter_size", m.parameter_size},
              {"quantization_level", m.kind == model_kind::chat ? "Q4_K_M" : "F16"}}}});
    return e;
}

std::string timestamp(std::chrono::system_clock::time_point t) {
    std::string s;
    wire::append_timestamp(s, t);
    return s;
}

} // namespace

std::string model_table::tags_json() const {
    auto list = nlohmann::ordered_json::array();
    // A fixed modification time: the answer stays the same run to run.
    auto modified = std::chrono::system_clock::time_point(std::chrono::seconds(1735689600));
    for (const auto& m : models_) {
        list.push_back(model_entry(m->spec, timestamp(modified)));
    }
    return nlohmann::ordered_json{{"models", std::move(list)}}.dump();
}

std::string model_table::openai_models_json() const {
    auto list = nlohmann::ordered_json::array();
    for (const auto& m : models_) {
        const auto& name = m->spec.name;
        list.push_back(nlohmann::ordered_json{{"id", name.find(':') == std::string::npos ? name + ":latest" : name},
                                              {"object", "model"},
                                              {"created", 1735689600},
                                              {"owned_by", "library"}});
    }
    return nlohmann::ordered_json{{"object", "list"}, {"data", std::move(list)}}.dump();
}

std::string model_table::ps_json(bool gpu) {
    auto now = steady_clock::now();
    std::vector<const model_state*> loaded;
    for (auto& m : models_)
        if (m->is_loaded(now)) loaded.push_back(m.get());
    // As Ollama: the longest time left first.
    std::stable_sort(loaded.begin(), loaded.end(),
                     [](const model_state* a, const model_state* b) { return a->expires > b->expires; });
    auto list = nlohmann::ordered_json::array();
    auto sys_now = std::chrono::system_clock::now();
    for (const auto* m : loaded) {
        auto e = model_entry(m->spec, std::nullopt);
        // Kept forever: a far-future date, as Ollama shows (beyond what a
        // nanosecond time_point holds, so written out).
        e["expires_at"] = m->expires == steady_clock::time_point::max()
                              ? std::string("2318-01-01T00:00:00Z")
                              : timestamp(sys_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                        m->expires - now));
        e["size_vram"] = gpu ? m->spec.size : 0;
        e["context_length"] = m->spec.context_length;
        list.push_back(std::move(e));
    }
    return nlohmann::ordered_json{{"models", std::move(list)}}.dump();
}

} // namespace herd::sim
