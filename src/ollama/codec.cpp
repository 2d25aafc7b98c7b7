#include <herd/ollama/codec.hpp>

#include "ollama/embed_scanner.hpp"
#include "ollama/sax_base.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <utility>

namespace herd::ollama {

void append_json_string(std::string& out, std::string_view text, bool escape_html) {
    // Hand-written because nlohmann escapes only through a json value (an
    // allocation per string on the request path); this is the whole rule.
    // Runs of characters that need no escape are appended at once.
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0; // where the current run of plain characters began
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        const bool html = escape_html && (c == '<' || c == '>' || c == '&');
        if (u >= 0x20 && c != '"' && c != '\\' && !html) continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        }
    }
    out.append(text.data() + run, text.size() - run);
    out.push_back('"');
}

std::string encode_embed(const embed_params& params, std::span<const std::string_view> inputs) {
    std::size_t size = 64 + params.model.size() + params.options.size();
    for (auto in : inputs) size += in.size() + 4;
    std::string out;
    out.reserve(size);
    out += "{\"model\":";
    append_json_string(out, params.model);
    out += ",\"input\":[";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, inputs[i]);
    }
    out += "]";
    if (!params.truncate) out += ",\"truncate\":false";
    if (params.dimensions) fmt::format_to(std::back_inserter(out), ",\"dimensions\":{}", params.dimensions);
    if (!params.keep_alive.empty()) {
        out += ",\"keep_alive\":";
        append_json_string(out, params.keep_alive);
    }
    if (!params.options.empty()) {
        out += ",\"options\":";
        out += params.options;
    }
    out += "}";
    return out;
}

namespace {

// SAX consumer for {"model":..., "embeddings":[[f, ...], ...], counts...}:
// floats go straight into the matrix buffer, other fields are picked out,
// anything unknown is skipped.
class embed_sax : public detail::sax_base {
public:
    explicit embed_sax(embed_reply& r) : reply_(r) { reply_.embeddings = matrix(); }

    bool null() { return scalar(); }
    bool boolean(bool) { return scalar(); }
    // Integers convert to float in one rounding; through a double they
    // would round twice and could differ from the fast path's from_chars.
    bool number_integer(std::int64_t v) { return number(static_cast<float>(v), v >= 0 ? static_cast<std::uint64_t>(v) : 0); }
    bool number_unsigned(std::uint64_t v) { return number(static_cast<float>(v), v); }
    bool number_float(double v, const std::string& text) {
        if (!(depth_ == 3 && in_embeddings())) return number(0, 0);
        // The float nearest the decimal text, as from_chars<float> gives it
        // (a double cast to float would round twice).
        float f = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), f);
        if (ec == std::errc::result_out_of_range && std::fabs(v) < 1) f = static_cast<float>(v); // underflow: 0 or denormal
        else if (ec != std::errc{} || end != text.data() + text.size())
            return fail(fmt::format("number {} is out of float range", text));
        return number(f, 0);
    }
    bool string(std::string& s) {
        if (depth_ == 1 && key_ == "model") reply_.model = std::move(s);
        if (depth_ == 1 && key_ == "error") error_ = std::move(s);
        return scalar();
    }
    bool start_object(std::size_t) {
        ++depth_;
        return depth_ == 1 || !in_embeddings() || fail("object inside embeddings");
    }
    bool end_object() {
        --depth_;
        return true;
    }
    bool key(std::string& k) {
        if (depth_ != 1) return true;
        if (k == "embeddings" && std::exchange(embeddings_key_, true)) return fail("two \"embeddings\" fields");
        key_ = std::move(k);
        return true;
    }
    bool start_array(std::size_t) {
        ++depth_;
        if (depth_ == 2 && key_ == "embeddings") embeddings_seen_ = true;
        if (depth_ == 3 && in_embeddings()) row_start_ = values().size();
        return depth_ <= 3 || !in_embeddings() || fail("array nested too deep inside embeddings");
    }
    bool end_array() {
        if (depth_ == 3 && in_embeddings()) {
            std::size_t n = values().size() - row_start_;
            if (rows_ == 0) dim_ = n;
            else if (n != dim_) return fail("embeddings of different lengths");
            ++rows_;
        }
        --depth_;
        return true;
    }
    failure finish() {
        if (auto f = verdict()) return f;
        if (!embeddings_seen_) return failure{errc::protocol_error, "response has no \"embeddings\""};
        reply_.embeddings.set_shape(rows_, dim_);
        return {};
    }

private:
    bool in_embeddings() const { return embeddings_seen_ && key_ == "embeddings"; }
    std::vector<float>& values() { return reply_.embeddings.storage(); }
    bool scalar() { return !(depth_ >= 2 && in_embeddings()) || fail("non-number inside embeddings"); }
    bool number(float v, std::uint64_t u) {
        if (depth_ == 3 && in_embeddings()) {
            values().push_back(v);
            return true;
        }
        if (depth_ == 2 && in_embeddings()) return fail("embeddings is not an array of arrays");
        if (depth_ == 1) {
            if (key_ == "total_duration") reply_.total_duration = u;
            else if (key_ == "load_duration") reply_.load_duration = u;
            else if (key_ == "prompt_eval_count") reply_.prompt_eval_count = u;
        }
        return true;
    }

    embed_reply& reply_;
    int depth_ = 0;
    std::string key_;
    bool embeddings_seen_ = false;
    bool embeddings_key_ = false;
    std::size_t row_start_ = 0;
    std::size_t rows_ = 0;
    std::size_t dim_ = 0;
};

} // namespace

failure decode_embed(std::string_view body, embed_reply& reply) {
    if (fast_decode_embed(body, reply)) return {};
    return decode_embed_exact(body, reply); // exact errors, and any shape the scanner does not take
}

failure decode_embed_exact(std::string_view body, embed_reply& reply) {
    reply = embed_reply{};
    embed_sax sax(reply);
    nlohmann::json::sax_parse(body.begin(), body.end(), &sax);
    return sax.finish();
}

failure check_status(const http::message& response) {
    if (response.status >= 200 && response.status < 300) return {};
    failure f;
    f.status = response.status;
    f.code = errc_from_status(response.status);
    auto parsed = nlohmann::json::parse(response.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
        f.message = error_text(response.status, parsed["error"].get_ref<const std::string&>());
    else
        f.message = error_text(response.status, response.body);
    return f;
}

} // namespace herd::ollama
