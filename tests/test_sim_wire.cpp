// herd-sim against the real Ollama server's wire, fact by fact as
// shared/real-ollama/WIRE.md lists them (and as curl to a real Ollama 0.24.0
// showed): the exact bytes of heads and error bodies, the /api/embed table,
// HTTP/1.0, pipelining with Connection: close, and the calibrated profiles.

#include "test_sim_client.hpp"

#include "sim/cluster.hpp"
#include "sim/wire.hpp"

#include <herd/ollama/codec.hpp>
#include <herd/sim/embedding_rule.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>

using namespace sim_test;
using herd::sim::cluster;
using herd::sim::node_profile;
using json = nlohmann::json;

namespace {

node_profile zero() { return herd::sim::profile("zero"); }

// The raw bytes with the Date header's value (the one changing part) as "X".
std::string undated(const std::string& raw) {
    static const std::regex date("Date: [^\r]*\r\n");
    return std::regex_replace(raw, date, "Date: X\r\n");
}

// Every byte the server sends on a fresh connection for `bytes`, up to its close.
std::string exchange_raw(std::uint16_t port, const std::string& bytes) {
    client c(port);
    c.send(bytes);
    std::string all;
    for (int i = 0; i < 100; ++i) {
        auto piece = c.read_raw(2000ms);
        if (piece.empty()) break; // closed (or nothing more in 2 s)
        all += piece;
    }
    return undated(all);
}

std::string close_request(std::string_view method, std::string_view path, std::string_view body = {}) {
    return request(method, path, body, "Connection: close\r\n");
}

// One /api/embed on a fresh connection: status and body.
reply embed(std::uint16_t port, std::string_view body) { return roundtrip(port, "POST", "/api/embed", body); }

} // namespace

TEST_CASE("sim wire: heads in Go's order, no Server header, Connection: close before Transfer-Encoding") {
    cluster c({zero()});
    c.start();
    CHECK(exchange_raw(c.port(0), close_request("GET", "/api/version")) ==
          "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n"
          "Content-Length: 19\r\nConnection: close\r\n\r\n{\"version\":\"0.5.7\"}");
    CHECK(exchange_raw(c.port(0), close_request("HEAD", "/")) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: X\r\n"
          "Content-Length: 17\r\nConnection: close\r\n\r\n");

    // A one-text 1024-dim embed is chunked as ONE chunk holding the whole JSON.
    auto raw = exchange_raw(c.port(0), close_request("POST", "/api/embed", R"({"model":"mxbai-embed-large","input":"hi"})"));
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n"
                             "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
    REQUIRE(raw.substr(0, head.size()) == head);
    auto size_end = raw.find("\r\n", head.size());
    auto size = std::stoul(raw.substr(head.size(), size_end - head.size()), nullptr, 16);
    CHECK(raw.size() == size_end + 2 + size + std::string_view("\r\n0\r\n\r\n").size());
    CHECK(raw.substr(size_end + 2 + size) == "\r\n0\r\n\r\n");
    auto body = json::parse(raw.substr(size_end + 2, size));
    CHECK(body["embeddings"][0].size() == 1024);
    CHECK(raw.find("Server:") == std::string::npos);
}

