#!/usr/bin/env python3
"""Files written by the real tools, read by quantscope-cli, compared with NumPy (run by ctest).

PyTorch (torch.save zip: plain, half and bfloat16 tensors, a view with an offset, a transposed
view, shared storage, a {"state_dict": ...} wrapper), h5py (a Keras-legacy layout and a Keras 3
.weights.h5 layout, chunked and gzip datasets) and NumPy (np.save, np.savez,
np.savez_compressed). Statistics (to 1e-5) and the decoded values (exactly) must match. Each tool that is missing is skipped; with none available the test exits
77 (skipped).

With SAMPLE (the bundled stories260K.safetensors, a real trained model), its 47 tensors are also
read here with a plain NumPy reader of the format and written as a real checkpoint of each kind:
a Hugging Face-style pytorch_model.bin by torch.save, an .npz by np.savez_compressed, a Keras 3
.weights.h5 layout by h5py (kernels stored [in, out] as Keras does), and a sharded safetensors
folder (two shards, model.safetensors.index.json, config.json) written by this script from the
format's specification, independently of Quantscope's own writer.

usage: framework_reference.py CLI WORKDIR [SAMPLE]
"""
import json
import os
import subprocess
import sys

import numpy as np

failures, checked = [], []


def cli_stats(exe, path):
    r = subprocess.run([exe, "stats", path, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"stats {path} failed ({r.returncode}): {r.stderr.strip()}")
        return {}
    return {row["name"]: row for row in json.loads(r.stdout)["tensors"]}


def compare(exe, path, expected):
    """expected: name -> float64 numpy array (row-major, as the tool stores it)."""
    rows = cli_stats(exe, path)
    for name, x in expected.items():
        row = rows.get(name)
        if row is None:
            failures.append(f"{path}: tensor {name} missing (have {sorted(rows)[:8]})")
            continue
        if list(row["shape"]) != list(x.shape):
            failures.append(f"{path}: {name} shape {row['shape']} vs {list(x.shape)}")
            continue
        v = x.astype(np.float64).ravel()
        d = v - v.mean()
        m2 = (d ** 2).mean()
        want = {"mean": v.mean(), "std": v.std(), "min": v.min(), "max": v.max(),
                "kurtosis": (d ** 4).mean() / m2 ** 2 - 3 if m2 > 0 else 0.0}
        for key, w in want.items():
            got = row[key]
            tol = 1e-5 * max(abs(w), v.std() if key == "mean" else 0.0, 1e-30)
            if got is None or abs(got - w) > tol:
                failures.append(f"{path}: {name} {key} {got!r} vs numpy {w!r}")
        # Statistics do not see element order: the decoded values must match element for element.
        out = os.path.join(os.path.dirname(path), "dequant.npy")
        r = subprocess.run([exe, "dequant", path, "--tensor", name, "--out", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"dequant {path} {name} failed: {r.stderr.strip()}")
            continue
        got = np.load(out)
        if got.shape != x.shape or not np.array_equal(got, x.astype(np.float32)):
            failures.append(f"{path}: {name} decoded values differ from the tool's")
            continue
        checked.append(f"{os.path.basename(path)}:{name}")


def torch_files(exe, work):
    try:
        import torch
    except ImportError:
        return False
    g = torch.Generator().manual_seed(0)
    base = torch.randn(6, 8, generator=g)
    sd = {
        "layer.weight": torch.randn(16, 32, generator=g),
        "layer.half": torch.randn(8, 8, generator=g).half(),
        "layer.bf16": torch.randn(4, 16, generator=g).bfloat16(),
        "layer.int8": torch.randint(-128, 127, (5, 7), generator=g, dtype=torch.int8),
        "view.rows": base[2:5],          # offset into a shared storage
        "view.t": base.t(),              # non-contiguous
        "view.base": base,
        "param": torch.nn.Parameter(torch.randn(3, 3, generator=g)),
    }
    path = os.path.join(work, "model.pt")
    torch.save({"state_dict": sd}, path)
    compare(exe, path, {k: v.detach().float().numpy() for k, v in sd.items()})
    lin = torch.nn.Linear(12, 5)
    path2 = os.path.join(work, "linear.bin")
    torch.save(lin.state_dict(), path2)
    compare(exe, path2, {k: v.detach().numpy() for k, v in lin.state_dict().items()})
    return True


def h5py_files(exe, work):
    try:
        import h5py
    except ImportError:
        return False
    rng = np.random.default_rng(1)
    k = rng.standard_normal((12, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    path = os.path.join(work, "legacy.h5")
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"dense"]
        d = g.create_group("dense")
        d.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        d.create_dataset("dense/kernel:0", data=k)
        d.create_dataset("dense/bias:0", data=b)
    compare(exe, path, {"dense/dense/kernel:0": k, "dense/dense/bias:0": b})
    h = rng.standard_normal((64, 32)).astype(np.float16)
    path2 = os.path.join(work, "model.weights.h5")
    with h5py.File(path2, "w") as f:
        f.create_dataset("layers/dense/vars/0", data=k, chunks=(4, 5), compression="gzip")
        f.create_dataset("layers/dense/vars/1", data=b)
        f.create_dataset("layers/other/vars/0", data=h)
    compare(exe, path2, {"layers/dense/vars/0": k, "layers/dense/vars/1": b,
                         "layers/other/vars/0": h})
    return True


def numpy_files(exe, work):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((20, 30)).astype(np.float32)
    f = np.asfortranarray(rng.standard_normal((7, 9)))
    h = rng.standard_normal(100).astype(">f2")
    np.save(os.path.join(work, "a.npy"), a)
    compare(exe, os.path.join(work, "a.npy"), {"a": a})
    np.save(os.path.join(work, "fortran.npy"), f)
    compare(exe, os.path.join(work, "fortran.npy"), {"fortran": f})
    for name, save in (("plain.npz", np.savez), ("zipped.npz", np.savez_compressed)):
        save(os.path.join(work, name), a=a, f=f, h=h)
        compare(exe, os.path.join(work, name), {"a": a, "f": f, "h": h.astype(np.float64)})
    return True


def read_safetensors(path):
    """name -> array, straight from the format: u64 header length, JSON header, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    dtypes = {"F32": "<f4", "F16": "<f2", "BF16": None}
    out = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        buf = raw[8 + n + lo:8 + n + hi]
        if info["dtype"] == "BF16":
            a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, dtypes[info["dtype"]])
        out[name] = a.reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    """The format as its specification (and the safetensors library) lays it out: the JSON
    header padded with spaces to a multiple of 8, tensors in order, little-endian."""
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def real_model_files(exe, work, sample):
    """stories260K's real weights in every kind of checkpoint people have."""
    weights = read_safetensors(sample)
    ran = []
    try:
        import torch
        path = os.path.join(work, "pytorch_model.bin")
        torch.save({k: torch.from_numpy(v) for k, v in weights.items()}, path)
        compare(exe, path, weights)
        ran.append("torch")
    except ImportError:
        pass
    path = os.path.join(work, "stories.npz")
    np.savez_compressed(path, **weights)
    compare(exe, path, weights)
    ran.append("npz")
    try:
        import h5py
        path = os.path.join(work, "stories.weights.h5")
        expected = {}
        with h5py.File(path, "w") as f:
            for i, (name, v) in enumerate(weights.items()):
                key = f"layers/{name.replace('.', '_')}/vars/0"
                stored = v.T if v.ndim == 2 else v  # Keras kernels are [in, out]
                f.create_dataset(key, data=stored)
                expected[key] = stored
        compare(exe, path, expected)
        ran.append("h5py")
    except ImportError:
        pass
    folder = os.path.join(work, "stories-sharded")
    os.makedirs(folder, exist_ok=True)
    names = list(weights)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(shards):
        shard = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(os.path.join(folder, shard), {k: weights[k] for k in part})
        weight_map.update({k: shard for k in part})
    total = sum(v.nbytes for v in weights.values())
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    config = os.path.join(os.path.dirname(sample), "config.json")
    if os.path.exists(config):
        with open(config) as src, open(os.path.join(folder, "config.json"), "w") as dst:
            dst.write(src.read())
    compare(exe, folder, weights)
    ran.append("sharded safetensors")
    return ran


def main():
    exe, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    ran = [name for name, fn in (("torch", torch_files), ("h5py", h5py_files),
                                 ("numpy", numpy_files)) if fn(exe, work)]
    if len(sys.argv) > 3:
        ran += ["stories260K as " + kind for kind in real_model_files(exe, work, sys.argv[3])]
    if failures:
        print("\n".join(failures))
        print(f"{len(checked)} passed, {len(failures)} failed")
        sys.exit(1)
    print(f"framework files ({', '.join(ran)}): {len(checked)} tensors agree with numpy")
    if not ran:
        sys.exit(77)


if __name__ == "__main__":
    main()
