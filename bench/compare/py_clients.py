#!/usr/bin/env python3
"""The Python clients herd is compared with (bench/compare/compare.py).

What people use for Ollama batch work, written the way their guides do:

  aiohttp  asyncio + aiohttp, one ClientSession, an asyncio.Semaphore
           bounding the requests in flight, asyncio.gather over every task.
  httpx    httpx.Client (HTTP/1.1, its connection pool) driven by a
           ThreadPoolExecutor with 2 workers per node (the setup SOLLOL's
           users publish).

Modes (same as bench_client's):
  single  one text per /api/embed request, `--calls` requests of 100-byte
          texts cycling over `--distinct` texts, over the nodes round-robin.
  batch   `--texts` texts cut into requests of `--batch` texts, request i to
          node i % nodes (round-robin: these clients know nothing of node
          speed).

Prints one JSON line: embeddings, requests, seconds, rate (embeddings/s),
p50_ms/p99_ms of one request, cpu_s (this process's user+system CPU during
the measured part). Every vector is decoded from JSON into Python floats.
"""

import argparse
import json
import resource
import sys
import time


def text_for(i, length):
    # Same texts as bench/support/bench_support.hpp text_for().
    filler = ("llamas graze on the high plains of the andes and carry loads "
              "for the people who keep them; ")
    s = "text %d: " % i
    while len(s) < length:
        s += filler[: min(len(filler), length - len(s))]
    return s


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def quantile(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    k = int(q * (len(v) - 1) + 0.5)
    return v[min(k, len(v) - 1)]


def plan(args):
    """The list of (node index, [texts]) requests to send, in order."""
    nodes = len(args.nodes)
    if args.mode == "single":
        texts = [text_for(i, args.bytes) for i in range(args.distinct)]
        return [(i % nodes, [texts[i % len(texts)]]) for i in range(args.calls)]
    texts = [text_for(i, args.bytes) for i in range(args.texts)]
    chunks = [texts[k:k + args.batch] for k in range(0, len(texts), args.batch)]
    return [(i % nodes, c) for i, c in enumerate(chunks)]


def body(model, texts):
    return {"model": model, "input": texts if len(texts) > 1 else texts[0]}


def report(name, args, embeddings, requests, seconds, latencies, cpu, dim):
    print(json.dumps({
        "client": name, "mode": args.mode, "embeddings": embeddings, "requests": requests,
        "dim": dim, "seconds": round(seconds, 6),
        "rate": round(embeddings / seconds, 3) if seconds > 0 else 0.0,
        "p50_ms": round(quantile(latencies, 0.5) * 1e3, 4),
        "p99_ms": round(quantile(latencies, 0.99) * 1e3, 4),
        "cpu_s": round(cpu, 4),
    }), flush=True)


def run_aiohttp(args):
    import asyncio
    import aiohttp

    work = plan(args)
    urls = [u.rstrip("/") + "/api/embed" for u in args.nodes]

    async def main():
        sem = asyncio.Semaphore(args.concurrency)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        latencies, got = [], {"embeddings": 0, "requests": 0, "dim": 0}
        deadline = time.monotonic() + args.seconds
        async with aiohttp.ClientSession(connector=connector) as session:
            async def one(node, texts):
                async with sem:
                    if time.monotonic() > deadline:
                        return
                    t0 = time.perf_counter()
                    async with session.post(urls[node], json=body(args.model, texts)) as r:
                        r.raise_for_status()
                        data = await r.json()
                    latencies.append(time.perf_counter() - t0)
                    vectors = data["embeddings"]
                    if len(vectors) != len(texts):
                        raise RuntimeError("wrong number of embeddings")
                    got["embeddings"] += len(vectors)
                    got["requests"] += 1
                    got["dim"] = len(vectors[0])

            # Warm-up: connections open (not measured).
            await asyncio.gather(*(one(n, t) for n, t in work[: args.warmup]))
            latencies.clear()
            got.update(embeddings=0, requests=0)
            deadline = time.monotonic() + args.seconds
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            await asyncio.gather(*(one(n, t) for n, t in work))
            seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        report("aiohttp", args, got["embeddings"], got["requests"], seconds, latencies, cpu, got["dim"])

    asyncio.run(main())


def run_httpx(args):
    import threading
    from concurrent.futures import ThreadPoolExecutor
    import httpx

    work = plan(args)
    urls = [u.rstrip("/") + "/api/embed" for u in args.nodes]
    workers = 2 * len(args.nodes)
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    lock = threading.Lock()
    latencies, got = [], {"embeddings": 0, "requests": 0, "dim": 0}
    deadline = [0.0]

    with httpx.Client(http1=True, http2=False, limits=limits, timeout=120) as client:
        def one(item):
            node, texts = item
            if time.monotonic() > deadline[0]:
                return
            t0 = time.perf_counter()
            r = client.post(urls[node], json=body(args.model, texts))
            r.raise_for_status()
            vectors = r.json()["embeddings"]
            dt = time.perf_counter() - t0
            if len(vectors) != len(texts):
                raise RuntimeError("wrong number of embeddings")
            with lock:
                latencies.append(dt)
                got["embeddings"] += len(vectors)
                got["requests"] += 1
                got["dim"] = len(vectors[0])

        with ThreadPoolExecutor(max_workers=workers) as pool:
            deadline[0] = time.monotonic() + args.seconds
            list(pool.map(one, work[: args.warmup]))
            latencies.clear()
            got.update(embeddings=0, requests=0)
            deadline[0] = time.monotonic() + args.seconds
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            list(pool.map(one, work))
            seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    report("httpx", args, got["embeddings"], got["requests"], seconds, latencies, cpu, got["dim"])


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("client", choices=["aiohttp", "httpx"])
    p.add_argument("mode", choices=["single", "batch"])
    p.add_argument("--nodes", required=True, help="comma-separated node URLs")
    p.add_argument("--model", default="mxbai-embed-large")
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--distinct", type=int, default=1000)
    p.add_argument("--texts", type=int, default=5000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--bytes", type=int, default=None)
    p.add_argument("--concurrency", type=int, default=64, help="aiohttp: semaphore size")
    p.add_argument("--warmup", type=int, default=0, help="requests before the measured part")
    p.add_argument("--seconds", type=float, default=60, help="stop sending after this long")
    args = p.parse_args(argv)
    args.nodes = [n for n in args.nodes.replace(" ", ",").split(",") if n]
    if args.bytes is None:
        args.bytes = 100 if args.mode == "single" else 200
    {"aiohttp": run_aiohttp, "httpx": run_httpx}[args.client](args)


if __name__ == "__main__":
    main(sys.argv[1:])
