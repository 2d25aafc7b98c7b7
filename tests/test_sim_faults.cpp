// herd-sim's faults, counters, control endpoints and the herd-sim program.

#include "test_sim_client.hpp"

#include "sim/cluster.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <unistd.h>

extern char** environ;

using namespace sim_test;
using herd::sim::cluster;
using herd::sim::fault_spec;
using json = nlohmann::json;

namespace {

const std::string small_embed = R"({"model":"all-minilm","input":"hello","dimensions":4})";
const std::string big_embed = R"({"model":"mxbai-embed-large","input":"hello"})";

cluster& started(cluster& c) {
    c.start();
    return c;
}

int status_of(std::uint16_t port, const std::string& body = small_embed) {
    auto r = roundtrip(port, "POST", "/api/embed", body);
    return r.ok() ? r.msg.status : -1;
}

} // namespace

TEST_CASE("sim fault: refuse closes the listener; clearing re-listens on the same port") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    auto port = c.port(0);
    client idle(port); // refuse leaves open connections alone
    // Accepted, not just in the backlog (closing a listener drops those).
    REQUIRE(eventually([&] { return c.counters(0).connections == 1; }));
    c.set_fault(0, {.refuse = true});
    CHECK(client::try_connect(port) == asio::error::connection_refused);
    idle.send(request("POST", "/api/embed", small_embed));
    CHECK(idle.read().msg.status == 200);
    c.set_fault(0, {});
    CHECK_FALSE(client::try_connect(port));
    CHECK(c.port(0) == port);
    CHECK(status_of(port) == 200);
}

TEST_CASE("sim fault: come_back_after listens again with faults cleared") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.refuse = true, .come_back_after = std::chrono::milliseconds(200)});
    CHECK(client::try_connect(c.port(0)) == asio::error::connection_refused);
    CHECK(eventually([&] { return !client::try_connect(c.port(0)); }, std::chrono::milliseconds(3000)));
    CHECK(c.faults(0).none());
    CHECK(status_of(c.port(0)) == 200);
}

TEST_CASE("sim fault: reset_mid_body sends the head and part of the body, then RST") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.reset_mid_body = true});
    client cl(c.port(0));
    cl.send(request("POST", "/api/embed", big_embed));
    auto r = cl.read();
    CHECK(r.ec); // reset (or EOF, if the RST raced the data)
    CHECK(r.raw.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(r.raw.find("\r\n\r\n") + 4 < r.raw.size()); // some body bytes came
    CHECK(c.counters(0).faults == 1);
}

TEST_CASE("sim fault: hang reads and never answers") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.hang = true});
    client cl(c.port(0));
    cl.send(request("POST", "/api/embed", small_embed));
    auto r = cl.read(std::chrono::milliseconds(300));
    CHECK(r.timed_out);
    CHECK(r.raw.empty());
    CHECK(c.counters(0).requests == 1);
}

TEST_CASE("sim fault: error_every, error_rate, busy") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.error_every = 3, .error_message = "runner died"});
    std::vector<int> statuses;
    for (int i = 0; i < 6; ++i) statuses.push_back(status_of(c.port(0)));
    CHECK(statuses == std::vector<int>{200, 200, 500, 200, 200, 500});
    auto r = roundtrip(c.port(0), "GET", "/api/version");
    r = roundtrip(c.port(0), "GET", "/api/version");
    r = roundtrip(c.port(0), "GET", "/api/version"); // the 9th request
    CHECK(r.msg.status == 500);
    CHECK(r.msg.body == R"({"error":"runner died"})");

    c.set_fault(0, {.error_rate = 0.5});
    int failed = 0;
    for (int i = 0; i < 40; ++i) failed += status_of(c.port(0)) == 500;
    CHECK(failed > 5);
    CHECK(failed < 35);

    c.set_fault(0, {.busy = true});
    auto busy = roundtrip(c.port(0), "POST", "/api/embed", small_embed);
    CHECK(busy.msg.status == 503);
    CHECK(busy.msg.body == R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
    // Control endpoints are never faulted.
    CHECK(roundtrip(c.port(0), "GET", "/_sim/counters").msg.status == 200);
}

