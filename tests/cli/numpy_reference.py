#!/usr/bin/env python3
"""Independent NumPy computations that quantscope-cli must agree with (run by ctest).

Reads safetensors itself (no Quantscope code), computes distribution statistics in float64,
the `int` asym/sym conventions of DESIGN.md in float32 with round-half-to-even (np.rint), and the
definitions of nf4 (bitsandbytes blockwise absmax), mxfp4 (torchao to_mx, FLOOR), nvfp4 (torchao
nvfp4_quantize), fp8_e4m3:channel (amax/448, saturating RNE cast) and mulaw4 (torchaudio's
index rounding), and compares with `quantscope-cli stats/analyze/dequant --json`.

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


NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float32)


def nf4_quant(w, block=64):
    """bitsandbytes quantize_4bit/dequantize_4bit: flat blocks, x * (1/absmax), the CUDA kernel's
    threshold tree (x > midpoint goes up, so a value on a midpoint takes the lower code). The CPU
    backend's argmin|x - code| can differ where the two float32 distances round unequally."""
    f = np.float32
    x = w.astype(f).ravel()
    pad = (-len(x)) % block
    xb = np.concatenate([x, np.zeros(pad, f)]).reshape(-1, block)
    absmax = np.abs(xb).max(axis=1, keepdims=True)
    inv = np.where(absmax > 0, f(1) / np.where(absmax > 0, absmax, f(1)), f(0)).astype(f)
    scaled = np.clip(xb * inv, f(-1), f(1))
    mids = ((NF4[:-1].astype(np.float64) + NF4[1:]) / 2).astype(f)
    code = np.searchsorted(mids, scaled, side="left")
    return (NF4[code] * absmax).astype(f).ravel()[:len(x)].reshape(w.shape)


def rne_float(v, mbits, emin, vmax):
    """Round |v| (float32, >= 0) to a float grid with `mbits` mantissa bits, normal exponents
    >= emin (subnormals below), saturating at vmax; round half to even via np.rint."""
    f = np.float32
    e = np.floor(np.log2(np.where(v > 0, v, f(1)))).astype(np.int32)
    e = np.maximum(e, emin)
    q = np.ldexp(f(1), e - mbits).astype(f)
    return np.minimum(np.rint(v / q) * q, f(vmax)).astype(f)


def fp4_e2m1(v):
    return (np.sign(v) * rne_float(np.abs(v), 1, 0, 6.0)).astype(np.float32)


def blocks_by_row(w, block):
    w2 = w.reshape(w.shape[0], -1) if w.ndim >= 2 else w.reshape(1, -1)
    rows, cols = w2.shape
    pad = (-cols) % block
    xb = np.concatenate([w2, np.zeros((rows, pad), np.float32)], axis=1)
    return xb.reshape(rows, -1, block), rows, cols


def mxfp4_quant(w):
    """torchao to_mx(elem_dtype=fp4, FLOOR) then to_dtype; short row tails padded with zeros."""
    f = np.float32
    xb, rows, cols = blocks_by_row(w.astype(f), 32)
    amax = np.abs(xb).max(axis=-1, keepdims=True).astype(f)
    pow2 = ((amax.view(np.int32) >> 23) & 0xFF) - 127
    biased = np.clip(pow2 - 2, -127, 128) + 127
    inv = np.ldexp(f(1), 127 - biased).astype(f)
    q = fp4_e2m1(np.clip(xb * inv, f(-6), f(6)))
    out = (q * np.ldexp(f(1), biased - 127).astype(f)).astype(f)
    return out.reshape(rows, -1)[:, :cols].reshape(w.shape)


def nvfp4_quant(w):
    """torchao nvfp4_quantize with per_tensor_scale = amax / (448 * 6), then to_dtype."""
    f = np.float32
    pts = f(np.abs(w).max()) / f(2688.0)
    xb, rows, cols = blocks_by_row(w.astype(f), 16)
    bmax = np.abs(xb).max(axis=-1, keepdims=True).astype(f)
    s = np.clip((bmax / f(6.0)) / pts, f(2.0 ** -6), f(448.0)).astype(f)
    s8 = rne_float(s, 3, -6, 448.0)
    total = (pts * s8).astype(f)
    q = fp4_e2m1(np.clip(xb / total, f(-6), f(6)))
    return (q * total).astype(f).reshape(rows, -1)[:, :cols].reshape(w.shape)


