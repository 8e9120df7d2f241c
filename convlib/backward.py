"""Backward propagation of a convolutional layer: eqs. (12)-(29) of the notes.

Given ``dz`` (the differential of the loss with respect to ``z``, eqs. 10-11) this module
gives ``dW`` (eqs. 12-15), ``db`` (eq. 16) and ``dq`` (eqs. 17-29), for any stride, padding,
rectangular images and mini-batches. ``dW`` and ``db`` are summed over the mini-batch.

``dq`` is computed by two independent routes that the tests hold equal:

- ``input_gradient_col2im``: every window's gradient scattered back where it was read;
- ``input_gradient_rot180``: the notes' route, eq. (29): dilate ``dz``, pad it
  (eqs. 24-26, worked out again), cross-correlate with the rotated filters.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array
from .forward import _phases, _span, _window_tensor, filter_matrix, prepare
from .ops import dilate, rot180, windows
from .padding import backward_padding, pad


def _check_dz(dz, L):
    dz = as_float_array(dz, "dz", 4, "(n_b, ch_out, h_out, w_out)")
    expected = (L.n_b, L.ch_out, L.h_out, L.w_out)
    if dz.shape != expected:
        raise ValueError(
            f"dz must have the shape of z, (n_b, ch_out, h_out, w_out) = {expected}; "
            f"got {dz.shape}"
        )
    return dz


def _unpad(dq_bar, pads):
    """Gradient on the padded input -> gradient on the input (undo eq. 8)."""
    return pad(dq_bar, tuple((-a, -b) for a, b in pads))


def conv_backward_naive(dz, q, W, s=1, h_out="valid", *, padding=None):
    """Gradients of the layer by the corrected eqs. (14), (16) and (23)/(29), as loops.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
        Differential of the loss with respect to ``z`` (eq. 11).
    q, W, s, h_out, padding
        As in :func:`convlib.conv_forward` (``b`` is not needed).

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    dW : ndarray, shape (ch_in, ch_out, f, f)
        Summed over the mini-batch.
    db : ndarray, shape (ch_out,)
        Summed over the mini-batch.
    """
    q, W, _, L = prepare(q, W, None, s, h_out, padding)
    dz = _check_dz(dz, L).astype(q.dtype, copy=False)
    q_bar = pad(q, L.pads)
    (top, _), (left, _) = L.pads

    # Eq. (14), without the notes' spurious sum over nu: W[mu, nu] only reaches z[nu].
    dW = np.zeros_like(W)
    for mu in range(L.ch_in):
        for nu in range(L.ch_out):
            for i in range(L.f):
                for j in range(L.f):
                    for n in range(L.n_b):
                        for i_ in range(L.h_out):
                            for j_ in range(L.w_out):
                                dW[mu, nu, i, j] += (
                                    dz[n, nu, i_, j_] * q_bar[n, mu, i_ * L.s + i, j_ * L.s + j]
                                )

    # Eq. (16).
    db = np.zeros(L.ch_out, dtype=q.dtype)
    for nu in range(L.ch_out):
        for n in range(L.n_b):
            for i in range(L.h_out):
                for j in range(L.w_out):
                    db[nu] += dz[n, nu, i, j]

    # Eq. (23) with the second index j, generalised to stride s (eq. 29) and to channels
    # (eq. 28 with dq_mu on the left and the sum over the ch_out output channels):
    # dq(i, j) = sum_{a, b} dz_hat(i - (f-1) + top + a, j - (f-1) + left + b) rot180(W)(a, b),
    # where dz_hat(k, l) = dz(k/s, l/s) when s divides both and they are in range, else 0.
    rot = rot180(W)
    dq = np.zeros_like(q)
    for n in range(L.n_b):
        for mu in range(L.ch_in):
            for i in range(L.h_in):
                for j in range(L.w_in):
                    for nu in range(L.ch_out):
                        for a in range(L.f):
                            for b_ in range(L.f):
                                k = i - (L.f - 1) + top + a
                                m = j - (L.f - 1) + left + b_
                                if k % L.s or m % L.s:
                                    continue  # a zero of the dilation
                                k, m = k // L.s, m // L.s
                                if 0 <= k < L.h_out and 0 <= m < L.w_out:
                                    dq[n, mu, i, j] += dz[n, nu, k, m] * rot[mu, nu, a, b_]
    return dq, dW, db


def conv_backward(dz, q, W, s=1, h_out="valid", *, padding=None):
    """Gradients of the layer, vectorized: the backward pass section 4 announces.

    With ``Q`` the window matrix of the forward pass (eq. 34) and ``dZ`` the matching
    reshape of ``dz``, the forward pass ``Z = Q W`` gives ``dW = Q^T dZ`` (eq. 15),
    ``db`` the sum of ``dZ`` (eq. 16) and ``dQ = dZ W^T``, whose windows are scattered
    back onto the input (col2im, eq. 29). They are computed on the transposed window
    matrix ``Q^T`` that :func:`conv_forward` uses: ``dW = (Q^T) (dZ^T)^T`` and
    ``dQ^T = W dZ^T``.
    No Python loop over pixels or images (only over the ``f x f`` filter offsets).

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
    q, W, s, h_out, padding
        As in :func:`convlib.conv_forward`.

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    dW : ndarray, shape (ch_in, ch_out, f, f)
    db : ndarray, shape (ch_out,)
    """
    q, W, _, L = prepare(q, W, None, s, h_out, padding)
    dz = _check_dz(dz, L).astype(q.dtype, copy=False)
    Q = _window_tensor(q, L).reshape(L.ch_in * L.f * L.f, -1)  # Q^T of eq. (34)
    # dZ^T, (ch_out, n_b h_out w_out): made once, used by both products.
    dZt = dz.transpose(1, 0, 2, 3).reshape(L.ch_out, -1)
    dW = (Q @ dZt.T).reshape(L.ch_in, L.f, L.f, L.ch_out).transpose(0, 3, 1, 2)  # eq. (15)
    dW = np.ascontiguousarray(dW)
    db = dz.sum(axis=(0, 2, 3))  # eq. (16)
    # The windows' gradient dQ^T = W dZ^T overwrites Q, which is no longer needed.
    dQ = np.matmul(filter_matrix(W), dZt, out=Q)
    dQ = dQ.reshape(L.ch_in, L.f, L.f, L.n_b, L.h_out, L.w_out)
    return _scatter_window_tensor(dQ, L), dW, db


def _scatter_window_tensor(dQ, L):
    """col2im for the layout of :func:`convlib.forward._window_tensor`, straight onto ``dq``.

    ``dQ`` has shape ``(ch_in, f, f, n_b, h_out, w_out)``; each filter offset ``(a, b)`` adds
    its slice onto the input pixels it was read from (one slice add per offset; entries
    that were read from padding are dropped). With a stride ``s > 1`` the adds go to the
    ``s x s`` polyphase components of ``dq`` (plain slices there), interleaved at the end.
    Returns ``dq`` of shape ``(n_b, ch_in, h_in, w_in)``, C-contiguous.
    """
    (top, _), (left, _) = L.pads
    s = L.s
    dq = np.zeros((L.n_b, L.ch_in, L.h_in, L.w_in), dtype=dQ.dtype)
    dqT = dq.transpose(1, 0, 2, 3)  # a view: for s = 1 the adds below write into dq
    parts = _phases(dqT, s)
    for a in range(L.f):  # a loop over the f x f filter offsets only
        i0, i1, r0 = _span(a, top, L.h_in, s, L.h_out)
        for b in range(L.f):
            j0, j1, c0 = _span(b, left, L.w_in, s, L.w_out)
            if i1 > i0 and j1 > j0:
                rows = slice(r0 // s, r0 // s + i1 - i0)
                cols = slice(c0 // s, c0 // s + j1 - j0)
                parts[r0 % s][c0 % s][:, :, rows, cols] += dQ[:, a, b, :, i0:i1, j0:j1]
    if s > 1:
        for pa in range(s):
            for pb in range(s):
                dqT[:, :, pa::s, pb::s] = parts[pa][pb]
    return dq


def _scatter_windows(dcols, shape, L):
    """col2im for the window matrix layout; returns the gradient on the *unpadded* input."""
    d6 = dcols.reshape(L.n_b, L.h_out, L.w_out, L.ch_in, L.f, L.f).transpose(0, 3, 1, 2, 4, 5)
    dq_bar = np.zeros(shape, dtype=dcols.dtype)
    hs, ws = L.s * (L.h_out - 1) + 1, L.s * (L.w_out - 1) + 1
    for a in range(L.f):  # a loop over the f x f filter offsets only
        for b in range(L.f):
            dq_bar[:, :, a : a + hs : L.s, b : b + ws : L.s] += d6[..., a, b]
    return _unpad(dq_bar, L.pads)


def input_gradient_col2im(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dq`` by scattering each window's gradient back onto the input (col2im).

    Each output pixel ``z[n, nu, i, j]`` read the window ``q_bar[n, :, i s : i s + f,
    j s : j s + f]`` with weights ``W[:, nu]``; so ``dz[n, nu, i, j] W[:, nu]`` is added back
    onto that window. Overlapping windows add up; rows no window reads get zero.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
    q, W, s, h_out, padding
        As in :func:`convlib.conv_forward`; only ``q``'s shape is used.

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    """
    q, W, _, L = prepare(q, W, None, s, h_out, padding)
    dz = _check_dz(dz, L).astype(q.dtype, copy=False)
    (t, b), (l, r) = L.pads
    shape = (L.n_b, L.ch_in, L.h_in + t + b, L.w_in + l + r)
    dz_mat = dz.transpose(0, 2, 3, 1).reshape(-1, L.ch_out)
    return _scatter_windows(dz_mat @ filter_matrix(W).T, shape, L)


