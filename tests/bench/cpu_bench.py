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
   Side by side, in the same run on the same input shape, llama.cpp's own: ggml_quantize_chunk
   from libggml-base.so (what llama-quantize calls; the reference quantizers, single-threaded,
   output buffer reused as Quantscope's bench does), and for q8_0 also libggml-cpu's SIMD
   quantize_row_q8_0 (the activation quantizer of the matmul path; it rounds half to even, so
   its bytes differ from the reference's on ties). Both come from GGML_DIR, by default
   build/ggml-oracle as `scripts/quantscope test` fetches it.

Prints one table row per measurement and the ratios the goals are stated in.

usage: cpu_bench.py CLI [--repeat N] [--ggml GGML_DIR]
"""
import ctypes
import os
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


GGML_TYPE_IDS = {"q8_0": 8, "q4_0": 2, "q6_k": 14, "q4_k": 12}


def ggml_side_by_side(ggml_dir, repeat):
    """Median ms of llama.cpp's own quantizers on a 4096 x 4096 float32 input, one thread."""
    base = ctypes.CDLL(os.path.join(ggml_dir, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    chunk = base.ggml_quantize_chunk
    chunk.restype = ctypes.c_size_t
    chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                      ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    rows = cols = 4096
    x = (np.random.default_rng(3).standard_normal((rows, cols), dtype=np.float32) * 0.02)
    out = np.empty(rows * cols * 2, dtype=np.uint8)
    px, po = x.ctypes.data, out.ctypes.data

    def median_ms(fn):
        fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)

    res = {t: median_ms(lambda i=i: chunk(i, px, po, 0, rows, cols, None))
           for t, i in GGML_TYPE_IDS.items()}
    cpu_libs = sorted(f for f in os.listdir(ggml_dir) if f.startswith("libggml-cpu-"))
    simd = None
    for name in ["libggml-cpu-zen4.so", "libggml-cpu-icelake.so", "libggml-cpu-skylakex.so",
                 "libggml-cpu-haswell.so", "libggml-cpu-x64.so"]:
        if name in cpu_libs:
            try:
                cpu = ctypes.CDLL(os.path.join(ggml_dir, name))
                row = cpu.quantize_row_q8_0
            except OSError:
                continue  # built for instructions this CPU lacks
            row.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            # q8_0 blocks are independent: the whole tensor is one call, no per-row overhead
            simd = (name, median_ms(lambda: row(px, po, rows * cols)))
            break
    return res, simd


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    cli = args[0]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5
    ggml_dir = args[args.index("--ggml") + 1] if "--ggml" in args else os.path.join(
        os.path.dirname(os.path.abspath(cli)), "..", "ggml-oracle")

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
    have_ggml = os.path.exists(os.path.join(ggml_dir, "libggml-base.so"))
    ggml, simd = ggml_side_by_side(ggml_dir, repeat) if have_ggml else ({}, None)
    gbps = lambda ms: 4096 * 4096 * 4 / ms / 1e6  # noqa: E731
    print("| ggml type, 4096x4096 f32, 1 thread | Quantscope | GB/s | ggml reference "
          "(ggml_quantize_chunk) | GB/s | Quantscope / ggml |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t in ["q8_0", "q4_0", "q6_k", "q4_k"]:
        r = cli_bench(cli, "--scheme", t, "--shape", "4096x4096", "--stage", "quantize",
                      "--threads", "1", "--repeat", str(repeat))
        g = ggml.get(t)
        theirs = f"{g:.1f} ms | {gbps(g):.2f} | {g / r['median_ms']:.2f}x" if g else "- | - | -"
        print(f"| {t} | {r['median_ms']:.1f} ms | {r['gbps_per_thread']:.2f} | {theirs} |")
    if simd:
        print(f"\nggml-cpu's SIMD quantize_row_q8_0 ({simd[0]}, rounds half to even): "
              f"{simd[1]:.1f} ms, {gbps(simd[1]):.2f} GB/s")


if __name__ == "__main__":
    main()
