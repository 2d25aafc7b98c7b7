#!/usr/bin/env python3
"""Captures herd-sim's replies off the wire as seeds (corpus/http_response,
embed_decode, ndjson, http_request). Usage:

    tests/fuzz/capture_sim_seeds.py build/src/sim/herd-sim

Starts herd-sim with one zero node on loopback, sends each request below
on a raw socket, saves the exact bytes it answered, and stops it."""
import os, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_seeds import CONTROL, http_control, put  # noqa: E402


def request(method, path, body=b"", extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if body or method == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def exchange(port, raw, expect_close=False):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)  # herd-sim answers what it read, then closes
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            out += b
        return out


def main(sim):
    with tempfile.TemporaryDirectory() as d:
        ports = os.path.join(d, "ports")
        proc = subprocess.Popen([sim, "--node", "zero", "--ports-file", ports], stdout=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(ports):
                    break
                time.sleep(0.05)
            port = int(open(ports).read().split()[0].rsplit(":", 1)[1])
            cases = {
                "sim_embed_1": request("POST", "/api/embed", b'{"model":"all-minilm","input":"hello"}'),
                "sim_embed_3_dims": request("POST", "/api/embed",
                                            b'{"model":"all-minilm","input":["a","b","c"],"dimensions":8}'),
                "sim_embed_404": request("POST", "/api/embed", b'{"model":"nope","input":"x"}'),
                "sim_chat_stream": request("POST", "/api/chat",
                                           b'{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}'),
                "sim_generate": request("POST", "/api/generate",
                                        b'{"model":"llama3.2","prompt":"hi","stream":false}'),
                "sim_tags_ps": request("GET", "/api/tags") + request("GET", "/api/ps"),
                "sim_head": request("HEAD", "/"),
            }
            for name, raw in cases.items():
                reply = exchange(port, raw)
                put("http_response", name, reply, http_control(head=1 if name == "sim_head" else 0))
                put("http_request", name, raw)
                body = reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""
                if name.startswith("sim_embed") and b"Transfer-Encoding" not in reply:
                    put("embed_decode", name, body, control=False)
                if name == "sim_chat_stream":
                    # The NDJSON lines without the chunk framing.
                    lines = [l for l in body.split(b"\r\n") if l.startswith(b"{")]
                    put("ndjson", name, b"\n".join(lines) + b"\n")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main(sys.argv[1])
