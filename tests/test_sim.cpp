// herd-sim on the wire: vectors, errors, framing, pipelining, the queue
// limit, NDJSON streams, model endpoints. Faults and control are in
// test_sim_faults.cpp.

#include "test_sim_client.hpp"

#include "sim/cluster.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace sim_test;
using herd::sim::cluster;
using herd::sim::node_profile;
using json = nlohmann::json;

namespace {

node_profile zero() { return herd::sim::profile("zero"); }

std::string embed_body(std::string_view model, const json& input, int dimensions = 0) {
    json j{{"model", model}, {"input", input}};
    if (dimensions) j["dimensions"] = dimensions;
    return j.dump();
}

std::vector<float> floats(const json& a) { return a.get<std::vector<float>>(); }

void check_rule(const json& vec, std::string_view model, std::string_view text, std::size_t full_dim) {
    auto v = floats(vec);
    CHECK(herd::sim::matches_rule(model, text, v.data(), v.size(), full_dim));
}

std::vector<json> ndjson_lines(const std::string& body) {
    std::vector<json> out;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        INFO(line);
        auto j = json::parse(line, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        out.push_back(j);
    }
    return out;
}

} // namespace

TEST_CASE("sim: the reference vector, and dimensions keeps the first k and renormalises") {
    const std::vector<float> reference = {-0.6075227f, -0.4379624f, -0.5778178f, 0.3243944f};
    auto small = herd::sim::expected_embedding("all-minilm", "hello", 4);
    auto cut = herd::sim::expected_embedding("all-minilm", "hello", 384, 4);
    REQUIRE(small.size() == 4);
    REQUIRE(cut.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(small[i] == Approx(reference[i]).margin(1e-6));
        CHECK(cut[i] == small[i]); // the draws are a prefix: same vector either way
    }
    cluster c({zero()});
    c.start();
    auto r = roundtrip(c.port(0), "POST", "/api/embed", embed_body("all-minilm", "hello", 4));
    REQUIRE(r.ok());
    CHECK(r.msg.status == 200);
    auto j = json::parse(r.msg.body);
    auto got = floats(j["embeddings"][0]);
    REQUIRE(got.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(got[i] == Approx(reference[i]).margin(1e-6));
    CHECK(j["model"] == "all-minilm");
    CHECK(j.contains("total_duration"));
    CHECK(j.contains("load_duration"));
    CHECK(j["prompt_eval_count"] == 3); // as the real server: "hello" and BERT's two special tokens
}

TEST_CASE("sim: array input keeps order; full vectors follow the rule; legacy endpoint") {
    cluster c({zero()});
    c.start();
    std::vector<std::string> texts = {"alpha", "beta", "gamma <&>", ""};
    auto r = roundtrip(c.port(0), "POST", "/api/embed", embed_body("mxbai-embed-large:latest", texts));
    REQUIRE(r.ok());
    auto j = json::parse(r.msg.body);
    REQUIRE(j["embeddings"].size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        CHECK(j["embeddings"][i].size() == 1024);
        check_rule(j["embeddings"][i], "mxbai-embed-large", texts[i], 1024);
    }
    auto legacy = roundtrip(c.port(0), "POST", "/api/embeddings", R"({"model":"nomic-embed-text","prompt":"hi"})");
    REQUIRE(legacy.ok());
    auto lj = json::parse(legacy.msg.body);
    check_rule(lj["embedding"], "nomic-embed-text", "hi", 768);
    CHECK(c.counters(0).inputs == texts.size() + 1);
}

TEST_CASE("sim: error statuses and exact bodies") {
    cluster c({zero()});
    c.start();
    auto p = c.port(0);
    auto check = [&](std::string_view body, int status, std::string_view want) {
        auto r = roundtrip(p, "POST", "/api/embed", body);
        REQUIRE(r.ok());
        CHECK(r.msg.status == status);
        CHECK(r.msg.body == want);
    };
    check(embed_body("nope", "x"), 404, R"({"error":"model \"nope\" not found, try pulling it first"})");
    check(embed_body("", "x"), 404, R"({"error":"model '' not found"})");
    check(R"({"model":"all-minilm","input":3})", 400, R"({"error":"invalid input type"})");
    check(R"({"model":"all-minilm","truncate":false,"input":")" + std::string(2000, 'x') + "\"}", 400,
          R"({"error":"the input length exceeds the context length"})");

    auto empty = roundtrip(p, "POST", "/api/embed", R"({"model":"all-minilm","input":[]})");
    CHECK(empty.msg.status == 200);
    CHECK(json::parse(empty.msg.body)["embeddings"] == json::array());

    // The rest of Ollama's table is in test_sim_wire.cpp.
    auto chat_model = roundtrip(p, "POST", "/api/embed", embed_body("llama3.2", "x"));
    CHECK(chat_model.msg.status == 200); // allowed: the chat model's own width
    CHECK(json::parse(chat_model.msg.body)["embeddings"][0].size() == 3072);
    CHECK(roundtrip(p, "GET", "/api/nothing").msg.status == 404);
    CHECK(roundtrip(p, "GET", "/api/embed").msg.status == 405);

    // Bytes that are not HTTP: 400 and the connection closes.
    client bad(p);
    bad.send("BLAH\x01\x02 /\r\n\r\n");
    auto r = bad.read();
    CHECK(r.msg.status == 400);
    CHECK(bad.read(1000ms).ec == asio::error::eof);
    // A declared body over the cap: 413 before a byte of it is sent.
    client big(p);
    big.send("POST /api/embed HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
    CHECK(big.read().msg.status == 413);
}

