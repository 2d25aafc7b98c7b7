#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/ (Ollama-shaped replies as
shared/real-ollama/WIRE.md describes them: header order, one-chunk JSON
bodies over 2048 bytes, NDJSON one chunk per line). Seeds captured from
herd-sim are written by capture_sim_seeds.py. Run from anywhere; rewrites
only the files it names.

The targets built on FuzzedDataProvider (http_*, ndjson, jsonl_reader,
resume) take their control values from the END of an input, so each such
seed ends in CONTROL bytes and the stream is the front part."""
import json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))


def control(*consumed):
    """Bytes FuzzedDataProvider consumes from the end, in the order it consumes them."""
    return bytes(reversed(consumed))


# http_*: header limit 4096, body limit 65536, sink, HEAD, four pieces of 8, 2, 34 and 1 bytes.
def http_control(sink=0, head=0):
    return control(0x0F, 0xF0, 0x01, 0x00, 0x00, sink, head, 3, 7, 1, 33, 0)


CONTROL = {
    "http_response": http_control(),
    "http_request": control(0x0F, 0xF0, 0x01, 0x00, 0x00, 0, 3, 7, 1, 33, 0),
    "ndjson": control(0x0F, 0xFF, 3, 7, 1, 33, 0),           # max_line 4096, pieces 8, 2, 34, 1
    "jsonl_reader": control(1, 3, 0),                        # jsonl, windows of 4, nothing in the index
}
DATE = "Date: Mon, 30 Nov 2026 10:00:00 GMT\r\n"


def put(target, name, data, control=True):
    """Writes a seed; `control` True appends the target's CONTROL bytes, bytes appends those."""
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data + (CONTROL[target] if control is True else control or b""))


def ollama_json(status, body, reason="OK"):
    """A JSON reply framed as Ollama frames it."""
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n{DATE}"
    if len(body) <= 2048:
        return f"{head}Content-Length: {len(body)}\r\n\r\n{body}"
    return f"{head}Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n{body}\r\n0\r\n\r\n"


def vectors(rows, dim, seed=1):
    r = random.Random(seed)
    return [[r.uniform(-0.2, 0.2) for _ in range(dim)] for _ in range(rows)]


def embed_body(rows, dim, model="all-minilm-1t"):
    return json.dumps({"model": model, "embeddings": vectors(rows, dim), "total_duration": 14032017,
                       "load_duration": 1025309, "prompt_eval_count": 2 * rows}, separators=(",", ":"))


def ndjson_chat(words, model="smollm2:135m"):
    lines = [json.dumps({"model": model, "created_at": "2026-11-30T10:00:00Z",
                         "message": {"role": "assistant", "content": w}, "done": False}, separators=(",", ":"))
             for w in words]
    lines.append(json.dumps({"model": model, "created_at": "2026-11-30T10:00:01Z",
                             "message": {"role": "assistant", "content": ""}, "done_reason": "stop", "done": True,
                             "total_duration": 512000000, "load_duration": 12000000, "prompt_eval_count": 31,
                             "prompt_eval_duration": 100000000, "eval_count": len(words),
                             "eval_duration": 400000000}, separators=(",", ":")))
    return [l + "\n" for l in lines]


def ndjson_generate(words, model="smollm2:135m"):
    lines = [json.dumps({"model": model, "created_at": "2026-11-30T10:00:00Z", "response": w, "done": False},
                        separators=(",", ":")) for w in words]
    lines.append(json.dumps({"model": model, "response": "", "done": True, "done_reason": "length",
                             "eval_count": len(words)}, separators=(",", ":")))
    return [l + "\n" for l in lines]


def chunked_stream(lines, ctype="application/x-ndjson"):
    out = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n{DATE}Transfer-Encoding: chunked\r\n\r\n"
    for l in lines:
        out += f"{len(l.encode()):x}\r\n{l}\r\n"
    return out + "0\r\n\r\n"


