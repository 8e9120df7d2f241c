"""Assignment 2, trusted side: the references and the messages of each part.

The layer is a1's: rectangular filters, a stride and a dilation per axis, the padding of
eq. (7) generalised, p = s (h_out - 1) + d (f - 1) + 1 - h_in, split by eq. (8). References:
torch.autograd through F.conv2d (stride, dilation) on the padded input (`torch_grads`), and
loops written from the definition (`grads_loops`; tests/classroom/test_a2_answers.py checks
that the two agree).
"""

from __future__ import annotations

import numpy as np

from .. import oracle
from . import Verdict, close, expect_array, rel, split, value

# Taken out of the kernel's convlib: everything that computes a backward pass or a piece of
# one (none of them handles a dilation or a rectangular filter, but they answer the notes'
# layer), the forward pass and im2col (a forward pass answers dW or dq in one call with its
# arguments rearranged), the activations' derivatives and the gradient checkers. Kept: pad,
# rot180, dilate (one stride for both axes) and the notes' padding arithmetic.
CONVLIB = {
    # forward.py, ops.py: the forward pass and its pieces
    "conv_forward", "prepare", "filter_matrix", "im2col", "input_rows",
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


def layer_pads(q_shape, W_shape, s, d, h_out):
    """((top, bottom), (left, right)): eq. (7) generalised per axis, split by eq. (8)."""
    return tuple(split(s_ * (n_out - 1) + d_ * (f - 1) + 1 - n_in)
                 for n_in, f, s_, d_, n_out in zip(q_shape[-2:], W_shape[-2:], s, d, h_out,
                                                   strict=True))


def _pad(x, sides):
    """Zero-pad (negative: crop) the last two axes by ((top, bottom), (left, right))."""
    grow = [(max(a, 0), max(b, 0)) for a, b in sides]
    out = np.pad(x, [(0, 0)] * (x.ndim - 2) + grow)
    (t, b), (l, r) = [(-min(a, 0), -min(c, 0)) for a, c in sides]
    return out[..., t:out.shape[-2] - b, l:out.shape[-1] - r]


def torch_grads(dz, q, W, s, d):
    """(dq, dW) by torch.autograd through F.conv2d on the padded q, in float64."""
    import torch
    import torch.nn.functional as F

    qt = torch.tensor(np.asarray(q, dtype=np.float64), requires_grad=True)
    Wt = torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True)
    (t, b), (l, r) = layer_pads(q.shape, W.shape, s, d, dz.shape[-2:])
    z = F.conv2d(F.pad(qt, (l, r, t, b)), Wt, stride=tuple(s), dilation=tuple(d))
    if tuple(z.shape) != dz.shape:
        raise AssertionError(f"torch's output {tuple(z.shape)} is not dz's {dz.shape}")
    (z * torch.tensor(np.asarray(dz, dtype=np.float64))).sum().backward()
    return qt.grad.numpy(), Wt.grad.numpy()


def grads_loops(dz, q, W, s, d):
    """(dq, dW) from the definition, with loops: every tap of every window, in float64."""
    (s_h, s_w), (d_h, d_w) = s, d
    (t, b), (l, r) = layer_pads(q.shape, W.shape, s, d, dz.shape[-2:])
    q_bar = _pad(q.astype(np.float64), ((t, b), (l, r)))
    dq_bar = np.zeros_like(q_bar)
    dW = np.zeros(W.shape)
    n_b, ch_out, h_out, w_out = dz.shape
    _, ch_in, f_h, f_w = W.shape
    for n in range(n_b):
        for nu in range(ch_out):
            for i in range(h_out):
                for j in range(w_out):
                    for mu in range(ch_in):
                        for a in range(f_h):
                            for c in range(f_w):
                                y, x = s_h * i + d_h * a, s_w * j + d_w * c
                                dW[nu, mu, a, c] += dz[n, nu, i, j] * q_bar[n, mu, y, x]
                                dq_bar[n, mu, y, x] += dz[n, nu, i, j] * W[nu, mu, a, c]
    return _pad(dq_bar, ((-t, -b), (-l, -r))), dW


