// OpenAI-compatible nodes ("openai+http://") end to end: herd-sim serves
// /v1/embeddings, /v1/chat/completions and /v1/models, alone and next to
// Ollama nodes in one pool.
#include <herd/herd.hpp>
#include <herd/openai/chat.hpp>
#include <herd/openai/codec.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

using namespace herd;
using herd::test::text_for;

namespace {

constexpr const char* chat_model = "llama3.2";

std::string openai_url(const sim::cluster& c, std::size_t i) { return "openai+" + c.url(i); }

pool_config config_with(const sim::cluster& c, std::vector<std::string> nodes) {
    auto cfg = test::default_config(c);
    cfg.nodes = std::move(nodes);
    return cfg;
}

} // namespace

TEST_CASE("openai nodes: a mixed cluster embeds a 3,000-text batch, every vector right, both kinds working") {
    sim::cluster c(test::profiles({"gpu", "gpu", "gpu"}), {.time_scale = 0.5});
    c.start();
    c.set_fault(2, {.reverse_order = true}); // its rows come last index first
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {c.url(0), c.url(1), openai_url(c, 2)}));
    CHECK(p.node_urls()[2] == "openai+http://127.0.0.1:" + std::to_string(c.port(2)));
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 3000; ++i) texts.push_back(text_for(i));
    batch_report report;
    auto keep = [&](const progress& pr) {
        report.per_node = pr.per_node;
        report.node_urls = pr.node_urls;
    };
    auto m = test::run(io, p.embed_batch(texts, {.on_progress = keep, .progress_interval = std::chrono::milliseconds(2)}));
    REQUIRE(m.rows() == texts.size());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (!test::is_rule_vector("all-minilm", texts[i], m[i], 384)) ++wrong;
    CHECK(wrong == 0);
    CHECK(std::accumulate(report.per_node.begin(), report.per_node.end(), std::size_t{0}) == texts.size());
    REQUIRE(report.per_node.size() == 3);
    CHECK(report.per_node[0] + report.per_node[1] > 0);
    CHECK(report.per_node[2] > 0);
    CHECK(c.counters(2).embed_requests > 0); // only ever asked through /v1
    CHECK(p.at(2).counters().failures == 0);
}

TEST_CASE("openai nodes: single embeds, dimensions, and the server's errors as herd errors") {
    sim::cluster c(test::profiles({"zero"}));
    c.start();
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {openai_url(c, 0)}));
    auto v = test::run(io, p.embed("hello"));
    CHECK(test::is_rule_vector("all-minilm", "hello", v, 384));
    auto short_v = test::run(io, p.embed("hello", {.dimensions = 64}));
    CHECK(short_v.size() == 64);
    CHECK(test::is_rule_vector("all-minilm", "hello", short_v, 384));
    CHECK(c.counters(0).embed_requests == 2);

    auto [nec, nv] = test::run(io, p.async_embed("x", {.model = "no-such-model"}, compat::use_nothrow));
    CHECK(nec == errc::model_not_found); // as an Ollama node's 404
    CHECK(nv.empty());
    CHECK_THAT(p.at(0).counters().last_error, Catch::Contains("model \"no-such-model\" not found"));
    CHECK(p.at(0).model("no-such-model") == model_state::absent);
    const std::string too_long(100, 'm'); // 400 "invalid model name": the input's fault
    auto [ec, none] = test::run(io, p.async_embed("x", {.model = too_long}, compat::use_nothrow));
    CHECK(ec == errc::bad_request);
    CHECK(none.empty());
    CHECK_FALSE(p.at(0).health().ejected());

}

