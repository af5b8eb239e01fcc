#!/usr/bin/env python3
"""Independent NumPy computations that quantscope-cli must agree with (run by ctest).

Reads safetensors itself (no Quantscope code), computes distribution statistics in float64 and
the `int` asym/sym conventions of DESIGN.md in float32 with round-half-to-even (np.rint), and
compares with `quantscope-cli stats/analyze/dequant --json`.

usage: numpy_reference.py CLI SAMPLE WORKDIR
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).astype(np.float32)
    return out


def int_quant(w, bits, group, sym):
    """DESIGN.md int convention, float32 throughout, groups along the last axis."""
    w2 = w.reshape(w.shape[0], -1) if w.ndim >= 2 else w.reshape(1, -1)
    rows, cols = w2.shape
    g = cols if group is None else group
    out = np.empty_like(w2)
    f = np.float32
    for c0 in range(0, cols, g):
        x = w2[:, c0:c0 + g]
        if sym:
            absmax = np.abs(x).max(axis=1, keepdims=True)
            scale = (absmax / f(2 ** (bits - 1) - 1)).astype(f)
            scale[scale == 0] = f(1)
            qmax = 2 ** (bits - 1) - 1
            q = np.clip(np.rint(x / scale), -qmax, qmax)
            out[:, c0:c0 + g] = scale * q
        else:
            lo = np.minimum(x.min(axis=1, keepdims=True), f(0))
            hi = np.maximum(x.max(axis=1, keepdims=True), f(0))
            scale = ((hi - lo) / f(2 ** bits - 1)).astype(f)
            zero = np.rint(-lo / np.where(scale > 0, scale, f(1))).astype(f)
            zero[scale == 0] = f(0)
            scale[scale == 0] = f(1)
            q = np.clip(np.rint(x / scale) + zero, 0, 2 ** bits - 1)
            out[:, c0:c0 + g] = scale * (q - zero)
    return out.reshape(w.shape)


def cli(exe, *args):
    r = subprocess.run([exe, *args, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"quantscope-cli {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


failures = []


def check(what, got, want, rel):
    if not np.isclose(got, want, rtol=rel, atol=0):
        failures.append(f"{what}: quantscope {got!r} vs numpy {want!r}")


def main():
    exe, sample, work = sys.argv[1:4]
    tensors = read_safetensors(sample)

    stats = {r["name"]: r for r in cli(exe, "stats", sample)["tensors"]}
    for name, w in tensors.items():
        x = w.astype(np.float64).ravel()
        d = x - x.mean()
        m2 = (d ** 2).mean()
        kurt = (d ** 4).mean() / m2 ** 2 - 3 if m2 > 0 else 0.0
        s = stats[name]
        for key, want in (("mean", x.mean()), ("std", x.std()), ("min", x.min()), ("max", x.max()),
                          ("kurtosis", kurt)):
            # mean is compared against the scale of the data: it may be ~0.
            if key == "mean":
                if abs(s[key] - want) > 1e-5 * max(x.std(), abs(want)):
                    failures.append(f"stats {name} mean: {s[key]!r} vs {want!r}")
            else:
                check(f"stats {name} {key}", s[key], want, 1e-5)

    for spec, bits, group, sym in (("int4:g64", 4, 64, False), ("int3:channel:sym", 3, None, True),
                                   ("int8:g32", 8, 32, False), ("int2:g64:sym", 2, 64, True)):
        res = cli(exe, "analyze", sample, "--scheme", spec)
        for r in res["results"]:
            w = tensors[r["name"]]
            rec = int_quant(w, bits, group, sym)
            err = (w.astype(np.float64) - rec.astype(np.float64)).ravel()
            ref = w.astype(np.float64).ravel()
            check(f"{spec} {r['name']} mse", r["mse"], (err ** 2).mean(), 1e-9)
            check(f"{spec} {r['name']} rel_rmse", r["rel_rmse"], np.sqrt((err ** 2).sum() / (ref ** 2).sum()), 1e-9)
            check(f"{spec} {r['name']} max_abs_err", r["max_abs_err"], np.abs(err).max(), 1e-9)
        if len(res["results"]) != sum(1 for w in tensors.values() if w.ndim >= 2):
            failures.append(f"{spec}: analyze reported {len(res['results'])} tensors")

    for name in ("model.layers.0.self_attn.q_proj.weight", "model.layers.2.mlp.down_proj.weight",
                 "model.embed_tokens.weight"):
        out = os.path.join(work, "dequant.npy")
        cli(exe, "dequant", sample, "--tensor", name, "--scheme", "int4:g64", "--out", out)
        got = np.load(out)
        want = int_quant(tensors[name], 4, 64, False)
        if got.shape != want.shape or got.dtype != np.float32 or not np.array_equal(got, want):
            diff = np.abs(got.astype(np.float64) - want).max() if got.shape == want.shape else "shape"
            failures.append(f"dequant int4:g64 {name}: not bit-identical (max diff {diff})")
        cli(exe, "dequant", sample, "--tensor", name, "--out", out)
        if not np.array_equal(np.load(out), tensors[name]):
            failures.append(f"dequant (stored) {name}: differs from the stored values")

    if failures:
        print("\n".join(failures))
        print(f"0 passed, {len(failures)} failed")
        sys.exit(1)
    print("numpy reference: stats, analyze (4 int schemes) and dequant agree")


if __name__ == "__main__":
    main()
