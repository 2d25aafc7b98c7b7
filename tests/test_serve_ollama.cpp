// `herd serve`'s Ollama API over herd-sim nodes, on the wire: embed (one,
// a list, the batch engine), the legacy endpoint, chat and generate streamed
// and whole, client disconnect cancelling the node's generation, model
// lists, and Ollama's statuses and error texts.

#include "test_sim_client.hpp"

#include "support/serve_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <future>
#include <map>
#include <set>
#include <sstream>

using namespace sim_test;
using herd::test::serve_fixture;
using json = nlohmann::json;

namespace {

std::vector<herd::sim::node_profile> two_zero() { return herd::test::profiles({"zero", "zero"}); }

json post_json(std::uint16_t port, std::string_view path, const json& body, int want_status = 200) {
    auto r = roundtrip(port, "POST", path, body.dump());
    REQUIRE(r.ok());
    CHECK(r.msg.status == want_status);
    return json::parse(r.msg.body);
}

bool rule_row(const json& row, std::string_view model, std::string_view text, std::size_t full_dim = 384) {
    auto v = row.get<std::vector<float>>();
    return herd::test::is_rule_vector(model, text, v, full_dim);
}

} // namespace

TEST_CASE("serve ollama: /api/embed one text, a list in order, a long list through the batch engine") {
    serve_fixture f(two_zero());
    auto one = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", "hello"}});
    CHECK(one["model"] == "all-minilm");
    REQUIRE(one["embeddings"].size() == 1);
    CHECK(rule_row(one["embeddings"][0], "all-minilm", "hello"));
    CHECK(one.contains("total_duration"));

    json list = json::array({"a", "b", "c"});
    auto three = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", list}});
    REQUIRE(three["embeddings"].size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(rule_row(three["embeddings"][i], "all-minilm", list[i].get<std::string>()));

    json many = json::array();
    for (int i = 0; i < 500; ++i) many.push_back(herd::test::text_for(i));
    auto big = post_json(f.port(), "/api/embed", {{"model", "nomic-embed-text"}, {"input", many}});
    REQUIRE(big["embeddings"].size() == 500);
    int wrong = 0;
    for (int i = 0; i < 500; ++i) wrong += !rule_row(big["embeddings"][i], "nomic-embed-text", herd::test::text_for(i), 768);
    CHECK(wrong == 0);
    CHECK(f.cluster.counters(0).inputs + f.cluster.counters(1).inputs >= 1 + 3 + 500); // backup tasks may repeat some
    CHECK(f.cluster.counters(0).inputs > 0);
    CHECK(f.cluster.counters(1).inputs > 0);

    auto dims = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", "x"}, {"dimensions", 64}});
    REQUIRE(dims["embeddings"][0].size() == 64);
    CHECK(rule_row(dims["embeddings"][0], "all-minilm", "x"));
}

TEST_CASE("serve ollama: /api/embed inputs and errors as a real server answers them") {
    serve_fixture f(two_zero());
    for (json empty : {json(""), json::array(), json()}) {
        json body{{"model", "all-minilm"}};
        if (!empty.is_null()) body["input"] = empty;
        auto r = roundtrip(f.port(), "POST", "/api/embed", body.dump());
        CHECK(r.msg.status == 200);
        CHECK(r.msg.body == R"({"model":"all-minilm","embeddings":[]})");
    }
    auto unknown = roundtrip(f.port(), "POST", "/api/embed", R"({"model":"nope","input":"x"})");
    CHECK(unknown.msg.status == 404);
    CHECK(unknown.msg.body == R"({"error":"model \"nope\" not found, try pulling it first"})");
    auto unknown_list = roundtrip(f.port(), "POST", "/api/embed", R"({"model":"nope","input":["x","y"]})");
    CHECK(unknown_list.msg.status == 404);
    CHECK(unknown_list.msg.body == R"({"error":"model \"nope\" not found, try pulling it first"})");
    auto no_model = roundtrip(f.port(), "POST", "/api/embed", R"({"input":"x"})");
    CHECK(no_model.msg.status == 404);
    CHECK(no_model.msg.body == R"({"error":"model '' not found"})");
    CHECK(roundtrip(f.port(), "POST", "/api/embed", R"({"model":"all-minilm","input":5})").msg.body ==
          R"({"error":"invalid input type"})");
    CHECK(roundtrip(f.port(), "POST", "/api/embed", R"({"model":"all-minilm","input":["a",5]})").msg.status == 400);
    auto cut = roundtrip(f.port(), "POST", "/api/embed", R"({"model":"all-mi)");
    CHECK(cut.msg.status == 400);
    CHECK(cut.msg.body == R"({"error":"unexpected EOF"})");
    CHECK(roundtrip(f.port(), "POST", "/api/embed", "").msg.body == R"({"error":"missing request body"})");
    auto get = roundtrip(f.port(), "GET", "/api/embed");
    CHECK(get.msg.status == 405);
    CHECK(get.msg.header("allow") == "POST");
}

