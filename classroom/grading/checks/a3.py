"""Assignment 3, trusted side: the references and the messages of each part.

The layer is channels last (NHWC) and grouped: q (n_b, h_in, w_in, ch_in), W (f_h, f_w,
ch_in // g, ch_out), z (n_b, h_out, w_out, ch_out); output channel nu belongs to group
k = nu // (ch_out // g) and reads the input channels k (ch_in // g) ... (k + 1) (ch_in // g) - 1:

    z[n, i, j, nu] = b[nu]
        + sum_{a, b, m} q_bar[n, s_h i + a, s_w j + b, k cg_in + m] W[a, b, m, nu]

with q_bar the input padded (or cropped, where a side is negative) by pads. The references
here are written from that definition, with loops: `window_index` says, for every entry of the
window matrix (rows (n, i, j), columns (a, b, mu)), which entry of q it reads (-1: padding);
the gather, its adjoint and the layer's gradients follow from it. tests/classroom/
test_a3_answers.py holds them equal to torch.nn.functional.conv2d(groups=g).
"""

from __future__ import annotations

import numpy as np

from .. import oracle
from . import Verdict, close, expect_array, rel, value

# The kernel gets no convlib at all: its im2col/col2im/windows (NCHW) give the NHWC window
# matrix after two transposes, and its forward and backward passes give the layer of
# ungrouped cases; the notebook needs nothing of it (the padding helper is in the notebook).
CONVLIB = None


def _where(label):
    return label if label.startswith("(") else f"(case {label})"


