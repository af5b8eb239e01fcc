#!/usr/bin/env python3
"""Benchmark: opening very large sharded safetensors checkpoints reads headers only.

Writes Hugging Face style model folders (Llama layouts, sharded like transformers does, with
model.safetensors.index.json) whose data regions are sparse: the files have their full size
but cost no disk, since only the headers are written. Then times
`quantscope-cli info DIR --json` (median of repeats) and its peak resident memory.

usage: open_bench.py CLI WORKDIR [--repeat N]
"""
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import time

# name: (layers, hidden, intermediate, vocab, kv_heads, heads, dtype, bytes per element)
MODELS = {
    "llama-1b-bf16": (16, 2048, 8192, 128256, 8, 32, "BF16", 2),
    "llama-8b-bf16": (32, 4096, 14336, 128256, 8, 32, "BF16", 2),
    "llama-8b-f32": (32, 4096, 14336, 128256, 8, 32, "F32", 4),
    "llama-70b-bf16": (80, 8192, 28672, 128256, 8, 64, "BF16", 2),
    "llama-405b-bf16": (126, 16384, 53248, 128256, 8, 128, "BF16", 2),
}
SHARD_BYTES = 5 << 30  # transformers' default max_shard_size is 5 GB


def tensors(layers, hidden, inter, vocab, kv_heads, heads):
    head_dim = hidden // heads
    out = [("model.embed_tokens.weight", [vocab, hidden])]
    for i in range(layers):
        p = f"model.layers.{i}."
        out += [
            (p + "self_attn.q_proj.weight", [hidden, hidden]),
            (p + "self_attn.k_proj.weight", [kv_heads * head_dim, hidden]),
            (p + "self_attn.v_proj.weight", [kv_heads * head_dim, hidden]),
            (p + "self_attn.o_proj.weight", [hidden, hidden]),
            (p + "mlp.gate_proj.weight", [inter, hidden]),
            (p + "mlp.up_proj.weight", [inter, hidden]),
            (p + "mlp.down_proj.weight", [hidden, inter]),
            (p + "input_layernorm.weight", [hidden]),
            (p + "post_attention_layernorm.weight", [hidden]),
        ]
    out += [("model.norm.weight", [hidden]), ("lm_head.weight", [vocab, hidden])]
    return out


def write_shard(path, entries, dtype, esize):
    header, offset = {}, 0
    for name, shape in entries:
        n = esize
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.truncate(8 + len(text) + offset)  # sparse: the data region is never written
    return 8 + len(text) + offset


def make_model(root, name):
    layers, hidden, inter, vocab, kv, heads, dtype, esize = MODELS[name]
    folder = os.path.join(root, name)
    if os.path.exists(os.path.join(folder, "model.safetensors.index.json")):
        with open(os.path.join(folder, "model.safetensors.index.json")) as f:
            return folder, json.load(f)["metadata"]["total_size"]
    os.makedirs(folder, exist_ok=True)
    shards, current, size = [], [], 0
    for name_, shape in tensors(layers, hidden, inter, vocab, kv, heads):
        n = esize
        for d in shape:
            n *= d
        if current and size + n > SHARD_BYTES:
            shards.append(current)
            current, size = [], 0
        current.append((name_, shape))
        size += n
    shards.append(current)
    weight_map, total = {}, 0
    for i, entries in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(os.path.join(folder, fname), entries, dtype, esize)
        for n, _ in entries:
            weight_map[n] = fname
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "hidden_size": hidden, "num_hidden_layers": layers}, f)
    return folder, total


def measure(cli, folder):
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", cli, "info", folder, "--json"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"info failed: {r.stderr.strip()}")
    peak_kib = int(r.stderr.strip().splitlines()[-1])
    tensors_ = len(json.loads(r.stdout)["tensors"])
    return wall, peak_kib, tensors_


def main():
    cli, work = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    print(f"{'model':18} {'checkpoint':>11} {'shards':>6} {'tensors':>7} {'open+list (median)':>19} {'peak RSS':>9}")
    for name in MODELS:
        folder, total = make_model(work, name)
        shards = sum(1 for f in os.listdir(folder) if f.endswith(".safetensors"))
        runs = [measure(cli, folder) for _ in range(repeat)]
        wall = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        print(f"{name:18} {total / 2**30:9.1f} GiB {shards:6d} {runs[0][2]:7d} {wall * 1000:16.1f} ms {peak / 1024:6.1f} MiB")


if __name__ == "__main__":
    main()
