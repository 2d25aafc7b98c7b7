// The OpenAI-compatible node kind's pieces without a server: node URLs,
// the /v1/embeddings decoder, error objects, model lists, the SSE framing
// and chat chunks.
#include <herd/http/url.hpp>
#include <herd/ollama/chat.hpp>
#include <herd/openai/chat.hpp>
#include <herd/openai/codec.hpp>
#include <herd/openai/sse.hpp>

#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <memory>
#include <random>

using namespace herd;

namespace {

http::message answer(int status, std::string body) {
    http::message m;
    m.status = status;
    m.body = std::move(body);
    return m;
}

// All events of `bytes` fed in the given piece sizes, then finish().
std::vector<std::string> events_of(std::string_view bytes, const std::vector<std::size_t>& pieces) {
    openai::sse_splitter s;
    std::vector<std::string> out;
    std::size_t at = 0;
    for (auto n : pieces) {
        REQUIRE(s.feed(bytes.substr(at, n)));
        at += n;
        while (auto e = s.next()) out.push_back(*e);
    }
    REQUIRE(s.feed(bytes.substr(at)));
    s.finish();
    while (auto e = s.next()) out.push_back(*e);
    return out;
}

} // namespace

TEST_CASE("openai url: the openai+ schemes name an OpenAI-compatible node") {
    auto u = http::url::parse("openai+http://127.0.0.1:8080/");
    REQUIRE(u);
    CHECK(u->api == http::api_kind::openai);
    CHECK_FALSE(u->tls());
    CHECK(u->port == 8080);
    CHECK(u->str() == "openai+http://127.0.0.1:8080");
    auto s = http::url::parse("openai+https://user:secret@gpu.example:8443");
    REQUIRE(s);
    CHECK(s->api == http::api_kind::openai);
    CHECK(s->tls());
    CHECK(s->str() == "openai+https://gpu.example:8443"); // no credentials
    CHECK(s->basic_authorization() == "Basic dXNlcjpzZWNyZXQ=");
    CHECK(http::redact_credentials("openai+https://user:secret@gpu.example") == "openai+https://***@gpu.example");
    CHECK(http::url::parse("http://h:1")->api == http::api_kind::ollama);
    CHECK(http::url::parse("h:1")->api == http::api_kind::ollama);
    CHECK_FALSE(http::url::parse("openai+ftp://h:1"));
    CHECK_FALSE(http::url::parse("tei+http://h:1"));
}

TEST_CASE("openai embeddings: the request body") {
    std::vector<std::string_view> in{"a\"b", "c"};
    ollama::embed_params p{.model = "m", .truncate = false, .dimensions = 0, .keep_alive = "5m"};
    CHECK(openai::encode_embeddings(p, in) == R"({"model":"m","input":["a\"b","c"],"encoding_format":"float"})");
    p.dimensions = 64;
    CHECK(openai::encode_embeddings(p, in) ==
          R"({"model":"m","input":["a\"b","c"],"encoding_format":"float","dimensions":64})");
}

TEST_CASE("openai embeddings: rows in index order, whatever order they came in") {
    ollama::embed_reply r;
    auto f = openai::decode_embeddings(
            R"({"object":"list","data":[{"object":"embedding","index":2,"embedding":[3,3.5]},)"
            R"({"index":0,"object":"embedding","embedding":[1e-1,1]},{"embedding":[-2,2.25],"index":1}],)"
            R"("model":"m","usage":{"prompt_tokens":7,"total_tokens":7}})",
            r);
    REQUIRE_FALSE(f);
    REQUIRE(r.embeddings.rows() == 3);
    REQUIRE(r.embeddings.dim() == 2);
    CHECK(r.embeddings[0][0] == 0.1f);
    CHECK(r.embeddings[0][1] == 1.0f);
    CHECK(r.embeddings[1][0] == -2.0f);
    CHECK(r.embeddings[1][1] == 2.25f);
    CHECK(r.embeddings[2][0] == 3.0f);
    CHECK(r.embeddings[2][1] == 3.5f);
    CHECK(r.model == "m");
    CHECK(r.prompt_eval_count == 7);

    REQUIRE_FALSE(openai::decode_embeddings(R"({"data":[],"model":"m"})", r));
    CHECK(r.embeddings.rows() == 0);
}

