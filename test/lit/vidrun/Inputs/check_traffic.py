"""Checks the least traffic `vidrun profile --json` gives each conv of a train step against the
operands counted here from `vidc info --json`'s shapes: the forward conv reads the input rows some
(output, tap) pair reads and the filter taps that read a real row, and writes its output; the
filter gradient reads the same rows and dy and writes dW whole, dead taps included."""
import json
import sys

info, step = (json.load(open(path)) for path in sys.argv[1:3])
batch = step["batch"]


def rows_read(size, pad, stride, taps, outputs):
    return len({o * stride + k - pad for o in range(outputs) for k in range(taps)} & set(range(size)))


def live_taps(size, pad, stride, taps, outputs):
    return sum(1 for k in range(taps) if any(0 <= o * stride + k - pad < size for o in range(outputs)))


def expected(layer, whole_filter):
    source = layer["inputs"][0]
    c, *size = info["input"] if source == -1 else info["layers"][source]["output_shape"]
    f, *out = layer["output_shape"]
    k, s, p = layer["kernel"], layer["stride"], layer["padding"]
    x, w, y = batch * c, c * f, batch * f
    for i in range(3):
        x *= rows_read(size[i], p[i], s[i], k[i], out[i])
        w *= k[i] if whole_filter else live_taps(size[i], p[i], s[i], k[i], out[i])
        y *= out[i]
    return 4 * (x + w + y)


rows = {(row["layer"], row["kind"]): row for row in step["rows"]}
dead = 0
for layer in info["layers"]:
    if layer["kind"] != "conv":
        continue
    for kind, whole in (("conv", False), ("conv filter gradient", True)):
        row = rows[(layer["name"], kind)]
        # A conv split in parts gives each the same share of its bytes as of its flops (rounded down).
        assert 0 <= expected(layer, whole) - row["bytes"] < row["loops"], (layer["name"], kind, row["bytes"], expected(layer, whole))
        assert row["memory_s"] > 0 and row["compute_s"] > 0, row
    dead += expected(layer, True) != expected(layer, False)
assert step["read_gbs"] > 0, step["read_gbs"]
print("conv traffic matches the operands;", dead, "convs with taps that read only padding")
