"""Gradient checking: centered finite differences and CS231n's relative error."""

from __future__ import annotations

import numpy as np


def rel_error(x, y) -> float:
    """CS231n's relative error, ``max(|x - y| / max(1e-8, |x| + |y|))``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(loss, x, h: float = 1e-5):
    """Centered finite differences of a scalar function: ``(L(x + h e) - L(x - h e)) / 2h``.

    Parameters
    ----------
    loss : callable
        ``loss(x) -> float``.
    x : ndarray
        Point at which to differentiate; it is not modified (the function works on a copy).
    h : float
        Step; 1e-5 suits float64 (truncation error O(h^2), rounding O(eps/h)).

    Returns
    -------
    grad : ndarray, shape of ``x``, float64
    """
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = loss(x)
        x[idx] = old - h
        minus = loss(x)
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


class Check:
    """The outcome of comparing two arrays, printed as one stable line.

    The printed error is rounded up to a power of ten below ``1e-6`` so that a notebook's
    stored output does not change with the BLAS or the machine.
    """

    def __init__(self, label: str, a, b, tol: float = 1e-7):
        self.label = label
        self.error = rel_error(a, b)
        self.tol = tol
        self.ok = self.error < tol

    def __bool__(self):
        return self.ok

    def __repr__(self):
        if self.error < 1e-6:
            exponent = max(int(np.ceil(np.log10(max(self.error, 1e-300)))), -12)
            err = f"< 1e{exponent}" if self.error > 0 else "= 0"
        else:
            err = f"= {self.error:.2g}"
        mark = "agree" if self.ok else "DISAGREE"
        return f"{self.label}: relative error {err} -> {mark} (tolerance {self.tol:.0e})"

    __str__ = __repr__


def check(label: str, a, b, tol: float = 1e-7) -> Check:
    """Compare ``a`` with ``b`` by :func:`rel_error`; the result prints as one line."""
    return Check(label, a, b, tol)
