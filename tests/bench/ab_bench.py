#!/usr/bin/env python3
"""Two (or more) builds of quantscope-cli side by side on a busy host.

The 2-vCPU machines these benchmarks run on share their cores with other VMs: the same binary's
median moves by a third between runs minutes apart. A change is measured against the binary
before it by alternating them, ROUNDS times per scheme, each time `bench --repeat 9 --warmup 1
--json` on a 4096 x 4096 float32 tensor, and by pooling every timed run: the minimum and the 25th
percentile show what the code costs, the median also how busy the host was.

usage: ab_bench.py ROUNDS "SCHEME ..." CLI CLI ... [-- extra bench arguments, e.g. --bins 0]
"""
import json
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    rounds, schemes = int(sys.argv[1]), sys.argv[2].split()
    rest, extra = sys.argv[3:], []
    if "--" in rest:
        extra = rest[rest.index("--") + 1:]
        rest = rest[:rest.index("--")]
    times = {}
    for _ in range(rounds):
        for scheme in schemes:
            for cli in rest:
                out = subprocess.run([cli, "bench", "--scheme", scheme, "--shape", "4096x4096",
                                      "--repeat", "9", "--warmup", "1", "--json", *extra],
                                     capture_output=True, text=True, check=True).stdout
                times.setdefault((scheme, cli), []).extend(json.loads(out)["times_ms"])
    width = max(len(cli) for cli in rest)
    for scheme in schemes:
        for cli in rest:
            t = sorted(times[(scheme, cli)])
            print(f"{scheme:12s} {cli:{width}s}  min {t[0]:7.2f}  p25 {t[len(t) // 4]:7.2f}"
                  f"  median {statistics.median(t):7.2f}  ({len(t)} runs)")


if __name__ == "__main__":
    main()
