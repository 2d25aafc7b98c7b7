#!/usr/bin/env python3
"""Side-by-side comparison of herd with the usual clients, in one run, on the
same herd-sim nodes (run by bench/compare/run.sh, which builds herd and makes
the virtual environment with aiohttp and httpx).

Phase 1, client overhead: one herd-sim `zero` node (answers in microseconds,
so the client is what is measured). Single-text embeds of 100-byte texts:
  herd     pool.embed from 64 coroutines, coalescing off (one request per text)
  herd     pool.embed from 64 coroutines, coalescing on (herd's default)
  aiohttp  asyncio + aiohttp, semaphore of 64
  httpx    httpx.Client + ThreadPoolExecutor, 2 workers per node
  wrk      -t1 -c64 with bench/wrk_embed.lua: the raw HTTP limit (wrk does
           not parse the JSON it receives)
Phase 2, scheduling: herd-sim gpu + cpu + cpu, 5,000 texts of 200 bytes:
  herd     embed_batch
  herd     pool.embed from 256 coroutines (coalescing on)
  aiohttp  requests of 64 texts, round-robin over the nodes, semaphore of 6
  httpx    requests of 64 texts, round-robin, 2 workers per node
Ideal capacity of the cluster: the profiles' expected capacity with requests
of 64 texts (tails included); each client's share of it is printed.

Every herd-sim runs in its own process. Each client runs as its own process
one after another; CPU seconds are the client's own user+system time during
its measured part (wrk: its whole run, from wait4).
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time


def start_sim(sim, nodes, tmp):
    ports = os.path.join(tmp, "ports-%d" % time.monotonic_ns())
    args = [sim]
    for n in nodes:
        args += ["--node", n]
    args += ["--ports-file", ports]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(ports):
            with open(ports) as f:
                urls = [line.strip() for line in f if line.strip()]
            if len(urls) == len(nodes):
                return proc, urls
        if proc.poll() is not None:
            raise RuntimeError("herd-sim exited at start")
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("herd-sim did not start")


def stop_sim(proc):
    proc.terminate()
    proc.wait(timeout=10)


def sim_cpu(proc):
    """CPU seconds the herd-sim process used so far."""
    with open("/proc/%d/stat" % proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_json(cmd, timeout):
    """Runs a client that prints one JSON line; returns it as a dict."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    for line in reversed(r.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("%s printed no result:\n%s" % (" ".join(cmd), r.stdout))


def to_ms(v, unit):
    return {"us": v / 1e3, "ms": v, "s": v * 1e3, "m": v * 60e3}[unit]


def run_wrk(url, conns, seconds, lua):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % max(1, round(seconds)), "--latency", "-s", lua,
           url + "/api/embed"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = r.stdout + r.stderr
    if r.returncode != 0 or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk failed or saw errors:\n" + out)
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in ([0-9.]+)(\w+)", out).group(1))
    pct = {m.group(1): to_ms(float(m.group(2)), m.group(3))
           for m in re.finditer(r"\b(50|99)%\s+([0-9.]+)(us|ms|s|m)\b", out)}
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"client": "wrk", "embeddings": total, "requests": total, "rate": rate, "p50_ms": pct.get("50", 0),
            "p99_ms": pct.get("99", 0), "cpu_s": cpu, "seconds": total / rate if rate else 0}


def profile_capacity(profile, text_bytes, batch=64):
    # Shipped profiles (README, herd-sim): overhead, per input, per byte (s),
    # tail fraction and multiplier.
    p = {"gpu": (0.002, 0.0005, 1.5e-6, 0.01, 10), "cpu": (0.010, 0.0025, 7.5e-6, 0.02, 10)}[profile]
    per_request = p[0] + batch * (p[1] + text_bytes * p[2])
    return batch / (per_request * (1 + p[3] * (p[4] - 1)))


