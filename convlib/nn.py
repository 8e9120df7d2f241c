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

import contextlib
import itertools
import math
import numbers
import threading
import warnings

import numpy as np

from . import chunks
from ._validate import MODES, as_float_array, check_int, check_number, pair
from .activations import activate, output_error
from .backward import conv_backward
from .forward import conv_forward
from .gradcheck import numerical_gradient
from .ops import col2im, im2col, input_rows
from .padding import explicit_padding, layer_geometry

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
    "no_grad",
    "predict",
    "softmax_cross_entropy",
    "train_epoch",
]


# ----------------------------------------------------------------------------- helpers
def _generator(rng) -> np.random.Generator:
    """A numpy Generator from ``None``, a seed (an int >= 0) or a Generator."""
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        check_int(rng, "rng (a seed)", 0)
    elif not (rng is None or isinstance(rng, np.random.Generator)):
        raise TypeError(f"rng must be None, an int seed >= 0 or a numpy Generator; got {rng!r}")
    return np.random.default_rng(rng)


def _batch(x, name: str = "x", ndim: int | None = None, layout: str = "") -> np.ndarray:
    """``x`` as a float array with a batch axis first and at least one sample in it.

    The one rule of every layer, :func:`predict` and :func:`accuracy` (as Conv2d's
    ``n_b >= 1``): an empty batch is an error, not an empty result.
    """
    x = as_float_array(x, name, ndim, layout)
    if x.ndim < 1:
        raise ValueError(f"{name} must have a batch axis (n_b, ...); got a scalar {x!r}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one sample (n_b >= 1); got {x.shape}")
    return x


_mode = threading.local()  # grad mode, per thread (as torch.no_grad)
_forward_count = itertools.count(1)


def _grad_enabled() -> bool:
    return getattr(_mode, "enabled", True)


@contextlib.contextmanager
def no_grad():
    """Inference: inside this context the layers keep no cache (as ``torch.no_grad()``).

    :func:`predict` and :func:`accuracy` run in it, so logging the accuracy between a forward
    pass and its backward pass leaves the training caches as they were.
    """
    before = _grad_enabled()
    _mode.enabled = False
    try:
        yield
    finally:
        _mode.enabled = before