TEST_CASE("sim: chunked above 2 KiB, Content-Length below; HEAD; Connection: close") {
    cluster c({zero()});
    c.start();
    auto big = roundtrip(c.port(0), "POST", "/api/embed", embed_body("mxbai-embed-large", "hello"));
    REQUIRE(big.ok());
    CHECK(big.msg.chunked);
    CHECK(big.msg.header("content-length").empty());
    CHECK(big.msg.header("content-type") == "application/json; charset=utf-8");
    auto small = roundtrip(c.port(0), "POST", "/api/embed", embed_body("all-minilm", "hello", 4));
    REQUIRE(small.ok());
    CHECK_FALSE(small.msg.chunked);
    CHECK(small.msg.header("content-length") == std::to_string(small.msg.body.size()));

    auto head = roundtrip(c.port(0), "HEAD", "/");
    REQUIRE(head.ok());
    CHECK(head.msg.status == 200);
    CHECK(head.msg.body.empty());
    CHECK(head.msg.header("content-length") == "17");
    auto get = roundtrip(c.port(0), "GET", "/");
    CHECK(get.msg.body == "Ollama is running");
    CHECK(get.msg.header("content-type") == "text/plain; charset=utf-8");

    client closing(c.port(0));
    closing.send(request("GET", "/api/version", {}, "Connection: close\r\n"));
    auto v = closing.read();
    CHECK(v.msg.header("connection") == "close");
    CHECK(json::parse(v.msg.body)["version"] == "0.5.7");
    CHECK(closing.read(1000ms).ec == asio::error::eof);
}

TEST_CASE("sim: three pipelined requests in one write are answered in order") {
    auto p = zero();
    p.per_input_cost = std::chrono::milliseconds(5); // the first one is the slowest
    cluster c({p});
    c.start();
    client cl(c.port(0));
    cl.send(request("POST", "/api/embed", embed_body("all-minilm", json::array({"a", "b", "c"}), 8)) +
            request("POST", "/api/embed", embed_body("all-minilm", "second", 8)) +
            request("GET", "/api/version"));
    auto r1 = cl.read(), r2 = cl.read(), r3 = cl.read();
    REQUIRE(r1.ok());
    REQUIRE(r2.ok());
    REQUIRE(r3.ok());
    auto j1 = json::parse(r1.msg.body);
    CHECK(j1["embeddings"].size() == 3);
    check_rule(j1["embeddings"][2], "all-minilm", "c", 384);
    check_rule(json::parse(r2.msg.body)["embeddings"][0], "all-minilm", "second", 384);
    CHECK(json::parse(r3.msg.body)["version"] == "0.5.7");
    CHECK(c.counters(0).connections == 1);
    CHECK(c.counters(0).requests == 3);
}

