#!/usr/bin/env python3
"""Compares two `quantscope-cli analyze --json` documents field by field.

    compare_analyze.py OLD.json NEW.json [--tolerance 1e-9]

Every result and total must have the same fields; strings and integers equal; floats equal or
within the tolerance relative (the double sums' order may differ between runs that split the
work differently). Prints each difference past the tolerance and a summary line; exit 1 when
any field differs past it.
"""
import json
import sys


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    tol = 1e-9
    if "--tolerance" in argv:
        tol = float(argv[argv.index("--tolerance") + 1])
        args.remove(argv[argv.index("--tolerance") + 1])
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = (json.load(open(p)) for p in args)
    counts = {"equal": 0, "close": 0, "differ": 0}
    worst = 0.0

    def walk(x, y, path):
        nonlocal worst
        if isinstance(x, dict) and isinstance(y, dict):
            if set(x) != set(y):
                print(f"{path}: fields {sorted(set(x) ^ set(y))} in one only")
                counts["differ"] += 1
            for k in sorted(set(x) & set(y)):
                walk(x[k], y[k], f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                print(f"{path}: {len(x)} against {len(y)} entries")
                counts["differ"] += 1
            for i, (p, q) in enumerate(zip(x, y)):
                walk(p, q, f"{path}[{i}]")
        elif isinstance(x, float) and isinstance(y, (int, float)) or \
                isinstance(y, float) and isinstance(x, (int, float)):
            if x == y:
                counts["equal"] += 1
                return
            rel = abs(x - y) / max(abs(x), abs(y))
            worst = max(worst, rel)
            if rel <= tol:
                counts["close"] += 1
            else:
                counts["differ"] += 1
                print(f"{path}: {x!r} against {y!r}")
        elif x == y:
            counts["equal"] += 1
        else:
            counts["differ"] += 1
            print(f"{path}: {x!r} against {y!r}")

    walk(a.get("results"), b.get("results"), "results")
    walk(a.get("totals"), b.get("totals"), "totals")
    print(f"{counts['equal']} equal, {counts['close']} within {tol:g} relative "
          f"(worst {worst:.2e}), {counts['differ']} differ")
    return 1 if counts["differ"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
