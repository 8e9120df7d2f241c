"""Assignment 4, trusted side: the references and the messages of each part.

Every part is judged against convlib (the notes' layer); the five bugs of the notebook's
layer are recomputed here as plausible wrong references, so a failure can say which property
the function still breaks.
"""

from __future__ import annotations

import numpy as np

import convlib as cl

from . import Verdict, close, col2im_loops, expect_array, rel, value

# What the kernel's convlib loses: every implementation of the five functions the students
# fix (and of what computes them: the padding of eq. (7), the layer geometry, the forward and
# backward passes, im2col/col2im and their internals, the figure data built on them). Kept:
# what the notebook allows, pad, split_padding, dilate, rot180, numerical_gradient,
# rel_error, check (and the helpers they use).
CONVLIB = frozenset({
    # padding.py: eq. (7) and everything built on it
    "padding_amount", "output_size", "full_size", "resolve_h_out", "explicit_padding", "Layer",
    "layer_geometry", "backward_padding",
    # forward.py, backward.py
    "prepare", "conv_forward_naive", "filter_matrix", "conv_forward", "_backward_args",
    "filter_gradient_naive", "bias_gradient_naive", "input_gradient_naive",
    "conv_backward_naive", "conv_backward", "input_gradient_col2im", "dilated_padded_dz",
    "input_gradient_rot180", "filter_gradient_dilated", "bias_gradient",
    # ops.py: the window matrix and its adjoint (col2im is part 3), with their internals
    "windows", "_out_size", "_span", "input_rows", "_Geometry", "_buffer", "im2col", "col2im",
    "_Phases",
    # conventions.py, figdata.py (paddings and gradients for the book's figures)
    "explicit_output_size", "unread_rows", "convention_padding", "_layer", "_canvas",
    "padding_data", "windows_data", "dilation_data", "input_gradient_data",
    # nn.py: the layers built on the passes
    "Conv2d", "_Pool2d", "MaxPool2d", "AvgPool2d",
})


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = label if label.startswith("(") else f"({label})"
    if grade_id == "a4-pad-tests":
        h_in, f, s, h_out = args
        want = s * (h_out - 1) + f - h_in
        number = _number(got)
        if number is None:
            raise Verdict(f"{label} returned {_show(got)}: it must return one number (an int)")
        if number == want:
            return
        if number == s * h_out + f - h_in:
            raise Verdict(f"{label} is {_show(got)}, one stride too large: the last of h_out "
                          "windows starts at s (h_out - 1), eq. (7)")
        raise Verdict(f"{label} is {_show(got)}: eq. (7) makes the padded input exactly long "
                      "enough for h_out windows of width f placed s apart")
    if grade_id == "a4-fwd-tests":
        q, W, b, s, h_out = args
        want = cl.conv_forward(q, W, b, s, h_out)
        if expect_array("forward", got, want, where, dtype=False):
            return
        ch_in, ch_out, f, _ = W.shape
        if ch_in * ch_out > 1 and close(got, cl.conv_forward(
                q, W.reshape(ch_out, ch_in, f, f).transpose(1, 0, 2, 3), b, s, h_out)):
            raise Verdict(f"forward reads W as (ch_out, ch_in, f, f) {where}: W is in the notes' "
                          "layout (ch_in, ch_out, f, f), and the filter matrix rows are "
                          "ordered (mu, a, b) like im2col's columns")
        if close(got, want - b[None, :, None, None]):
            raise Verdict(f"forward leaves out the bias b {where}")
        if f > 1 and close(got, cl.conv_forward(q, W.transpose(0, 1, 3, 2), b, s, h_out)):
            raise Verdict(f"forward transposes each filter {where}: the filter matrix rows "
                          "must be ordered (mu, a, b) like im2col's columns")
        raise Verdict(f"forward gives wrong values (relative error {rel(got, want):.1e}) "
                      f"{where}: is W read in the notes' layout (ch_in, ch_out, f, f)?")
    if grade_id == "a4-col2im-tests":
        cols, shape, f, s = args
        want = col2im_loops(cols, shape, f, s)
        if expect_array("col2im", got, want, where, dtype=False):
            return
        if s < f and (close(got, _col2im_assigned(cols, shape, f, s))
                      or close(got, col2im_loops(cols, shape, f, s, add=False))):
            raise Verdict(f"col2im overwrites where windows overlap (s < f) {where}: the "
                          "adjoint of im2col adds every window's values up")
        raise Verdict(f"col2im is not the adjoint of im2col {where}: every window's column "
                      "must be added back onto the pixels im2col read it from")
    dz, q, W, s = args
    h_out = dz.shape[-2:]
    dq, dW, _ = cl.conv_backward(dz, q, W, s, h_out)
    if grade_id == "a4-dw-tests":
        if expect_array("filter_gradient", got, dW, where, dtype=False):
            return
        n_b = q.shape[0]
        if n_b > 1 and close(got, cl.conv_backward(dz[-1:], q[-1:], W, s, h_out)[1]):
            raise Verdict(f"filter_gradient keeps only the last image's dW {where}: eqs. (14)"
                          "-(15) sum over the batch")
        if n_b > 1 and close(got, dW / n_b):
            raise Verdict(f"filter_gradient averages over the batch {where}: eqs. (14)-(15) "
                          "sum")
        raise Verdict(f"filter_gradient gives wrong values (relative error {rel(got, dW):.1e})"
                      f" {where}")
    if expect_array("input_gradient", got, dq, where, dtype=False):
        return
    if close(got, _input_gradient_forward_split(dz, q, W, s)):
        raise Verdict(f"input_gradient splits the padding of the dilated dz like the forward "
                      f"one {where}: eq. (25) puts f - 1 - top before (top: the forward "
                      "padding above the image), so the extra pixel of an odd amount goes "
                      "below/right")
    raise Verdict(f"input_gradient gives wrong values (relative error {rel(got, dq):.1e}) "
                  f"{where}")


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


def _col2im_assigned(cols, shape, f, s):
    """The notebook's buggy col2im: offset by offset, `=` instead of `+=`."""
    n_b, ch_in, H, W_ = shape
    ho, wo = (H - f) // s + 1, (W_ - f) // s + 1
    c6 = cols.reshape(n_b, ho, wo, ch_in, f, f).transpose(0, 3, 1, 2, 4, 5)
    out = np.zeros(shape, dtype=cols.dtype)
    for a in range(f):
        for b in range(f):
            out[:, :, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s] = c6[..., a, b]
    return out


def _input_gradient_forward_split(dz, q, W, s):
    """The notebook's buggy input_gradient: dz's backward padding split by eq. (8)."""
    (h_in, w_in), f = q.shape[-2:], W.shape[-1]
    dz_hat = cl.dilate(dz, s)
    p_h, p_w = h_in + f - 1 - dz_hat.shape[-2], w_in + f - 1 - dz_hat.shape[-1]
    dz_bar = cl.pad(dz_hat, (cl.split_padding(p_h), cl.split_padding(p_w)))
    rot = cl.rot180(W)
    dq = np.zeros(q.shape)
    for a in range(f):
        for b in range(f):
            dq += np.einsum("nvij,mv->nmij", dz_bar[:, :, a:a + h_in, b:b + w_in],
                            rot[:, :, a, b])
    return dq
