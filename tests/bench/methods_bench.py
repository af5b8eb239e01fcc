#!/usr/bin/env python3
"""Benchmark: each quantization method on one 4096 x 4096 layer with 2048 calibration tokens.

Writes (once) a 4096 x 4096 float32 layer (Gaussian, std 0.02, seeded) as safetensors, then
times `quantscope-cli analyze LAYER --scheme SPEC --calib synthetic:2048:8:20 --json` for each
method (process start and reading the 64 MiB layer included, both small next to the work):
median of repeats (one run for methods slower than a minute), with the weight and output error
the run reports.

usage: methods_bench.py CLI WORKDIR [--repeat N]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SCHEMES = ["int4:g128", "hqq4:g64", "sinq4:g64", "gptq4:g128", "awq4:g128",
           "autoround4:g128", "smoothquant8"]
CALIB = "synthetic:2048:8:20"


def write_layer(path):
    if os.path.exists(path):
        return
    w = (np.random.default_rng(7).standard_normal((4096, 4096), dtype=np.float32) * 0.02)
    header = {"model.layers.0.mlp.up_proj.weight":
              {"dtype": "F32", "shape": [4096, 4096], "data_offsets": [0, w.nbytes]}}
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little") + blob + w.tobytes())


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    cli, work = args[0], args[1]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "layer-4096.safetensors")
    write_layer(path)
    print(f"4096 x 4096 f32 layer, activations {CALIB} (2048 tokens, 8 outlier channels x 20)")
    print("| scheme | time (median) | runs | weight rel RMSE | out_rel_err |")
    print("| --- | --- | --- | --- | --- |")
    for spec in SCHEMES:
        times, row = [], None
        for k in range(repeat):
            start = time.perf_counter()
            out = subprocess.run([cli, "analyze", path, "--scheme", spec, "--calib", CALIB,
                                  "--json"], check=True, capture_output=True, text=True).stdout
            times.append(time.perf_counter() - start)
            row = json.loads(out)["results"][0]
            if times[-1] > 60:
                break
        print(f"| {spec} | {statistics.median(times):.2f} s | {len(times)} | "
              f"{row.get('rel_rmse', float('nan')):.4f} | {row.get('out_rel_err', float('nan')):.4f} |",
              flush=True)


if __name__ == "__main__":
    main()
