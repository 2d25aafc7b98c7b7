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
// expect (escapes in strings it keeps, an "error" field, a number that is
// not JSON or overflows a float, ragged rows, trailing bytes);
// decode_embed then runs the nlohmann SAX decoder, which gives the exact
// error text. So it only makes valid replies faster, never changes what an
// invalid one reports.

#include <herd/ollama/codec.hpp>

#include "ollama/json_float.hpp"

#include <charconv>
#include <string_view>

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
    // A string without escapes (the keys and values this decoder keeps).
    bool plain_string(std::string_view& out) noexcept {
        ws();
        if (p >= end || *p != '"') return false;
        const char* s = ++p;
        while (p < end && *p != '"') {
            if (*p == '\\' || static_cast<unsigned char>(*p) < 0x20) return false;
            ++p;
        }
        if (p >= end) return false;
        out = std::string_view(s, static_cast<std::size_t>(p - s));
        ++p;
        return true;
    }
    // Any JSON value, skipped (strings may hold escapes).
    bool skip_value() noexcept {
        ws();
        int depth = 0;
        do {
            if (p >= end) return false;
            char c = *p;
            if (c == '"') {
                ++p;
                while (p < end && *p != '"') {
                    if (*p == '\\' && ++p == end) return false; // an escape cut off at the end
                    ++p;
                }
                if (p >= end) return false;
                ++p;
            } else if (c == '{' || c == '[') {
                ++depth;
                ++p;
            } else if (c == '}' || c == ']') {
                if (--depth < 0) return false;
                ++p;
            } else if (c == ',' || c == ':' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                if (depth == 0) return false;
                ++p;
            } else { // number or literal
                while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') ++p;
            }
        } while (depth > 0);
        return true;
    }
    bool number(float& out) noexcept {
        ws();
        const char* next = parse_json_float(p, end, out);
        if (!next) return false;
        p = next;
        return true;
    }
    bool unsigned_number(std::uint64_t& out) noexcept {
        ws();
        auto [next, ec] = std::from_chars(p, end, out);
        if (ec != std::errc{}) return false;
        p = next;
        return p >= end || (*p != '.' && *p != 'e' && *p != 'E');
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
                        if (!s.eat('[')) return false;
                        std::size_t start = values.size();
                        if (!s.eat(']')) {
                            do {
                                float f;
                                if (!s.number(f)) return false;
                                values.push_back(f);
                            } while (s.eat(','));
                            if (!s.eat(']')) return false;
                        }
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
            } else if (key == "error") {
                return false; // the full decoder reports it
            } else if (!s.skip_value()) {
                return false;
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
