"""Assignment 3, trusted side: the references and the messages of each part."""

from __future__ import annotations

import numpy as np

import convlib as cl

from .. import oracle
from . import Verdict, check_im2col, close, col2im_loops, expect_array, rel, value
from .a2 import CONVLIB as _A2

# The kernel's convlib keeps only what the notebook allows, pad, padding_amount and
# split_padding (with their own helpers): out go everything of assignment 2's list, the
# forward passes (conv_forward can gather windows, with one-hot filters), the window gather
# and scatter and every piece of them (im2col, col2im, windows, their geometry and polyphase
# helpers, the pooling layers' scatter), dilate and rot180, and the layer geometry.
CONVLIB = _A2 | {
    "conv_forward", "filter_matrix", "prepare", "im2col", "_Geometry", "_Phases", "_buffer",
    "_span", "_out_size", "input_rows", "dilate", "rot180", "layer_geometry", "output_size",
}


def _where(label):
    return label if label.startswith("(") else f"(case {label})"


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = _where(label)
    if grade_id == "a3-im2col-tests":
        q_bar, f, s = args
        check_im2col(got, q_bar, f, s, where)
    elif grade_id == "a3-col2im-tests":
        cols, shape, f, s = args
        want = col2im_loops(cols, shape, f, s)
        if not expect_array("col2im", got, want, where):
            if any(close(got, wrong) for wrong in _assigning(cols, shape, f, s)):
                raise Verdict("col2im assigns where windows overlap: the contributions of "
                              "overlapping windows must be added (+=), not overwritten "
                              + where)
            raise Verdict(f"col2im is not the adjoint of im2col {where}")
    elif grade_id == "a3-adjoint-tests":
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
    else:
        _check_backward(got, where, *args)


def _assigning(cols, shape, f, s):
    """col2im that assigns where windows overlap: window after window, or offset after offset
    (the last one written wins)."""
    n_b, ch_in, H, W_ = shape
    ho, wo = (H - f) // s + 1, (W_ - f) // s + 1
    c6 = cols.reshape(n_b, ho, wo, ch_in, f, f).transpose(0, 3, 1, 2, 4, 5)
    by_offset = np.zeros(shape, dtype=cols.dtype)
    for a in range(f):
        for b in range(f):
            by_offset[:, :, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s] = c6[..., a, b]
    return col2im_loops(cols, shape, f, s, add=False), by_offset


def _dq_assigning(dz, q, W, s):
    """dq with scatters that assign where windows overlap (for the diagnosis only)."""
    ch_in, ch_out, f, _ = W.shape
    layer = cl.layer_geometry(q.shape[2], q.shape[3], f, s, dz.shape[-2:])
    (top, bottom), (left, right) = layer.pads
    q_bar = cl.pad(q, layer.pads)
    dZ = dz.transpose(0, 2, 3, 1).reshape(-1, ch_out)
    Wm = W.transpose(0, 2, 3, 1).reshape(ch_in * f * f, ch_out)
    return [cl.pad(dq_bar, ((-top, -bottom), (-left, -right)))
            for dq_bar in _assigning(dZ @ Wm.T, q_bar.shape, f, s)]


def _check_backward(got, where, dz, q, W, s):
    h_out = dz.shape[-2:]
    want = cl.conv_backward(dz, q, W, s, h_out)
    if not isinstance(got, tuple) or len(got) != 3:
        raise Verdict(f"conv_backward_vectorized must return the tuple (dq, dW, db) {where}")
    for label, g, w in zip(("dq", "dW", "db"), got, want, strict=True):
        if expect_array(f"conv_backward_vectorized's {label}", g, w, where):
            continue
        n_b = dz.shape[0]
        if label == "dq" and W.shape[-1] > s and any(
                close(g, wrong) for wrong in _dq_assigning(dz, q, W, s)):
            raise Verdict("conv_backward_vectorized's dq: the scatter assigns where windows "
                          f"overlap; they must add up (does your col2im add?) {where}")
        if label == "dW" and n_b > 1:
            if close(g, cl.conv_backward(dz[-1:], q[-1:], W, s, h_out)[1]):
                raise Verdict(f"dW holds the last image's gradient only: sum over the batch "
                              f"{where}")
            if close(g, w / n_b):
                raise Verdict(f"dW is averaged over the batch; it must be summed {where}")
        if label == "db" and n_b > 1 and close(g, w / n_b):
            raise Verdict(f"db is averaged over the batch; it must be summed {where}")
        raise Verdict(f"conv_backward_vectorized's {label} gives wrong values (relative "
                      f"error {rel(g, w):.1e}) {where}")
