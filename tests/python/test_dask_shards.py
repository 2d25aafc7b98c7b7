"""examples/dask_shards.py on a local Dask cluster of 4 worker processes against
herd-sim nodes: the merged output is byte-identical to one `herd embed` run,
and the shard whose worker was killed mid-shard is re-run without loss.

    test_dask_shards.py HERD HERD_SIM EXAMPLE
"""
import json
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77


def main():
    herd, sim, example = sys.argv[1:4]
    try:
        import dask.distributed  # noqa: F401
    except ImportError as e:
        print(f"skipped: dask.distributed is not importable ({e}); run scripts/python-env")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="herd-dask-") as tmp:
        ports = os.path.join(tmp, "ports")
        # gpu + cpu, 20x faster than the profiles: a shard takes a fraction of a second.
        node = subprocess.Popen([sim, "--node", "gpu", "--node", "cpu", "--time-scale", "0.05",
                                 "--ports-file", ports], stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(ports) and os.path.getsize(ports) > 0:
                    break
                time.sleep(0.05)
            nodes = ",".join(open(ports).read().split())
            corpus = os.path.join(tmp, "corpus.jsonl")
            with open(corpus, "w") as f:
                for i in range(3001):
                    f.write(json.dumps({"id": f"doc-{i}", "text": f"paragraph {i} " + "lorem ipsum " * (i % 7)}) + "\n")
            common = ["--model", "all-minilm", "--nodes", nodes]
            single = os.path.join(tmp, "single.jsonl")
            subprocess.run([herd, "embed", "--quiet", *common, "--output", single, corpus], check=True)
            merged = os.path.join(tmp, "merged.jsonl")
            work = os.path.join(tmp, "shards")
            started = time.monotonic()
            subprocess.run([sys.executable, example, "--herd", herd, *common, "--shards", "8", "--workers", "4",
                            "--workdir", work, "--output", merged, "--kill-worker-in-shard", "3", corpus],
                           check=True, timeout=240)
            print(f"dask run took {time.monotonic() - started:.1f} s")
        finally:
            node.terminate()
            node.wait()
        failures = []
        if not os.path.exists(os.path.join(work, "killed-3.killed")):
            failures.append("the worker running shard 3 was not killed mid-shard")
        for a, b in [(single, merged), (single + ".herd.json", merged + ".herd.json")]:
            if open(a, "rb").read() != open(b, "rb").read():
                failures.append(f"{os.path.basename(b)} differs from {os.path.basename(a)}")
        rows = sum(1 for _ in open(merged))
        if rows != 3001:
            failures.append(f"merged output has {rows} rows, not 3001")
        for f in failures:
            print("FAIL:", f)
        if failures:
            return 1
        print("merged output byte-identical to a single run; killed shard re-run without loss")
        return 0


if __name__ == "__main__":
    sys.exit(main())
