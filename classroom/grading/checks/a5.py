"""Assignment 5, trusted side: the references and the messages of each part.

The transposed convolution is judged against PyTorch: torch.nn.functional.conv_transpose2d
without padding (the whole scatter), then cut by the four sides of `padding` (a negative side
adds zero rows), then the bias on every output pixel; its gradients by autograd. Plausible
wrong versions (sides swapped, the filter rotated, the bias left off the added rows, dW not
summed over the batch) are recomputed here to name what failed. Training is judged on the
network train built: rebuilt here with the reference layer from the recorded parameters, its
mean squared error measured on the held-out digits.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path

import numpy as np
from convgrade.a5 import EPOCHS, LAYER_CODES

from . import Malformed, Verdict, close, decode, expect_array, rel, value

# What the kernel's convlib loses: every function that computes the convolution layer's
# forward or backward pass, since the forward pass of this layer IS the convolution's input
# gradient (conv_backward's dq, eq. 29, the input_gradient_* functions, dilated_padded_dz),
# its dx IS the convolution's forward pass (conv_forward*) and its dW the convolution's filter
# gradient with roles swapped (filter_gradient_*, conv_backward's dW); nn.Conv2d goes with them
# (its backward is conv_backward). Kept: im2col and col2im (square filters and one stride only,
# so of no direct use on the rectangular cases), the rest of convlib.nn (Module, ReLU,
# Sequential, Adam, SGD, batches, no_grad), numerical_gradient and rel_error.
CONVLIB = frozenset({
    "conv_forward", "conv_forward_naive", "conv_backward", "conv_backward_naive",
    "input_gradient_naive", "input_gradient_col2im", "input_gradient_rot180",
    "dilated_padded_dz", "filter_gradient_naive", "filter_gradient_dilated",
    "bias_gradient", "bias_gradient_naive", "Conv2d",
})
# The network must be trained with the student's own layer: the kernel could hand over
# parameters trained anywhere, so the training part counts only with a working layer.
REQUIRES = {"a5-train-tests": ("a5-fwd-tests", "a5-bwd-tests")}

N_TRAIN = 1500
MSE = 0.040  # on the held-out digits after EPOCHS epochs; nearest-neighbour upsampling: 0.0487
NETWORK = [  # the prescribed network, as the kernel records it (convgrade.a5.LAYER_CODES)
    ([LAYER_CODES["ConvTranspose2d"], 1, 16, 3, 3, 2, 2, 1, 0, 1, 0],
     "ConvTranspose2d(1, 16, (3, 3), (2, 2), (1, 0, 1, 0))"),
    ([LAYER_CODES["ReLU"]], "nn.ReLU()"),
    ([LAYER_CODES["ConvTranspose2d"], 16, 1, 3, 3, 1, 1, 1, 1, 1, 1],
     "ConvTranspose2d(16, 1, (3, 3), (1, 1), (1, 1, 1, 1))"),
]
SHAPES = [(1, 16, 3, 3), (16,), (16, 1, 3, 3), (1,)]


def _torch():
    import torch

    return torch


def cut(full, padding):
    """The rows and columns of `full` that the four sides keep (negative sides add zeros)."""
    torch = _torch()
    top, bottom, left, right = padding
    full = torch.nn.functional.pad(full, (max(-left, 0), max(-right, 0),
                                          max(-top, 0), max(-bottom, 0)))
    return full[:, :, max(top, 0):full.shape[2] - max(bottom, 0),
                max(left, 0):full.shape[3] - max(right, 0)]


def _swapped(padding):
    """The sides with top <-> bottom, left <-> right, or both swapped (those that differ)."""
    t, b, l, r = padding
    out = [(b, t, l, r), (t, b, r, l), (b, t, r, l)]
    return [p for k, p in enumerate(out) if p != tuple(padding) and p not in out[:k]]


def reference(x, W, b, s, padding, dy=None, *, bias_on_added=True, rotate=False):
    """y, or (dx, dW, db) given dy, in float64, cast back to the inputs' dtype."""
    torch = _torch()
    dtype = np.result_type(x, W)
    X = torch.tensor(np.asarray(x, np.float64), requires_grad=True)
    Wr = np.asarray(W, np.float64)
    if rotate:
        Wr = Wr[:, :, ::-1, ::-1].copy()
    Wt = torch.tensor(Wr, requires_grad=True)
    y = cut(torch.nn.functional.conv_transpose2d(X, Wt, None, stride=tuple(s)), padding)
    if b is not None:
        B = torch.tensor(np.asarray(b, np.float64))
        if bias_on_added:
            y = y + B[:, None, None]
        else:  # the bias only where the scatter reaches, not on the zero rows added
            full = torch.nn.functional.conv_transpose2d(X, Wt, B, stride=tuple(s))
            y = cut(full, padding)
    if dy is None:
        return y.detach().numpy().astype(dtype)
    (y * torch.tensor(np.asarray(dy, np.float64))).sum().backward()
    db = np.asarray(dy, np.float64).sum(axis=(0, 2, 3))
    return (X.grad.numpy().astype(dtype), Wt.grad.numpy().astype(dtype), db.astype(dtype))


