#pragma once
// The property both HTTP parser targets check: feeding a byte stream in
// random pieces gives the same messages (and the same error) as feeding it
// whole, every message respects the limits, and a body sink sees exactly
// the body bytes. The first bytes of the input choose the pieces and the
// mode; the rest is the stream.

#include <herd/http/parser.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace herd::fuzz {

#define HERD_FUZZ_CHECK(cond) \
    do {                      \
        if (!(cond)) {        \
            __builtin_trap(); \
        }                     \
    } while (0)

struct parse_outcome {
    std::vector<http::message> messages;
    std::vector<std::string> sunk; // bodies seen by the sink, per message
    std::error_code ec;
};

// Parses `stream` fed in pieces of the given sizes (cycled; 0 = the rest).
inline parse_outcome parse_in_pieces(http::message_kind kind, http::parser_limits limits, std::string_view stream,
                                     const std::vector<std::size_t>& pieces, bool use_sink, bool head_first) {
    parse_outcome out;
    http::parser p(kind, limits);
    std::string sunk;
    if (use_sink) p.set_body_sink([&](std::string_view b) { sunk.append(b); });
    if (head_first) p.expect_no_body();
    std::size_t piece = 0;
    auto take = [&] {
        out.messages.push_back(p.take());
        out.sunk.push_back(std::move(sunk));
        sunk.clear();
        auto& m = out.messages.back();
        std::size_t head = m.method.size() + m.target.size();
        for (auto& [k, v] : m.headers) head += k.size() + v.size();
        HERD_FUZZ_CHECK(head <= limits.max_header_bytes);
        HERD_FUZZ_CHECK(m.body.size() <= limits.max_body_bytes);
        HERD_FUZZ_CHECK(out.sunk.back().size() <= limits.max_body_bytes);
        HERD_FUZZ_CHECK(!use_sink || m.body.empty());
    };
    while (!stream.empty()) {
        std::size_t n = pieces.empty() ? 0 : pieces[piece++ % pieces.size()];
        std::string_view data = stream.substr(0, n == 0 ? stream.size() : n);
        stream.remove_prefix(data.size());
        while (!data.empty()) {
            auto r = p.feed(data);
            HERD_FUZZ_CHECK(r.consumed <= data.size());
            if (r.ec) {
                out.ec = r.ec;
                return out;
            }
            data.remove_prefix(r.consumed);
            if (r.complete) take();
            else HERD_FUZZ_CHECK(data.empty()); // an incomplete message takes every byte given
        }
    }
    if (p.in_message()) {
        auto r = p.finish();
        if (r.complete) take();
        out.ec = r.ec;
    }
    return out;
}

inline void same(const parse_outcome& a, const parse_outcome& b) {
    // Whether it failed, not how: a limit can be crossed in a piece before
    // the byte llhttp rejects, or after it when fed whole.
    HERD_FUZZ_CHECK(bool(a.ec) == bool(b.ec));
    HERD_FUZZ_CHECK(a.messages.size() == b.messages.size());
    for (std::size_t i = 0; i < a.messages.size(); ++i) {
        const auto &x = a.messages[i], &y = b.messages[i];
        HERD_FUZZ_CHECK(x.status == y.status && x.method == y.method && x.target == y.target);
        HERD_FUZZ_CHECK(x.headers == y.headers && x.body == y.body && a.sunk[i] == b.sunk[i]);
        HERD_FUZZ_CHECK(x.keep_alive == y.keep_alive && x.chunked == y.chunked && x.http10 == y.http10);
    }
}

// One run of the property over fuzz input `data`.
inline void check_parser(http::message_kind kind, const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    // Small limits so that the fuzzer reaches them.
    http::parser_limits limits{in.ConsumeIntegralInRange<std::size_t>(16, 4096),
                               in.ConsumeIntegralInRange<std::size_t>(0, 65536)};
    bool use_sink = in.ConsumeBool();
    bool head_first = kind == http::message_kind::response && in.ConsumeBool();
    std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(1, 8));
    for (auto& n : pieces) n = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    std::string stream = in.ConsumeRemainingBytesAsString();
    auto whole = parse_in_pieces(kind, limits, stream, {}, use_sink, head_first);
    auto split = parse_in_pieces(kind, limits, stream, pieces, use_sink, head_first);
    same(whole, split);
    auto bytewise = parse_in_pieces(kind, limits, stream, {1}, use_sink, head_first);
    same(whole, bytewise);
}

} // namespace herd::fuzz