class _Params(dict):
    """A dict of parameter arrays whose entries are assigned *in place*.

    ``params[key] = value`` copies ``value`` into the existing array (same shape), so the
    layer, the :class:`Sequential` and an optimizer built earlier keep updating one array.
    Keys cannot be added or removed.
    """

    def __setitem__(self, key, value):
        if key not in self:
            raise KeyError(f"params has no key {key!r}; its keys are {sorted(self)}")
        target = dict.__getitem__(self, key)
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"params[{key!r}] must keep its shape {target.shape}; "
                             f"got {value.shape}")
        np.copyto(target, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _fixed(self, *args, **kwargs):
        raise TypeError("params keys are fixed by the layer; assign entries in place instead")

    __delitem__ = pop = popitem = clear = setdefault = _fixed


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
        self._params = _Params()
        self.grads: dict[str, np.ndarray] = {}
        self._cache = None
        self._forward_no = None

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameter arrays; ``params[key] = value`` copies into the array in place."""
        return self._params

    @params.setter
    def params(self, value):
        raise AttributeError("params cannot be replaced (an optimizer built on it would "
                             "update the old arrays); assign its entries: params['W'] = W")

    def __call__(self, x):
        return self.forward(x)

    def _keep(self, cache):
        """Keep what the backward pass needs, unless inside :func:`no_grad`."""
        if _grad_enabled():
            self._cache, self._forward_no = cache, next(_forward_count)

    def _cached(self):
        """The cache of the last training forward pass; a backward pass uses it up."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward (or "
                               "twice for one forward; inference under no_grad keeps no cache)")
        cache, self._cache = self._cache, None
        return cache

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
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}, optional
        Output size, which fixes the padding by eqs. (7)-(8) of the notes (extra pixel
        top/left). ``"same"`` gives ``ceil(h_in / s)``. Without ``h_out`` and ``padding`` the
        layer is ``"same"``: unlike :func:`convlib.conv_forward` and PyTorch (``"valid"``,
        no padding), a layer of a network keeps its image size unless told otherwise, which
        is what the notes' networks do.
    rng : None, int >= 0 or numpy Generator
        Source of the He-initialised filters ``W ~ N(0, 2 / (ch_in f^2))``; biases start at 0.
    padding : (top, bottom, left, right), optional, keyword-only
        Explicit padding instead of eqs. (7)-(8); ``h_out`` and ``padding`` exclude each other.
    dtype : float32 or float64, keyword-only

    Attributes
    ----------
    params : dict
        ``"W"`` of shape ``(ch_in, ch_out, f, f)`` (eq. 2; PyTorch's weight is
        ``W.transpose(1, 0, 2, 3)``) and ``"b"`` of shape ``(ch_out,)``.
    grads : dict
        ``dW`` and ``db`` of the last backward pass, summed over the mini-batch.
    """

    def __init__(self, ch_in, ch_out, f, s=1, h_out=None, rng=None, *, padding=None,
                 dtype=np.float64):
        super().__init__()
        self.ch_in = check_int(ch_in, "ch_in", 1)
        self.ch_out = check_int(ch_out, "ch_out", 1)
        self.f = check_int(f, "f", 1)
        self.s = check_int(s, "s", 1)
        if padding is not None:
            if h_out is not None:
                raise ValueError(f"pass h_out or padding, not both; got h_out={h_out!r} "
                                 f"and padding={padding!r}")
            padding = tuple(v for side in explicit_padding(padding) for v in side)
        elif h_out is None:
            h_out = "same"
        if isinstance(h_out, str):
            if h_out not in MODES:
                raise ValueError(
                    f"h_out must be an int >= 1, an (h, w) pair or one of {MODES}; got {h_out!r}"
                )
        elif h_out is not None:
            h_out = tuple(check_int(v, "h_out", 1) for v in pair(h_out, "h_out"))
        self.h_out, self.padding = h_out, padding
        dtype = _float_dtype(dtype)
        shape = (self.ch_in, self.ch_out, self.f, self.f)
        W = _he_normal(_generator(rng), shape, self.ch_in * self.f * self.f, dtype)
        self._params = _Params(W=W, b=np.zeros(self.ch_out, dtype=dtype))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _windows_fit(self, x):
        """Whether all window matrices of ``x`` fit in ``convlib.chunks.WORKSPACE`` bytes."""
        if x.ndim != 4 or x.shape[1] != self.ch_in or min(x.shape) < 1:
            return False  # conv_forward says what is wrong
        g = self._geometry()
        try:
            L = layer_geometry(*x.shape[2:], self.f, self.s, g["h_out"], g["padding"],
                               n_b=x.shape[0], ch_in=self.ch_in)
        except ValueError:
            return False
        itemsize = np.result_type(x, self.params["W"]).itemsize
        return L.ch_in * L.f**2 * L.n_b * L.h_out * L.w_out * itemsize <= chunks.WORKSPACE

    def _geometry(self):
        return dict(s=self.s, h_out="valid" if self.h_out is None else self.h_out,
                    padding=self.padding)

    def forward(self, x):
        """``z = conv_forward(x, W, b, s, h_out)``; ``x`` is ``(n_b, ch_in, h_in, w_in)``.

        In training (outside :func:`no_grad`) the window matrices of eq. (34) are kept for the
        backward pass's ``dW`` when all of them fit in ``convlib.chunks.WORKSPACE`` bytes (the
        memory bound of the chunked passes); otherwise the backward pass gathers them again.
        """
        x = as_float_array(x, "x", 4, "(n_b, ch_in, h_in, w_in)")
        W, b = self.params["W"], self.params["b"]
        kept = {} if _grad_enabled() and self._windows_fit(x) else None
        z = conv_forward(x, W, b, **self._geometry(), keep=kept)
        self._keep((x, z.shape, kept))
        return z

    def backward(self, dy):
        """``dx, dW, db = conv_backward(dy, x, W, s, h_out)``; returns ``dx``."""
        x, shape, kept = self._cached()
        dy = _check_dy(dy, shape)
        dx, dW, db = conv_backward(dy, x, self.params["W"], **self._geometry(), windows=kept)
        self.grads = {"W": dW, "b": db}
        return dx

    def __repr__(self):
        size = f"padding={self.padding!r}" if self.h_out is None else f"h_out={self.h_out!r}"
        return f"Conv2d({self.ch_in}, {self.ch_out}, f={self.f}, s={self.s}, {size})"


class ReLU(Module):
    """``q = max(z, 0)`` (eq. 9); backward ``dz = dq * sigma'(z)`` (eq. 10, eq. 11 corrected).

    ``sigma'(0)`` is taken as 0, as in PyTorch; a NaN in ``z`` passes ``dq`` through, as in
    PyTorch, rather than hiding it behind a zero.
    """

    def forward(self, x):
        x = _batch(x)
        self._keep(x)
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
    gradient. As CS231n's fast layers do, pooling is the convolution's gather and scatter on
    the images taken as one channel each, ``(n_b ch, 1, h_in, w_in)``: :func:`convlib.im2col`
    lays the windows out as columns (a ``k^2`` reduction per column), and
    :func:`convlib.col2im` adds the windows' gradients back. Both run chunk by chunk
    (:mod:`convlib.chunks`), so the memory stays bounded as in :class:`Conv2d`.
    """

    def __init__(self, k, s=None):
        super().__init__()
        self.k = check_int(k, "k", 1)
        self.s = self.k if s is None else check_int(s, "s", 1)

    def _geometry(self, shape):
        n_b, ch, h_in, w_in = shape
        if self.k > h_in or self.k > w_in:
            raise ValueError(
                f"the pooling window (k={self.k}) is bigger than the input "
                f"(h_in, w_in)={(h_in, w_in)}"
            )
        return layer_geometry(h_in, w_in, self.k, self.s, padding=(0, 0, 0, 0), n_b=n_b * ch)

    def forward(self, x):
        x = _batch(x, "x", 4, "(n_b, ch, h_in, w_in)")
        g = self._geometry(x.shape)
        q = x.reshape(g.n_b, 1, g.h_in, g.w_in)
        y = np.empty((g.n_b, g.h_out, g.w_out), dtype=x.dtype)
        keep = self._start(y)

        def work(c, buffer):
            U = im2col(q[c.n0 : c.n1], g.f, g.s, g.pads, rows=(c.i0, c.i1), out=buffer)
            self._reduce(U, y[c.n0 : c.n1, c.i0 : c.i1], keep, c)

        chunks.run(work, g, x.dtype)
        self._keep((x.shape, g, keep))
        return y.reshape(x.shape[:2] + y.shape[1:])

    def backward(self, dy):
        x_shape, g, keep = self._cached()
        dy = _check_dy(dy, x_shape[:2] + (g.h_out, g.w_out)).reshape(g.n_b, g.h_out, g.w_out)
        dx = np.zeros((g.n_b, 1, g.h_in, g.w_in), dtype=dy.dtype)

        def work(c, buffer):
            dU = buffer[: g.f * g.f * (c.n1 - c.n0) * (c.i1 - c.i0) * g.w_out]
            dU = dU.reshape(g.f * g.f, -1)
            self._spread(dy[c.n0 : c.n1, c.i0 : c.i1].reshape(-1), dU, keep, c)
            shape = (c.n1 - c.n0, 1, g.h_in, g.w_in)
            if c.whole:  # the chunk's images are its own
                col2im(dU, shape, g.f, g.s, g.pads, out=dx[c.n0 : c.n1])
                return None
            return col2im(dU, shape, g.f, g.s, g.pads, rows=(c.i0, c.i1))

        def consume(c, band):
            if band is not None:  # bands of one image overlap: added here, in order
                r_lo, r_hi = input_rows(g.h_in, g.f, g.s, g.top, (c.i0, c.i1))
                dx[c.n0 : c.n1, :, r_lo:r_hi] += band

        chunks.run(work, g, dy.dtype, consume=consume)
        return dx.reshape(x_shape)

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

    def _start(self, y):
        """Where each window's maximum was: its row ``a k + b`` of the window matrix."""
        return np.empty(y.shape, dtype=np.min_scalar_type(self.k * self.k - 1))

    def _reduce(self, U, y, where, c):
        idx = U.argmax(axis=0)  # U: (k^2, pixels), one column per window
        where[c.n0 : c.n1, c.i0 : c.i1] = idx.reshape(y.shape)
        y[...] = U[idx, np.arange(U.shape[1])].reshape(y.shape)

    def _spread(self, dy, dU, where, c):
        dU[...] = 0
        dU[where[c.n0 : c.n1, c.i0 : c.i1].reshape(-1), np.arange(dU.shape[1])] = dy


