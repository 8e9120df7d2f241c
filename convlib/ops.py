"""Array operations the derivation uses: dilation, rotation, im2col and its adjoint.

- ``dilate``: the dilated differential of eqs. (15) and (29);
- ``rot180``: the rotated filter of eqs. (22) and (27)-(29);
- ``windows``: a strided view of every window of eq. (31), no copy;
- ``im2col``: the window matrix of eqs. (31)-(34), one column per output pixel, gathered from
  the unpadded input; ``col2im`` scatters such a matrix back onto the input (its adjoint).

``im2col`` and ``col2im`` are the one gather and the one scatter of ``convlib``: the forward
and backward passes call them chunk by chunk (``rows=``, ``out=``), the chapters and tests
call them whole.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import check_int
from .padding import layer_geometry, pad_sides


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


def _span(a: int, before: int, n_in: int, s: int, n_out: int):
    """Output indices ``i0 <= i < i1`` whose input index ``i s + a - before`` is in the image.

    Returns ``(i0, i1, r0)`` with ``r0 = i0 s + a - before`` the first input index read; the
    other output indices read padding zeros (eq. 8), or nothing is read when ``i1 == i0``.
    """
    i0 = max(0, -((a - before) // s))
    i1 = max(i0, min(n_out, (n_in - 1 + before - a) // s + 1))
    return i0, i1, i0 * s + a - before


def input_rows(h_in: int, f: int, s: int, top: int, rows) -> tuple[int, int]:
    """The input rows ``[r_lo, r_hi)`` that the output rows ``rows = (i0, i1)`` read.

    Output row ``i`` reads padded rows ``i s ... i s + f - 1``, i.e. input rows
    ``i s - top ... i s - top + f - 1`` (eq. 6 with eq. 8), clipped to the image.
    """
    i0, i1 = rows
    return max(0, min(h_in, i0 * s - top)), max(0, min(h_in, (i1 - 1) * s - top + f))


def geometry_of(shape, f: int, s: int = 1, pads=0):
    """The :class:`convlib.Geometry` of an input of ``shape`` read by ``f x f`` windows
    ``s`` apart, padded by ``pads`` (any form :func:`convlib.pad` takes)."""
    if len(shape) != 4:
        raise ValueError(f"q must be 4-D (n_b, ch_in, h_in, w_in); got shape {tuple(shape)}")
    n_b, ch_in, h_in, w_in = (int(n) for n in shape)
    return layer_geometry(h_in, w_in, f, s, padding=pad_sides(pads, "pads"), n_b=n_b,
                          ch_in=ch_in)


class _Band:
    """Output rows ``i_lo <= i < i_hi`` of a :class:`convlib.Geometry` (all by default) and
    the input rows ``r_lo <= r < r_hi`` they read: the part of a chunk im2col/col2im need."""

    def __init__(self, g, rows):
        i_lo, i_hi = (0, g.h_out) if rows is None else (int(r) for r in rows)
        if not 0 <= i_lo < i_hi <= g.h_out:
            raise ValueError(
                f"rows must be (i0, i1) with 0 <= i0 < i1 <= h_out={g.h_out}; got {rows!r}"
            )
        self.g, self.i_lo, self.i_hi = g, i_lo, i_hi
        self.r_lo, self.r_hi = (0, g.h_in) if rows is None else input_rows(
            g.h_in, g.f, g.s, g.top, (i_lo, i_hi))
        self.shape6 = (g.ch_in, g.f, g.f, g.n_b, i_hi - i_lo, g.w_out)

    def offsets(self):
        """For each filter offset ``(a, b)``: the output block that reads the image, and where.

        Yields ``a, b, (i0, i1), (j0, j1), (r, c)``: output rows ``i0:i1`` (relative to the
        first row of the band) and columns ``j0:j1`` read input rows ``r, r + s, ...`` (relative
        to ``r_lo``) and columns ``c, c + s, ...``. Entries outside the block read padding.
        """
        g = self.g
        columns = [_span(b, g.left, g.w_in, g.s, g.w_out) for b in range(g.f)]
        for a in range(g.f):
            i0, i1, r0 = _span(a, g.top, g.h_in, g.s, g.h_out)
            lo, hi = max(i0, self.i_lo), min(i1, self.i_hi)
            r = r0 + (lo - i0) * g.s - self.r_lo
            for b, (j0, j1, c0) in enumerate(columns):
                yield a, b, (lo - self.i_lo, max(lo, hi) - self.i_lo), (j0, j1), (r, c0)


def _buffer(out, shape, dtype, name):
    size = int(np.prod(shape))
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.dtype != dtype or out.size < size or not out.flags.c_contiguous:
        raise ValueError(
            f"{name} must be a C-contiguous {np.dtype(dtype)} array with at least {size} "
            f"entries; got {out.dtype} with {out.size} entries"
        )
    return out.reshape(-1)[:size].reshape(shape)


def im2col(q, f: int, s: int = 1, pads=0, *, rows=None, out=None):
    """The window matrix of eq. (34), one column per output pixel, gathered from ``q``.

    Column ``(n, i, j)`` holds the window of eq. (31) that output pixel ``(i, j)`` of image
    ``n`` reads, flattened as in eq. (32), channel after channel:

    ``U[(mu, a, b), (n, i, j)] == q_bar[n, mu, i s + a, j s + b]``,

    with ``q_bar`` the input padded by ``pads`` (eq. 8). This is the transpose of the notes'
    tensor of eq. (34), reshaped to a matrix: ``U.reshape(ch_in, f * f, n_b, h_out * w_out)
    .transpose(2, 0, 3, 1)`` is eq. (34)'s ``(n_b, ch_in, h_out w_out, f^2)``. In this layout
    the forward pass is one matrix product, ``z = F^T U`` with ``F`` the filters as a
    ``(ch_in f^2, ch_out)`` matrix (eq. 35). ``q_bar`` itself is never
    made: one slice copy per filter offset fills the matrix, and the entries that fall on
    padding are set to zero. For ``s > 1`` the slices come from the polyphase components of
    ``q`` that the offsets read (at most ``min(f, s)^2`` of them, never ``s^2``).

    Parameters
    ----------
    q : ndarray, shape (n_b, ch_in, h_in, w_in)
        The unpadded input.
    f, s : int
        Filter width and stride.
    pads : int, (p_h, p_w), ((top, bottom), (left, right)) or (top, bottom, left, right)
        Padding as in :func:`convlib.pad` (one reader, :func:`convlib.padding.pad_sides`):
        an int or a pair is the notes' total, split by eq. (8); negative amounts crop.
    rows : (i0, i1), optional, keyword-only
        Only the output rows ``i0 <= i < i1`` (the forward pass works in bands of rows when one
        image is large).
    out : ndarray, optional, keyword-only
        A C-contiguous buffer of ``q``'s dtype with enough entries, to fill instead of a new
        array (the workspace of the chunked forward and backward passes).

    Returns
    -------
    U : ndarray, shape (ch_in f^2, n_b h_out w_out)
        (``h_out`` replaced by ``i1 - i0`` when ``rows`` is given.)

    Examples
    --------
    >>> q = np.arange(16.).reshape(1, 1, 4, 4)
    >>> im2col(q, 2, 2)          # four 2 x 2 windows, one per column
    array([[ 0.,  2.,  8., 10.],
           [ 1.,  3.,  9., 11.],
           [ 4.,  6., 12., 14.],
           [ 5.,  7., 13., 15.]])
    """
    q = np.asarray(q)
    g = geometry_of(q.shape, f, s, pads)
    band = _Band(g, rows)
    U = _buffer(out, band.shape6, q.dtype, "out")
    src = q.transpose(1, 0, 2, 3)[:, :, band.r_lo : band.r_hi]  # (ch_in, n_b, rows, w_in)
    phases = _Phases(src, g.s)
    for a, b, (i0, i1), (j0, j1), (r, c) in band.offsets():
        dst = U[:, a, b]  # (ch_in, n_b, rows, w_out)
        if i1 <= i0 or j1 <= j0:  # this offset reads only padding
            dst[...] = 0
            continue
        for block in (dst[:, :, :i0], dst[:, :, i1:], dst[:, :, i0:i1, :j0],
                      dst[:, :, i0:i1, j1:]):
            if block.size:  # the entries that read padding (eq. 8)
                block[...] = 0
        part = phases[r % g.s, c % g.s]
        dst[:, :, i0:i1, j0:j1] = part[
            :, :, r // g.s : r // g.s + i1 - i0, c // g.s : c // g.s + j1 - j0
        ]
    return U.reshape(g.ch_in * g.f * g.f, -1)


def col2im(dU, shape, f: int, s: int = 1, pads=0, *, rows=None, out=None):
    """Scatter-add a window matrix back onto the input: the adjoint of :func:`im2col`.

    Every entry of ``dU`` is added to the input pixel it would have been read from, so
    ``<im2col(x), Y> == <x, col2im(Y)>`` for all ``x`` and ``Y``. Where windows overlap
    (``s < f``) the contributions add up (never assign); entries that fall on padding are
    dropped; input pixels no window reads stay zero. In the backward pass ``dU = F dz`` is
    the gradient of the windows, and this scatter turns it into ``dq`` (eq. 29).

    Parameters
    ----------
    dU : ndarray, shape (ch_in f^2, n_b h_out w_out)
        As returned by :func:`im2col`.
    shape : tuple
        Shape of the unpadded input ``q``, ``(n_b, ch_in, h_in, w_in)``.
    f, s, pads, rows
        As in :func:`im2col`.
    out : ndarray, optional, keyword-only
        Array to add into, instead of a new zero array. With ``rows`` it covers only the input
        rows those output rows read, ``input_rows(h_in, f, s, top, rows)``.

    Returns
    -------
    dq : ndarray, shape ``shape``
        Or ``(n_b, ch_in, r_hi - r_lo, w_in)`` when ``rows`` is given.

    Examples
    --------
    >>> x = np.arange(20.).reshape(1, 1, 4, 5)
    >>> Y = np.ones((9, 6))
    >>> bool(np.isclose(np.sum(im2col(x, 3, 1) * Y), np.sum(x * col2im(Y, x.shape, 3, 1))))
    True
    """
    dU = np.asarray(dU)
    g = geometry_of(shape, f, s, pads)
    rows = _Band(g, rows)
    size = int(np.prod(rows.shape6))
    if dU.ndim != 2 or dU.size != size or dU.shape[0] != g.ch_in * g.f * g.f:
        raise ValueError(
            f"dU must have shape {(g.ch_in * g.f * g.f, size // (g.ch_in * g.f * g.f))} for "
            f"q of shape {tuple(shape)}; got {dU.shape}"
        )
    dU6 = dU.reshape(rows.shape6)
    band = (g.n_b, g.ch_in, rows.r_hi - rows.r_lo, g.w_in)
    if out is None:
        out = np.zeros(band, dtype=dU.dtype)
    elif out.shape != band:
        raise ValueError(f"out must have shape {band}; got {out.shape}")
    dst = out.transpose(1, 0, 2, 3)  # a view: the adds below land in out
    phases = _Phases(dst, g.s, accumulate=True)
    for a, b, (i0, i1), (j0, j1), (r, c) in rows.offsets():
        if i1 > i0 and j1 > j0:
            part = phases[r % g.s, c % g.s]
            rows_, cols = slice(r // g.s, r // g.s + i1 - i0), slice(c // g.s, c // g.s + j1 - j0)
            part[:, :, rows_, cols] += dU6[:, a, b, :, i0:i1, j0:j1]
    phases.flush()
    return out


class _Phases:
    """The ``s x s`` polyphase components of an array's last two axes, made when first used.

    ``phases[pa, pb]`` is ``x[..., pa::s, pb::s]`` as a contiguous array: a window read with
    stride ``s`` is then a plain slice of one component, which numpy copies and adds faster.
    Only the components the filter offsets read are made (at most ``min(f, s)^2``). For
    ``s = 1`` the only component is ``x`` itself. With ``accumulate=True`` the components
    start at zero and :meth:`flush` adds them back into ``x``.
    """

    def __init__(self, x, s: int, accumulate: bool = False):
        self.x, self.s, self.accumulate, self.made = x, s, accumulate, {}

    def __getitem__(self, key):
        if self.s == 1:
            return self.x
        if key not in self.made:
            view = self.x[..., key[0] :: self.s, key[1] :: self.s]
            self.made[key] = np.zeros_like(view) if self.accumulate else view.copy()
        return self.made[key]

    def flush(self):
        for (pa, pb), part in self.made.items():
            self.x[..., pa :: self.s, pb :: self.s] += part
