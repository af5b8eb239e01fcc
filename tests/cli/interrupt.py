#!/usr/bin/python3
"""Ctrl-C stops the CLI cleanly: SIGINT during a long `analyze` ends it promptly with exit code
130, the single line "interrupted" on stderr, and no partial output on stdout."""

import os
import signal
import subprocess
import sys
import time

import numpy as np


def main():
    cli, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "big.npy")
    np.save(path, np.random.default_rng(0).standard_normal((4096, 1024)).astype(np.float32))
    # Several seconds of work even on a fast machine: iterative methods on 4M weights.
    cmd = [cli, "analyze", path, "--json"] + sum(
        (["--scheme", s] for s in ["hqq4:g64", "sinq4:g64", "kmeans4:channel", "hqq3:g32",
                                   "sinq3:g32", "kmeans3:channel"]), [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    if p.poll() is not None:
        print("FAIL: analyze finished before the interrupt; the test needs more work")
        return 1
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    dt = time.monotonic() - t0
    print("exit %d after %.3f s; stderr %r" % (p.returncode, dt, err.strip()))
    ok = p.returncode == 130 and err.strip() == "quantscope-cli: interrupted" and not out
    ok = ok and dt < 5.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
