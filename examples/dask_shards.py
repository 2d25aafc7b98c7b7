"""A corpus too large for one client machine: shards as tasks of a Dask cluster.

    python examples/dask_shards.py --herd build/src/cli/herd --nodes URL,URL \\
        --shards 8 --workers 4 --workdir DIR --output out.jsonl corpus.jsonl
    python examples/dask_shards.py ... --scheduler tcp://host:8786   # a running cluster

Each shard is one task, `herd embed --shard i/n --output DIR/shard-i.jsonl
INPUT`, and `herd merge` joins the shard outputs in shard order: the merged
file is byte for byte what one `herd embed` run writes. herd does the node
side (routing, batching, retries) inside each task; Dask does the cluster
side (placing tasks on workers, re-running the task of a worker that died).
A re-run task resumes its shard's output (`herd embed` skips the ids already
written and cuts a torn last record), so nothing is lost or written twice.
With --scheduler, INPUT, --workdir and the herd executable must be at the
same paths on every worker machine (shared storage).

--kill-worker-in-shard K (for tests) makes the worker running shard K kill
itself, once, after its first rows are written.
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time


def _die_with_parent():
    # The herd process must not outlive a killed worker, or it would write
    # the shard's output alongside the re-run task.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def embed_shard(herd, nodes, model, corpus, workdir, index, count, extra, kill_marker=None):
    """One task: shard `index` of `count` into workdir/shard-INDEX.jsonl; returns that path."""
    output = os.path.join(workdir, f"shard-{index:05d}.jsonl")
    command = [herd, "embed", "--quiet", "--nodes", nodes, "--shard", f"{index}/{count}",
               "--output", output, *extra, corpus]
    if model:
        command[3:3] = ["--model", model]
    proc = subprocess.Popen(command, preexec_fn=_die_with_parent, stderr=subprocess.PIPE, text=True)
    if kill_marker and not os.path.exists(kill_marker):
        open(kill_marker, "w").close()
        # Die mid-shard: once a first row is in the output, before the end.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if os.path.exists(output) and os.path.getsize(output) > 0:
                open(kill_marker + ".killed", "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.005)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"shard {index}/{count}: herd embed exited {proc.returncode}: {err.strip()}")
    return output


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--herd", required=True, help="the herd executable")
    ap.add_argument("--nodes", required=True, help="comma-separated node URLs")
    ap.add_argument("--model", default="")
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4, help="local worker processes (without --scheduler)")
    ap.add_argument("--scheduler", default="", help="address of a running Dask scheduler")
    ap.add_argument("--workdir", required=True, help="where the shard outputs go")
    ap.add_argument("--output", required=True)
    ap.add_argument("--kill-worker-in-shard", type=int, default=-1)
    args, extra = ap.parse_known_args(argv)

    from dask.distributed import Client, LocalCluster

    os.makedirs(args.workdir, exist_ok=True)
    herd = os.path.abspath(args.herd)
    corpus = os.path.abspath(args.corpus)
    workdir = os.path.abspath(args.workdir)
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    with client:
        futures = []
        for i in range(args.shards):
            marker = os.path.join(workdir, f"killed-{i}") if i == args.kill_worker_in_shard else None
            futures.append(client.submit(embed_shard, herd, args.nodes, args.model, corpus, workdir, i,
                                         args.shards, extra, marker, key=f"herd-shard-{i}", pure=False))
        shards = client.gather(futures)
    subprocess.run([herd, "merge", "--output", args.output, *shards], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