TEST_CASE("openai nodes: busy answers and wrong counts fail their attempts; the batch completes elsewhere") {
    sim::cluster c(test::profiles({"zero", "zero", "zero"}));
    c.start();
    c.set_fault(1, {.busy = true});       // 503 in OpenAI's shape
    c.set_fault(2, {.wrong_count = -1});  // one row short
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {c.url(0), openai_url(c, 1), openai_url(c, 2)}));
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < 500; ++i) texts.push_back(text_for(i));
    auto m = test::run(io, p.embed_batch(texts));
    REQUIRE(m.rows() == texts.size());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (!test::is_rule_vector("all-minilm", texts[i], m[i], 384)) ++wrong;
    CHECK(wrong == 0);
    // Every node got a share at the start; each faulty one failed every try with its cause.
    const auto& busy = p.at(1).counters();
    REQUIRE(busy.failures > 0);
    CHECK(busy.failures_by_cause.at("server_busy") == busy.failures);
    CHECK_THAT(busy.last_error, Catch::Contains("server busy"));
    const auto& short_rows = p.at(2).counters();
    REQUIRE(short_rows.failures > 0);
    CHECK(short_rows.failures_by_cause.at("wrong_embedding_count") == short_rows.failures);
}

TEST_CASE("openai nodes: chat whole and streamed, generate as one user message") {
    sim::cluster c(test::profiles({"zero"}));
    c.start();
    asio::io_context io;
    pool ollama_pool(io.get_executor(), config_with(c, {c.url(0)}));
    pool p(io.get_executor(), config_with(c, {openai_url(c, 0)}));

    auto whole = test::run(io, p.chat(chat_request(chat_model).system("Be brief.").user("Hello!")));
    auto reference = test::run(io, ollama_pool.chat(chat_request(chat_model).system("Be brief.").user("Hello!")));
    CHECK(whole.node == openai_url(c, 0));
    CHECK_FALSE(whole.content.empty());
    CHECK(whole.content == reference.content); // the same words by either API
    CHECK(whole.message["role"] == "assistant");
    CHECK(whole.message["content"] == whole.content);
    CHECK(whole.final_part.done_reason == "stop");
    CHECK(whole.final_part.eval_count == 8);

    std::vector<chat_part> parts;
    const nlohmann::json five{{"num_predict", 5}};
    auto request = chat_request(chat_model).user("Hello!").options(five);
    test::run(io, [&]() -> awaitable<void> {
        auto s = co_await p.chat_stream(request);
        while (auto part = co_await s.next()) parts.push_back(std::move(*part));
    }());
    REQUIRE(parts.size() == 6); // five tokens and the closing chunk
    std::string joined;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        CHECK_FALSE(parts[i].done);
        CHECK(parts[i].raw["object"] == "chat.completion.chunk"); // the object as received
        joined += parts[i].content;
    }
    CHECK(parts.back().done);
    CHECK(parts.back().done_reason == "length");
    CHECK(parts.back().eval_count == 5);

    auto generated = test::run(io, p.generate(generate_request(chat_model, "Hello!").options(five)));
    CHECK(generated.content == joined); // one user message "Hello!": the same tokens
    CHECK(c.counters(0).generate_requests == 0);    // sent as a chat
    CHECK(c.counters(0).chat_requests == 4);
}

TEST_CASE("openai nodes: an error event inside the stream fails it after the parts before it") {
    sim::cluster c(test::profiles({"zero"}));
    c.start();
    c.set_fault(0, {.stream_error_after = 2});
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {openai_url(c, 0)}));
    std::size_t got = 0;
    std::error_code code;
    std::string what;
    test::run(io, [&]() -> awaitable<void> {
        auto s = co_await p.chat_stream(chat_request(chat_model).user("Hello!"));
        try {
            while (auto part = co_await s.next()) ++got;
        } catch (const herd::error& e) {
            code = e.code();
            what = e.what();
        }
    }());
    CHECK(got == 2);
    CHECK(code == errc::stream_error);
    CHECK_THAT(what, Catch::Contains("simulated runner failure"));
}

TEST_CASE("openai nodes: /v1/models feeds routing; a model the node does not list is never sent to it") {
    sim::cluster c({sim::profile("zero"), test::profile_without("zero", chat_model)});
    c.start();
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {c.url(0), openai_url(c, 1)}));
    test::run(io, p.refresh_models());
    CHECK(p.at(1).model(chat_model) == model_state::absent);
    CHECK(p.at(1).model("all-minilm") == model_state::installed); // listed: installed, never "loaded"
    CHECK(p.at(0).model(chat_model) >= model_state::installed);
    for (int i = 0; i < 10; ++i) {
        auto r = test::run(io, p.chat(chat_request(chat_model).user("hi " + std::to_string(i))));
        CHECK(r.node == c.url(0));
    }
    CHECK(c.counters(1).chat_requests == 0);
    CHECK(c.counters(0).chat_requests == 10);
}

