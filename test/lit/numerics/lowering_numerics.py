"""Runs every vidnet op through vidnet-lower-to-linalg, the upstream CPU lowering and
mlir-runner, and compares each result with a naive pure-Python reference (float64).
Prints the max difference per case; exits 1 if any exceeds 1e-4 * max(1, |reference|).

usage: lowering_numerics.py VIDNET_OPT LLVM_TOOLS_DIR LLVM_LIB_DIR WORK_DIR
"""
import itertools
import math
import random
import re
import subprocess
import sys

vidnet_opt, tools, libs, work = sys.argv[1:5]
rng = random.Random(2018)

# ---- tensors as flat lists in row-major order, with their shapes --------------------------

def rand(shape, lo=-1.0, hi=1.0):
    n = math.prod(shape)
    return {"shape": list(shape), "data": [rng.uniform(lo, hi) for _ in range(n)]}

def index(shape, idx):
    flat = 0
    for s, i in zip(shape, idx):
        flat = flat * s + i
    return flat

def at(t, *idx):
    return t["data"][index(t["shape"], idx)]

def zeros(shape):
    return {"shape": list(shape), "data": [0.0] * math.prod(shape)}

def put(t, idx, v):
    t["data"][index(t["shape"], idx)] = v

# ---- the reference: one readable function per op (N, D, H, W, C glossary as in the dialect) --

