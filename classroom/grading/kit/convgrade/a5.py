"""Assignment 5 (max pooling, a small CNN): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a5.py) makes the same plan to compute
its references. Nothing here computes an answer: no pooling, no accuracy.

The training part records what `train` built, not what it reports: the layers of the network
(as numbers, `LAYER_CODES`) and its trained parameters. The trusted side rebuilds the network
with its own convlib.nn (its own MaxPool2d) and measures the accuracy on the held-out digits.
"""

from __future__ import annotations

import numpy as np

from . import call, encode, function

PARTS = {
    "a5-fwd-tests": "maxpool_forward",
    "a5-bwd-tests": "maxpool_backward",
    "a5-train-tests": "train",
}
EPOCHS = 5
# a layer of the recorded network: (code, hyperparameters...); h_out of Conv2d: an (h, w)
# pair, or -1 "same", -2 "valid", -3 "full"; padding: 0 for none, else 1 and its four sides
LAYER_CODES = {"unknown": 0, "Conv2d": 1, "ReLU": 2, "MaxPool": 3, "Flatten": 4, "Linear": 5}
MODES = {"same": -1, "valid": -2, "full": -3}
FIXED = [((1, 1, 4, 4), 2, 2), ((2, 3, 7, 5), 3, 2), ((2, 2, 6, 6), 3, 1),
         ((1, 2, 9, 7), 2, 3), ((3, 1, 5, 8), 1, 1)]


def cases(seed, n_random=4):
    """(shape, k, s, what, dtype): fixed windows (overlapping, s < k, among them), random ones."""
    out = []
    for shape, k, s in FIXED:
        out += [(shape, k, s, "random values", np.float64),
                (shape, k, s, "random values", np.float32),
                (shape, k, s, "many ties", np.float64)]
    out += [((2, 2, 5, 5), 2, 1, "negative values", np.float64),
            ((1, 2, 6, 6), 3, 2, "many ties", np.float32)]
    rng = np.random.default_rng(seed)
    for _ in range(n_random):
        k, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h_out, w_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        # some rows/columns at the end that no window reads
        h_in = s * (h_out - 1) + k + int(rng.integers(0, s))
        w_in = s * (w_out - 1) + k + int(rng.integers(0, s))
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), h_in, w_in)
        what = ("random values", "many ties")[int(rng.integers(0, 2))]
        out.append((shape, k, s, what, (np.float64, np.float32)[int(rng.integers(0, 2))]))
    return out


def describe(case):
    shape, k, s, what, dtype = case
    return f"for x of shape {shape}, k={k}, s={s} ({what}, {np.dtype(dtype).name})"


def x_of(case, rng):
    shape, _, _, what, dtype = case
    if what == "many ties":
        return rng.integers(0, 3, size=shape).astype(dtype)
    if what == "negative values":
        return -np.abs(rng.normal(size=shape)).astype(dtype) - 1
    return rng.normal(size=shape).astype(dtype)


def plan(grade_id, seed):
    name = PARTS[grade_id]
    if grade_id == "a5-train-tests":
        train_seed = seed % 1000 + 1
        return [(f"train({train_seed}, {EPOCHS})", name, (train_seed, EPOCHS))]
    calls = []
    rng = np.random.default_rng(seed + (51 if grade_id == "a5-fwd-tests" else 52))
    for case in cases(seed + 5):
        shape, k, s = case[:3]
        x = x_of(case, rng)
        if grade_id == "a5-fwd-tests":
            calls.append((describe(case), name, (x, k, s)))
        else:  # dy has the output's shape, h_out = (h_in - k) // s + 1 (the task's formula)
            y_shape = shape[:2] + ((shape[2] - k) // s + 1, (shape[3] - k) // s + 1)
            dy = rng.normal(size=y_shape).astype(case[4])
            calls.append((describe(case), name, (dy, x, k, s)))
    return calls


def _layer_code(layer, nn, pool_class):
    if isinstance(layer, nn.Conv2d):
        h_out = layer.h_out
        h_out = [MODES.get(h_out, 0), 0] if isinstance(h_out, str) else list(h_out)
        padding = [0] if layer.padding is None else [1] + [int(p) for p in layer.padding]
        return [LAYER_CODES["Conv2d"], layer.ch_in, layer.ch_out, layer.f, layer.s, *h_out,
                *padding]
    if isinstance(layer, nn.Linear):
        return [LAYER_CODES["Linear"], layer.n_in, layer.n_out]
    if isinstance(layer, nn.ReLU):
        return [LAYER_CODES["ReLU"]]
    if isinstance(layer, nn.Flatten):
        return [LAYER_CODES["Flatten"]]
    if isinstance(pool_class, type) and isinstance(layer, pool_class):
        return [LAYER_CODES["MaxPool"], int(layer.k), int(layer.s)]
    return [LAYER_CODES["unknown"]]


def _network(net, nn, pool_class):
    """(layers as int arrays, every layer's parameters in order, W then b) of `net`."""
    layers = [np.array(_layer_code(layer, nn, pool_class), dtype=np.int64)
              for layer in net.layers]
    params = [np.asarray(layer.params[key]) for layer in net.layers
              for key in sorted(getattr(layer, "params", {}) or {})]
    return encode((tuple(layers), tuple(params)))


def _train(namespace, label, name, args):
    """Run train(seed, epochs); record its result and the network it trained."""
    from convlib import nn

    built, evaluated = [], []
    sequential, accuracy = nn.Sequential, nn.accuracy

    class Sequential(sequential):  # records every network train builds
        def __init__(self, *layers):
            super().__init__(*layers)
            built.append(self)

    def measured(net, *more, **kwargs):  # the network whose accuracy train reports
        evaluated.append(net)
        return accuracy(net, *more, **kwargs)

    nn.Sequential, nn.accuracy = Sequential, measured
    try:
        record = call(function(namespace, name), args)
    finally:
        nn.Sequential, nn.accuracy = sequential, accuracy
    record["case"] = label
    net = (evaluated or built or [None])[-1]
    if "error" in record:
        return record
    if not isinstance(net, sequential):
        record["network_error"] = "train built no nn.Sequential"
        return record
    try:
        record["network"] = _network(net, nn, namespace.get("MaxPool"))
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
