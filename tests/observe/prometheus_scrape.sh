#!/usr/bin/env bash
# Debian's Prometheus scrapes `herd embed --metrics-listen` while it embeds a
# corpus on a busy herd-sim cluster (loopback only): after two scrapes its
# HTTP API must show a series per node, a grown embeddings counter and a
# non-zero rate().
source "$(dirname "$0")/lib.sh"
skip_without prometheus "scripts/setup installs Debian's prometheus"

start_cluster '{"time_scale": 2, "nodes": [{"profile": "gpu"}, {"profile": "cpu"}, {"profile": "cpu"}]}'
start_embed 200000
target=${base#http://}

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: herd
    static_configs:
      - targets: ["$target"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"

# query PROMQL: the result vector as JSON lines "labels value".
query() {
    curl -sf --get "$api/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys
for r in json.load(sys.stdin)["data"]["result"]: print(json.dumps(r["metric"], sort_keys=True), r["value"][1])'
}
scrapes() { query 'count_over_time(herd_inputs_total[5m])' | awk '{print $NF}'; }
two_scrapes() { local n; n=$(scrapes 2>/dev/null); [ -n "$n" ] && [ "$n" -ge 2 ]; }
wait_for 60 two_scrapes || fail "Prometheus did not scrape herd twice: $(tail -5 "$work/prometheus.log")"
echo "scrapes so far: $(scrapes)"

series=$(query 'herd_node_inputs_total')
echo "$series"
for node in ${nodes//,/ }; do
    grep -qF "\"node\": \"$node\"" <<<"$series" || fail "no herd_node_inputs_total series for $node"
done
for family in herd_node_request_duration_seconds_bucket herd_node_concurrency_limit herd_node_in_flight_requests \
              herd_node_ejected herd_node_model_loaded herd_retry_budget_available herd_coalesced_batch_texts_count; do
    [ -n "$(query "$family")" ] || fail "no series of $family"
done
grew=$(query 'max_over_time(herd_inputs_total[5m]) - min_over_time(herd_inputs_total[5m])' | awk '{print $NF}')
echo "herd_inputs_total grew by $grew"
python3 -c "import sys; sys.exit(0 if float('$grew') > 0 else 1)" || fail "the embeddings counter did not grow"
rate=$(query 'rate(herd_inputs_total[1m])' | awk '{print $NF}')
echo "rate(herd_inputs_total[1m]) = $rate"
python3 -c "import sys; sys.exit(0 if float('$rate') > 0 else 1)" || fail "rate() is zero"
p99=$(query 'histogram_quantile(0.99, sum by (le) (rate(herd_node_request_duration_seconds_bucket[1m])))' | awk '{print $NF}')
echo "p99 latency from the histogram: $p99 s"
echo "ok"