def dilated_padded_dz(dz, L):
    """``dz_bar`` of eq. (29): ``dz`` dilated by the stride, then padded by eqs. (24)-(26).

    Returns an array of shape ``(n_b, ch_out, h_in + f - 1, w_in + f - 1)``.
    """
    (top, _), (left, _) = L.pads
    pads = (
        backward_padding(L.h_in, L.f, L.s, L.h_out, top),
        backward_padding(L.w_in, L.f, L.s, L.w_out, left),
    )
    return pad(dilate(dz, L.s), pads)


def input_gradient_rot180(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dq`` by the notes' route, eq. (29), corrected.

    ``dq_mu = sum_nu dz_bar_nu (star) rot180(W_mu nu)``: ``dz`` dilated by ``s`` (``s - 1``
    zeros between entries, eq. 15), padded to ``h_in + f - 1`` with ``f - 1 - ceil(p/2)``
    before (eqs. 24-25), then cross-correlated, stride 1, with the rotated filters and
    summed over the output channels.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
    q, W, s, h_out, padding
        As in :func:`convlib.conv_forward`; only ``q``'s shape is used.

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    """
    q, W, _, L = prepare(q, W, None, s, h_out, padding)
    dz = _check_dz(dz, L).astype(q.dtype, copy=False)
    win = windows(dilated_padded_dz(dz, L), L.f, 1)  # (n_b, ch_out, h_in, w_in, f, f)
    dq = np.tensordot(win, rot180(W), axes=([1, 4, 5], [1, 2, 3]))  # (n_b, h_in, w_in, ch_in)
    return np.ascontiguousarray(dq.transpose(0, 3, 1, 2))


def filter_gradient_dilated(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dW`` by the notes' eq. (15), corrected: ``dW_mu nu = q_bar_mu (star) dz_hat_nu``.

    The dilated ``dz_nu`` (size ``s (h_out - 1) + 1``) acts as the filter of a stride-1
    cross-correlation over the padded input; no sum over ``nu`` (the notes print one).
    Summed over the mini-batch.

    Returns
    -------
    dW : ndarray, shape (ch_in, ch_out, f, f)
    """
    q, W, _, L = prepare(q, W, None, s, h_out, padding)
    dz = _check_dz(dz, L).astype(q.dtype, copy=False)
    dz_hat = dilate(dz, L.s)
    hs, ws = dz_hat.shape[-2:]
    q_bar = pad(q, L.pads)[:, :, : hs + L.f - 1, : ws + L.f - 1]  # drop rows no window reads
    win = np.lib.stride_tricks.sliding_window_view(q_bar, (hs, ws), axis=(2, 3))
    # win: (n_b, ch_in, f, f, hs, ws); contract over the batch and the dilated window.
    return np.ascontiguousarray(
        np.tensordot(win, dz_hat, axes=([0, 4, 5], [0, 2, 3])).transpose(0, 3, 1, 2)
    )


def bias_gradient(dz):
    """``db``: eq. (16) of the notes, summed over the mini-batch too.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)

    Returns
    -------
    db : ndarray, shape (ch_out,)
    """
    dz = as_float_array(dz, "dz", 4, "(n_b, ch_out, h_out, w_out)")
    return dz.sum(axis=(0, 2, 3))
