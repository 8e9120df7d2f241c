"""Assignment 2, trusted side: the references and the messages of each part."""

from __future__ import annotations

import numpy as np

import convlib as cl

from .. import oracle
from . import Verdict, close, expect_array, rel, split, value

# Taken out of the kernel's convlib: everything that computes a part (the backward passes and
# their pieces, the backward padding, the scatter col2im and the pooling layers' scatter, which
# give dq; the activations' derivatives; the gradient checkers) and the helpers the notebook
# does not name. Kept: the names it allows (conv_forward, pad, padding_amount, split_padding,
# dilate, rot180) and what conv_forward needs (prepare, layer_geometry, im2col, chunks, ...).
CONVLIB = {
    # backward.py
    "conv_backward", "conv_backward_naive", "input_gradient_rot180", "input_gradient_col2im",
    "input_gradient_naive", "filter_gradient_dilated", "filter_gradient_naive",
    "bias_gradient", "bias_gradient_naive", "dilated_padded_dz", "_backward_args",
    # padding.py, ops.py, forward.py
    "backward_padding", "col2im", "windows", "conv_forward_naive",
    # activations.py
    "output_error", "activate", "ACTIVATIONS", "_lookup", "identity_prime", "relu_prime",
    "sigmoid_prime", "tanh_prime",
    # gradcheck.py
    "numerical_gradient", "rel_error", "check", "Check",
    # nn.py: the layers whose backward passes give dq or a scatter, and its gradient check
    "Conv2d", "ReLU", "_Pool2d", "MaxPool2d", "AvgPool2d", "gradient_check",
}


def _where(label):
    return label if label.startswith("(") else f"(case {label})"


def check(grade_id, name, label, args, record):
    got = value(name, record)
    where = _where(label)
    if grade_id == "a2-act-tests":
        _check_act(got, where, *args)
    elif grade_id == "a2-db-tests":
        _check_db(got, where, *args)
    elif grade_id == "a2-dw-tests":
        _check_dw(got, where, *args)
    elif grade_id in ("a2-dq1-tests", "a2-dq-tests"):
        dz, q, W = args[:3]
        s = args[3] if len(args) > 3 else 1
        _check_dq(name, got, where, dz, q, W, s)
    elif grade_id == "a2-num-tests":
        _check_num(got, where, *args)
    else:
        _check_check(got, label, *args)


def _check_act(got, where, dq, z, act):
    want = cl.output_error(dq, z, act)
    if not expect_array("output_error", got, want, where):
        if close(got, dq * cl.activate(z, act)):
            raise Verdict(f"output_error multiplies by sigma(z), not sigma'(z) {where}: "
                          "eq. (11) as printed in the notes drops the derivative")
        raise Verdict(f"output_error gives wrong values {where}")


def _check_db(got, where, dz):
    want = dz.astype(np.float64).sum(axis=(0, 2, 3)).astype(dz.dtype)
    if not expect_array("bias_gradient", got, want, where):
        n_b, _, h_out, w_out = dz.shape
        if n_b > 1 and close(got, want / n_b):
            raise Verdict(f"db is averaged over the batch; it must be summed {where}")
        if h_out * w_out > 1 and close(got, want / (n_b * h_out * w_out)):
            raise Verdict(f"db is averaged over the batch and the pixels; eq. (16) sums them "
                          f"{where}")
        raise Verdict(f"db gives wrong values {where}")


def _pads_of(q, W, s, dz):
    (h_in, w_in), f, (h_out, w_out) = q.shape[-2:], W.shape[-1], dz.shape[-2:]
    return (split(s * (h_out - 1) + f - h_in), split(s * (w_out - 1) + f - w_in))


def _check_dw(got, where, dz, q, W, s):
    h_out = dz.shape[-2:]
    want = cl.conv_backward(dz, q, W, s, h_out)[1]
    if expect_array("filter_gradient", got, want, where):
        return
    n_b = dz.shape[0]
    if n_b > 1:
        ones = [cl.conv_backward(dz[n:n + 1], q[n:n + 1], W, s, h_out)[1] for n in (0, n_b - 1)]
        if close(got, ones[0]) or close(got, ones[1]):
            raise Verdict(f"dW holds the gradient of one image only: it must be summed over "
                          f"the batch {where}")
        if close(got, want / n_b):
            raise Verdict(f"dW is averaged over the batch (n_b times too small); it must be "
                          f"summed {where}")
        if close(got, want * n_b):
            raise Verdict(f"dW is not summed over the batch correctly: the error is n_b times "
                          f"too large {where}")
    (t, b), (lf, r) = _pads_of(q, W, s, dz)
    if (t, lf) != (b, r) and close(got, cl.conv_backward(dz, q, W, s, padding=(b, t, r, lf))[1]):
        raise Verdict(f"filter_gradient pads q with the padding split the wrong way round: "
                      f"eq. (8): the extra pixel of an odd p goes before (top/left) {where}")
    raise Verdict(f"dW gives wrong values (relative error {rel(got, want):.1e}) {where}")


