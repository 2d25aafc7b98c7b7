"""herd-sim's deterministic embedding rule (include/herd/sim/embedding_rule.hpp)
in Python, so a test can check any vector a client got against its text."""

import math
import struct

_M = (1 << 64) - 1


def _fnv1a64(data, h=0xCBF29CE484222325):
    for c in data:
        h ^= c
        h = (h * 0x100000001B3) & _M
    return h


def expected(model, text, dim, dimensions=0):
    """The vector herd-sim answers for `text` under `model` (full width
    `dim`), cut to `dimensions` and renormalised when 0 < dimensions < dim."""
    x = _fnv1a64(text.encode(), _fnv1a64(b"\0", _fnv1a64(model.encode())))
    if x == 0:
        x = 0x9E3779B97F4A7C15
    raw = []
    for _ in range(dim):
        x ^= x >> 12
        x ^= (x << 25) & _M
        x ^= x >> 27
        r = (x * 0x2545F4914F6CDD1D) & _M
        raw.append((r >> 40) / 16777216.0 * 2.0 - 1.0)
    if 0 < dimensions < dim:
        raw = raw[:dimensions]
    norm = math.sqrt(sum(d * d for d in raw))
    return [struct.unpack("f", struct.pack("f", d / norm if norm > 0 else 0.0))[0] for d in raw]


def matches(model, text, got, full_dim, tolerance=1e-6):
    """True when `got` is the rule's vector for model/text."""
    want = expected(model, text, full_dim, len(got) if len(got) < full_dim else 0)
    return len(want) == len(got) and all(abs(a - b) <= tolerance for a, b in zip(want, got))
