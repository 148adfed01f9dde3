"""Makes the .npy, safetensors and bundle files the vidrun lit tests feed to it, good and
bad, with the standard library only (the lit Python may have no NumPy).

usage: files.py npy PATH DESCR SHAPE [truncate]      SHAPE like 3x3x2x8x8, random values
       files.py labels PATH N K [BAD]                 int64 labels i % K (BAD: the last one is K)
       files.py st-drop IN OUT NAME                   safetensors without tensor NAME
       files.py st-reshape IN OUT NAME                NAME's shape with one more leading dim
       files.py st-dtype IN OUT NAME                  NAME relabelled I32 (same byte count)
       files.py manifest-set BUNDLE JSONPATH VALUE    e.g. tensors.0.offset 99999999
       files.py damage FILE truncate|extend|overwrite N
                                                      keep the first N bytes, append N zero bytes,
                                                      or overwrite 4 bytes at offset N
"""
import json
import random
import struct
import sys


def npy(path, descr, shape, truncate=False):
    dims = [int(d) for d in shape.split("x")]
    n = 1
    for d in dims:
        n *= d
    size = {"<f4": 4, "<f8": 8, "<i4": 4}[descr]
    code = {"<f4": "f", "<f8": "d", "<i4": "i"}[descr]
    rng = random.Random(7)
    values = [rng.uniform(-1, 1) if code != "i" else rng.randint(-5, 5) for _ in range(n)]
    data = struct.pack(f"<{n}{code}", *values)
    shape_text = "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
    assert len(data) == n * size
    with open(path, "wb") as f:
        f.write(blob[: len(blob) - 7] if truncate else blob)


def labels(path, n, k, bad=False):
    values = [i % k for i in range(n)]
    if bad:
        values[-1] = k
    header = f"{{'descr': '<i8', 'fortran_order': False, 'shape': ({n},), }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{n}q", *values))


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def write_st(path, header, tensors):
    """tensors: name -> bytes; offsets recomputed."""
    offset, blobs = 0, []
    for name in sorted(tensors):
        header[name]["data_offsets"] = [offset, offset + len(tensors[name])]
        offset += len(tensors[name])
        blobs.append(tensors[name])
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def edit_st(kind, src, dst, name):
    header, data = read_st(src)
    tensors = {k: data[v["data_offsets"][0] : v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}
    if kind == "st-drop":
        del header[name], tensors[name]
    elif kind == "st-reshape":
        header[name]["shape"] = [2] + header[name]["shape"]
        tensors[name] = tensors[name] * 2
    elif kind == "st-dtype":
        header[name]["dtype"] = "I32"
    write_st(dst, header, tensors)


def manifest_set(bundle, path, value):
    with open(bundle + "/manifest.json") as f:
        m = json.load(f)
    node, keys = m, path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[keys[-1]] = json.loads(value)
    with open(bundle + "/manifest.json", "w") as f:
        json.dump(m, f)


def damage(path, how, n):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "truncate":
        data = data[:n]
    elif how == "extend":
        data += bytes(n)
    elif how == "overwrite":
        data[n : n + 4] = bytes(b ^ 0xFF for b in data[n : n + 4])
    else:
        raise SystemExit("damage: truncate, extend or overwrite")
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "npy":
        npy(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5)
    elif cmd.startswith("st-"):
        edit_st(cmd, *sys.argv[2:5])
    elif cmd == "labels":
        labels(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), len(sys.argv) > 5)
    elif cmd == "manifest-set":
        manifest_set(*sys.argv[2:5])
    elif cmd == "damage":
        damage(sys.argv[2], sys.argv[3], int(sys.argv[4]))
