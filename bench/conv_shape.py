"""The shape `vidrun profile` prints for a conv row, read back: "3x3x3 64->128 /2x2x2, out 2x4x28x28" (kernel,
channels in and out, stride, then the output's batch and D x H x W), a Winograd conv's with ", winograd" (F(2,3) along W) or ", winograd along D" after it.
Standard library only: the lit tests read every row of a profile with it, as bench/ does."""
import re

SHAPE = re.compile(r"(\d+)x(\d+)x(\d+) (\d+)->(\d+) /(\d+)x(\d+)x(\d+), out (\d+)x(\d+)x(\d+)x(\d+)(, winograd(?: along D)?)?")


def parse(shape):
    m = SHAPE.fullmatch(shape)
    if m is None:
        raise ValueError(f"not a conv shape of vidrun profile: {shape!r}")
    k0, k1, k2, c, f, s0, s1, s2, n, d, h, w = (int(v) for v in m.groups()[:12])
    return {"kernel": (k0, k1, k2), "c": c, "f": f, "stride": (s0, s1, s2), "n": n, "out": (d, h, w),
            "winograd": m.group(13) is not None, "winograd_axis": None if m.group(13) is None else
            ("D" if m.group(13).endswith("along D") else "W")}
