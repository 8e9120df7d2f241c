"""Padding under three conventions: the notes' eqs. (7)-(8), PyTorch and TensorFlow.

The notes fix ``h_out`` and derive the padding from it (eq. 7), extra pixel top/left (eq. 8).
Frameworks fix the padding and let ``h_out`` follow with a floor, so some rows may never be
read. One axis at a time; every size comes from :mod:`convlib.padding`.
"""

from __future__ import annotations

from ._validate import check_int
from .padding import layer_geometry, output_size, padding_amount, split_padding

CONVENTIONS = ("notes", "pytorch", "tensorflow")


def explicit_output_size(h_in: int, f: int, s: int, before: int, after: int) -> int:
    """Output height for an explicit padding: ``floor((h_in + before + after - f) / s) + 1``.

    Computed by :func:`convlib.layer_geometry` with ``padding=(before, after, 0, 0)``, one
    axis only: the width is a single window (``f`` columns, no padding).

    Examples
    --------
    >>> explicit_output_size(8, 3, 3, 0, 0)  # rows 6-7 are read by no window
    2
    """
    return layer_geometry(h_in, f, f, s, padding=(before, after, 0, 0)).h_out


def unread_rows(h_in: int, f: int, s: int, before: int, after: int) -> int:
    """Rows at the bottom of the padded input that no window reaches.

    The last of the ``h_out`` windows ends at row ``s (h_out - 1) + f - 1`` (eq. 6); whatever
    the padded input holds beyond it is never read. Zero under the notes' eq. (7).
    """
    h_out = explicit_output_size(h_in, f, s, before, after)
    return h_in + before + after - (s * (h_out - 1) + f)


def convention_padding(h_in: int, f: int, s: int, convention: str = "notes", h_out="same"):
    """Padding ``(before, after)`` and output height along one axis under a convention.

    Parameters
    ----------
    h_in, f, s : int
        Input height, filter width, stride.
    convention : {"notes", "pytorch", "tensorflow"}
        ``"notes"``: eq. (7) gives ``p`` from ``h_out``, eq. (8) splits it, ``ceil(p/2)``
        before and ``floor(p/2)`` after; negative amounts crop.
        ``"pytorch"``: one symmetric explicit padding ``k`` on both sides and
        ``h_out = floor((h_in + 2k - f)/s) + 1``; ``k = 0`` for ``"valid"``, the usual
        ``k = f // 2`` for ``"same"`` (what ``padding="same"`` gives for odd ``f`` and
        ``s = 1``), ``k = f - 1`` for ``"full"``, and for an integer ``h_out`` the smallest
        ``k >= 0`` whose output has at least ``h_out`` rows, ``max(ceil(p/2), 0)``.
        ``"tensorflow"``: ``"same"`` is TensorFlow's ``'SAME'``, ``h_out = ceil(h_in/s)`` and
        total ``max((h_out - 1) s + f - h_in, 0)``, the extra pixel after (bottom/right);
        ``"valid"`` is ``'VALID'``, no padding, ``h_out = floor((h_in - f)/s) + 1``.
    h_out : int or {"valid", "same", "full"}
        The output size asked for. TensorFlow knows only ``"same"`` and ``"valid"``.

    Returns
    -------
    (before, after, h_out) : tuple of int
        Padding before (top/left) and after (bottom/right), negative means cropped (notes
        only), and the output height the convention produces.

    Examples
    --------
    >>> convention_padding(5, 3, 2, "notes", "same")
    (1, 1, 3)
    >>> convention_padding(6, 3, 2, "notes", "same")
    (1, 0, 3)
    >>> convention_padding(6, 3, 2, "tensorflow", "same")
    (0, 1, 3)
    >>> convention_padding(6, 3, 2, "pytorch", "same")
    (1, 1, 3)
    """
    h_in = check_int(h_in, "h_in", 1)
    f = check_int(f, "f", 1)
    s = check_int(s, "s", 1)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}; got {convention!r}")
    if not isinstance(h_out, str):
        h_out = check_int(h_out, "h_out", 1)
    if convention == "notes":
        ho = output_size(h_in, f, s, h_out) if isinstance(h_out, str) else h_out
        before, after = split_padding(padding_amount(h_in, f, s, ho))
        return before, after, ho
    if convention == "pytorch":
        if h_out == "valid":
            output_size(h_in, f, s, "valid")  # raises if the filter does not fit
            k = 0
        elif h_out == "same":
            k = f // 2
        elif h_out == "full":
            k = f - 1
        elif isinstance(h_out, str):
            output_size(h_in, f, s, h_out)  # raises naming the allowed modes
        else:
            k = max(split_padding(padding_amount(h_in, f, s, h_out))[0], 0)
        return k, k, explicit_output_size(h_in, f, s, k, k)
    if h_out == "same":
        ho = output_size(h_in, f, s, "same")
        total = max(padding_amount(h_in, f, s, ho), 0)
        before = total // 2
        return before, total - before, ho
    if h_out == "valid":
        return 0, 0, output_size(h_in, f, s, "valid")
    raise ValueError(
        f"TensorFlow pads only with padding='SAME' (h_out='same') or 'VALID' "
        f"(h_out='valid'); got h_out={h_out!r}"
    )
