#!/usr/bin/env python3
"""Benchmark: a whole-model sweep of a 1B-parameter checkpoint under four schemes.

Writes (once) a Llama-3.2-1B-layout safetensors checkpoint in bf16 with Gaussian weights
(std 0.02, seeded; 1.24 G parameters, 2.5 GB), then times
`quantscope-cli analyze FILE --scheme ... --json` over every tensor with two dimensions:
median of repeats, with peak resident memory. Optionally runs the GUI's sweep on the same file
(tests/bench/gui_stall_bench) to record the event loop's largest stall.

usage: sweep_bench.py CLI WORKDIR [--repeat N] [--gui GUI_BENCH] [--backend cpu|cuda]
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

SCHEMES = ["int4:g128", "nf4:g64", "q4_k", "mxfp4"]
LAYERS, HIDDEN, INTER, VOCAB, KV_HEADS, HEADS = 16, 2048, 8192, 128256, 8, 32


def tensors():
    head_dim = HIDDEN // HEADS
    out = [("model.embed_tokens.weight", [VOCAB, HIDDEN])]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        out += [
            (p + "input_layernorm.weight", [HIDDEN]),
            (p + "self_attn.q_proj.weight", [HIDDEN, HIDDEN]),
            (p + "self_attn.k_proj.weight", [KV_HEADS * head_dim, HIDDEN]),
            (p + "self_attn.v_proj.weight", [KV_HEADS * head_dim, HIDDEN]),
            (p + "self_attn.o_proj.weight", [HIDDEN, HIDDEN]),
            (p + "post_attention_layernorm.weight", [HIDDEN]),
            (p + "mlp.gate_proj.weight", [INTER, HIDDEN]),
            (p + "mlp.up_proj.weight", [INTER, HIDDEN]),
            (p + "mlp.down_proj.weight", [HIDDEN, INTER]),
        ]
    out.append(("model.norm.weight", [HIDDEN]))
    return out


def write_checkpoint(path):
    if os.path.exists(path):
        return
    rng = np.random.default_rng(1234)
    header, offset = {}, 0
    for name, shape in tensors():
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        for name, shape in tensors():
            n = int(np.prod(shape))
            for start in range(0, n, 1 << 24):
                k = min(1 << 24, n - start)
                if len(shape) == 1:
                    x = np.ones(k, dtype=np.float32)
                else:
                    x = rng.standard_normal(k, dtype=np.float32) * np.float32(0.02)
                bits = x.view(np.uint32)
                bf16 = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
                f.write(bf16.tobytes())
    os.replace(tmp, path)


def run(cmd):
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before), out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    cli, work = args[0], args[1]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
    backend = args[args.index("--backend") + 1] if "--backend" in args else "cpu"
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "llama-1b-bf16.safetensors")
    write_checkpoint(path)
    cmd = [cli, "analyze", path, "--json", "--backend", backend]
    for s in SCHEMES:
        cmd += ["--scheme", s]
    times, peak, doc = [], 0, None
    for _ in range(repeat):
        seconds, rss, out = run(cmd)
        times.append(seconds)
        peak = max(peak, rss)
        doc = json.loads(out)
    params = sum(int(np.prod(s)) for _, s in tensors() if len(s) >= 2)
    print(f"checkpoint {os.path.getsize(path) / 2**30:.2f} GiB, {params:,} quantized weights, "
          f"schemes {', '.join(SCHEMES)}, backend {backend}")
    print(f"analyze: median {statistics.median(times):.1f} s of {repeat} "
          f"({min(times):.1f}-{max(times):.1f}), "
          f"{4 * params / statistics.median(times) / 1e6:.0f} M weight-schemes/s, "
          f"peak RSS {peak / 1024:.0f} MiB")
    for t in doc.get("totals", []):
        print(f"  {t['scheme']}: {t['tensors']} tensors, {t['bits_per_weight']:.3f} bpw, "
              f"rel RMSE {t['rel_rmse']:.4f}, SQNR {t['sqnr_db']:.2f} dB")
    if "--gui" in args:
        gui = args[args.index("--gui") + 1]
        out = subprocess.run([gui, path, ", ".join(SCHEMES)], check=True, capture_output=True,
                             text=True).stdout
        print("gui:", out.strip().replace("\n", "; "))


if __name__ == "__main__":
    main()
