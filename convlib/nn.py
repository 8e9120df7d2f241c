"""A small neural-network kit built on convlib: layers with a cache, a loss, two optimizers.

Numpy only. Every layer has ``forward(x)``, which returns the output and keeps what the
backward pass needs, and ``backward(dy)``, which returns ``dx`` (the differential of the loss
with respect to the layer's input) and stores the gradients of its parameters. ``params`` and
``grads`` are dicts of arrays with the same keys; :class:`Sequential` prefixes them with the
layer's index (``"0.W"``, ``"0.b"``, ...). The optimizers update ``params`` in place.

:class:`Conv2d` is the layer of the notes, with ``W`` in their layout ``(ch_in, ch_out, f, f)``
(eq. 2); its two passes are :func:`convlib.conv_forward` (eq. 6) and
:func:`convlib.conv_backward` (eqs. 14, 16 and 29). :class:`ReLU` applies eq. (9) and, on the
way back, the corrected eq. (11), ``dz = dq * sigma'(z)``.

Examples
--------
>>> import numpy as np
>>> from convlib import nn
>>> rng = np.random.default_rng(0)
>>> net = nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
...                     nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng=rng))
>>> x, y = rng.normal(size=(5, 1, 8, 8)), np.array([0, 3, 9, 3, 1])
>>> loss, dlogits = nn.softmax_cross_entropy(net.forward(x), y)
>>> dx = net.backward(dlogits)
>>> sorted(net.grads) == sorted(net.params) == ["0.W", "0.b", "4.W", "4.b"]
True
>>> nn.SGD(net.params, lr=0.1, momentum=0.9).step(net.grads)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import MODES, as_float_array, check_int, pair
from .activations import activate, output_error
from .backward import conv_backward
from .forward import conv_forward
from .ops import windows

__all__ = [
    "Adam",
    "AvgPool2d",
    "Conv2d",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "Module",
    "ReLU",
    "SGD",
    "Sequential",
    "accuracy",
    "batches",
    "gradient_check",
    "predict",
    "softmax_cross_entropy",
    "train_epoch",
]


# ----------------------------------------------------------------------------- helpers
def _generator(rng) -> np.random.Generator:
    """A numpy Generator from ``None``, a seed or a Generator."""
    if rng is None or isinstance(rng, (numbers.Integral, np.random.Generator)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy Generator; got {rng!r}")


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64; got {dt}")
    return dt


def _he_normal(rng, shape, fan_in: int, dtype) -> np.ndarray:
    """He initialisation: normal, mean 0, variance ``2 / fan_in`` (keeps ReLU activations at
    a constant scale from layer to layer)."""
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(dtype)


def _check_dy(dy, shape, name: str = "dy") -> np.ndarray:
    dy = as_float_array(dy, name)
    if dy.shape != tuple(shape):
        raise ValueError(
            f"{name} must have the shape of the layer's output, {shape}; got {dy.shape}"
        )
    return dy


class Module:
    """Base class: ``forward``, ``backward``, and the ``params``/``grads`` dicts."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache = None

    def __call__(self, x):
        return self.forward(x)

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    def forward(self, x):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def backward(self, dy):  # pragma: no cover - every layer overrides it
        raise NotImplementedError


