#!/usr/bin/env bash
# herd next to the usual clients, in one run, on the same herd-sim nodes:
# builds bench_client and herd-sim, makes bench/compare/.venv with aiohttp
# and httpx from PyPI (the only thing fetched), then runs compare.py, which
# prints the tables (see its header for what each line is). A few minutes.
#
#   bench/compare/run.sh [--seconds 5] [--texts 5000] [--smoke]
#
# Env: HERD_BUILD_DIR (default build) is configured with
# -DCMAKE_BUILD_TYPE=Release when it does not exist yet; JOBS (default 1)
# for the build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${HERD_BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac

"$root/scripts/setup"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" ||
  echo "run.sh: note: $build is not a Release build; numbers will be pessimistic" >&2
cmake --build "$build" -j "${JOBS:-1}" --target bench_client herd-sim >/dev/null

venv=$here/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiohttp, httpx' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check aiohttp httpx
fi
"$venv/bin/python" -c 'import aiohttp, httpx, sys; print("python", sys.version.split()[0], "aiohttp", aiohttp.__version__, "httpx", httpx.__version__)'

exec "$venv/bin/python" "$here/compare.py" --client "$build/bench/bench_client" --sim "$build/src/sim/herd-sim" \
  --lua "$root/bench/wrk_embed.lua" "$@"
