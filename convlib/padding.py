"""Output size and padding: eqs. (7) and (8) of the notes.

The notes fix the output height ``h_out`` first and derive the total padding ``p`` from it
(eq. 7), then split ``p`` as evenly as possible, the extra pixel going top/left (eq. 8).
Each image axis is treated on its own, so images may be rectangular.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MODES, check_int, pair


def output_size(h_in: int, f: int, s: int = 1, mode: str = "valid") -> int:
    """Output height for one axis and a named mode.

    Parameters
    ----------
    h_in, f, s : int
        Input height, filter width, stride.
    mode : {"valid", "same", "full"}
        ``"valid"``: floor((h_in - f)/s) + 1, every window inside the image;
        ``"same"``: ceil(h_in/s); ``"full"``: floor((h_in + f - 2)/s) + 1, every window that
        overlaps the image by at least one pixel.

    Returns
    -------
    int
        ``h_out``.
    """
    h_in = check_int(h_in, "h_in", 1)
    f = check_int(f, "f", 1)
    s = check_int(s, "s", 1)
    if mode == "valid":
        if f > h_in:
            raise ValueError(
                f"h_out='valid' needs the filter to fit in the image: f={f} > h_in={h_in}"
            )
        return (h_in - f) // s + 1
    if mode == "same":
        return -(-h_in // s)
    if mode == "full":  # the last window starts at the last pixel: h_in + f - 2 padded rows
        return (h_in + f - 2) // s + 1
    raise ValueError(f"h_out must be an int >= 1, an (h, w) pair or one of {MODES}; got {mode!r}")


def padding_amount(h_in: int, f: int, s: int, h_out: int) -> int:
    """Total padding along one axis, eq. (7) of the notes.

    ``p = s (h_out - 1) + f - h_in``: the padded input is exactly long enough for ``h_out``
    windows of width ``f`` placed ``s`` apart. A negative ``p`` means rows are cropped.
    """
    return s * (h_out - 1) + f - h_in


def split_padding(p: int) -> tuple[int, int]:
    """Split a total padding ``p`` into (before, after) as eq. (8) does.

    ``ceil(p/2)`` goes before (top or left), ``floor(p/2)`` after (bottom or right).
    A negative ``p`` crops the same way: ``split_padding(-3) == (-1, -2)``.
    """
    return -(-p // 2), p // 2


def resolve_h_out(h_in: int, w_in: int, f: int, s: int, h_out) -> tuple[int, int]:
    """Turn the ``h_out`` argument (int, pair or mode) into ``(h_out, w_out)``.

    An output larger than the "full" size is refused: its last windows would read nothing but
    the zeros of eq. (8), and eq. (7) would pad without bound (``h_out=10**5`` would ask for
    terabytes).
    """
    if isinstance(h_out, str):
        if h_out not in MODES:
            raise ValueError(
                f"h_out must be an int >= 1, an (h, w) pair or one of {MODES}; got {h_out!r}"
            )
        if h_out == "valid" and (f > h_in or f > w_in):
            raise ValueError(
                f"h_out='valid' needs the filter to fit in the image: W has f={f} but "
                f"q has (h_in, w_in)=({h_in}, {w_in})"
            )
        return output_size(h_in, f, s, h_out), output_size(w_in, f, s, h_out)
    hh, ww = pair(h_out, "h_out")
    sizes = check_int(hh, "h_out", 1), check_int(ww, "h_out", 1)
    for size, n, axis in zip(sizes, (h_in, w_in), ("height", "width"), strict=True):
        largest = output_size(n, f, s, "full")
        if size > largest:
            raise ValueError(
                f"h_out={h_out!r} is too large along the {axis}: with {axis} {n}, f={f} and "
                f"s={s} at most {largest} windows overlap the image (the 'full' size); more "
                "would read only padding (eq. 7)"
            )
    return sizes


def explicit_padding(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """An explicit ``padding=`` as ``((top, bottom), (left, right))``: the sides only.

    Accepts ``(top, bottom, left, right)`` or ``((top, bottom), (left, right))`` (sequences or
    integer arrays), read by :func:`pad_sides`, the one reader of a padding. An int or an
    ``(p_h, p_w)`` pair, which :func:`pad_sides` takes as the notes' total ``p`` split by
    eq. (8), is refused here: for that, give ``h_out`` (eq. 7 finds ``p``).
    """
    sides = _sides(padding, "padding")
    if sides is None:
        raise ValueError(
            "padding must be (top, bottom, left, right) or ((top, bottom), (left, right)); "
            f"got {padding!r} (a total p split by eq. 8 is given through h_out)"
        )
    return sides


@dataclass(frozen=True)
class Geometry:
    """The geometry of a layer, unpacked into the notes' symbols: the one record.

    ``pads`` is ``((top, bottom), (left, right))``, the zeros added on each side of the input
    (eq. 8, or an explicit padding); negative entries crop. :func:`layer_geometry` makes it;
    the forward and backward passes, :func:`convlib.im2col`, :func:`convlib.col2im`, the
    chunk plan and the figures read it.
    """

    n_b: int
    ch_in: int
    ch_out: int
    h_in: int
    w_in: int
    f: int
    s: int
    h_out: int
    w_out: int
    pads: tuple

    @property
    def top(self) -> int:
        return self.pads[0][0]

    @property
    def left(self) -> int:
        return self.pads[1][0]

    @property
    def back_pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The padding of the dilated ``dz`` in eq. (29), per axis: :func:`backward_padding`."""
        return (backward_padding(self.h_in, self.f, self.s, self.h_out, self.top),
                backward_padding(self.w_in, self.f, self.s, self.w_out, self.left))