def _dq_split(dz, q, W, s, forward_split):
    """Eq. (29) with the backward padding split as given (for the diagnoses only)."""
    (top, _), (left, _) = _pads_of(q, W, s, dz)
    f, (h_in, w_in) = W.shape[-1], q.shape[-2:]
    dz_hat = cl.dilate(dz, s)
    sides = []
    for n_in, before, n_hat in ((h_in, top, dz_hat.shape[-2]), (w_in, left, dz_hat.shape[-1])):
        p_back = n_in + f - 1 - n_hat
        first = -(-p_back // 2) if forward_split else f - 1 - before
        sides.append((first, p_back - first))
    dz_bar = cl.pad(dz_hat, tuple(sides))
    win = np.lib.stride_tricks.sliding_window_view(dz_bar, (f, f), axis=(2, 3))
    dq = np.tensordot(win, cl.rot180(W), axes=([1, 4, 5], [1, 2, 3]))
    return dq.transpose(0, 3, 1, 2).astype(q.dtype)


def _check_dq(name, got, where, dz, q, W, s):
    want = cl.conv_backward(dz, q, W, s, dz.shape[-2:])[0]
    if expect_array(name, got, want, where):
        return
    if close(got, _dq_split(dz, q, W, s, True)):
        raise Verdict(f"{name} splits the backward padding like the forward one (ceil "
                      "before): eq. (25) puts f - 1 - top rows before, so the extra row of an "
                      f"odd padding goes after {where}")
    if W.shape[-1] > 1:
        # _dq_split rotates what it is given: these give it W^T, rot180(W)^T and W instead
        transposed = W.transpose(0, 1, 3, 2)
        if close(got, _dq_split(dz, q, transposed[..., ::-1, ::-1], s, False)):
            raise Verdict(f"{name} transposes the filters instead of rotating them by 180 "
                          f"degrees (eq. 22) {where}")
        if close(got, _dq_split(dz, q, transposed, s, False)):
            raise Verdict(f"{name} transposes the rotated filters: rot180(W)[a, b] is "
                          f"W[f - 1 - a, f - 1 - b] (eq. 22) {where}")
        if close(got, _dq_split(dz, q, W[..., ::-1, ::-1], s, False)):
            raise Verdict(f"{name} does not rotate the filters by 180 degrees (eq. 22) "
                          f"{where}")
    raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) {where}")


def _check_num(got, where, case, x, h, seed):
    c = oracle.for_seed(seed).cubic_c(case)
    want = c * (3 * x ** 2 + h ** 2)  # (c (x + h)^3 - c (x - h)^3) / 2h, exactly
    expect_array("numerical_gradient", got, want, where)
    if not rel(got, want) <= 1e-7:
        if close(got, 3 * c * x ** 2, 1e-6):
            raise Verdict(f"numerical_gradient did not use its step h = {h} {where}: the "
                          "centered differences (L(x + h) - L(x - h)) / 2h with the h given")
        raise Verdict(f"numerical_gradient is not accurate enough {where} (relative error "
                      f"{rel(got, want):.1e}): are the differences centered, "
                      "(L(x + h) - L(x - h)) / 2h, one entry of x at a time?")


LABELS = {
    "right": "correct gradients and a correct numerical_gradient",
    "dq": "an input_gradient that splits the backward padding like the forward one",
    "dW": "a filter_gradient that forgets the batch sum",
    "db": "a bias_gradient that averages over the batch instead of summing",
}


def _check_check(got, label, run, layer_seed, seed):
    variant = oracle.for_seed(seed).a2_variants[run]
    where = f"(gradient_check({layer_seed}), {label}, with {LABELS[variant]})"
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], np.ndarray)
            and got[0].shape == (3,)):
        raise Verdict(f"gradient_check returned something unexpected {where}")
    errors, layer = got
    shown = ", ".join(f"'{k}': {e:.1e}" for k, e in zip(("dq", "dW", "db"), errors, strict=True))
    shown = "{" + shown + "}"
    if layer is None:
        raise Verdict(f"gradient_check did not call input_gradient {where}: call your "
                      "functions by their names (the grader swaps in its own)")
    if not (isinstance(layer, np.ndarray) and layer.shape == (9,) and layer.dtype.kind in "iu"):
        raise Verdict(f"the hidden tests' record of the layer is malformed {where}")
    if variant == "right":
        if not np.all(errors <= 1e-6):
            raise Verdict(f"with correct gradients and a correct checker, gradient_check "
                          f"reported errors {shown}: is the loss sum(z * G), with dz = G, z "
                          f"from cl.conv_forward? {where}")
        return
    key, what = {
        "dq": (0, "an input_gradient that splits the backward padding the wrong way"),
        "dW": (1, "a filter_gradient that forgets the batch sum (a batch of 2 shows it)"),
        "db": (2, "a bias_gradient that averages instead of summing (a batch of 2 shows it)"),
    }[variant]
    if not errors[key] > 1e-4:
        raise Verdict(f"gradient_check did not notice {what}: it reported "
                      f"{('dq', 'dW', 'db')[key]} error {errors[key]:.1e} {where}")
    others = [k for k in range(3) if k != key]
    if not np.all(errors[others] <= 1e-6):
        raise Verdict(f"gradient_check reported errors {shown} where only "
                      f"{('dq', 'dW', 'db')[key]} is wrong: the other gradients are correct "
                      f"{where}")
    if variant == "dq":
        h_in, w_in, _, f, s, h_out, w_out = (int(n) for n in layer[2:9])
        p_h, p_w = s * (h_out - 1) + f - h_in, s * (w_out - 1) + f - w_in
        if p_h % 2 == 0 and p_w % 2 == 0:
            raise Verdict("gradient_check's layer has an even padding along both axes "
                          f"(p = {p_h}, {p_w}): a dq whose backward padding is split like the "
                          "forward one would go unnoticed; the part asks for an output size "
                          f"that makes the padding odd {where}")
