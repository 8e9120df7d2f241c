"""Forward propagation of a convolutional layer: eqs. (5)-(8) and (30)-(35) of the notes.

``conv_forward_naive`` is eq. (6) written as loops; ``conv_forward`` is the same map
vectorized as in section 4 (im2col, eq. 34, then one tensor contraction, eq. 35).
Both take the same arguments and return the same array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, check_bias, check_filters, check_int
from .ops import windows
from .padding import layer_geometry, pad


@dataclass(frozen=True)
class Layer:
    """Sizes of one layer, unpacked into the notes' symbols."""

    n_b: int
    ch_in: int
    ch_out: int
    h_in: int
    w_in: int
    f: int
    s: int
    h_out: int
    w_out: int
    pads: tuple  # ((top, bottom), (left, right)), negative entries crop


def prepare(q, W, b=None, s=1, h_out="valid", padding=None):
    """Check and unpack the arguments shared by the forward and backward passes.

    Returns ``q, W, b, layer`` with ``q``, ``W`` and ``b`` cast to one floating dtype
    (the inputs themselves are never modified).
    """
    q = as_float_array(q, "q", 4, "(n_b, ch_in, h_in, w_in)")
    W = check_filters(W, q.shape[1])
    s = check_int(s, "s", 1)
    n_b, ch_in, h_in, w_in = q.shape
    _, ch_out, f, _ = W.shape
    (ho, wo), pads = layer_geometry(q.shape, f, s, h_out, padding)
    arrays = [q, W]
    if b is not None:
        b = check_bias(b, ch_out)
        arrays.append(b)
    dtype = np.result_type(*arrays)
    q, W = q.astype(dtype, copy=False), W.astype(dtype, copy=False)
    if b is not None:
        b = b.astype(dtype, copy=False)
    return q, W, b, Layer(n_b, ch_in, ch_out, h_in, w_in, f, s, ho, wo, pads)


def conv_forward_naive(q, W, b, s=1, h_out="valid", *, padding=None):
    """Pre-activation output of the layer by eq. (6) of the notes, as literal loops.

    ``z[n, nu, i, j] = sum_mu sum_i' sum_j' q_bar[n, mu, i s + i', j s + j'] W[mu, nu, i', j']
    + b[nu]``, with ``q_bar`` the input padded by eqs. (7)-(8).

    Parameters
    ----------
    q : ndarray, shape (n_b, ch_in, h_in, w_in)
        Input mini-batch (eq. 30; eq. 1 for one image).
    W : ndarray, shape (ch_in, ch_out, f, f)
        Filters, ``W[mu, nu]`` is ``W_{mu nu}`` (eq. 2).
    b : ndarray, shape (ch_out,)
        Biases (eq. 3).
    s : int
        Stride, at least 1.
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
        Output size; fixes the padding by eq. (7), split by eq. (8).
    padding : (top, bottom, left, right), optional, keyword-only
        Explicit padding instead of eqs. (7)-(8) (PyTorch/TensorFlow conventions).

    Returns
    -------
    z : ndarray, shape (n_b, ch_out, h_out, w_out)
        Eq. (4) for each image of the batch.
    """
    q, W, b, L = prepare(q, W, b, s, h_out, padding)
    q_bar = pad(q, L.pads)
    z = np.zeros((L.n_b, L.ch_out, L.h_out, L.w_out), dtype=q.dtype)
    for n in range(L.n_b):
        for nu in range(L.ch_out):
            for i in range(L.h_out):
                for j in range(L.w_out):
                    total = b[nu]
                    for mu in range(L.ch_in):
                        for i_ in range(L.f):
                            for j_ in range(L.f):
                                q_ij = q_bar[n, mu, i * L.s + i_, j * L.s + j_]
                                total += q_ij * W[mu, nu, i_, j_]
                    z[n, nu, i, j] = total
    return z


def window_matrix(q_bar, f: int, s: int):
    """All windows of the batch as one matrix, ready for a single matrix product.

    Row ``(n, i, j)``, column ``(mu, a, b)`` holds ``q_bar[n, mu, i s + a, j s + b]``: the
    tensor of eq. (34) with its axes ordered ``(n_b, h_out, w_out, ch_in, f, f)`` and
    flattened to ``(n_b h_out w_out, ch_in f^2)``. One copy of the windows is made.
    """
    view = windows(q_bar, f, s)  # (n_b, ch_in, h_out, w_out, f, f), no copy
    n_b, ch_in, ho, wo = view.shape[:4]
    return view.transpose(0, 2, 3, 1, 4, 5).reshape(n_b * ho * wo, ch_in * f * f)