TEST_CASE("sim wire: up to 2048 bytes Content-Length, from 2049 one chunk, chunk_size splits") {
    auto framed = [](std::size_t n, std::size_t chunk_size) {
        std::string out;
        herd::sim::wire::append_response(out, 200, "x", std::string(n, 'a'), true, false, chunk_size);
        return undated(out);
    };
    CHECK(framed(2048, 0) == "HTTP/1.1 200 OK\r\nContent-Type: x\r\nDate: X\r\nContent-Length: 2048\r\n\r\n" +
                                 std::string(2048, 'a'));
    CHECK(framed(2049, 0) == "HTTP/1.1 200 OK\r\nContent-Type: x\r\nDate: X\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "801\r\n" + std::string(2049, 'a') + "\r\n0\r\n\r\n");
    CHECK(framed(2049, 1000) == "HTTP/1.1 200 OK\r\nContent-Type: x\r\nDate: X\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3e8\r\n" + std::string(1000, 'a') + "\r\n3e8\r\n" + std::string(1000, 'a') +
                                    "\r\n31\r\n" + std::string(49, 'a') + "\r\n0\r\n\r\n");

    // The profile's chunk_size reaches the wire.
    auto p = zero();
    p.chunk_size = 1000;
    cluster c({p});
    c.start();
    auto r = roundtrip(c.port(0), "POST", "/api/embed", R"({"model":"all-minilm","input":"hi"})");
    REQUIRE(r.ok());
    CHECK(r.msg.chunked);
    std::size_t chunks = 0;
    for (std::size_t at = r.raw.find("\r\n\r\n") + 4; at < r.raw.size();) {
        auto eol = r.raw.find("\r\n", at);
        auto n = std::stoul(r.raw.substr(at, eol - at), nullptr, 16);
        if (n == 0) break;
        ++chunks;
        at = eol + 2 + n + 2;
    }
    CHECK(chunks == (r.msg.body.size() + 999) / 1000);
}

TEST_CASE("sim wire: Go's 404 and 405 pages, Allow, HEAD without a body") {
    cluster c({zero()});
    c.start();
    const auto p = c.port(0);
    CHECK(exchange_raw(p, close_request("GET", "/api/embed")) ==
          "HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Type: text/plain\r\nDate: X\r\n"
          "Content-Length: 22\r\nConnection: close\r\n\r\n405 method not allowed");
    CHECK(exchange_raw(p, close_request("POST", "/api/tags", "{}")) ==
          "HTTP/1.1 405 Method Not Allowed\r\nAllow: HEAD, GET\r\nContent-Type: text/plain\r\nDate: X\r\n"
          "Content-Length: 22\r\nConnection: close\r\n\r\n405 method not allowed");
    CHECK(exchange_raw(p, close_request("HEAD", "/api/ps")) ==
          "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Type: text/plain\r\nDate: X\r\n"
          "Content-Length: 22\r\nConnection: close\r\n\r\n");
    CHECK(exchange_raw(p, close_request("GET", "/api/nothing")) ==
          "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nDate: X\r\n"
          "Content-Length: 18\r\nConnection: close\r\n\r\n404 page not found");
    // Bytes that are not HTTP: Go's bare 400 (no Date, no length), then close.
    CHECK(exchange_raw(p, "BLAH\x01\x02 /\r\n\r\n") ==
          "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
          "400 Bad Request");
    // A foreign Host (DNS rebinding): 403, no type, no body; local names pass.
    CHECK(exchange_raw(p, "GET /api/version HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n") ==
          "HTTP/1.1 403 Forbidden\r\nDate: X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    for (std::string host : {"localhost:11434", "[::1]:1", "10.1.2.3", "box.local", "192.168.0.9:80"}) {
        INFO(host);
        auto raw = exchange_raw(p, "GET /api/version HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
        CHECK(raw.substr(0, 15) == "HTTP/1.1 200 OK");
    }
    // Expect: 100-continue is answered before the body.
    auto cont = exchange_raw(p, request("POST", "/api/embed", R"({"model":"all-minilm","input":[]})",
                                        "Expect: 100-continue\r\nConnection: close\r\n"));
    CHECK(cont.substr(0, 25) == "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("sim wire: HTTP/1.0 gets a 1.0 status line and close-delimited big bodies") {
    cluster c({zero()});
    c.start();
    auto http10 = [](std::string_view path, std::string_view body, std::string_view extra = {}) {
        std::string r = request(body.empty() ? "GET" : "POST", path, body, extra);
        r.replace(r.find("HTTP/1.1"), 8, "HTTP/1.0");
        return r;
    };
    CHECK(exchange_raw(c.port(0), http10("/api/version", {})) ==
          "HTTP/1.0 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n"
          "Content-Length: 19\r\n\r\n{\"version\":\"0.5.7\"}");
    auto big = exchange_raw(c.port(0), http10("/api/embed", R"({"model":"all-minilm","input":"hi"})"));
    const std::string head = "HTTP/1.0 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n\r\n";
    REQUIRE(big.substr(0, head.size()) == head);
    CHECK(json::parse(big.substr(head.size()))["embeddings"][0].size() == 384); // the body runs to the close

    // keep-alive on 1.0: said so, and the connection serves another request.
    client cl(c.port(0));
    cl.send(http10("/api/version", {}, "Connection: keep-alive\r\n"));
    auto first = cl.read();
    REQUIRE(first.ok());
    CHECK(undated(first.raw) == "HTTP/1.0 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n"
                                "Content-Length: 19\r\nConnection: keep-alive\r\n\r\n{\"version\":\"0.5.7\"}");
    cl.send(request("GET", "/api/version"));
    CHECK(cl.read().msg.status == 200);
    CHECK(c.counters(0).connections == 3);
}

TEST_CASE("sim wire: a pipelined Connection: close is answered, the requests after it dropped") {
    cluster c({zero()});
    c.start();
    auto raw = exchange_raw(c.port(0), request("GET", "/api/version") + close_request("GET", "/") +
                                           request("GET", "/api/version"));
    CHECK(raw == "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: X\r\n"
                 "Content-Length: 19\r\n\r\n{\"version\":\"0.5.7\"}"
                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: X\r\n"
                 "Content-Length: 17\r\nConnection: close\r\n\r\nOllama is running");
    CHECK(c.counters(0).requests == 2);
}

TEST_CASE("sim wire: Ollama's /api/embed table") {
    cluster c({zero()});
    c.start();
    const auto p = c.port(0);
    auto check = [&](std::string_view body, int status, std::string_view want) {
        INFO(body);
        auto r = embed(p, body);
        REQUIRE(r.ok());
        CHECK(r.msg.status == status);
        CHECK(r.msg.body == want);
        CHECK(r.msg.header("content-type") == "application/json; charset=utf-8");
    };
    const std::string none = R"({"model":"all-minilm","embeddings":[]})";
    check(R"({"model":"all-minilm","input":""})", 200, none);
    check(R"({"model":"all-minilm","input":[]})", 200, none);
    check(R"({"model":"all-minilm","input":null})", 200, none);
    check(R"({"model":"all-minilm"})", 200, none);
    check(R"({"model":"all-minilm","input":[]} trailing bytes)", 200, none); // Go reads one value
    check(R"({"model":"all-minilm:latest","input":[]})", 200, R"({"model":"all-minilm:latest","embeddings":[]})");
    check(R"({"model":"all-minilm","input":5})", 400, R"({"error":"invalid input type"})");
    check(R"({"model":"all-minilm","input":["a",5]})", 400, R"({"error":"invalid input type"})");
    check(R"({"model":"nope","input":5})", 400, R"({"error":"invalid input type"})"); // input before existence
    check(R"({"model":"all-minilm","input":"hel)", 400, R"({"error":"unexpected EOF"})");
    check("", 400, R"({"error":"missing request body"})");
    check("  \n", 400, R"({"error":"missing request body"})");
    check(R"({"input":"x"})", 404, R"({"error":"model '' not found"})");
    check(R"({"model":"","input":5})", 404, R"({"error":"model '' not found"})"); // the name before the input
    check("null", 404, R"({"error":"model '' not found"})");
    check(R"({"model":"nope","input":"x"})", 404, R"({"error":"model \"nope\" not found, try pulling it first"})");
    check(R"({"model":"nope:latest","input":"x"})", 404,
          R"({"error":"model \"nope:latest\" not found, try pulling it first"})");
    check(R"({"model":")" + std::string(100, 'a') + R"(","input":"x"})", 400, R"({"error":"invalid model name"})");
    check("[1]", 400, R"({"error":"json: cannot unmarshal array into Go value of type api.EmbedRequest"})");
    check(R"({"model":5,"input":[]})", 400,
          R"({"error":"json: cannot unmarshal number into Go struct field EmbedRequest.model of type string"})");
    check(R"({"model":"all-minilm","input":[],"dimensions":"x"})", 400,
          R"({"error":"json: cannot unmarshal string into Go struct field EmbedRequest.dimensions of type int"})");
    check(R"({"model":"all-minilm","input":[],"truncate":"x"})", 400,
          R"({"error":"json: cannot unmarshal string into Go struct field EmbedRequest.truncate of type bool"})");
    check(R"({"model":"all-minilm","input":[],"keep_alive":"soon"})", 400, R"({"error":"time: invalid duration \"soon\""})");
    check(R"({"model":"all-minilm","input":"hi","dimensions":1.5})", 400,
          R"({"error":"json: cannot unmarshal number 1.5 into Go struct field EmbedRequest.dimensions of type int"})");
    check(R"({"model":"all-minilm","input":"hi","options":5})", 400,
          R"({"error":"json: cannot unmarshal number into Go struct field EmbedRequest.options of type )"
          R"(map[string]interface {}"})");
    check(R"({"model":"all-minilm","truncate":false,"input":["ok",")" + std::string(2000, 'x') + "\"]}", 400,
          R"({"error":"the input length exceeds the context length"})");
    check(R"({"model":"all-minilm","input":[],"unknown_field":1})", 200, none);

    // [""] is one vector; the three counts are present, as Ollama's.
    auto one = json::parse(embed(p, R"({"model":"all-minilm","input":[""]})").msg.body);
    CHECK(one["embeddings"].size() == 1);
    CHECK(one["embeddings"][0].size() == 384);
    auto hello = json::parse(embed(p, R"({"model":"all-minilm","input":"hello"})").msg.body);
    CHECK(hello["prompt_eval_count"] == 3); // as Ollama counts "hello": [CLS] hello [SEP]
    CHECK(hello["total_duration"].get<std::int64_t>() > 0);
    CHECK(hello["load_duration"].get<std::int64_t>() > 0);
    // dimensions 0, negative or >= dim: the vector unchanged.
    for (int d : {0, -3, 384, 1000}) {
        INFO(d);
        auto j = json::parse(embed(p, R"({"model":"all-minilm","input":"hello","dimensions":)" + std::to_string(d) + "}")
                                 .msg.body);
        CHECK(j["embeddings"] == hello["embeddings"]);
    }
    // herd's decoder takes the zero-input answer as zero rows.
    herd::ollama::embed_reply decoded;
    CHECK_FALSE(herd::ollama::decode_embed(none, decoded));
    CHECK(decoded.embeddings.rows() == 0);
}

