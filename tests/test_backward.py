"""Backward pass: naive == vectorized == chain rule of eq. (6) == finite differences, on every
case; the two dq routes, the eq. (15) dW route and eq. (16) agree with conv_backward."""

import numpy as np
import pytest
from reference import (
    assert_same,
    backward_ref,
    case_geometry,
    eq7_padding,
    eq8_split,
    finite_differences,
    pad_ref,
    read_mask,
)
from scipy.signal import correlate2d

from convlib import (
    bias_gradient,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    dilate,
    dilated_padded_dz,
    filter_gradient_dilated,
    input_gradient_col2im,
    input_gradient_rot180,
    prepare,
)

FD_TOL = 1e-7  # the bound for centered finite differences (CS231n's rel_error)
# The loss below is linear in each of q, W and b, so the truncation error of centered
# differences, O(h^2) times a third derivative, is exactly zero and only the rounding error
# O(eps |L| / h) is left. A step larger than the usual 1e-5 keeps that rounding error far
# below 1e-7 even for a gradient entry that happens to be tiny (the grid has one of about
# 8e-6, where h = 1e-5 gives a relative error of 1e-5 that says nothing about the code).
FD_STEP = 1e-2


def test_backward_matches_the_chain_rule_of_eq6(case):
    q, W, _, dz = case.arrays()
    _, pads = case_geometry(case)
    ref = backward_ref(dz, q, W, case.s, pads)
    naive = conv_backward_naive(dz, q, W, **case.kwargs)
    fast = conv_backward(dz, q, W, **case.kwargs)
    shapes = (q.shape, W.shape, (case.ch_out,))
    for name, r, n, v, shape in zip(("dq", "dW", "db"), ref, naive, fast, shapes, strict=True):
        assert n.shape == v.shape == shape, name
        assert n.dtype == v.dtype == np.float64, name
        assert_same(n, r, name)
        assert_same(v, r, name)
        assert_same(v, n, name)


def test_backward_matches_finite_differences(case):
    """Every gradient against centered differences of L = sum(dz * conv_forward(q, W, b))."""
    q, W, b, dz = case.arrays()
    dq, dW, db = conv_backward(dz, q, W, **case.kwargs)

    def loss_q(x):
        return np.sum(dz * conv_forward(x, W, b, **case.kwargs))

    def loss_W(x):
        return np.sum(dz * conv_forward(q, x, b, **case.kwargs))

    def loss_b(x):
        return np.sum(dz * conv_forward(q, W, x, **case.kwargs))

    assert_same(dq, finite_differences(loss_q, q, FD_STEP), "dq", FD_TOL)
    assert_same(dW, finite_differences(loss_W, W, FD_STEP), "dW", FD_TOL)
    assert_same(db, finite_differences(loss_b, b, FD_STEP), "db", FD_TOL)


def test_all_routes_agree_with_conv_backward(case):
    q, W, _, dz = case.arrays()
    dq, dW, db = conv_backward(dz, q, W, **case.kwargs)
    dq_col = input_gradient_col2im(dz, q, W, **case.kwargs)
    dq_rot = input_gradient_rot180(dz, q, W, **case.kwargs)
    dW_dil = filter_gradient_dilated(dz, q, W, **case.kwargs)
    for got in (dq_col, dq_rot):
        assert got.shape == q.shape
        assert_same(got, dq)
    assert_same(dq_col, dq_rot)
    assert dW_dil.shape == W.shape
    assert_same(dW_dil, dW)
    assert_same(bias_gradient(dz), db)


def test_unread_pixels_get_zero_gradient(case):
    """Pixels no window reads (leftover rows of a stride, cropped rows, gaps when s > f) do not
    influence z, so every route gives them exactly zero gradient."""
    q, W, _, dz = case.arrays()
    unread = ~read_mask(case)
    routes = [
        conv_backward(dz, q, W, **case.kwargs)[0],
        conv_backward_naive(dz, q, W, **case.kwargs)[0],
        input_gradient_col2im(dz, q, W, **case.kwargs),
        input_gradient_rot180(dz, q, W, **case.kwargs),
    ]
    for dq in routes:
        assert not dq[..., unread].any()
        # where windows do read, the gradient is (generically) not zero
        assert dq[..., ~unread].all()