TEST_CASE("openai nodes: an ejected OpenAI-compatible node is probed with /v1/models and re-admitted") {
    sim::cluster c(test::profiles({"zero"}));
    c.start();
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {openai_url(c, 0)}));
    c.set_fault(0, {.error_every = 1});
    for (int i = 0; i < 20 && !p.at(0).health().ejected(); ++i)
        test::run(io, p.async_embed("x" + std::to_string(i), compat::use_nothrow));
    REQUIRE(p.at(0).health().ejected());
    c.set_fault(0, {});
    auto before = c.counters(0);
    CHECK(test::eventually(io, [&] { return !p.at(0).health().ejected(); }));
    CHECK(c.counters(0).requests > before.requests);             // the probe (GET /v1/models)
    CHECK(c.counters(0).embed_requests == before.embed_requests); // no embedding sent to probe
}

TEST_CASE("openai nodes: herd-sim's /v1 answers by hand: models, a whole completion, OpenAI error objects") {
    sim::cluster c(test::profiles({"zero"}));
    c.start();
    asio::io_context io;
    pool p(io.get_executor(), config_with(c, {openai_url(c, 0)}));
    auto& h = p.at(0).http();
    auto ask = [&](const char* method, const char* path, std::string body) {
        auto request = h.format(method, path, body);
        auto r = test::run(io, h.control(std::move(request), clock::now() + std::chrono::seconds(5)));
        REQUIRE_FALSE(r.ec);
        return r.response;
    };
    std::vector<std::string> ids;
    REQUIRE(openai::parse_models(ask("GET", "/v1/models", "").body, ids));
    CHECK(std::find(ids.begin(), ids.end(), "all-minilm:latest") != ids.end());
    CHECK(std::find(ids.begin(), ids.end(), "llama3.2:latest") != ids.end());

    auto whole = ask("POST", "/v1/chat/completions", R"({"model":"llama3.2","messages":[{"role":"user","content":"Hello!"}],"max_tokens":3})");
    REQUIRE(whole.status == 200);
    CHECK(whole.header("content-type") == "application/json; charset=utf-8");
    chat_part part;
    std::string err;
    REQUIRE(openai::parse_chunk(whole.body, part, err));
    CHECK(part.raw["object"] == "chat.completion");
    CHECK(part.done);
    CHECK(part.done_reason == "length");
    CHECK(part.eval_count == 3);
    auto streamed = test::run(io, p.chat(chat_request(chat_model).user("Hello!").options(nlohmann::json{{"num_predict", 3}})));
    CHECK(part.content == streamed.content);

    auto absent = ask("POST", "/v1/embeddings", R"({"model":"no-such","input":["x"]})");
    CHECK(absent.status == 404);
    auto j = nlohmann::json::parse(absent.body);
    CHECK(j["error"]["type"] == "not_found_error");
    CHECK(openai::check_status(absent).code == errc::model_not_found);
    auto no_messages = ask("POST", "/v1/chat/completions", R"({"model":"llama3.2","messages":[]})");
    CHECK(no_messages.status == 400);
    CHECK(nlohmann::json::parse(no_messages.body)["error"]["type"] == "invalid_request_error");
    auto empty = ask("POST", "/v1/embeddings", R"({"model":"all-minilm","input":[]})");
    CHECK(empty.status == 400);
    c.set_fault(0, {.busy = true});
    auto busy = ask("POST", "/v1/embeddings", R"({"model":"all-minilm","input":["x"]})");
    CHECK(busy.status == 503);
    CHECK(openai::check_status(busy).code == errc::server_busy);
    CHECK(nlohmann::json::parse(busy.body)["error"]["message"] == "server busy, please try again.  maximum pending requests exceeded");
}
