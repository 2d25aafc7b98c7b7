#include <herd/ollama/codec.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <vector>

using namespace herd;

TEST_CASE("encode_embed writes the array form with escaped strings") {
    std::vector<std::string_view> inputs{"plain", "quote \" back \\ nl \n tab \t", std::string_view("\x01<", 2)};
    auto body = ollama::encode_embed({.model = "m", .truncate = false, .dimensions = 64, .keep_alive = "5m"}, inputs);
    auto j = nlohmann::json::parse(body);
    CHECK(j["model"] == "m");
    REQUIRE(j["input"].size() == 3);
    CHECK(j["input"][1] == "quote \" back \\ nl \n tab \t");
    CHECK(j["input"][2] == std::string("\x01<", 2));
    CHECK(j["truncate"] == false);
    CHECK(j["dimensions"] == 64);
    CHECK(j["keep_alive"] == "5m");
}

TEST_CASE("decode_embed reads exponent floats straight into the matrix") {
    ollama::embed_reply r;
    auto f = ollama::decode_embed(
        R"({"model":"m","embeddings":[[0.5,-2.5e-05,1],[3,4E2,-0.0]],"total_duration":14143917,)"
        R"("load_duration":1019500,"prompt_eval_count":8,"extra":{"a":[1,2]}})",
        r);
    REQUIRE_FALSE(f);
    REQUIRE(r.embeddings.rows() == 2);
    REQUIRE(r.embeddings.dim() == 3);
    CHECK(r.embeddings[0][1] == Approx(-2.5e-05f));
    CHECK(r.embeddings[1][1] == 400.0f);
    CHECK(r.model == "m");
    CHECK(r.total_duration == 14143917);
    CHECK(r.prompt_eval_count == 8);
}

TEST_CASE("decode_embed handles empty results and rejects bad shapes") {
    ollama::embed_reply r;
    CHECK_FALSE(ollama::decode_embed(R"({"model":"m","embeddings":[]})", r));
    CHECK(r.embeddings.rows() == 0);
    CHECK(ollama::decode_embed(R"({"embeddings":[[1,2],[3]]})", r).code == errc::protocol_error);
    CHECK(ollama::decode_embed(R"({"embeddings":[1,2]})", r).code == errc::protocol_error);
    CHECK(ollama::decode_embed(R"({"embeddings":[["x"]]})", r).code == errc::protocol_error);
    CHECK(ollama::decode_embed(R"({"model":"m"})", r).code == errc::protocol_error);
    CHECK(ollama::decode_embed("not json", r).code == errc::protocol_error);
    CHECK(ollama::decode_embed(R"({"embeddings":[[1,2]])", r).code == errc::protocol_error); // truncated
}

TEST_CASE("check_status turns Ollama's error bodies into failures with the server's text") {
    http::message m;
    m.status = 404;
    m.body = R"({"error":"model \"x\" not found, try pulling it first"})";
    auto f = ollama::check_status(m);
    CHECK(f.code == errc::model_not_found);
    CHECK(f.status == 404);
    CHECK(f.message == "model \"x\" not found, try pulling it first");
    CHECK_FALSE(is_retryable(f.code));

    m.status = 503;
    m.body = "server busy, please try again.  maximum pending requests exceeded";
    f = ollama::check_status(m);
    CHECK(f.code == errc::server_busy);
    CHECK(f.message == m.body);
    CHECK(is_retryable(f.code));

    m.status = 500;
    m.body = "";
    CHECK(ollama::check_status(m).message == "HTTP 500");
    m.status = 200;
    CHECK_FALSE(ollama::check_status(m));
}

TEST_CASE("decode_embed: the fast path and the full decoder agree") {
    // Escapes in the model name make the fast scanner step aside.
    ollama::embed_reply fast, full;
    std::string body = R"({"model":"m","embeddings":[[1.5e-07,-0.25,3]],"total_duration":7})";
    std::string escaped = R"({"model":"m\u003c","embeddings":[[1.5e-07,-0.25,3]],"total_duration":7})";
    REQUIRE_FALSE(ollama::decode_embed(body, fast));
    REQUIRE_FALSE(ollama::decode_embed(escaped, full));
    CHECK(full.model == "m<");
    REQUIRE(fast.embeddings.dim() == 3);
    REQUIRE(full.embeddings.dim() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(fast.embeddings[0][i] == full.embeddings[0][i]);
    CHECK(fast.total_duration == full.total_duration);
}