TEST_CASE("sim wire: legacy /api/embeddings") {
    cluster c({zero()});
    c.start();
    const auto p = c.port(0);
    auto legacy = [&](std::string_view body) { return roundtrip(p, "POST", "/api/embeddings", body); };
    CHECK(legacy(R"({"model":"all-minilm","prompt":""})").msg.body == R"({"embedding":[]})");
    CHECK(legacy(R"({"model":"all-minilm"})").msg.body == R"({"embedding":[]})");
    auto missing = legacy(R"({"prompt":"x"})");
    CHECK(missing.msg.status == 400);
    CHECK(missing.msg.body == R"({"error":"model is required"})");
    auto unknown = legacy(R"({"model":"nope","prompt":"x"})");
    CHECK(unknown.msg.status == 404);
    CHECK(unknown.msg.body == R"({"error":"model \"nope\" not found, try pulling it first"})");
    CHECK(legacy(R"({"model":"all-minilm","prompt":5})").msg.body ==
          R"({"error":"json: cannot unmarshal number into Go struct field EmbeddingRequest.prompt of type string"})");
    // float64 digits of the float32 values; dimensions is not a legacy field.
    auto r = legacy(R"({"model":"all-minilm","prompt":"hello","dimensions":4})");
    auto v = json::parse(r.msg.body)["embedding"].get<std::vector<double>>();
    REQUIRE(v.size() == 384);
    auto want = herd::sim::expected_embedding("all-minilm", "hello", 384);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == static_cast<double>(want[i]));
}

