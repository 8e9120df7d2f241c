"""The numbers the explorer figures draw: padding (eqs. 7-8), windows (eq. 6), dilation
(eqs. 14-15, 29) and the input gradient (eqs. 17-29).

Each ``*_data`` function asks :mod:`convlib` for every number a figure shows (the layer's
geometry, padding, windows, dilation, rotation, ``dz_bar``) and returns them in a dict; the
renderers of :mod:`convlib.plot` only draw such a dict, so tests and readers can check what
is on the screen without looking at pixels. Numpy only: nothing here imports matplotlib.
"""

from __future__ import annotations

import numpy as np

from .backward import dilated_padded_dz
from .conventions import CONVENTIONS, convention_padding, unread_rows
from .ops import dilate, rot180, windows
from .padding import layer_geometry, pad

__all__ = [
    "EMPTY",
    "IMAGE",
    "ZERO",
    "CROP",
    "padding_data",
    "windows_data",
    "dilation_data",
    "input_gradient_data",
]

# Categories of the cells of a canvas (the padded input as drawn).
EMPTY, IMAGE, ZERO, CROP = 0, 1, 2, 3


# ----------------------------------------------------------------------------- geometry
def _layer(h_in, w_in, f, s, h_out):
    """The notes' layer (eqs. 7-8) for one image and one channel: ``convlib.layer_geometry``."""
    return layer_geometry(h_in, h_in if w_in is None else w_in, f, s, h_out)


def _canvas(h_in, w_in, f, s, pads):
    """Cells to draw for an input padded (or cropped) by ``pads``, in padded coordinates.

    Row ``r`` of ``q`` sits at row ``r + top`` of ``q_bar`` (eq. 8); cropped rows get
    negative coordinates. Which rows and columns some window reads comes from
    ``convlib.windows`` applied to an array of cell numbers.
    """
    (t, b), (l, r) = pads
    Hp, Wp = pad(np.zeros((h_in, w_in)), pads).shape
    r0, r1 = min(0, t), max(Hp, t + h_in)
    c0, c1 = min(0, l), max(Wp, l + w_in)
    rows = np.arange(r0, r1)[:, None]
    cols = np.arange(c0, c1)[None, :]
    in_pad = (rows >= 0) & (rows < Hp) & (cols >= 0) & (cols < Wp)
    in_img = (rows >= t) & (rows < t + h_in) & (cols >= l) & (cols < l + w_in)
    cat = np.where(in_img & in_pad, IMAGE, np.where(in_pad, ZERO, np.where(in_img, CROP, EMPTY)))
    ids = np.arange(Hp * Wp).reshape(Hp, Wp)
    read = np.zeros(Hp * Wp, dtype=bool)
    read[windows(ids, f, s).ravel()] = True
    read = read.reshape(Hp, Wp)
    return {
        "h_in": h_in,
        "w_in": w_in,
        "f": f,
        "s": s,
        "pads": ((t, b), (l, r)),
        "padded_shape": (Hp, Wp),
        "origin": (r0, c0),
        "category": cat,
        "read": read,
        "unread_rows": np.flatnonzero(~read.any(axis=1)),
        "unread_cols": np.flatnonzero(~read.any(axis=0)),
    }


def _check_index(name, value, size, what):
    if not 0 <= value < size:
        raise ValueError(f"{name}={value} is out of range: {what} has indices 0..{size - 1}")


