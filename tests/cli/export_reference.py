#!/usr/bin/env python3
"""quantscope-cli export against independent references.

compressed-tensors safetensors: the files `export --to safetensors` writes are read with a
NumPy re-implementation of compressed-tensors' own decompression (unpack_from_int32,
pack-quantized / float-quantized / nvfp4-pack-quantized dequantize, written from the library's
source: compressors/pack_quantized/base.py + helpers, compressors/nvfp4/helpers.py,
quantization/lifecycle/forward.py) and every quantized weight must equal Quantscope's own
reconstruction (`dequant --scheme`): bit for bit for int and fp8, to float32 rounding for nvfp4
(compressed-tensors divides by the global scale, Quantscope multiplies by its reciprocal).
Reports: CSV, JSON and HDF5 (with h5py when installed) must agree with `analyze --json`.
Exit codes: refusals (plan naming tensors the file lacks, schemes a target cannot express,
overwriting the input) must be non-zero with one stderr line.

Usage: export_reference.py QUANTSCOPE_CLI SAMPLE.safetensors WORKDIR
"""

import csv
import json
import os
import struct
import subprocess
import sys

import numpy as np

CLI, SAMPLE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, expect_ok=True):
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {p.stderr}")
    return p


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "I64": np.int64,
              "I8": np.int8, "U8": np.uint8, "F8_E4M3": np.uint8}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        a = np.frombuffer(data[base + b:base + end], dtype=dtypes[e["dtype"]])
        out[name] = (e["dtype"], a.reshape(e["shape"]))
    return header.get("__metadata__", {}), out


def e4m3_to_float(codes):
    """OCP E4M3 (fn): bias 7, no Inf, S.1111.111 NaN."""
    c = codes.astype(np.int32)
    s = np.where(c & 0x80, -1.0, 1.0)
    e = (c >> 3) & 0xF
    m = c & 0x7
    v = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7.0))
    v = np.where((e == 15) & (m == 7), np.nan, v)
    return (s * v).astype(np.float32)


def unpack_from_int32(value, num_bits, shape, packed_dim=1):
    """compressed-tensors' unpack_from_int32, in NumPy."""
    pack_factor = 32 // num_bits
    mask = (1 << num_bits) - 1
    value = value.astype(np.int64) & 0xFFFFFFFF
    if packed_dim == 1:
        unpacked = np.zeros((value.shape[0], value.shape[1] * pack_factor), dtype=np.int64)
        for i in range(pack_factor):
            unpacked[:, i::pack_factor] = (value >> (num_bits * i)) & mask
        unpacked = unpacked[:, :shape[1]]
    else:
        unpacked = np.zeros((value.shape[0] * pack_factor, value.shape[1]), dtype=np.int64)
        for i in range(pack_factor):
            unpacked[i::pack_factor, :] = (value >> (num_bits * i)) & mask
        unpacked = unpacked[:shape[0], :]
    return (unpacked - (1 << num_bits) // 2).astype(np.int8)


def dequantize(x_q, scale, zero_point=None):
    """forward.py dequantize with the strategy inferred from the scale's shape."""
    scale = scale.astype(np.float32)
    x = x_q.astype(np.float32)
    if scale.ndim <= 1:  # tensor
        zp = np.float32(0) if zero_point is None else zero_point.astype(np.float32).reshape(())
        return ((x - zp) * scale.reshape(())).astype(np.float32)
    if scale.shape[1] == 1:  # channel
        zp = 0 if zero_point is None else zero_point.astype(np.float32)
        return ((x - zp) * scale).astype(np.float32)
    group = x.shape[1] // scale.shape[1]  # group, columns in whole groups
    g = x.reshape(x.shape[0], scale.shape[1], group)
    zp = 0 if zero_point is None else zero_point.astype(np.float32)[..., None]
    return ((g - zp) * scale[..., None]).reshape(x.shape).astype(np.float32)


FP4 = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], dtype=np.float32)


def unpack_fp4(packed, m, n):
    flat = packed.reshape(-1)
    combined = np.stack((flat & 0x0F, (flat & 0xF0) >> 4), axis=1).reshape(-1)
    vals = FP4[combined & 0x07] * np.where(combined & 0x08, -1.0, 1.0)
    return vals.reshape(m, n).astype(np.float32)


