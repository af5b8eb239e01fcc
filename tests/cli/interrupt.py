#!/usr/bin/python3
"""Ctrl-C stops the CLI cleanly: SIGINT during a long `analyze` ends it promptly with exit code
130, the single line "interrupted" on stderr, and no partial output on stdout."""

import os
import signal
import subprocess
import sys
import time

import numpy as np


def handler_installed(pid):
    """True once the process catches SIGINT (Linux: bit 2 of SigCgt in /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False


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
    # Interrupt once the CLI is at work: its handler installed (a slow start, e.g. under the
    # sanitizers on a busy machine, must not be mistaken for a failure), plus a moment.
    deadline = time.monotonic() + 30
    while not handler_installed(p.pid) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
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