# ----------------------------------------------------------------------------- data
def padding_data(h_in=5, f=3, s=2, h_out="same", *, w_in=None, convention="notes"):
    """Everything :func:`draw_padding` draws: eqs. (7)-(8) or a framework's convention.

    Parameters
    ----------
    h_in, f, s : int
        Input height, filter width, stride.
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
        Output size asked for (eq. 7 turns it into the padding ``p``).
    w_in : int, optional
        Input width (default ``h_in``).
    convention : {"notes", "pytorch", "tensorflow", "all"}
        See :func:`convlib.conventions.convention_padding`; ``"all"`` gives every
        convention that has ``h_out`` (TensorFlow only ``"same"`` and ``"valid"``).

    Returns
    -------
    dict
        ``pads`` ``((top, bottom), (left, right))``, ``p`` (totals per axis), ``out_shape``
        ``(h_out, w_out)``, ``padded_shape`` (the shape of ``convlib.pad(q, pads)``),
        ``category`` (canvas cells: 1 image, 2 zero padding, 3 cropped), ``origin`` (padded
        coordinates of the canvas's top-left cell), ``unread_rows``/``unread_cols`` (of the
        padded input, read by no window). For ``"all"``, one such dict per convention,
        keyed by its name.

    Examples
    --------
    >>> d = padding_data(6, 3, 2, "same")
    >>> d["pads"], d["out_shape"], d["padded_shape"]
    (((1, 0), (1, 0)), (3, 3), (7, 7))
    >>> list(padding_data(6, 3, 2, "full", convention="all"))
    ['notes', 'pytorch']
    """
    if convention == "all":
        return {
            c: padding_data(h_in, f, s, h_out, w_in=w_in, convention=c)
            for c in CONVENTIONS
            if c != "tensorflow" or h_out in ("same", "valid")
        }
    w_in = h_in if w_in is None else w_in
    hh, hw = h_out if isinstance(h_out, (tuple, list)) else (h_out, h_out)
    t, b, ho = convention_padding(h_in, f, s, convention, hh)
    l, r, wo = convention_padding(w_in, f, s, convention, hw)
    data = _canvas(h_in, w_in, f, s, ((t, b), (l, r)))
    data.update(
        convention=convention,
        mode=h_out,
        p=(t + b, l + r),
        out_shape=(ho, wo),
        unread_bottom=(unread_rows(h_in, f, s, t, b), unread_rows(w_in, f, s, l, r)),
    )
    return data


