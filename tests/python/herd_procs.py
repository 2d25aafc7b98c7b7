"""Starting herd programs from Python tests and benchmarks."""

import os
import time


def wait_for_file(path, proc, seconds=20):
    """The whitespace-separated words of `path` once a program (`proc`)
    wrote it (herd-sim --ports-file, herd serve --port-file); raises when
    the program exits first or `seconds` pass."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read().split()
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{path} never appeared")
