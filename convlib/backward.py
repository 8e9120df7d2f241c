"""Backward propagation of a convolutional layer: eqs. (12)-(29) of the notes.

Given ``dz`` (the differential of the loss with respect to ``z``, eqs. 10-11) this module
gives ``dW`` (eqs. 12-15), ``db`` (eq. 16) and ``dq`` (eqs. 17-29), for any stride, padding,
rectangular images and mini-batches. ``dW`` and ``db`` are summed over the mini-batch.

``dq`` is computed by two independent routes that the tests hold equal (and
:func:`conv_backward` takes either, chunked, by ``dq_route=``):

- ``input_gradient_col2im``: every window's gradient scattered back where it was read;
- ``input_gradient_rot180``: the notes' route, eq. (29): dilate ``dz``, pad it
  (eqs. 24-26, worked out again), cross-correlate with the rotated filters.
"""

from __future__ import annotations

import numpy as np

from . import chunks
from ._validate import as_float_array, cast
from .forward import filter_matrix, prepare
from .ops import col2im, dilate, im2col, input_rows, rot180, windows
from .padding import layer_geometry, pad


def _backward_args(dz, q, W, s, h_out, padding):
    """The shared preamble of every backward entry point: checked ``dz, q, W`` and the layer.

    ``dz`` must have the shape of ``z`` and is cast to the working dtype
    ``np.result_type(q, W)`` (an error, not ``inf``, if a value does not fit).
    """
    q, W, _, layer = prepare(q, W, None, s, h_out, padding)
    dz = as_float_array(dz, "dz", 4, "(n_b, ch_out, h_out, w_out)")
    expected = (layer.n_b, layer.ch_out, layer.h_out, layer.w_out)
    if dz.shape != expected:
        raise ValueError(
            f"dz must have the shape of z, (n_b, ch_out, h_out, w_out) = {expected}; "
            f"got {dz.shape}"
        )
    return cast(dz, q.dtype, "dz"), q, W, layer


