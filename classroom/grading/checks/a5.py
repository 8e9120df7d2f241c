"""Assignment 5, trusted side: the references and the messages of each part.

Max pooling is judged against convlib.nn's MaxPool2d (ties to the first maximum in row-major
order, overlapping windows add up); plausible wrong versions (other tie rules, overwriting
where windows overlap, a forward that starts from 0) are recomputed here to name what failed.
Training is judged on the network train built: rebuilt here with convlib.nn's own layers from
the recorded parameters, and measured on the held-out digits.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
from convgrade.a5 import EPOCHS, LAYER_CODES

from convlib import nn

from . import Malformed, Verdict, close, decode, expect_array, rel, value

# What the kernel's convlib loses: the pooling layers of convlib.nn and their internals
# (_Pool2d: the windows view and the scatter of the backward pass), and convlib.windows, the
# window view they are built on. Kept: everything else of convlib.nn (Conv2d, ReLU, Flatten,
# Linear, Sequential, the optimizers, train_epoch, accuracy) and what Conv2d runs on.
CONVLIB = frozenset({"_Pool2d", "MaxPool2d", "AvgPool2d", "windows"})
# The network must be trained with the student's own max pooling: the kernel could hand over
# parameters trained anywhere, so the training part counts only with a working pooling layer.
REQUIRES = {"a5-train-tests": ("a5-fwd-tests", "a5-bwd-tests")}

ACCURACY = 0.85  # on the held-out digits, after EPOCHS epochs (5 give about 0.95)
N_TRAIN = 1500
NETWORK = [  # the prescribed network, as the kernel records it (convgrade.a5.LAYER_CODES)
    ([LAYER_CODES["Conv2d"], 1, 16, 3, 1, -1, 0, 0], "nn.Conv2d(1, 16, 3)"),
    ([LAYER_CODES["ReLU"]], "nn.ReLU()"),
    ([LAYER_CODES["MaxPool"], 2, 2], "MaxPool(2), the notebook's layer around your functions"),
    ([LAYER_CODES["Flatten"]], "nn.Flatten()"),
    ([LAYER_CODES["Linear"], 16 * 4 * 4, 10], "nn.Linear(16 * 4 * 4, 10)"),
]
SHAPES = [(1, 16, 3, 3), (16,), (16 * 4 * 4, 10), (10,)]


def check(grade_id, name, label, args, record):
    if grade_id == "a5-train-tests":
        _check_train(name, label, args, record)
        return
    got = value(name, record)
    if grade_id == "a5-fwd-tests":
        x, k, s = args
        want = nn.MaxPool2d(k, s).forward(x)
        if expect_array(name, got, want, label):
            return
        if np.any(want < 0) and close(got, np.maximum(want, 0)):
            raise Verdict(f"maxpool_forward starts from 0 {label}: the maximum of a window of "
                          "negative values is negative (start from -inf, or from the window)")
        if close(got, nn.AvgPool2d(k, s).forward(x)):
            raise Verdict(f"maxpool_forward takes the mean of each window {label}, not the max")
        raise Verdict(f"maxpool_forward gives wrong values {label}: y[n, c, i, j] is the max of "
                      "the k x k window at (i s, j s)")
    dy, x, k, s = args
    layer = nn.MaxPool2d(k, s)
    layer.forward(x)
    want = layer.backward(dy)
    if expect_array(name, got, want, label):
        return
    ties = _has_ties(x, k, s)
    if s < k:
        wrong = [_route(dy, x, k, s, tie, add=False) for tie in _TIES] + [_sliced(dy, x, k, s)]
        if any(close(got, w) for w in wrong):
            raise Verdict(f"maxpool_backward overwrites where windows overlap (s < k) {label}: "
                          "the contributions of overlapping windows add up")
    if ties:
        for tie, how in _TIES.items():
            if tie != "first" and close(got, _route(dy, x, k, s, tie)):
                raise Verdict(f"maxpool_backward routes a tie {how} {label}: all of dy goes to "
                              "the first maximum of the window in row-major order")
    hint = (" (this case has tied maxima: all of dy goes to the first in row-major order)"
            if ties else "")
    if s < k:
        hint += " (windows overlap here: their contributions add up)"
    raise Verdict(f"maxpool_backward gives wrong values (relative error {rel(got, want):.1e}) "
                  f"{label}{hint}")


_TIES = {"first": "", "last": "to the last maximum", "all": "to every maximum",
         "column": "to the first maximum in column-major order"}


def _windows(x, k, s):
    n_b, ch, h_in, w_in = x.shape
    ho, wo = (h_in - k) // s + 1, (w_in - k) // s + 1
    for n in range(n_b):
        for c in range(ch):
            for i in range(ho):
                for j in range(wo):
                    yield n, c, i, j, x[n, c, i * s:i * s + k, j * s:j * s + k]


def _has_ties(x, k, s):
    return any(np.count_nonzero(w == w.max()) > 1 for *_, w in _windows(x, k, s))


def _route(dy, x, k, s, tie, add=True):
    """dx with each dy routed by a tie rule, added (or assigned) window by window."""
    dx = np.zeros(x.shape, dtype=np.result_type(dy, x))
    for n, c, i, j, w in _windows(x, k, s):
        where = np.argwhere(w == w.max())  # row-major order
        if tie == "column":
            where = where[np.lexsort((where[:, 0], where[:, 1]))]
        picks = {"first": where[:1], "last": where[-1:], "all": where,
                 "column": where[:1]}[tie]
        for a, b in picks:
            if add:
                dx[n, c, i * s + a, j * s + b] += dy[n, c, i, j]
            else:
                dx[n, c, i * s + a, j * s + b] = dy[n, c, i, j]
    return dx


def _sliced(dy, x, k, s):
    """Offset by offset, the offset's share assigned onto the strided slice (`=`, not `+=`)."""
    ho, wo = dy.shape[-2:]
    first = np.zeros(dy.shape, dtype=np.int64)
    for n, c, i, j, w in _windows(x, k, s):
        first[n, c, i, j] = int(np.argmax(w))
    dx = np.zeros(x.shape, dtype=np.result_type(dy, x))
    for a in range(k):
        for b in range(k):
            part = dy * (first == a * k + b)
            dx[:, :, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s] = part
    return dx