def windows_data(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None):
    """Everything :func:`draw_windows` draws: the window eq. (6) reads for output ``(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` (notes' convention) plus ``window``, a boolean
        mask on the padded input of the cells ``q_bar(i s + i', j s + j')`` that ``z(i, j)``
        reads (from ``convlib.windows``), and ``neighbours``: ``{(k, m): mask}`` for the
        output pixels next to ``(i, j)``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    Hp, Wp = data["padded_shape"]
    _check_index("i", i, L.h_out, f"the output (h_out={L.h_out})")
    _check_index("j", j, L.w_out, f"the output (w_out={L.w_out})")
    ids = np.arange(Hp * Wp).reshape(Hp, Wp)
    win = windows(ids, f, s)  # (h_out, w_out, f, f): the cell numbers each output reads

    def mask(k, m):
        out = np.zeros(Hp * Wp, dtype=bool)
        out[win[k, m].ravel()] = True
        return out.reshape(Hp, Wp)

    near = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        window=mask(i, j),
        neighbours={
            (k, m): mask(k, m) for k, m in near if 0 <= k < L.h_out and 0 <= m < L.w_out
        },
    )
    return data


def dilation_data(h_in=7, f=3, s=2, h_out="same", i=0, j=0, *, w_in=None):
    """Everything :func:`draw_dilation` draws: eqs. (14)-(15) with ``dz`` dilated.

    ``dz`` holds the numbers ``1 .. h_out w_out`` so each entry can be followed;
    ``dz_hat = convlib.dilate(dz, s)`` has ``s (h_out - 1) + 1`` rows. Placed on the padded
    input at offset ``(i, j)`` its entries sit on the cells ``q_bar(i + s k, j + s m)`` that
    eq. (14) multiplies by ``dz(k, m)`` to give ``dW(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` plus ``dz``, ``dz_hat``, ``placed`` (array on the
        padded input: the dz value on the cells eq. 14 reads, 0 elsewhere), ``i``, ``j``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    _check_index("i", i, f, f"dW (f={f})")
    _check_index("j", j, f, f"dW (f={f})")
    dz = np.arange(1, L.h_out * L.w_out + 1).reshape(L.h_out, L.w_out)
    dz_hat = dilate(dz, s)
    placed = np.zeros(data["padded_shape"], dtype=dz.dtype)
    placed[i : i + dz_hat.shape[0], j : j + dz_hat.shape[1]] = dz_hat
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        dz=dz,
        dz_hat=dz_hat,
        placed=placed,
    )
    return data


def input_gradient_data(h_in=7, f=3, s=2, h_out="same", i=3, j=3, *, w_in=None):
    """Everything :func:`draw_input_gradient` draws: eqs. (17)-(29) for input pixel ``(i, j)``.

    Returns
    -------
    dict
        The canvas of :func:`padding_data` plus

        - ``pixel``: ``(i + top, j + left)``, the pixel in padded coordinates (eq. 8);
        - ``influenced``: boolean ``(h_out, w_out)`` mask of the outputs whose window
          (eq. 6, ``convlib.windows``) reads the pixel, and ``weight_index[k, l] = (a, b)``,
          the filter entry ``W(a, b)`` that multiplies it in ``z(k, m)``;
        - ``dz``: the numbers ``1 .. h_out w_out``; ``dz_bar``: ``convlib.dilated_padded_dz``
          of it (eqs. 24-26, 29), shape ``(h_in + f - 1, w_in + f - 1)``; ``dz_bar_inside``:
          True on the cells of ``dz_bar`` inside the dilated ``dz_hat`` (not padding);
          ``back_pads``: ``convlib.backward_padding`` per axis;
        - ``rot``: ``convlib.rot180`` of the filter's index grid, ``rot[a, b] = (f-1-a)*f +
          (f-1-b)``; ``met``: the ``dz`` numbers inside the ``f x f`` window of ``dz_bar`` at
          ``(i, j)``, which eq. (29) multiplies by ``rot180(W)``.
    """
    L = _layer(h_in, w_in, f, s, h_out)
    data = _canvas(L.h_in, L.w_in, f, s, L.pads)
    _check_index("i", i, L.h_in, f"the input (h_in={L.h_in})")
    _check_index("j", j, L.w_in, f"the input (w_in={L.w_in})")
    (t, _), (l, _) = L.pads
    Hp, Wp = data["padded_shape"]
    pr, pc = i + t, j + l
    win = windows(np.arange(Hp * Wp).reshape(Hp, Wp), f, s)  # (h_out, w_out, f, f)
    target = pr * Wp + pc if (0 <= pr < Hp and 0 <= pc < Wp) else -1
    hits = win == target
    influenced = hits.any(axis=(2, 3))
    weight_index = {}
    for k, m in zip(*np.nonzero(influenced), strict=True):
        a, b = np.argwhere(hits[k, m])[0]
        weight_index[(int(k), int(m))] = (int(a), int(b))
    dz = np.arange(1, L.h_out * L.w_out + 1).reshape(1, 1, L.h_out, L.w_out)
    dz_bar = dilated_padded_dz(dz, L)[0, 0]
    back_pads = L.back_pads  # convlib.backward_padding per axis, as dilated_padded_dz pads
    inside = pad(np.ones(dilate(dz, s).shape[-2:], dtype=bool), back_pads)
    met = dz_bar[i : i + f, j : j + f]
    data.update(
        mode=h_out,
        out_shape=(L.h_out, L.w_out),
        p=(sum(L.pads[0]), sum(L.pads[1])),
        i=i,
        j=j,
        pixel=(pr, pc),
        influenced=influenced,
        weight_index=weight_index,
        dz=dz[0, 0],
        dz_bar=dz_bar,
        dz_bar_inside=inside,
        back_pads=back_pads,
        rot=rot180(np.arange(f * f).reshape(f, f)),
        met=met,
    )
    return data
