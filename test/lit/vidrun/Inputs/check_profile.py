"""Checks `vidrun profile --json` against `vidc info --json`: every convolution's work (the
products that read the clip, not padding, counted here from the spec's shapes) appears in the
loop table exactly once per direction, rows name the spec's layers, times add up."""
import json
import sys

info, forward, step = (json.load(open(path)) for path in sys.argv[1:4])
layers = {layer["name"]: layer for layer in info["layers"]}


def real_pairs(low, extent, stride, taps, outputs):
    """(output, tap) pairs of one axis whose input row is real, not padding."""
    return sum(1 for o in range(outputs) for k in range(taps) if low <= o * stride + k < low + extent)


def useful_macs(layer):
    """A conv's multiply-adds that read the clip, not padding (a (2+1)D conv as torchvision splits
    it: 1xKxK spatial to `mid` channels, then Kx1x1 temporal)."""
    source = layer["inputs"][0]
    c, *size = info["input"] if source == -1 else info["layers"][source]["output_shape"]
    f, *out = layer["output_shape"]
    k, s, p = layer["kernel"], layer["stride"], layer["padding"]
    axes = lambda lo, ex, st, ks, o: real_pairs(lo, ex, st, ks, o)
    if layer["kind"] == "conv(2+1)d":
        mid = layer["mid"]
        spatial = c * mid * size[0] * axes(p[1], size[1], s[1], k[1], out[1]) * axes(p[2], size[2], s[2], k[2], out[2])
        return spatial + mid * f * axes(p[0], size[0], s[0], k[0], out[0]) * out[1] * out[2]
    return c * f * axes(p[0], size[0], s[0], k[0], out[0]) * axes(p[1], size[1], s[1], k[1], out[1]) * \
        axes(p[2], size[2], s[2], k[2], out[2])


conv_macs = sum(useful_macs(layer) for layer in info["layers"] if layer["kind"].startswith("conv"))
nominal_macs = sum(layer["macs"] for layer in info["layers"] if layer["kind"].startswith("conv"))
assert conv_macs < nominal_macs  # the tiny model's convs all read some padding


def flops(report, kind):
    return sum(row["flops"] for row in report["rows"] if row["kind"] == kind)


for name, report, clips in (("forward", forward, forward["batch"]), ("train_step", step, step["batch"])):
    assert report["entry"] == name, report["entry"]
    # The conv loops' flops are the spec's useful conv MACs, twice (multiply and add), per clip.
    assert flops(report, "conv") == 2 * conv_macs * clips, (name, flops(report, "conv"), conv_macs)
    for row in report["rows"]:
        assert row["seconds"] >= 0 and row["loops"] >= 1, row
        # Each row is a spec layer (its first statement's line), or an unnamed optimizer loop.
        assert row["layer"] in layers or row["layer"] == "", row
        if row["layer"]:
            assert row["line"] == layers[row["layer"]]["line"], row
    assert report["profiled_s"] > 0 and report["serial_s"] >= 0 and report["loops_s"] <= report["profiled_mean_s"] * 1.001
    print(name, "conv flops match the spec")

# The training step computes every filter gradient once (as many useful products as the forward
# convs), and data gradients for every conv but the stem's first.
assert flops(step, "conv filter gradient") == flops(step, "conv"), (flops(step, "conv filter gradient"), flops(step, "conv"))
assert 0 < flops(step, "conv data gradient") < flops(step, "conv")
kinds = sorted(step["kinds"])
print("kinds:", " ".join(kinds))


def conv_kinds_of(layer):
    """The kernels and strides ("1x3x3 /1x2x2") a spec conv runs: a (2+1)D conv's 1xKxK spatial
    and Kx1x1 temporal halves, the stride split the same way."""
    shape = lambda dims: "x".join(str(d) for d in dims)
    k, s = layer["kernel"], layer["stride"]
    if layer["kind"] == "conv(2+1)d":
        return [f"{shape([1, k[1], k[2]])} /{shape([1, s[1], s[2]])}", f"{shape([k[0], 1, 1])} /{shape([s[0], 1, 1])}"]
    return [f"{shape(k)} /{shape(s)}"]


# The profile's conv kinds are the spec's, each summing its layers' rows: every row of a direction
# in exactly one kind, the same flops in total.
stem_first = conv_kinds_of(info["layers"][0])[0]
spec_kinds = sorted({kind for layer in info["layers"] if layer["kind"].startswith("conv") for kind in conv_kinds_of(layer)})
for direction in ("conv", "conv data gradient", "conv filter gradient"):
    kinds = [c for c in step["conv_kinds"] if c["kind"] == direction]
    expected = [k for k in spec_kinds if not (direction == "conv data gradient" and k == stem_first)]
    assert sorted(c["conv"] for c in kinds) == expected, (direction, [c["conv"] for c in kinds], expected)
    assert sum(c["flops"] for c in kinds) == flops(step, direction), direction
    assert sum(c["layers"] for c in kinds) == sum(1 for row in step["rows"] if row["kind"] == direction), direction
print("conv kinds:", ", ".join(spec_kinds))
