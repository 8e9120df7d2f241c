"""Forward propagation of a convolutional layer: eqs. (5)-(8) and (30)-(35) of the notes.

``conv_forward_naive`` is eq. (6) written as loops; ``conv_forward`` is the same map
vectorized as in section 4 (im2col, eq. 34, then one tensor contraction, eq. 35).
Both take the same arguments and return the same array.
"""

from __future__ import annotations

import numpy as np

from . import chunks
from ._validate import cast, check_bias, check_filters, check_input, check_int
from .ops import im2col
from .padding import Geometry, layer_geometry, pad

__all__ = ["Geometry", "conv_forward", "conv_forward_naive", "filter_matrix", "prepare"]


def prepare(q, W, b=None, s=1, h_out="valid", padding=None):
    """Check and unpack the arguments shared by the forward and backward passes.

    Returns ``q, W, b, layer``: ``q`` and ``W`` in their common floating dtype
    ``np.result_type(q, W)`` (integers become float64), ``b`` cast to it (``None`` stays
    ``None``: no bias), and the :class:`Geometry` of :func:`convlib.layer_geometry`. The inputs
    themselves are never modified.
    """
    q = check_input(q)
    W = check_filters(W, q.shape[1])
    s = check_int(s, "s", 1)
    n_b, ch_in, h_in, w_in = q.shape
    _, ch_out, f, _ = W.shape
    layer = layer_geometry(h_in, w_in, f, s, h_out, padding, n_b=n_b, ch_in=ch_in, ch_out=ch_out)
    dtype = np.result_type(q, W)
    q, W = q.astype(dtype, copy=False), W.astype(dtype, copy=False)
    if b is not None:
        b = cast(check_bias(b, ch_out), dtype, "b")
    return q, W, b, layer


def conv_forward_naive(q, W, b=None, s=1, h_out="valid", *, padding=None):
    """Pre-activation output of the layer by eq. (6) of the notes, as literal loops.

    ``z[n, nu, i, j] = sum_mu sum_i' sum_j' q_bar[n, mu, i s + i', j s + j'] W[mu, nu, i', j']
    + b[nu]``, with ``q_bar`` the input padded by eqs. (7)-(8).

    Parameters
    ----------
    q : ndarray, shape (n_b, ch_in, h_in, w_in)
        Input mini-batch (eq. 30; eq. 1 for one image).
    W : ndarray, shape (ch_in, ch_out, f, f)
        Filters, ``W[mu, nu]`` is ``W_{mu nu}`` (eq. 2).
    b : ndarray, shape (ch_out,), or None
        Biases (eq. 3); ``None`` for a layer without bias. Cast to the dtype of ``q`` and
        ``W`` (``np.result_type(q, W)``), which is the dtype of ``z``.
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
    q, W, b, layer = prepare(q, W, b, s, h_out, padding)
    q_bar = pad(q, layer.pads)  # eq. (8)
    n_b, ch_in, ch_out, f, s = layer.n_b, layer.ch_in, layer.ch_out, layer.f, layer.s
    z = np.zeros((n_b, ch_out, layer.h_out, layer.w_out), dtype=q.dtype)
    for n in range(n_b):
        for nu in range(ch_out):
            for i in range(layer.h_out):
                for j in range(layer.w_out):
                    total = b[nu] if b is not None else 0
                    for mu in range(ch_in):
                        for i_ in range(f):
                            for j_ in range(f):
                                q_ij = q_bar[n, mu, i * s + i_, j * s + j_]
                                total += q_ij * W[mu, nu, i_, j_]
                    z[n, nu, i, j] = total
    return z


def filter_matrix(W):
    """``W`` of shape ``(ch_in, ch_out, f, f)`` as a ``(ch_in f^2, ch_out)`` matrix."""
    ch_in, ch_out, f, _ = W.shape
    return W.transpose(0, 2, 3, 1).reshape(ch_in * f * f, ch_out)


def conv_forward(q, W, b=None, s=1, h_out="valid", *, padding=None, workspace=None,
                 threads=None, chunk=None, keep=None):
    """Pre-activation output of the layer, vectorized: eqs. (34)-(35) of the notes, corrected.

    The windows of eq. (31) are gathered by :func:`convlib.im2col` into the window matrix
    ``U`` of eq. (34), one column per output pixel, and contracted with the filters over input
    channels *and* filter pixels in one matrix product, ``z = F^T U + b`` with ``F`` the
    ``(ch_in f^2, ch_out)`` filter matrix (eq. 35, in which the notes index the window tensor
    by the output channel instead of the input one). This is done chunk by
    chunk (a few images, or a band of output rows of one large image; see
    :mod:`convlib.chunks`), so that memory stays bounded, with the chunks on a thread pool.
    Same arguments and result as :func:`conv_forward_naive`, up to rounding.

    Parameters
    ----------
    q : ndarray, shape (n_b, ch_in, h_in, w_in)
    W : ndarray, shape (ch_in, ch_out, f, f)
    b : ndarray, shape (ch_out,), or None
        Cast to ``np.result_type(q, W)``; ``None`` means no bias.
    s : int
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
    padding : (top, bottom, left, right), optional, keyword-only
    workspace : int, optional, keyword-only
        Bytes of window matrices alive at once (default ``convlib.chunks.WORKSPACE``).
    threads : int, optional, keyword-only
        Threads for the chunks (default: the cores of the machine). The result does not depend
        on it, bit for bit.
    chunk : int, optional, keyword-only
        Target bytes of one chunk's window matrix (default: ``convlib.chunks.CHUNK``, with
        at least ``SPLIT`` chunks for a layer above ``SPLIT x MIN_CHUNK``; see
        :func:`convlib.chunks.plan`).
    keep : dict, optional, keyword-only
        If given, receives every chunk's window matrix ``U`` (each in an array of its own, the
        whole ``U`` in all: ``ch_in f^2`` times the output pixels), for
        :func:`convlib.conv_backward`'s ``windows=``. :class:`convlib.nn.Conv2d` passes one
        when ``U`` fits in the workspace.

    Returns
    -------
    z : ndarray, shape (n_b, ch_out, h_out, w_out), dtype ``np.result_type(q, W)``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> q, W, b = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(3, 4, 3, 3)), np.zeros(4)
    >>> conv_forward(q, W, b, s=2, h_out="same").shape
    (2, 4, 4, 3)
    """
    q, W, b, layer = prepare(q, W, b, s, h_out, padding)
    z = np.empty((layer.n_b, layer.ch_out, layer.h_out, layer.w_out), dtype=q.dtype)
    Ft = np.ascontiguousarray(filter_matrix(W).T)  # (ch_out, ch_in f^2), laid out once

    def work(c, buffer):
        if keep is not None:  # an array of its own, not the reused buffer
            buffer = np.empty_like(buffer)
        U = im2col(q[c.n0 : c.n1], layer.f, layer.s, layer.pads, rows=(c.i0, c.i1), out=buffer)
        # eq. (35), z_n = F^T U_n for each image n of the chunk, written straight into z
        pixels = (c.i1 - c.i0) * layer.w_out
        Un = U.reshape(-1, c.n1 - c.n0, pixels).transpose(1, 0, 2)
        zn = z[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, layer.ch_out, pixels)
        np.matmul(Ft, Un, out=zn)
        if b is not None:
            zn += b[:, None]
        return U

    def consume(c, U):
        if keep is not None:
            keep[(layer, c)] = U  # the key: the chunk of this geometry

    chunks.run(work, layer, q.dtype, workspace=workspace, threads=threads, chunk=chunk,
               consume=consume)
    return z
