-- wrk script: one 1024-dim embed per request, the request herd-sim's "zero"
-- profile is measured with (README: herd-sim, "Speed").
--   wrk -t1 -c16 -d5s -s bench/wrk_embed.lua http://127.0.0.1:PORT/api/embed
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mxbai-embed-large","input":"hello world"}'