TEST_CASE("openai embeddings: floats as exact as the Ollama decoder's") {
    // The same digits through both decoders give the same bits.
    const char* numbers[] = {"0.012345678", "-1.2345e-7", "3.4028235e38", "1e-45", "0.1", "7", "-0.0"};
    for (const char* n : numbers) {
        ollama::embed_reply a, b;
        REQUIRE_FALSE(openai::decode_embeddings(std::string(R"({"data":[{"index":0,"embedding":[)") + n + "]}]}", a));
        REQUIRE_FALSE(ollama::decode_embed_exact(std::string(R"({"embeddings":[[)") + n + "]]}", b));
        CHECK(std::bit_cast<std::uint32_t>(a.embeddings[0][0]) == std::bit_cast<std::uint32_t>(b.embeddings[0][0]));
    }
}

TEST_CASE("openai embeddings: the fast scanner and the SAX decoder agree, and every truncation is an error") {
    const std::string bodies[] = {
        R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.1,-2.5e-05,1e3]},)"
        R"({"object":"embedding","index":0,"embedding":[3,4E2,-0.0]}],"model":"m","usage":{"prompt_tokens":4,"total_tokens":4}})",
        R"({ "data" : [ { "embedding" : [ 1.5e-07 , -0.25 ] , "index" : 0 } ] })",
        R"({"data":[{"index":0,"embedding":[1]}],"model":"m<"})", // an escape: the SAX decoder's
        R"({"data":[],"usage":{}})",
    };
    for (const auto& body : bodies) {
        ollama::embed_reply fast, exact;
        REQUIRE_FALSE(openai::decode_embeddings(body, fast));
        REQUIRE_FALSE(openai::decode_embeddings_exact(body, exact));
        CHECK(fast.embeddings.rows() == exact.embeddings.rows());
        REQUIRE(fast.embeddings.storage().size() == exact.embeddings.storage().size());
        for (std::size_t i = 0; i < fast.embeddings.storage().size(); ++i)
            CHECK(std::bit_cast<std::uint32_t>(fast.embeddings.storage()[i]) ==
                  std::bit_cast<std::uint32_t>(exact.embeddings.storage()[i]));
        CHECK(fast.model == exact.model);
        CHECK(fast.prompt_eval_count == exact.prompt_eval_count);
        for (std::size_t cut = 0; cut < body.size(); ++cut) {
            // An exact-size heap copy: AddressSanitizer sees any read past the end.
            auto copy = std::make_unique<char[]>(cut);
            std::memcpy(copy.get(), body.data(), cut);
            CHECK(openai::decode_embeddings(std::string_view(copy.get(), cut), fast).code == errc::protocol_error);
        }
    }
}

