// Micro-benchmarks of herd's wire path: HTTP response parsing (bytes/s,
// chunked and Content-Length), /api/embed decoding (floats/s) and request
// encoding. Bodies are herd-sim's own rendering of the deterministic
// vectors: shortest-form floats, so exponent forms such as -2.5e-05 occur
// as they do with Ollama.
//
//   bench_protocol --benchmark_min_time=0.5
#include <herd/http/parser.hpp>
#include <herd/ollama/codec.hpp>
#include <herd/openai/codec.hpp>

#include "sim/embed.hpp"
#include <herd/sim/embedding_rule.hpp>
#include "sim/wire.hpp"

#include <benchmark/benchmark.h>

#include <charconv>

#include "support/bench_support.hpp"

namespace {

using namespace herd;

constexpr std::size_t dim = 1024; // mxbai-embed-large

/// herd-sim's /api/embed body for `rows` texts of ~100 bytes.
std::string embed_body(std::size_t rows) {
    sim::embed_request r;
    r.model = "mxbai-embed-large";
    for (std::size_t i = 0; i < rows; ++i) r.inputs.push_back(bench::text_for(i));
    sim::vector_cache cache;
    std::string body;
    sim::render_embed(body, r, dim, cache, 0, {.total = std::chrono::milliseconds(12), .prompt_eval_count = rows * 26});
    return body;
}

/// A whole response: chunked in `chunk` byte pieces (0: one chunk, as Go
/// sends a JSON body) or with Content-Length when chunk < 0.
std::string response_for(const std::string& body, long chunk) {
    std::string out;
    if (chunk < 0) {
        out = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
              "Date: Mon, 23 Nov 2026 12:00:00 GMT\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
        return out;
    }
    sim::wire::append_response(out, 200, "application/json; charset=utf-8", body, true, false,
                               static_cast<std::size_t>(chunk));
    return out;
}

/// Counts the exponent-form numbers of a body (reported once, as a check
/// that the input is real-shaped).
std::size_t exponent_floats(const std::string& body) {
    std::size_t n = 0;
    for (std::size_t i = 1; i < body.size(); ++i)
        if (body[i] == 'e' && (body[i - 1] >= '0' && body[i - 1] <= '9')) ++n;
    return n;
}

// ---------------------------------------------------------------- parser

// Args: rows of the body, framing (-1 Content-Length, 0 one chunk, >0
// chunk size), read size (0: the whole response in one feed).
void BM_parse_response(benchmark::State& state) {
    auto body = embed_body(static_cast<std::size_t>(state.range(0)));
    auto wire = response_for(body, state.range(1));
    const auto read = static_cast<std::size_t>(state.range(2));
    http::parser p(http::message_kind::response);
    for (auto _ : state) {
        std::string_view rest = wire;
        bool complete = false;
        while (!complete) {
            auto piece = read ? rest.substr(0, std::min(read, rest.size())) : rest;
            auto r = p.feed(piece);
            if (r.ec) {
                state.SkipWithError(r.ec.message().c_str());
                return;
            }
            rest.remove_prefix(r.consumed);
            complete = r.complete;
            if (!complete && (rest.empty() || r.consumed == 0)) {
                state.SkipWithError("response not complete");
                return;
            }
        }
        auto m = p.take();
        benchmark::DoNotOptimize(m.body.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
    state.counters["wire_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_parse_response)
    ->ArgNames({"rows", "framing", "read"})
    ->Args({1, -1, 0})      // Content-Length, one feed
    ->Args({1, 0, 0})       // one chunk (Go), one feed
    ->Args({1, 4096, 0})    // 4 KiB chunks
    ->Args({1, 0, 16384})   // one chunk, 16 KiB socket reads
    ->Args({64, 0, 65536}); // a 64-text batch answer, 64 KiB reads

// Eight pipelined responses in one buffer, as a connection with a full
// pipeline reads them.
void BM_parse_pipelined(benchmark::State& state) {
    auto one = response_for(embed_body(1), 0);
    std::string wire;
    for (int i = 0; i < 8; ++i) wire += one;
    http::parser p(http::message_kind::response);
    for (auto _ : state) {
        std::string_view rest = wire;
        int got = 0;
        while (!rest.empty()) {
            auto r = p.feed(rest);
            if (r.ec) {
                state.SkipWithError(r.ec.message().c_str());
                return;
            }
            rest.remove_prefix(r.consumed);
            if (r.complete) {
                auto m = p.take();
                benchmark::DoNotOptimize(m.body.data());
                ++got;
            }
        }
        if (got != 8) state.SkipWithError("lost a pipelined response");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 8));
}
BENCHMARK(BM_parse_pipelined);

// ---------------------------------------------------------------- codec

// decode_embed on a body of range(0) rows of 1024 floats.
void BM_decode_embed(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    auto body = embed_body(rows);
    ollama::embed_reply reply;
    for (auto _ : state) {
        auto f = ollama::decode_embed(body, reply);
        if (f) {
            state.SkipWithError(f.describe().c_str());
            return;
        }
        benchmark::DoNotOptimize(reply.embeddings.data());
    }
    if (reply.embeddings.rows() != rows || reply.embeddings.dim() != dim) state.SkipWithError("wrong shape");
    const auto floats = static_cast<double>(rows * dim);
    state.counters["floats/s"] =
        benchmark::Counter(floats * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["exp_floats"] = static_cast<double>(exponent_floats(body));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_decode_embed)->Arg(1)->Arg(64);

// openai::decode_embeddings on the same vectors as a /v1/embeddings body
// (herd-sim's), rows in order (range(1) = 0) or last index first (1: the
// decoder puts them back in order).
void BM_decode_openai_embeddings(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    sim::embed_request r;
    r.model = "mxbai-embed-large";
    for (std::size_t i = 0; i < rows; ++i) r.inputs.push_back(bench::text_for(i));
    sim::vector_cache cache;
    std::string body;
    sim::render_openai_embed(body, r, dim, cache, 0, rows * 26, state.range(1) != 0);
    ollama::embed_reply reply;
    for (auto _ : state) {
        auto f = openai::decode_embeddings(body, reply);
        if (f) {
            state.SkipWithError(f.describe().c_str());
            return;
        }
        benchmark::DoNotOptimize(reply.embeddings.data());
    }
    if (reply.embeddings.rows() != rows || reply.embeddings.dim() != dim) state.SkipWithError("wrong shape");
    state.counters["floats/s"] = benchmark::Counter(static_cast<double>(rows * dim * state.iterations()),
                                                    benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_decode_openai_embeddings)->Args({64, 0})->Args({64, 1});

// The same vectors with every float in exponent form ("3.0517578e-02"):
// the worst case of number parsing (Go's encoder writes exponents only for
// tiny values, herd-sim's shortest form for values under 1e-4).
void BM_decode_embed_all_exponent(benchmark::State& state) {
    std::string body = "{\"model\":\"mxbai-embed-large\",\"embeddings\":[[";
    auto v = sim::expected_embedding("mxbai-embed-large", "text 0", dim);
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) body += ',';
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v[i], std::chars_format::scientific);
        body.append(buf, end);
    }
    body += "]],\"total_duration\":12000000,\"load_duration\":0,\"prompt_eval_count\":2}";
    ollama::embed_reply reply;
    for (auto _ : state) {
        auto f = ollama::decode_embed(body, reply);
        if (f) {
            state.SkipWithError(f.describe().c_str());
            return;
        }
        benchmark::DoNotOptimize(reply.embeddings.data());
    }
    state.counters["floats/s"] = benchmark::Counter(static_cast<double>(dim) * static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate);
    state.counters["exp_floats"] = static_cast<double>(exponent_floats(body));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_decode_embed_all_exponent);

// The same 1024-dim body with an escape in "model": decode_embed's fast
// scanner steps aside and the nlohmann SAX decoder (the exact fallback, and
// the only decoder before the scanner) does the work.
void BM_decode_embed_fallback(benchmark::State& state) {
    auto body = embed_body(1);
    auto at = body.find("\"mxbai-embed-large\"");
    if (at == std::string::npos) {
        state.SkipWithError("unexpected body");
        return;
    }
    body.replace(at, 19, "\"mxbai\\u002dembed-large\"");
    ollama::embed_reply reply;
    for (auto _ : state) {
        auto f = ollama::decode_embed(body, reply);
        if (f) {
            state.SkipWithError(f.describe().c_str());
            return;
        }
        benchmark::DoNotOptimize(reply.embeddings.data());
    }
    if (reply.model != "mxbai-embed-large" || reply.embeddings.dim() != dim) state.SkipWithError("wrong decode");
    state.counters["floats/s"] = benchmark::Counter(static_cast<double>(dim) * static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_decode_embed_fallback);

// The floor for decoding: std::from_chars over the same numbers, skipping
// the separators (no JSON validation). Shows what decode_embed costs above
// float conversion itself.
void BM_decode_floor_from_chars(benchmark::State& state) {
    auto body = embed_body(1);
    auto start = body.find("[[") + 2;
    auto end = body.find("]]");
    std::vector<float> out(dim);
    for (auto _ : state) {
        const char* p = body.data() + start;
        const char* last = body.data() + end;
        std::size_t n = 0;
        while (p < last && n < dim) {
            auto [next, ec] = std::from_chars(p, last, out[n]);
            if (ec != std::errc{}) break;
            ++n;
            p = next + 1; // ','
        }
        benchmark::DoNotOptimize(out.data());
        if (n != dim) state.SkipWithError("from_chars stopped early");
    }
    state.counters["floats/s"] = benchmark::Counter(static_cast<double>(dim) * static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (end - start)));
}
BENCHMARK(BM_decode_floor_from_chars);

// encode_embed of range(0) texts of range(1) bytes.
void BM_encode_embed(benchmark::State& state) {
    auto texts = bench::corpus(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    std::vector<std::string_view> views(texts.begin(), texts.end());
    ollama::embed_params params{.model = "mxbai-embed-large"};
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto body = ollama::encode_embed(params, views);
        bytes += body.size();
        benchmark::DoNotOptimize(body.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * texts.size()));
}
BENCHMARK(BM_encode_embed)->ArgNames({"texts", "bytes"})->Args({1, 100})->Args({64, 200});

} // namespace

BENCHMARK_MAIN();
