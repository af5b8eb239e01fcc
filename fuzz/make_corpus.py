#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (kept in the
repository; rerun to regenerate). Small, valid files written by the real tools where they are
installed (NumPy, PyTorch, h5py, onnx) and by hand from the published layouts otherwise, so the
fuzzer starts from inputs that reach deep into each parser."""

import io
import json
import os
import struct
import sys
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blobs, off = {}, b"", 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs += raw
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blobs


def gguf(kvs, tensors, version=3, alignment=32):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    def value(t, v):
        if t == 8:
            return s(v)
        if t == 9:
            et, items = v
            return struct.pack("<IQ", et, len(items)) + b"".join(value(et, i) for i in items)
        fmt = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
               10: "<Q", 11: "<q", 12: "<d"}[t]
        return struct.pack(fmt, v)

    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, (t, v) in kvs.items():
        out += s(k) + struct.pack("<I", t) + value(t, v)
    data, off = b"", 0
    for name, ggml_type, dims, raw in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, off)
        pad = -len(raw) % alignment
        data += raw + b"\0" * pad
        off += len(raw) + pad
    out += b"\0" * (-len(out) % alignment)
    return out + data


def main():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 8)).astype(np.float32)

    # safetensors
    put("safetensors", "f32.safetensors", safetensors({"w": ("F32", [4, 8], w.tobytes())},
                                                      {"format": "pt"}))
    put("safetensors", "mixed.safetensors", safetensors({
        "a": ("F16", [2, 3], w.ravel()[:6].astype(np.float16).tobytes()),
        "b": ("BF16", [4], (w.ravel()[:4].view(np.uint32) >> 16).astype(np.uint16).tobytes()),
        "c": ("I8", [3], bytes([1, 255, 7])),
        "d": ("F32", [0, 4], b""),
        "e": ("F64", [], struct.pack("<d", 1.5))}))
    # sharded index (the fuzz target writes the shard holding "a" and "b")
    put("safetensors_index", "index.json", json.dumps(
        {"metadata": {"total_size": 24},
         "weight_map": {"a": "model-00001-of-00001.safetensors",
                        "b": "model-00001-of-00001.safetensors"}}))
    put("safetensors_index", "missing.json", json.dumps(
        {"weight_map": {"a": "model-00001-of-00001.safetensors", "z": "other.safetensors"}}))

    # GGUF: metadata of every type, nested arrays, and F32/F16/Q8_0/Q4_0/Q4_K tensors
    kvs = {"general.architecture": (8, "llama"), "general.alignment": (4, 32),
           "llama.block_count": (4, 1), "f": (6, 0.5), "d": (12, 2.0), "b": (7, True),
           "i8": (1, -3), "u16": (2, 9), "i64": (11, -1), "u64": (10, 5),
           "tokens": (9, (8, ["a", "b", "<s>"])),
           "nested": (9, (9, [(5, [1, 2]), (5, [3])]))}
    q8 = struct.pack("<e", 0.01) + bytes(rng.integers(0, 256, 32, dtype=np.uint8))
    q4 = struct.pack("<e", 0.02) + bytes(rng.integers(0, 256, 16, dtype=np.uint8))
    qk = bytes(rng.integers(0, 256, 144, dtype=np.uint8))
    put("gguf", "types.gguf", gguf(kvs, [
        ("f32", 0, [8, 4], w.tobytes()),
        ("f16", 1, [8, 4], w.astype(np.float16).tobytes()),
        ("q8_0", 8, [32, 1], q8), ("q4_0", 2, [32, 1], q4), ("q4_k", 12, [256, 1], qk)]))
    put("gguf", "v2.gguf", gguf({"general.architecture": (8, "gpt2")},
                                [("t", 0, [4], w.ravel()[:4].tobytes())], version=2))

    # NumPy
    for name, arr in {"f32": w, "f16": w.astype(np.float16), "i64": np.arange(6).reshape(2, 3),
                      "fortran": np.asfortranarray(w), "big": w.astype(">f4"),
                      "scalar": np.float32(3.0), "bool": np.array([True, False])}.items():
        b = io.BytesIO()
        np.save(b, arr)
        put("npy", name + ".npy", b.getvalue())
    for name, fn in {"stored": np.savez, "deflated": np.savez_compressed}.items():
        b = io.BytesIO()
        fn(b, w=w, bias=w[0].astype(np.float16))
        put("npz", name + ".npz", b.getvalue())

    # PyTorch (torch.save) and the raw pickles inside
    try:
        import torch
        t = torch.from_numpy(w)
        dicts = {"plain": {"w": t, "b": t[0].clone().to(torch.bfloat16)},
                 "views": {"w": t, "wt": t.t(), "row": t[1], "half": t.half()},
                 "wrapped": {"state_dict": {"layer.weight": torch.nn.Parameter(t.clone())},
                             "epoch": 3}}
        for name, obj in dicts.items():
            b = io.BytesIO()
            torch.save(obj, b)
            put("torch_zip", name + ".pt", b.getvalue())
            with zipfile.ZipFile(io.BytesIO(b.getvalue())) as z:
                pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
                put("pickle", name + ".pkl", z.read(pkl))
    except ImportError:
        print("torch not installed: no torch_zip seeds", file=sys.stderr)
    import pickle
    put("pickle", "containers.pkl", pickle.dumps(
        {"a": [1, 2.5, "x", None, True, (1, 2)], "b": b"bytes", "c": {"d": 2**70}}, protocol=2))
    # A pickle that would run os.system: the unpickler must refuse it without running it.
    put("pickle", "evil.pkl", b"\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.")

    # HDF5 (h5py): Keras legacy layout and a generic file
    try:
        import h5py
        b = io.BytesIO()
        with h5py.File(b, "w") as f:
            g = f.create_group("model_weights/dense")
            g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
            f["model_weights"].attrs["layer_names"] = [b"dense"]
            g.create_dataset("dense/kernel:0", data=w)
            g.create_dataset("dense/bias:0", data=w[0].astype(np.float16))
        put("hdf5", "keras.h5", b.getvalue())
        b = io.BytesIO()
        with h5py.File(b, "w") as f:
            f.create_dataset("a/b/c", data=w, chunks=(2, 4), compression="gzip")
            f.create_dataset("ints", data=np.arange(10, dtype=np.int16))
        put("hdf5", "generic.h5", b.getvalue())
    except ImportError:
        print("h5py not installed: no hdf5 seeds", file=sys.stderr)

    # ONNX
    try:
        import onnx
        from onnx import helper, numpy_helper, TensorProto
        init = [numpy_helper.from_array(w, "w"),
                numpy_helper.from_array(w[0].astype(np.float16), "h"),
                helper.make_tensor("f", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])]
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, [1, 4])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 8])], init)
        put("onnx", "matmul.onnx", helper.make_model(graph).SerializeToString())
    except ImportError:
        print("onnx not installed: no onnx seeds", file=sys.stderr)

    # Scheme specs and plans
    specs = ["int4:g128", "int8:channel:sym", "int4:g32:sym:range=full", "nf4:g64:dq",
             "fp8_e4m3", "mxfp4", "nvfp4", "q4_k", "q6_k", "iq4_nl", "mulaw8", "alaw8",
             "hqq4:g64", "sinq_nf4:g64", "gptq4:g128", "awq4:g128", "int3:g64:clip=mse",
             "kmeans4:channel", "int4:g64:round=stochastic"]
    for i, s in enumerate(specs):
        put("scheme", "spec%02d" % i, s)
    put("plan", "plan.json", json.dumps(
        {"budget_bpw": 4.5, "bits_per_weight": 4.4, "rel_rmse": 0.08, "default": "int4:g64",
         "candidates": ["int4:g64", "q8_0"], "keep": {"lm_head.*": "q8_0"},
         "tensors": {"a.weight": "nf4:g64", "b.weight": "q8_0"}}))
    put("plan", "minimal.json", '{"tensors": {}}')


if __name__ == "__main__":
    main()
