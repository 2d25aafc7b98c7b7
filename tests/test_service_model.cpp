// service_model: service times learnt apart from queueing, on virtual time.
#include <herd/async/limiter.hpp>
#include <herd/async/service_model.hpp>

#include <catch2/catch.hpp>

#include <deque>

using namespace herd;
using namespace std::chrono_literals;

namespace {

// A one-at-a-time server costing `fixed` + `per_input` x n per request, fed
// requests of `sizes` with `depth` in flight from time 0 (a new one is sent
// when one is answered). Reports every completion to `model` and returns
// the mean latency the client saw.
double serve(service_model& model, const std::vector<std::size_t>& sizes, std::size_t depth, duration fixed,
             duration per_input) {
    struct req {
        std::size_t n;
        time_point sent;
    };
    std::deque<req> queue;
    time_point now{}, free_at{};
    std::size_t next = 0;
    double latency = 0;
    while (next < sizes.size() && queue.size() < depth) queue.push_back({sizes[next++], now});
    while (!queue.empty()) {
        auto r = queue.front();
        queue.pop_front();
        auto start = std::max(free_at, r.sent);
        free_at = start + fixed + per_input * static_cast<long>(r.n);
        model.on_complete(r.n, r.sent, free_at);
        latency += seconds(free_at - r.sent);
        now = free_at;
        if (next < sizes.size()) queue.push_back({sizes[next++], now});
    }
    return latency / static_cast<double>(sizes.size());
}

} // namespace

TEST_CASE("service model: separates the fixed and per-input cost, whatever the queue depth") {
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 40; ++i) sizes.push_back(i % 2 ? 32 : 8);
    for (std::size_t depth : {1, 2, 4, 16}) {
        service_model m;
        double mean_latency = serve(m, sizes, depth, 25ms, 13ms);
        INFO("depth " << depth << ", mean latency " << mean_latency);
        REQUIRE(m.known());
        CHECK(m.fixed() == Approx(0.025).margin(1e-9));
        CHECK(m.per_input() == Approx(0.013).margin(1e-9));
        CHECK(m.predict(64) == Approx(0.025 + 64 * 0.013).margin(1e-9));
        if (depth >= 4) CHECK(mean_latency > 3 * m.predict(20)); // the queue was there, and ignored
    }
}

TEST_CASE("service model: one size only puts every cost on the inputs") {
    service_model m;
    serve(m, std::vector<std::size_t>(10, 16), 2, 16ms, 1ms);
    CHECK(m.fixed() == 0);
    CHECK(m.per_input() == Approx(0.002).margin(1e-9)); // (16 + 16) ms / 16
}

TEST_CASE("service model: sizes too alike to separate the costs put every cost on the inputs") {
    // Requests of 14-16 texts on a node costing 25 ms + 19 ms a text, each
    // service off by up to +-8% (text lengths vary): the slope is not
    // clearly above its noise, so no large "fixed" cost is invented (it
    // once was, and the node was then sent 60 texts it took 1.2 s for).
    service_model m;
    time_point t{};
    const double noise[] = {0.06, -0.08, 0.02, -0.03, 0.08, -0.05};
    for (int i = 0; i < 6; ++i) {
        const std::size_t n = 14 + static_cast<std::size_t>(i % 3);
        const auto service = std::chrono::duration_cast<duration>(
            (25ms + 19ms * static_cast<long>(n)) * (1 + noise[i]));
        m.on_complete(n, t, t + service);
        t += service;
    }
    REQUIRE(m.known());
    CHECK(m.fixed() == 0);
    CHECK(m.per_input() == Approx(0.021).margin(0.002)); // (25 + 19 x 15) / 15 ms, give or take the noise
    CHECK(m.batch_for(0.05, 300ms, 1, 64, 16) <= 16);     // the 300 ms target, not a "fixed cost" to amortise
    CHECK(m.last_end() == t);
    // Sizes far apart separate the costs again through the same noise.
    for (int i = 0; i < 12; ++i) {
        const std::size_t n = i % 2 ? 4 : 32;
        const auto service = std::chrono::duration_cast<duration>(
            (25ms + 19ms * static_cast<long>(n)) * (1 + noise[i % 6] / 4));
        m.on_complete(n, t, t + service);
        t += service;
    }
    CHECK(m.fixed() > 0.010);
    CHECK(m.per_input() == Approx(0.019).margin(0.002));
}

