-- wrk script: one single-text embed per request (1024-dim with
-- mxbai-embed-large), the raw HTTP limit herd is compared with
-- (bench/scenario_vs_wrk.cpp, bench/compare/run.sh).
--   wrk -t1 -c16 -d5s --latency -s bench/wrk_embed.lua http://127.0.0.1:PORT/api/embed
-- HERD_BENCH_MODEL and HERD_BENCH_TEXT override the model and the text.
local model = os.getenv("HERD_BENCH_MODEL")
if model == nil or model == "" then model = "mxbai-embed-large" end
local text = os.getenv("HERD_BENCH_TEXT")
if text == nil or text == "" then text = "hello world" end
-- model and text are plain ASCII without quotes or backslashes here.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"' .. model .. '","input":"' .. text .. '"}'

-- No response() hook: it would make wrk hand every body to Lua, which
-- slows wrk down. Error answers (status >= 400) are counted by wrk itself.
function done(summary, latency, requests)
  io.write(string.format("non-200: %d\n", summary.errors.status))
end
