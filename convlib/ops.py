"""Array operations the derivation uses: dilation, rotation, im2col and its adjoint.

- ``dilate``: the dilated differential of eqs. (15) and (29);
- ``rot180``: the rotated filter of eqs. (22) and (27)-(29);
- ``im2col``: the window tensor of eqs. (31)-(34); ``col2im`` scatters it back (its adjoint).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import check_int


def dilate(x, s: int):
    """Insert ``s - 1`` zeros between neighbouring entries along the last two axes.

    This is the dilated matrix ``dz_hat`` of eqs. (15) and (29). An axis of length
    ``h_out`` becomes ``s (h_out - 1) + 1`` long (the notes print ``h_out (s + 1) - 1``;
    see the errata).

    Parameters
    ----------
    x : ndarray, shape (..., h, w)
    s : int
        The stride; ``s = 1`` returns a copy of ``x``.

    Returns
    -------
    x_hat : ndarray, shape (..., s (h - 1) + 1, s (w - 1) + 1)

    Examples
    --------
    >>> dilate(np.array([[1, 2], [3, 4]]), 2)
    array([[1, 0, 2],
           [0, 0, 0],
           [3, 0, 4]])
    """
    x = np.asarray(x)
    s = check_int(s, "s", 1)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes (h, w); got shape {x.shape}")
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (s * (h - 1) + 1, s * (w - 1) + 1), dtype=x.dtype)
    out[..., ::s, ::s] = x
    return out


def rot180(W):
    """Rotate each filter by 180 degrees about its centre: eq. (22) of the notes.

    ``rot180(W)[..., a, b] == W[..., f - 1 - a, f - 1 - b]``.

    Parameters
    ----------
    W : ndarray, shape (..., f, f)

    Returns
    -------
    ndarray, shape (..., f, f)
        A new array.
    """
    W = np.asarray(W)
    if W.ndim < 2:
        raise ValueError(f"W must have at least 2 axes (f, f); got shape {W.shape}")
    return W[..., ::-1, ::-1].copy()


def windows(q_bar, f: int, s: int = 1):
    """A read-only view of every ``f x f`` window of ``q_bar`` taken ``s`` apart.

    ``windows(q_bar, f, s)[..., i, j, :, :]`` is the sub-array ``q_bar[i, j]`` of eq. (31).

    Parameters
    ----------
    q_bar : ndarray, shape (..., H, W)
        Padded input.
    f, s : int
        Filter width and stride.

    Returns
    -------
    view : ndarray, shape (..., h_out, w_out, f, f)
        ``h_out = (H - f) // s + 1``; no data is copied.
    """
    q_bar = np.asarray(q_bar)
    f = check_int(f, "f", 1)
    s = check_int(s, "s", 1)
    if q_bar.ndim < 2:
        raise ValueError(f"q_bar must have at least 2 axes (h, w); got shape {q_bar.shape}")
    H, W = q_bar.shape[-2:]
    if f > H or f > W:
        raise ValueError(f"the filter (f={f}) is bigger than the padded input {(H, W)}")
    view = sliding_window_view(q_bar, (f, f), axis=(-2, -1))
    return view[..., ::s, ::s, :, :]


def im2col(q_bar, f: int, s: int = 1):
    """The tensor of eq. (34): every window of eq. (31), vectorized as in eq. (32).

    Parameters
    ----------
    q_bar : ndarray, shape (n_b, ch_in, H, W)
        Padded input.
    f, s : int
        Filter width and stride.

    Returns
    -------
    Q : ndarray, shape (n_b, ch_in, h_out * w_out, f * f)
        ``Q[n, mu, i * w_out + j, a * f + b] == q_bar[n, mu, i * s + a, j * s + b]``.
        Built from a stride-tricks view of ``q_bar``; the one copy is made by the reshape.
    """
    view = windows(q_bar, f, s)
    *lead, ho, wo, _, _ = view.shape
    return view.reshape(*lead, ho * wo, f * f)


def col2im(Q, shape, f: int, s: int = 1):
    """Scatter-add windows back into an image: the adjoint of :func:`im2col`.

    Every entry of ``Q`` is added to the pixel of ``q_bar`` it was read from, so
    ``<im2col(x), Q> == <x, col2im(Q)>``. Where windows overlap (``s < f``) the
    contributions add up; pixels no window reads stay zero.

    Parameters
    ----------
    Q : ndarray, shape (n_b, ch_in, h_out * w_out, f * f)
    shape : tuple
        Shape of ``q_bar``, ``(n_b, ch_in, H, W)``.
    f, s : int
        Filter width and stride.

    Returns
    -------
    ndarray, shape ``shape``
    """
    Q = np.asarray(Q)
    f = check_int(f, "f", 1)
    s = check_int(s, "s", 1)
    H, W = shape[-2:]
    ho, wo = (H - f) // s + 1, (W - f) // s + 1
    expected = tuple(shape[:-2]) + (ho * wo, f * f)
    if Q.shape != expected:
        raise ValueError(f"Q must have shape {expected} for q_bar of shape {shape}; got {Q.shape}")
    Q6 = Q.reshape(tuple(shape[:-2]) + (ho, wo, f, f))
    out = np.zeros(shape, dtype=Q.dtype)
    # One strided add per filter offset; windows that overlap accumulate (never assign).
    for a in range(f):
        for b in range(f):
            out[..., a : a + s * (ho - 1) + 1 : s, b : b + s * (wo - 1) + 1 : s] += Q6[..., a, b]
    return out