TEST_CASE("serve ollama: /api/embeddings (legacy)") {
    serve_fixture f(two_zero());
    auto r = post_json(f.port(), "/api/embeddings", {{"model", "all-minilm"}, {"prompt", "hi"}});
    CHECK(rule_row(r["embedding"], "all-minilm", "hi"));
    auto empty = roundtrip(f.port(), "POST", "/api/embeddings", R"({"model":"all-minilm","prompt":""})");
    CHECK(empty.msg.body == R"({"embedding":[]})");
    auto no_model = roundtrip(f.port(), "POST", "/api/embeddings", R"({"prompt":"x"})");
    CHECK(no_model.msg.status == 400);
    CHECK(no_model.msg.body == R"({"error":"model is required"})");
}

namespace {

// Inputs the nodes embedded per options text, summed over the cluster.
std::map<std::string, std::uint64_t> inputs_by_options(const serve_fixture& f) {
    std::map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i < f.cluster.size(); ++i)
        for (const auto& [text, n] : f.cluster.counters(i).embed_options) out[text] += n.inputs;
    return out;
}

} // namespace

TEST_CASE("serve ollama: options reach the nodes on every path; {} and null are none") {
    serve_fixture f(two_zero());
    const json a{{"num_ctx", 128}}, b{{"seed", 2}, {"num_ctx", 64}}, c{{"num_ctx", 32}};
    auto one = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", "one"}, {"options", a}});
    CHECK(rule_row(one["embeddings"][0], "all-minilm", "one"));
    json three = json::array({"x", "y", "z"});
    auto list = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", three}, {"options", a}});
    REQUIRE(list["embeddings"].size() == 3);
    json many = json::array();
    for (int i = 0; i < 100; ++i) many.push_back(herd::test::text_for(i));
    auto big = post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", many}, {"options", b}});
    REQUIRE(big["embeddings"].size() == 100);
    auto legacy = post_json(f.port(), "/api/embeddings", {{"model", "all-minilm"}, {"prompt", "hi"}, {"options", c}});
    CHECK(rule_row(legacy["embedding"], "all-minilm", "hi"));
    post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", "e"}, {"options", json::object()}});
    post_json(f.port(), "/api/embed", {{"model", "all-minilm"}, {"input", "n"}, {"options", nullptr}});

    auto seen = inputs_by_options(f);
    CHECK(seen[a.dump()] == 4);
    CHECK(seen[b.dump()] >= 100); // the batch engine's backup tasks may repeat some
    CHECK(seen[c.dump()] == 1);
    CHECK(seen[""] == 2);
    CHECK(seen.size() == 4);

    auto bad = roundtrip(f.port(), "POST", "/api/embed", R"({"model":"all-minilm","input":"x","options":5})");
    CHECK(bad.msg.status == 400);
    CHECK(bad.msg.body == R"({"error":"json: cannot unmarshal number into Go struct field EmbedRequest.options of )"
                          R"(type map[string]interface {}"})");
}

TEST_CASE("serve ollama: concurrent single texts with different options never share a node request") {
    serve_fixture f(two_zero());
    constexpr int clients = 12;
    std::vector<std::future<reply>> replies;
    for (int i = 0; i < clients; ++i) {
        json body{{"model", "all-minilm"}, {"input", herd::test::text_for(i)}, {"options", {{"num_ctx", 100 + i % 3}}}};
        replies.push_back(std::async(std::launch::async, [&f, s = body.dump()] {
            return roundtrip(f.port(), "POST", "/api/embed", s);
        }));
    }
    for (int i = 0; i < clients; ++i) {
        auto r = replies[i].get();
        INFO("client " << i);
        REQUIRE(r.msg.status == 200);
        CHECK(rule_row(json::parse(r.msg.body)["embeddings"][0], "all-minilm", herd::test::text_for(i)));
    }
    // A request that mixed options would have carried one of them for texts of another.
    auto seen = inputs_by_options(f);
    const std::map<std::string, std::uint64_t> want{
        {R"({"num_ctx":100})", 4}, {R"({"num_ctx":101})", 4}, {R"({"num_ctx":102})", 4}};
    CHECK(seen == want);
}