TEST_CASE("sim: beyond queue_limit waiting requests, the exact 503") {
    auto p = zero();
    p.request_overhead = std::chrono::milliseconds(300);
    p.queue_limit = 1;
    cluster c({p});
    c.start();
    auto body = embed_body("all-minilm", "q", 4);
    client a(c.port(0)), b(c.port(0)), d(c.port(0));
    a.send(request("POST", "/api/embed", body));
    REQUIRE(eventually([&] { return c.counters(0).active == 1; }));
    b.send(request("POST", "/api/embed", body));
    REQUIRE(eventually([&] { return c.counters(0).queue == 1; }));
    d.send(request("POST", "/api/embed", body));
    auto busy = d.read();
    CHECK(busy.msg.status == 503);
    CHECK(busy.msg.body == R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
    CHECK(busy.msg.header("content-type") == "application/json; charset=utf-8");
    CHECK(a.read().msg.status == 200);
    CHECK(b.read().msg.status == 200);
    CHECK(c.counters(0).faults == 0); // a real behaviour, not an injected fault
}

TEST_CASE("sim: NDJSON chat stream, stream:false, generate, load-only") {
    cluster c({zero()});
    c.start();
    const std::string chat = R"({"model":"llama3.2","messages":[{"role":"user","content":"Hello!"}]})";
    auto r = roundtrip(c.port(0), "POST", "/api/chat", chat);
    REQUIRE(r.ok());
    CHECK(r.msg.header("content-type") == "application/x-ndjson");
    CHECK(r.msg.chunked);
    auto lines = ndjson_lines(r.msg.body);
    REQUIRE(lines.size() == 9); // 8 tokens and the final object
    std::string text;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        CHECK(lines[i]["done"] == false);
        CHECK(lines[i]["message"]["role"] == "assistant");
        CHECK(lines[i].contains("created_at"));
        text += lines[i]["message"]["content"].get<std::string>();
    }
    const auto& last = lines.back();
    CHECK(last["done"] == true);
    CHECK(last["done_reason"] == "stop");
    CHECK(last["eval_count"] == 8);
    for (auto field : {"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration"})
        CHECK(last.contains(field));

    auto whole = roundtrip(c.port(0), "POST", "/api/chat",
                           R"({"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"Hello!"}]})");
    CHECK(whole.msg.header("content-type") == "application/json; charset=utf-8");
    auto wj = json::parse(whole.msg.body);
    CHECK(wj["message"]["content"] == text); // deterministic: the same words
    CHECK(wj["done"] == true);

    auto gen = roundtrip(c.port(0), "POST", "/api/generate",
                         R"({"model":"llama3.2","prompt":"Why?","options":{"num_predict":3}})");
    auto glines = ndjson_lines(gen.msg.body);
    REQUIRE(glines.size() == 4);
    CHECK(glines[0].contains("response"));
    CHECK(glines.back()["done_reason"] == "length");
    CHECK(c.counters(0).generate_requests == 1);
    CHECK(c.counters(0).chat_requests == 2);

    auto load = roundtrip(c.port(0), "POST", "/api/chat", R"({"model":"llama3.2"})");
    auto lj = json::parse(load.msg.body);
    CHECK(lj["done"] == true);
    CHECK(lj["done_reason"] == "load");
    auto embed_model = roundtrip(c.port(0), "POST", "/api/chat", R"({"model":"all-minilm","messages":[]})");
    CHECK(embed_model.msg.status == 400);
}

TEST_CASE("sim: a client closing mid-stream cancels the generation") {
    auto p = zero();
    p.token_interval = std::chrono::milliseconds(2);
    cluster c({p});
    c.start();
    client cl(c.port(0));
    cl.send(request("POST", "/api/chat",
                    R"({"model":"llama3.2","options":{"num_predict":2000},"messages":[{"role":"user","content":"go"}]})"));
    CHECK(cl.read_raw().find("\"done\":false") != std::string::npos);
    cl.close();
    CHECK(eventually([&] { return c.counters(0).cancelled == 1; }));
    CHECK(c.counters(0).active == 0);
}