class AvgPool2d(_Pool2d):
    """Average pooling over ``k x k`` windows taken ``s`` apart (``s`` defaults to ``k``).

    Forward: the mean of each window. Backward: ``dy / k^2`` to every pixel of the window;
    overlapping windows add up. Output size ``floor((h_in - k) / s) + 1`` (PyTorch's default).
    """

    def _start(self, y):
        return None

    def _reduce(self, U, y, keep, c):
        y[...] = U.mean(axis=0).reshape(y.shape)

    def _spread(self, dy, dU, keep, c):
        dU[...] = dy / (self.k * self.k)


class Flatten(Module):
    """``(n_b, ch, h, w) -> (n_b, ch h w)`` in C order (as ``torch.flatten(x, 1)``)."""

    def forward(self, x):
        x = _batch(x)
        if x.ndim < 2:
            raise ValueError(f"x must have a batch axis and at least one more; got {x.shape}")
        self._keep(x.shape)
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
    rng : None, int >= 0 or numpy Generator
    dtype : float32 or float64, keyword-only
    """

    def __init__(self, n_in, n_out, rng=None, *, dtype=np.float64):
        super().__init__()
        self.n_in = check_int(n_in, "n_in", 1)
        self.n_out = check_int(n_out, "n_out", 1)
        dtype = _float_dtype(dtype)
        W = _he_normal(_generator(rng), (self.n_in, self.n_out), self.n_in, dtype)
        self._params = _Params(W=W, b=np.zeros(self.n_out, dtype=dtype))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        x = _batch(x, "x", 2, "(n_b, n_in)")
        if x.shape[1] != self.n_in:
            raise ValueError(f"x must have n_in={self.n_in} columns; got x.shape={x.shape}")
        y = x @ self.params["W"] + self.params["b"]
        self._keep((x, y.shape))
        return y

    def backward(self, dy):
        x, shape = self._cached()
        dy = _check_dy(dy, shape)
        self.grads = {"W": x.T @ dy, "b": dy.sum(axis=0)}
        return dy @ self.params["W"].T

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


def _modules(layers):
    """Every module of ``layers``, nested Sequentials opened, with its position."""
    for i, layer in enumerate(layers):
        yield str(i), layer
        if isinstance(layer, Sequential):
            for j, inner in _modules(layer.layers):
                yield f"{i}.{j}", inner


class Sequential(Module):
    """Layers applied one after the other; backward runs them in reverse order.

    ``params`` and ``grads`` gather the layers' dicts with the layer's index as a prefix:
    ``net.params["0.W"] is net[0].params["W"]`` (the same array, so an optimizer that
    updates ``net.params`` in place updates the layers; ``net.params["0.W"] = W`` copies
    ``W`` into it). Each position needs its own layer object: one object at two positions
    would keep only the second one's cache (a wrong gradient), so it is refused.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"layer {i} must be a convlib.nn layer (Conv2d, ReLU, ...); got {layer!r}"
                )
        seen = {}
        for where, layer in _modules(layers):
            if id(layer) in seen:
                raise ValueError(
                    f"layer {where} is the same object as layer {seen[id(layer)]} ({layer!r}); "
                    "a layer keeps the cache of one position: create one object per position"
                )
            seen[id(layer)] = where
        self.layers = list(layers)
        self._forward_nos = None

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"

    @property
    def params(self):
        return _Params({f"{i}.{k}": v for i, layer in enumerate(self.layers)
                        for k, v in layer.params.items()})

    @params.setter
    def params(self, value):
        Module.params.fset(self, value)

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.grads.items()}

    @grads.setter
    def grads(self, value):  # Module.__init__ sets an empty dict; the layers hold the grads
        pass

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        if _grad_enabled():
            self._forward_nos = [getattr(layer, "_forward_no", None) for layer in self.layers]
        return x

    def backward(self, dy):
        if self._forward_nos is None:
            raise RuntimeError("Sequential.backward called before forward (or twice for one "
                               "forward; inference under no_grad keeps no cache)")
        now = [getattr(layer, "_forward_no", None) for layer in self.layers]
        moved = [i for i, (a, b) in enumerate(zip(self._forward_nos, now, strict=True)) if a != b]
        if moved:
            raise RuntimeError(
                f"layer {moved[0]} ran forward on its own after net.forward: its cache is not "
                "that of the network's last forward pass, and the gradient would be wrong; run "
                "net.forward again (use no_grad() or nn.predict for inference in between)"
            )
        self._forward_nos = None
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy


# ----------------------------------------------------------------------------- loss
def _labels(y, n_b: int, n_classes: int) -> np.ndarray:
    """``y`` checked as ``n_b`` integer class labels in ``0 .. n_classes - 1``."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels; got dtype {y.dtype}")
    if y.shape != (n_b,):
        raise ValueError(f"y must have shape (n_b,) = ({n_b},), one class label per sample "
                         f"(not one-hot); got {y.shape}")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"y must hold labels in 0..{n_classes - 1}; got values in {y.min()}..{y.max()}"
        )
    return y


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
    if logits.shape[0] == 0:
        raise ValueError("logits must hold at least one row (n_b >= 1)")
    y = _labels(y, *logits.shape)
    n_b = logits.shape[0]
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
        self.params = dict(params)
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate, a finite number > 0 (checked again when set)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_number(value, "lr", 0, low_open=True)

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
        self.momentum = check_number(momentum, "momentum", 0, 1)
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
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); "
                             f"got {betas!r}")
        self.betas = (check_number(betas[0], "betas[0]", 0, 1),
                      check_number(betas[1], "betas[1]", 0, 1))
        self.eps, self.t = check_number(eps, "eps", 0, low_open=True), 0
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

    Each step: forward, :func:`softmax_cross_entropy`, backward, ``optimizer.step``. A loss
    or a gradient that is not finite (a diverging run, a NaN weight) stops the epoch with a
    FloatingPointError naming the step, before the optimizer spreads it to every weight. A
    run that learns nothing, the mean loss of the epoch's last quarter (of 20 steps or more)
    at or above chance level ``log(n_classes)`` (a learning rate far too large, say), gets
    one RuntimeWarning.
    """
    x = _batch(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must hold as many samples; got {len(x)} and {len(y)}")
    losses = []
    for step, idx in enumerate(batches(len(x), batch_size, rng)):
        loss, dlogits = softmax_cross_entropy(net.forward(x[idx]), y[idx])
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the loss is {loss} at step {step} of the epoch (a diverging run or a "
                f"non-finite weight); try a smaller learning rate than {optimizer.lr:g}"
            )
        net.backward(dlogits)
        for key, g in net.grads.items():
            if not np.isfinite(g).all():
                raise FloatingPointError(f"the gradient {key} is not finite at step {step} of "
                                         f"the epoch; try a smaller learning rate than "
                                         f"{optimizer.lr:g}")
        optimizer.step(net.grads)
        losses.append(loss)
    tail, chance = losses[len(losses) * 3 // 4 :], math.log(dlogits.shape[1])
    if len(losses) >= 20 and np.mean(tail) >= chance:  # 5 steps at least: not noise
        warnings.warn(f"the loss stayed at or above chance level, log({dlogits.shape[1]}) = "
                      f"{chance:.2f}, on average over steps {len(losses) - len(tail)}-"
                      f"{len(losses) - 1} of the epoch: the network is not learning "
                      f"(lr={optimizer.lr:g} too large?)", RuntimeWarning, stacklevel=2)
    return np.array(losses)


def predict(net, x, batch_size=512):
    """The logits of ``net`` for every sample of ``x``, computed in batches.

    Runs under :func:`no_grad`: the layers' training caches stay as they were.
    """
    x = _batch(x)
    batch_size = check_int(batch_size, "batch_size", 1)
    with no_grad():
        return np.concatenate([net.forward(x[i : i + batch_size])
                               for i in range(0, len(x), batch_size)])


def accuracy(net, x, y, batch_size=512):
    """Fraction of the samples whose largest logit is at their label.

    ``y`` is checked as in :func:`softmax_cross_entropy` (one integer label per sample); a
    non-finite logit is an error, not a vote for class 0.
    """
    logits = predict(net, x, batch_size)
    y = _labels(y, *logits.shape)
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise FloatingPointError(f"net gives non-finite logits for {int(bad.sum())} of "
                                 f"{len(bad)} samples (first: sample {int(np.argmax(bad))})")
    return float(np.mean(logits.argmax(axis=1) == y))


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
        numeric = numerical_gradient(lambda v, p=p: _loss_at(net, x, y, p, v), p, h)
        scale = np.linalg.norm(grads[key]) + np.linalg.norm(numeric)
        errors[key] = float(np.linalg.norm(grads[key] - numeric) / max(scale, 1e-300))
    return errors


def _loss_at(net, x, y, p, value):
    """The loss of ``net`` on ``(x, y)`` with the parameter array ``p`` set to ``value``."""
    old = p.copy()
    p[...] = value
    try:
        with no_grad():
            return softmax_cross_entropy(net.forward(x), y)[0]
    finally:
        p[...] = old