# ----------------------------------------------------------------------------- layers
class Conv2d(Module):
    """Convolutional layer of the notes: eq. (6) forward, eqs. (14), (16), (29) backward.

    Parameters
    ----------
    ch_in, ch_out, f : int
        Input channels, output channels, filter width.
    s : int
        Stride.
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
        Output size, which fixes the padding by eqs. (7)-(8) of the notes (extra pixel
        top/left). ``"same"`` gives ``ceil(h_in / s)``.
    rng : None, int or numpy Generator
        Source of the He-initialised filters ``W ~ N(0, 2 / (ch_in f^2))``; biases start at 0.
    padding : (top, bottom, left, right), optional, keyword-only
        Explicit padding instead of eqs. (7)-(8) (then ``h_out`` must stay ``"valid"``).
    dtype : float32 or float64, keyword-only

    Attributes
    ----------
    params : dict
        ``"W"`` of shape ``(ch_in, ch_out, f, f)`` (eq. 2; PyTorch's weight is
        ``W.transpose(1, 0, 2, 3)``) and ``"b"`` of shape ``(ch_out,)``.
    grads : dict
        ``dW`` and ``db`` of the last backward pass, summed over the mini-batch.
    """

    def __init__(self, ch_in, ch_out, f, s=1, h_out="same", rng=None, *, padding=None,
                 dtype=np.float64):
        super().__init__()
        self.ch_in = check_int(ch_in, "ch_in", 1)
        self.ch_out = check_int(ch_out, "ch_out", 1)
        self.f = check_int(f, "f", 1)
        self.s = check_int(s, "s", 1)
        if isinstance(h_out, str):
            if h_out not in MODES:
                raise ValueError(
                    f"h_out must be an int >= 1, an (h, w) pair or one of {MODES}; got {h_out!r}"
                )
        else:
            h_out = tuple(check_int(v, "h_out", 1) for v in pair(h_out, "h_out"))
        self.h_out = h_out
        self.padding = padding
        dtype = _float_dtype(dtype)
        shape = (self.ch_in, self.ch_out, self.f, self.f)
        W = _he_normal(_generator(rng), shape, self.ch_in * self.f * self.f, dtype)
        self.params = {"W": W, "b": np.zeros(self.ch_out, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        """``z = conv_forward(x, W, b, s, h_out)``; ``x`` is ``(n_b, ch_in, h_in, w_in)``."""
        x = as_float_array(x, "x", 4, "(n_b, ch_in, h_in, w_in)")
        z = conv_forward(x, self.params["W"], self.params["b"], self.s, self.h_out,
                         padding=self.padding)
        self._cache = (x, z.shape)
        return z

    def backward(self, dy):
        """``dx, dW, db = conv_backward(dy, x, W, s, h_out)``; returns ``dx``."""
        x, shape = self._cached()
        dy = _check_dy(dy, shape)
        dx, dW, db = conv_backward(dy, x, self.params["W"], self.s, self.h_out,
                                   padding=self.padding)
        self.grads = {"W": dW, "b": db}
        return dx

    def __repr__(self):
        return (f"Conv2d({self.ch_in}, {self.ch_out}, f={self.f}, s={self.s}, "
                f"h_out={self.h_out!r})")


class ReLU(Module):
    """``q = max(z, 0)`` (eq. 9); backward ``dz = dq * sigma'(z)`` (eq. 10, eq. 11 corrected).

    ``sigma'(0)`` is taken as 0, as in PyTorch.
    """

    def forward(self, x):
        x = as_float_array(x, "x")
        self._cache = x
        return activate(x, "relu")

    def backward(self, dy):
        z = self._cached()
        return output_error(_check_dy(dy, z.shape), z, "relu")

    def __repr__(self):
        return "ReLU()"


class _Pool2d(Module):
    """Shared part of the pooling layers: ``k x k`` windows taken ``s`` apart, no padding.

    A window that does not fit is dropped: the output has ``floor((h_in - k) / s) + 1`` rows
    (PyTorch's default, ``ceil_mode=False``), and the input rows no window reads get a zero
    gradient.
    """

    def __init__(self, k, s=None):
        super().__init__()
        self.k = check_int(k, "k", 1)
        self.s = self.k if s is None else check_int(s, "s", 1)

    def _windows(self, x):
        x = as_float_array(x, "x", 4, "(n_b, ch, h_in, w_in)")
        if self.k > x.shape[2] or self.k > x.shape[3]:
            raise ValueError(
                f"the pooling window (k={self.k}) is bigger than the input "
                f"(h_in, w_in)={x.shape[2:]}"
            )
        return x, windows(x, self.k, self.s)  # (n_b, ch, h_out, w_out, k, k), a view

    def _scatter(self, x_shape, parts):
        """Add ``parts[a][b]`` (shape of the output) onto the input pixels at offset (a, b)."""
        dx = np.zeros(x_shape, dtype=parts[0][0].dtype)
        ho, wo = parts[0][0].shape[-2:]
        k, s = self.k, self.s
        for a in range(k):  # a loop over the k x k window offsets only
            for b in range(k):
                dx[..., a : a + s * (ho - 1) + 1 : s, b : b + s * (wo - 1) + 1 : s] += parts[a][b]
        return dx

    def __repr__(self):
        return f"{type(self).__name__}(k={self.k}, s={self.s})"


class MaxPool2d(_Pool2d):
    """Max pooling over ``k x k`` windows taken ``s`` apart (``s`` defaults to ``k``).

    Forward: ``y[n, c, i, j] = max_{a, b} x[n, c, i s + a, j s + b]``. Backward: the whole of
    ``dy[n, c, i, j]`` goes to the position of that maximum; overlapping windows (``s < k``)
    add up. **Ties:** the gradient goes to the *first* maximum of the window in row-major
    order (smallest ``a``, then smallest ``b``), as ``np.argmax`` and PyTorch's CPU kernel
    pick it. Output size ``floor((h_in - k) / s) + 1`` (PyTorch's default).
    """

    def forward(self, x):
        x, win = self._windows(x)
        flat = win.reshape(win.shape[:4] + (self.k * self.k,))
        idx = flat.argmax(axis=-1)
        self._cache = (x.shape, idx)
        return np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        x_shape, idx = self._cached()
        dy = _check_dy(dy, idx.shape)
        k = self.k
        parts = [[dy * (idx == a * k + b) for b in range(k)] for a in range(k)]
        return self._scatter(x_shape, parts)


class AvgPool2d(_Pool2d):
    """Average pooling over ``k x k`` windows taken ``s`` apart (``s`` defaults to ``k``).

    Forward: the mean of each window. Backward: ``dy / k^2`` to every pixel of the window;
    overlapping windows add up. Output size ``floor((h_in - k) / s) + 1`` (PyTorch's default).
    """

    def forward(self, x):
        x, win = self._windows(x)
        y = win.mean(axis=(-2, -1))
        self._cache = (x.shape, y.shape)
        return y

    def backward(self, dy):
        x_shape, shape = self._cached()
        share = _check_dy(dy, shape) / (self.k * self.k)
        return self._scatter(x_shape, [[share] * self.k for _ in range(self.k)])


class Flatten(Module):
    """``(n_b, ch, h, w) -> (n_b, ch h w)`` in C order (as ``torch.flatten(x, 1)``)."""

    def forward(self, x):
        x = as_float_array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have a batch axis and at least one more; got {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        shape = self._cached()
        return _check_dy(dy, (shape[0], math.prod(shape[1:]))).reshape(shape)

    def __repr__(self):
        return "Flatten()"


class Linear(Module):
    """Fully connected layer ``y = x W + b``, ``W`` of shape ``(n_in, n_out)``.

    Backward: ``dW = x^T dy``, ``db = sum_n dy[n]``, ``dx = dy W^T``. PyTorch's
    ``nn.Linear.weight`` is ``W.T``. ``W`` is He-initialised, ``N(0, 2 / n_in)``; ``b = 0``.

    Parameters
    ----------
    n_in, n_out : int
    rng : None, int or numpy Generator
    dtype : float32 or float64, keyword-only
    """

    def __init__(self, n_in, n_out, rng=None, *, dtype=np.float64):
        super().__init__()
        self.n_in = check_int(n_in, "n_in", 1)
        self.n_out = check_int(n_out, "n_out", 1)
        dtype = _float_dtype(dtype)
        W = _he_normal(_generator(rng), (self.n_in, self.n_out), self.n_in, dtype)
        self.params = {"W": W, "b": np.zeros(self.n_out, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        x = as_float_array(x, "x", 2, "(n_b, n_in)")
        if x.shape[1] != self.n_in:
            raise ValueError(f"x must have n_in={self.n_in} columns; got x.shape={x.shape}")
        y = x @ self.params["W"] + self.params["b"]
        self._cache = (x, y.shape)
        return y

    def backward(self, dy):
        x, shape = self._cached()
        dy = _check_dy(dy, shape)
        self.grads = {"W": x.T @ dy, "b": dy.sum(axis=0)}
        return dy @ self.params["W"].T

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class Sequential(Module):
    """Layers applied one after the other; backward runs them in reverse order.

    ``params`` and ``grads`` gather the layers' dicts with the layer's index as a prefix:
    ``net.params["0.W"] is net[0].params["W"]`` (the same array, so an optimizer that
    updates ``net.params`` in place updates the layers).
    """

    def __init__(self, *layers):  # no Module.__init__: params and grads are views
        self._cache = None
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"layer {i} must be a convlib.nn layer (Conv2d, ReLU, ...); got {layer!r}"
                )
        self.layers = list(layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.grads.items()}

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy


# ----------------------------------------------------------------------------- loss
def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of the softmax of ``logits``, and its gradient.

    ``L = (1/n_b) sum_n [log sum_k exp(logits[n, k]) - logits[n, y_n]]``, computed with the
    log-sum-exp shift (the largest logit of each row is subtracted first), so no exp
    overflows. The gradient is ``dlogits = (softmax(logits) - onehot(y)) / n_b``.

    Parameters
    ----------
    logits : ndarray, shape (n_b, n_classes)
    y : ndarray of int, shape (n_b,)
        Class labels in ``0 .. n_classes - 1``.

    Returns
    -------
    loss : float
    dlogits : ndarray, shape (n_b, n_classes)

    Examples
    --------
    >>> loss, d = softmax_cross_entropy(np.zeros((2, 10)), np.array([3, 7]))
    >>> round(loss, 6) == round(float(np.log(10)), 6), d.shape
    (True, (2, 10))
    """
    logits = as_float_array(logits, "logits", 2, "(n_b, n_classes)")
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels; got dtype {y.dtype}")
    n_b, n_classes = logits.shape
    if y.shape != (n_b,):
        raise ValueError(f"y must have shape (n_b,) = ({n_b},); got {y.shape}")
    if n_b == 0:
        raise ValueError("logits must hold at least one row (n_b >= 1)")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"y must hold labels in 0..{n_classes - 1}; got values in {y.min()}..{y.max()}"
        )
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_z  # log softmax
    rows = np.arange(n_b)
    loss = float(-log_p[rows, y].mean())
    dlogits = np.exp(log_p)
    dlogits[rows, y] -= 1
    return loss, dlogits / n_b


# ----------------------------------------------------------------------------- optimizers
class _Optimizer:
    def __init__(self, params, lr):
        if not isinstance(params, dict) or not params:
            raise TypeError("params must be a non-empty dict of arrays, e.g. net.params")
        for k, v in params.items():
            if not isinstance(v, np.ndarray) or not np.issubdtype(v.dtype, np.floating):
                raise TypeError(f"params[{k!r}] must be a floating-point numpy array")
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"lr must be a number > 0; got {lr!r}")
        self.params = dict(params)
        self.lr = float(lr)

    def _grads(self, grads):
        if not isinstance(grads, dict) or set(grads) != set(self.params):
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise ValueError(f"grads must have the keys of params, {sorted(self.params)}; "
                             f"got {got}")
        for k, p in self.params.items():
            g = np.asarray(grads[k])
            if g.shape != p.shape:
                raise ValueError(f"grads[{k!r}] must have shape {p.shape}; got {g.shape}")
            yield k, p, g


class SGD(_Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum, as ``torch.optim.SGD``.

    ``v <- momentum v + g``, ``p <- p - lr v`` (``v`` starts at 0; ``momentum=0`` is plain
    ``p <- p - lr g``). The arrays of ``params`` are updated in place.
    """

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = {k: np.zeros_like(p) for k, p in self.params.items()}

    def step(self, grads):
        """Update every parameter in place from ``grads`` (a dict with the keys of params)."""
        for k, p, g in self._grads(grads):
            if self.momentum:
                v = self.velocity[k]
                v *= self.momentum
                v += g
                g = v
            p -= self.lr * g


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2015), with the bias corrections as ``torch.optim.Adam``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``, then
    ``p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`` at step ``t``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        b1, b2 = pair(betas, "betas")
        for name, beta in (("betas[0]", b1), ("betas[1]", b2)):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
                raise ValueError(f"{name} must be a number in [0, 1); got {beta!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
            raise ValueError(f"eps must be a number > 0; got {eps!r}")
        self.betas, self.eps, self.t = (float(b1), float(b2)), float(eps), 0
        self.m = {k: np.zeros_like(p) for k, p in self.params.items()}
        self.v = {k: np.zeros_like(p) for k, p in self.params.items()}

    def step(self, grads):
        """Update every parameter in place from ``grads`` (a dict with the keys of params)."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for k, p, g in self._grads(grads):
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / c1) * m / (np.sqrt(v) / math.sqrt(c2) + self.eps)


# ----------------------------------------------------------------------------- training
def batches(n, batch_size, rng):
    """Index arrays of one epoch: a permutation of ``range(n)`` cut into mini-batches.

    The last batch is smaller when ``batch_size`` does not divide ``n``. ``rng`` (a seed or a
    Generator) fixes the order, so two runs with the same seed see the same batches.
    """
    n = check_int(n, "n", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    order = _generator(rng).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def train_epoch(net, optimizer, x, y, batch_size, rng):
    """One pass over ``(x, y)`` in shuffled mini-batches; returns the loss of every step.

    Each step: forward, :func:`softmax_cross_entropy`, backward, ``optimizer.step``.
    """
    x = as_float_array(x, "x")
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must hold as many samples; got {len(x)} and {len(y)}")
    losses = []
    for idx in batches(len(x), batch_size, rng):
        loss, dlogits = softmax_cross_entropy(net.forward(x[idx]), y[idx])
        net.backward(dlogits)
        optimizer.step(net.grads)
        losses.append(loss)
    return np.array(losses)


def predict(net, x, batch_size=512):
    """The logits of ``net`` for every sample of ``x``, computed in batches."""
    x = as_float_array(x, "x")
    batch_size = check_int(batch_size, "batch_size", 1)
    return np.concatenate([net.forward(x[i : i + batch_size])
                           for i in range(0, len(x), batch_size)])


def accuracy(net, x, y, batch_size=512):
    """Fraction of the samples whose largest logit is at their label."""
    return float(np.mean(predict(net, x, batch_size).argmax(axis=1) == np.asarray(y)))


def gradient_check(net, x, y, h=1e-5, keys=None):
    """Backprop against centered finite differences, one relative error per parameter.

    Runs one forward and backward pass of ``softmax_cross_entropy(net.forward(x), y)``, then
    moves every entry of every parameter (or of those named in ``keys``) by ``+-h`` in turn.
    Use float64 parameters and input.

    The error of a parameter is ``||g - n|| / (||g|| + ||n||)`` (Euclidean norms; ``g`` from
    backprop, ``n`` numerical). The entrywise measure of :func:`convlib.rel_error` is not
    used here: the rounding of the loss puts ~1e-16 |loss| / h (~2e-11) on every numerical
    entry, and a network's gradient has small entries (a few 1e-6 in the training chapter's
    network) whose entrywise error then exceeds 1e-6 although the gradient is right.

    Returns
    -------
    dict
        ``{key: relative error}`` for every key of ``net.params`` (or of ``keys``).
    """
    params = net.params
    keys = list(params) if keys is None else list(keys)
    unknown = sorted(set(keys) - set(params))
    if unknown:
        raise ValueError(f"keys must name parameters of net, {sorted(params)}; got {unknown}")
    loss, dlogits = softmax_cross_entropy(net.forward(x), y)
    net.backward(dlogits)
    grads = {k: np.array(g, dtype=np.float64, copy=True) for k, g in net.grads.items()}
    errors = {}
    for key in keys:
        p = params[key]
        numeric = np.zeros(p.shape)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            plus = softmax_cross_entropy(net.forward(x), y)[0]
            p[i] = old - h
            minus = softmax_cross_entropy(net.forward(x), y)[0]
            p[i] = old
            numeric[i] = (plus - minus) / (2 * h)
        scale = np.linalg.norm(grads[key]) + np.linalg.norm(numeric)
        errors[key] = float(np.linalg.norm(grads[key] - numeric) / max(scale, 1e-300))
    return errors
