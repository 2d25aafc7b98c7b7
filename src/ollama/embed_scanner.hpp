#pragma once
// The fast path of ollama::decode_embed: a scanner for exactly the shape of
// an /api/embed reply, {"model":..., "embeddings":[[f,...],...], counts...},
// whose numbers go through parse_json_float (json_float.hpp: exact, no
// locale, no per-character string building) straight into the matrix.
// Hand-written because nlohmann's lexer spends most of a client's time on
// floats (about 2.2 million instructions per 1024-dim vector under
// callgrind), and this one path is the client's hot path.
//
// It returns false, leaving `reply` unspecified, on anything it does not
// expect (escapes or non-ASCII in strings, an "error" or unknown field, a
// number that is not JSON or that overflows a float, ragged rows, trailing
// bytes);
// decode_embed then runs the nlohmann SAX decoder, which gives the exact
// error text. So it only makes valid replies faster, never changes what an
// invalid one reports.

#include <herd/ollama/codec.hpp>

#include "ollama/json_float.hpp"
#include "ollama/unit_fraction_row.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

namespace herd::ollama {

namespace detail {

struct scanner {
    const char* p;
    const char* end;

    void ws() noexcept {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
    }
    bool eat(char c) noexcept {
        ws();
        if (p < end && *p == c) {
            ++p;
            return true;
        }
        return false;
    }
    // A string of printable ASCII without escapes (the keys and values this
    // decoder keeps); anything else is left to the exact decoder, which
    // checks UTF-8.
    bool plain_string(std::string_view& out) noexcept {
        ws();
        if (p >= end || *p != '"') return false;
        const char* s = ++p;
        while (p < end && *p != '"') {
            auto c = static_cast<unsigned char>(*p);
            if (c == '\\' || c < 0x20 || c >= 0x80) return false;
            ++p;
        }
        if (p >= end) return false;
        out = std::string_view(s, static_cast<std::size_t>(p - s));
        ++p;
        return true;
    }
    static bool digit(const char* q, const char* e) noexcept { return q < e && *q >= '0' && *q <= '9'; }
    // The end of the JSON number at p (RFC 8259: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?),
    // or nullptr. from_chars alone would also take "01", "1." and "1.e5".
    const char* json_number_end() const noexcept {
        const char* q = p;
        if (q < end && *q == '-') ++q;
        if (!digit(q, end)) return nullptr;
        if (*q++ != '0')
            while (digit(q, end)) ++q;
        if (q < end && *q == '.') {
            if (!digit(++q, end)) return nullptr;
            while (digit(q, end)) ++q;
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
            ++q;
            if (q < end && (*q == '+' || *q == '-')) ++q;
            if (!digit(q, end)) return nullptr;
            while (digit(q, end)) ++q;
        }
        return q;
    }
    bool number(float& out) noexcept {
        ws();
        const char* next = parse_json_float(p, end, out);
        if (!next) return false;
        // "-0" is the integer 0 to a JSON parser (the exact decoder's
        // nlohmann too); only "-0.0" or "-0e0" is a negative zero.
        if (out == 0 && std::find_if(p, next, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == next) out = 0;
        p = next;
        return true;
    }
    // "[f, ...]" appended to `values` (a vector of floats, the only array
    // an embedding answer has); false on anything else.
    bool float_array(std::vector<float>& values) {
        if (!eat('[')) return false;
        if (eat(']')) return true;
        for (;;) {
#if HERD_UNIT_FRACTION
            // Ollama's rows: "0.ddd," items with no spaces, 64 bytes at a
            // time (unit_fraction_row.hpp). The first item of another
            // shape, and the row's last, take number().
            p = take_unit_fractions(p, end, values);
#endif
            float f;
            if (!number(f)) return false;
            values.push_back(f);
            if (!eat(',')) return eat(']');
        }
    }
    bool unsigned_number(std::uint64_t& out) noexcept {
        ws();
        const char* e = json_number_end();
        if (!e || *p == '-') return false;
        auto [next, ec] = std::from_chars(p, e, out);
        if (ec != std::errc{} || next != e) return false; // a fraction, an exponent, or beyond 64 bits
        p = next;
        return true;
    }
};

} // namespace detail

inline bool fast_decode_embed(std::string_view body, embed_reply& reply) {
    detail::scanner s{body.data(), body.data() + body.size()};
    reply = embed_reply{};
    auto& values = reply.embeddings.storage();
    values.reserve(body.size() / 8); // a float takes 8+ bytes of JSON
    std::size_t rows = 0, dim = 0;
    bool seen = false;
    if (!s.eat('{')) return false;
    if (!s.eat('}')) {
        do {
            std::string_view key;
            if (!s.plain_string(key) || !s.eat(':')) return false;
            if (key == "embeddings") {
                if (seen || !s.eat('[')) return false;
                seen = true;
                if (!s.eat(']')) {
                    do {
                        std::size_t start = values.size();
                        if (!s.float_array(values)) return false;
                        std::size_t n = values.size() - start;
                        if (rows == 0) dim = n;
                        else if (n != dim) return false;
                        ++rows;
                    } while (s.eat(','));
                    if (!s.eat(']')) return false;
                }
            } else if (key == "model") {
                std::string_view m;
                if (!s.plain_string(m)) return false;
                reply.model.assign(m);
            } else if (key == "total_duration") {
                if (!s.unsigned_number(reply.total_duration)) return false;
            } else if (key == "load_duration") {
                if (!s.unsigned_number(reply.load_duration)) return false;
            } else if (key == "prompt_eval_count") {
                if (!s.unsigned_number(reply.prompt_eval_count)) return false;
            } else {
                return false; // "error" or a field Ollama does not send: the exact decoder judges it
            }
        } while (s.eat(','));
        if (!s.eat('}')) return false;
    }
    s.ws();
    if (s.p != s.end || !seen) return false;
    reply.embeddings.set_shape(rows, dim);
    return true;
}

} // namespace herd::ollama