def decompress(tensors, module, weights):
    bits = weights["num_bits"]
    if f"{module}.weight_packed" in tensors and weights["type"] == "int":
        shape = tuple(int(v) for v in tensors[f"{module}.weight_shape"][1])
        x_q = unpack_from_int32(tensors[f"{module}.weight_packed"][1], bits, shape)
        scale = tensors[f"{module}.weight_scale"][1]
        zp = None
        if not weights["symmetric"]:
            dt, z = tensors[f"{module}.weight_zero_point"]
            if weights["strategy"] in ("group", "channel"):
                zp = unpack_from_int32(z, bits, (shape[0], scale.shape[-1]), packed_dim=0)
            else:
                zp = z
        return dequantize(x_q, scale, zp)
    if f"{module}.weight_packed" in tensors:  # nvfp4
        packed = tensors[f"{module}.weight_packed"][1]
        m, n = packed.shape
        x_q = unpack_fp4(packed, m, n * 2)
        scale = e4m3_to_float(tensors[f"{module}.weight_scale"][1])
        gscale = tensors[f"{module}.weight_global_scale"][1].astype(np.float32)
        return dequantize(x_q, (scale / gscale).astype(np.float32))
    dt, w = tensors[f"{module}.weight"]  # float-quantized
    return dequantize(e4m3_to_float(w), tensors[f"{module}.weight_scale"][1])


def own_values(tensor, spec):
    out = os.path.join(WORK, "own.npy")
    run("dequant", SAMPLE, "--tensor", tensor, "--scheme", spec, "--out", out)
    return np.load(out)


def stored(tensor):
    out = os.path.join(WORK, "stored.npy")
    run("dequant", SAMPLE, "--tensor", tensor, "--out", out)
    return np.load(out)


CASES = [  # spec, exact, expected format
    ("int4:g32:sym", True, "pack-quantized"),
    ("int4:g32:sym:range=full", True, "pack-quantized"),
    ("int4:g16", True, "pack-quantized"),
    ("int8:channel:sym", True, "pack-quantized"),
    ("int4:channel", True, "pack-quantized"),
    ("int3:g16:sym", True, "pack-quantized"),
    ("int8:tensor", True, "pack-quantized"),
    ("fp8_e4m3:channel", True, "float-quantized"),
    ("fp8_e4m3:g16", True, "float-quantized"),
    ("nvfp4", False, "nvfp4-pack-quantized"),
]

for spec, exact, fmt in CASES:
    out_dir = os.path.join(WORK, "ct-" + spec.replace(":", "_").replace("=", "_"))
    res = json.loads(run("export", SAMPLE, "--scheme", spec, "--to", "safetensors",
                         "--out", out_dir, "--json").stdout)
    with open(os.path.join(out_dir, "config.json")) as f:
        qc = json.load(f)["quantization_config"]
    check(qc == res["details"]["quantization_config"], f"{spec}: config.json = --json output")
    check(qc["quant_method"] == "compressed-tensors" and qc["format"] == fmt,
          f"{spec}: format {qc['format']} (expected {fmt})")
    weights = qc["config_groups"]["group_0"]["weights"]
    ignore = set(qc["ignore"])
    _, tensors = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    worst, quantized = 0.0, 0
    for name, (dt, arr) in tensors.items():
        if not name.endswith(".weight_shape") and not name.endswith(".weight_packed") \
                and not (name.endswith(".weight") and f"{name[:-7]}.weight_scale" in tensors):
            continue
        if name.endswith(".weight_shape"):
            continue
        module = name.rsplit(".", 1)[0]
        check(module not in ignore, f"{spec}: {module} is quantized but listed in ignore")
        got = decompress(tensors, module, weights)
        want = own_values(module + ".weight", spec)
        check(got.shape == want.shape, f"{spec}: {module} shape {got.shape} vs {want.shape}")
        if exact:
            check(np.array_equal(got, want), f"{spec}: {module} differs from dequant "
                  f"(max {np.abs(got - want).max()})")
        else:
            rel = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30)))
            worst = max(worst, rel)
            check(rel <= 1e-6, f"{spec}: {module} relative difference {rel}")
        quantized += 1
    # Everything else is dense and as stored; ignored Linear layers among them.
    for name, (dt, arr) in tensors.items():
        if any(name.endswith(s) for s in ("_packed", "_scale", "_shape", "_zero_point")) or \
                f"{name[:-7]}.weight_scale" in tensors:
            continue
        check(np.array_equal(arr.astype(np.float32), stored(name)), f"{spec}: dense {name}")
        if name.endswith("_proj.weight"):
            check(name[:-7] in ignore, f"{spec}: dense Linear {name} missing from ignore")
    check(quantized > 0, f"{spec}: nothing quantized")
    print(f"{spec}: {quantized} weights decompressed like compressed-tensors "
          f"{'bit-exact' if exact else f'(max rel diff {worst:.2e})'}")