def dq_route(dz, q_shape, W, s, d, forward_split=False):
    """Eq. (29) generalised: dz dilated by s, padded, correlated with the rotated filter
    dilated by d. With forward_split the padding is split like the forward one (diagnosis)."""
    f_h, f_w = W.shape[-2:]
    dz_hat = np.zeros(dz.shape[:2] + tuple(s_ * (n - 1) + 1 for s_, n in
                                           zip(s, dz.shape[-2:], strict=True)))
    dz_hat[..., ::s[0], ::s[1]] = dz
    pads = layer_pads(q_shape, W.shape, s, d, dz.shape[-2:])
    sides = []
    for n_in, f, d_, (top, _), n_hat in zip(q_shape[-2:], (f_h, f_w), d, pads,
                                            dz_hat.shape[-2:], strict=True):
        span = d_ * (f - 1)
        p_back = n_in + span - n_hat
        before = -(-p_back // 2) if forward_split else span - top
        sides.append((before, p_back - before))
    dz_bar = _pad(dz_hat, sides)
    rot = W[..., ::-1, ::-1]
    dq = np.zeros(tuple(q_shape))
    h_in, w_in = q_shape[-2:]
    for a in range(f_h):
        for c in range(f_w):
            part = dz_bar[..., d[0] * a:d[0] * a + h_in, d[1] * c:d[1] * c + w_in]
            dq += np.einsum("nvij,vm->nmij", part, rot[:, :, a, c])
    return dq


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
    elif grade_id == "a2-dq1-tests":
        dz, q, W, d = args
        _check_dq(name, got, where, dz, q, W, (1, 1), d)
    elif grade_id == "a2-dq-tests":
        _check_dq(name, got, where, *args)
    elif grade_id == "a2-num-tests":
        _check_num(got, where, *args)
    else:
        _check_check(got, label, *args)


def _check_act(got, where, dq, z, alpha):
    z64, dq64 = z.astype(np.float64), dq.astype(np.float64)
    slope = np.where(z64 > 0, 1.0, alpha * np.exp(np.minimum(z64, 0)))
    want = (dq64 * slope).astype(z.dtype)
    if isinstance(got, np.ndarray) and got.shape == want.shape and not np.all(
            np.isfinite(got)):
        raise Verdict(f"elu_output_error returned inf or nan {where}: exp(z) overflows for "
                      "a large z even where the result does not use it; take exp only of "
                      "min(z, 0), or select with np.where before multiplying")
    if expect_array("elu_output_error", got, want, where):
        return
    at_zero = np.where(z64 >= 0, 1.0, alpha * np.exp(np.minimum(z64, 0)))
    if close(got, (dq64 * at_zero).astype(z.dtype)):
        raise Verdict(f"elu_output_error uses the slope 1 at z = 0; the part defines "
                      f"sigma'(0) = alpha there (alpha = {alpha}) {where}")
    if close(got, (dq64 * np.where(z64 > 0, 1.0, np.exp(np.minimum(z64, 0)))).astype(z.dtype)):
        raise Verdict(f"elu_output_error leaves out the factor alpha for z <= 0 {where}")
    elu = np.where(z64 > 0, z64, alpha * (np.exp(np.minimum(z64, 0)) - 1))
    if close(got, (dq64 * elu).astype(z.dtype)):
        raise Verdict(f"elu_output_error multiplies by sigma(z), not sigma'(z) {where}")
    raise Verdict(f"elu_output_error gives wrong values {where}")


def _check_db(got, where, dz):
    want = dz.astype(np.float64).sum(axis=0).astype(dz.dtype)
    if isinstance(got, np.ndarray) and got.shape == dz.shape[1:2]:
        raise Verdict(f"bias_gradient returned shape {got.shape}, the tied bias's {where}: "
                      "the untied bias has one entry per output channel and pixel, "
                      f"shape {dz.shape[1:]}")
    if expect_array("bias_gradient", got, want, where):
        return
    if dz.shape[0] > 1 and close(got, want / dz.shape[0]):
        raise Verdict(f"db is averaged over the batch; it must be summed {where}")
    if dz.shape[0] > 1 and close(got, dz[-1]):
        raise Verdict(f"db holds the last image only; it must be summed over the batch {where}")
    raise Verdict(f"db gives wrong values {where}")


def _check_dw(got, where, dz, q, W, s, d):
    want = torch_grads(dz, q, W, s, d)[1].astype(W.dtype)
    if expect_array("filter_gradient", got, want, where):
        return
    n_b = dz.shape[0]
    if n_b > 1:
        last = torch_grads(dz[-1:], q[-1:], W, s, d)[1]
        if close(got, last):
            raise Verdict(f"dW holds the gradient of the last image only: it must be summed "
                          f"over the batch {where}")
        if close(got, want / n_b):
            raise Verdict(f"dW is averaged over the batch (n_b times too small); it must be "
                          f"summed {where}")
    if d != (1, 1) and W.shape[-2:] != (1, 1):
        plain = torch_grads_padded(dz, q, W, s, (1, 1), layer_pads(q.shape, W.shape, s, d,
                                                                   dz.shape[-2:]))
        if plain is not None and close(got, plain):
            raise Verdict(f"filter_gradient reads q_bar at s i + a, without the dilation: "
                          f"tap a of the filter meets row s i + d a {where}")
    if s != (1, 1):
        plain = torch_grads_padded(dz, q, W, (1, 1), d, layer_pads(q.shape, W.shape, s, d,
                                                                   dz.shape[-2:]))
        if plain is not None and close(got, plain):
            raise Verdict(f"filter_gradient ignores the stride: window (i, j) starts at row "
                          f"s i {where}")
    raise Verdict(f"dW gives wrong values (relative error {rel(got, want):.1e}) {where}")


def torch_grads_padded(dz, q, W, s, d, pads):
    """dW of a layer with the given padding, s and d (its output cut to dz's size), or None
    when its output is smaller than dz (for the diagnoses only)."""
    import torch
    import torch.nn.functional as F

    Wt = torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True)
    (t, b), (l, r) = pads
    qb = F.pad(torch.tensor(np.asarray(q, dtype=np.float64)), (l, r, t, b))
    eff = [d_ * (f - 1) + 1 for d_, f in zip(d, W.shape[-2:], strict=True)]
    if any(n < e for n, e in zip(qb.shape[-2:], eff, strict=True)):
        return None
    z = F.conv2d(qb, Wt, stride=tuple(s), dilation=tuple(d))
    if z.shape[-2] < dz.shape[-2] or z.shape[-1] < dz.shape[-1]:
        return None
    z = z[..., :dz.shape[-2], :dz.shape[-1]]
    (z * torch.tensor(np.asarray(dz, dtype=np.float64))).sum().backward()
    return Wt.grad.numpy()


