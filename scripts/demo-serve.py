"""The second part of scripts/demo: `herd serve` in front of a simulated
cluster (herd-sim: gpu + cpu + cpu on loopback), and the official `ollama`
Python client embedding through it unchanged. Every vector is checked
against herd-sim's deterministic rule.

usage: python demo-serve.py HERD_EXE HERD_SIM_EXE

Without the `ollama` package (scripts/python-env could not reach PyPI) it
says so and makes one plain curl call instead. Bounded: 300 single-text
calls and one list of 2,000 texts, each run stopped after 20 s.
"""

import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import herd_rule  # noqa: E402
from herd_procs import wait_for_file  # noqa: E402

try:
    import ollama
except ImportError:
    ollama = None

MODEL = "all-minilm"
DIM = 384
SECONDS = 20  # per run, whatever the machine


def wrong(texts, vectors):
    return sum(not herd_rule.matches(MODEL, t, v, DIM) for t, v in zip(texts, vectors)) + abs(len(texts) - len(vectors))


def singles(host, texts, threads):
    """One text a call from `threads` threads; (texts done, seconds, wrong)."""
    local = threading.local()
    deadline = time.monotonic() + SECONDS
    got = {}

    def one(i):
        if time.monotonic() > deadline:
            return
        if not hasattr(local, "c"):
            local.c = ollama.Client(host=host)
        got[i] = local.c.embed(model=MODEL, input=texts[i]).embeddings[0]

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(len(texts))))
    seconds = time.perf_counter() - start
    done = sorted(got)
    return len(done), seconds, wrong([texts[i] for i in done], [got[i] for i in done])


def with_ollama(host):
    texts = [f"demo chunk {i}: llamas eat grass and hay" for i in range(300)]
    n, s, bad = singles(host, texts, 6)
    print(f"  ollama.Client.embed, 1 text a call, 6 threads   {n:5d} texts {s:5.2f} s {n / s:7.0f} texts/s")
    corpus = [f"demo document {i}: the llama is a domesticated camelid" for i in range(2000)]
    start = time.perf_counter()
    vectors = ollama.Client(host=host, timeout=SECONDS).embed(model=MODEL, input=corpus).embeddings
    s2 = time.perf_counter() - start
    print(f"  ollama.Client.embed, one list                  {len(corpus):5d} texts {s2:5.2f} s {len(corpus) / s2:7.0f} texts/s")
    bad += wrong(corpus, vectors)
    print(f"  vectors checked against herd-sim's rule: {n + len(corpus) - bad} right, {bad} wrong")
    return bad


def with_curl(host):
    print("  (no `ollama` Python package: scripts/python-env could not make the venv, so one plain curl call)")
    texts = ["what do llamas eat?", "hay"]
    body = json.dumps({"model": MODEL, "input": texts})
    out = subprocess.run(["curl", "-s", "-m", str(SECONDS), host + "/api/embed", "-d", body],
                         capture_output=True, text=True, check=True).stdout
    vectors = json.loads(out)["embeddings"]
    bad = wrong(texts, vectors)
    print(f"  curl {host}/api/embed -d '{body}'")
    print(f"  -> {len(vectors)} vectors of {len(vectors[0]) if vectors else 0}; checked against herd-sim's rule: "
          f"{len(texts) - bad} right, {bad} wrong")
    return bad


def main(argv):
    herd_exe, sim_exe = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        try:
            procs.append(subprocess.Popen([sim_exe, "--node", "gpu", "--node", "cpu", "--node", "cpu",
                                           "--ports-file", os.path.join(tmp, "nodes")], stdout=subprocess.DEVNULL))
            urls = wait_for_file(os.path.join(tmp, "nodes"), procs[0])
            procs.append(subprocess.Popen([herd_exe, "serve", "--listen", "127.0.0.1:0", "--nodes", ",".join(urls),
                                           "--model", MODEL, "--port-file", os.path.join(tmp, "serve")],
                                          stderr=subprocess.DEVNULL))
            host = "http://127.0.0.1:" + wait_for_file(os.path.join(tmp, "serve"), procs[1])[0]
            print(f"\nherd serve on {host}, an Ollama endpoint for 3 simulated nodes (gpu, cpu, cpu)")
            bad = with_ollama(host) if ollama else with_curl(host)
        finally:
            for p in reversed(procs):
                p.terminate()
                p.wait()
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