def responses():
    small = embed_body(1, 8)
    put("http_response", "embed_small", ollama_json(200, small))
    put("http_response", "embed_chunked_384", ollama_json(200, embed_body(1, 384)))
    put("http_response", "pipelined_three", ollama_json(200, small) + ollama_json(200, embed_body(2, 8)) +
        ollama_json(404, '{"error":"model \\"x\\" not found, try pulling it first"}', "Not Found"))
    put("http_response", "chunk_ext_trailers",
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
        "Trailer: X-Checksum\r\n\r\n5;name=value;q=\"quoted\"\r\n{\"mod\r\n"
        f"{len(small) - 6:X}\r\n{small[6:]}\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
    put("http_response", "busy_503", ollama_json(
        503, '{"error":"server busy, please try again.  maximum pending requests exceeded"}', "Service Unavailable"))
    put("http_response", "http10_close", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + small)
    put("http_response", "head_then_get", "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 17\r\n\r\n" + ollama_json(200, '{"version":"0.24.0"}'))
    put("http_response", "continue_then_ok", "HTTP/1.1 100 Continue\r\n\r\n" + ollama_json(200, small))
    put("http_response", "chat_stream", chunked_stream(ndjson_chat(["Hello", ",", " world", "!"])))
    put("http_response", "chat_stream_sink", chunked_stream(ndjson_chat(["Hi"])), http_control(sink=1))
    put("http_response", "head_no_body", "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" +
        ollama_json(200, small), http_control(head=1))
    put("http_response", "no_content_204", "HTTP/1.1 204 No Content\r\n\r\n" + ollama_json(200, small))
    put("http_response", "huge_length", "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n{\"embe")
    put("http_response", "tls_hello", bytes.fromhex("160301020001000200030300") + b"\x00" * 40)


def requests():
    body = '{"model":"all-minilm","input":["hello","world"]}'
    req = ("POST /api/embed HTTP/1.1\r\nHost: 127.0.0.1:11434\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n{body}")
    put("http_request", "embed", req)
    put("http_request", "pipelined", req + req + "GET /api/tags HTTP/1.1\r\nHost: x\r\n\r\n")
    put("http_request", "expect_continue", req.replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n", 1))
    put("http_request", "chunked_upload", "POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "10;ext=1\r\n{\"model\":\"smollm\r\n4\r\n2\", \r\n0\r\nX-Trailer: t\r\n\r\n")
    put("http_request", "control_fault", 'POST /_sim/nodes/1/fault HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n'
        '{"hang": true}\r\n')
    put("http_request", "http10_head", "HEAD / HTTP/1.0\r\n\r\n")


def embed():
    put("embed_decode", "minilm_2x8", embed_body(2, 8), control=False)
    put("embed_decode", "minilm_1x384", embed_body(1, 384), control=False)
    put("embed_decode", "empty", '{"model":"m","embeddings":[]}', control=False)
    put("embed_decode", "error", '{"error":"the input length exceeds the context length"}', control=False)
    put("embed_decode", "edge_numbers", '{"model":"m","embeddings":[[0,-0,-0.0,1e-45,1.4e-45,1e-46,3.4028235e38,'
        '1.00000005960464477539062500001,0.1234567890123456789,1E+2,16777217,9007199254740993,'
        '-1152921505680588801,123456789012345678901234567890]]}', control=False)
    put("embed_decode", "overflow", '{"embeddings":[[1e39]]}', control=False)
    put("embed_decode", "ragged", '{"embeddings":[[1,2],[3]]}', control=False)
    put("embed_decode", "nan_string", '{"embeddings":[[NaN,"1"]]}', control=False)
    put("embed_decode", "nested", '{"embeddings":[[[1]]],"x":[[[[[{"a":[1,2,{"b":null}]}]]]]]}', control=False)
    put("embed_decode", "escapes_utf8", '{"model":"m\\u00e9\u00e9","extra":"\\"","embeddings":[[1.5]]}',
        control=False)


def chat():
    put("ndjson", "chat", "".join(ndjson_chat(["Why", " is", " the", " sky", " blue", "?"])))
    put("ndjson", "generate", "".join(ndjson_generate(["Once", " upon", " a", " time"])))
    put("ndjson", "think_tools", json.dumps({"message": {"role": "assistant", "content": "", "thinking": "hm",
                                                        "tool_calls": [{"function": {"name": "f",
                                                                                     "arguments": {"x": 1}}}]},
                                             "done": False}) + "\r\n\n" + '{"error":"model runner stopped"}\n')
    put("ndjson", "bad_types", '{"done":"yes","message":{"role":5,"content":7}}\n{"message":[],"done":null}\n')


def urls():
    for i, u in enumerate(["http://127.0.0.1:11434", "127.0.0.1:11435", "http://[::1]:8080/", "localhost",
                           " http://gpu-1.example:443/ ", "https://x", "http://[fe80::1%eth0]:1", "::1", "h:0"]):
        put("url", f"u{i}", u, control=False)


def jsonl():
    lines = ['{"id": 1, "text": "what do llamas eat?"}', '{"id": "a", "text": "skipped: in the index"}',
             '{"text": "no id: the line number"}', 'not json', '{"id": 1.5, "text": "bad id"}',
             '{"id": [1], "text": "x"}', '{"id": 2, "text": 5}', '', '{"id": 3, "text": "caf\\u00e9 \\ud83e\\udd99"}']
    put("jsonl_reader", "mixed", "\r\n".join(lines) + "\n")
    put("jsonl_reader", "plain_lines", "first line\nsecond line\n\nthird\n", control(2, 1, 0))


def resume():
    # The sidecar, then (f32) the ids, each ended by "\\\n" (how
    # ConsumeRandomLengthString ends a string), then the output itself.
    side = '{"format":"jsonl","model":"m","dimensions":0}'
    recs = '{"id":1,"embedding":[0.5,-0.25]}\n{"id":"b","embedding":[1,2]}\n{"id":3,"embed'
    put("resume", "jsonl", f"{side}\\\n{recs}", control(0, 0, 1))      # jsonl, dimensions 0, write it
    side = '{"format":"f32le","model":"m","dimensions":0,"dim":2}'
    rows = bytes(range(8)) * 3 + b"\x01\x02"  # three rows of 2 floats and a torn one
    put("resume", "f32", f"{side}\\\n1\n\"b\"\n3\n4\\\n".encode() + rows, control(1, 0, 1))
    put("resume", "wrong_model", '{"format":"jsonl","model":"other","dimensions":0}\\\n{"id":1,"embedding":[1]}\n',
        control(0, 0, 1))


if __name__ == "__main__":
    responses(); requests(); embed(); chat(); urls(); jsonl(); resume()
