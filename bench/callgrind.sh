#!/usr/bin/env bash
# Client instructions per embed, independent of machine noise: runs
# bench_client under `valgrind --tool=callgrind` for a fixed number of
# single-text pool.embed calls (1024-dim vectors) against a herd-sim `zero`
# node running in its own process (not under valgrind), and prints the
# instructions (Ir) of the measured calls divided by their number. Only the
# measured loop is instrumented (--instr-atstart=no plus the client's
# CALLGRIND_START/STOP_INSTRUMENTATION); start-up and warm-up are not.
#
#   bench/callgrind.sh [--calls 2000] [--callers 16] [--client PATH] [--smoke]
#
# Env: HERD_BUILD_DIR (default build) locates bench_client and herd-sim;
# HERD_SIM overrides herd-sim. (perf stat would do too where hardware
# counters work; on this VM they are "not supported".)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${HERD_BUILD_DIR:-$here/../build}
client=$build/bench/bench_client
calls=2000
callers=16
warmup=200
smoke=0
while (($#)); do
  case $1 in
    --calls) calls=$2; shift 2 ;;
    --callers) callers=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --smoke) smoke=1; calls=50; warmup=20; shift ;;
    *) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
sim=${HERD_SIM:-$build/src/sim/herd-sim}
[ -x "$client" ] || { echo "callgrind.sh: no $client (build target bench_client)" >&2; exit 2; }
[ -x "$sim" ] || { echo "callgrind.sh: no $sim (build target herd-sim)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/herd-callgrind-XXXXXX)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$sim" --node zero --ports-file "$tmp/ports" >/dev/null &
sim_pid=$!
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
url=$(head -n1 "$tmp/ports")
[ -n "$url" ] || { echo "callgrind.sh: herd-sim did not start" >&2; exit 1; }

if ! command -v valgrind >/dev/null; then
  if ((smoke)); then
    # The smoke run only checks that the client works.
    "$client" single --nodes "$url" --calls "$calls" --callers "$callers" --coalesce 0 --warmup "$warmup"
    echo "callgrind.sh: valgrind not installed; ran the client natively (smoke)"
    exit 0
  fi
  echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi

# Ir of the measured section of one run, as one table row.
measure() { # name coalesce hedge
  local out=$tmp/cg.${1// /_}
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    "$client" single --nodes "$url" --calls "$calls" --callers "$callers" --coalesce "$2" --hedge "$3" \
    --warmup "$warmup" --seconds 600 --label "herd ($1)" >"$out.json" 2>"$out.log" || {
    cat "$out.log" >&2
    exit 1
  }
  local ir
  # "totals:" is the whole run's count ("summary:" can read 0 when
  # instrumentation starts late).
  ir=$(grep -E '^totals:' "$out" | head -n1 | awk '{print $2}')
  [ -n "$ir" ] || ir=$(grep -E '^summary:' "$out" | head -n1 | awk '{print $2}')
  local requests
  requests=$(sed -E 's/.*"requests": ([0-9]+).*/\1/' "$out.json")
  local dim
  dim=$(sed -E 's/.*"dim": ([0-9]+).*/\1/' "$out.json")
  printf '%-22s | %6d | %8d | %4d | %14d | %12d | %12d\n' "$1" "$calls" "$requests" "$dim" "$ir" \
    $((ir / calls)) $((ir / (requests > 0 ? requests : 1)))
}

echo "instructions per pool.embed (callgrind Ir of the measured calls only), $callers callers,"
echo "herd-sim zero node in its own process at $url, $(date -u +%F)"
printf '%-22s | %6s | %8s | %4s | %14s | %12s | %12s\n' "pool_config" calls requests dim "Ir total" "Ir/embed" "Ir/request"
echo "-----------------------------------------------------------------------------------------------"
measure "coalesce off" 0 1
((smoke)) && exit 0
measure "coalesce off, no hedge" 0 0
measure "coalesce on" 1 1
