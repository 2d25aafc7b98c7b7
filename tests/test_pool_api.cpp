// The pool's public contracts: any completion token, cancellation through
// the handler's slot, the braced-list overload, no exception on success.
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/sim_fixture.hpp"
#include "support/throw_counter.hpp"

#include <catch2/catch.hpp>

#include <concepts>

using namespace herd;
using herd::test::text_for;

namespace {

constexpr std::size_t minilm_dim = 384;

// `embed({"a", "b"})` must be the many-text call (it used to bind to
// std::string_view's iterator-pair constructor: undefined behaviour).
template <typename P>
concept braced_list_embeds_many = requires(P& p) {
    { p.embed({"a", "b"}) } -> std::same_as<awaitable<matrix>>;
    { p.embed({"a", "b"}, embed_options{}) } -> std::same_as<awaitable<matrix>>;
    { p.async_embed({"a", "b"}, ::asio::use_awaitable) } -> std::same_as<awaitable<matrix>>;
};
static_assert(braced_list_embeds_many<pool>);

// Runs `io` until `done`, at most `limit` (then the test fails).
void run_until(::asio::io_context& io, const bool& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    io.restart();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(done);
}

// Runs `io` until the pool has a request on the wire to node 0.
void run_until_sent(::asio::io_context& io, pool& p) {
    io.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (p.at(0).http().in_flight() == 0 && std::chrono::steady_clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(10));
    REQUIRE(p.at(0).http().in_flight() == 1);
}

bool is_vector_of(std::string_view text, std::span<const float> v) {
    return test::is_rule_vector("all-minilm", text, v, minilm_dim);
}

} // namespace

TEST_CASE("async_embed completes through use_awaitable, as_tuple, deferred and a plain callback") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    ::asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    const std::string text = text_for(7);

    auto a = test::run(io, p.async_embed(text, ::asio::use_awaitable));
    CHECK(is_vector_of(text, a));

    auto [ec, b] = test::run(io, p.async_embed(text, {.dimensions = 16}, compat::use_nothrow));
    CHECK_FALSE(ec);
    CHECK(b.size() == 16);

    // deferred: nothing is sent before the operation is started.
    auto requests = cluster.counters(0).embed_requests;
    auto op = p.async_embed(text, compat::deferred);
    io.restart();
    io.poll();
    CHECK(cluster.counters(0).embed_requests == requests);
    bool done = false;
    std::move(op)([&](std::error_code e, std::vector<float> v) {
        CHECK_FALSE(e);
        CHECK(is_vector_of(text, v));
        done = true;
    });
    run_until(io, done);

    done = false;
    p.async_embed(text, [&](std::error_code e, std::vector<float> v) {
        CHECK_FALSE(e);
        CHECK(is_vector_of(text, v));
        done = true;
    });
    CHECK_FALSE(done); // never inside the initiating call
    run_until(io, done);

    // Many texts: a braced list is two texts, in order.
    auto m = test::run(io, p.async_embed({"first text", "second text"}, ::asio::use_awaitable));
    REQUIRE(m.rows() == 2);
    CHECK(is_vector_of("first text", m[0]));
    CHECK(is_vector_of("second text", m[1]));
    auto m2 = test::run(io, p.embed({"first text", "second text"}));
    REQUIRE(m2.rows() == 2);
    CHECK(is_vector_of("second text", m2[1]));
}

TEST_CASE("the other operations take tokens too: batch, request, refresh, prewarm") {
    sim::cluster cluster(test::profiles({"zero", "zero"}));
    cluster.start();
    ::asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    std::vector<std::string> owned;
    for (int i = 0; i < 40; ++i) owned.push_back(text_for(i));
    std::vector<std::string_view> texts(owned.begin(), owned.end());

    auto [ec, m] = test::run(io, p.async_embed_batch(texts, {}, compat::use_nothrow));
    CHECK_FALSE(ec);
    REQUIRE(m.rows() == 40);
    CHECK(is_vector_of(owned[39], m[39]));

    auto [rec, outcome] = test::run(io, p.async_embed_request(std::span(texts).first(3), {}, compat::use_nothrow));
    CHECK_FALSE(rec);
    CHECK(outcome.ok());
    CHECK(outcome.reply.embeddings.rows() == 3);

    bool done = false;
    p.async_refresh_models([&](std::error_code e) {
        CHECK_FALSE(e);
        done = true;
    });
    run_until(io, done);

    auto [pec, failed] = test::run(io, p.async_prewarm("no-such-model", {}, {}, compat::use_nothrow));
    CHECK_FALSE(pec);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].code == errc::no_nodes);
}

