// Chat and generate against herd-sim: streams, failover, routing.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

using namespace herd;

namespace {

constexpr const char* chat_model = "llama3.2";

sim::node_profile node_with(const char* base, std::chrono::microseconds token_interval = std::chrono::microseconds(0)) {
    auto p = sim::profile(base);
    p.token_interval = token_interval;
    return p;
}

sim::node_profile without_chat_model() { return test::profile_without("zero", chat_model); }

pool_config chat_config(const sim::cluster& c) {
    auto cfg = test::test_config(c);
    cfg.model_refresh_interval = duration::zero(); // tests refresh explicitly
    return cfg;
}


} // namespace

TEST_CASE("chat: streamed parts, then a final part with done_reason and timings") {
    sim::cluster cluster({node_with("zero")});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    std::vector<chat_part> parts;
    test::run(io, [&]() -> awaitable<void> {
        auto s = co_await p.chat_stream(chat_request(chat_model).system("Be brief.").user("Hello!"));
        while (auto part = co_await s.next()) parts.push_back(std::move(*part));
    }());
    REQUIRE(parts.size() >= 2);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        CHECK_FALSE(parts[i].done);
        CHECK_FALSE(parts[i].content.empty());
        CHECK(parts[i].raw.contains("created_at")); // unknown fields kept
    }
    const auto& last = parts.back();
    CHECK(last.done);
    CHECK(last.done_reason == "stop");
    CHECK(last.eval_count == parts.size() - 1);
    CHECK(last.total_duration > 0);
    CHECK(last.raw["message"]["role"] == "assistant");
    CHECK(cluster.counters(0).chat_requests == 1);
}

TEST_CASE("chat and generate: whole answers equal the joined stream") {
    sim::cluster cluster({node_with("zero")});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    auto request = chat_request(chat_model).user("Tell me about llamas.").options({{"num_predict", 5}});
    std::string streamed;
    test::run(io, [&]() -> awaitable<void> {
        auto s = co_await p.chat_stream(request);
        while (auto part = co_await s.next()) streamed += part->content;
    }());
    auto whole = test::run(io, p.chat(request));
    CHECK(whole.content == streamed);
    CHECK(whole.message["role"] == "assistant");
    CHECK(whole.message["content"] == streamed);
    CHECK(whole.final_part.done_reason == "length"); // num_predict passed through
    CHECK(whole.node == cluster.url(0));

    auto gen = test::run(io, p.generate(generate_request(chat_model, "Why is the sky blue?").options({{"num_predict", 3}})));
    CHECK_FALSE(gen.content.empty());
    CHECK(gen.final_part.eval_count == 3);
    CHECK(cluster.counters(0).generate_requests == 1);
}

TEST_CASE("chat: an error line mid-stream becomes an error carrying what was received") {
    sim::cluster cluster({node_with("zero")});
    cluster.start();
    cluster.set_fault(0, {.error_message = "runner crashed", .stream_error_after = 2});
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    std::size_t got = 0;
    try {
        test::run(io, [&]() -> awaitable<void> {
            auto s = co_await p.chat_stream(chat_request(chat_model).user("Hi"));
            while (auto part = co_await s.next()) ++got;
        }());
        FAIL("no error");
    } catch (const herd::error& e) {
        CHECK(e.code() == errc::stream_error);
        CHECK_THAT(e.what(), Catch::Contains("runner crashed"));
        CHECK_THAT(e.what(), Catch::Contains("after 2 parts"));
    }
    CHECK(got == 2);
}

TEST_CASE("chat: cancelling a stream closes its connection and the node sees it cancelled") {
    sim::cluster cluster({node_with("zero", std::chrono::milliseconds(5))});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    test::run(io, [&]() -> awaitable<void> {
        // Built outside the co_await: g++ 12 rejects braced JSON inside one.
        auto request = chat_request(chat_model).user("Hi").options({{"num_predict", 200}});
        auto s = co_await p.chat_stream(request);
        co_await s.next();
        // s destroyed here, mid-answer
    }());
    CHECK(test::eventually(io, [&] { return cluster.counters(0).cancelled == 1; }));
    CHECK(p.at(0).chat_limiter().in_use() == 0);
    // Other requests are unaffected.
    auto whole = test::run(io, p.chat(chat_request(chat_model).user("Again")));
    CHECK(whole.final_part.done);
}

TEST_CASE("chat: failover before the first part, no silent restart after it") {
    sim::cluster cluster({node_with("zero"), node_with("zero")});
    cluster.start();
    asio::io_context io;
    auto cfg = chat_config(cluster);
    pool p(io.get_executor(), cfg);
    SECTION("a node failing before the first token is replaced") {
        cluster.set_fault(0, {.error_rate = 1.0});
        cluster.set_fault(1, {});
        for (int i = 0; i < 4; ++i) {
            auto r = test::run(io, p.chat(chat_request(chat_model).user("Hi")));
            CHECK(r.node == cluster.url(1));
            CHECK(r.final_part.done);
        }
    }
    SECTION("a node failing after tokens surfaces the error; the other node never sees the request") {
        cluster.set_fault(0, {.stream_error_after = 1});
        cluster.set_fault(1, {.stream_error_after = 1});
        CHECK_THROWS_AS(test::run(io, p.chat(chat_request(chat_model).user("Hi"))), herd::error);
        CHECK(cluster.counters(0).chat_requests + cluster.counters(1).chat_requests == 1);
    }
}

