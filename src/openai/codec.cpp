#include <herd/openai/codec.hpp>

#include "ollama/embed_scanner.hpp"
#include "ollama/json_float.hpp"
#include "ollama/sax_base.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace herd::openai {

std::string encode_embeddings(const ollama::embed_params& params, std::span<const std::string_view> inputs) {
    std::size_t size = 64 + params.model.size();
    for (auto in : inputs) size += in.size() + 4;
    std::string out;
    out.reserve(size);
    out += "{\"model\":";
    ollama::append_json_string(out, params.model);
    out += ",\"input\":[";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (i) out.push_back(',');
        ollama::append_json_string(out, inputs[i]);
    }
    out += "],\"encoding_format\":\"float\"";
    if (params.dimensions) fmt::format_to(std::back_inserter(out), ",\"dimensions\":{}", params.dimensions);
    out += "}";
    return out;
}

namespace {

constexpr std::size_t no_index = std::numeric_limits<std::size_t>::max();

// Shapes reply.embeddings from rows stored in arrival order, `order[k]`
// the index of the k-th: every index below the count exactly once, rows
// moved into index order.
failure place_rows(const std::vector<std::size_t>& order, std::size_t dim, ollama::embed_reply& reply) {
    const std::size_t rows = order.size();
    std::vector<std::size_t> where(rows, no_index);
    for (std::size_t arrived = 0; arrived < rows; ++arrived) {
        auto index = order[arrived];
        if (index >= rows)
            return failure{errc::protocol_error, fmt::format("index {} in an answer of {} rows", index, rows)};
        if (where[index] != no_index) return failure{errc::protocol_error, fmt::format("index {} appears twice", index)};
        where[index] = arrived;
    }
    auto& values = reply.embeddings.storage();
    if (!std::is_sorted(order.begin(), order.end())) {
        std::vector<float> sorted(values.size());
        for (std::size_t i = 0; i < rows; ++i)
            std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(where[i] * dim), dim,
                        sorted.begin() + static_cast<std::ptrdiff_t>(i * dim));
        values = std::move(sorted);
    }
    reply.embeddings.set_shape(rows, dim);
    return {};
}

// The fast path, for exactly the shape servers write: {"object", "data":
// [{"object", "index", "embedding": [f, ...]}], "model", "usage": {counts}}
// with plain strings, fields in any order, floats through parse_json_float
// (the Ollama scanner's pieces). False on anything else (escapes, an
// "error", an unknown field, a bad row or index): the SAX decoder then
// judges it and gives the exact error, so this only makes good answers
// faster.
bool fast_decode(std::string_view body, ollama::embed_reply& reply) {
    ollama::detail::scanner s{body.data(), body.data() + body.size()};
    reply = ollama::embed_reply{};
    auto& values = reply.embeddings.storage();
    values.reserve(body.size() / 8);
    std::vector<std::size_t> order;
    std::size_t dim = 0;
    bool data_seen = false;
    std::string_view text;
    auto item = [&]() -> bool {
        if (!s.eat('{')) return false;
        std::uint64_t index = no_index;
        bool row = false;
        do {
            if (!s.plain_string(text) || !s.eat(':')) return false;
            if (text == "object") {
                if (!s.plain_string(text)) return false;
            } else if (text == "index") {
                if (index != no_index || !s.unsigned_number(index)) return false;
            } else if (text == "embedding") {
                if (row) return false;
                row = true;
                std::size_t start = values.size();
                if (!s.float_array(values)) return false;
                std::size_t n = values.size() - start;
                if (order.empty()) dim = n;
                else if (n != dim) return false;
            } else {
                return false;
            }
        } while (s.eat(','));
        if (!s.eat('}') || !row || index == no_index) return false;
        order.push_back(static_cast<std::size_t>(index));
        return true;
    };
    if (!s.eat('{')) return false;
    if (!s.eat('}')) {
        do {
            if (!s.plain_string(text) || !s.eat(':')) return false;
            if (text == "data") {
                if (data_seen || !s.eat('[')) return false;
                data_seen = true;
                if (!s.eat(']')) {
                    do
                        if (!item()) return false;
                    while (s.eat(','));
                    if (!s.eat(']')) return false;
                }
            } else if (text == "object" || text == "model") {
                bool model = text == "model";
                if (!s.plain_string(text)) return false;
                if (model) reply.model.assign(text);
            } else if (text == "usage") {
                if (!s.eat('{')) return false;
                if (!s.eat('}')) {
                    do {
                        std::uint64_t count = 0;
                        if (!s.plain_string(text) || !s.eat(':') || !s.unsigned_number(count)) return false;
                        if (text == "prompt_tokens") reply.prompt_eval_count = count;
                    } while (s.eat(','));
                    if (!s.eat('}')) return false;
                }
            } else {
                return false;
            }
        } while (s.eat(','));
        if (!s.eat('}')) return false;
    }
    s.ws();
    return s.p == s.end && data_seen && !place_rows(order, dim, reply);
}