TEST_CASE("sim fault: garbage bytes are not HTTP") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.garbage = true});
    auto r = roundtrip(c.port(0), "GET", "/");
    CHECK(r.ec == herd::errc::protocol_error);
    CHECK(r.raw.size() > 0);
}

TEST_CASE("sim fault: slow_drip writes the body in small pieces") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    c.set_fault(0, {.slow_drip_bytes = 512, .slow_drip_interval = std::chrono::milliseconds(1)});
    auto r = roundtrip(c.port(0), "POST", "/api/embed", big_embed);
    REQUIRE(r.ok());
    CHECK(r.reads >= 5);
    auto v = json::parse(r.msg.body)["embeddings"][0].get<std::vector<float>>();
    CHECK(herd::sim::matches_rule("mxbai-embed-large", "hello", v.data(), v.size(), 1024));
}

TEST_CASE("sim fault: die_after closes everything, then refuses; come_back_after revives") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    client bystander(c.port(0));
    bystander.send(request("GET", "/"));
    REQUIRE(bystander.read().ok());
    c.set_fault(0, {.die_after = 2, .come_back_after = std::chrono::milliseconds(300)});
    client cl(c.port(0));
    cl.send(request("POST", "/api/embed", small_embed));
    CHECK(cl.read().msg.status == 200);
    cl.send(request("POST", "/api/embed", small_embed));
    CHECK(cl.read().msg.status == 200);
    CHECK(cl.read(std::chrono::milliseconds(1000)).ec); // closed after the 2nd
    CHECK(bystander.read(std::chrono::milliseconds(1000)).ec);
    CHECK(client::try_connect(c.port(0)) == asio::error::connection_refused);
    CHECK(c.faults(0).refuse);
    CHECK(eventually([&] { return !client::try_connect(c.port(0)); }));
    CHECK(status_of(c.port(0)) == 200);
}