TEST_CASE("service model: a random tail is ignored, a lasting slowdown is learnt") {
    service_model m;
    time_point t{};
    auto complete = [&](std::size_t n, duration service) {
        m.on_complete(n, t, t + service);
        t += service;
    };
    for (int i = 0; i < 20; ++i) complete(i % 2 ? 4 : 8, 10ms + 1ms * (i % 2 ? 4 : 8));
    auto before = m.predict(8);
    complete(8, 180ms); // one 10x tail
    CHECK(m.predict(8) == Approx(before).margin(1e-12));
    complete(8, 180ms); // still within outliers_in_a_row (3)
    CHECK(m.predict(8) == Approx(before).margin(1e-12));
    complete(8, 180ms); // the third in a row: the node did slow down
    CHECK(m.predict(8) > before);
}

TEST_CASE("service model: batch size amortises the fixed cost and fills the target time") {
    service_model m;
    CHECK(m.batch_for(0.05, 300ms, 1, 64, 16) == 16); // nothing known: the fallback
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 20; ++i) sizes.push_back(i % 2 ? 4 : 16);
    serve(m, sizes, 2, 25ms, 13ms);
    // Fixed 25 ms at <= 5%: 25 x 0.95 / (0.05 x 13) = 36.5 -> 37 texts, more
    // than the 300 ms target needs (23).
    CHECK(m.batch_for(0.05, 300ms, 1, 64, 16) == 37);
    CHECK(m.batch_for(0.05, 1s, 1, 64, 16) == 64);  // 77 wanted, capped
    CHECK(m.batch_for(0.05, 300ms, 1, 20, 16) == 20);
    CHECK(m.batch_for(0.05, 300ms, 40, 64, 16) == 40);
}

TEST_CASE("service model: before a fit, the last answer's time per input sizes the next request") {
    // A real CPU node: 16 ms a request, 550 ms a text. Its first answer (4
    // texts, 2.2 s) already says a 16-text request would hold 8.8 s.
    service_model slow;
    serve(slow, {4}, 1, 16ms, 550ms);
    REQUIRE_FALSE(slow.known());
    CHECK(slow.batch_for(0.05, 300ms, 1, 64, 16) == 1);
    CHECK(slow.batch_for(0.05, 300ms, 2, 64, 16) == 2); // never below lo
    CHECK(slow.batch_for(0.05, 3s, 1, 64, 16) == 6);    // 3 s at 554 ms a text
    // A GPU-like node: 4 texts in 21 ms (5.25 ms each, the fixed cost
    // counted per text) fill 300 ms with 58; the next answer, 16 texts in
    // 33 ms, with more than the 64 allowed.
    service_model fast;
    serve(fast, {4}, 1, 17ms, 1ms);
    REQUIRE_FALSE(fast.known());
    CHECK(fast.batch_for(0.05, 300ms, 1, 64, 16) == 58);
    serve(fast, {16}, 1, 17ms, 1ms);
    REQUIRE_FALSE(fast.known());
    CHECK(fast.batch_for(0.05, 300ms, 1, 64, 16) == 64);
    CHECK(service_model{}.batch_for(0.05, 300ms, 1, 64, 16) == 16); // no answer yet: the fallback
}

TEST_CASE("limiter: queueing is judged within a size class") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 4});
    time_point t{};
    // 64-text requests at 10 ms per text.
    for (int i = 0; i < 10; ++i) {
        t += 1s;
        lim.on_success(640ms, 64, t, t + 640ms);
    }
    auto before = lim.exact_limit();
    // A 1-text request costs the fixed cost too: 35 ms per text is not
    // queueing next to 64-text requests.
    for (int i = 0; i < 6; ++i) {
        t += 1s;
        lim.on_success(35ms, 1, t, t + 35ms);
    }
    CHECK(lim.exact_limit() == before);
    CHECK(lim.decreases() == 0);
    // A 64-text request at 3x its class's minimum is.
    t += 1s;
    lim.on_success(1920ms, 64, t, t + 1920ms);
    CHECK(lim.decreases() == 1);
}

TEST_CASE("limiter: sub-millisecond jitter on a fast node is not queueing") {
    asio::io_context io;
    limiter lim(io.get_executor(), {.initial_limit = 4});
    time_point t{};
    for (int i = 0; i < 10; ++i) {
        t += 10ms;
        lim.on_success(100us, 1, t, t + 100us);
    }
    t += 10ms;
    lim.on_success(900us, 1, t, t + 900us); // 9x the minimum, 0.8 ms above it
    CHECK(lim.decreases() == 0);
    t += 10ms;
    lim.on_success(3ms, 1, t, t + 3ms); // 2.9 ms above: queueing
    CHECK(lim.decreases() == 1);
}
