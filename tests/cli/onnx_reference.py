#!/usr/bin/env python3
"""quantscope-cli on ONNX models written by the official `onnx` Python package (run by ctest).

Writes models with onnx.helper / onnx.save (raw_data, typed int32_data holding float16 bits,
bfloat16, int8, a Constant inside an If branch, and external data in a side file), reads the
values back with onnx.numpy_helper (or plain NumPy on the bits for bfloat16), and checks that
`quantscope-cli stats --json` equals NumPy's float64 statistics and `dequant` the exact values.
Then, when REAL_DIR holds them, the same checks on real models exported by their authors: the
Silero VAD models (MIT) shipped in the npm package @ricky0123/vad-web, which `scripts/quantscope
test` fetches into build/real-models/ (torch.onnx's export with nested If subgraphs, and spox's
with initializers inside subgraphs): every tensor named and its statistics as onnx itself walks
them, and the exact values of every tensor of 256 values or more.
Exits 77 (skipped) when the onnx package is missing.

usage: onnx_reference.py CLI WORKDIR [REAL_DIR]
"""
import json
import os
import subprocess
import sys

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    print("python3-onnx is not installed: skipping")
    sys.exit(77)

failures = []


def cli(exe, *args):
    r = subprocess.run([exe, *args, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"quantscope-cli {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round half to even (finite inputs)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def build(work):
    rng = np.random.default_rng(11)
    w = (rng.standard_normal((64, 48)) * 0.02).astype(np.float32)
    w[3, 5] = 0.5  # an outlier, so kurtosis is far from zero
    h = (rng.standard_normal((32, 16)) * 0.1).astype(np.float16)
    b = bf16_bits(rng.standard_normal((16, 8)).astype(np.float32))
    q = rng.integers(-128, 128, size=(24, 4)).astype(np.int8)
    k = rng.uniform(-1, 1, size=(5,)).astype(np.float32)
    inits = [
        numpy_helper.from_array(w, "w_f32"),
        # make_tensor stores float16 values as their bit patterns in int32_data.
        helper.make_tensor("h_f16", TensorProto.FLOAT16, h.shape, h.astype(np.float32).ravel()),
        helper.make_tensor("b_bf16", TensorProto.BFLOAT16, b.shape, b.tobytes(), raw=True),
        helper.make_tensor("q_i8", TensorProto.INT8, q.shape, q.astype(np.int32).ravel().tolist()),
    ]
    then_branch = helper.make_graph(
        [helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(k))], "then", [],
        [helper.make_tensor_value_info("k", TensorProto.FLOAT, [5])])
    else_branch = helper.make_graph(
        [helper.make_node("Constant", [], ["k2"], value=numpy_helper.from_array(-k))], "else", [],
        [helper.make_tensor_value_info("k2", TensorProto.FLOAT, [5])])
    gate = helper.make_node("If", ["cond"], ["out"], name="gate", then_branch=then_branch,
                            else_branch=else_branch)
    graph = helper.make_graph([gate], "ref", [helper.make_tensor_value_info(
        "cond", TensorProto.BOOL, [])], [helper.make_tensor_value_info(
            "out", TensorProto.FLOAT, [5])], initializer=inits)
    model = helper.make_model(graph, producer_name="onnx_reference.py")
    onnx.checker.check_model(model)
    f16 = next(t for t in model.graph.initializer if t.name == "h_f16")
    assert list(f16.int32_data[:3]) == h.view(np.uint16).ravel()[:3].tolist() and not f16.raw_data
    assert np.array_equal(numpy_helper.to_array(f16), h)
    inline = os.path.join(work, "reference.onnx")
    onnx.save(model, inline)
    external_dir = os.path.join(work, "reference_external")
    os.makedirs(external_dir, exist_ok=True)
    external = os.path.join(external_dir, "model.onnx")
    for name in os.listdir(external_dir):
        os.remove(os.path.join(external_dir, name))
    onnx.save(model, external, save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=1024)
    return inline, external, b


def expected_values(path, bf16):
    """Every tensor as float32, decoded by onnx itself (bfloat16 from its bits by NumPy)."""
    model = onnx.load(path)  # loads external data from beside the model
    out = {}
    for t in model.graph.initializer:
        if t.data_type == TensorProto.BFLOAT16:
            out[t.name] = (bf16.astype(np.uint32) << 16).view(np.float32)
        else:
            out[t.name] = numpy_helper.to_array(t).astype(np.float32)
    for node in model.graph.node:
        for attr in node.attribute:
            for branch in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else []):
                for sub in branch.node:
                    if sub.op_type == "Constant":
                        name = f"{node.name}/{attr.name}/{sub.output[0]}"
                        out[name] = numpy_helper.to_array(sub.attribute[0].t).astype(np.float32)
    return out