TEST_CASE("openai embeddings: duplicate, missing or out-of-range indices and bad rows are protocol errors") {
    ollama::embed_reply r;
    auto code = [&](std::string body) { return openai::decode_embeddings(body, r).code; };
    auto proto = make_error_code(errc::protocol_error);
    CHECK(code(R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})") == proto); // duplicate
    CHECK(code(R"({"data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[2]}]})") == proto); // a gap
    CHECK(code(R"({"data":[{"embedding":[1]}]})") == proto);                                        // no index
    CHECK(code(R"({"data":[{"index":0}]})") == proto);                                              // no row
    CHECK(code(R"({"data":[{"index":-1,"embedding":[1]}]})") == proto);
    CHECK(code(R"({"data":[{"index":0.5,"embedding":[1]}]})") == proto);
    CHECK(code(R"({"data":[{"index":"0","embedding":[1]}]})") == proto);
    CHECK(code(R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[3]}]})") == proto); // ragged
    CHECK(code(R"({"data":[{"index":0,"embedding":[1,"x"]}]})") == proto);
    CHECK(code(R"({"data":[{"index":0,"embedding":[[1]]}]})") == proto);
    CHECK(code(R"({"data":[{"index":0,"embedding":"AACAPw=="}]})") == proto); // base64: not asked for
    CHECK(code(R"({"data":[{"index":0,"embedding":[1e39]}]})") == proto);     // beyond float
    CHECK(code(R"({"data":[1]})") == proto);
    CHECK(code(R"({"object":"list"})") == proto);
    CHECK(code(R"({"data":[{"index":0,"embedding":[1]}])") == proto); // cut short
    CHECK(code("<html>") == proto);
    auto f = openai::decode_embeddings(R"({"error":{"message":"out of memory","type":"server_error"}})", r);
    CHECK(f.code == errc::server_error);
    CHECK(f.message == "out of memory");
}

TEST_CASE("openai errors: statuses and error objects become herd errors with the server's text") {
    auto f = openai::check_status(answer(404, R"({"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}})"));
    CHECK(f.code == errc::model_not_found);
    CHECK(f.status == 404);
    CHECK(f.message == "The model `x` does not exist.");
    f = openai::check_status(answer(400, R"({"error":{"message":"model 'x' not found","type":"invalid_request_error","code":"model_not_found"}})"));
    CHECK(f.code == errc::model_not_found);
    f = openai::check_status(answer(400, R"({"error":{"message":"input is too long","type":"invalid_request_error"}})"));
    CHECK(f.code == errc::bad_request);
    CHECK_FALSE(is_retryable(f.code));
    CHECK(f.message == "input is too long");
    f = openai::check_status(answer(429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})"));
    CHECK(f.code == errc::server_busy);
    CHECK(is_retryable(f.code));
    f = openai::check_status(answer(503, R"({"error":{"message":"Loading model","type":"unavailable_error","code":503}})"));
    CHECK(f.code == errc::server_busy);
    CHECK(f.message == "Loading model");
    f = openai::check_status(answer(500, R"({"error":"ollama style"})"));
    CHECK(f.code == errc::server_error);
    CHECK(f.message == "ollama style");
    f = openai::check_status(answer(502, "Bad Gateway"));
    CHECK(f.code == errc::server_error);
    CHECK(f.message == "Bad Gateway");
    f = openai::check_status(answer(502, "<html>\n" + std::string(100000, 'x')));
    CHECK(f.message == "<html> " + std::string(293, 'x') + "... (100007 bytes)"); // one short line
    CHECK_FALSE(openai::check_status(answer(200, "{}")));
    CHECK(openai::error_json(404, "no such model") ==
          "{\"error\":{\"code\":null,\"message\":\"no such model\",\"param\":null,\"type\":\"not_found_error\"}}\n");
}

TEST_CASE("openai models: ids of /v1/models") {
    std::vector<std::string> ids;
    REQUIRE(openai::parse_models(R"({"object":"list","data":[{"id":"a:latest","object":"model"},{"id":"b"},{"x":1}]})", ids));
    CHECK(ids == std::vector<std::string>{"a:latest", "b"});
    CHECK_FALSE(openai::parse_models(R"({"models":[]})", ids));
    CHECK_FALSE(openai::parse_models("nope", ids));
}