def filter_gradient_naive(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dW`` by eq. (14) of the notes, corrected, as literal loops; summed over the batch.

    ``dW[mu, nu, i, j] = sum_n sum_i' sum_j' dz[n, nu, i', j'] q_bar[n, mu, i' s + i, j' s + j]``
    without the notes' spurious sum over ``nu``: ``W[mu, nu]`` only reaches ``z[nu]``.
    """
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    q_bar = pad(q, layer.pads)  # eq. (8)
    f, s = layer.f, layer.s
    dW = np.zeros_like(W)
    for mu in range(layer.ch_in):
        for nu in range(layer.ch_out):
            for i in range(f):
                for j in range(f):
                    for n in range(layer.n_b):
                        for i_ in range(layer.h_out):
                            for j_ in range(layer.w_out):
                                dW[mu, nu, i, j] += (
                                    dz[n, nu, i_, j_] * q_bar[n, mu, i_ * s + i, j_ * s + j]
                                )
    return dW


def bias_gradient_naive(dz):
    """``db`` by eq. (16) of the notes, as literal loops; summed over the batch too."""
    dz = as_float_array(dz, "dz", 4, "(n_b, ch_out, h_out, w_out)")
    n_b, ch_out, h_out, w_out = dz.shape
    db = np.zeros(ch_out, dtype=dz.dtype)
    for nu in range(ch_out):
        for n in range(n_b):
            for i in range(h_out):
                for j in range(w_out):
                    db[nu] += dz[n, nu, i, j]
    return db


def input_gradient_naive(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dq`` by eq. (23), corrected, generalised to stride ``s`` (eq. 29) and channels (eq. 28).

    ``dq(i, j) = sum_{a, b} dz_hat(i - (f-1) + top + a, j - (f-1) + left + b) rot180(W)(a, b)``,
    summed over the output channels, where ``dz_hat(k, m) = dz(k/s, m/s)`` when ``s`` divides
    both and they are in range, else 0 (the dilation). As literal loops.
    """
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    rot = rot180(W)
    f, s, top, left = layer.f, layer.s, layer.top, layer.left
    dq = np.zeros_like(q)
    for n in range(layer.n_b):
        for mu in range(layer.ch_in):
            for i in range(layer.h_in):
                for j in range(layer.w_in):
                    for nu in range(layer.ch_out):
                        for a in range(f):
                            for b_ in range(f):
                                k = i - (f - 1) + top + a  # the index into dz_hat
                                m = j - (f - 1) + left + b_
                                if k % s or m % s:
                                    continue  # a zero of the dilation
                                k, m = k // s, m // s
                                if 0 <= k < layer.h_out and 0 <= m < layer.w_out:
                                    dq[n, mu, i, j] += dz[n, nu, k, m] * rot[mu, nu, a, b_]
    return dq


def conv_backward_naive(dz, q, W, s=1, h_out="valid", *, padding=None):
    """Gradients of the layer by the corrected eqs. (14), (16) and (23)/(29), as loops.

    The composition of :func:`filter_gradient_naive` (eq. 14), :func:`bias_gradient_naive`
    (eq. 16) and :func:`input_gradient_naive` (eqs. 23, 28, 29).

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
    All three in ``np.result_type(q, W)``.
    """
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    kw = dict(s=layer.s, h_out=(layer.h_out, layer.w_out), padding=padding)
    return (
        input_gradient_naive(dz, q, W, **kw),
        filter_gradient_naive(dz, q, W, **kw),
        bias_gradient_naive(dz),
    )


DQ_ROUTES = ("auto", "gather", "scatter")


def choose_dq_route(layer) -> str:
    """The route ``conv_backward(dq_route="auto")`` takes to ``dq`` for a layer.

    ``"gather"`` when ``s = 1`` and ``ch_out <= ch_in``, else ``"scatter"``. Both routes
    gather ``U`` from ``q`` for ``dW``; beyond that the scatter multiplies ``dU = F dZ``
    (``ch_in f^2`` rows per output pixel) and adds it back with ``f^2`` slice additions, while
    the gather copies the windows of ``dz_bar`` (``ch_out f^2`` rows per *input* pixel) and
    multiplies once. So the gather moves ``ch_out / ch_in`` times the scatter's numbers, and
    for ``s > 1`` its windows hold the dilation's zeros: ``s^2`` times the flops. On the
    benchmark's five cases in both dtypes (a narrowing layer among them; the vectorization
    chapter shows the run) the faster route was the one this rule names. It depends on the
    layer only, so results never depend on ``threads``.
    """
    return "gather" if layer.s == 1 and layer.ch_out <= layer.ch_in else "scatter"


def conv_backward(dz, q, W, s=1, h_out="valid", *, padding=None, workspace=None, threads=None,
                  chunk=None, dq_route="auto", windows=None):
    """Gradients of the layer, vectorized: the backward pass section 4 announces.

    With ``U`` the window matrix of the forward pass (:func:`convlib.im2col`, eq. 34: one
    column per output pixel) and ``dZ`` the matching ``(ch_out, pixels)`` matrix of ``dz``,
    the forward pass ``Z = F^T U`` (``F`` the filter matrix) gives

    - ``dF = U dZ^T``, which is ``dW`` reshaped (eq. 15: a correlation of the input with the
      dilated ``dz``),
    - ``db``, the sum of ``dz`` (eq. 16),
    - ``dq`` by one of two routes (``dq_route``):

      - ``"scatter"``: ``dU = F dZ``, the gradient of every window, which
        :func:`convlib.col2im` scatters back onto the input (a transposed convolution);
      - ``"gather"``: eq. (29) as written, a stride-1 correlation of ``dz_bar`` (``dz``
        dilated and padded, eqs. 24-26) with the rotated filters: :func:`convlib.im2col` of
        ``dz_bar`` and one product ``dQ = R V``, ``R`` the ``(ch_in, ch_out f^2)`` matrix of
        ``rot180(W)``, exactly like the forward pass; every chunk writes its own rows of
        ``dq``, nothing is added across chunks.

    Chunk by chunk, as :func:`convlib.conv_forward`: ``dW`` is the sum of the chunks' parts,
    in chunk order; the scatter's bands of one image are added in order too.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
        Cast to ``np.result_type(q, W)``; a value that would overflow there is an error.
    q, W, s, h_out, padding, workspace, threads, chunk
        As in :func:`convlib.conv_forward`.
    dq_route : {"auto", "gather", "scatter"}, keyword-only
        ``"auto"`` (default) takes :func:`convlib.backward.choose_dq_route`'s choice: the
        gather for stride 1 and ``ch_out <= ch_in``, the scatter otherwise. Both give ``dq``
        up to rounding.
    windows : dict, optional, keyword-only
        The window matrices a :func:`convlib.conv_forward` call with the same ``q``, layer and
        chunk settings kept (its ``keep=``): ``dW`` then uses them instead of gathering ``U``
        again. Chunks it does not hold are gathered; the result is the same, bit for bit.

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    dW : ndarray, shape (ch_in, ch_out, f, f)
    db : ndarray, shape (ch_out,)
        ``dW`` and ``db`` summed over the mini-batch; all in ``np.result_type(q, W)``.
    """
    if dq_route not in DQ_ROUTES:
        raise ValueError(f"dq_route must be one of {DQ_ROUTES}; got {dq_route!r}")
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    route = choose_dq_route(layer) if dq_route == "auto" else dq_route
    kept = {c: U for (g, c), U in (windows or {}).items() if g == layer}
    kw = dict(workspace=workspace, threads=threads, chunk=chunk, kept=kept)
    if route == "scatter":
        dq, dFt = _dW_and_dq_scatter(dz, q, W, layer, **kw)
    else:
        dFt = _filter_gradient(dz, q, layer, **kw)
        del kw["kept"]
        dq = _input_gradient_gather(dz, W, layer, **kw)
    dW = dFt.reshape(layer.ch_in, layer.f, layer.f, layer.ch_out).transpose(0, 3, 1, 2)
    dW = np.ascontiguousarray(dW)
    return dq, dW, dz.sum(axis=(0, 2, 3))  # db: eq. (16)


def _dW_part(U, dz, c, layer):
    """Eq. (15) on one chunk: ``dF = U dZ^T`` summed over the chunk's images, ``(ch_in f^2,
    ch_out)``. ``U`` is the chunk's window matrix; each image's block of columns is a strided
    view, and ``dZ_n^T`` a transposed view: the BLAS reads both in place, nothing is copied."""
    pixels = (c.i1 - c.i0) * layer.w_out
    Un = U.reshape(-1, c.n1 - c.n0, pixels)
    dZn = dz[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, layer.ch_out, pixels)
    dW_part = Un[:, 0] @ dZn[0].T
    for n in range(1, c.n1 - c.n0):
        dW_part += Un[:, n] @ dZn[n].T
    return dW_part


def _filter_gradient(dz, q, layer, *, workspace, threads, chunk, kept):
    """``dF = U dZ^T`` (eq. 15) over all chunks, added in chunk order; a chunk's ``U`` is
    taken from ``kept`` when the forward pass kept it, else gathered again."""
    dFt = np.zeros((layer.ch_in * layer.f * layer.f, layer.ch_out), dtype=q.dtype)

    def work(c, buffer):
        U = kept.get(c)
        if U is None:
            U = im2col(q[c.n0 : c.n1], layer.f, layer.s, layer.pads, rows=(c.i0, c.i1),
                       out=buffer)
        return _dW_part(U, dz, c, layer)

    def consume(c, part):
        np.add(dFt, part, out=dFt)

    chunks.run(work, layer, q.dtype, workspace=workspace, threads=threads, consume=consume,
               chunk=chunk)
    return dFt


def gather_geometry(layer):
    """The :class:`convlib.Geometry` of eq. (29) read as a forward pass: ``dz_hat`` (``ch_out``
    channels, dilated by ``s``) padded by ``layer.back_pads``, stride 1, ``f x f`` windows,
    ``h_in x w_in`` outputs with ``ch_in`` channels."""
    (top, bottom), (left, right) = layer.back_pads
    g = layer_geometry(layer.s * (layer.h_out - 1) + 1, layer.s * (layer.w_out - 1) + 1,
                       layer.f, 1, padding=(top, bottom, left, right), n_b=layer.n_b,
                       ch_in=layer.ch_out, ch_out=layer.ch_in)
    assert (g.h_out, g.w_out) == (layer.h_in, layer.w_in), (g, layer)
    return g


def _input_gradient_gather(dz, W, layer, *, workspace, threads, chunk):
    """``dq`` by eq. (29) as a gather: im2col of ``dz_bar`` and one product per chunk.

    ``dq[n, mu] = sum_nu dz_bar[n, nu] (star) rot180(W)[mu, nu]`` is the forward pass of
    :func:`convlib.conv_forward` with ``dz_hat`` as the input, padded by eqs. (24)-(26), and
    the filters ``R[mu, (nu, a, b)] = W[mu, nu, f - 1 - a, f - 1 - b]``. Each chunk writes its
    own images or rows of ``dq``: no scatter, no sum across chunks.
    """
    g = gather_geometry(layer)
    dz_hat = dz if layer.s == 1 else dilate(dz, layer.s)  # eq. (15)'s dilation
    R = rot180(W).reshape(layer.ch_in, layer.ch_out * layer.f * layer.f)  # contiguous
    dq = np.empty((layer.n_b, layer.ch_in, layer.h_in, layer.w_in), dtype=dz.dtype)

    def work(c, buffer):
        V = im2col(dz_hat[c.n0 : c.n1], g.f, 1, g.pads, rows=(c.i0, c.i1), out=buffer)
        pixels = (c.i1 - c.i0) * g.w_out
        Vn = V.reshape(-1, c.n1 - c.n0, pixels).transpose(1, 0, 2)
        dqn = dq[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, layer.ch_in, pixels)
        np.matmul(R, Vn, out=dqn)  # eq. (29), dq_n = R V_n, written straight into dq

    chunks.run(work, g, dz.dtype, workspace=workspace, threads=threads, chunk=chunk)
    return dq


def _dW_and_dq_scatter(dz, q, W, layer, *, workspace, threads, chunk, kept):
    """``dF`` and ``dq`` by the scatter: per chunk ``dF += U dZ^T``, ``dU = F dZ`` in the
    chunk's buffer (over ``U`` unless ``kept`` holds it), col2im into ``dq``; bands of one
    image added in order."""
    F = filter_matrix(W)  # (ch_in f^2, ch_out)
    dq = np.zeros_like(q, order="C")
    dFt = np.zeros(F.shape, dtype=q.dtype)

    def work(c, buffer):
        U = kept.get(c)
        if U is None:
            U = im2col(q[c.n0 : c.n1], layer.f, layer.s, layer.pads, rows=(c.i0, c.i1),
                       out=buffer)
        pixels = (c.i1 - c.i0) * layer.w_out
        dW_part = _dW_part(U, dz, c, layer)
        U = buffer[: U.size].reshape(U.shape)  # dU goes to the buffer (U itself, or not kept)
        Un = U.reshape(-1, c.n1 - c.n0, pixels).transpose(1, 0, 2)  # image by image
        dZn = dz[c.n0 : c.n1, :, c.i0 : c.i1].reshape(c.n1 - c.n0, layer.ch_out, pixels)
        np.matmul(F, dZn, out=Un)  # dU = F dZ, the windows' gradient
        shape = (c.n1 - c.n0, layer.ch_in, layer.h_in, layer.w_in)
        if c.whole:  # the chunk's images are its own: scatter straight into dq
            col2im(U, shape, layer.f, layer.s, layer.pads, out=dq[c.n0 : c.n1])
            return dW_part, None
        # a band of one image: its rows overlap the next band's, added in order below
        return dW_part, col2im(U, shape, layer.f, layer.s, layer.pads, rows=(c.i0, c.i1))

    def consume(c, result):
        dW_part, band = result
        np.add(dFt, dW_part, out=dFt)
        if band is not None:  # bands of one image overlap: added here, in order
            r_lo, r_hi = input_rows(layer.h_in, layer.f, layer.s, layer.top, (c.i0, c.i1))
            dq[c.n0 : c.n1, :, r_lo:r_hi] += band

    chunks.run(work, layer, q.dtype, workspace=workspace, threads=threads, consume=consume,
               chunk=chunk)
    return dq, dFt


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
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    dZ = dz.transpose(1, 0, 2, 3).reshape(layer.ch_out, -1)
    return col2im(filter_matrix(W) @ dZ, q.shape, layer.f, layer.s, layer.pads)


def dilated_padded_dz(dz, layer):
    """``dz_bar`` of eq. (29): ``dz`` dilated by the stride, then padded by eqs. (24)-(26).

    Returns an array of shape ``(n_b, ch_out, h_in + f - 1, w_in + f - 1)``.
    """
    return pad(dilate(dz, layer.s), layer.back_pads)  # Geometry.back_pads: backward_padding


def input_gradient_rot180(dz, q, W, s=1, h_out="valid", *, padding=None):
    """``dq`` by the notes' route, eq. (29), corrected.

    ``dq_mu = sum_nu dz_bar_nu (star) rot180(W_mu nu)``: ``dz`` dilated by ``s`` (``s - 1``
    zeros between entries, eq. 15), padded to ``h_in + f - 1`` with ``f - 1 - t`` before,
    ``t`` the padding the forward pass put before (top or left): ``ceil(p/2)`` under the
    notes' split (eqs. 24-25), whatever an explicit ``padding`` put there otherwise. Then
    cross-correlated, stride 1, with the rotated filters and summed over the output channels.

    Parameters
    ----------
    dz : ndarray, shape (n_b, ch_out, h_out, w_out)
    q, W, s, h_out, padding
        As in :func:`convlib.conv_forward`; only ``q``'s shape is used.

    Returns
    -------
    dq : ndarray, shape (n_b, ch_in, h_in, w_in)
    """
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    win = windows(dilated_padded_dz(dz, layer), layer.f, 1)  # (n_b, ch_out, h_in, w_in, f, f)
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
    dz, q, W, layer = _backward_args(dz, q, W, s, h_out, padding)
    dz_hat = dilate(dz, layer.s)
    hs, ws = dz_hat.shape[-2:]
    # drop the rows no window reads
    q_bar = pad(q, layer.pads)[:, :, : hs + layer.f - 1, : ws + layer.f - 1]
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
