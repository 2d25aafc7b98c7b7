#include <herd/ollama/chat.hpp>
#include <herd/ollama/codec.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>
#include <memory>
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
    // Escapes as Go writes them, plain runs around them kept as they are.
    CHECK(body.find(R"(["plain","quote \" back \\ nl \n tab \t","\u0001<"])") != std::string::npos);
    CHECK(j["truncate"] == false);
    CHECK(j["dimensions"] == 64);
    CHECK(j["keep_alive"] == "5m");
    CHECK_FALSE(j.contains("options"));
}

TEST_CASE("encode_embed sends options as the object text it was given") {
    std::vector<std::string_view> inputs{"a"};
    auto body = ollama::encode_embed({.model = "m", .options = R"({"num_ctx":128,"seed":7})"}, inputs);
    CHECK(body == R"({"model":"m","input":["a"],"options":{"num_ctx":128,"seed":7}})");
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

TEST_CASE("check_status: a huge or garbage error body becomes one short readable line") {
    // A proxy's 502 page: 1 MB of HTML over many lines.
    http::message m;
    m.status = 502;
    m.body = "<html>\r\n<body>Bad Gateway</body>\r\n" + std::string(1 << 20, 'x');
    auto f = ollama::check_status(m);
    CHECK(f.code == errc::server_error);
    CHECK(f.message.starts_with("<html>  <body>Bad Gateway</body>  xxx"));
    CHECK(f.message.ends_with(fmt::format("... ({} bytes)", m.body.size())));
    CHECK(f.message.size() < 330);
    CHECK(f.message.find_first_of("\r\n") == std::string::npos);
    // The same for the "error" field of a JSON answer.
    m.status = 500;
    m.body = R"({"error":")" + std::string(5000, 'e') + R"("})";
    f = ollama::check_status(m);
    CHECK(f.message == std::string(300, 'e') + "... (5000 bytes)");
    // A cut never splits a UTF-8 character: 299 bytes, then a 2-byte one.
    std::string text = std::string(299, 'a') + "\xc3\xa9" + "tail";
    CHECK(error_text(500, text) == std::string(299, 'a') + "... (305 bytes)");
    CHECK(error_text(500, "short") == "short");
    CHECK(error_text(503, "") == "HTTP 503");
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

namespace {

// decode_embed on an exact-size heap copy, so AddressSanitizer sees any read
// past the end (a std::string would hide one behind its terminator).
failure decode_exact(std::string_view body, ollama::embed_reply& r) {
    auto copy = std::make_unique<char[]>(body.size());
    std::memcpy(copy.get(), body.data(), body.size());
    return ollama::decode_embed(std::string_view(copy.get(), body.size()), r);
}

} // namespace

TEST_CASE("decode_embed: every truncation of a reply is a protocol error, read within its bytes") {
    const std::string bodies[] = {
        R"({"model":"m","embeddings":[[0.1,-2.5e-05,1e3],[3,4E2,-0.0]],"total_duration":14143917,)"
        R"("load_duration":1,"prompt_eval_count":8,"extra":{"a":["x\"y\\",1e5,true,null]}})",
        R"({"extra":"escaped \\ \" \u0041","embeddings":[[1]]})",
    };
    for (const auto& body : bodies) {
        ollama::embed_reply r;
        REQUIRE_FALSE(decode_exact(body, r));
        for (std::size_t n = 0; n < body.size(); ++n) {
            INFO("prefix: " << body.substr(0, n));
            CHECK(decode_exact(std::string_view(body).substr(0, n), r).code == errc::protocol_error);
        }
    }
    // The cuts the scanner must stop at on its own.
    ollama::embed_reply r;
    for (std::string_view cut : {R"({"embeddings":[[0.1,)", R"({"embeddings":[[1e)", R"({"embeddings":[[-)",
                                 R"({"x":"a\)", R"({"x":"\)", R"({"total_duration":)", R"({"x":[1e)"}) {
        INFO("cut: " << cut);
        CHECK(decode_exact(cut, r).code == errc::protocol_error);
    }
}

TEST_CASE("decode_embed: a number beyond float range is an error on both paths, never a cast") {
    // The fast scanner refuses it (from_chars<float> reports the overflow);
    // the full decoder, which reads doubles, must refuse it as well.
    for (std::string_view big : {"1e39", "-1e39", "3.5e38"}) {
        INFO(big);
        for (std::string_view model : {"m", "m\\u003c"}) { // \u003c: the full decoder only
            ollama::embed_reply r;
            auto body = fmt::format(R"({{"model":"{}","embeddings":[[0.5,{}]]}})", model, big);
            auto f = ollama::decode_embed(body, r);
            CHECK(f.code == errc::protocol_error);
            CHECK_THAT(f.message, Catch::Contains("out of float range"));
        }
    }
    // Beyond double range nlohmann itself reports the overflow.
    ollama::embed_reply huge;
    auto f = ollama::decode_embed(R"({"model":"m","embeddings":[[0.5,1e400]]})", huge);
    CHECK(f.code == errc::protocol_error);
    CHECK_THAT(f.message, Catch::Contains("number overflow parsing '1e400'"));
    // The largest float, written with fewer digits than it has, rounds down
    // to FLT_MAX on both paths.
    for (std::string_view model : {"m", "m\\u003c"}) {
        ollama::embed_reply r;
        auto body = fmt::format(R"({{"model":"{}","embeddings":[[3.4028235e38,-3.4028235e38]]}})", model);
        REQUIRE_FALSE(ollama::decode_embed(body, r));
        CHECK(r.embeddings[0][0] == std::numeric_limits<float>::max());
        CHECK(r.embeddings[0][1] == -std::numeric_limits<float>::max());
    }
}