TEST_CASE("serve ollama: chat and generate, streamed as NDJSON and whole") {
    serve_fixture f(two_zero());
    json chat{{"model", "llama3.2"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
    auto streamed = roundtrip(f.port(), "POST", "/api/chat", chat.dump());
    REQUIRE(streamed.ok());
    CHECK(streamed.msg.status == 200);
    CHECK(streamed.msg.header("content-type") == "application/x-ndjson");
    std::string text;
    std::vector<json> lines;
    std::istringstream in(streamed.msg.body);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    REQUIRE(lines.size() == 9); // 8 tokens and the done line
    for (auto& l : lines) text += l["message"]["content"].get<std::string>();
    CHECK(lines.back()["done"] == true);
    CHECK(lines.back()["done_reason"] == "stop");

    chat["stream"] = false;
    auto whole = post_json(f.port(), "/api/chat", chat);
    CHECK(whole["message"]["content"] == text);
    CHECK(whole["message"]["role"] == "assistant");
    CHECK(whole["done"] == true);

    json gen{{"model", "llama3.2"}, {"prompt", "why?"}, {"stream", false}};
    auto g = post_json(f.port(), "/api/generate", gen);
    CHECK(!g["response"].get<std::string>().empty());
    CHECK(g["done"] == true);

    auto unknown = roundtrip(f.port(), "POST", "/api/chat", R"({"model":"nope","messages":[]})");
    CHECK(unknown.msg.status == 404);
    CHECK(unknown.msg.body == R"({"error":"model 'nope' not found"})");
    auto no_model = roundtrip(f.port(), "POST", "/api/chat", R"({"messages":[]})");
    CHECK(no_model.msg.status == 400);
    CHECK(no_model.msg.body == R"({"error":"model is required"})");
}

TEST_CASE("serve ollama: a client leaving mid-stream cancels the node's generation") {
    serve_fixture f(herd::test::profiles({"gpu"}));
    json chat{{"model", "llama3.2"},
              {"messages", json::array({{{"role", "user"}, {"content", "long"}}})},
              {"options", {{"num_predict", 2000}}}}; // 10 s at 5 ms a token
    {
        client c(f.port());
        c.send(request("POST", "/api/chat", chat.dump()));
        auto first = c.read_raw(); // the head and the first lines
        CHECK(first.find("200 OK") != std::string::npos);
        c.close();
    }
    CHECK(eventually([&] { return f.cluster.counters(0).cancelled == 1; }, 5000ms));
    CHECK(eventually([&] { return f.on_service([&] { return f.svc->server().connections(); }) == 0; }));
}

TEST_CASE("serve ollama: model lists are the union of the nodes', version and root") {
    serve_fixture f(herd::test::profiles({"zero", "ollama-cpu"}));
    auto tags = json::parse(roundtrip(f.port(), "GET", "/api/tags").msg.body);
    std::set<std::string> names;
    for (auto& m : tags["models"]) {
        auto name = m["name"].get<std::string>();
        names.insert(name.substr(0, name.find(":latest")));
    }
    CHECK(names.count("all-minilm") == 1);
    CHECK(names.count("smollm2:135m") == 1); // only on the second node
    CHECK(tags["models"].size() == names.size());
    auto ps = json::parse(roundtrip(f.port(), "GET", "/api/ps").msg.body);
    CHECK(ps["models"].is_array());
    auto v = json::parse(roundtrip(f.port(), "GET", "/api/version").msg.body);
    CHECK(v["version"].is_string());
    auto root = roundtrip(f.port(), "GET", "/");
    CHECK(root.msg.body == "Ollama is running");
    auto head = roundtrip(f.port(), "HEAD", "/");
    CHECK(head.msg.status == 200);
    CHECK(head.msg.header("content-length") == "17");
}

TEST_CASE("serve ollama: 503 past the queue limit, 413 past the body limit, 401 without the token") {
    herd::serve::service_options o;
    o.gateway.max_queue = 1;
    o.http.max_body_bytes = 1000;
    o.token = "s3cret";
    serve_fixture f(herd::test::profiles({"gpu"}), o);
    const std::string auth = "Authorization: Bearer s3cret\r\n";

    auto no_auth = roundtrip(f.port(), "POST", "/api/embed", R"({"model":"all-minilm","input":"x"})");
    CHECK(no_auth.msg.status == 401);
    CHECK(no_auth.msg.body == R"({"error":"unauthorized"})");
    client wrong(f.port());
    wrong.send(request("GET", "/v1/models", {}, "Authorization: Bearer nope\r\n"));
    auto w = wrong.read();
    CHECK(w.msg.status == 401);
    CHECK(json::parse(w.msg.body)["error"]["message"] == "unauthorized");

    // One long stream holds the only place.
    json chat{{"model", "llama3.2"},
              {"messages", json::array({{{"role", "user"}, {"content", "long"}}})},
              {"options", {{"num_predict", 2000}}}};
    client holder(f.port());
    holder.send(request("POST", "/api/chat", chat.dump(), auth));
    CHECK(holder.read_raw().find("200 OK") != std::string::npos);
    client second(f.port());
    second.send(request("POST", "/api/embed", R"({"model":"all-minilm","input":"x"})", auth));
    auto busy = second.read();
    CHECK(busy.msg.status == 503);
    CHECK(busy.msg.body == R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
    holder.close();
    CHECK(eventually([&] { return f.on_service([&] { return f.svc->gateway().in_progress(); }) == 0; }));
    second.send(request("POST", "/api/embed", R"({"model":"all-minilm","input":"x"})", auth));
    CHECK(second.read().msg.status == 200);

    client big(f.port());
    big.send(request("POST", "/api/embed", std::string(1001, ' '), auth));
    auto too_big = big.read();
    CHECK(too_big.msg.status == 413);
    CHECK(too_big.msg.body == R"({"error":"http: request body too large"})");
}
