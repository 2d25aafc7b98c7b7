// Many clients, one cluster (issue 15): several `herd embed` processes, each
// with its own pool and no knowledge of the others, embed at once on the
// same nodes. In one run:
//
// 1. The cluster's capacity as a plain saturating client measures it
//    (baseline/plain_client.hpp, not herd): each node's best batch and depth,
//    all nodes at once; capacity = the sum.
// 2. `--clients` herd processes started together, each over its own corpus
//    of `--texts` texts (--format f32). Per client: texts / its wall time.
//    Together: all texts / the time until the last one finished, as % of
//    the capacity; Jain's fairness index over the clients' rates
//    ((sum x)^2 / (n sum x^2): 1 = equal shares); 503s the nodes answered
//    (herd-sim's "busy" counter).
//    Targets: together >= 95% of the capacity, Jain >= 0.95, no 503.
//
//   bench_many_clients [--profiles gpu,cpu,cpu] [--clients 4] [--texts 3000] [--runs 3]
//                      [--point-seconds 1] [--confirm-seconds 6] [--time-scale 1]
#include "support/bench_support.hpp"

#include "baseline/plain_client.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>

namespace {

using namespace herd;

std::vector<std::string> paragraphs(std::size_t n, std::size_t client) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string t = fmt::format("client {} paragraph {} ", client, i);
        for (std::size_t k = 0; k < 8 + i % 9; ++k) t += "lorem ipsum dolor ";
        out.push_back(std::move(t));
    }
    return out;
}

struct client_run {
    pid_t pid = -1;
    std::string dir;
    double seconds = 0;
    int status = -1;
};

// Starts `herd embed` over `texts` (written to a file first); output and
// errors go to files in the client's directory.
client_run start_client(const std::string& urls, const std::string& model, const std::vector<std::string>& texts) {
    char dir_template[] = "/tmp/herd-bench-many-XXXXXX";
    if (!mkdtemp(dir_template)) throw std::runtime_error("mkdtemp failed");
    client_run c;
    c.dir = dir_template;
    {
        std::ofstream f(c.dir + "/texts.txt");
        for (auto& t : texts) f << t << '\n';
    }
    std::vector<std::string> argv{HERD_CLI_EXE, "embed", "--quiet", "--nodes", urls, "--model", model, "--format",
                                  "f32", "--output", c.dir + "/out.f32", c.dir + "/texts.txt"};
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, (c.dir + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&c.pid, raw[0], &fa, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error(std::string("cannot start herd: ") + std::strerror(rc));
    return c;
}

void clean(const client_run& c) {
    for (auto f : {"texts.txt", "out.f32", "out.f32.ids", "out.f32.json", "stderr"}) std::remove((c.dir + "/" + f).c_str());
    rmdir(c.dir.c_str());
}

struct run_result {
    std::vector<double> rates;
    double together = 0; // texts/s over the whole run
    std::uint64_t busy = 0;
};

run_result run_clients(const bench::node_set& nodes, std::size_t clients, std::size_t texts) {
    std::string urls;
    for (auto& u : nodes.urls) urls += (urls.empty() ? "" : ",") + u;
    std::vector<std::vector<std::string>> corpora;
    for (std::size_t k = 0; k < clients; ++k) corpora.push_back(paragraphs(texts, k));
    std::uint64_t busy0 = 0;
    if (nodes.sim)
        for (std::size_t i = 0; i < nodes.sim->size(); ++i) busy0 += nodes.sim->counters(i).busy;
    std::vector<client_run> runs;
    auto t0 = clock::now();
    for (std::size_t k = 0; k < clients; ++k) runs.push_back(start_client(urls, nodes.model, corpora[k]));
    std::size_t left = clients;
    auto limit = t0 + std::chrono::seconds(600);
    while (left > 0) { // bounded: the children are killed past the limit
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (auto& c : runs)
                if (c.pid == pid) {
                    c.seconds = seconds(clock::now() - t0);
                    c.status = status;
                    --left;
                }
            continue;
        }
        if (clock::now() > limit) {
            for (auto& c : runs)
                if (c.status < 0) kill(c.pid, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    run_result r;
    double last = 0;
    for (auto& c : runs) {
        bool ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
        std::ifstream err(c.dir + "/stderr");
        std::string why((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
        clean(c);
        if (!ok) throw std::runtime_error("herd embed failed: " + why);
        r.rates.push_back(static_cast<double>(texts) / c.seconds);
        last = std::max(last, c.seconds);
    }
    r.together = static_cast<double>(texts * clients) / last;
    if (nodes.sim)
        for (std::size_t i = 0; i < nodes.sim->size(); ++i) r.busy += nodes.sim->counters(i).busy;
    r.busy -= busy0;
    return r;
}

double jain(const std::vector<double>& x) {
    double sum = 0, squares = 0;
    for (double v : x) {
        sum += v;
        squares += v * v;
    }
    return squares > 0 ? sum * sum / (static_cast<double>(x.size()) * squares) : 0;
}

} // namespace

int main(int argc, char** argv) {
    bench::options opt(argc, argv);
    const bool smoke = opt.flag("smoke") || bench::smoke();
    const std::size_t clients = opt.size("clients", smoke ? 2 : 4);
    const std::size_t texts = opt.size("texts", smoke ? 40 : 3000);
    const std::size_t runs = opt.size("runs", smoke ? 1 : 3);
    const double ts = opt.num("time-scale", smoke ? 0.05 : 1.0);
    std::vector<sim::node_profile> profs;
    for (auto& n : pool_config::parse_node_list(opt.str("profiles", "gpu,cpu,cpu"))) profs.push_back(sim::profile(n));
    auto nodes = bench::start_nodes(profs, ts);

    baseline::sweep_options sweep;
    sweep.point_time = std::chrono::duration<double>(opt.num("point-seconds", smoke ? 0.05 : 1.0));
    sweep.confirm_time = std::chrono::duration<double>(opt.num("confirm-seconds", smoke ? 0.1 : 6.0));
    if (smoke) sweep.batches = {8}, sweep.depths = {1};
    auto corpus = paragraphs(2000, 99);
    fmt::print("measuring the cluster's capacity with a plain saturating client...\n");
    auto caps = baseline::measure_capacity(nodes.urls, nodes.model, corpus, sweep);
    double capacity = 0;
    std::string parts;
    for (auto& c : caps) {
        capacity += c.best.rate();
        parts += fmt::format("{}{:.0f} (batch {}, depth {})", parts.empty() ? "" : " + ", c.best.rate(), c.best.batch,
                             c.best.depth);
    }
    fmt::print("capacity {:.0f} texts/s = {}\n\n", capacity, parts);
    fmt::print("| run | clients x texts | per-client texts/s | together texts/s | % of capacity | Jain | 503s |\n");
    fmt::print("|---|---|---|---|---|---|---|\n");
    for (std::size_t run = 0; run < runs; ++run) {
        auto r = run_clients(nodes, clients, texts);
        std::string each;
        for (double x : r.rates) each += fmt::format("{}{:.0f}", each.empty() ? "" : " / ", x);
        fmt::print("| {} | {} x {} | {} | {:.0f} | {:.1f}% | {:.3f} | {} |\n", run + 1, clients, texts, each, r.together,
                   100 * r.together / capacity, jain(r.rates), nodes.sim ? std::to_string(r.busy) : "n/a");
        std::fflush(stdout);
    }
    fmt::print("\ntargets: together >= 95% of capacity, Jain >= 0.95, no 503 (load average {:.1f})\n",
               bench::load_average());
    return 0;
}
