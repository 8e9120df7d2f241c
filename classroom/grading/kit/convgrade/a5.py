"""Assignment 5 (the transposed convolution as a layer): the hidden cases, as calls.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a5.py) makes the same plan to compute
its references (PyTorch's conv_transpose2d with autograd). Nothing here computes an answer.

The training part records what `train` built, not what it reports: the layers of the network
(as numbers, `LAYER_CODES`) and their trained parameters. The trusted side rebuilds the
network with its own transposed convolution and measures the error on the held-out digits.

The digits: the sealed kernel has no scikit-learn, so classroom/grading/kit/build.py writes
them next to this module as `digits.npz` (images 0..16 and labels), read by the notebook's
`load_digits_8x8`.
"""

from __future__ import annotations

import numpy as np

from . import call, encode, function

PARTS = {
    "a5-fwd-tests": "conv_transpose_forward",
    "a5-bwd-tests": "conv_transpose_backward",
    "a5-train-tests": "train",
}
EPOCHS = 10
# a layer of the recorded network: (code, hyperparameters...)
LAYER_CODES = {"unknown": 0, "ConvTranspose2d": 1, "ReLU": 2}
# (n_b, ch_in, ch_out, h, w, (f_h, f_w), (s_h, s_w), (top, bottom, left, right), bias)
FIXED = [
    (1, 1, 1, 3, 3, (3, 3), (1, 1), (0, 0, 0, 0), True),      # stride 1, no crop
    (2, 3, 2, 4, 5, (3, 2), (2, 3), (1, 0, 0, 1), True),      # rectangles, odd crops
    (2, 2, 3, 3, 4, (4, 4), (2, 2), (1, 1, 1, 1), False),     # the usual x2 upsampling
    (1, 2, 2, 4, 3, (2, 3), (3, 2), (0, -2, 0, -1), True),    # output_padding: zero rows
    (3, 1, 2, 2, 3, (3, 3), (2, 1), (-1, 2, 2, -1), True),    # zero rows on top, crops
    (2, 2, 1, 4, 4, (1, 1), (2, 2), (0, -1, 0, -1), False),   # f = 1 < s: gaps
    (1, 3, 2, 5, 2, (5, 3), (1, 2), (2, 2, 1, 1), True),      # taller filter, s_h = 1
    (2, 2, 3, 1, 2, (2, 3), (1, 2), (-3, 4, 6, -3), True),    # sides cut past the scatter
]


def cases(seed, n_random=5):
    """FIXED in float64 and float32, then random layers."""
    out = [c + (np.float64,) for c in FIXED] + [c + (np.float32,) for c in FIXED[1:5]]
    rng = np.random.default_rng(seed)
    for _ in range(n_random):
        f = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        h, w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        crops = []
        for size in (s[0] * (h - 1) + f[0], s[1] * (w - 1) + f[1]):
            top = int(rng.integers(-2, 3))
            bottom = int(rng.integers(-2, 3))
            while size - top - bottom < 1:  # at least one output row
                top, bottom = top - 1, bottom
            crops += [top, bottom]
        out.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                    h, w, f, s, tuple(crops), bool(rng.integers(0, 2)),
                    (np.float64, np.float32)[int(rng.integers(0, 2))]))
    return out


def output_shape(case):
    n_b, _, ch_out, h, w, f, s, (top, bottom, left, right) = case[:8]
    return (n_b, ch_out, s[0] * (h - 1) + f[0] - top - bottom,
            s[1] * (w - 1) + f[1] - left - right)


def describe(case, forward=True):
    n_b, ch_in, ch_out, h, w, f, s, padding, bias, dtype = case
    with_bias = (" with" if bias else " without") + " bias," if forward else ""
    return (f"(x of shape {(n_b, ch_in, h, w)}, W of shape {(ch_in, ch_out, *f)}, s={s}, "
            f"padding={padding},{with_bias} {np.dtype(dtype).name})")


def arrays(case, rng):
    n_b, ch_in, ch_out, h, w, f, s, padding, bias, dtype = case
    x = rng.normal(size=(n_b, ch_in, h, w)).astype(dtype)
    W = rng.normal(size=(ch_in, ch_out, *f)).astype(dtype)
    b = rng.normal(size=ch_out).astype(dtype) if bias else None
    dy = rng.normal(size=output_shape(case)).astype(dtype)
    return x, W, b, dy


def plan(grade_id, seed):
    name = PARTS[grade_id]
    if grade_id == "a5-train-tests":
        train_seed = seed % 1000 + 1
        return [(f"train({train_seed}, {EPOCHS})", name, (train_seed, EPOCHS))]
    calls = []
    forward = grade_id == "a5-fwd-tests"
    rng = np.random.default_rng(seed + (51 if forward else 52))
    for case in cases(seed + 5):
        x, W, b, dy = arrays(case, rng)
        s, padding = case[6], case[7]
        args = (x, W, b, s, padding) if forward else (dy, x, W, s, padding)
        calls.append((describe(case, forward), name, args))
    return calls


def _layer_code(layer, nn, tconv_class):
    if isinstance(tconv_class, type) and isinstance(layer, tconv_class):
        W = layer.params["W"]
        return [LAYER_CODES["ConvTranspose2d"], *W.shape, *layer.s, *layer.padding]
    if isinstance(layer, nn.ReLU):
        return [LAYER_CODES["ReLU"]]
    return [LAYER_CODES["unknown"]]


def _network(net, nn, tconv_class):
    """(layers as int arrays, every layer's parameters in order, W then b) of `net`."""
    layers = [np.array(_layer_code(layer, nn, tconv_class), dtype=np.int64)
              for layer in net.layers]
    params = [np.asarray(layer.params[key]) for layer in net.layers
              for key in sorted(getattr(layer, "params", {}) or {})]
    return encode((tuple(layers), tuple(params)))


def _train(namespace, label, name, args):
    """Run train(seed, epochs); record its result and the last network it built."""
    from convlib import nn

    built = []
    sequential = nn.Sequential

    class Sequential(sequential):  # records every network train builds
        def __init__(self, *layers):
            super().__init__(*layers)
            built.append(self)

    nn.Sequential = Sequential
    try:
        record = call(function(namespace, name), args)
    finally:
        nn.Sequential = sequential
    record["case"] = label
    net = (built or [None])[-1]
    if "error" in record:
        return record
    if not isinstance(net, sequential):
        record["network_error"] = "train built no nn.Sequential"
        return record
    try:
        record["network"] = _network(net, nn, namespace.get("ConvTranspose2d"))
    except Exception as exc:  # noqa: BLE001
        record["network_error"] = f"its network could not be read: {type(exc).__name__}: {exc}"
    return record


def run(grade_id, namespace, seed):
    records = []
    for label, name, args in plan(grade_id, seed):
        if grade_id == "a5-train-tests":
            records.append(_train(namespace, label, name, args))
            continue
        record = call(function(namespace, name), args)
        record["case"] = label
        records.append(record)
    return records
