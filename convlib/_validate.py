"""Argument checks shared by every public function.

Errors teach: each message names the parameter, what was received and what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np

MODES = ("valid", "same", "full")


def as_float_array(x, name: str, ndim: int | None = None, layout: str = "") -> np.ndarray:
    """Return ``x`` as a floating-point array, without ever modifying ``x``.

    Integer input is promoted to float64; float32 and float64 are kept as they are.
    """
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got complex dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D {layout}; got ndim={arr.ndim} with shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def check_int(value, name: str, minimum: int) -> int:
    """``value`` as a Python int, or a ValueError/TypeError naming ``name``.

    Python and numpy integers are accepted, and so are 0-d integer arrays.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if not isinstance(value, numbers.Integral):  # a number, but not a whole one (1.5, 2.0)
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def pair(value, name: str) -> tuple:
    """An int or a 2-sequence (tuple, list or 1-D array) as a pair, one entry per image axis."""
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise ValueError(
                f"{name} must be an int or an (h, w) pair; got an array of shape {value.shape}"
            )
        value = value.item() if value.ndim == 0 else list(value)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or an (h, w) pair; got a sequence of length {len(value)}"
            )
        return tuple(value)
    return (value, value)


def check_input(q) -> np.ndarray:
    """q of eq. (30): ``(n_b, ch_in, h_in, w_in)``, with at least one of each."""
    q = as_float_array(q, "q", 4, "(n_b, ch_in, h_in, w_in)")
    for axis, what in enumerate(("n_b", "ch_in", "h_in", "w_in")):
        if q.shape[axis] < 1:
            raise ValueError(
                f"q must have {what} >= 1 (axis {axis} of (n_b, ch_in, h_in, w_in)); "
                f"got q.shape={q.shape}"
            )
    return q


def cast(x: np.ndarray, dtype, name: str) -> np.ndarray:
    """``x`` in the working ``dtype``; an error, not ``inf``, where a value would overflow.

    Casting down (float64 to float32 or float16) turns values beyond the smaller type's range
    into infinities silently; here such a value is refused, naming ``name``.
    """
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if np.finfo(x.dtype).max > np.finfo(dtype).max and x.size:
        finite = np.abs(x[np.isfinite(x)]) if not np.isfinite(x).all() else np.abs(x)
        largest = finite.max() if finite.size else 0
        if largest > np.finfo(dtype).max:
            raise ValueError(
                f"{name} holds {largest:.3g}, beyond the range of the working dtype {dtype} "
                f"(max {np.finfo(dtype).max:.3g}; the dtype of q and W): casting it would give "
                f"inf. Pass q and W as {x.dtype} or scale {name}"
            )
    return x.astype(dtype)


def check_filters(W, ch_in: int) -> np.ndarray:
    """W of eq. (2): ``(ch_in, ch_out, f, f)``, its ch_in equal to the input's."""
    W = as_float_array(W, "W", 4, "(ch_in, ch_out, f, f)")
    if W.shape[2] != W.shape[3]:
        raise ValueError(f"W must hold square f x f filters; got W.shape={W.shape}")
    if W.shape[2] < 1 or W.shape[1] < 1 or W.shape[0] < 1:
        raise ValueError(
            f"W must have f >= 1, ch_out >= 1 and ch_in >= 1; got W.shape={W.shape}"
        )
    if W.shape[0] != ch_in:
        raise ValueError(
            f"channel mismatch: W.shape[0] (ch_in of the filters) is {W.shape[0]} "
            f"but q.shape[1] (ch_in of the input) is {ch_in}"
        )
    return W


def check_bias(b, ch_out: int) -> np.ndarray:
    """b of eq. (3): one bias per output channel."""
    b = as_float_array(b, "b", 1, "(ch_out,)")
    if b.shape[0] != ch_out:
        raise ValueError(
            f"b must have length ch_out={ch_out} (W.shape[1]); got b.shape={b.shape}"
        )
    return b


def check_number(value, name: str, low: float, high: float = float("inf"), *,
                 low_open: bool = False, high_open: bool = True) -> float:
    """``value`` as a finite Python float in the interval given, or an error naming ``name``.

    The interval is ``[low, high)`` by default; ``low_open``/``high_open`` exclude an end.
    Booleans, strings, sequences, ``nan`` and infinities are refused.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number in {interval}; got {value!r}")
    number = float(value)
    inside = (low < number if low_open else low <= number) and (
        number < high if high_open else number <= high)
    if not np.isfinite(number) or not inside:
        raise ValueError(f"{name} must be a finite number in {interval}; got {value!r}")
    return number
