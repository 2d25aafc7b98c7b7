// herd status: one screen on every node — reachable, Ollama version, the
// latency of a probe, models installed and loaded (with their VRAM share).
#include "cli/commands.hpp"
#include "cli/node_args.hpp"

#include <herd/async/task_group.hpp>
#include <herd/herd.hpp>
#include <herd/openai/codec.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herd::cli {
namespace {

struct node_report {
    std::string url;
    bool reachable = false;
    std::string version;
    double probe_ms = 0;
    std::string error;
    std::vector<std::string> models; // "name (loaded, 100% VRAM)" / "name"
};

// Shorter, as users type them: "all-minilm", not "all-minilm:latest".
std::string shown_name(const std::string& name) {
    return name.size() > 7 && name.ends_with(":latest") ? name.substr(0, name.size() - 7) : name;
}

// Loaded models by name with their VRAM share, from /api/ps.
std::map<std::string, double> loaded_models(const std::string& body) {
    std::map<std::string, double> out;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("models") || !j["models"].is_array()) return out;
    for (const auto& m : j["models"]) {
        if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
        auto size = m.value("size", 0.0), vram = m.value("size_vram", 0.0);
        out[m["name"].get<std::string>()] = size > 0 ? vram / size : 0;
    }
    return out;
}

std::vector<std::string> describe_models(const std::string& tags, const std::string& ps) {
    auto loaded = loaded_models(ps);
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(tags, nullptr, false);
    std::vector<std::string> installed;
    if (j.is_object() && j.contains("models") && j["models"].is_array())
        for (const auto& m : j["models"])
            if (m.is_object() && m.contains("name") && m["name"].is_string()) installed.push_back(m["name"]);
    for (const auto& [name, share] : loaded)
        if (std::find(installed.begin(), installed.end(), name) == installed.end()) installed.push_back(name);
    for (const auto& name : installed) {
        auto shown = shown_name(name);
        auto it = loaded.find(name);
        if (it == loaded.end()) out.push_back(shown);
        else out.push_back(fmt::format("{} (loaded, {:.0f}% VRAM)", shown, it->second * 100));
    }
    return out;
}

// An OpenAI-compatible node has neither /api/version nor /api/ps: its
// model list is the probe, "openai" its version, and nothing shows as loaded.
awaitable<void> probe_openai(node& n, node_report& r, duration timeout) {
    auto started = clock::now();
    auto [ec, listed, reason] = co_await n.http().control(n.http().format("GET", "/v1/models"), started + timeout);
    r.probe_ms = seconds(clock::now() - started) * 1000;
    std::vector<std::string> ids;
    if (ec || listed.status != 200 || !openai::parse_models(listed.body, ids)) {
        r.error = ec ? (reason.empty() ? ec.message() : ec.message() + ": " + reason)
                     : fmt::format("GET /v1/models answered {}", listed.status);
        co_return;
    }
    r.reachable = true;
    r.version = "openai";
    for (const auto& id : ids) r.models.push_back(shown_name(id));
}

awaitable<void> probe(node& n, node_report& r, duration timeout) {
    r.url = n.name();
    if (n.url().api == http::api_kind::openai) co_return co_await probe_openai(n, r, timeout);
    auto started = clock::now();
    auto [ec, version, reason] = co_await n.http().control(n.http().format("GET", "/api/version"), started + timeout);
    r.probe_ms = seconds(clock::now() - started) * 1000;
    if (ec || version.status != 200) {
        r.error = ec ? (reason.empty() ? ec.message() : ec.message() + ": " + reason)
                     : fmt::format("GET /api/version answered {}", version.status);
        co_return;
    }
    r.reachable = true;
    auto v = nlohmann::json::parse(version.body, nullptr, false);
    r.version = v.is_object() && v.contains("version") && v["version"].is_string() ? v["version"].get<std::string>()
                                                                                   : "?";
    auto deadline = clock::now() + timeout;
    auto tags = co_await n.http().control(n.http().format("GET", "/api/tags"), deadline);
    auto ps = co_await n.http().control(n.http().format("GET", "/api/ps"), deadline);
    bool tags_ok = !tags.ec && tags.response.status == 200, ps_ok = !ps.ec && ps.response.status == 200;
    if (!tags_ok) r.error = "GET /api/tags failed";
    r.models = describe_models(tags_ok ? tags.response.body : "", ps_ok ? ps.response.body : "");
}

void print_table(const std::vector<node_report>& reports) {
    std::size_t width = 4;
    for (const auto& r : reports) width = std::max(width, r.url.size());
    fmt::print("{:<{}}  {:<9}  {:<8}  {:>9}  {}\n", "NODE", width, "REACHABLE", "VERSION", "PROBE", "MODELS");
    for (const auto& r : reports) {
        std::string models = r.models.empty() ? "-" : fmt::format("{}", fmt::join(r.models, ", "));
        if (!r.error.empty()) models = r.reachable ? models + "  (" + r.error + ")" : r.error;
        fmt::print("{:<{}}  {:<9}  {:<8}  {:>9}  {}\n", r.url, width, r.reachable ? "yes" : "no",
                   r.reachable ? r.version : "-", r.reachable ? fmt::format("{:.1f} ms", r.probe_ms) : "-", models);
    }
}

} // namespace

int status_command(const args& a) {
    auto known = node_option_names();
    known.push_back("timeout");
    a.allow_only(known);
    auto config = pool_config_from_args(a);
    auto timeout = from_seconds(a.real_or("timeout", 3));
    config.connect_timeout = timeout;
    asio::io_context io;
    pool p(io.get_executor(), config);
    std::vector<node_report> reports(p.size());
    auto all = [&]() -> awaitable<void> { // named: it outlives its coroutine
        task_group g(io.get_executor());
        for (std::size_t i = 0; i < p.size(); ++i) g.spawn(probe(p.at(i), reports[i], timeout));
        co_await g.join();
    };
    asio::co_spawn(io, all(), [&](std::exception_ptr) { io.stop(); });
    io.run();
    print_table(reports);
    auto usable = static_cast<std::size_t>(std::count_if(reports.begin(), reports.end(), [](auto& r) { return r.reachable; }));
    fmt::print("{} of {} nodes usable\n", usable, reports.size());
    return usable > 0 ? 0 : 1;
}

} // namespace herd::cli