def _span(a: int, before: int, n_in: int, s: int, n_out: int):
    """Output indices ``i0 <= i < i1`` whose input index ``i s + a - before`` is in the image.

    Returns ``(i0, i1, r0)`` with ``r0 = i0 s + a - before`` the first input index read; the
    other output indices read padding zeros (eq. 8), or nothing is read when ``i1 == i0``.
    """
    i0 = max(0, -((a - before) // s))
    i1 = max(i0, min(n_out, (n_in - 1 + before - a) // s + 1))
    return i0, i1, i0 * s + a - before


def _phases(x, s: int):
    """The ``s x s`` polyphase components of ``x``'s last two axes, each contiguous.

    ``_phases(x, s)[pa][pb]`` equals ``x[..., pa::s, pb::s]``. A window read with stride
    ``s`` becomes a plain (stride-1) slice of one component, which numpy copies and adds
    faster. For ``s = 1`` the only component is ``x`` itself (no copy).
    """
    if s == 1:
        return [[x]]
    return [[np.ascontiguousarray(x[..., pa::s, pb::s]) for pb in range(s)] for pa in range(s)]


def _window_tensor(q, L):
    """The windows of eq. (34), transposed: one column per output pixel, built from ``q``.

    Returns ``Q`` of shape ``(ch_in, f, f, n_b, h_out, w_out)`` with
    ``Q[mu, a, b, n, i, j] == q_bar[n, mu, i s + a, j s + b]``, ``q_bar`` the input padded by
    eqs. (7)-(8) (``L.pads``). Reshaped to ``(ch_in f^2, n_b h_out w_out)`` it is the
    transpose of :func:`window_matrix`. It is filled from the *unpadded* input, one slice
    copy per filter offset ``(a, b)``; the entries that fall on padding are set to zero, so
    ``q_bar`` itself is never made. ``L`` is the :class:`Layer` of the call.
    """
    (top, _), (left, _) = L.pads
    s = L.s
    Q = np.empty((L.ch_in, L.f, L.f, L.n_b, L.h_out, L.w_out), dtype=q.dtype)
    parts = _phases(q.transpose(1, 0, 2, 3), s)  # of (ch_in, n_b, h_in, w_in)
    for a in range(L.f):  # a loop over the f x f filter offsets only
        i0, i1, r0 = _span(a, top, L.h_in, s, L.h_out)
        for b in range(L.f):
            j0, j1, c0 = _span(b, left, L.w_in, s, L.w_out)
            out = Q[:, a, b]
            out[:, :, :i0] = 0
            out[:, :, i1:] = 0
            out[:, :, i0:i1, :j0] = 0
            out[:, :, i0:i1, j1:] = 0
            if i1 > i0 and j1 > j0:
                # input rows r0, r0 + s, ... are rows r0 // s, ... of phase r0 % s
                part = parts[r0 % s][c0 % s]
                rows = slice(r0 // s, r0 // s + i1 - i0)
                cols = slice(c0 // s, c0 // s + j1 - j0)
                out[:, :, i0:i1, j0:j1] = part[:, :, rows, cols]
    return Q


def filter_matrix(W):
    """``W`` of shape ``(ch_in, ch_out, f, f)`` as a ``(ch_in f^2, ch_out)`` matrix."""
    ch_in, ch_out, f, _ = W.shape
    return W.transpose(0, 2, 3, 1).reshape(ch_in * f * f, ch_out)


def conv_forward(q, W, b, s=1, h_out="valid", *, padding=None):
    """Pre-activation output of the layer, vectorized: eqs. (34)-(35) of the notes, corrected.

    The windows of eq. (31) are gathered into the window tensor of eq. (34) and contracted
    with the filters over input channels *and* filter pixels in one matrix product per image
    (eq. 35, in which the notes index ``Q`` by the output channel instead of the input one).
    The windows are stored transposed, one column per output pixel (see
    ``_window_tensor``), so that the product lands directly in the layout of ``z``.
    Same arguments and result as :func:`conv_forward_naive`; no Python loop over pixels or
    images (only over the ``f x f`` filter offsets, while gathering).

    Parameters
    ----------
    q : ndarray, shape (n_b, ch_in, h_in, w_in)
    W : ndarray, shape (ch_in, ch_out, f, f)
    b : ndarray, shape (ch_out,)
    s : int
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
    padding : (top, bottom, left, right), optional, keyword-only

    Returns
    -------
    z : ndarray, shape (n_b, ch_out, h_out, w_out)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> q, W, b = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(3, 4, 3, 3)), np.zeros(4)
    >>> conv_forward(q, W, b, s=2, h_out="same").shape
    (2, 4, 4, 3)
    """
    q, W, b, L = prepare(q, W, b, s, h_out, padding)
    Q = _window_tensor(q, L).reshape(L.ch_in * L.f * L.f, L.n_b, L.h_out * L.w_out)
    # Eq. (35), image by image: z_n = W^T Q_n, (ch_out, ch_in f^2) x (ch_in f^2, h_out w_out).
    z = np.matmul(filter_matrix(W).T, Q.transpose(1, 0, 2))  # (n_b, ch_out, h_out w_out)
    z += b[:, None]
    return z.reshape(L.n_b, L.ch_out, L.h_out, L.w_out)