def walk_graph(graph, prefix, out):
    """Initializers and Constant tensors of a graph and of its subgraphs, at any depth, named
    as Quantscope names them: node/attribute/ before everything inside a subgraph."""
    for t in graph.initializer:
        out[prefix + t.name] = numpy_helper.to_array(t).astype(np.float32)
    for node in graph.node:
        if node.op_type == "Constant":
            value = [a for a in node.attribute if a.name == "value"]
            if value:
                out[prefix + node.output[0]] = numpy_helper.to_array(value[0].t).astype(np.float32)
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
            for sub in subgraphs:
                walk_graph(sub, f"{prefix}{node.name}/{attr.name}/", out)


def real_values(path):
    out = {}
    walk_graph(onnx.load(path).graph, "", out)
    return out


def check_model(exe, path, bf16, work, dequant_min=0):
    want = expected_values(path, bf16) if bf16 is not None else real_values(path)
    stats = {r["name"]: r for r in cli(exe, "stats", path)["tensors"]}
    if sorted(stats) != sorted(want):
        failures.append(f"{path}: tensors {sorted(stats)} vs onnx {sorted(want)}")
        return
    for name, w in want.items():
        x = w.astype(np.float64).ravel()
        d = x - x.mean()
        m2 = (d ** 2).mean()
        kurt = (d ** 4).mean() / m2 ** 2 - 3 if m2 > 0 else 0.0
        s = stats[name]
        if s["shape"] != list(w.shape):
            failures.append(f"{name}: shape {s['shape']} vs {list(w.shape)}")
        for key, ref in (("std", x.std()), ("min", x.min()), ("max", x.max()),
                         ("kurtosis", kurt)):
            if not np.isclose(s[key], ref, rtol=1e-5, atol=0):
                failures.append(f"{path} {name} {key}: quantscope {s[key]!r} vs numpy {ref!r}")
        if abs(s["mean"] - x.mean()) > 1e-5 * max(x.std(), abs(x.mean())):
            failures.append(f"{path} {name} mean: {s['mean']!r} vs {x.mean()!r}")
        if w.size < dequant_min:
            continue
        out = os.path.join(work, "onnx_dequant.npy")
        cli(exe, "dequant", path, "--tensor", name, "--out", out)
        got = np.load(out)
        if got.shape != w.shape or not np.array_equal(got, w):
            failures.append(f"{path} {name}: dequant differs from onnx's values")
    return len(want)


def main():
    exe, work = sys.argv[1:3]
    os.makedirs(work, exist_ok=True)
    inline, external, bf16 = build(work)
    n = check_model(exe, inline, bf16, work)
    m = check_model(exe, external, bf16, work)
    stored = onnx.load(external, load_external_data=False).graph.initializer
    if [t.name for t in stored if t.data_location == TensorProto.EXTERNAL] != ["w_f32"]:
        failures.append("onnx.save did not put w_f32 (alone) in external data")
    real = []
    real_dir = sys.argv[3] if len(sys.argv) > 3 else ""
    for name in ("silero_vad_legacy.onnx", "silero_vad_v5.onnx"):
        path = os.path.join(real_dir, name)
        if real_dir and os.path.exists(path):
            real.append(f"{name} {check_model(exe, path, None, work, dequant_min=256)}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"onnx reference: stats and dequant equal for {n} tensors inline and {m} with "
          f"external data; real models: {', '.join(real) or 'not fetched'}")


if __name__ == "__main__":
    main()