TEST_CASE("sim fault: wrong_count and stream_error_after") {
    cluster c({herd::sim::profile("zero")});
    started(c);
    const std::string three = R"({"model":"all-minilm","input":["a","b","c"],"dimensions":4})";
    c.set_fault(0, {.wrong_count = -1});
    CHECK(json::parse(roundtrip(c.port(0), "POST", "/api/embed", three).msg.body)["embeddings"].size() == 2);
    c.set_fault(0, {.wrong_count = 1});
    CHECK(json::parse(roundtrip(c.port(0), "POST", "/api/embed", three).msg.body)["embeddings"].size() == 4);

    c.set_fault(0, {.error_message = "out of memory", .stream_error_after = 2});
    auto r = roundtrip(c.port(0), "POST", "/api/generate", R"({"model":"llama3.2","prompt":"hi"})");
    REQUIRE(r.ok());
    CHECK(r.msg.status == 200);
    std::vector<std::string> lines;
    for (std::size_t at = 0, nl; (nl = r.msg.body.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(r.msg.body.substr(at, nl - at));
    REQUIRE(lines.size() == 3);
    CHECK(json::parse(lines[1])["done"] == false);
    CHECK(lines[2] == R"({"error":"out of memory"})");
    CHECK(c.counters(0).faults == 3);
}

TEST_CASE("sim: counters count requests, inputs, bytes, connections") {
    cluster c({herd::sim::profile("zero"), herd::sim::profile("zero")});
    started(c);
    client cl(c.port(1));
    for (int i = 0; i < 3; ++i) {
        cl.send(request("POST", "/api/embed", R"({"model":"all-minilm","input":["a","b"],"dimensions":4})"));
        REQUIRE(cl.read().ok());
    }
    cl.send(request("GET", "/api/tags"));
    REQUIRE(cl.read().ok());
    auto n = c.counters(1);
    CHECK(n.requests == 4);
    CHECK(n.embed_requests == 3);
    CHECK(n.inputs == 6);
    CHECK(n.connections == 1);
    CHECK(n.bytes_in > 100);
    CHECK(n.bytes_out > 300);
    CHECK(n.queue == 0);
    CHECK(n.active == 0);
    CHECK(c.counters(0).requests == 0);
    c.reset_counters(1);
    CHECK(c.counters(1).requests == 0);
    CHECK(c.counters(1).inputs == 0);
}

TEST_CASE("sim: control endpoints on the control port and on node ports") {
    cluster c({herd::sim::profile("zero"), herd::sim::profile("cpu")});
    started(c);
    auto control = static_cast<std::uint16_t>(std::stoi(c.control_url().substr(c.control_url().rfind(':') + 1)));
    CHECK(control == c.control_port());
    auto nodes = json::parse(roundtrip(control, "GET", "/_sim/nodes").msg.body);
    REQUIRE(nodes.size() == 2);
    CHECK(nodes[1]["url"] == c.url(1));
    CHECK(nodes[1]["profile"]["name"] == "cpu");
    CHECK(nodes[0]["counters"]["requests"] == 0);
    CHECK(nodes[0]["faults"]["busy"] == false);

    auto set = roundtrip(control, "POST", "/_sim/nodes/0/fault", R"({"busy":true})");
    CHECK(set.msg.status == 200);
    CHECK(status_of(c.port(0)) == 503);
    CHECK(roundtrip(control, "POST", "/_sim/nodes/0/fault", "{}").msg.status == 200);
    CHECK(status_of(c.port(0)) == 200);
    CHECK(roundtrip(control, "POST", "/_sim/nodes/0/fault", R"({"bussy":true})").msg.status == 400);
    CHECK(roundtrip(control, "POST", "/_sim/nodes/9/fault", "{}").msg.status == 404);
    CHECK(roundtrip(control, "POST", "/_sim/nodes/0/reset").msg.status == 200);
    CHECK(c.counters(0).requests == 0);

    // A node's own /_sim/: counters and faults of itself.
    status_of(c.port(0));
    auto own = json::parse(roundtrip(c.port(0), "GET", "/_sim/counters").msg.body);
    CHECK(own["requests"] == 1);
    CHECK(roundtrip(c.port(0), "POST", "/_sim/fault", R"({"error_every":1})").msg.status == 200);
    CHECK(status_of(c.port(0)) == 500);
    CHECK(c.faults(0).error_every == 1);
}

TEST_CASE("sim: a port in use makes start() throw and the cluster still cleans up") {
    cluster a({herd::sim::profile("zero")});
    started(a);
    auto taken = herd::sim::profile("zero");
    taken.port = a.port(0);
    cluster b({herd::sim::profile("zero"), taken});
    CHECK_THROWS_AS(b.start(), std::system_error);
    b.stop();
    CHECK(status_of(a.port(0)) == 200);
}

#ifdef HERD_SIM_EXE
TEST_CASE("sim: the herd-sim program prints its nodes, writes the ports file, stops on SIGTERM") {
    std::string ports = "/tmp/herd_sim_test_ports_" + std::to_string(::getpid());
    std::remove(ports.c_str());
    std::vector<std::string> args = {HERD_SIM_EXE, "--node", "zero", "--node", "gpu", "--ports-file", ports};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    std::vector<std::string> urls;
    CHECK(eventually([&] {
        std::ifstream in(ports);
        urls.clear();
        for (std::string line; std::getline(in, line);) urls.push_back(line);
        return urls.size() == 2;
    }));
    if (urls.size() == 2) {
        auto port = static_cast<std::uint16_t>(std::stoi(urls[1].substr(urls[1].rfind(':') + 1)));
        CHECK(roundtrip(port, "GET", "/").msg.body == "Ollama is running");
    }
    ::kill(pid, SIGTERM);
    int status = -1;
    CHECK(eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::remove(ports.c_str());
}
#endif
