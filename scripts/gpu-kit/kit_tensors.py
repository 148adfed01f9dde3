"""Tensor files for the GPU kit, with the standard library only (no NumPy on the build machine).

  kit_tensors.py clips PATH NxCxLxHxW SEED     float32 .npy of N(0, 1) values (deterministic)
  kit_tensors.py labels PATH N CLASSES         int64 .npy: 0, 1, ... modulo CLASSES
  kit_tensors.py subset IN OUT MAX_ELEMENTS    safetensors with the tensors of IN that have at
                                               most MAX_ELEMENTS elements (all when MAX is 0)
"""
import array
import json
import random
import struct
import sys


def write_npy(path, descr, shape, payload):
    dims = "".join(f"{s}, " for s in shape) if len(shape) > 1 else f"{shape[0]},"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload)


def subset(src, dst, limit):
    with open(src, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    base, kept, blobs, offset = 8 + size, {}, [], 0
    for name in sorted(header):
        info = header[name]
        elements = 1
        for s in info["shape"]:
            elements *= s
        if limit and elements > limit:
            continue
        begin, end = info["data_offsets"]
        blobs.append(data[base + begin:base + end])
        kept[name] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [offset, offset + end - begin]}
        offset += end - begin
    text = json.dumps(kept, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))
    print(f"{len(kept)} of {len(header)} tensors")


def main():
    kind = sys.argv[1]
    if kind == "clips":
        shape = [int(s) for s in sys.argv[3].split("x")]
        rng = random.Random(int(sys.argv[4]))
        n = 1
        for s in shape:
            n *= s
        write_npy(sys.argv[2], "<f4", shape, array.array("f", (rng.gauss(0, 1) for _ in range(n))).tobytes())
    elif kind == "labels":
        n, classes = int(sys.argv[3]), int(sys.argv[4])
        write_npy(sys.argv[2], "<i8", [n], array.array("q", (i % classes for i in range(n))).tobytes())
    elif kind == "subset":
        subset(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