def check(grade_id, name, label, args, record):
    if grade_id == "a5-train-tests":
        _check_train(name, label, args, record)
        return
    got = value(name, record)
    if grade_id == "a5-fwd-tests":
        x, W, b, s, padding = args
        want = reference(x, W, b, s, padding)
        if expect_array(name, got, want, label):
            return
        if close(got, reference(x, W, b, s, padding, rotate=True)):
            raise Verdict(f"{name} uses the filter rotated by 180 degrees {label}: the scatter "
                          "adds x[n, mu, i, j] W[mu, nu, a, b] at (s_h i + a - top, "
                          "s_w j + b - left), no rotation")
        if any(close(got, reference(x, W, b, s, other)) for other in _swapped(padding)):
            raise Verdict(f"{name} cuts the sides the wrong way round {label}: padding is "
                          "(top, bottom, left, right)")
        if b is not None and close(got, reference(x, W, b, s, padding,
                                                   bias_on_added=False)):
            raise Verdict(f"{name} leaves the bias off the zero rows or columns a negative "
                          f"side adds {label}: every output pixel gets b[nu]")
        if b is not None and len(b) > 1 and close(got, reference(x, W, np.full_like(b, b[0]),
                                                                  s, padding)):
            raise Verdict(f"{name} adds b[0] to every output channel {label}: channel nu gets "
                          "b[nu]")
        if close(got, reference(x, W, None, s, padding)) and b is not None:
            raise Verdict(f"{name} does not add the bias {label}")
        raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) {label}")
    dy, x, W, s, padding = args
    if not (isinstance(got, tuple) and len(got) == 3):
        raise Verdict(f"{name} must return (dx, dW, db) {label}")
    dx, dW, db = reference(x, W, None, s, padding, dy)
    wrong = []
    for what, g, w in (("dx", got[0], dx), ("dW", got[1], dW), ("db", got[2], db)):
        if not expect_array(f"{name}'s {what}", g, w, label):
            wrong.append(what)
    if not wrong:
        return
    if "dW" in wrong and x.shape[0] > 1:
        ones = [reference(x[k:k + 1], W, None, s, padding, dy[k:k + 1])[1] for k in (0, -1)]
        if any(close(got[1], w) for w in [*ones, dW / x.shape[0]]):
            raise Verdict(f"{name}'s dW is not summed over the batch {label}")
    for other in _swapped(padding):
        swapped = reference(x, W, None, s, other, dy)
        if all(close(g, w) for g, w, what in zip(got, swapped, ("dx", "dW", "db"),
                                                  strict=True) if what in wrong):
            raise Verdict(f"{name} puts dy back with the sides the wrong way round {label}: "
                          "padding is (top, bottom, left, right)")
    hint = {"dx": "dx is the cross-correlation of dy, padded by the four sides, with W, "
                  "stride s",
            "dW": "dW[mu, nu, a, b] sums x[n, mu, i, j] times the dy pixel it reached",
            "db": "db sums dy over the batch and the pixels"}[wrong[0]]
    raise Verdict(f"{name}'s {wrong[0]} gives wrong values {label} ({hint})")


@functools.lru_cache(maxsize=1)
def digits():
    """scikit-learn's 8 x 8 digits (values 0..16) and their labels (read from its file:
    importing sklearn takes seconds)."""
    spec = importlib.util.find_spec("sklearn")
    where = (spec.submodule_search_locations or []) if spec else []
    path = Path(next(iter(where), ".")) / "datasets/data"
    if (path / "digits.csv.gz").is_file():
        data = np.loadtxt(path / "digits.csv.gz", delimiter=",")
        return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    loaded = load_digits()
    return loaded.images, loaded.target


def kit_files():
    """Files kit/build.py adds to the sealed kernel's kit: the digits, as convgrade/digits.npz
    (the kernel has no scikit-learn)."""
    images, target = digits()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, target=target)
    return {"convgrade/digits.npz": buffer.getvalue()}


def pairs():
    """(4 x 4 inputs, 8 x 8 targets): the digits scaled to [0, 1], and their 2 x 2 means."""
    images = digits()[0] / 16.0
    y = images[:, None]
    return y.reshape(-1, 1, 4, 2, 4, 2).mean(axis=(3, 5)), y


def _check_train(name, label, args, record):
    got = value(name, record)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Verdict(f"{label} must return (losses, test_mse)")
    if "network_error" in record:
        raise Verdict(f"{label}: {str(record['network_error'])[:200]}")
    layers, params = _network(record.get("network"))
    where = f"in the network {label} trained"
    described = ", ".join(text for _, text in NETWORK)
    if len(layers) != len(NETWORK):
        raise Verdict(f"{where}: {len(layers)} layers; the prescribed network has "
                      f"{len(NETWORK)}: {described}")
    for i, (code, (want, text)) in enumerate(zip(layers, NETWORK, strict=True)):
        if code != want:
            raise Verdict(f"{where}: layer {i} is not {text} (the prescribed network: "
                          f"{described})")
    if [p.shape for p in params] != SHAPES:
        raise Verdict(f"{where}: the parameters do not have the shapes of the prescribed "
                      "network")
    if not all(p.dtype.kind == "f" and np.all(np.isfinite(p)) for p in params):
        raise Verdict(f"{where}: some parameters are not finite numbers (training diverged?)")
    x, y = pairs()
    out = x[N_TRAIN:]
    for k, (W, b) in enumerate((params[0:2], params[2:4])):
        code = layers[2 * k]
        out = reference(out, W.astype(np.float64), b.astype(np.float64), code[5:7], code[7:11])
        if k == 0:
            out = np.maximum(out, 0)  # the ReLU between them
    mse = float(np.mean((out - y[N_TRAIN:]) ** 2))
    if not mse < MSE:
        raise Verdict(f"the network {label} trained (rebuilt by the grader with its own "
                      f"layer) has a mean squared error of {mse:.4f} on the held-out digits, "
                      f"below {MSE} is expected after {EPOCHS} epochs (nearest-neighbour "
                      "upsampling gives 0.0487): does it train on the first 1500 digits "
                      "scaled to [0, 1], with the 2 x 2 means as input?")


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
