#!/usr/bin/env python3
"""The issue-6 GPU baseline: the same analysis as `quantscope-cli bench --backend cuda`, written
in PyTorch and compiled with torch.compile, on the same GPU in the same run.

For a 16384x8192 bf16 tensor (seeded Gaussian, sigma 0.02) and each scheme: quantize,
dequantize, the error sums (sum e^2, sum x^2, sum r^2, sum x*r, max |e|) and a 256-bin histogram
of the error over [-max|e|, max|e|] (torch.histc). Eager PyTorch and torch.compile (default mode)
are both timed; sums are float32 here, double in Quantscope. Times are CUDA-event medians over repeats after warm-up
(compilation stays in the warm-up). The device's copy bandwidth (input bytes over the time of a
device-to-device copy of the input, as `bench` reports it) is measured in the same run.

    python3 tests/bench/torch_compile_bench.py [--rows 16384] [--cols 8192] [--repeat 20]

Runs where torch and a CUDA device are present (the lent GPU machine has both); prints one line
per scheme and a JSON summary last.
"""
import argparse
import json
import statistics

import torch

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
FP4_E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


def finish(g, rec):
    """The error and its sums; the histogram follows in `analyse` (torch.histc wants its range as
    Python numbers, so it runs after the compiled part)."""
    e = g - rec
    return e, (e * e).sum(), (g * g).sum(), (rec * rec).sum(), (g * rec).sum(), e.abs().amax()


def analyse(fn, *args, bins: int = 256):
    e, se, sr, sq, dot, m = fn(*args)
    m = max(float(m), 1e-12)
    hist = torch.histc(e, bins=bins, min=-m, max=m)
    return se, sr, sq, dot, m, hist


def int4_g128(x):
    """Asymmetric min-max int4, groups of 128 (DESIGN.md: lo = min(min, 0), hi = max(max, 0))."""
    g = x.float().reshape(-1, 128)
    lo = g.amin(1, keepdim=True).clamp_max(0)
    hi = g.amax(1, keepdim=True).clamp_min(0)
    scale = (hi - lo) / 15
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    zero = torch.round(-lo / scale)
    q = torch.clamp(torch.round(g / scale) + zero, 0, 15)
    return finish(g, (q - zero) * scale)


def nf4_g64(x, levels, mids):
    """bitsandbytes NF4, blocks of 64: absmax scaling, nearest level (ties to the lower index)."""
    g = x.float().reshape(-1, 64)
    absmax = g.abs().amax(1, keepdim=True)
    idx = torch.bucketize(g * (1.0 / absmax), mids, right=False)
    return finish(g, levels[idx] * absmax)


def mxfp4(x, mags, mids):
    """OCP MX FP4 (E2M1), blocks of 32, shared scale 2^(floor(log2 amax) - 2)."""
    g = x.float().reshape(-1, 32)
    amax = g.abs().amax(1, keepdim=True)
    scale = torch.exp2(torch.floor(torch.log2(amax.clamp_min(2.0 ** -126))) - 2)
    s = (g.abs() / scale).clamp_max(6.0)
    q = mags[torch.bucketize(s, mids, right=False)]
    return finish(g, torch.sign(g) * q * scale)


def time_ms(fn, repeat, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--cols", type=int, default=8192)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(7)
    x = (torch.randn(args.rows, args.cols, device=dev, generator=gen) * 0.02).to(torch.bfloat16)
    nbytes = x.numel() * x.element_size()
    copy = torch.empty_like(x)
    copy_ms = time_ms(lambda: copy.copy_(x), args.repeat, args.warmup)

    levels = torch.tensor(NF4, device=dev)
    nf_mids = (levels[1:] + levels[:-1]) / 2
    mags = torch.tensor(FP4_E2M1, device=dev)
    fp_mids = (mags[1:] + mags[:-1]) / 2
    schemes = {
        "int4:g128": lambda f: analyse(f, x),
        "nf4:g64": lambda f: analyse(f, x, levels, nf_mids),
        "mxfp4": lambda f: analyse(f, x, mags, fp_mids),
    }
    fns = {"int4:g128": int4_g128, "nf4:g64": nf4_g64, "mxfp4": mxfp4}
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
           "shape": [args.rows, args.cols], "input_bytes": nbytes, "copy_ms": copy_ms,
           "copy_gbps": nbytes / (copy_ms * 1e6), "schemes": {}}
    for name, call in schemes.items():
        compiled = torch.compile(fns[name])
        for mode, fn in (("eager", fns[name]), ("compiled", compiled)):
            ms = time_ms(lambda: call(fn), args.repeat, args.warmup)
            out["schemes"].setdefault(name, {})[mode + "_ms"] = ms
            print(f"{name:10s} {mode:8s} {ms:8.3f} ms  {nbytes / (ms * 1e6):8.1f} GB/s"
                  f"  {copy_ms / ms:6.1%} of copy", flush=True)
    print(f"copy {copy_ms:.3f} ms ({out['copy_gbps']:.1f} GB/s of input)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
