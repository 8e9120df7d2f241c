"""Random layer shapes (hypothesis): the same identities as on the grid.

Deterministic for CI: ``derandomize=True`` (examples derived from the test itself, no
database), a moderate ``max_examples``, no deadline (the naive loops vary in speed).
"""

import numpy as np
import pytest
from cases import Case
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import (
    assert_same,
    backward_ref,
    case_geometry,
    eq7_padding,
    eq8_split,
    forward_ref,
    forward_scipy,
    pad_ref,
    read_mask,
)

from convlib import (
    col2im,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
    filter_gradient_dilated,
    im2col,
    input_gradient_col2im,
    input_gradient_rot180,
    layer_geometry,
    pad,
    padding_amount,
    split_padding,
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def layers(draw):
    """A small layer: n_b 1-4, channels 1-3, images up to 9 x 9, f 1-5, s 1-4, and its output
    size given by a mode, an int, an (h, w) pair or an explicit (top, bottom, left, right)."""
    n_b = draw(st.integers(1, 4))
    ch_in, ch_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h_in, w_in = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    f, s = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    how = draw(st.sampled_from(["valid", "same", "full", "int", "pair", "padding"]))
    if how == "valid":
        assume(f <= h_in and f <= w_in)
    h_out, padding = how, None
    # an int or pair up to the 'full' size (beyond it windows read only padding: refused)
    full_h, full_w = (h_in + f - 2) // s + 1, (w_in + f - 2) // s + 1
    if how == "int":
        h_out = draw(st.integers(1, min(5, full_h, full_w)))
    elif how == "pair":
        h_out = (draw(st.integers(1, min(5, full_h))), draw(st.integers(1, min(5, full_w))))
    elif how == "padding":
        h_out = "valid"
        padding = tuple(draw(st.integers(-2, 3)) for _ in range(4))
        t, b, l, r = padding
        assume(h_in + t + b >= f and w_in + l + r >= f)
    return Case(n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, padding)


@pytest.mark.slow  # over 2 s on 2 cores (the naive loops)
@SETTINGS
@given(case=layers(), seed=st.integers(0, 2**16))
def test_forward_random(case, seed):
    q, W, b, _ = case.arrays(seed=seed)
    sizes, pads = case_geometry(case)
    ref = forward_ref(q, W, b, case.s, sizes, pads)
    assert_same(forward_scipy(q, W, b, case.s, sizes, pads), ref)
    assert_same(conv_forward_naive(q, W, b, **case.kwargs), ref)
    assert_same(conv_forward(q, W, b, **case.kwargs), ref)


@pytest.mark.slow  # over 2 s on 2 cores (the naive loops)
@SETTINGS
@given(case=layers(), seed=st.integers(0, 2**16))
def test_backward_random(case, seed):
    q, W, _, dz = case.arrays(seed=seed)
    _, pads = case_geometry(case)
    ref = backward_ref(dz, q, W, case.s, pads)
    naive = conv_backward_naive(dz, q, W, **case.kwargs)
    fast = conv_backward(dz, q, W, **case.kwargs)
    for r, n, v in zip(ref, naive, fast, strict=True):
        assert_same(n, r)
        assert_same(v, r)
    dq = fast[0]
    assert_same(input_gradient_col2im(dz, q, W, **case.kwargs), dq)
    assert_same(input_gradient_rot180(dz, q, W, **case.kwargs), dq)
    assert_same(filter_gradient_dilated(dz, q, W, **case.kwargs), fast[1])
    assert not dq[..., ~read_mask(case)].any()


@SETTINGS
@given(case=layers(), seed=st.integers(0, 2**16))
def test_geometry_and_col2im_adjoint_random(case, seed):
    sizes, pads = case_geometry(case)
    L = layer_geometry(case.h_in, case.w_in, case.f, case.s, case.h_out, case.padding)
    assert ((L.h_out, L.w_out), L.pads) == (sizes, pads)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case.n_b, case.ch_in, case.h_in, case.w_in))
    y = rng.standard_normal((case.ch_in * case.f**2, case.n_b * sizes[0] * sizes[1]))
    lhs = np.vdot(im2col(x, case.f, case.s, pads), y)
    rhs = np.vdot(x, col2im(y, x.shape, case.f, case.s, pads))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    h_in=st.integers(1, 40),
    f=st.integers(1, 9),
    s=st.integers(1, 6),
    h_out=st.integers(1, 40),
)
def test_padding_eqs_7_and_8_random(h_in, f, s, h_out):
    p = padding_amount(h_in, f, s, h_out)
    assert p == eq7_padding(h_in, f, s, h_out)
    assert h_in + p == s * (h_out - 1) + f
    assert split_padding(p) == eq8_split(p)
    if h_in + p >= 1 and min(split_padding(p)) > -h_in:
        q = np.arange(h_in * 3.0).reshape(h_in, 3)
        np.testing.assert_array_equal(pad(q, (p, 0)), pad_ref(q, (eq8_split(p), (0, 0))))