def fp8_channel_quant(w):
    """torchao / compressed-tensors per-row float8_e4m3fn: scale = amax/448 (float32),
    x / scale clamped to +-448 and cast with round-half-to-even."""
    f = np.float32
    w2 = w.reshape(w.shape[0], -1).astype(f)
    scale = (np.abs(w2).max(axis=1, keepdims=True) / f(448.0)).astype(f)
    t = (w2 / scale).astype(f)
    q = (np.sign(t) * rne_float(np.abs(t), 3, -6, 448.0)).astype(f)
    return (q * scale).astype(f).reshape(w.shape)


def mulaw_quant(w, bits=4, mu=255.0):
    """DESIGN.md mulaw: per-tensor absmax, continuous mu-law, 2^b levels over [-1, 1], index
    rounding int(v + 0.5) as torchaudio's mu_law_encoding; evaluated in float64."""
    absmax = float(np.abs(w).max())
    qn = 2 ** bits - 1
    t = np.clip(w.astype(np.float64) / absmax, -1, 1)
    y = np.sign(t) * np.log1p(mu * np.abs(t)) / np.log1p(mu)
    q = np.clip(np.floor((y + 1) / 2 * qn + 0.5), 0, qn)
    yq = q / qn * 2 - 1
    return (np.sign(yq) * np.expm1(np.abs(yq) * np.log1p(mu)) / mu * absmax).astype(np.float32)


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

    exact = (("nf4", nf4_quant), ("mxfp4", mxfp4_quant), ("nvfp4", nvfp4_quant),
             ("fp8_e4m3:channel", fp8_channel_quant))
    for name in ("model.layers.0.self_attn.q_proj.weight", "model.layers.2.mlp.down_proj.weight",
                 "model.layers.1.mlp.gate_proj.weight", "model.embed_tokens.weight"):
        out = os.path.join(work, "dequant.npy")
        for spec, fn in exact:
            cli(exe, "dequant", sample, "--tensor", name, "--scheme", spec, "--out", out)
            got, want = np.load(out), fn(tensors[name])
            if got.shape != want.shape or not np.array_equal(got, want):
                bad = int((got != want).sum()) if got.shape == want.shape else "shape"
                failures.append(f"dequant {spec} {name}: {bad} values differ from numpy")
        cli(exe, "dequant", sample, "--tensor", name, "--scheme", "mulaw4", "--out", out)
        got, want = np.load(out), mulaw_quant(tensors[name])
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9 * np.abs(want).max()):
            failures.append(f"dequant mulaw4 {name}: max diff {np.abs(got - want).max()}")

    res = cli(exe, "analyze", sample, "--scheme", "nf4", "--scheme", "mxfp4", "--scheme", "nvfp4",
              "--scheme", "nf4:g64:dq")
    for r in res["results"]:
        shape = r["shape"]
        rows, cols = shape[0], int(np.prod(shape[1:]))
        n = rows * cols
        want = {"nf4:g64": 4 + 32 * -(-n // 64) / n,
                "mxfp4": (rows * -(-cols // 32) * (32 * 4 + 8)) / n,
                "nvfp4": (rows * -(-cols // 16) * (16 * 4 + 8) + 32) / n,
                "nf4:g64:dq": 4 + (8 * -(-n // 64) + 32 * -(-(-(-n // 64)) // 256) + 32) / n}
        check(f"bpw {r['scheme']} {r['name']}", r["bits_per_weight"], want[r["scheme"]], 1e-12)

    if failures:
        print("\n".join(failures))
        print(f"0 passed, {len(failures)} failed")
        sys.exit(1)
    print("numpy reference: stats, analyze (4 int schemes, zoo bpw) and dequant "
          "(int4, nf4, mxfp4, nvfp4, fp8_e4m3, mulaw4) agree")


if __name__ == "__main__":
    main()