# Reports: one row per quantized tensor, numbers equal to analyze --json.
analysis = json.loads(run("analyze", SAMPLE, "--scheme", "int4:g64", "--json").stdout)
by_name = {r["name"]: r for r in analysis["results"]}
csv_path, json_path, h5_path = (os.path.join(WORK, "report." + e) for e in ("csv", "json", "h5"))
for path in (csv_path, json_path, h5_path):
    run("export", SAMPLE, "--scheme", "int4:g64", "--to", "report", "--out", path)
with open(json_path) as f:
    rep = json.load(f)
check(len(rep["results"]) == len(analysis["results"]), "report.json rows")
for r in rep["results"]:
    a = by_name[r["name"]]
    for k in ("rel_rmse", "sqnr_db", "bits_per_weight", "bytes", "max_abs_err"):
        check(abs(r[k] - a[k]) <= 1e-12 * max(1.0, abs(a[k])), f"report.json {r['name']} {k}")
check(rep["source"].endswith("stories260K.safetensors") and rep["schemes"].startswith("int4:g64")
      and rep["generator"].startswith("quantscope"), "report.json provenance")
with open(csv_path) as f:
    lines = f.read().splitlines()
check(lines[0].startswith("tensor,shape,scheme,mse,rmse,rel_rmse,sqnr_db"), "report.csv header")
check(len(lines) == 1 + len(analysis["results"]), "report.csv rows")
hdr = lines[0].split(",")
for line in lines[1:]:
    row = next(csv.reader([line]))
    a = by_name[row[0]]
    check(abs(float(row[hdr.index("sqnr_db")]) - a["sqnr_db"]) <= 1e-9 * abs(a["sqnr_db"]),
          f"report.csv {row[0]} sqnr_db")
try:
    import h5py
except ImportError:
    h5py = None
if h5py:
    with h5py.File(h5_path, "r") as h:
        names = [n.decode() if isinstance(n, bytes) else n for n in h["tensor"][...]]
        check(len(names) == len(analysis["results"]), "report.h5 rows")
        for i, n in enumerate(names):
            check(abs(h["rel_rmse"][i] - by_name[n]["rel_rmse"]) <= 1e-12, f"report.h5 {n}")
        gen = h.attrs["generator"]
        gen = gen.decode() if isinstance(gen, bytes) else str(gen)
        check(gen.startswith("quantscope"), "report.h5 provenance")
        check("description" in h["sqnr_db"].attrs, "report.h5 dataset attributes")
else:
    with open(h5_path, "rb") as f:
        check(f.read(8) == b"\x89HDF\r\n\x1a\n", "report.h5 is HDF5")

# Refusals: non-zero exit code below 128 and one stderr line.
plan = os.path.join(WORK, "bad-plan.json")
with open(plan, "w") as f:
    json.dump({"default": "int4:g64", "tensors": {"blk.0.attn_q.weight": "int8:channel"}}, f)
for args, code in [
    (("export", SAMPLE, "--plan", plan, "--to", "hf-config", "--out",
      os.path.join(WORK, "x.json")), 5),
    (("export", SAMPLE, "--scheme", "kmeans3", "--to", "hf-config", "--out",
      os.path.join(WORK, "x.json")), 4),
    (("export", SAMPLE, "--scheme", "q4_0", "--to", "gguf", "--out", SAMPLE), 6),
    (("export", SAMPLE, "--scheme", "int4:g64", "--to", "report", "--out",
      os.path.join(WORK, "x.txt")), 4),
]:
    p = run(*args, expect_ok=False)
    check(p.returncode == code and len(p.stderr.strip().splitlines()) == 1,
          f"{args[2:]}: exit {p.returncode} (expected {code}), stderr {p.stderr!r}")
check(os.path.getsize(SAMPLE) > 0, "the input is intact")

if failures:
    print(f"{len(failures)} failures")
    sys.exit(1)
print("export reference: all checks passed")