@pytest.mark.parametrize(
    ("padding", "unread_rows"),
    [
        ((0, 0, 0, 0), [7]),  # PyTorch padding=0: 3 windows read rows 0-6, row 7 is left over
        ((2, 0, 0, 0), [7]),  # 10 padded rows, 4 windows read padded rows 0-8: row 7 is left
        ((1, 0, 0, 0), []),  # 9 padded rows, 4 windows read them all
        ((0, 1, 0, 0), []),  # the same with the pad row at the bottom
        ((1, 1, 0, 0), []),  # 4 windows read padded rows 0-8, only the bottom pad row is left
    ],
)
def test_leftover_rows_of_the_stride(padding, unread_rows):
    """h_in = 8, f = 3, s = 2 with explicit padding: exactly the input rows past the last
    window get zero dq, whatever the incoming dz; every other row gets some gradient."""
    rng = np.random.default_rng(5)
    q, W = rng.standard_normal((2, 2, 8, 5)), rng.standard_normal((2, 3, 3, 3))
    t, b = padding[:2]
    h_out = (8 + t + b - 3) // 2 + 1
    last_read = 2 * (h_out - 1) + 2 - t  # input row under the last window's bottom row
    assert [i for i in range(8) if i > last_read] == unread_rows
    dz = rng.standard_normal((2, 3, h_out, 2))  # w: (5 - 3) // 2 + 1
    for dq in (
        conv_backward(dz, q, W, s=2, padding=padding)[0],
        conv_backward_naive(dz, q, W, s=2, padding=padding)[0],
        input_gradient_col2im(dz, q, W, s=2, padding=padding),
        input_gradient_rot180(dz, q, W, s=2, padding=padding),
    ):
        assert not dq[:, :, unread_rows].any()
        assert dq[:, :, : last_read + 1].all()


def test_dilated_padded_dz(case):
    """dz_bar of eq. (29): dz dilated by s (s (h_out - 1) + 1 long), padded to h_in + f - 1
    with f - 1 - top before (eq. 25); with the eq. (7) padding p the total is 2 (f - 1) - p
    (eq. 24). With explicit padding that leaves rows unread the total is smaller by those."""
    q, W, _, dz = case.arrays()
    (ho, wo), pads = case_geometry(case)
    f, s = case.f, case.s
    layer = prepare(q, W, None, **case.kwargs)[3]
    assert (layer.h_out, layer.w_out, tuple(map(tuple, layer.pads))) == (ho, wo, pads)
    dz_bar = dilated_padded_dz(dz, layer)
    assert dz_bar.shape == (case.n_b, case.ch_out, case.h_in + f - 1, case.w_in + f - 1)
    back = []
    for n_in, n_out, (before, after) in zip((case.h_in, case.w_in), (ho, wo), pads, strict=True):
        total = n_in + f - 1 - (s * (n_out - 1) + 1)
        if case.padding is None:
            assert total == 2 * (f - 1) - eq7_padding(n_in, f, s, n_out)
            assert total == 2 * (f - 1) - (before + after)
        back.append((f - 1 - before, total - (f - 1 - before)))
    np.testing.assert_array_equal(dz_bar, pad_ref(dilate(dz, s), back))


def test_db_is_summed_over_batch_and_pixels(case):
    *_, dz = case.arrays()
    np.testing.assert_allclose(bias_gradient(dz), dz.sum(axis=(0, 2, 3)), rtol=1e-14)
    np.testing.assert_allclose(
        bias_gradient(dz), sum(dz[n].sum(axis=(1, 2)) for n in range(case.n_b)), rtol=1e-12
    )


def _eq29_scipy(dz, W, s, back, h_in, w_in):
    """Eq. (29) with scipy: dz dilated by s, padded by ``back``, cross-correlated (stride 1)
    with each filter rotated by 180 degrees, summed over the output channels."""
    dz_bar = pad_ref(dilate(dz, s), back)
    n_b, ch_out = dz.shape[:2]
    ch_in = W.shape[0]
    dq = np.zeros((n_b, ch_in, h_in, w_in))
    for n in range(n_b):
        for mu in range(ch_in):
            for nu in range(ch_out):
                dq[n, mu] += correlate2d(dz_bar[n, nu], W[mu, nu, ::-1, ::-1], mode="valid")
    return dq


def test_eq29_with_scipy_and_which_side_gets_the_extra_pixel(case):
    """Eq. (29) by scipy with the backward padding f - 1 - top before (eq. 25): it is dq.
    With the forward rule instead (ceil(p_back/2) before), an odd p shifts dq by one pixel."""
    q, W, _, dz = case.arrays()
    (ho, wo), pads = case_geometry(case)
    f, s = case.f, case.s
    dq = conv_backward(dz, q, W, **case.kwargs)[0]
    right, forward_rule = [], []
    for n_in, n_out, (before, _) in zip((case.h_in, case.w_in), (ho, wo), pads, strict=True):
        total = n_in + f - 1 - (s * (n_out - 1) + 1)
        right.append((f - 1 - before, total - (f - 1 - before)))
        forward_rule.append(eq8_split(total))
    assert_same(_eq29_scipy(dz, W, s, right, case.h_in, case.w_in), dq)
    if right != forward_rule:
        wrong = _eq29_scipy(dz, W, s, forward_rule, case.h_in, case.w_in)
        assert not np.allclose(wrong, dq)
    if case.padding is None:  # eq. 7 padding: the rules differ exactly when p is odd
        p_odd = [eq7_padding(case.h_in, f, s, ho) % 2, eq7_padding(case.w_in, f, s, wo) % 2]
        assert [r != w for r, w in zip(right, forward_rule, strict=True)] == [
            bool(x) for x in p_odd
        ]
