// herd: the command-line tool.
#include "cli/commands.hpp"

#include <fmt/format.h>

#include <cstring>

namespace {

constexpr const char* usage = R"(usage: herd COMMAND [options]

commands:
  embed [--nodes URLS] [--model M] [--output FILE] [--dimensions K]
        [--format jsonl|f32] [--input-format auto|jsonl|lines]
        [--id-field id] [--text-field text] [--batch N] [--window N]
        [--give-up SECONDS] [--priority 1-10] [--shard i/n] [--quiet]
        [--log-format json|text] [--log-file FILE] [--metrics-listen ADDR] INPUT
      Embeds every text of INPUT (JSONL {"id","text"} or plain lines; - for
      stdin) over all nodes. Resumes an interrupted run: ids already in
      FILE are skipped; FILE.herd.json (f32: FILE.json) records the model
      and dimensions, and resuming with others is refused (exit 2).
      Nodes from --nodes, HERD_NODES or OLLAMA_HOST, or found and
      followed while running with --discover (repeatable):
        file:PATH  dns:NAME[:PORT]  srv:NAME  scan:CIDR (opt-in scan)
      [--dns-server ADDR[:PORT]] [--scan-concurrency N] [--scan-rate N/s]
      [--scan-timeout SECONDS]. --shard i/n embeds only the i-th (from 0)
      of n contiguous, equal slices of INPUT's lines. --log-format prints
      the pool's events (node ejected/re-admitted, limit cut, model loaded,
      retries, hedges won, batches given back) on stderr or --log-file.
      --metrics-listen 127.0.0.1:9464 serves GET /metrics (Prometheus),
      /dashboard and /api/herd/stats while the corpus runs.
  merge --output FILE [--format jsonl|f32] SHARD...
      Joins the outputs of `herd embed --shard 0/n` ... `--shard n-1/n`,
      given in shard order, into FILE: the same bytes one run would write.
  status [--nodes URLS] [--timeout SECONDS]
      One line per node: reachable, Ollama version, probe latency, models
      installed and loaded (with their share in VRAM). Exit 1 when no node
      is usable.
  demo [--texts N] [--corpus FILE] [--time-scale X]
      Starts a simulated mixed cluster on loopback, embeds the sample
      corpus and prints the report.
  serve [--listen 127.0.0.1:11434] [--nodes URLS] [--model M] [--token T]
        [--max-queue 512] [--max-body-mb 64] [--grace 10] [--port-file FILE]
      Serves the cluster as one Ollama- and OpenAI-compatible endpoint
      (/api/embed, /api/chat, /v1/embeddings, ...). With --token every
      request needs `Authorization: Bearer T`. SIGTERM stops gracefully.
      Also GET /metrics (Prometheus), /dashboard and /api/herd/stats.

node options (every command that talks to nodes):
  --nodes URLS      http://host:port, https://host (TLS), http://user:pass@host
  --ca-file PEM     CAs for https:// nodes (default: the system's; HERD_CA_FILE)
  --insecure        do not verify https:// certificates (testing only)
  --header 'N: V'   an extra header to every node, e.g. 'Authorization: Bearer T'
                    (HERD_NODE_TOKEN=T does the same); never printed
)";

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
        fmt::print(argc < 2 ? stderr : stdout, "{}", usage);
        return argc < 2 ? 2 : 0;
    }
    std::string command = argv[1];
    try {
        herd::cli::args a(argc, argv, 2, {"quiet", "insecure"});
        if (command == "embed") return herd::cli::embed_command(a);
        if (command == "demo") return herd::cli::demo_command(a);
        if (command == "merge") return herd::cli::merge_command(a);
        if (command == "status") return herd::cli::status_command(a);
        if (command == "serve") return herd::cli::serve_command(a);
        fmt::print(stderr, "herd: unknown command '{}'\n{}", command, usage);
        return 2;
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "herd: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        herd::cli::print_error(e);
        return 1;
    }
}