def _check_dq(name, got, where, dz, q, W, s, d):
    want = torch_grads(dz, q, W, s, d)[0].astype(q.dtype)
    if expect_array(name, got, want, where):
        return
    if close(got, dq_route(dz, q.shape, W, s, d, forward_split=True)):
        raise Verdict(f"{name} splits the backward padding like the forward one (ceil "
                      "before): d (f - 1) - top rows go before, so the extra row of an odd "
                      f"padding goes after {where}")
    if W.shape[-2:] != (1, 1):
        if close(got, dq_route(dz, q.shape, W[..., ::-1, ::-1], s, d)):
            raise Verdict(f"{name} does not rotate the filters by 180 degrees (eq. 22) "
                          f"{where}")
        if W.shape[0] == W.shape[1] and close(got, dq_route(dz, q.shape, W.swapaxes(0, 1),
                                                            s, d)):
            raise Verdict(f"{name} sums over the wrong channel axis of W: dq sums over the "
                          f"output channels nu, W[nu, mu] {where}")
    raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) {where}")


def _direction(seed, shape):
    v = np.random.default_rng(seed).standard_normal(shape)
    return v / np.linalg.norm(v)


def _check_num(got, where, case, x, grad, rng_seed, h, seed):
    if not (isinstance(got, tuple) and len(got) == 2 and all(
            isinstance(g, np.ndarray) and g.size == 1 for g in got)):
        raise Verdict(f"directional_check must return two numbers (g_v, n_v) {where}")
    g_v, n_v = (float(g.reshape(())) for g in got)
    c = oracle.for_seed(seed).cubic_c(case)
    x64, v = x.astype(np.float64), _direction(rng_seed, x.shape)
    want_g = float(np.sum(grad.astype(np.float64) * v))
    want_n = float(np.sum(c * (3 * x64 ** 2 * v + h ** 2 * v ** 3)))  # exactly, see below
    # (c (x + h v)^3 - c (x - h v)^3) / 2h = c (3 x^2 v + h^2 v^3), summed
    ok_g, ok_n = rel(g_v, want_g) <= 1e-9, rel(n_v, want_n) <= 1e-8
    if ok_g and ok_n:
        return
    raw = np.random.default_rng(rng_seed).standard_normal(x.shape)
    if rel(g_v, float(np.sum(grad * raw))) <= 1e-6:
        raise Verdict(f"directional_check's direction is not a unit vector: divide v by "
                      f"its norm {where}")
    if not ok_g:
        if rel(g_v, want_g) <= 1e-5:
            raise Verdict(f"directional_check computes <grad, v> in float32; the part asks "
                          f"for float64 {where}")
        raise Verdict(f"directional_check's <grad, v> is wrong: v must be "
                      f"rng.standard_normal(x.shape) divided by its norm, drawn once {where}")
    if rel(n_v, float(np.sum(3 * c * x64 ** 2 * v))) <= 1e-8:
        raise Verdict(f"directional_check did not use its step h = {h} {where}")
    one_sided = float(np.sum(c * ((x64 + h * v) ** 3 - x64 ** 3))) / h
    if rel(n_v, one_sided) <= 1e-6:
        raise Verdict(f"directional_check's difference is one-sided; the part asks for the "
                      f"centered one, (L(x + h v) - L(x - h v)) / 2h {where}")
    if x.dtype == np.float32:
        plus, minus = ((x + (h * v).astype(np.float32)).astype(np.float64),
                       (x - (h * v).astype(np.float32)).astype(np.float64))
        rounded = float(np.sum(c * (plus ** 3 - minus ** 3))) / (2 * h)
        if rel(n_v, rounded) <= 1e-5 or rel(n_v, want_n) <= 1e-4:
            raise Verdict(f"directional_check perturbs x in float32 (relative error "
                          f"{rel(n_v, want_n):.1e}): the part asks for x + h v in float64 "
                          f"{where}")
    raise Verdict(f"directional_check's finite difference is wrong (relative error "
                  f"{rel(n_v, want_n):.1e}) {where}")


