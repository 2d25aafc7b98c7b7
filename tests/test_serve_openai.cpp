// `herd serve`'s OpenAI-compatible API on the wire: embeddings as floats and
// base64, chat completions whole and as Server-Sent Events ending in
// [DONE], a client leaving an event stream cancelling the node's
// generation, and OpenAI's error object.

#include "test_sim_client.hpp"

#include "support/serve_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>

using namespace sim_test;
using herd::test::serve_fixture;
using json = nlohmann::json;

namespace {

std::vector<float> from_base64(const std::string& text) {
    static const std::string table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        acc = (acc << 6) | static_cast<std::uint32_t>(table.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    std::vector<float> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), out.size() * 4); // little-endian machine
    return out;
}

json chat_body(bool stream, int tokens = 0) {
    json j{{"model", "llama3.2"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}, {"stream", stream}};
    if (tokens) j["max_tokens"] = tokens;
    return j;
}

} // namespace

TEST_CASE("serve openai: /v1/embeddings as floats and base64, in order") {
    serve_fixture f(herd::test::profiles({"zero", "zero"}));
    json body{{"model", "all-minilm"}, {"input", json::array({"a", "b", "c"})}};
    auto r = roundtrip(f.port(), "POST", "/v1/embeddings", body.dump());
    REQUIRE(r.msg.status == 200);
    CHECK(r.msg.header("content-type") == "application/json");
    auto j = json::parse(r.msg.body);
    CHECK(j["object"] == "list");
    REQUIRE(j["data"].size() == 3);
    for (int i = 0; i < 3; ++i) {
        CHECK(j["data"][i]["index"] == i);
        auto v = j["data"][i]["embedding"].get<std::vector<float>>();
        CHECK(herd::test::is_rule_vector("all-minilm", body["input"][i].get<std::string>(), v, 384));
    }
    body["encoding_format"] = "base64";
    body["input"] = "b64";
    auto b = json::parse(roundtrip(f.port(), "POST", "/v1/embeddings", body.dump()).msg.body);
    auto v = from_base64(b["data"][0]["embedding"].get<std::string>());
    CHECK(herd::test::is_rule_vector("all-minilm", "b64", v, 384));
}

TEST_CASE("serve openai: errors are OpenAI's error object") {
    serve_fixture f(herd::test::profiles({"zero"}));
    auto r = roundtrip(f.port(), "POST", "/v1/embeddings", R"({"model":"nope","input":"x"})");
    CHECK(r.msg.status == 404);
    auto e = json::parse(r.msg.body)["error"];
    CHECK(e["message"] == "model \"nope\" not found, try pulling it first");
    CHECK(e["type"] == "not_found_error");
    CHECK(e["param"].is_null());
    CHECK(e["code"].is_null());
    auto bad = json::parse(roundtrip(f.port(), "POST", "/v1/embeddings", R"({"model":"all-minilm","input":[1,2]})").msg.body);
    CHECK(bad["error"]["type"] == "invalid_request_error");
}

TEST_CASE("serve openai: an OpenAI-compatible node's models are in /api/tags and /v1/models") {
    // Only node 1 has nomic-embed-text, and it is asked as openai+http://.
    serve_fixture f({herd::test::profile_without("zero", "nomic-embed-text"), herd::sim::profile("zero")});
    auto swapped = f.on_service([&] {
        auto& p = f.svc->pool();
        return p.remove_node(f.cluster.url(1)) && p.add_node("openai+" + f.cluster.url(1));
    });
    REQUIRE(swapped);
    auto tags = json::parse(roundtrip(f.port(), "GET", "/api/tags", "").msg.body);
    bool in_tags = false;
    for (const auto& m : tags["models"]) in_tags = in_tags || m["name"] == "nomic-embed-text:latest";
    CHECK(in_tags);
    auto v1 = json::parse(roundtrip(f.port(), "GET", "/v1/models", "").msg.body);
    bool in_v1 = false;
    for (const auto& m : v1["data"]) in_v1 = in_v1 || m["id"] == "nomic-embed-text:latest";
    CHECK(in_v1);
    auto ps = json::parse(roundtrip(f.port(), "GET", "/api/ps", "").msg.body);
    for (const auto& m : ps["models"]) CHECK(m["name"] != "nomic-embed-text:latest");
}

TEST_CASE("serve openai: chat completions whole and as events ending in [DONE]") {
    serve_fixture f(herd::test::profiles({"zero"}));
    auto whole = json::parse(roundtrip(f.port(), "POST", "/v1/chat/completions", chat_body(false).dump()).msg.body);
    CHECK(whole["object"] == "chat.completion");
    CHECK(whole["choices"][0]["finish_reason"] == "stop");
    std::string content = whole["choices"][0]["message"]["content"];
    CHECK(!content.empty());

    auto s = roundtrip(f.port(), "POST", "/v1/chat/completions", chat_body(true).dump());
    REQUIRE(s.ok());
    CHECK(s.msg.header("content-type") == "text/event-stream");
    std::string joined;
    std::size_t pos = 0, events = 0;
    std::string last;
    while ((pos = s.msg.body.find("data: ", pos)) != std::string::npos) {
        auto end = s.msg.body.find("\n\n", pos);
        last = s.msg.body.substr(pos + 6, end - pos - 6);
        pos = end;
        ++events;
        if (last == "[DONE]") break;
        auto chunk = json::parse(last);
        CHECK(chunk["object"] == "chat.completion.chunk");
        joined += chunk["choices"][0]["delta"]["content"].get<std::string>();
    }
    CHECK(last == "[DONE]");
    CHECK(events == 10); // 8 tokens, the done chunk, [DONE]
    CHECK(joined == content);
}

TEST_CASE("serve openai: a client leaving an event stream cancels the node's generation") {
    serve_fixture f(herd::test::profiles({"gpu"}));
    {
        client c(f.port());
        c.send(request("POST", "/v1/chat/completions", chat_body(true, 2000).dump()));
        CHECK(c.read_raw().find("200 OK") != std::string::npos);
        c.close();
    }
    CHECK(eventually([&] { return f.cluster.counters(0).cancelled == 1; }, 5000ms));
}
