"""Assignment 1, trusted side: the references and the messages of each part."""

from __future__ import annotations

import numpy as np

import convlib as cl

from . import Verdict, check_im2col, close, expect_array, flat, rel, split, value

# The kernel gets no convlib at all: numpy only.
CONVLIB = None


def _forward(q, W, b, s, pads):
    return cl.conv_forward(q, W, b, s, padding=flat(pads))


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = f"for {label}"
    if grade_id == "a1-size-tests":
        h_in, f, s, h_out = args
        want = s * (h_out - 1) + f - h_in
        if not (isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "iu"
                and int(got) == want):
            raise Verdict(f"padding_amount({label}) returned {_show(got)}: eq. (7) makes the "
                          "padded input exactly long enough for h_out windows of width f "
                          "placed s apart (an int)")
    elif grade_id == "a1-split-tests":
        (p,) = args
        pair = _pair(got)
        if pair is None or sum(pair) != p:
            raise Verdict(f"split_padding({p}) returned {_show(got)}, whose sum is not p")
        if pair != split(p):
            raise Verdict(f"split_padding({p}) returned {pair}: eq. (8): the extra pixel of an "
                          "odd p goes before: ceil(p/2) before and floor(p/2) after, for "
                          "negative p (cropping) too")
    elif grade_id == "a1-pad-tests":
        q, p = args
        if not expect_array("pad", got, cl.pad(q, p), where):
            raise Verdict(f"pad put the image in the wrong place {where}: negative amounts "
                          "crop that side, positive ones add zeros")
    elif grade_id == "a1-im2col-tests":
        q_bar, f, s = args
        check_im2col(got, q_bar, f, s, where)
    else:
        q, W, b, s, h_out = args
        case_pads = _pads_of(q, W, s, h_out)
        want = _forward(q, W, b, s, case_pads)
        if not expect_array(name, got, want, label):
            (t, bo), (lf, r) = case_pads
            if close(got, _forward(q, W, b, s, ((bo, t), (r, lf)))):
                raise Verdict(f"{name} splits the padding the wrong way round: eq. (8): the "
                              f"extra pixel of an odd p goes before (top/left) {label}")
            if close(got, want - b[None, :, None, None]):
                raise Verdict(f"{name} leaves out the bias b {label}")
            if W.shape[2] > 1 and close(got, _forward(q, W.transpose(0, 1, 3, 2), b, s,
                                                       case_pads)):
                raise Verdict(f"{name} transposes each filter: the filter matrix rows must be "
                              f"ordered (mu, a, b) like im2col's columns {label}")
            raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) "
                          f"{label}")


def _pads_of(q, W, s, h_out):
    f = W.shape[2]
    return (split(s * (h_out[0] - 1) + f - q.shape[2]),
            split(s * (h_out[1] - 1) + f - q.shape[3]))


def _pair(got):
    """(before, after) as ints, if the student returned two integers."""
    items = got if isinstance(got, tuple) else (
        tuple(got) if isinstance(got, np.ndarray) and got.shape == (2,) else ())
    if len(items) == 2 and all(isinstance(g, np.ndarray) and g.shape == ()
                               and g.dtype.kind in "iu" for g in items):
        return int(items[0]), int(items[1])
    return None


def _show(got):
    if isinstance(got, np.ndarray) and got.size <= 4:
        return repr(got.tolist())
    return type(got).__name__