@functools.lru_cache(maxsize=1)
def _digits():
    """scikit-learn's 8 x 8 digits scaled to [0, 1], and their labels (read from its file:
    importing sklearn takes seconds)."""
    spec = importlib.util.find_spec("sklearn")
    where = (spec.submodule_search_locations or []) if spec else []
    path = Path(next(iter(where), ".")) / "datasets/data"
    if (path / "digits.csv.gz").is_file():
        data = np.loadtxt(path / "digits.csv.gz", delimiter=",")
        images, target = data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images, target = digits.images, digits.target
    return (images / 16.0)[:, None], target


def _check_train(name, label, args, record):
    got = value(name, record)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Verdict(f"{label} must return (losses, test_accuracy)")
    if "network_error" in record:
        raise Verdict(f"{label}: {str(record['network_error'])[:200]}")
    layers, params = _network(record.get("network"))
    where = f"in the network {label} trained"
    if len(layers) != len(NETWORK):
        raise Verdict(f"{where}: {len(layers)} layers; the prescribed network has "
                      f"{len(NETWORK)}: " + ", ".join(text for _, text in NETWORK))
    for i, (code, (want, text)) in enumerate(zip(layers, NETWORK, strict=True)):
        if code != want:
            raise Verdict(f"{where}: layer {i} is not {text} "
                          f"(the prescribed network: {', '.join(t for _, t in NETWORK)})")
    if [p.shape for p in params] != SHAPES:
        raise Verdict(f"{where}: the parameters do not have the shapes of the prescribed "
                      "network")
    if not all(p.dtype.kind == "f" and np.all(np.isfinite(p)) for p in params):
        raise Verdict(f"{where}: some parameters are not finite numbers (training diverged?)")
    net = nn.Sequential(nn.Conv2d(1, 16, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(16 * 4 * 4, 10, rng=0))
    for (_, param), trained in zip(sorted(net.params.items(), key=_order), params,
                                   strict=True):
        param[...] = trained
    x, y = _digits()
    accuracy = nn.accuracy(net, x[N_TRAIN:], y[N_TRAIN:])
    if not accuracy > ACCURACY:
        raise Verdict(f"the network {label} trained (rebuilt by the grader with its own "
                      f"layers) classifies {accuracy:.2f} of the held-out digits right, "
                      f"{ACCURACY} or more is expected after {EPOCHS} epochs: does it use your "
                      "MaxPool, the digits scaled to [0, 1] and the first 1500 for training?")


def _order(item):
    index, key = item[0].split(".")
    return int(index), key


def _network(blob):
    """([layer codes as lists], [parameters]) of the record, or Malformed."""
    network = decode(blob)
    if not (isinstance(network, tuple) and len(network) == 2
            and all(isinstance(part, tuple) for part in network)):
        raise Malformed("not a network record")
    layers, params = network
    if not all(isinstance(c, np.ndarray) and c.ndim == 1 and c.dtype.kind in "iu"
               and c.size <= 16 for c in layers):
        raise Malformed("bad layer codes")
    if not all(isinstance(p, np.ndarray) for p in params):
        raise Malformed("bad parameters")
    return [c.tolist() for c in layers], list(params)
