#!/usr/bin/python3
"""Writes the hostile-file collection (tests/hostile/files/, kept in the repository): malicious
pickles, lying headers, bombs and garbage. `hostile_files.py` checks that `info` and `stats`
reject each one quickly with one clean error line and that nothing in them runs. Every
malicious payload would create CANARY if it were ever executed."""

import io
import json
import os
import random
import struct
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
CANARY = "/tmp/quantscope-hostile-canary"


def put(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def pstr(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def torch_zip(pkl, extra=()):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")
        z.writestr("archive/byteorder", "little")
        for name, data in extra:
            z.writestr(name, data)
    return b.getvalue()


def st(header, body=b"", declared=None):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(h) if declared is None else declared) + h + body


def gguf_head(n_tensors, n_kv, version=3):
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def main():
    cmd = "touch " + CANARY
    # --- pickles that would run code, inside torch.save's zip layout ---
    put("pickle_os_system.pt", torch_zip(
        b"\x80\x02cos\nsystem\n" + pstr(cmd) + b"\x85R."))
    put("pickle_posix_system.pt", torch_zip(
        b"\x80\x02cposix\nsystem\n" + pstr(cmd) + b"\x85R."))
    put("pickle_eval.pt", torch_zip(
        b"\x80\x02cbuiltins\neval\n" + pstr("__import__('os').system('%s')" % cmd) + b"\x85R."))
    put("pickle_subprocess.pt", torch_zip(
        b"\x80\x02csubprocess\ncheck_call\n" + pstr("touch") + pstr(CANARY) +
        b"\x86\x85R."))
    put("pickle_stack_global.pt", torch_zip(
        b"\x80\x04" + pstr("os") + pstr("system") + b"\x93" + pstr(cmd) + b"\x85R."))
    put("pickle_inst.pt", torch_zip(b"(" + pstr(cmd) + b"ios\nsystem\n."))
    put("pickle_obj.pt", torch_zip(b"\x80\x02(cos\nsystem\n" + pstr(cmd) + b"o."))
    put("pickle_build_setstate.pt", torch_zip(
        b"\x80\x02ccollections\nOrderedDict\n)R}" + pstr("__setstate__") +
        b"cos\nsystem\nsb" + pstr(cmd) + b"b."))
    # a state dict whose tensor rebuild is really os.system
    put("pickle_fake_rebuild.pt", torch_zip(
        b"\x80\x02}" + pstr("w") + b"cos\nsystem\n" + pstr(cmd) + b"\x85Rs."))
    put("pickle_deep_nesting.pt", torch_zip(b"\x80\x02" + b"]" * 50000 + b"."))
    put("pickle_nested_lists.pt", torch_zip(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."))
    put("pickle_nested_dicts.pt", torch_zip(
        b"\x80\x02" + (b"}" + pstr("k")) * 100000 + b"}" + b"s" * 100000 + b"."))
    # a list that holds itself (through the memo): refused, and freed
    put("pickle_cycle.pt", torch_zip(b"\x80\x02]q\x00h\x00a."))
    put("pickle_memo_bomb.pt", torch_zip(b"\x80\x02]q\x00" + b"h\x00" * 50000 + b"."))
    put("pickle_huge_string.pt", torch_zip(b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0) + b"ab."))
    # the legacy (non-zip) torch format is a raw pickle stream: refused with a message
    put("legacy_torch_os_system.pth", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19." +
        b"\x80\x02cos\nsystem\n" + pstr(cmd) + b"\x85R.")
    put("raw_pickle.pkl", b"\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00cos\nsystem\n" +
        pstr(cmd) + b"\x85R.")
    # storage record names that try to escape the archive
    put("torch_storage_traversal.pt", torch_zip(
        b"\x80\x02}" + pstr("w") + b"ctorch._utils\n_rebuild_tensor_v2\n(" +
        b"(" + pstr("storage") + b"ctorch\nFloatStorage\n" + pstr("../../../../etc/passwd") +
        pstr("cpu") + b"K\x04tQK\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq\x00Rs."))

    # --- safetensors that lie ---
    put("st_header_len_huge.safetensors", st({"w": {"dtype": "F32", "shape": [1],
                                                  "data_offsets": [0, 4]}}, declared=2**63))
    put("st_header_len_past_end.safetensors", st(b'{"a":1}', declared=4096))
    put("st_offsets_past_end.safetensors", st({"w": {"dtype": "F32", "shape": [4],
                                                   "data_offsets": [0, 1 << 40]}}))
    put("st_shape_overflow.safetensors", st({"w": {"dtype": "F32", "shape": [2**62, 2**62],
                                                 "data_offsets": [0, 16]}}, b"\0" * 16))
    put("st_shape_negative.safetensors", st({"w": {"dtype": "F32", "shape": [-4],
                                                 "data_offsets": [0, 16]}}, b"\0" * 16))
    put("st_size_mismatch.safetensors", st({"w": {"dtype": "F32", "shape": [1000000],
                                                "data_offsets": [0, 16]}}, b"\0" * 16))
    put("st_overlap.safetensors", st({
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, b"\0" * 24))
    put("st_deep_json.safetensors", st(b"[" * 100000 + b"]" * 100000))
    put("st_many_dims.safetensors", st({"w": {"dtype": "F32", "shape": [1] * 10000,
                                            "data_offsets": [0, 4]}}, b"\0" * 4))
    put("st_bad_utf8.safetensors", st(b'{"\xff\xfe": {"dtype": "F32"}}'))

    # --- GGUF that lies ---
    put("gguf_tensor_count_huge.gguf", gguf_head(2**60, 0) + b"\0" * 64)
    put("gguf_kv_count_huge.gguf", gguf_head(0, 2**60) + b"\0" * 64)
    put("gguf_key_len_huge.gguf", gguf_head(0, 1) + struct.pack("<Q", 2**62) + b"key")
    put("gguf_array_count_huge.gguf", gguf_head(0, 1) + gstr("a") +
        struct.pack("<IIQ", 9, 4, 2**61) + b"\0" * 64)
    deep = b""
    for _ in range(10000):
        deep += struct.pack("<IQ", 9, 1)
    put("gguf_nested_arrays_deep.gguf", gguf_head(0, 1) + gstr("a") + struct.pack("<I", 9) +
        deep + struct.pack("<IQ", 4, 0))
    put("gguf_dims_huge.gguf", gguf_head(1, 0) + gstr("t") + struct.pack("<I", 4) +
        struct.pack("<QQQQ", 2**40, 2**40, 2**40, 2**40) + struct.pack("<IQ", 0, 0) +
        b"\0" * 64)
    put("gguf_n_dims_huge.gguf", gguf_head(1, 0) + gstr("t") + struct.pack("<I", 1 << 30) +
        b"\0" * 64)
    put("gguf_offset_past_end.gguf", gguf_head(1, 0) + gstr("t") + struct.pack("<I", 1) +
        struct.pack("<Q", 8) + struct.pack("<IQ", 0, 1 << 40) + b"\0" * 64)
    put("gguf_bad_type.gguf", gguf_head(0, 1) + gstr("a") + struct.pack("<I", 0x7FFFFFFF) +
        b"\0" * 64)
    put("gguf_version_99.gguf", gguf_head(0, 0, version=99) + b"\0" * 64)

    # --- NumPy ---
    def npy(header, body=b""):
        h = header.encode()
        h += b" " * (-(10 + len(h) + 1) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + body

    put("npy_shape_lies.npy", npy("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (1000000000000,), }", b"\0" * 16))
    put("npy_shape_overflow.npy", npy("{'descr': '<f4', 'fortran_order': False, "
                                      "'shape': (4294967296, 4294967296, 4294967296), }"))
    put("npy_object_dtype.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                                    b"\x80\x02cos\nsystem\n" + pstr(cmd) + b"\x85R."))
    put("npy_code_in_header.npy", npy("{'descr': __import__('os').system('%s'), "
                                      "'fortran_order': False, 'shape': (1,), }" % cmd,
                                      b"\0" * 4))
    put("npy_header_len_past_end.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")
    put("npy_v3_huge_header.npy", b"\x93NUMPY\x03\x00" + struct.pack("<I", 0xFFFFFFFF) + b"{")

    # --- ZIP-based: bombs and lies ---
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("w.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                                b"\0" * 16))
    data = bytearray(b.getvalue())
    # the central directory claims 4 GiB uncompressed for the member
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = struct.pack("<I", 0xFFFFFFFF)
    put("npz_size_lies.npz", bytes(data))
    put("zip_truncated.npz", b.getvalue()[: len(b.getvalue()) // 2])

    # --- HDF5 and ONNX garbage ---
    rnd = random.Random(1234)
    put("hdf5_garbage.h5", b"\x89HDF\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(4096)))
    put("hdf5_superblock_only.h5", b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00" +
        b"\xff" * 64)
    # ONNX: an initializer whose external data points outside the model's folder
    def field(num, wire, payload):
        key = bytes([(num << 3) | wire])
        if wire == 2:
            return key + varint(len(payload)) + payload
        return key + payload

    def varint(n):
        out = b""
        while True:
            byte = n & 0x7F
            n >>= 7
            if n:
                out += bytes([byte | 0x80])
            else:
                return out + bytes([byte])

    def kv(k, v):
        return field(1, 2, k.encode()) + field(2, 2, v.encode())

    tensor = (field(1, 0, varint(4)) + field(2, 0, varint(1)) + field(8, 2, b"w") +
              field(13, 2, kv("location", "../../../../etc/passwd")) +
              field(13, 2, kv("length", "16")) + field(14, 0, varint(1)))
    graph = field(1, 2, b"") + field(5, 2, tensor)
    put("onnx_external_traversal.onnx", field(1, 0, varint(8)) + field(7, 2, graph))
    raw_lie = (field(1, 0, varint(1 << 40)) + field(2, 0, varint(1)) + field(8, 2, b"w") +
               field(9, 2, b"\0" * 16))
    put("onnx_raw_data_lies.onnx", field(1, 0, varint(8)) + field(7, 2, field(5, 2, raw_lie)))
    put("onnx_garbage.onnx", b"\x08\x07\x12" + bytes(rnd.getrandbits(8) for _ in range(2048)))

    # --- nothing and noise ---
    put("empty.bin", b"")
    put("random.bin", bytes(rnd.getrandbits(8) for _ in range(4096)))
    put("zeros.bin", b"\0" * 4096)
    put("text.txt", b"just some text, not a checkpoint\n")
    put("json_not_index.json", b'{"hello": "world"}')
    put("index_traversal.safetensors.index.json", json.dumps(
        {"weight_map": {"w": "../../../etc/passwd"}}).encode())


if __name__ == "__main__":
    main()
