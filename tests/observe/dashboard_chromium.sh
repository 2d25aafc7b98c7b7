#!/usr/bin/env bash
# Debian's headless Chromium opens the dashboard of `herd embed
# --metrics-listen` while it embeds a corpus on a busy herd-sim cluster with
# one failing node (loopback only): the DOM must show every node, a non-zero
# rate and the failing node marked ejected. The screenshot is kept as
# $HERD_BUILD_DIR/dashboard.png.
source "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "skipped: chromium not installed (scripts/setup installs Debian's chromium)"; exit 77; }

start_cluster '{"time_scale": 2, "nodes": [{"profile": "gpu"}, {"profile": "cpu"}, {"profile": "cpu"},
                {"profile": "cpu", "faults": {"refuse": true}}]}'
start_embed 200000
failing=$(sed -n 4p "$work/ports")

# Busy, and the failing node found out, before the browser looks. "Busy"
# includes a finished second with texts in the history: the chart leaves
# out the second still counting, and a rate from that second alone drew a
# flat chart (seen once with the suite running two tests at a time).
ready() {
    [ "$(json_field "$base/api/herd/stats" "j['embeddings_per_second'] > 0 and \
any(v > 0 for v in j['throughput_history'][:-1]) and \
any(n['ejected'] for n in j['nodes'] if n['url'] == '$failing')")" = True ]
}
wait_for 60 ready || fail "the cluster is not busy or the failing node not ejected: $(curl -s "$base/api/herd/stats")"

chrome() {
    # --no-sandbox: the tests may run as root; the page is herd's own, on loopback.
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$work/chromium" --virtual-time-budget=4000 --window-size=1400,900 "$@" 2>>"$work/chromium.log"
}
chrome --dump-dom "$base/dashboard" >"$work/dom.html" || fail "chromium failed: $(tail -5 "$work/chromium.log")"

python3 - "$work/dom.html" "$nodes" "$failing" <<'PY'
import html.parser, sys
dom, nodes, failing = open(sys.argv[1]).read(), sys.argv[2].split(","), sys.argv[3]
rows, rate, chart = {}, None, ""
class Reader(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        global rate, chart
        a = dict(attrs)
        if tag == "tr" and "node" in a.get("class", "").split():
            rows[a.get("data-url")] = a.get("data-state")
        if a.get("id") == "rate":
            rate = float(a.get("data-rate", "0"))
        if a.get("id") == "chart-line":
            chart = a.get("points", "")
Reader().feed(dom)
print("nodes in the DOM:", rows)
print("rate in the DOM:", rate)
missing = [n for n in nodes if n not in rows]
assert not missing, f"nodes missing from the dashboard: {missing}"
assert rows[failing] == "ejected", f"the failing node {failing} is shown as {rows[failing]}"
assert all(rows[n] != "ejected" for n in nodes if n != failing), "a healthy node is shown ejected"
assert rate is not None and rate > 0, f"the dashboard shows rate {rate}"
heights = [float(p.split(",")[1]) for p in chart.split()]
assert heights and min(heights) < 180, f"the throughput chart is flat: {chart[:200]}"
PY

shot=${HERD_BUILD_DIR:-$work}/dashboard.png
chrome --screenshot="$shot" --hide-scrollbars "$base/dashboard" >/dev/null || fail "no screenshot: $(tail -5 "$work/chromium.log")"
[ "$(stat -c %s "$shot")" -gt 10000 ] || fail "the screenshot $shot is nearly empty"
echo "screenshot: $shot"
echo "ok"