TEST_CASE("chat: routing prefers the node with the model loaded and never one without it") {
    auto cold = node_with("zero");
    cold.loaded.clear(); // installed, must load first
    cold.model_load_time = std::chrono::milliseconds(300);
    sim::cluster cluster({cold, without_chat_model(), node_with("zero")});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    test::run(io, p.refresh_models());
    CHECK(p.at(0).model(chat_model) == model_state::installed);
    CHECK(p.at(1).model(chat_model) == model_state::absent);
    CHECK(p.at(2).model(chat_model) == model_state::loaded_gpu);
    for (int i = 0; i < 5; ++i) {
        auto r = test::run(io, p.chat(chat_request(chat_model).user("Hi")));
        CHECK(r.node == cluster.url(2));
    }
    cluster.set_fault(2, {.refuse = true}); // the loaded node goes away: the cold one loads
    auto r = test::run(io, p.chat(chat_request(chat_model).user("Hi")));
    CHECK(r.node == cluster.url(0));
    CHECK(cluster.counters(1).chat_requests == 0);
}

TEST_CASE("prewarm loads a model ahead of use") {
    auto cold = node_with("zero");
    cold.loaded.clear();
    sim::cluster cluster({cold});
    cluster.start();
    asio::io_context io;
    pool p(io.get_executor(), chat_config(cluster));
    test::run(io, p.refresh_models());
    REQUIRE(p.at(0).model(chat_model) == model_state::installed);
    auto failed = test::run(io, p.prewarm(chat_model, {}, "1h"));
    CHECK(failed.empty());
    test::run(io, p.refresh_models());
    CHECK(p.at(0).model(chat_model) >= model_state::loaded); // /api/ps lists it now
    auto unknown = test::run(io, p.prewarm("no-such-model"));
    CHECK(unknown.size() == 1);
}

TEST_CASE("routing modes choose differently on a cluster built to tell them apart") {
    // Node 0: fast but failing one request in two. Node 1: slow and sound.
    auto fast = node_with("zero", std::chrono::microseconds(100));
    auto slow = node_with("zero", std::chrono::milliseconds(20)); // far apart, also on a loaded machine
    sim::cluster cluster({fast, slow});
    cluster.start();
    asio::io_context io;
    auto cfg = chat_config(cluster);
    cfg.health.failure_threshold = 100; // keep the flaky node in rotation
    pool p(io.get_executor(), cfg);
    // Learn both nodes' latency.
    for (int i = 0; i < 3; ++i)
        for (auto mode : {routing_mode::fast, routing_mode::background})
            test::run(io, p.chat(chat_request(chat_model).user("warm").mode(mode)));
    CHECK(test::run(io, p.chat(chat_request(chat_model).user("x").mode(routing_mode::fast))).node == cluster.url(0));
    CHECK(test::run(io, p.chat(chat_request(chat_model).user("x").mode(routing_mode::background))).node == cluster.url(1));
    // Now node 0 fails every other request: its success rate drops.
    cluster.set_fault(0, {.error_every = 2});
    for (int i = 0; i < 20; ++i) test::run(io, p.chat(chat_request(chat_model).user("y").mode(routing_mode::fast)));
    CHECK(p.at(0).success_rate() < p.at(1).success_rate());
    CHECK(test::run(io, p.chat(chat_request(chat_model).user("z").mode(routing_mode::reliable))).node == cluster.url(1));
}

TEST_CASE("chat: priority orders requests waiting for a saturated node") {
    sim::cluster cluster({node_with("zero", std::chrono::milliseconds(2))});
    cluster.start();
    asio::io_context io;
    auto cfg = chat_config(cluster);
    cfg.chat_limiter = {.initial_limit = 1, .min_limit = 1, .max_limit = 1};
    pool p(io.get_executor(), cfg);
    std::vector<int> order;
    test::run(io, [&]() -> awaitable<void> {
        // Hold the only slot, queue three requests, then let go.
        auto hold = chat_request(chat_model).user("hold").options({{"num_predict", 3}});
        auto holder = co_await p.chat_stream(hold);
        task_group g(p.get_executor());
        for (int prio : {2, 9, 5})
            g.spawn([](pool& pl, int pr, std::vector<int>& out) -> awaitable<void> {
                auto request = chat_request(chat_model).user("q").priority(pr).options({{"num_predict", 1}});
                co_await pl.chat(request);
                out.push_back(pr);
            }(p, prio, order));
        co_await asio::post(p.get_executor(), asio::use_awaitable); // let all three queue
        while (co_await holder.next()) {
        }
        co_await g.join();
    }());
    CHECK(order == std::vector<int>{9, 5, 2});
}
