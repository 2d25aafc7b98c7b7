# Shared by the observability tests (sourced): a busy herd-sim cluster and
# `herd embed --metrics-listen` over it, all on 127.0.0.1, cleaned up on exit.
# Needs HERD_CLI_EXE and HERD_SIM_EXE (ctest sets them).
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/herd-observe-XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

for exe in "${HERD_CLI_EXE:-}" "${HERD_SIM_EXE:-}"; do
    [ -x "$exe" ] || fail "not built: '$exe' (HERD_CLI_EXE and HERD_SIM_EXE name herd and herd-sim)"
done

# skip_without PROGRAM WHY: exit 77 (ctest: skipped) when PROGRAM is missing.
skip_without() {
    command -v "$1" >/dev/null || { echo "skipped: $1 not installed ($2)"; exit 77; }
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s, bounded.
wait_for() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.2
    done
}

# A free loopback port (the kernel's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_cluster CONFIG_JSON: herd-sim from a config; sets nodes (comma list).
start_cluster() {
    echo "$1" >"$work/cluster.json"
    "$HERD_SIM_EXE" --config "$work/cluster.json" --ports-file "$work/ports" >"$work/sim.out" 2>&1 &
    pids+=($!)
    wait_for 20 test -s "$work/ports" || fail "herd-sim did not start: $(cat "$work/sim.out")"
    nodes=$(paste -sd, "$work/ports")
}

# start_embed TEXTS: `herd embed --metrics-listen` over the cluster with a
# corpus of TEXTS lines; sets base (http://127.0.0.1:PORT).
start_embed() {
    seq 1 "$1" | sed 's/.*/text number & of the corpus, long enough to cost the node some work/' >"$work/corpus.txt"
    local port
    port=$(free_port)
    "$HERD_CLI_EXE" embed --nodes "$nodes" --model all-minilm --dimensions 8 --quiet --give-up 600 \
        --metrics-listen "127.0.0.1:$port" "$work/corpus.txt" >/dev/null 2>"$work/embed.err" &
    pids+=($!)
    base="http://127.0.0.1:$port"
    wait_for 20 curl -sf -o /dev/null "$base/metrics" || fail "no metrics at $base: $(cat "$work/embed.err")"
}

# json_field URL EXPRESSION: evaluates a Python expression over the JSON at URL (as j).
json_field() {
    curl -sf "$1" | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)"
}