// SAX consumer for {"data": [{"index": i, "embedding": [f, ...]}, ...],
// "model", "usage": {"prompt_tokens"}}: floats go straight into one buffer
// in arrival order; rows are put in index order at the end.
class embeddings_sax : public ollama::detail::sax_base {
public:
    explicit embeddings_sax(ollama::embed_reply& r) : reply_(r) {}

    bool null() { return scalar(); }
    bool boolean(bool) { return scalar(); }
    // Integers convert to float in one rounding (as the Ollama decoder).
    bool number_integer(std::int64_t v) { return number(static_cast<float>(v), v >= 0 ? static_cast<std::uint64_t>(v) : no_index); }
    bool number_unsigned(std::uint64_t v) { return number(static_cast<float>(v), v); }
    bool number_float(double, const std::string& text) {
        if (!in_row()) return number(0, no_index);
        float f = 0;
        // parse_json_float: the float nearest the decimal text, shared with
        // the Ollama decoder's fast path.
        if (ollama::detail::parse_json_float(text.data(), text.data() + text.size(), f) != text.data() + text.size())
            return fail(fmt::format("number {} is out of float range", text));
        return number(f, no_index);
    }
    bool string(std::string& s) {
        if (depth_ == 1 && key1_ == "model") reply_.model = std::move(s);
        if (depth_ == 2 && key1_ == "error" && key2_ == "message") error_ = std::move(s);
        if (depth_ == 1 && key1_ == "error") error_ = std::move(s); // Ollama's {"error": "text"}
        return scalar();
    }
    bool start_object(std::size_t) {
        ++depth_;
        if (depth_ == 3 && in_data()) {
            item_index_ = no_index;
            item_row_ = false;
            key3_.clear();
            return true;
        }
        return !(depth_ > 3 && in_data()) || fail("an object inside an embedding");
    }
    bool end_object() {
        if (depth_ == 3 && in_data()) {
            if (item_index_ == no_index) return fail("a \"data\" item without an \"index\"");
            if (!item_row_) return fail(fmt::format("the \"data\" item with index {} has no \"embedding\"", item_index_));
            order_.push_back(item_index_);
        }
        --depth_;
        return true;
    }
    bool key(std::string& k) {
        if (depth_ == 1) key1_ = std::move(k);
        else if (depth_ == 2) key2_ = std::move(k);
        else if (depth_ == 3) key3_ = std::move(k);
        return true;
    }
    bool start_array(std::size_t) {
        ++depth_;
        if (depth_ == 2 && key1_ == "data") {
            if (data_seen_) return fail("two \"data\" fields");
            data_seen_ = true;
        }
        if (depth_ == 4 && in_data() && key3_ == "embedding") {
            if (item_row_) return fail("an item with two \"embedding\" fields");
            row_start_ = values().size();
        }
        return !(depth_ > 4 && in_data()) || fail("an array nested too deep inside an embedding");
    }
    bool end_array() {
        if (in_row()) {
            std::size_t n = values().size() - row_start_;
            if (order_.empty()) dim_ = n;
            else if (n != dim_) return fail("embeddings of different lengths");
            item_row_ = true;
        }
        --depth_;
        return true;
    }
    failure finish() {
        if (auto f = verdict()) return f;
        if (!data_seen_) return failure{errc::protocol_error, "response has no \"data\" array"};
        return place_rows(order_, dim_, reply_);
    }

private:
    bool in_data() const { return data_seen_ && key1_ == "data"; }
    bool in_row() const { return depth_ == 4 && in_data() && key3_ == "embedding"; }
    std::vector<float>& values() { return reply_.embeddings.storage(); }
    bool scalar() {
        if (in_row()) return fail("non-number inside an embedding");
        if (depth_ == 3 && in_data() && key3_ == "embedding") return fail("an \"embedding\" that is not an array");
        if (depth_ == 3 && in_data() && key3_ == "index") return fail("an \"index\" that is not a number");
        return !(depth_ == 2 && in_data()) || fail("a \"data\" item that is not an object");
    }
    bool number(float v, std::uint64_t u) {
        if (in_row()) {
            values().push_back(v);
            return true;
        }
        if (depth_ == 2 && in_data()) return fail("a \"data\" item that is not an object");
        if (depth_ == 3 && in_data() && key3_ == "embedding") return fail("an \"embedding\" that is not an array");
        if (depth_ == 3 && in_data() && key3_ == "index") {
            if (u == no_index) return fail("an \"index\" that is not a whole number");
            if (item_index_ != no_index) return fail("an item with two \"index\" fields");
            item_index_ = static_cast<std::size_t>(u);
        }
        if (depth_ == 2 && key1_ == "usage" && key2_ == "prompt_tokens" && u != no_index) reply_.prompt_eval_count = u;
        return true;
    }

