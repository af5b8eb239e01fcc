#!/usr/bin/python3
"""The hostile-file collection (tests/hostile/files, written by tests/hostile/make_hostile.py):
`info`, `stats` and `analyze --imatrix FILE` must reject every file with a clean error exit (1..127), exactly one stderr
line naming the file, nothing on stdout, within a few seconds; and none of the malicious
payloads may have run (each would create the canary file)."""

import os
import subprocess
import sys
import time

CANARY = "/tmp/quantscope-hostile-canary"
TIME_LIMIT_S = 10.0


def main():
    cli, folder = sys.argv[1], sys.argv[2]
    if os.path.exists(CANARY):
        os.remove(CANARY)
    files = sorted(os.listdir(folder))
    assert len(files) >= 40, "the hostile collection is missing (%d files)" % len(files)
    failures, slowest = [], (0.0, "")
    sample = os.path.join(folder, "..", "..", "..", "resources", "samples",
                          "stories260K.safetensors")
    for name in files:
        path = os.path.join(folder, name)
        # Each file also as a llama.cpp importance matrix (--imatrix): refused the same way.
        for cmd in (["info"], ["stats"], ["info", "--json"],
                    ["analyze", sample, "--scheme", "q4_0:imatrix", "--imatrix"]):
            t0 = time.monotonic()
            args = [cli] + cmd + [path] if cmd[0] == "analyze" else [cli] + cmd[:1] + [path] + cmd[1:]
            try:
                p = subprocess.run(args, capture_output=True,
                                   timeout=TIME_LIMIT_S, text=True, errors="replace")
            except subprocess.TimeoutExpired:
                failures.append("%s %s: no answer within %.0f s" % (cmd, name, TIME_LIMIT_S))
                continue
            dt = time.monotonic() - t0
            slowest = max(slowest, (dt, "%s %s" % (" ".join(cmd), name)))
            lines = p.stderr.splitlines()
            problem = None
            if not 1 <= p.returncode <= 127:
                problem = "exit code %d" % p.returncode
            elif len(lines) != 1:
                problem = "%d stderr lines" % len(lines)
            elif name not in lines[0]:
                problem = "the error does not name the file: " + lines[0]
            elif p.stdout.strip():
                problem = "printed to stdout: " + p.stdout[:80]
            if problem:
                failures.append("%s %s: %s" % (" ".join(cmd), name, problem))
    if os.path.exists(CANARY):
        failures.append("a payload RAN: %s exists" % CANARY)
    for f in failures:
        print("FAIL", f)
    print("%d hostile files x 4 commands; slowest %.2f s (%s); %d failures" %
          (len(files), slowest[0], slowest[1], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