// Both decoders on one body: decode_embed (fast scanner first) and
// decode_embed_exact must give the same floats, bit for bit.
namespace {
std::vector<float> both_paths(std::string_view body) {
    ollama::embed_reply fast, exact;
    auto f1 = ollama::decode_embed(body, fast);
    auto f2 = ollama::decode_embed_exact(body, exact);
    REQUIRE_FALSE(f1);
    REQUIRE_FALSE(f2);
    auto& a = fast.embeddings.storage();
    auto& b = exact.embeddings.storage();
    REQUIRE(a.size() == b.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    return a;
}
} // namespace

TEST_CASE("decode_embed: every float is the nearest float to its decimal text on both paths (found by fuzzing)") {
    // Just above the midpoint between 1 and the next float: through a double
    // it would round twice and land on 1.
    auto v = both_paths(R"({"embeddings":[[1.00000005960464477539062500001,18014399583223809,-18014399583223809]]})");
    REQUIRE(v.size() == 3);
    CHECK(v[0] == 0x1.000002p+0f);
    // 2^54 + 2^30 + 1: an integer converts to float in one rounding too.
    CHECK(v[1] == 0x1.000002p+54f);
    CHECK(v[2] == -0x1.000002p+54f);
    // Denormals and underflow to zero agree as well.
    auto tiny = both_paths(R"({"embeddings":[[1e-40,1.4e-45,1e-50]]})");
    CHECK(tiny[0] == 1e-40f);
    CHECK(tiny[1] == 0x1p-149f);
    CHECK(tiny[2] == 0.0f);
    // "-0" is the integer zero to JSON; "-0.0" a negative zero (the fast
    // path once kept the sign of "-0": found by fuzzing).
    auto zeros = both_paths(R"({"embeddings":[[-0,-0.0,-0e0]]})");
    CHECK_FALSE(std::signbit(zeros[0]));
    CHECK(std::signbit(zeros[1]));
    CHECK(std::signbit(zeros[2]));
}

TEST_CASE("decode_embed: numbers JSON does not allow are errors, not read by from_chars (found by fuzzing)") {
    for (std::string_view bad : {"01", "1.", "1.e5", "-", "+1", ".5", "0x10", "1e"}) {
        INFO(bad);
        ollama::embed_reply r;
        auto body = fmt::format(R"({{"embeddings":[[{}]]}})", bad);
        CHECK(ollama::decode_embed(body, r).code == errc::protocol_error);
    }
    ollama::embed_reply r;
    CHECK(ollama::decode_embed(R"({"embeddings":[[1]],"total_duration":007})", r).code == errc::protocol_error);
}

TEST_CASE("decode_embed: a nested array, an object or a second \"embeddings\" is an error, never a short matrix") {
    for (std::string_view bad : {R"({"embeddings":[[1,2],[[3,4]]]})", R"({"embeddings":[{}]})",
                                 R"({"embeddings":[[1],[{"a":1}]]})", R"({"embeddings":[[1]],"embeddings":[[2]]})",
                                 R"({"embeddings":[[1]],"embeddings":null})"}) {
        INFO(bad);
        ollama::embed_reply r;
        auto f = ollama::decode_embed(bad, r);
        CHECK(f.code == errc::protocol_error);
        CHECK(ollama::decode_embed_exact(bad, r).code == errc::protocol_error);
    }
}

TEST_CASE("decode_embed: unknown fields and non-ASCII strings are left to the exact decoder, same result") {
    auto v = both_paths(R"({"model":"m\u00e9","extra":[1,{"x":"y"}],"embeddings":[[0.25]]})");
    CHECK(v == std::vector<float>{0.25f});
    ollama::embed_reply r;
    CHECK(ollama::decode_embed("{\"model\":\"\xff\",\"embeddings\":[[1]]}", r).code == errc::protocol_error); // not UTF-8
}

TEST_CASE("parse_part and accumulate: fields of the wrong type are ignored, never thrown (found by fuzzing)") {
    chat_part part;
    std::string error;
    REQUIRE(ollama::parse_part(R"({"done":"yes","message":{"role":5,"content":7,"thinking":"t"}})", part, error));
    CHECK(error.empty());
    CHECK_FALSE(part.done);
    CHECK(part.content.empty());
    CHECK(part.thinking == "t");
    chat_response whole;
    ollama::accumulate(whole, part);
    CHECK(whole.message["role"] == "assistant");
    CHECK(whole.message["thinking"] == "t");
}