    ollama::embed_reply& reply_;
    int depth_ = 0;
    std::string key1_, key2_, key3_;
    bool data_seen_ = false;
    bool item_row_ = false;
    std::size_t item_index_ = no_index;
    std::vector<std::size_t> order_; // the index of each row, in arrival order
    std::size_t row_start_ = 0;
    std::size_t dim_ = 0;
};

std::string message_of(const nlohmann::json& j, std::string& code) {
    if (!j.is_object()) return {};
    auto e = j.find("error");
    if (e == j.end()) return {};
    if (e->is_string()) return e->get<std::string>();
    if (!e->is_object()) return e->dump();
    if (auto c = e->find("code"); c != e->end() && c->is_string()) code = c->get<std::string>();
    auto m = e->find("message");
    return m != e->end() && m->is_string() ? m->get<std::string>() : e->dump();
}

} // namespace

failure decode_embeddings(std::string_view body, ollama::embed_reply& reply) {
    if (fast_decode(body, reply)) return {};
    return decode_embeddings_exact(body, reply); // exact errors, and any shape the scanner does not take
}

failure decode_embeddings_exact(std::string_view body, ollama::embed_reply& reply) {
    reply = ollama::embed_reply{};
    reply.embeddings.storage().reserve(body.size() / 8); // a float takes 8+ bytes of JSON
    embeddings_sax sax(reply);
    nlohmann::json::sax_parse(body.begin(), body.end(), &sax);
    return sax.finish();
}

failure check_status(const http::message& response) {
    if (response.status >= 200 && response.status < 300) return {};
    failure f;
    f.status = response.status;
    std::string code;
    f.message = message_of(nlohmann::json::parse(response.body, nullptr, false), code);
    f.message = error_text(response.status, f.message.empty() ? std::string_view(response.body) : f.message);
    if (response.status == 404 || code == "model_not_found") f.code = errc::model_not_found;
    else if (response.status == 400 || response.status == 422) f.code = errc::bad_request;
    else if (response.status == 429 || response.status == 503) f.code = errc::server_busy;
    else f.code = errc_from_status(response.status);
    return f;
}

bool parse_models(std::string_view body, std::vector<std::string>& ids) {
    ids.clear();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array()) return false;
    for (const auto& m : j["data"])
        if (m.is_object() && m.contains("id") && m["id"].is_string()) ids.push_back(m["id"].get<std::string>());
    return true;
}

std::string error_json(int status, std::string_view message) {
    const char* type = status == 400 ? "invalid_request_error" : status == 404 ? "not_found_error" : "api_error";
    nlohmann::json e{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    nlohmann::json out{{"error", e}};
    return out.dump() + "\n";
}

} // namespace herd::openai
