// The shipped profiles: every name is accepted everywhere, "ollama-cpu"
// reproduces the real server's measured speed and runs one request at a
// time, with Ollama's total_duration (queue wait included) and
// load_duration (not included).

#include "test_sim_client.hpp"

#include "sim/cluster.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sim_test;
using herd::sim::cluster;
using herd::sim::node_profile;
using json = nlohmann::json;
using std::chrono::nanoseconds;

namespace {

// What one request of `texts` texts of `bytes` bytes each costs on `p`
// (tail_fraction 0: exact).
nanoseconds cost(const node_profile& p, std::size_t texts, std::size_t bytes) {
    return p.request_overhead + p.per_input_cost * texts + p.per_char_cost * (texts * bytes);
}

std::vector<std::string> names() {
    std::vector<std::string> out;
    std::string all(herd::sim::profile_names());
    for (std::size_t at = 0; at < all.size();) {
        auto end = all.find(", ", at);
        out.push_back(all.substr(at, end - at));
        at = end == std::string::npos ? all.size() : end + 2;
    }
    return out;
}

} // namespace

TEST_CASE("sim profiles: every listed name works in profile() and config JSON") {
    CHECK(names() == std::vector<std::string>{"zero", "gpu", "cpu", "ollama-cpu", "gpu-batch"});
    for (const auto& n : names()) {
        INFO(n);
        CHECK(herd::sim::profile(n).name == n);
        CHECK(herd::sim::profile_from_json(json{{"profile", n}}).name == n);
    }
    CHECK_THROWS_WITH(herd::sim::profile("tpu"),
                      "unknown profile \"tpu\" (zero, gpu, cpu, ollama-cpu, gpu-batch)");
    // load_overhead is a share of request_overhead, so it cannot exceed it.
    CHECK_THROWS_AS(herd::sim::profile_from_json(json{{"request_overhead", 10}, {"load_overhead", 20}}),
                    std::invalid_argument);
    CHECK(herd::sim::profile_from_json(json{{"profile", "gpu"}, {"load_overhead", "1ms"}}).load_overhead ==
          std::chrono::milliseconds(1));
}

TEST_CASE("sim profiles: ollama-cpu reproduces the real server's measured costs") {
    auto p = herd::sim::profile("ollama-cpu");
    CHECK(p.embed_slots == 1);
    CHECK(p.tail_fraction == 0);
    CHECK(p.version == "0.24.0");
    CHECK_FALSE(p.gpu);
    CHECK(p.find_model("all-minilm-1t")->dim == 384);
    CHECK(p.find_model("smollm2:135m")->kind == herd::sim::model_kind::chat);
    // WIRE.md: 100 one-text requests 3.87 s, one 100-text request 1.33 s, for
    // ~26-token (~115-byte) texts. Within 2%.
    auto single = std::chrono::duration<double, std::milli>(cost(p, 1, 115)).count();
    auto batch = std::chrono::duration<double, std::milli>(cost(p, 100, 115)).count();
    CHECK(single == Approx(38.7).epsilon(0.02));
    CHECK(batch == Approx(1330).epsilon(0.02));
    CHECK(p.load_overhead == std::chrono::milliseconds(16));

    auto g = herd::sim::profile("gpu-batch");
    CHECK(g.embed_slots == 1);
    CHECK(g.request_overhead == std::chrono::milliseconds(15));
    CHECK(cost(g, 100, 200) - cost(g, 1, 200) == 99 * std::chrono::microseconds(200));

    // The zero/gpu/cpu numbers tests and benchmarks rely on stay put.
    auto gpu = herd::sim::profile("gpu"), cpu = herd::sim::profile("cpu");
    CHECK(gpu.request_overhead == std::chrono::milliseconds(2));
    CHECK(cpu.request_overhead == std::chrono::milliseconds(10));
    CHECK(gpu.load_overhead == nanoseconds(0));
    CHECK(cpu.load_overhead == nanoseconds(0));
}

TEST_CASE("sim profiles: ollama-cpu serves one request at a time; total_duration holds the wait") {
    auto p = herd::sim::profile("ollama-cpu");
    constexpr int scale = 5; // ~0.2 s a request: the test's own delays are small beside it
    cluster c({p}, {.time_scale = scale});
    c.start();
    const std::string text(115, 'w');
    const std::string body = json{{"model", "all-minilm-1t"}, {"input", text}}.dump();
    const auto one = scale * cost(p, 1, text.size());
    const auto warm_load = scale * nanoseconds(p.load_overhead);

    client a(c.port(0)), b(c.port(0));
    a.send(request("POST", "/api/embed", body));
    REQUIRE(eventually([&] { return c.counters(0).active == 1; }));
    b.send(request("POST", "/api/embed", body));
    REQUIRE(eventually([&] { return c.counters(0).queue == 1; }));
    CHECK(c.counters(0).active == 1); // the second waits: one slot whatever the load

    auto ra = a.read(), rb = b.read();
    REQUIRE(ra.ok());
    REQUIRE(rb.ok());
    auto ja = json::parse(ra.msg.body), jb = json::parse(rb.msg.body);
    const auto total_a = nanoseconds(ja["total_duration"].get<std::int64_t>());
    const auto total_b = nanoseconds(jb["total_duration"].get<std::int64_t>());
    const auto load_a = nanoseconds(ja["load_duration"].get<std::int64_t>());
    const auto load_b = nanoseconds(jb["load_duration"].get<std::int64_t>());
    // Timers never fire early, so these lower bounds are exact.
    CHECK(total_a >= one);
    CHECK(load_a >= warm_load);
    CHECK(load_b >= warm_load);
    // b was sent as soon as a was seen in service: it waited for most of a
    // (generous: the test's few milliseconds against a's ~190).
    CHECK(total_b >= one + one / 2);
    // load_duration is the warm scheduler share, not the wait in the queue.
    CHECK(load_b < warm_load + one / 2);
    CHECK(jb["prompt_eval_count"] == 115 / 4 + 2);
    CHECK(c.counters(0).queue == 0);
    CHECK(c.counters(0).inputs == 2);
}