def geometry(shape, f, s, pads):
    """(h_out, w_out) of an input of `shape` (n_b, h_in, w_in, ch)."""
    (t, b_), (l_, r) = pads
    return ((shape[1] + t + b_ - f[0]) // s[0] + 1, (shape[2] + l_ + r - f[1]) // s[1] + 1)


def window_index(shape, f, s, pads):
    """Flat index into q of every window-matrix entry (rows (n, i, j), columns (a, b, mu)),
    -1 where the entry falls on padding. Loops over the definition."""
    n_b, h_in, w_in, ch = shape
    (t, _), (l_, _) = pads
    h_out, w_out = geometry(shape, f, s, pads)
    index = np.full((n_b * h_out * w_out, f[0] * f[1] * ch), -1, dtype=np.int64)
    for n in range(n_b):
        for i in range(h_out):
            for j in range(w_out):
                row = (n * h_out + i) * w_out + j
                for a in range(f[0]):
                    for b in range(f[1]):
                        x, y = s[0] * i + a - t, s[1] * j + b - l_  # the row and column of q
                        if 0 <= x < h_in and 0 <= y < w_in:
                            for mu in range(ch):
                                index[row, (a * f[1] + b) * ch + mu] = (
                                    ((n * h_in + x) * w_in + y) * ch + mu)
    return index


def im2col_ref(q, f, s, pads):
    index = window_index(q.shape, f, s, pads)
    return np.where(index >= 0, q.reshape(-1)[np.maximum(index, 0)], 0).astype(q.dtype)


def col2im_ref(cols, shape, f, s, pads, add=True):
    """The adjoint of im2col_ref; add=False or None: a wrong scatter that assigns (the last
    window written wins, or, with None, the last tap)."""
    index = window_index(shape, f, s, pads)
    if cols.shape != index.shape:
        raise ValueError(f"cols has shape {cols.shape}; im2col gives {index.shape}")
    keep = index >= 0
    size = int(np.prod(shape))
    if add:
        out = np.bincount(index[keep], weights=cols[keep].astype(np.float64), minlength=size)
    else:  # the last entry written wins: window after window, or tap after tap
        out = np.zeros(size)
        if add is None:
            out[index.T[keep.T]] = cols.T[keep.T]
        else:
            out[index[keep]] = cols[keep]
    return out.astype(cols.dtype).reshape(shape)


def _groups(W, g, ch_in, interleaved=False):
    """For each output channel, the input channels its group reads."""
    cg_in, ch_out = W.shape[2], W.shape[3]
    cg_out = ch_out // g
    k = [nu % g if interleaved else nu // cg_out for nu in range(ch_out)]
    return [list(range(kk * cg_in, (kk + 1) * cg_in)) for kk in k]


def conv_ref(q, W, b, s, pads, g, interleaved=False):
    """z from the definition: one window-matrix row at a time, one output channel at a time."""
    f = W.shape[:2]
    Q = im2col_ref(q, f, s, pads).astype(np.float64)
    Q = Q.reshape(len(Q), f[0] * f[1], q.shape[3])
    channels = _groups(W, g, q.shape[3], interleaved)
    z = np.zeros((len(Q), W.shape[3]))
    for nu, mus in enumerate(channels):
        z[:, nu] = np.einsum("pkm,km->p", Q[:, :, mus], W[:, :, :, nu].reshape(-1, len(mus)))
    if b is not None:
        z = z + b
    h_out, w_out = geometry(q.shape, f, s, pads)
    return z.reshape(q.shape[0], h_out, w_out, -1).astype(np.result_type(q, W))


def backward_ref(dz, q, W, s, pads, g, interleaved=False):
    """(dq, dW, db) from the definition: each output channel's windows times dz."""
    f = W.shape[:2]
    ch_in = q.shape[3]
    Q = im2col_ref(q, f, s, pads).astype(np.float64).reshape(-1, f[0] * f[1], ch_in)
    dZ = dz.reshape(len(Q), -1).astype(np.float64)
    dQ = np.zeros(Q.shape)
    dW = np.zeros(W.shape)
    for nu, mus in enumerate(_groups(W, g, ch_in, interleaved)):
        dW[:, :, :, nu] = np.einsum("pkm,p->km", Q[:, :, mus], dZ[:, nu]).reshape(
            f[0], f[1], len(mus))
        dQ[:, :, mus] += np.einsum("p,km->pkm", dZ[:, nu],
                                   W[:, :, :, nu].reshape(-1, len(mus)))
    dq = col2im_ref(dQ.reshape(len(Q), -1), q.shape, f, s, pads)
    dtype = np.result_type(q, W)
    return dq.astype(dtype), dW.astype(dtype), dZ.sum(axis=0).astype(dtype)


def _nchw_columns(want, f, ch):
    """The window matrix with its columns in the NCHW order (mu, a, b)."""
    return want.reshape(len(want), f[0], f[1], ch).transpose(0, 3, 1, 2).reshape(len(want), -1)


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = _where(label)
    if grade_id == "a3-im2col-tests":
        q, f, s, pads = args
        want = im2col_ref(q, f, s, pads)
        if expect_array("im2col", got, want, where):
            return
        if close(got, _nchw_columns(want, f, q.shape[3])) and q.shape[3] > 1:
            raise Verdict("im2col's columns are in the NCHW order (mu, a, b); in NHWC they are "
                          f"(a, b, mu), the order of W.reshape(-1, ch_out) {where}")
        if np.array_equal(np.sort(got, axis=None), np.sort(want, axis=None)):
            raise Verdict(f"im2col holds the right values in the wrong order {where}: rows "
                          "are (n, i, j), columns (a, b, mu)")
        raise Verdict(f"im2col reads the wrong pixels {where}")
    elif grade_id == "a3-col2im-tests":
        cols, shape, f, s, pads = args
        want = col2im_ref(cols, shape, f, s, pads)
        if expect_array("col2im", got, want, where):
            return
        if (f[0] > s[0] or f[1] > s[1]) and any(
                close(got, col2im_ref(cols, shape, f, s, pads, add=wrong))
                for wrong in (False, None)):
            raise Verdict("col2im assigns where windows overlap: the contributions of "
                          f"overlapping windows must be added, not overwritten {where}")
        raise Verdict(f"col2im is not the adjoint of im2col {where}")
    elif grade_id == "a3-adjoint-tests":
        _check_adjoint(got, where, label, args)
    elif grade_id == "a3-fwd-tests":
        q, W, b, s, pads, g = args
        want = conv_ref(q, W, b, s, pads, g)
        if expect_array("conv_nhwc", got, want, where):
            return
        if g > 1 and W.shape[3] > g and close(got, conv_ref(q, W, b, s, pads, g, True)):
            raise Verdict("conv_nhwc puts output channel nu in group nu % g; the groups are "
                          f"blocks: channel nu is in group nu // (ch_out // g) {where}")
        if b is not None and g > 1 and _bias_permuted(got, conv_ref(q, W, None, s, pads, g), b):
            raise Verdict("conv_nhwc adds the bias in the wrong channel order: b[nu] belongs to "
                          f"output channel nu of z {where}")
        raise Verdict(f"conv_nhwc gives wrong values (relative error {rel(got, want):.1e}) "
                      f"{where}")
    else:
        _check_backward(got, where, *args)


def _bias_permuted(got, z_no_bias, b):
    """Is got z without bias plus the entries of b in another channel order?"""
    d = got.astype(np.float64) - z_no_bias
    per_channel = d.reshape(-1, d.shape[-1])
    found = per_channel[0]
    return (close(d, np.broadcast_to(found, d.shape), 1e-4)
            and close(np.sort(found), np.sort(b.astype(np.float64)), 1e-4)
            and not close(found, b.astype(np.float64), 1e-4))


def _check_adjoint(got, where, label, args):
    variant = oracle.for_seed(args[-1]).a3_variants[args[0]]
    what = ("an im2col/col2im pair that is adjoint" if variant == "adjoint" else
            "a col2im that assigns instead of adding")
    label = f"{label}, with {what}"
    if not (isinstance(got, np.ndarray) and got.shape == ()):
        raise Verdict(f"adjoint_test must return one number {where}")
    gap = float(got)
    if variant == "adjoint" and not gap < 1e-10:
        raise Verdict(f"adjoint_test reports a gap of {gap:.1e} for {label}: the relative "
                      "gap is |lhs - rhs| / max(|lhs|, |rhs|), with lhs = <im2col(x), y> "
                      "and rhs = <x, col2im(y)>")
    # (an assigning scatter's gap is random, and below 1e-3 once in a few hundred runs:
    # the adjoint pairs' gaps are rounding, far below 1e-10)
    if variant == "assigning" and not gap > 1e-7:
        raise Verdict(f"adjoint_test did not notice {what}: it reported a gap of "
                      f"{gap:.1e} ({label})")


def _check_backward(got, where, dz, q, W, s, pads, g):
    want = backward_ref(dz, q, W, s, pads, g)
    if not isinstance(got, tuple) or len(got) != 3:
        raise Verdict(f"conv_nhwc_backward must return the tuple (dq, dW, db) {where}")
    wrong_groups = None
    for label, got_, want_ in zip(("dq", "dW", "db"), got, want, strict=True):
        if expect_array(f"conv_nhwc_backward's {label}", got_, want_, where):
            continue
        n_b = dz.shape[0]
        if label != "db" and g > 1 and W.shape[3] > g:
            wrong_groups = wrong_groups or backward_ref(dz, q, W, s, pads, g, True)
            if close(got_, wrong_groups[("dq", "dW").index(label)]):
                raise Verdict(f"conv_nhwc_backward's {label} puts output channel nu in group "
                              "nu % g; the groups are blocks: channel nu is in group "
                              f"nu // (ch_out // g) {where}")
        if label == "dq" and (W.shape[0] > s[0] or W.shape[1] > s[1]):
            dQ = _dQ(dz, W, g, q.shape[3])
            f = W.shape[:2]
            if any(close(got_, col2im_ref(dQ, q.shape, f, s, pads, add=wrong))
                   for wrong in (False, None)):
                raise Verdict("conv_nhwc_backward's dq: the scatter assigns where windows "
                              f"overlap; they must add up {where}")
        if label in ("dW", "db") and n_b > 1:
            if close(got_, want_ / n_b):
                raise Verdict(f"{label} is averaged over the batch; it must be summed {where}")
            last = backward_ref(dz[-1:], q[-1:], W, s, pads, g)[("dq", "dW", "db").index(label)]
            if close(got_, last):
                raise Verdict(f"{label} holds the last image's gradient only: sum over the "
                              f"batch {where}")
        raise Verdict(f"conv_nhwc_backward's {label} gives wrong values (relative error "
                      f"{rel(got_, want_):.1e}) {where}")


def _dQ(dz, W, g, ch_in):
    """The windows' gradient (rows (n, i, j), columns (a, b, mu)) from the definition."""
    f = W.shape[:2]
    dZ = dz.reshape(-1, dz.shape[3]).astype(np.float64)
    dQ = np.zeros((len(dZ), f[0] * f[1], ch_in))
    for nu, mus in enumerate(_groups(W, g, ch_in)):
        dQ[:, :, mus] += np.einsum("p,km->pkm", dZ[:, nu], W[:, :, :, nu].reshape(-1, len(mus)))
    return dQ.reshape(len(dZ), -1)
