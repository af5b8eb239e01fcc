#!/usr/bin/env python3
"""Benchmark: the CPU engine against numpy, and ggml's block quantizers per core.

1. int4:g128 on a 4096 x 4096 float32 tensor, the same computation both ways: per group of 128
   lo = min(min, 0), hi = max(max, 0), scale = (hi - lo)/15, zero = round(-lo/scale),
   q = clip(round(w/scale) + zero, 0, 15), w^ = scale (q - zero); then MSE, SQNR, cosine and
   max |error| in double, and a 256-bin histogram of w - w^ over +-max|error|. numpy runs it
   in one thread (as numpy does), median of --repeat runs after a warm-up; Quantscope's is
   `quantscope-cli bench --scheme int4:g128 --shape 4096x4096 --json` (median inside), which
   also times one streaming read of the same 64 MiB.
2. `quantscope-cli bench --stage quantize --threads 1` for q8_0, q4_0, q6_k and q4_k on a
   4096 x 4096 float32 tensor: ggml's quantizer bytes only, one thread, so GB/s per core.

Prints one table row per measurement and the ratios the goals are stated in.

usage: cpu_bench.py CLI [--repeat N]
"""
import json
import statistics
import subprocess
import sys
import time

import numpy as np


def numpy_int4_g128(w, bins=256):
    g = w.reshape(w.shape[0], -1, 128)
    mn = np.minimum(g.min(-1, keepdims=True), 0)
    mx = np.maximum(g.max(-1, keepdims=True), 0)
    scale = (mx - mn) / np.float32(15)
    scale = np.where(scale > 0, scale, np.float32(1)).astype(np.float32)
    zero = np.round(-mn / scale)
    q = np.clip(np.round(g / scale) + zero, 0, 15)
    rec = (scale * (q - zero)).reshape(w.shape)
    e = w.astype(np.float64) - rec.astype(np.float64)
    se = float(np.dot(e.ravel(), e.ravel()))
    sr = float(np.dot(w.ravel().astype(np.float64), w.ravel().astype(np.float64)))
    m = float(np.abs(e).max())
    hist, _ = np.histogram(e, bins=bins, range=(-m, m))
    return 10 * np.log10(sr / se), hist


def cli_bench(cli, *args):
    out = subprocess.run([cli, "bench", *args, "--json"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    cli = args[0]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5

    w = (np.random.default_rng(7).standard_normal((4096, 4096), dtype=np.float32) * 0.02)
    numpy_int4_g128(w)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sqnr, _ = numpy_int4_g128(w)
        times.append((time.perf_counter() - t0) * 1e3)
    numpy_ms = statistics.median(times)
    qs = cli_bench(cli, "--scheme", "int4:g128", "--shape", "4096x4096",
                   "--repeat", str(max(repeat, 10)))
    print(f"device: {qs['device']}")
    print("| computation | numpy (1 thread) | Quantscope | speed-up | one read | Quantscope / read |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| int4:g128 + metrics + 256-bin error histogram, 4096x4096 f32 | {numpy_ms:.1f} ms "
          f"(SQNR {sqnr:.2f} dB) | {qs['median_ms']:.2f} ms (SQNR {qs['sqnr_db']:.2f} dB) | "
          f"{numpy_ms / qs['median_ms']:.1f}x | {qs['read_ms']:.2f} ms | {qs['vs_read']:.2f}x |")
    print()
    print("| ggml type | quantize, 1 thread | GB/s per core |")
    print("| --- | --- | --- |")
    for t in ["q8_0", "q4_0", "q6_k", "q4_k"]:
        r = cli_bench(cli, "--scheme", t, "--shape", "4096x4096", "--stage", "quantize",
                      "--threads", "1", "--repeat", str(repeat))
        print(f"| {t} | {r['median_ms']:.1f} ms | {r['gbps_per_thread']:.2f} |")


if __name__ == "__main__":
    main()
