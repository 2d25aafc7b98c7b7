#include "sim/profile.hpp"

#include "sim/json_util.hpp"

#include <stdexcept>

namespace herd::sim {

using namespace std::chrono_literals;

std::vector<model_spec> default_models() {
    return {
        {"mxbai-embed-large", model_kind::embedding, 1024, 512, 669615493, "bert", "334M"},
        {"nomic-embed-text", model_kind::embedding, 768, 8192, 274302450, "nomic-bert", "137M"},
        {"all-minilm", model_kind::embedding, 384, 256, 45960996, "bert", "23M"},
        {"llama3.2", model_kind::chat, 3072, 131072, 2019393189, "llama", "3.2B"},
    };
}

std::string_view base_model_name(std::string_view name) noexcept {
    constexpr std::string_view latest = ":latest";
    if (name.size() > latest.size() && name.substr(name.size() - latest.size()) == latest)
        name.remove_suffix(latest.size());
    return name;
}

bool valid_model_name(std::string_view name) noexcept {
    auto valid_part = [](std::string_view part) {
        if (part.empty() || part.size() > 80) return false;
        for (std::size_t i = 0; i < part.size(); ++i) {
            char c = part[i];
            bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            if (!word && (i == 0 || (c != '-' && c != '.'))) return false;
        }
        return true;
    };
    name = name.substr(0, name.find('@')); // a digest is not checked here
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        if (!valid_part(name.substr(colon + 1))) return false;
        name = name.substr(0, colon);
    }
    if (slash != std::string_view::npos) name = name.substr(slash + 1);
    return valid_part(name);
}

const model_spec* node_profile::find_model(std::string_view want) const noexcept {
    want = base_model_name(want);
    for (const auto& m : models)
        if (m.name == want) return &m;
    return nullptr;
}

namespace {

std::vector<std::string> all_names(const std::vector<model_spec>& models) {
    std::vector<std::string> out;
    for (const auto& m : models) out.push_back(m.name);
    return out;
}

} // namespace

std::string_view profile_names() noexcept { return "zero, gpu, cpu, ollama-cpu, gpu-batch"; }

node_profile profile(std::string_view name) {
    node_profile p;
    p.name = std::string(name);
    p.loaded = all_names(p.models);
    if (name == "zero") {
        // No delay anywhere: no timer is armed on the request path.
        p.gpu = true;
    } else if (name == "gpu") {
        // A 200-byte text costs 0.8 ms: ~1,250 texts/s in batches (README).
        p.request_overhead = 2000us;
        p.per_input_cost = 500us;
        p.per_char_cost = 1500ns;
        p.tail_fraction = 0.01;
        p.tail_multiplier = 10;
        p.token_interval = 5000us;
        p.model_load_time = 1500ms;
        p.gpu = true;
    } else if (name == "cpu") {
        // Five times the gpu profile for the same work.
        p.request_overhead = 10000us;
        p.per_input_cost = 2500us;
        p.per_char_cost = 7500ns;
        p.tail_fraction = 0.02;
        p.tail_multiplier = 10;
        p.token_interval = 25000us;
        p.model_load_time = 4000ms;
        p.gpu = false;
    } else if (name == "ollama-cpu") {
        // Real Ollama 0.24.0, all-minilm (384 dims) on one CPU thread, warm
        // (shared/real-ollama/WIRE.md, "Speed"; issue 12's table): 100
        // one-text requests took 3.87 s (38.7 ms each), one request of 100
        // texts of ~26 tokens (~115 bytes) 1.33 s. So each text costs
        // (1330 - 38.7) / 99 = 13.0 ms, here 5 ms + 70 us a byte, and each
        // request 38.7 - 13.0 = 25.7 ms, of which ~16 ms shows as
        // load_duration even when warm. The model runs one request at a time
        // whatever OLLAMA_NUM_PARALLEL says, and 4 connections gained
        // nothing: all of it is paid in the model's one slot.
        p.embed_slots = 1;
        p.request_overhead = 25700us;
        p.load_overhead = 16000us;
        p.per_input_cost = 5000us;
        p.per_char_cost = 70000ns;
        p.token_interval = 18000us; // smollm2:135m: ~56 tokens/s
        p.model_load_time = 2000ms; // not measured warm-machine; a guess
        p.gpu = false;
        p.version = "0.24.0";
        for (auto& m : p.models)
            if (m.name == "all-minilm") m.context_length = 512; // what the real server reports
        p.models.push_back({"all-minilm-1t", model_kind::embedding, 384, 512, 45949793, "bert", "22.57M"});
        p.models.push_back({"smollm2:135m", model_kind::chat, 576, 8192, 98363007, "llama", "134.52M"});
        p.loaded = all_names(p.models);
    } else if (name == "gpu-batch") {
        // A GPU node: a fixed cost per request and texts in a batch nearly
        // free, one request at a time per model. Not measured: a model of
        // what batching buys on a GPU.
        p.embed_slots = 1;
        p.request_overhead = 15000us;
        p.load_overhead = 2000us;
        p.per_input_cost = 200us;
        p.token_interval = 5000us;
        p.model_load_time = 1500ms;
        p.gpu = true;
    } else {
        throw std::invalid_argument("unknown profile \"" + std::string(name) + "\" (" +
                                    std::string(profile_names()) + ")");
    }
    return p;
}