LABELS = {
    "right": "correct gradients",
    "dq": "an input_gradient that puts dq one pixel off",
    "dW": "a filter_gradient that forgets the batch sum",
    "db": "a bias_gradient that averages over the batch instead of summing",
}
LAYER = "q of shape (2, 2, h_in, w_in), W (3, 2, 3, 2), s = (2, 1), d = (1, 2)"


def _check_layer(layer, where):
    if not (isinstance(layer, np.ndarray) and layer.shape == (13,) and layer.dtype.kind
            in "iu"):
        raise Verdict(f"the hidden tests' record of the layer is malformed {where}")
    n_b, ch_in, h_in, w_in, ch_out, f_h, f_w, s_h, s_w, d_h, d_w, h_out, w_out = (
        int(n) for n in layer)
    if (n_b, ch_in, ch_out, f_h, f_w, s_h, s_w, d_h, d_w) != (2, 2, 3, 3, 2, 2, 1, 1, 2):
        raise Verdict(f"gradient_check's layer is not the one the part asks for ({LAYER}); "
                      f"it has q ({n_b}, {ch_in}, {h_in}, {w_in}), W ({ch_out}, {ch_in}, "
                      f"{f_h}, {f_w}), s = ({s_h}, {s_w}), d = ({d_h}, {d_w}) {where}")
    p_h = s_h * (h_out - 1) + d_h * (f_h - 1) + 1 - h_in
    p_w = s_w * (w_out - 1) + d_w * (f_w - 1) + 1 - w_in
    if h_in == w_in or min(h_out, w_out) < 2 or p_h % 2 == 0 or p_w % 2 == 0:
        raise Verdict(f"gradient_check's layer does not have what the part asks for: "
                      f"h_in != w_in, h_out, w_out >= 2, an odd padding along both axes (it "
                      f"has h_in, w_in = {h_in}, {w_in}, h_out = ({h_out}, {w_out}), p = "
                      f"({p_h}, {p_w})) {where}")


def _check_check(got, label, run, layer_seed, seed):
    variant = oracle.for_seed(seed).a2_variants[run]
    where = f"(gradient_check({layer_seed}), {label}, with {LABELS[variant]})"
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], np.ndarray)
            and got[0].shape == (3,)):
        raise Verdict(f"gradient_check returned something unexpected {where}")
    errors, layer = got
    shown = "{" + ", ".join(f"'{k}': {e:.1e}" for k, e in
                            zip(("dq", "dW", "db"), errors, strict=True)) + "}"
    if layer is None:
        raise Verdict(f"gradient_check did not call input_gradient {where}: call your "
                      "functions by their names (the grader swaps in its own)")
    _check_layer(layer, where)
    if not np.all(np.isfinite(errors)):
        raise Verdict(f"gradient_check returned errors that are not finite, {shown} {where}")
    if variant == "right":
        if not np.all(errors <= 1e-6):
            raise Verdict(f"with correct gradients and a correct directional_check, "
                          f"gradient_check reported errors {shown}: is the loss sum(z * G) "
                          f"with dz = G, z from conv_forward, and the error "
                          f"|g_v - n_v| / max(1e-8, |g_v| + |n_v|)? {where}")
        return
    key = {"dq": 0, "dW": 1, "db": 2}[variant]
    if not errors[key] > 1e-4:
        raise Verdict(f"gradient_check did not notice {LABELS[variant]}: it reported "
                      f"{KEYS[key]} error {errors[key]:.1e} {where}")
    others = [k for k in range(3) if k != key]
    if not np.all(errors[others] <= 1e-6):
        raise Verdict(f"gradient_check reported errors {shown} where only {KEYS[key]} is "
                      f"wrong: the other gradients are correct {where}")


KEYS = ("dq", "dW", "db")