def conv_forward(x, w, strides, pads, groups=1):
    """PyTorch's groups: output channel f is in group g = f // (F / G), which reads the input
    channels g * C/G + ci through filter channel ci."""
    n, d, h, wd, _ = x["shape"]
    kd, kh, kw, cg, f = w["shape"]
    out = [n] + [(e + 2 * p - k) // s + 1 for e, k, s, p in zip((d, h, wd), (kd, kh, kw), strides, pads)] + [f]
    y = zeros(out)
    for b, od, oh, ow, of in itertools.product(*(range(e) for e in out)):
        acc = 0.0
        first = of // (f // groups) * cg
        for i, j, k, ci in itertools.product(range(kd), range(kh), range(kw), range(cg)):
            zd, zh, zw = od * strides[0] + i - pads[0], oh * strides[1] + j - pads[1], ow * strides[2] + k - pads[2]
            if 0 <= zd < d and 0 <= zh < h and 0 <= zw < wd:
                acc += at(x, b, zd, zh, zw, first + ci) * at(w, i, j, k, ci, of)
        put(y, (b, od, oh, ow, of), acc)
    return y

def batch_norm_forward(x, gamma, beta, mean, var, eps=1e-5):
    c = x["shape"][-1]
    y = zeros(x["shape"])
    for i, v in enumerate(x["data"]):
        ch = i % c
        y["data"][i] = (v - mean["data"][ch]) / math.sqrt(var["data"][ch] + eps) * gamma["data"][ch] + beta["data"][ch]
    return y

def batch_stats(x):
    c = x["shape"][-1]
    count = len(x["data"]) // c
    mean = [sum(x["data"][i] for i in range(ch, len(x["data"]), c)) / count for ch in range(c)]
    var = [sum((x["data"][i] - mean[ch]) ** 2 for i in range(ch, len(x["data"]), c)) / count for ch in range(c)]
    return {"shape": [c], "data": mean}, {"shape": [c], "data": var}

def relu_forward(x):
    return {"shape": x["shape"], "data": [max(v, 0.0) for v in x["data"]]}

def add_forward(a, b):
    return {"shape": a["shape"], "data": [u + v for u, v in zip(a["data"], b["data"])]}

def avg_pool_forward(x):
    n, d, h, w, c = x["shape"]
    y = zeros([n, c])
    for b, ch in itertools.product(range(n), range(c)):
        s = sum(at(x, b, i, j, k, ch) for i, j, k in itertools.product(range(d), range(h), range(w)))
        put(y, (b, ch), s / (d * h * w))
    return y

def fold_time_forward(x):
    n, d, h, w, c = x["shape"]
    y = zeros([n, 1, h, w, d * c])
    for b, i, j, k, ch in itertools.product(range(n), range(d), range(h), range(w), range(c)):
        put(y, (b, 0, j, k, i * c + ch), at(x, b, i, j, k, ch))
    return y

def dense_forward(x, w, bias):
    n, c = x["shape"]
    k = w["shape"][1]
    y = zeros([n, k])
    for b, o in itertools.product(range(n), range(k)):
        put(y, (b, o), bias["data"][o] + sum(at(x, b, i) * at(w, i, o) for i in range(c)))
    return y

def cross_entropy_forward(logits, labels):
    n, k = logits["shape"]
    total = 0.0
    for b in range(n):
        row = [at(logits, b, j) for j in range(k)]
        m = max(row)
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[labels[b]]
    return {"shape": [], "data": [total / n]}

# ---- backward and optimizer ops: the formulas of VidnetOps.td (runtime/reference/Backward.cpp) --

def conv_backward_data(dy, w, strides, pads, in_shape, groups=1):
    """dx[n, i, c] = sum over (o, k) with o*s + k - p = i of dy[n, o, f] * w[k, c, f]: the forward
    conv's loop with every product scattered back into the input position it read."""
    n, d, h, wd, _ = in_shape
    kd, kh, kw, cg, f = w["shape"]
    dx = zeros(in_shape)
    for b, od, oh, ow, of in itertools.product(*(range(e) for e in dy["shape"])):
        g = at(dy, b, od, oh, ow, of)
        first = of // (f // groups) * cg
        for i, j, k, ci in itertools.product(range(kd), range(kh), range(kw), range(cg)):
            zd, zh, zw = od * strides[0] + i - pads[0], oh * strides[1] + j - pads[1], ow * strides[2] + k - pads[2]
            if 0 <= zd < d and 0 <= zh < h and 0 <= zw < wd:
                put(dx, (b, zd, zh, zw, first + ci), at(dx, b, zd, zh, zw, first + ci) + g * at(w, i, j, k, ci, of))
    return dx

def conv_backward_filter(x, dy, strides, pads, kernel, groups=1):
    """dw[k, c, f] = sum over n, o of x_padded[n, o*s + k, g * C/G + c] * dy[n, o, f], f in group g."""
    n, d, h, wd, c = x["shape"]
    f = dy["shape"][4]
    dw = zeros(list(kernel) + [c // groups, f])
    for i, j, k, ci, of in itertools.product(*(range(e) for e in dw["shape"])):
        acc = 0.0
        first = of // (f // groups) * (c // groups)
        for b, od, oh, ow in itertools.product(*(range(e) for e in dy["shape"][:4])):
            zd, zh, zw = od * strides[0] + i - pads[0], oh * strides[1] + j - pads[1], ow * strides[2] + k - pads[2]
            if 0 <= zd < d and 0 <= zh < h and 0 <= zw < wd:
                acc += at(x, b, zd, zh, zw, first + ci) * at(dy, b, od, oh, ow, of)
        put(dw, (i, j, k, ci, of), acc)
    return dw

def batch_norm_train_backward(dy, x, mean, var, gamma, eps=1e-5):
    """xhat = (x - mean) * rstd; dbeta = sum dy, dgamma = sum dy * xhat,
    dx = gamma * rstd * (dy - dbeta / M - xhat * dgamma / M). Returns dx, dgamma, dbeta."""
    c = x["shape"][-1]
    m = len(x["data"]) // c
    rstd = [1.0 / math.sqrt(v + eps) for v in var["data"]]
    xhat = [(v - mean["data"][i % c]) * rstd[i % c] for i, v in enumerate(x["data"])]
    dbeta, dgamma = [0.0] * c, [0.0] * c
    for i, g in enumerate(dy["data"]):
        dbeta[i % c] += g
        dgamma[i % c] += g * xhat[i]
    dx = zeros(x["shape"])
    for i, g in enumerate(dy["data"]):
        ch = i % c
        dx["data"][i] = gamma["data"][ch] * rstd[ch] * (g - dbeta[ch] / m - xhat[i] * dgamma[ch] / m)
    return dx, {"shape": [c], "data": dgamma}, {"shape": [c], "data": dbeta}

def relu_backward(dy, y):
    return {"shape": dy["shape"], "data": [g if v > 0 else 0.0 for g, v in zip(dy["data"], y["data"])]}

def avg_pool_backward(dy, in_shape):
    n, d, h, w, c = in_shape
    dx = zeros(in_shape)
    for b, i, j, k, ch in itertools.product(*(range(e) for e in in_shape)):
        put(dx, (b, i, j, k, ch), at(dy, b, ch) / (d * h * w))
    return dx

def max_pool_argmax(x, b, o, ch, kernel, strides, pads):
    """The (d, h, w) of a window's first maximum, as PyTorch's max_pool3d records it: the first
    tap inside the input starts it, a later tap replaces it only if greater (padding is -inf)."""
    best, top = None, None
    for i, j, k in itertools.product(*(range(e) for e in kernel)):
        pos = tuple(oo * s + t - p for oo, s, t, p in zip(o, strides, (i, j, k), pads))
        if all(0 <= a < e for a, e in zip(pos, x["shape"][1:4])):
            v = at(x, b, *pos, ch)
            if best is None or v > top:
                best, top = pos, v
    return best

def max_pool_forward(x, kernel, strides, pads):
    n, d, h, w, c = x["shape"]
    out = [n] + [(e + 2 * p - k) // s + 1 for e, k, s, p in zip((d, h, w), kernel, strides, pads)] + [c]
    y = zeros(out)
    for b, od, oh, ow, ch in itertools.product(*(range(e) for e in out)):
        put(y, (b, od, oh, ow, ch), at(x, b, *max_pool_argmax(x, b, (od, oh, ow), ch, kernel, strides, pads), ch))
    return y

def max_pool_backward(dy, x, kernel, strides, pads):
    """Each output's dy added into its window's first maximum, in output order."""
    dx = zeros(x["shape"])
    for b, od, oh, ow, ch in itertools.product(*(range(e) for e in dy["shape"])):
        idx = (b, *max_pool_argmax(x, b, (od, oh, ow), ch, kernel, strides, pads), ch)
        put(dx, idx, at(dx, *idx) + at(dy, b, od, oh, ow, ch))
    return dx

def unfold_time_forward(x, frames):
    n, _, h, w, dc = x["shape"]
    c = dc // frames
    y = zeros([n, frames, h, w, c])
    for b, i, j, k, ch in itertools.product(range(n), range(frames), range(h), range(w), range(c)):
        put(y, (b, i, j, k, ch), at(x, b, 0, j, k, i * c + ch))
    return y

def dense_backward(dy, x, w):
    """dx = dy W^T, dW = x^T dy, dbias = sum over n of dy."""
    n, c = x["shape"]
    k = w["shape"][1]
    dx, dw, db = zeros([n, c]), zeros([c, k]), zeros([k])
    for b, i in itertools.product(range(n), range(c)):
        put(dx, (b, i), sum(at(dy, b, o) * at(w, i, o) for o in range(k)))
    for i, o in itertools.product(range(c), range(k)):
        put(dw, (i, o), sum(at(x, b, i) * at(dy, b, o) for b in range(n)))
    for o in range(k):
        put(db, (o,), sum(at(dy, b, o) for b in range(n)))
    return dx, dw, db

def cross_entropy_backward(logits, labels):
    """(softmax(logits) - onehot(label)) / N."""
    n, k = logits["shape"]
    grad = zeros([n, k])
    for b in range(n):
        row = [at(logits, b, j) for j in range(k)]
        m = max(row)
        total = sum(math.exp(v - m) for v in row)
        for j in range(k):
            put(grad, (b, j), (math.exp(row[j] - m) / total - (1.0 if j == labels[b] else 0.0)) / n)
    return grad

def sgd_update(w, g, buf, lr, momentum, weight_decay):
    """d = g + wd * w; buf' = momentum * buf + d; w' = w - lr * buf'. Returns w', buf'."""
    new_buf = [momentum * b + (gv + weight_decay * wv) for wv, gv, b in zip(w["data"], g["data"], buf["data"])]
    new_w = [wv - lr * b for wv, b in zip(w["data"], new_buf)]
    return {"shape": w["shape"], "data": new_w}, {"shape": w["shape"], "data": new_buf}

def running_stats_update(mean, var, batch_mean, batch_var, momentum, count):
    """mean' = (1 - m) mean + m batch_mean; var' = (1 - m) var + m batch_var * count / (count - 1)."""
    new_mean = [(1 - momentum) * a + momentum * b for a, b in zip(mean["data"], batch_mean["data"])]
    new_var = [(1 - momentum) * a + momentum * b * count / (count - 1) for a, b in zip(var["data"], batch_var["data"])]
    return {"shape": mean["shape"], "data": new_mean}, {"shape": var["shape"], "data": new_var}

# ---- MLIR emission ----------------------------------------------------------------------

def ttype(t, elem="f32"):
    dims = "x".join(str(s) for s in t["shape"])
    return f"tensor<{dims}x{elem}>" if dims else f"tensor<{elem}>"

cases = []

def case(name, inputs, body, expected):
    """inputs: {name: (tensor, elem)}; body: MLIR lines using %name_s; expected: [(value name, tensor)]."""
    cases.append((name, inputs, body, expected))

# conv: odd and even kernels, asymmetric strides and paddings
x = rand([1, 5, 6, 7, 3]); w = rand([3, 2, 3, 3, 4])
y = conv_forward(x, w, (2, 1, 2), (1, 0, 1))
case("conv 3x2x3 stride 2x1x2 pad 1x0x1", {"x": x, "w": w},
     f"  %y = vidnet.conv %x_s, %w_s strides [2, 1, 2] padding [1, 0, 1] groups 1 : {ttype(x)}, {ttype(w)} -> {ttype(y)}\n",
     [("y", y)])
x = rand([2, 4, 4, 4, 3]); w = rand([1, 1, 1, 3, 5])
y = conv_forward(x, w, (2, 2, 2), (0, 0, 0))
case("conv 1x1x1 stride 2 (shortcut)", {"x": x, "w": w},
     f"  %y = vidnet.conv %x_s, %w_s strides [2, 2, 2] padding [0, 0, 0] groups 1 : {ttype(x)}, {ttype(w)} -> {ttype(y)}\n",
     [("y", y)])
# Shapes that exercise the CPU conv schedule's edge cases: F padded to 16 (45 -> 48) and to
# 32 (20 -> 32), an output width with no divisor >= 4 (13, padded to 16), C with no divisor
# of 8 (5), stride 2 along W (strided tile rows).
x = rand([1, 3, 3, 13, 5]); w = rand([1, 3, 3, 5, 45])
y = conv_forward(x, w, (1, 1, 1), (0, 1, 1))
case("conv F=45 OW=13 C=5 (padded tiles)", {"x": x, "w": w},
     f"  %y = vidnet.conv %x_s, %w_s strides [1, 1, 1] padding [0, 1, 1] groups 1 : {ttype(x)}, {ttype(w)} -> {ttype(y)}\n",
     [("y", y)])
x = rand([1, 2, 5, 17, 8]); w = rand([2, 3, 3, 8, 20])
y = conv_forward(x, w, (1, 2, 2), (1, 1, 1))
case("conv F=20 stride 1x2x2 OW=9", {"x": x, "w": w},
     f"  %y = vidnet.conv %x_s, %w_s strides [1, 2, 2] padding [1, 1, 1] groups 1 : {ttype(x)}, {ttype(w)} -> {ttype(y)}\n",
     [("y", y)])
# (2+1)D through the decomposition
x = rand([1, 4, 5, 5, 3]); ws = rand([1, 3, 3, 3, 4]); wt = rand([3, 1, 1, 4, 2])
g, bt, mu = rand([4]), rand([4]), rand([4]); var = rand([4], 0.5, 2.0)
s = conv_forward(x, ws, (1, 2, 2), (0, 1, 1))
y = conv_forward(relu_forward(batch_norm_forward(s, g, bt, mu, var)), wt, (2, 1, 1), (1, 0, 0))
case("conv2plus1d mid 4 stride 2x2x2 (decomposed)", {"x": x, "ws": ws, "g": g, "b": bt, "m": mu, "v": var, "wt": wt},
     f"  %y = vidnet.conv2plus1d %x_s, %ws_s, %g_s, %b_s, %m_s, %v_s, %wt_s mid 4 strides [2, 2, 2] padding [1, 1, 1] epsilon 1.0e-05"
     f" : ({ttype(x)}, {ttype(ws)}, {ttype(g)}, {ttype(bt)}, {ttype(mu)}, {ttype(var)}, {ttype(wt)}) -> {ttype(y)}\n",
     [("y", y)])
# batch norm, both forms
x = rand([2, 2, 3, 3, 4]); g, bt, mu = rand([4]), rand([4]), rand([4]); var = rand([4], 0.5, 2.0)
case("batch_norm (running stats)", {"x": x, "g": g, "b": bt, "m": mu, "v": var},
     f"  %y = vidnet.batch_norm %x_s, %g_s, %b_s, %m_s, %v_s epsilon 1.0e-05 : {ttype(x)}, {ttype(g)}\n",
     [("y", batch_norm_forward(x, g, bt, mu, var))])
x = rand([2, 3, 2, 2, 3], -2.0, 3.0); g, bt = rand([3]), rand([3])
bm, bv = batch_stats(x)
case("batch_norm_train (batch stats)", {"x": x, "g": g, "b": bt},
     f"  %y, %bm, %bv = vidnet.batch_norm_train %x_s, %g_s, %b_s epsilon 1.0e-05 : {ttype(x)}, {ttype(g)}\n",
     [("y", batch_norm_forward(x, g, bt, bm, bv)), ("bm", bm), ("bv", bv)])
# relu, add, pool, fold, dense, loss
x = rand([1, 2, 3, 3, 2]); r = rand([1, 2, 3, 3, 2])
case("relu + add (residual)", {"x": x, "r": r},
     f"  %a = vidnet.relu %x_s : {ttype(x)}\n  %y = vidnet.add %a, %r_s : {ttype(x)}\n",
     [("y", add_forward(relu_forward(x), r))])
x = rand([2, 2, 3, 3, 4])
case("global_avg_pool", {"x": x},
     f"  %y = vidnet.global_avg_pool %x_s : {ttype(x)} -> tensor<2x4xf32>\n", [("y", avg_pool_forward(x))])
x = rand([1, 3, 2, 2, 2])
case("fold_time (frame-major channels)", {"x": x},
     f"  %y = vidnet.fold_time %x_s : {ttype(x)} -> tensor<1x1x2x2x6xf32>\n", [("y", fold_time_forward(x))])
x = rand([2, 5]); w = rand([5, 3]); bias = rand([3])
case("dense", {"x": x, "w": w, "bias": bias},
     f"  %y = vidnet.dense %x_s, %w_s, %bias_s : ({ttype(x)}, {ttype(w)}, {ttype(bias)}) -> tensor<2x3xf32>\n",
     [("y", dense_forward(x, w, bias))])
logits = rand([3, 4], -20.0, 20.0); labels = [2, 0, 3]
case("softmax_cross_entropy (large logits)", {"l": logits, "lab": ({"shape": [3], "data": labels}, "i64")},
     f"  %y = vidnet.softmax_cross_entropy %l_s, %lab_s : ({ttype(logits)}, tensor<3xi64>) -> tensor<f32>\n",
     [("y", cross_entropy_forward(logits, labels))])

# max pooling: the CSN stem's 1x3x3 stride 1x2x2 padding 0x1x1 (padding reaches the maximum's
# window at the top and left edges), C3D's pool5 2x2x2 stride 2 padding 0x1x1, an overlapping
# 3x3x3 stride 2 (each input in up to 8 windows); the last on values of four levels, so most
# windows tie and the gradient must go to the first maximum, and all negative so that padding
# read as 0 would win.
POOLS = [("CSN stem 1x3x3 s1x2x2 p0x1x1", [2, 2, 9, 9, 3], (1, 3, 3), (1, 2, 2), (0, 1, 1), None),
         ("C3D pool5 2x2x2 s2 p0x1x1", [1, 2, 7, 7, 4], (2, 2, 2), (2, 2, 2), (0, 1, 1), None),
         ("3x3x3 s2 p1 ties, negative", [1, 5, 5, 6, 2], (3, 3, 3), (2, 2, 2), (1, 1, 1), [-4.0, -3.0, -2.0, -1.0])]
for label, shape, kernel, strides, pads, levels in POOLS:
    x = rand(shape) if levels is None else {"shape": shape, "data": [rng.choice(levels) for _ in range(math.prod(shape))]}
    y = max_pool_forward(x, kernel, strides, pads)
    dy = rand(y["shape"])
    attrs = f"kernel [{', '.join(map(str, kernel))}] strides [{', '.join(map(str, strides))}] padding [{', '.join(map(str, pads))}]"
    case(f"max_pool {label}", {"x": x},
         f"  %y = vidnet.max_pool %x_s {attrs} : {ttype(x)} -> {ttype(y)}\n", [("y", y)])
    case(f"max_pool_backward {label}", {"dy": dy, "x": x},
         f"  %dx = vidnet.max_pool_backward %dy_s, %x_s {attrs} : ({ttype(dy)}, {ttype(x)}) -> {ttype(x)}\n",
         [("dx", max_pool_backward(dy, x, kernel, strides, pads))])

# backward and optimizer ops (what vidnet-derive-train-step emits)
# conv gradients: stride 1 and strided (2x1x2), paddings with an even kernel extent (2, padded
# by 1 where it fits K - 1), and extents where (I + 2p - K) is not a multiple of the stride (the
# last input rows get fewer taps); then stride 3 (phases no tap reaches in H and W) with
# paddings wider than K - 1 (the input gradient crops dy instead of padding it).
for dx_shape, kernel, strides, pads in [([2, 3, 4, 4, 2], (3, 3, 2), (1, 1, 1), (1, 1, 0)),
                                        ([1, 6, 4, 6, 3], (3, 2, 2), (2, 1, 2), (1, 0, 1)),
                                        ([1, 7, 5, 4, 2], (3, 1, 2), (3, 2, 3), (1, 1, 2))]:
    w = rand(list(kernel) + [dx_shape[4], 4])
    x = rand(dx_shape)
    dy = rand(conv_forward(x, w, strides, pads)["shape"])
    label = f"{'x'.join(map(str, kernel))} s{'x'.join(map(str, strides))} p{'x'.join(map(str, pads))}"
    attrs = f"strides [{', '.join(map(str, strides))}] padding [{', '.join(map(str, pads))}] groups 1"
    case(f"conv_backward_data {label}", {"dy": dy, "w": w},
         f"  %dx = vidnet.conv_backward_data %dy_s, %w_s {attrs} : {ttype(dy)}, {ttype(w)} -> {ttype(x)}\n",
         [("dx", conv_backward_data(dy, w, strides, pads, dx_shape))])
    case(f"conv_backward_filter {label}", {"x": x, "dy": dy},
         f"  %dw = vidnet.conv_backward_filter %x_s, %dy_s {attrs} : {ttype(x)}, {ttype(dy)} -> {ttype(w)}\n",
         [("dw", conv_backward_filter(x, dy, strides, pads, kernel))])
# grouped convs (linalg.generic over (group, channel in group)): groups 2 strided and padded,
# depthwise 3x3x3 (groups = C) at stride 1 and 2, a depthwise multiplier of 2 (F = 2C), and
# paddings wider than K - 1 (the data gradient's spread dy then needs a margin); the forward and
# both gradients of each.
for dx_shape, kernel, strides, pads, filters, groups in [([1, 4, 5, 6, 4], (3, 3, 2), (2, 2, 2), (1, 1, 0), 6, 2),
                                                         ([2, 3, 4, 5, 5], (3, 3, 3), (1, 1, 1), (1, 1, 1), 5, 5),
                                                         ([1, 5, 5, 6, 3], (3, 3, 3), (2, 2, 2), (1, 1, 1), 3, 3),
                                                         ([1, 3, 4, 4, 2], (3, 3, 3), (1, 2, 1), (1, 1, 1), 4, 2),
                                                         ([1, 3, 5, 4, 4], (1, 3, 1), (1, 2, 1), (1, 2, 1), 4, 2),
                                                         # big enough (65536 loop iterations) for the CPU
                                                         # target to run it as parallel loops
                                                         ([1, 4, 8, 8, 16], (3, 3, 3), (1, 1, 1), (1, 1, 1), 16, 16)]:
    w = rand(list(kernel) + [dx_shape[4] // groups, filters])
    x = rand(dx_shape)
    y = conv_forward(x, w, strides, pads, groups)
    dy = rand(y["shape"])
    label = (f"groups {groups} {dx_shape[4]}->{filters} {'x'.join(map(str, kernel))} "
             f"s{'x'.join(map(str, strides))} p{'x'.join(map(str, pads))}")
    attrs = f"strides [{', '.join(map(str, strides))}] padding [{', '.join(map(str, pads))}] groups {groups}"
    case(f"conv {label}", {"x": x, "w": w},
         f"  %y = vidnet.conv %x_s, %w_s {attrs} : {ttype(x)}, {ttype(w)} -> {ttype(y)}\n", [("y", y)])
    case(f"conv_backward_data {label}", {"dy": dy, "w": w},
         f"  %dx = vidnet.conv_backward_data %dy_s, %w_s {attrs} : {ttype(dy)}, {ttype(w)} -> {ttype(x)}\n",
         [("dx", conv_backward_data(dy, w, strides, pads, dx_shape, groups))])
    case(f"conv_backward_filter {label}", {"x": x, "dy": dy},
         f"  %dw = vidnet.conv_backward_filter %x_s, %dy_s {attrs} : {ttype(x)}, {ttype(dy)} -> {ttype(w)}\n",
         [("dw", conv_backward_filter(x, dy, strides, pads, kernel, groups))])
# batch norm backward with the batch statistics of its input (as in training)
x = rand([2, 2, 2, 3, 3], -2.0, 3.0); dy = rand([2, 2, 2, 3, 3]); g = rand([3])
bm, bv = batch_stats(x)
dx, dg, db = batch_norm_train_backward(dy, x, bm, bv, g)
case("batch_norm_train_backward", {"dy": dy, "x": x, "m": bm, "v": bv, "g": g},
     f"  %dx, %dg, %db = vidnet.batch_norm_train_backward %dy_s, %x_s, %m_s, %v_s, %g_s epsilon 1.0e-05 : {ttype(x)}, {ttype(g)}\n",
     [("dx", dx), ("dg", dg), ("db", db)])
# relu backward: y is a ReLU output (exact zeros included), so the mask sees y == 0
dy = rand([1, 2, 3, 3, 2]); y = relu_forward(rand([1, 2, 3, 3, 2]))
case("relu_backward", {"dy": dy, "y": y},
     f"  %dx = vidnet.relu_backward %dy_s, %y_s : {ttype(y)}\n", [("dx", relu_backward(dy, y))])
dy = rand([2, 3])
case("global_avg_pool_backward", {"dy": dy},
     f"  %dx = vidnet.global_avg_pool_backward %dy_s : {ttype(dy)} -> tensor<2x2x3x2x3xf32>\n",
     [("dx", avg_pool_backward(dy, [2, 2, 3, 2, 3]))])
x = rand([2, 1, 2, 3, 6])
case("unfold_time (frame-major channels)", {"x": x},
     f"  %y = vidnet.unfold_time %x_s : {ttype(x)} -> tensor<2x3x2x3x2xf32>\n", [("y", unfold_time_forward(x, 3))])
x = rand([1, 3, 2, 2, 2])
case("fold_time then unfold_time (identity)", {"x": x},
     f"  %f = vidnet.fold_time %x_s : {ttype(x)} -> tensor<1x1x2x2x6xf32>\n"
     f"  %y = vidnet.unfold_time %f : tensor<1x1x2x2x6xf32> -> {ttype(x)}\n", [("y", x)])
dy = rand([3, 4]); x = rand([3, 5]); w = rand([5, 4])
dx, dw, db = dense_backward(dy, x, w)
case("dense_backward", {"dy": dy, "x": x, "w": w},
     f"  %dx, %dw, %db = vidnet.dense_backward %dy_s, %x_s, %w_s : ({ttype(dy)}, {ttype(x)}, {ttype(w)})"
     f" -> ({ttype(dx)}, {ttype(dw)}, {ttype(db)})\n",
     [("dx", dx), ("dw", dw), ("db", db)])
logits = rand([3, 5], -20.0, 20.0); labels = [4, 0, 2]
case("softmax_cross_entropy_backward (large logits)", {"l": logits, "lab": ({"shape": [3], "data": labels}, "i64")},
     f"  %dl = vidnet.softmax_cross_entropy_backward %l_s, %lab_s : ({ttype(logits)}, tensor<3xi64>) -> {ttype(logits)}\n",
     [("dl", cross_entropy_backward(logits, labels))])
# SGD: hyper = (lr, momentum, weight decay); a zero buffer is PyTorch's first step
p, gr, buf = rand([2, 3, 4]), rand([2, 3, 4]), rand([2, 3, 4])
hyper = {"shape": [3], "data": [0.05, 0.9, 0.01]}
for bname, b in [("momentum buffer", buf), ("zero buffer (first step)", zeros([2, 3, 4]))]:
    np_, nb = sgd_update(p, gr, b, *hyper["data"])
    case(f"sgd_update, {bname}", {"p": p, "gr": gr, "buf": b, "h": hyper},
         f"  %np, %nb = vidnet.sgd_update %p_s, %gr_s, %buf_s, %h_s : {ttype(p)}, {ttype(hyper)}\n",
         [("np", np_), ("nb", nb)])
m, bm = rand([5]), rand([5]); v, bv = rand([5], 0.5, 2.0), rand([5], 0.5, 2.0)
nm, nv = running_stats_update(m, v, bm, bv, 0.1, 12)
case("running_stats_update (momentum 0.1, count 12)", {"m": m, "v": v, "bm": bm, "bv": bv},
     f"  %nm, %nv = vidnet.running_stats_update %m_s, %v_s, %bm_s, %bv_s momentum 1.0e-01 count 12 : {ttype(m)}\n",
     [("nm", nm), ("nv", nv)])

# ---- run ----------------------------------------------------------------------------------

PIPELINE = ("--one-shot-bufferize=bufferize-function-boundaries --buffer-deallocation-pipeline "
            "--convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata --lower-affine "
            "--finalize-memref-to-llvm --convert-math-to-llvm --convert-arith-to-llvm "
            "--convert-func-to-llvm --convert-cf-to-llvm --convert-ub-to-llvm --reconcile-unrealized-casts")

def emit(inputs, body, expected):
    text = "func.func private @printMemrefF32(tensor<*xf32>)\nfunc.func @main() {\n"
    for name, spec in inputs.items():
        t, elem = spec if isinstance(spec, tuple) else (spec, "f32")
        text += f"  %{name}_s = arith.constant dense<[{', '.join(f'{v:.9e}' if elem == 'f32' else str(v) for v in t['data'])}]> : tensor<{len(t['data'])}x{elem}>\n" \
            if len(t["shape"]) == 1 else ""
        if len(t["shape"]) != 1:
            flat = f"tensor<{len(t['data'])}x{elem}>"
            shape = ", ".join(str(s) for s in t["shape"])
            text += f"  %{name}_f = arith.constant dense<[{', '.join(f'{v:.9e}' for v in t['data'])}]> : {flat}\n"
            text += f"  %{name}_shape = arith.constant dense<[{shape}]> : tensor<{len(t['shape'])}xindex>\n"
            text += f"  %{name}_s = tensor.reshape %{name}_f(%{name}_shape) : ({flat}, tensor<{len(t['shape'])}xindex>) -> {ttype(t, elem)}\n"
    text += body
    for name, t in expected:
        text += f"  %{name}_u = tensor.cast %{name} : {ttype(t)} to tensor<*xf32>\n"
        text += f"  call @printMemrefF32(%{name}_u) : (tensor<*xf32>) -> ()\n"
    return text + "  return\n}\n"

# Each case runs twice: linalg lowered to plain loops, and through the CPU target's conv
# schedule (register tiles, vectorized, accumulators hoisted) and its parallel loops over large
# elementwise ops, sums and grouped convs.
MODES = {
    "loops": (["--vidnet-decompose-2plus1d", "--vidnet-lower-to-linalg"], PIPELINE),
    "cpu": (["--vidnet-decompose-2plus1d", "--vidnet-lower-to-linalg", "--vidnet-cpu-tile-convs",
             "--vidnet-cpu-parallelize-elementwise", "--canonicalize",
             "--vidnet-cpu-vectorize-tiles", "--loop-invariant-subset-hoisting", "--canonicalize"],
            PIPELINE.replace("--convert-scf-to-cf", "--convert-vector-to-scf=full-unroll=true --convert-scf-to-cf")
                    .replace("--finalize-memref-to-llvm", "--convert-vector-to-llvm --finalize-memref-to-llvm")),
}

def run(mlir, mode):
    passes, pipeline = MODES[mode]
    lowered = subprocess.run([vidnet_opt, *passes], input=mlir, capture_output=True, text=True, check=True).stdout
    llvm = subprocess.run([f"{tools}/mlir-opt", *pipeline.split()], input=lowered,
                          capture_output=True, text=True, check=True).stdout
    out = subprocess.run([f"{tools}/mlir-runner", "-e", "main", "-entry-point-result=void",
                          f"-shared-libs={libs}/libmlir_runner_utils.so,{libs}/libmlir_c_runner_utils.so"],
                         input=llvm, capture_output=True, text=True, check=True).stdout
    results = []
    for chunk in out.split("Unranked Memref")[1:]:
        data = chunk.split("data =", 1)[1]
        results.append([float(v) for v in re.findall(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)", data)])
    return results

failures = 0
for mode, (name, inputs, body, expected) in itertools.product(MODES, cases):
    got = run(emit(inputs, body, expected), mode)
    worst = 0.0
    ok = len(got) == len(expected)
    for (_, ref), values in zip(expected, got):
        ok &= len(values) == len(ref["data"])
        for r, v in zip(ref["data"], values):
            diff = abs(r - v)
            worst = max(worst, diff)
            ok &= diff <= 1e-4 * max(1.0, abs(r))
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {mode:5s} {name:45s} max |diff| {worst:.2e}")
print(f"lowering numerics: {failures} failures")
sys.exit(1 if failures else 0)