TEST_CASE("sse: events come out the same however the bytes are split") {
    const std::string stream = ": ping\r\n\r\n"
                               "data: {\"a\":1}\r\n\r\n"
                               "event: message\nid: 7\ndata:{\"b\":2}\n\n"
                               "data: line one\ndata: line two\n\n"
                               ": keep-alive\n\n"
                               "retry: 100\n\n"
                               "data: {\"c\":3}\r\r"
                               "data: [DONE]\n\n";
    const std::vector<std::string> expected{R"({"a":1})", R"({"b":2})", "line one\nline two", R"({"c":3})", "[DONE]"};
    CHECK(events_of(stream, {}) == expected);
    CHECK(events_of(stream, std::vector<std::size_t>(stream.size(), 1)) == expected); // byte by byte
    std::mt19937 rng(18);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::size_t> pieces;
        for (std::size_t left = stream.size(); left > 0;) {
            auto n = std::min<std::size_t>(left, std::uniform_int_distribution<std::size_t>(0, 12)(rng));
            pieces.push_back(n);
            left -= n;
        }
        CHECK(events_of(stream, pieces) == expected);
    }
}

TEST_CASE("sse: a last event without its blank line still counts; an over-long line is an error") {
    CHECK(events_of("data: [DONE]\n", {}) == std::vector<std::string>{"[DONE]"});
    CHECK(events_of("data: [DONE]", {}) == std::vector<std::string>{"[DONE]"});
    CHECK(events_of(": only a comment\n", {}).empty());
    openai::sse_splitter s(8);
    CHECK(s.feed("data: 12"));
    CHECK_FALSE(s.feed("3"));
}

TEST_CASE("openai chat: chunks become parts, finish_reason the done part") {
    chat_part p;
    std::string err;
    REQUIRE(openai::parse_chunk(R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]})", p, err));
    CHECK(err.empty());
    CHECK(p.content == "Hel");
    CHECK_FALSE(p.done);
    CHECK(p.raw["id"] == "c"); // the object as received
    CHECK(p.raw["message"]["content"] == "Hel");
    chat_response whole;
    ollama::accumulate(whole, p);
    REQUIRE(openai::parse_chunk(R"({"choices":[{"index":0,"delta":{"reasoning_content":"hm"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":9}})", p, err));
    CHECK(p.done);
    CHECK(p.done_reason == "length");
    CHECK(p.thinking == "hm");
    CHECK(p.prompt_eval_count == 5);
    CHECK(p.eval_count == 9);
    ollama::accumulate(whole, p);
    CHECK(whole.content == "Hel");
    CHECK(whole.thinking == "hm");
    CHECK(whole.message["role"] == "assistant");
    CHECK(whole.final_part.done_reason == "length");
    // A whole chat.completion object reads the same way.
    REQUIRE(openai::parse_chunk(R"({"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]})", p, err));
    CHECK(p.content == "Hi");
    CHECK(p.done_reason == "stop");
    REQUIRE(openai::parse_chunk(R"({"error":{"message":"boom","type":"api_error"}})", p, err));
    CHECK(err == "boom");
    CHECK_FALSE(openai::parse_chunk("[DONE]", p, err));
}

TEST_CASE("openai chat: request bodies from chat and generate requests") {
    auto c = openai::chat_body(chat_request("m").system("s").user("u").options({{"num_predict", 4}, {"temperature", 0}, {"num_ctx", 9}}).format("json"), true);
    CHECK(c["model"] == "m");
    CHECK(c["stream"] == true);
    CHECK(c["messages"].size() == 2);
    CHECK(c["messages"][1]["content"] == "u");
    CHECK(c["max_tokens"] == 4);
    CHECK(c["temperature"] == 0);
    CHECK_FALSE(c.contains("num_ctx"));
    CHECK_FALSE(c.contains("options"));
    CHECK(c["response_format"]["type"] == "json_object");
    auto g = openai::chat_body(generate_request("m", "why?").system("be brief").image("QUJD"), false);
    REQUIRE(g["messages"].size() == 2);
    CHECK(g["messages"][0] == nlohmann::json({{"role", "system"}, {"content", "be brief"}}));
    CHECK(g["messages"][1]["role"] == "user");
    CHECK(g["messages"][1]["content"][0] == nlohmann::json({{"type", "text"}, {"text", "why?"}}));
    CHECK(g["messages"][1]["content"][1]["image_url"]["url"] == "data:image/png;base64,QUJD");
    CHECK(g["stream"] == false);
}
