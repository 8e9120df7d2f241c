"""Assignment 4, trusted side: the references and the messages of each part.

The layer is a 1-D convolution over sequences (x: (n_b, ch_in, length), W: (ch_out, ch_in, f)).
Every reference here is a loop written from the definition (eq. (6) and eqs. (7)-(8) in 1-D,
and the chain rule); tests/classroom/test_a4_answers.py checks them against
torch.nn.functional.conv1d with autograd. A verdict says what is wrong in the OUTPUT (its
shape or dtype: every part keeps the dtype of its array arguments; or which positions differ in
which case), never which bug or what code to change, and never the expected values.
"""

from __future__ import annotations

import numpy as np

from . import Verdict, expect_array, value

# The kernel gets no convlib: a 1-D layer is a one-row image, so convlib's 2-D passes (with
# explicit padding and filters whose other rows are zero) would compute every part, and its
# im2col/col2im would answer part 3. The notebook needs numpy only.
CONVLIB = None


def split(p):
    """Eq. (8): ceil(p/2) before, floor(p/2) after (a negative p crops the same way)."""
    return -(-p // 2), p // 2


def padded(x, p):
    """x_bar: x padded (or cropped) by eq. (8), as loops over the samples."""
    before, after = split(p)
    n_b, ch, length = x.shape
    out = np.zeros((n_b, ch, length + p), dtype=np.float64)
    for t in range(length):
        if 0 <= t + before < length + p:
            out[:, :, t + before] = x[:, :, t]
    return out


def forward_loops(x, W, b, s, l_out):
    ch_out, ch_in, f = W.shape
    x_bar = padded(x, s * (l_out - 1) + f - x.shape[-1])
    z = np.zeros((x.shape[0], ch_out, l_out))
    for n in range(x.shape[0]):
        for v in range(ch_out):
            for i in range(l_out):
                z[n, v, i] = b[v] + sum(W[v, mu, a] * x_bar[n, mu, s * i + a]
                                        for mu in range(ch_in) for a in range(f))
    return z


def col2im_loops(cols, shape, f, s):
    n_b, ch, length = shape
    n_win = (length - f) // s + 1
    out = np.zeros(shape)
    for n in range(n_b):
        for i in range(n_win):
            for mu in range(ch):
                for a in range(f):
                    out[n, mu, s * i + a] += cols[n * n_win + i, mu * f + a]
    return out


def gradients_loops(dz, x, W, s):
    """(dW, dx) of the loss sum(dz * z), by the chain rule through the loops of forward."""
    ch_out, ch_in, f = W.shape
    n_b, _, length = x.shape
    l_out = dz.shape[-1]
    p = s * (l_out - 1) + f - length
    before = split(p)[0]
    x_bar = padded(x, p)
    dW, dx = np.zeros(W.shape), np.zeros(x.shape)
    for n in range(n_b):
        for v in range(ch_out):
            for i in range(l_out):
                for mu in range(ch_in):
                    for a in range(f):
                        dW[v, mu, a] += dz[n, v, i] * x_bar[n, mu, s * i + a]
                        t = s * i + a - before  # the input sample under tap a of window i
                        if 0 <= t < length:
                            dx[n, mu, t] += dz[n, v, i] * W[v, mu, a]
    return dW, dx


def positions(got, want, axis_name="positions"):
    """'positions 0-2, 5 of 7': where (along the last axis) any entry differs."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want), initial=0)), 1e-12)
    tol = 1e-4 if scale else 1e-8
    bad = np.abs(got - want) > tol * scale
    where = np.flatnonzero(bad.reshape(-1, want.shape[-1]).any(axis=0))
    runs, start = [], None
    for k, w in enumerate(where):
        if start is None:
            start = w
        if k + 1 == len(where) or where[k + 1] != w + 1:
            runs.append(f"{start}" if start == w else f"{start}-{w}")
            start = None
    return (f"{axis_name} {', '.join(runs)} of {want.shape[-1]} "
            f"({int(bad.sum())} of {bad.size} entries)")


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = label if label.startswith("(") else f"({label})"
    if grade_id == "a4-pad-tests":
        length, f, s, l_out = args
        want = s * (l_out - 1) + f - length
        number = _number(got)
        if number is None:
            raise Verdict(f"{label} returned {_show(got)}: it must return one number (an int)")
        if number != want:
            raise Verdict(f"{label} is {_show(got)}: a sequence of length {length} padded by "
                          f"that much does not hold exactly l_out = {l_out} windows of width "
                          f"{f}, {s} apart, with nothing left over after the last one")
        return
    if grade_id == "a4-fwd-tests":
        x, W, b, s, l_out = args
        want = forward_loops(x, W, b, s, l_out).astype(x.dtype)
        if not expect_array("forward", got, want, where):
            raise Verdict(f"forward's output differs from the definition (eq. (6) in 1-D) at "
                          f"{positions(got, want)} {where}")
        return
    if grade_id == "a4-col2im-tests":
        cols, shape, f, s = args
        want = col2im_loops(cols, shape, f, s).astype(cols.dtype)
        if not expect_array("col2im", got, want, where):
            raise Verdict(f"col2im is not the adjoint of im2col: <im2col(y), cols> != "
                          f"<y, col2im(cols)>; its output differs at {positions(got, want)} "
                          f"{where}")
        return
    dz, x, W, s = args
    dW, dx = (g.astype(x.dtype) for g in gradients_loops(dz, x, W, s))
    if grade_id == "a4-dw-tests":
        if not expect_array("filter_gradient", got, dW, where):
            raise Verdict(f"dW differs from the gradient of sum(dz * z) with respect to W at "
                          f"{positions(got, dW, 'taps')} {where}")
        return
    if not expect_array("input_gradient", got, dx, where):
        raise Verdict(f"dx differs from the gradient of sum(dz * z) with respect to x at "
                      f"{positions(got, dx)} {where}")


def _number(got):
    """The integer value of a returned real scalar, or None."""
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "iuf":
        x = float(got)
        if np.isfinite(x) and x == round(x):
            return int(round(x))
        return x if np.isfinite(x) else None
    return None


def _show(got):
    if isinstance(got, np.ndarray) and got.size <= 4:
        return repr(got.tolist())
    return type(got).__name__