def table(title, rows, ideal=None):
    print("\n" + title)
    head = "%-44s | %9s | %8s | %8s | %8s | %10s | %8s | %8s" % (
        "client", "emb/s", "p50 ms", "p99 ms", "CPU s", "CPU ms/1k", "vs herd", "node CPU")
    if ideal:
        head += " | %8s" % "of ideal"
    print(head)
    print("-" * len(head))
    base = rows[0]["rate"]
    for r in rows:
        cpu_per_k = r["cpu_s"] / r["embeddings"] * 1e6 if r["embeddings"] else 0
        p50 = "%8.2f" % r["p50_ms"] if r.get("p50_ms") else "%8s" % "-"
        p99 = "%8.2f" % r["p99_ms"] if r.get("p99_ms") else "%8s" % "-"
        line = "%-44s | %9.0f | %s | %s | %8.3f | %10.1f | %7.2fx | %7.0f%%" % (
            r["label"], r["rate"], p50, p99, r["cpu_s"], cpu_per_k, r["rate"] / base if base else 0,
            100 * r.get("node_cpu", 0))
        if ideal:
            line += " | %7.1f%%" % (100 * r["rate"] / ideal)
        print(line)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True, help="bench_client executable")
    ap.add_argument("--sim", required=True, help="herd-sim executable")
    ap.add_argument("--lua", required=True, help="bench/wrk_embed.lua")
    ap.add_argument("--python", default=sys.executable, help="python of the venv with aiohttp and httpx")
    ap.add_argument("--seconds", type=float, default=5, help="length of each phase-1 measurement")
    ap.add_argument("--texts", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes")
    args = ap.parse_args(argv)
    if args.smoke:
        args.seconds, args.texts = 1, 300
    here = os.path.dirname(os.path.abspath(__file__))
    py = [args.python, os.path.join(here, "py_clients.py")]
    secs = "%g" % args.seconds
    conc = str(args.concurrency)
    print("herd comparison, %s, %d cores, load average %.2f" % (
        time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), os.getloadavg()[0]))

    with tempfile.TemporaryDirectory(prefix="herd-compare-") as tmp:
        # Phase 1: one zero node.
        proc, urls = start_sim(args.sim, ["zero"], tmp)
        try:
            url = urls[0]
            # Warm herd-sim's vector cache with the 1000 texts every client uses.
            run_json([args.client, "single", "--nodes", url, "--calls", "1000", "--callers", "16",
                      "--warmup", "0", "--label", "warm-up"], 120)
            calls = str(10**7)
            clients = [
                ("herd pool.embed, %s coroutines, coalesce off" % conc,
                 [args.client, "single", "--nodes", url, "--calls", calls, "--callers", conc, "--coalesce", "0",
                  "--seconds", secs]),
                ("herd pool.embed, %s coroutines, coalesce on" % conc,
                 [args.client, "single", "--nodes", url, "--calls", calls, "--callers", conc, "--coalesce", "1",
                  "--seconds", secs]),
                ("aiohttp + semaphore(%s)" % conc,
                 py + ["aiohttp", "single", "--nodes", url, "--calls", str(int(4000 * args.seconds)),
                       "--concurrency", conc, "--warmup", "100", "--seconds", secs]),
                ("httpx + ThreadPoolExecutor(2 per node)",
                 py + ["httpx", "single", "--nodes", url, "--calls", str(int(4000 * args.seconds)),
                       "--warmup", "100", "--seconds", secs]),
            ]
            rows = []
            for label, cmd in clients:
                c0 = sim_cpu(proc)
                r = run_json(cmd, args.seconds * 4 + 60)
                r["node_cpu"] = (sim_cpu(proc) - c0) / r["seconds"] if r["seconds"] else 0
                r["label"] = label
                rows.append(r)
            c0 = sim_cpu(proc)
            w = run_wrk(url, args.concurrency, args.seconds, args.lua)
            w["node_cpu"] = (sim_cpu(proc) - c0) / max(args.seconds, 1)
            w["label"] = "wrk -t1 -c%s (raw HTTP, body not parsed)" % conc
            rows.append(w)
        finally:
            stop_sim(proc)
        table("Client overhead: single-text embeds (1024 floats each) on one herd-sim zero node", rows)
        herd_rate = rows[0]["rate"]
        print("herd (coalesce off) vs wrk: %.0f%% of wrk's requests/s; vs aiohttp %.1fx, vs httpx %.1fx" % (
            100 * herd_rate / w["rate"], herd_rate / rows[2]["rate"], herd_rate / rows[3]["rate"]))

        # Phase 2: gpu + cpu + cpu.
        proc, urls = start_sim(args.sim, ["gpu", "cpu", "cpu"], tmp)
        try:
            nodes = ",".join(urls)
            texts = str(args.texts)
            clients = [
                ("herd embed_batch", [args.client, "batch", "--nodes", nodes, "--texts", texts]),
                ("herd pool.embed, 256 coroutines, coalesce on",
                 [args.client, "single", "--nodes", nodes, "--calls", texts, "--callers", "256", "--coalesce",
                  "1", "--bytes", "200", "--distinct", texts, "--warmup", "0"]),
                ("aiohttp, 64-text requests round-robin, sem(6)",
                 py + ["aiohttp", "batch", "--nodes", nodes, "--texts", texts, "--batch", "64",
                       "--concurrency", "6"]),
                ("httpx, 64-text requests round-robin, 2/node",
                 py + ["httpx", "batch", "--nodes", nodes, "--texts", texts, "--batch", "64"]),
            ]
            rows = []
            for label, cmd in clients:
                c0 = sim_cpu(proc)
                r = run_json(cmd, 600)
                r["node_cpu"] = (sim_cpu(proc) - c0) / r["seconds"] if r["seconds"] else 0
                r["label"] = label
                rows.append(r)
        finally:
            stop_sim(proc)
        ideal = profile_capacity("gpu", 200) + 2 * profile_capacity("cpu", 200)
        table("Scheduling: %d texts of 200 bytes on herd-sim gpu + cpu + cpu (ideal %.0f texts/s = %.2f s)" % (
            args.texts, ideal, args.texts / ideal), rows, ideal)
    print("\nCPU s = the client's own CPU during its measured part (wrk: whole run); node CPU = herd-sim's CPU "
          "share during the run; vs herd = emb/s / first line's emb/s. load average at end %.2f" %
          os.getloadavg()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
