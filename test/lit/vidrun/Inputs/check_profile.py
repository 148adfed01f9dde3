"""Checks `vidrun profile --json` against `vidc info --json`: every convolution's work appears
in the loop table exactly once per direction, rows name the spec's layers, times add up."""
import json
import sys

info, forward, step = (json.load(open(path)) for path in sys.argv[1:4])
layers = {layer["name"]: layer for layer in info["layers"]}
conv_macs = sum(layer["macs"] for layer in info["layers"] if layer["kind"].startswith("conv"))


def flops(report, kind):
    return sum(row["flops"] for row in report["rows"] if row["kind"] == kind)


for name, report, clips in (("forward", forward, forward["batch"]), ("train_step", step, step["batch"])):
    assert report["entry"] == name, report["entry"]
    # The conv loops' flops are the spec's conv MACs, twice (multiply and add), per clip.
    assert flops(report, "conv") == 2 * conv_macs * clips, (name, flops(report, "conv"), conv_macs)
    for row in report["rows"]:
        assert row["seconds"] >= 0 and row["loops"] >= 1, row
        # Each row is a spec layer (its first statement's line), or an unnamed optimizer loop.
        assert row["layer"] in layers or row["layer"] == "", row
        if row["layer"]:
            assert row["line"] == layers[row["layer"]]["line"], row
    assert report["profiled_s"] > 0 and report["serial_s"] >= 0 and report["loops_s"] <= report["profiled_s"] * 1.001
    print(name, "conv flops match the spec")

# The training step computes every filter gradient once (as many flops as the forward convs),
# and data gradients for every conv but the stem's first.
assert flops(step, "conv filter gradient") == flops(step, "conv"), (flops(step, "conv filter gradient"), flops(step, "conv"))
assert 0 < flops(step, "conv data gradient") < flops(step, "conv")
kinds = sorted(step["kinds"])
print("kinds:", " ".join(kinds))