def layer_geometry(
    h_in: int, w_in: int, f: int, s: int = 1, h_out="valid", padding=None, *,
    n_b: int = 1, ch_in: int = 1, ch_out: int = 1,
) -> Geometry:
    """Output size and per-side padding of a layer: eqs. (7)-(8) of the notes.

    Parameters
    ----------
    h_in, w_in : int
        Input height and width.
    f, s : int
        Filter width and stride.
    h_out : int, (h_out, w_out) or {"valid", "same", "full"}
        Output size, from which eq. (7) gives the total padding, split by eq. (8); ignored
        (must be "valid" or equal to the result) when ``padding`` is given.
    padding : None, (top, bottom, left, right) or ((top, bottom), (left, right))
        Explicit padding instead of the notes' split, for PyTorch/TensorFlow conventions
        (:func:`explicit_padding`). Rows the last window does not reach stay unread.
    n_b, ch_in, ch_out : int, keyword-only
        Batch size and channels, recorded in the result.

    Returns
    -------
    Geometry

    Examples
    --------
    >>> L = layer_geometry(7, 6, 3, 2, "same")
    >>> (L.h_out, L.w_out), L.pads
    ((4, 3), ((1, 1), (1, 0)))
    """
    h_in, w_in = check_int(h_in, "h_in", 1), check_int(w_in, "w_in", 1)
    f, s = check_int(f, "f", 1), check_int(s, "s", 1)
    counts = (check_int(n_b, "n_b", 1), check_int(ch_in, "ch_in", 1),
              check_int(ch_out, "ch_out", 1))
    if padding is None:
        ho, wo = resolve_h_out(h_in, w_in, f, s, h_out)
        pads = (
            split_padding(padding_amount(h_in, f, s, ho)),
            split_padding(padding_amount(w_in, f, s, wo)),
        )
        return Geometry(*counts, h_in, w_in, f, s, ho, wo, pads)
    pads = explicit_padding(padding)
    sizes = []
    for n, (before, after), axis in zip((h_in, w_in), pads, ("height", "width"), strict=True):
        padded = n + before + after
        if padded < f:
            raise ValueError(
                f"the filter (f={f}) is bigger than the padded input along the {axis}: "
                f"{n} + {before} + {after} = {padded}"
            )
        sizes.append((padded - f) // s + 1)
    if not (isinstance(h_out, str) and h_out == "valid"):
        if tuple(pair(h_out, "h_out")) != tuple(sizes):
            raise ValueError(
                f"h_out={h_out!r} contradicts padding={padding!r}, which gives "
                f"(h_out, w_out)={tuple(sizes)}; pass only one of them"
            )
    return Geometry(*counts, h_in, w_in, f, s, *sizes, pads)


def pad_sides(p, name: str = "p") -> tuple[tuple[int, int], tuple[int, int]]:
    """A padding argument as ``((top, bottom), (left, right))``: the one reader of a padding.

    The sides explicitly: ``((top, bottom), (left, right))`` (sequences or a 2 x 2 integer
    array) or ``(top, bottom, left, right)``. The notes' *total* ``p`` of eq. (7): an int or
    a ``(p_h, p_w)`` pair, split by eq. (8). Negative amounts crop.
    """
    sides = _sides(p, name)
    if sides is not None:
        return sides
    ph, pw = pair(p, name)
    return split_padding(_amount(ph, name)), split_padding(_amount(pw, name))


def _sides(p, name: str):
    """``((top, bottom), (left, right))`` if ``p`` gives the sides explicitly, else None."""
    if isinstance(p, np.ndarray) and p.shape in ((2, 2), (4,)):
        p = p.tolist()
    if isinstance(p, (tuple, list)) and len(p) == 4:
        t, b, l, r = (_amount(v, name) for v in p)
        return (t, b), (l, r)
    if isinstance(p, (tuple, list)) and len(p) == 2 and all(
        isinstance(v, (tuple, list, np.ndarray)) for v in p
    ):
        (t, b), (l, r) = ([_amount(x, name) for x in pair(v, name)] for v in p)
        return (t, b), (l, r)
    return None


def _amount(value, name: str) -> int:
    """A padding amount: an integer, negative to crop."""
    return check_int(value, name, -(10**9))


def pad(q, p):
    """Zero-pad (or crop) the last two axes of ``q``: eq. (8) of the notes.

    Parameters
    ----------
    q : ndarray, shape (..., h_in, w_in)
        Images; any leading axes (batch, channels) are kept.
    p : int, (p_h, p_w), ((top, bottom), (left, right)) or (top, bottom, left, right)
        An int or a pair is the *total* padding per axis, split by eq. (8): ``ceil(p/2)``
        before, ``floor(p/2)`` after. A pair of pairs or four numbers give each side
        explicitly (as ``padding=`` of :func:`convlib.conv_forward`). Negative amounts crop.

    Returns
    -------
    q_bar : ndarray, shape (..., h_in + p_h, w_in + p_w)
        A new array; ``q`` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> pad(np.ones((2, 2)), 3).shape
    (5, 5)
    >>> pad(np.arange(9.).reshape(3, 3), 1)
    array([[0., 0., 0., 0.],
           [0., 0., 1., 2.],
           [0., 3., 4., 5.],
           [0., 6., 7., 8.]])
    """
    q = np.asarray(q)
    if q.ndim < 2:
        raise ValueError(f"q must have at least 2 axes (h, w); got shape {q.shape}")
    sides = pad_sides(p)  # ((top, bottom), (left, right))
    grow = [(max(before, 0), max(after, 0)) for before, after in sides]  # zeros added
    out = np.pad(q, [(0, 0)] * (q.ndim - 2) + grow)
    h, w = out.shape[-2:]
    (top, bottom), (left, right) = [(-min(x, 0), -min(y, 0)) for x, y in sides]  # crops
    if top + bottom > h or left + right > w:
        raise ValueError(f"padding {p!r} crops more than the image {q.shape[-2:]} holds")
    return out[..., top : h - bottom, left : w - right].copy()


def backward_padding(h_in: int, f: int, s: int, h_out: int, before: int) -> tuple[int, int]:
    """Padding of the dilated ``dz`` in the notes' route to ``dq``: eqs. (24)-(26), (29).

    The dilated ``dz_hat`` has ``s (h_out - 1) + 1`` entries along an axis; cross-correlating
    it (stride 1) with an ``f``-wide rotated filter must give ``h_in`` entries, so it is padded
    to ``h_in + f - 1`` in all: ``p_back = h_in + f - 2 - s (h_out - 1)``, which is
    ``2 (f - 1) - p`` (eq. 24) when ``p`` is the forward padding of eq. (7). The split is
    *not* the forward one: ``f - 1 - before`` goes before, with ``before`` the padding the
    forward pass really put on top (``ceil(p/2)`` under eq. 8, which gives eq. 25; another
    amount under an explicit framework padding), so the extra pixel of an odd ``p_back`` goes
    bottom/right under the notes' split.

    Parameters
    ----------
    h_in, f, s, h_out : int
        The forward layer's sizes along one axis.
    before : int
        Forward padding before (top or left) along that axis.

    Returns
    -------
    (before_back, after_back) : tuple of int
        Negative values crop.
    """
    p_back = h_in + f - 2 - s * (h_out - 1)
    before_back = f - 1 - before
    return before_back, p_back - before_back