TEST_CASE("sim wire: floats as Go writes them") {
    auto f = [](float v) {
        std::string s;
        herd::sim::wire::append_float(s, v);
        return s;
    };
    auto d = [](double v) {
        std::string s;
        herd::sim::wire::append_double(s, v);
        return s;
    };
    CHECK(f(0.5f) == "0.5");
    CHECK(f(-0.06288156f) == "-0.06288156");
    CHECK(f(1e-7f) == "1e-7");
    CHECK(f(0) == "0");
    CHECK(f(1e21f) == "1e+21");
    CHECK(d(static_cast<double>(-0.06288155f)) == "-0.06288155168294907");
    CHECK(d(2.5e-10) == "2.5e-10");
}

TEST_CASE("sim wire: chat and generate errors, /api/ps and /api/tags fields") {
    auto prof = zero();
    prof.loaded = {"all-minilm"};
    cluster c({prof});
    c.start();
    const auto p = c.port(0);
    auto check = [&](std::string_view path, std::string_view body, int status, std::string_view want) {
        INFO(path << " " << body);
        auto r = roundtrip(p, "POST", path, body);
        CHECK(r.msg.status == status);
        CHECK(r.msg.body == want);
    };
    check("/api/generate", R"({"model":"all-minilm","prompt":"hi"})", 400,
          R"({"error":"\"all-minilm\" does not support generate"})");
    check("/api/generate", R"({"model":"all-minilm:latest","prompt":"hi"})", 400,
          R"({"error":"\"all-minilm:latest\" does not support generate"})");
    check("/api/generate", R"({"model":"nope","prompt":"hi"})", 404, R"({"error":"model 'nope' not found"})");
    check("/api/generate", R"({"prompt":"hi"})", 404, R"({"error":"model '' not found"})");
    check("/api/chat", R"({"model":"all-minilm","messages":[{"role":"user","content":"hi"}]})", 400,
          R"({"error":"\"all-minilm\" does not support chat"})");
    check("/api/chat", R"({"model":"nope","messages":[]})", 404, R"({"error":"model 'nope' not found"})");
    check("/api/chat", R"({"messages":[]})", 400, R"({"error":"model is required"})");

    auto keys = [](const nlohmann::ordered_json& o) {
        std::vector<std::string> k;
        for (auto& item : o.items()) k.push_back(item.key());
        return k;
    };
    auto ps = nlohmann::ordered_json::parse(roundtrip(p, "GET", "/api/ps").msg.body)["models"];
    REQUIRE(ps.size() == 1);
    CHECK(keys(ps[0]) == std::vector<std::string>{"name", "model", "size", "digest", "details", "expires_at",
                                                  "size_vram", "context_length"});
    CHECK(ps[0]["context_length"] == 256);
    auto tags = nlohmann::ordered_json::parse(roundtrip(p, "GET", "/api/tags").msg.body)["models"];
    CHECK(keys(tags[0]) == std::vector<std::string>{"name", "model", "modified_at", "size", "digest", "details"});
    CHECK(keys(tags[0]["details"]) == std::vector<std::string>{"parent_model", "format", "family", "families",
                                                               "parameter_size", "quantization_level"});

    auto none = zero();
    none.loaded.clear();
    cluster cold({none});
    cold.start();
    CHECK(roundtrip(cold.port(0), "GET", "/api/ps").msg.body == R"({"models":[]})");
}
