// Control traffic (probes, /api/tags, /api/ps, prewarm) on connections of
// its own; requests killed by another request's timeout are resent and do
// not count against the node.
#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>

#include "support/run.hpp"
#include "support/scripted_server.hpp"
#include "support/sim_fixture.hpp"

#include <catch2/catch.hpp>

using namespace herd;
using herd::test::scripted_server;
using herd::test::tcp;

namespace {

constexpr std::size_t minilm_dim = 384;

struct during_load {
    std::vector<node_cause> prewarm_failures;
    std::size_t embeds_ok = 0, embeds_failed = 0;
    std::size_t embeds_done_when_loaded = 0; // when prewarm returned
};

// `workers` loops of single embeds (`per_worker` each) while the pool
// prewarms the chat model and refreshes the catalogue on the same node.
awaitable<during_load> embed_during_prewarm(pool& p, std::size_t workers, std::size_t per_worker) {
    during_load out;
    task_group g(p.get_executor());
    g.spawn([](pool& pl, during_load& o) -> awaitable<void> {
        o.prewarm_failures = co_await pl.prewarm("llama3.2");
        o.embeds_done_when_loaded = o.embeds_ok + o.embeds_failed;
    }(p, out));
    g.spawn([](pool& pl) -> awaitable<void> { co_await pl.refresh_models(); }(p));
    for (std::size_t w = 0; w < workers; ++w)
        g.spawn([](pool& pl, std::size_t first, std::size_t n, during_load& o) -> awaitable<void> {
            for (std::size_t i = first; i < first + n; ++i) {
                auto text = test::text_for(i);
                std::string_view texts[] = {text};
                auto r = co_await pl.embed_request(texts, {}); // not coalesced: several in flight
                if (r.ok() && test::is_rule_vector("all-minilm", text, r.reply.embeddings.row(0), minilm_dim))
                    ++o.embeds_ok;
                else
                    ++o.embeds_failed;
            }
        }(p, w * per_worker, per_worker, out));
    co_await g.join();
    co_return out;
}

} // namespace

TEST_CASE("control traffic during a 30 s model load neither fails nor delays embeds on that node") {
    auto profile = sim::profile("zero");
    profile.model_load_time = std::chrono::seconds(30);
    profile.loaded = {"all-minilm"}; // the chat model must be loaded: 30 s
    // Scaled to 0.6 s of real time; embeds on "zero" cost nothing, so all
    // 60 finish long before the load unless they queue behind it.
    sim::cluster cluster({profile}, {.time_scale = 0.02});
    cluster.start();
    asio::io_context io;
    pool_config cfg; // defaults: first_load_timeout (120 s) covers the load
    cfg.nodes = cluster.urls();
    cfg.model = "all-minilm";
    pool p(io.get_executor(), cfg);

    auto out = test::run(io, embed_during_prewarm(p, 4, 15));
    CHECK(out.prewarm_failures.empty());
    CHECK(out.embeds_ok == 60);
    CHECK(out.embeds_failed == 0);
    CHECK(out.embeds_done_when_loaded == 60); // none waited for the load
    auto s = p.stats();
    CHECK(s.nodes[0].failures == 0);
    CHECK(s.nodes[0].ejections == 0);
    CHECK(p.at(0).model("llama3.2") == model_state::loaded);
    // The embedding connections were opened once each and never dropped.
    CHECK(p.at(0).http().connects() <= cfg.connections_per_node);
    CHECK(cluster.counters(0).chat_requests == 0);
}

namespace {

std::string embed_reply() {
    std::string vec = "[0.5";
    for (int i = 1; i < 4; ++i) vec += ",0.5";
    vec += "]";
    return test::response_with_body("{\"model\":\"m\",\"embeddings\":[" + vec + "]}");
}

// The first connection takes two requests and answers neither; later
// connections answer every request.
scripted_server::handler stall_first_connection(int& connections) {
    return [&connections](tcp::socket s) -> awaitable<void> {
        if (++connections == 1) {
            co_await test::read_requests(s, 100); // until the client closes
            co_return;
        }
        for (;;) {
            auto reqs = co_await test::read_requests(s, 1);
            if (reqs.empty()) co_return;
            auto reply = embed_reply();
            co_await asio::async_write(s, asio::buffer(reply), compat::use_nothrow);
        }
    };
}

} // namespace

TEST_CASE("a request dropped because the one ahead of it timed out is resent and not counted against the node") {
    asio::io_context io;
    int connections = 0;
    scripted_server server(io, stall_first_connection(connections));
    pool_config cfg;
    cfg.nodes = {server.url()};
    cfg.model = "m";
    cfg.connections_per_node = 1; // both requests on one pipeline
    cfg.request_timeout = cfg.first_load_timeout = std::chrono::milliseconds(300); // the setting under test
    pool p(io.get_executor(), cfg);
    embed_outcome first, second;
    test::run(io, [&]() -> awaitable<void> {
        task_group g(io.get_executor());
        g.spawn([](pool& pl, embed_outcome& out) -> awaitable<void> {
            std::string_view texts[] = {"stalls"};
            out = co_await pl.embed_request(texts, {});
        }(p, first));
        g.spawn([](pool& pl, embed_outcome& out) -> awaitable<void> {
            std::string_view texts[] = {"behind it"};
            out = co_await pl.embed_request(texts, {});
        }(p, second));
        co_await g.join();
    }());
    CHECK(first.ok());  // timed out, then retried on a new connection
    CHECK(second.ok()); // dropped with the connection, resent at no cost
    auto s = p.stats();
    CHECK(s.nodes[0].failures == 1);  // the timeout alone
    CHECK(s.nodes[0].requests == 3);  // that failure and two successes
    CHECK(s.retries == 1);            // only the timed-out request spent retry budget
    CHECK(connections == 2);
}
