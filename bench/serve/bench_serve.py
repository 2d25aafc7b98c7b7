"""A naive client through `herd serve` against the same client on the
fastest node alone (issue 16's benchmark).

The client is what document pipelines write: `ollama.Client.embed` from a
thread pool of 2 threads per node of the cluster (6 here), one text per call,
and then lists of 64 texts per call. It runs, in one go on one machine:
  (a) against the fastest herd-sim node (gpu) directly,
  (b) against `herd serve` over gpu + 2 cpu herd-sim nodes,
and the cluster's ideal: each node's best rate for this client (lists of 64,
2 threads, the node alone), summed. Every vector is checked against
herd-sim's rule.

The nodes run at --time-scale 10 (every simulated delay x10: a single text
on the gpu node takes ~26 ms, on a cpu node ~130 ms, closer to real Ollama
CPU nodes' 38 ms): at scale 1 the Python client itself, not the nodes, is
what limits (a) on a small machine.

usage: python bench_serve.py HERD_EXE HERD_SIM_EXE [--singles N] [--lists N] [--time-scale X] [--markdown]
"""

import argparse
import concurrent.futures as cf
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "python"))
import herd_rule  # noqa: E402
from herd_procs import wait_for_file  # noqa: E402

import ollama  # noqa: E402

MODEL = "all-minilm"


def run(host, texts, per_call, threads):
    """Embeds `texts` in calls of `per_call` texts from `threads` threads;
    returns (embeddings per second, wrong vectors)."""
    local = threading.local()

    def client():
        if not hasattr(local, "c"):
            local.c = ollama.Client(host=host)
        return local.c

    calls = [texts[i:i + per_call] for i in range(0, len(texts), per_call)]
    results = [None] * len(calls)

    def one(i):
        chunk = calls[i]
        r = client().embed(model=MODEL, input=chunk[0] if per_call == 1 else chunk)
        results[i] = r.embeddings

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(len(calls))))
    seconds = time.perf_counter() - start
    wrong = 0
    for chunk, vectors in zip(calls, results):
        for t, v in zip(chunk, vectors):
            wrong += not herd_rule.matches(MODEL, t, v, 384)
        wrong += abs(len(chunk) - len(vectors))
    return len(texts) / seconds, wrong


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("herd")
    ap.add_argument("sim")
    ap.add_argument("--singles", type=int, default=600, help="texts sent one per call")
    ap.add_argument("--lists", type=int, default=3200, help="texts sent 64 per call")
    ap.add_argument("--ideal", type=int, default=384, help="texts per node for the ideal")
    ap.add_argument("--time-scale", type=float, default=10)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv[1:])
    profiles = ["gpu", "cpu", "cpu"]
    threads = 2 * len(profiles)
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        try:
            sim_args = [args.sim, "--ports-file", os.path.join(tmp, "nodes"), "--time-scale", str(args.time_scale)]
            for p in profiles:
                sim_args += ["--node", p]
            procs.append(subprocess.Popen(sim_args, stdout=subprocess.DEVNULL))
            urls = wait_for_file(os.path.join(tmp, "nodes"), procs[0])
            procs.append(subprocess.Popen([args.herd, "serve", "--listen", "127.0.0.1:0", "--nodes", ",".join(urls),
                                           "--port-file", os.path.join(tmp, "serve")], stderr=subprocess.DEVNULL))
            serve = "http://127.0.0.1:" + wait_for_file(os.path.join(tmp, "serve"), procs[1])[0]
            singles = [f"chunk {i} of a document about llamas and their food" for i in range(args.singles)]
            lists = [f"list chunk {i} of a document about llamas and their food" for i in range(args.lists)]
            run(serve, singles[:60], 1, threads)  # warm both paths
            run(urls[0], singles[:60], 1, threads)

            rows = []
            a1, w1 = run(urls[0], singles, 1, threads)
            b1, w2 = run(serve, singles, 1, threads)
            a64, w3 = run(urls[0], lists, 64, threads)
            b64, w4 = run(serve, lists, 64, threads)
            ideal = sum(run(u, lists[:args.ideal], 64, 2)[0] for u in urls)
            wrong = w1 + w2 + w3 + w4
            rows.append(("1 text per call", a1, b1))
            rows.append(("64 texts per call", a64, b64))
        finally:
            for p in reversed(procs):
                p.terminate()
                p.wait()
    if args.markdown:
        print(f"| client ({threads} threads) | (a) fastest node alone | (b) herd serve, gpu + 2 cpu | (b)/(a) | (b) share of ideal |")
        print("|---|---:|---:|---:|---:|")
        for name, a, b in rows:
            print(f"| {name} | {a:.0f} emb/s | {b:.0f} emb/s | {b / a:.1f}x | {100 * b / ideal:.0f}% |")
        print(f"\nideal (each node's best rate for this client, lists of 64, summed): {ideal:.0f} emb/s; wrong vectors: {wrong}")
    else:
        for name, a, b in rows:
            print(f"{name:18} (a) {a:7.0f} emb/s  (b) {b:7.0f} emb/s  ratio {b / a:4.1f}x  share of ideal {100 * b / ideal:3.0f}%")
        print(f"ideal {ideal:.0f} emb/s, wrong vectors {wrong}")
    return 0 if wrong == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
