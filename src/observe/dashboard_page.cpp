// The dashboard: one page, everything inline (no file, font or script is
// fetched from elsewhere, so it works offline). It polls
// GET /api/herd/stats every second; the throughput chart draws the pool's
// own per-second history (pool_stats::throughput_history).
#include "observe/dashboard_page.hpp"

namespace herd::observe {

std::string_view dashboard_page() noexcept {
    return R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>herd dashboard</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --dim: #6a7383; --ok: #1f9d55; --bad: #d64545;
          --warn: #d98e04; --line: #e3e6eb; --accent: #3867d6; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
         background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px; background: var(--ink); color: #fff; }
  header h1 { margin: 0; font-size: 18px; }
  header .dim { color: #aab2c0; }
  main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: 2fr 1fr; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--dim); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--dim); font-size: 12px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
  .healthy .badge { background: var(--ok); } .degraded .badge { background: var(--warn); }
  .ejected .badge { background: var(--bad); }
  tr.ejected td { background: #fdf0f0; }
  .bar { height: 8px; background: var(--line); border-radius: 4px; min-width: 80px; }
  .bar > div { height: 8px; background: var(--accent); border-radius: 4px; }
  .big { font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
  .tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
  .tile .v { font-size: 20px; font-weight: 700; font-variant-numeric: tabular-nums; }
  .tile .k { color: var(--dim); font-size: 12px; }
  svg { width: 100%; height: 180px; display: block; }
  #events { max-height: 260px; overflow: auto; font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
  #events div { border-bottom: 1px dotted var(--line); padding: 2px 0; }
  .ev-node_ejected, .ev-attempt_failed { color: var(--bad); } .ev-node_readmitted { color: var(--ok); }
  .ev-limit_decreased, .ev-batch_given_back { color: var(--warn); }
  #status.stale { color: var(--bad); }
</style>
</head>
<body>
<header><h1>herd</h1><span class="dim" id="summary">connecting...</span>
  <span class="dim" id="status"></span></header>
<main>
  <section>
    <h2>Cluster throughput (embeddings/s)</h2>
    <div><span class="big" id="rate">0</span> <span class="dim">/s now</span></div>
    <svg id="chart" viewBox="0 0 600 180" preserveAspectRatio="none" aria-label="throughput chart">
      <polyline id="chart-line" fill="none" stroke="#3867d6" stroke-width="2" points=""></polyline>
    </svg>
    <div class="dim" id="chart-caption">waiting for samples</div>
  </section>
  <section>
    <h2>Calls</h2>
    <div class="tiles">
      <div class="tile"><div class="v" id="calls">0</div><div class="k">calls</div></div>
      <div class="tile"><div class="v" id="inputs">0</div><div class="k">texts embedded</div></div>
      <div class="tile"><div class="v" id="failed">0</div><div class="k">failed calls</div></div>
      <div class="tile"><div class="v" id="retries">0</div><div class="k">retries</div></div>
      <div class="tile"><div class="v" id="hedges">0 / 0</div><div class="k">hedges won / sent</div></div>
      <div class="tile"><div class="v" id="errors">0</div><div class="k">node errors</div></div>
      <div class="tile"><div class="v" id="given-back">0</div><div class="k">batches given back</div></div>
      <div class="tile"><div class="v" id="backups">0</div><div class="k">backup tasks</div></div>
      <div class="tile"><div class="v" id="budget">0</div><div class="k">retry budget left</div></div>
    </div>
  </section>
  <section class="wide">
    <h2>Nodes</h2>
    <table>
      <thead><tr><th>node</th><th>health</th><th>models loaded</th><th class="num">limit</th>
        <th class="num">in flight</th><th class="num">queued</th><th class="num">p50</th><th class="num">p99</th>
        <th class="num">emb/s</th><th>share of work</th><th class="num">failures</th><th>last error</th></tr></thead>
      <tbody id="nodes"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Recent events</h2>
    <div id="events"></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const ms = (s) => s >= 1 ? s.toFixed(2) + " s" : (s * 1000).toFixed(1) + " ms";
function text(el, value) { if (el.textContent !== String(value)) el.textContent = String(value); }
function cell(row, value, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = value;
  row.appendChild(td);
  return td;
}
function health(n) {
  if (n.ejected) return "ejected";
  if (n.success_rate < 0.9) return "degraded";
  return "healthy";
}
function renderNodes(s) {
  const body = $("nodes");
  const total = s.nodes.reduce((a, n) => a + n.inputs, 0);
  body.replaceChildren();
  for (const n of s.nodes) {
    const row = document.createElement("tr");
    const state = health(n);
    row.className = "node " + state;
    row.dataset.url = n.url;
    row.dataset.state = state;
    cell(row, n.url);
    const h = cell(row, "");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = state + (n.ejections ? " (" + n.ejections + "x ejected)" : "");
    h.appendChild(badge);
    const loaded = n.models.filter((m) => m.loaded).map((m) => m.name + (m.on_gpu ? " (GPU)" : ""));
    cell(row, loaded.length ? loaded.join(", ") : "-");
    cell(row, n.concurrency_limit, "num");
    cell(row, n.in_flight, "num");
    cell(row, n.queued, "num");
    cell(row, ms(n.latency_p50), "num");
    cell(row, ms(n.latency_p99), "num");
    cell(row, Math.round(n.embeddings_per_second), "num");
    const share = total ? n.inputs / total : 0;
    const sc = cell(row, "");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.title = (share * 100).toFixed(1) + "%";
    const fill = document.createElement("div");
    fill.style.width = (share * 100).toFixed(1) + "%";
    bar.appendChild(fill);
    sc.appendChild(bar);
    sc.appendChild(document.createTextNode(" " + (share * 100).toFixed(0) + "%"));
    cell(row, n.failures, "num");
    cell(row, n.last_error || "-");
    body.appendChild(row);
  }
}
function renderChart(s) {
  // Texts per second over the last minutes, kept by the pool (the last
  // second is still counting: left out).
  const h = s.throughput_history.slice(0, -1);
  if (h.length < 2) return;
  const top = Math.max(1, ...h) * 1.1;
  $("chart-line").setAttribute("points", h.map((v, i) =>
    (i / (h.length - 1) * 600).toFixed(1) + "," + (180 - v / top * 180).toFixed(1)).join(" "));
  text($("chart-caption"), "last " + Math.round(h.length / 60) + " minutes, one point a second, peak " +
       Math.max(...h) + "/s");
}
function renderEvents(s) {
  const box = $("events");
  box.replaceChildren();
  for (const e of s.events.slice().reverse()) {
    const d = document.createElement("div");
    d.className = "event ev-" + e.event;
    d.textContent = e.time.substring(11, 23) + "  " + e.event + (e.node ? "  " + e.node : "") +
      (e.model ? "  model " + e.model : "") + (e.request_id ? "  request " + e.request_id : "") +
      (e.detail ? "  " + e.detail : "");
    box.appendChild(d);
  }
  if (!s.events.length) box.textContent = "no events yet";
}
function render(s) {
  // The pool's own rate over its last 10 s: polls closer together than
  // the nodes answer would see no change and show a false zero.
  const rate = s.embeddings_per_second;
  text($("rate"), Math.round(rate));
  $("rate").dataset.rate = rate;
  text($("calls"), s.calls);
  text($("inputs"), s.inputs);
  text($("failed"), s.failed_calls);
  text($("retries"), s.retries);
  text($("hedges"), s.hedges_won + " / " + s.hedges_sent);
  text($("errors"), s.nodes.reduce((a, n) => a + n.failures, 0));
  text($("given-back"), s.batches_given_back);
  text($("backups"), s.backup_tasks);
  text($("budget"), Math.floor(s.retry_budget_left));
  const usable = s.nodes.filter((n) => !n.ejected).length;
  text($("summary"), s.nodes.length + " nodes, " + usable + " usable");
  renderNodes(s);
  renderChart(s);
  renderEvents(s);
}
async function poll() {
  try {
    const r = await fetch("/api/herd/stats", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    $("status").className = "";
    text($("status"), "updated " + new Date().toLocaleTimeString());
  } catch (e) {
    $("status").className = "stale";
    text($("status"), "no answer from herd: " + e.message);
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
)page";
}

} // namespace herd::observe
