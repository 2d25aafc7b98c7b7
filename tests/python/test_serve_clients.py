"""The official `ollama` and `openai` Python clients, unchanged, against
`herd serve` over herd-sim nodes: embed one text and a list, the legacy
endpoint, `options` reaching the nodes, chat streamed and whole, generate,
list models, errors, bearer authentication, and a graceful SIGTERM. Every vector is checked against
herd-sim's rule.

usage: python test_serve_clients.py HERD_EXE HERD_SIM_EXE
Exits 0 when every check passed, 1 otherwise (the first failure printed).
"""

import base64
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import herd_rule  # noqa: E402
from herd_procs import wait_for_file  # noqa: E402

import ollama  # noqa: E402
import openai  # noqa: E402

TOKEN = "s3cret"
MODEL = "all-minilm"
CHAT = "llama3.2"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_vector(vec, text, dim=384):
    check(herd_rule.matches(MODEL, text, vec, dim), f"wrong vector for {text!r}")


def ollama_checks(host):
    c = ollama.Client(host=host, headers={"Authorization": f"Bearer {TOKEN}"})
    one = c.embed(model=MODEL, input="hello world")
    check(len(one.embeddings) == 1, "embed one: one vector")
    check_vector(one.embeddings[0], "hello world")

    texts = [f"document chunk {i}" for i in range(300)]
    many = c.embed(model=MODEL, input=texts)
    check(len(many.embeddings) == 300, "embed list: 300 vectors")
    for t, v in zip(texts, many.embeddings):
        check_vector(v, t)

    cut = c.embed(model=MODEL, input=["short", "list"], dimensions=64)
    check(all(len(v) == 64 for v in cut.embeddings), "dimensions 64")
    check_vector(cut.embeddings[0], "short")

    legacy = c.embeddings(model=MODEL, prompt="legacy")
    check_vector(legacy.embedding, "legacy")

    messages = [{"role": "user", "content": "Why is the sky blue?"}]
    parts = list(c.chat(model=CHAT, messages=messages, stream=True))
    check(len(parts) > 1 and parts[-1].done, "chat streamed: several parts, the last done")
    streamed = "".join(p.message.content for p in parts)
    whole = c.chat(model=CHAT, messages=messages, stream=False)
    check(whole.message.content == streamed and whole.message.content, "chat whole equals chat streamed")
    gen = c.generate(model=CHAT, prompt="Say hi", stream=False)
    check(gen.response and gen.done, "generate whole")

    names = {m.model for m in c.list().models}
    check(MODEL in names or MODEL + ":latest" in names, f"list has {MODEL}: {names}")
    c.ps()

    try:
        c.embed(model="no-such-model", input="x")
        check(False, "unknown model must raise")
    except ollama.ResponseError as e:
        check(e.status_code == 404, f"unknown model: 404, got {e.status_code}")
        check("not found" in e.error, e.error)

    try:
        ollama.Client(host=host).embed(model=MODEL, input="x")
        check(False, "no token must raise")
    except ollama.ResponseError as e:
        check(e.status_code == 401, f"no token: 401, got {e.status_code}")


def options_checks(host, urls):
    """`options` goes to the nodes as the client sent it (herd-sim counts the
    texts it embedded per options object, keys sorted)."""
    c = ollama.Client(host=host, headers={"Authorization": f"Bearer {TOKEN}"})
    opts = {"num_ctx": 64, "seed": 7}
    r = c.embed(model=MODEL, input=["with options a", "with options b"], options=opts)
    check_vector(r.embeddings[1], "with options b")
    seen = {}
    for u in urls:
        with urllib.request.urlopen(u + "/_sim/counters", timeout=5) as f:
            for text, n in json.load(f)["embed_options"].items():
                seen[text] = seen.get(text, 0) + n["inputs"]
    key = json.dumps(opts, sort_keys=True, separators=(",", ":"))
    check(seen.get(key) == 2, f"options reached the nodes: {seen}")


def openai_checks(host):
    c = openai.OpenAI(base_url=host + "/v1", api_key=TOKEN, max_retries=0)
    one = c.embeddings.create(model=MODEL, input="hello world")  # the client asks for base64
    check_vector(one.data[0].embedding, "hello world")
    texts = [f"openai chunk {i}" for i in range(100)]
    many = c.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    check([d.index for d in many.data] == list(range(100)), "indices in order")
    for t, d in zip(texts, many.data):
        check_vector(d.embedding, t)

    raw = c.embeddings.with_raw_response.create(model=MODEL, input="b64", encoding_format="base64").http_response.json()
    b64 = raw["data"][0]["embedding"]
    floats = list(struct.unpack(f"<{len(base64.b64decode(b64)) // 4}f", base64.b64decode(b64)))
    check_vector(floats, "b64")

    messages = [{"role": "user", "content": "Why is the sky blue?"}]
    chunks = list(c.chat.completions.create(model=CHAT, messages=messages, stream=True))
    streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    check(chunks[-1].choices[0].finish_reason == "stop", "last chunk finishes")
    whole = c.chat.completions.create(model=CHAT, messages=messages)
    check(whole.choices[0].message.content == streamed and streamed, "chat completion equals the stream")
    check(whole.usage.completion_tokens > 0, "usage")

    ids = {m.id for m in c.models.list()}
    check(MODEL in ids or MODEL + ":latest" in ids, f"models: {ids}")

    try:
        c.embeddings.create(model="no-such-model", input="x")
        check(False, "unknown model must raise")
    except openai.NotFoundError as e:
        check(e.status_code == 404, "404")

    try:
        openai.OpenAI(base_url=host + "/v1", api_key="wrong", max_retries=0).models.list()
        check(False, "a wrong token must raise")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, "401")


def main(argv):
    herd_exe, sim_exe = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        ports_file = os.path.join(tmp, "nodes")
        port_file = os.path.join(tmp, "serve")
        sim = subprocess.Popen([sim_exe, "--node", "zero", "--node", "zero", "--ports-file", ports_file])
        serve = None
        try:
            urls = wait_for_file(ports_file, sim)
            serve = subprocess.Popen([herd_exe, "serve", "--listen", "127.0.0.1:0", "--nodes", ",".join(urls),
                                      "--model", MODEL, "--token", TOKEN, "--port-file", port_file])
            port = wait_for_file(port_file, serve)[0]
            host = f"http://127.0.0.1:{port}"
            ollama_checks(host)
            options_checks(host, urls)
            print("ollama client: ok")
            openai_checks(host)
            print("openai client: ok")
            serve.send_signal(signal.SIGTERM)
            code = serve.wait(timeout=15)
            check(code == 0, f"herd serve exits 0 on SIGTERM, got {code}")
            print("SIGTERM: ok")
        finally:
            for p in (serve, sim):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # one line for ctest's log
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