void to_json(nlohmann::json& j, const model_spec& m) {
    j = nlohmann::json{{"name", m.name},
                       {"kind", m.kind == model_kind::chat ? "chat" : "embedding"},
                       {"dim", m.dim},
                       {"context_length", m.context_length},
                       {"size", m.size},
                       {"family", m.family},
                       {"parameter_size", m.parameter_size}};
}

void to_json(nlohmann::json& j, const node_profile& p) {
    j = nlohmann::json{{"name", p.name},
                       {"port", p.port},
                       {"embed_slots", p.embed_slots},
                       {"chat_slots", p.chat_slots},
                       {"request_overhead", p.request_overhead.count()},
                       {"load_overhead", p.load_overhead.count()},
                       {"per_input_cost", p.per_input_cost.count()},
                       {"per_char_cost", p.per_char_cost.count()},
                       {"tail_fraction", p.tail_fraction},
                       {"tail_multiplier", p.tail_multiplier},
                       {"token_interval", p.token_interval.count()},
                       {"model_load_time", p.model_load_time.count()},
                       {"models", p.models},
                       {"loaded", p.loaded},
                       {"gpu", p.gpu},
                       {"queue_limit", p.queue_limit},
                       {"version", p.version},
                       {"seed", p.seed},
                       {"chunk_size", p.chunk_size}};
}

namespace {

model_spec model_from_json(const nlohmann::json& j) {
    if (j.is_string()) {
        // A bare name: one of the default models.
        for (auto& m : default_models())
            if (m.name == base_model_name(j.get<std::string>())) return m;
        throw std::invalid_argument("model \"" + j.get<std::string>() + "\" is not a default model; give its dim");
    }
    check_fields(j, {"name", "kind", "dim", "context_length", "size", "family", "parameter_size"}, "model");
    model_spec m;
    read_field(j, "name", m.name);
    m.name = std::string(base_model_name(m.name));
    std::string kind = "embedding";
    read_field(j, "kind", kind);
    if (kind != "embedding" && kind != "chat") throw std::invalid_argument("model kind must be embedding or chat");
    m.kind = kind == "chat" ? model_kind::chat : model_kind::embedding;
    read_field(j, "dim", m.dim);
    read_field(j, "context_length", m.context_length);
    read_field(j, "size", m.size);
    read_field(j, "family", m.family);
    read_field(j, "parameter_size", m.parameter_size);
    if (m.name.empty()) throw std::invalid_argument("model: name is required");
    if (m.kind == model_kind::embedding && m.dim == 0)
        throw std::invalid_argument("model " + m.name + ": an embedding model needs dim > 0");
    if (m.kind == model_kind::chat && m.dim == 0) m.dim = 2048; // /api/embed works on chat models too
    if (m.size == 0) m.size = m.kind == model_kind::chat ? 2000000000 : m.dim * 650000ULL;
    return m;
}

} // namespace

node_profile profile_from_json(const nlohmann::json& j) {
    check_fields(j,
                 {"profile", "name", "port", "embed_slots", "chat_slots", "request_overhead", "load_overhead",
                  "per_input_cost",
                  "per_char_cost", "tail_fraction", "tail_multiplier", "token_interval", "model_load_time", "models",
                  "loaded", "gpu", "queue_limit", "version", "seed", "chunk_size", "faults"},
                 "node");
    std::string base = "zero";
    read_field(j, "profile", base);
    node_profile p = profile(base);
    read_field(j, "name", p.name);
    read_field(j, "port", p.port);
    read_field(j, "embed_slots", p.embed_slots);
    read_field(j, "chat_slots", p.chat_slots);
    read_field(j, "request_overhead", p.request_overhead);
    read_field(j, "load_overhead", p.load_overhead);
    read_field(j, "per_input_cost", p.per_input_cost);
    read_field(j, "per_char_cost", p.per_char_cost);
    read_field(j, "tail_fraction", p.tail_fraction);
    read_field(j, "tail_multiplier", p.tail_multiplier);
    read_field(j, "token_interval", p.token_interval);
    read_field(j, "model_load_time", p.model_load_time);
    read_field(j, "gpu", p.gpu);
    read_field(j, "queue_limit", p.queue_limit);
    read_field(j, "version", p.version);
    read_field(j, "seed", p.seed);
    read_field(j, "chunk_size", p.chunk_size);
    if (auto it = j.find("models"); it != j.end()) {
        if (!it->is_array()) throw std::invalid_argument("field models: expected an array");
        p.models.clear();
        for (const auto& m : *it) p.models.push_back(model_from_json(m));
        p.loaded = all_names(p.models);
    }
    if (auto it = j.find("loaded"); it != j.end()) {
        if (it->is_string() && *it == "all") {
            p.loaded = all_names(p.models);
        } else if (it->is_array()) {
            p.loaded.clear();
            for (const auto& n : *it) {
                if (!n.is_string()) throw std::invalid_argument("field loaded: expected model names");
                p.loaded.emplace_back(base_model_name(n.get<std::string>()));
            }
        } else {
            throw std::invalid_argument("field loaded: expected an array of names or \"all\"");
        }
    }
    if (auto it = j.find("faults"); it != j.end()) p.faults = fault_from_json(*it);
    if (p.embed_slots == 0 || p.chat_slots == 0) throw std::invalid_argument("node: slots must be >= 1");
    if (p.tail_fraction < 0 || p.tail_fraction > 1) throw std::invalid_argument("node: tail_fraction must be in 0..1");
    if (p.load_overhead > p.request_overhead)
        throw std::invalid_argument("node: load_overhead is a part of request_overhead, so at most it");
    return p;
}

} // namespace herd::sim