TEST_CASE("completions take tokens: async_chat, async_generate, async_chat_stream") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    ::asio::io_context io;
    auto cfg = test::test_config(cluster);
    cfg.model_refresh_interval = duration::zero();
    pool p(io.get_executor(), cfg);

    auto request = chat_request("llama3.2").user("Hello!");
    auto [ec, answer] = test::run(io, p.async_chat(request, compat::use_nothrow));
    CHECK_FALSE(ec);
    CHECK_FALSE(answer.content.empty());

    auto [gec, generated] = test::run(io, p.async_generate(generate_request("llama3.2", "Hi"), compat::use_nothrow));
    CHECK_FALSE(gec);
    CHECK_FALSE(generated.content.empty());

    std::size_t parts = 0;
    test::run(io, [&]() -> awaitable<void> {
        auto [sec, s] = co_await p.async_chat_stream(request, compat::use_nothrow);
        CHECK_FALSE(sec);
        while (auto part = co_await s.next()) ++parts;
    }());
    CHECK(parts >= 2);

    // A failure is the error code, not an exception.
    auto [nec, none] = test::run(io, p.async_chat(chat_request("no-such-model").user("Hi"), compat::use_nothrow));
    CHECK(nec == errc::all_nodes_failed); // the one node said 404: no node has it
    CHECK(none.content.empty());
}

TEST_CASE("cancelling the handler's slot cancels the request: operation_aborted, nothing thrown") {
    sim::cluster cluster(test::profiles({"zero"}));
    cluster.start();
    cluster.set_fault(0, {.hang = true});
    ::asio::io_context io;
    pool p(io.get_executor(), test::test_config(cluster));
    const std::string text = text_for(3);
    auto thrown = test::exceptions_thrown();

    SECTION("a callback bound to a cancellation slot") {
        ::asio::cancellation_signal signal;
        bool done = false;
        p.async_embed(text, ::asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e, std::vector<float> v) {
                          CHECK(e == ::asio::error::operation_aborted);
                          CHECK(v.empty());
                          done = true;
                      }));
        run_until_sent(io, p);
        signal.emit(::asio::cancellation_type::terminal);
        run_until(io, done);
    }
    SECTION("embed_request, awaited with as_tuple from a cancelled coroutine") {
        ::asio::cancellation_signal signal;
        bool done = false;
        std::string_view one[1] = {text};
        ::asio::co_spawn(io, [&]() -> awaitable<void> {
            auto [e, out] = co_await p.async_embed_request(one, {}, compat::use_nothrow);
            CHECK(e == ::asio::error::operation_aborted);
            CHECK(out.fail.code == ::asio::error::operation_aborted);
            done = true;
        }, ::asio::bind_cancellation_slot(signal.slot(), ::asio::detached));
        run_until_sent(io, p);
        signal.emit(::asio::cancellation_type::terminal);
        run_until(io, done);
        CHECK(p.stats().nodes[0].failures == 0); // the node is not blamed
    }
    CHECK(test::exceptions_thrown() == thrown);
}

TEST_CASE("no exception is thrown on the success path of pool.embed") {
    for (bool coalesce : {true, false}) {
        INFO("coalesce " << coalesce);
        sim::cluster cluster(test::profiles({"zero", "zero", "zero"}));
        cluster.start();
        ::asio::io_context io;
        auto cfg = test::test_config(cluster);
        cfg.coalesce = coalesce;
        pool p(io.get_executor(), cfg);
        const std::size_t calls = 200, workers = 16;
        std::size_t next = 0, right = 0;
        auto thrown = test::exceptions_thrown();
        auto worker = [&]() -> awaitable<void> {
            while (next < calls) {
                auto text = text_for(next++);
                auto v = co_await p.embed(text);
                right += is_vector_of(text, v);
            }
        };
        std::size_t finished = 0;
        for (std::size_t w = 0; w < workers; ++w)
            ::asio::co_spawn(io, worker(), [&](std::exception_ptr) { ++finished; });
        io.restart();
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (finished < workers && std::chrono::steady_clock::now() < deadline)
            io.run_one_for(std::chrono::milliseconds(50));
        REQUIRE(finished == workers);
        CHECK(right == calls);
        CHECK(test::exceptions_thrown() == thrown);
    }
}