TEST_CASE("sim: tags, ps, version; a cold model loads, keep_alive 0 unloads") {
    auto p = zero();
    p.loaded = {"mxbai-embed-large"};
    p.model_load_time = std::chrono::milliseconds(50);
    p.gpu = false;
    cluster c({p});
    c.start();
    auto tags = json::parse(roundtrip(c.port(0), "GET", "/api/tags").msg.body);
    REQUIRE(tags["models"].size() == 4);
    CHECK(tags["models"][0]["name"] == "mxbai-embed-large:latest");
    CHECK(tags["models"][3]["name"] == "llama3.2:latest");

    auto ps = [&] { return json::parse(roundtrip(c.port(0), "GET", "/api/ps").msg.body)["models"]; };
    auto before = ps();
    REQUIRE(before.size() == 1);
    CHECK(before[0]["name"] == "mxbai-embed-large:latest");
    CHECK(before[0]["size_vram"] == 0); // gpu=false
    CHECK(before[0].contains("expires_at"));

    auto cold = json::parse(roundtrip(c.port(0), "POST", "/api/embed", embed_body("all-minilm", "x", 4)).msg.body);
    CHECK(cold["load_duration"].get<std::int64_t>() >= 50'000'000);
    CHECK(ps().size() == 2);
    auto warm = json::parse(roundtrip(c.port(0), "POST", "/api/embed", embed_body("all-minilm", "x", 4)).msg.body);
    // Warm: only the time to get to the model (Ollama's is never 0 either).
    CHECK(warm["load_duration"].get<std::int64_t>() < 50'000'000);

    roundtrip(c.port(0), "POST", "/api/embed", R"({"model":"all-minilm","input":"x","keep_alive":0})");
    CHECK(ps().size() == 1);
    auto bad = roundtrip(c.port(0), "POST", "/api/embed", R"({"model":"all-minilm","input":"x","keep_alive":"soon"})");
    CHECK(bad.msg.status == 400);
}

TEST_CASE("sim: profiles and config") {
    CHECK_THROWS_AS(herd::sim::profile("tpu"), std::invalid_argument);
    auto gpu = herd::sim::profile("gpu"), cpu = herd::sim::profile("cpu");
    CHECK(gpu.gpu);
    CHECK_FALSE(cpu.gpu);
    CHECK(cpu.per_input_cost == 5 * gpu.per_input_cost);
    auto cfg = herd::sim::cluster_config_from_json(json::parse(R"({
        "time_scale": 0.5, "seed": 7,
        "nodes": [{"profile": "gpu", "embed_slots": 2, "model_load_time": "2s", "faults": {"error_every": 7}},
                  {"profile": "cpu", "seed": 3, "loaded": ["all-minilm"]}]})"));
    REQUIRE(cfg.nodes.size() == 2);
    CHECK(cfg.options.time_scale == 0.5);
    CHECK(cfg.nodes[0].embed_slots == 2);
    CHECK(cfg.nodes[0].model_load_time == std::chrono::seconds(2));
    CHECK(cfg.nodes[0].faults.error_every == 7);
    CHECK(cfg.nodes[0].seed == 7);
    CHECK(cfg.nodes[1].seed == 3);
    CHECK(cfg.nodes[1].loaded == std::vector<std::string>{"all-minilm"});
    CHECK_THROWS_AS(herd::sim::cluster_config_from_json(json::parse(R"({"nodes":[{"profil":"gpu"}]})")),
                    std::invalid_argument);
    CHECK_THROWS_AS(herd::sim::cluster_config_from_json(json::parse(R"({"nodes":[{"faults":{"hang":1}}]})")),
                    std::invalid_argument);

    // time_scale 0: a gpu node with no delay at all.
    cluster fast({herd::sim::profile("gpu")}, {.time_scale = 0});
    fast.start();
    auto t0 = std::chrono::steady_clock::now();
    auto r = roundtrip(fast.port(0), "POST", "/api/embed", embed_body("all-minilm", json::array({"a", "b"}), 4));
    CHECK(r.msg.status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
}
