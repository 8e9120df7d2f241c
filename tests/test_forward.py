"""Forward pass: naive == vectorized == eq. (6) by brute force == scipy, on every case."""

import numpy as np
import pytest
from reference import assert_same, case_geometry, forward_ref, forward_scipy
from scipy.signal import correlate2d

from convlib import conv_forward, conv_forward_naive


def test_forward_matches_references(case):
    q, W, b, _ = case.arrays()
    sizes, pads = case_geometry(case)
    brute = forward_ref(q, W, b, case.s, sizes, pads)
    scipy_z = forward_scipy(q, W, b, case.s, sizes, pads)
    naive = conv_forward_naive(q, W, b, **case.kwargs)
    fast = conv_forward(q, W, b, **case.kwargs)
    assert brute.shape == (case.n_b, case.ch_out, *sizes)
    for z in (naive, fast):
        assert z.shape == brute.shape and z.dtype == np.float64
    assert_same(brute, scipy_z)
    assert_same(naive, brute)
    assert_same(fast, brute)
    assert_same(fast, naive)


@pytest.mark.parametrize("s", [1, 2, 3, 4])
@pytest.mark.parametrize("f", [1, 2, 3, 5])
def test_single_channel_is_scipy_correlate2d(f, s):
    """ch_in = ch_out = n_b = 1, no padding: z is correlate2d(q, W, 'valid') every s-th pixel."""
    rng = np.random.default_rng(10 * f + s)
    q = rng.standard_normal((1, 1, 9, 7))
    W = rng.standard_normal((1, 1, f, f))
    expected = correlate2d(q[0, 0], W[0, 0], mode="valid")[::s, ::s] + 0.5
    for fn in (conv_forward, conv_forward_naive):
        z = fn(q, W, np.array([0.5]), s=s, padding=(0, 0, 0, 0))
        np.testing.assert_allclose(z[0, 0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s", [1, 2, 3, 4])
@pytest.mark.parametrize("f", [1, 2, 3, 5])
def test_single_channel_valid_mode_crops_by_eq8(f, s):
    """"valid" fixes h_out = floor((h_in - f)/s) + 1; when s does not divide h_in - f, eq. (7)
    gives p < 0 and eq. (8) crops ceil(p/2) rows at the top, floor(p/2) at the bottom."""
    rng = np.random.default_rng(10 * f + s)
    q = rng.standard_normal((1, 1, 9, 7))
    W = rng.standard_normal((1, 1, f, f))
    h_out, w_out = (9 - f) // s + 1, (7 - f) // s + 1
    ph, pw = s * (h_out - 1) + f - 9, s * (w_out - 1) + f - 7
    top, left = -(-ph // 2), -(-pw // 2)
    cropped = q[0, 0, -top : 9 - top + ph, -left : 7 - left + pw]
    expected = correlate2d(cropped, W[0, 0], mode="valid")[::s, ::s]
    for fn in (conv_forward, conv_forward_naive):
        z = fn(q, W, np.zeros(1), s=s)
        assert z.shape == (1, 1, h_out, w_out)
        np.testing.assert_allclose(z[0, 0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s", [1, 2, 3])
def test_single_channel_same_is_scipy_on_the_eq8_padded_image(s):
    """"same" pads by eqs. (7)-(8): ceil(p/2) top/left, floor(p/2) bottom/right."""
    rng = np.random.default_rng(s)
    q = rng.standard_normal((1, 1, 8, 7))
    W = rng.standard_normal((1, 1, 4, 4))
    h_out, w_out = -(-8 // s), -(-7 // s)
    ph, pw = s * (h_out - 1) + 4 - 8, s * (w_out - 1) + 4 - 7
    q_bar = np.pad(q[0, 0], [(-(-ph // 2), ph // 2), (-(-pw // 2), pw // 2)])
    expected = correlate2d(q_bar, W[0, 0], mode="valid")[::s, ::s]
    z = conv_forward(q, W, np.zeros(1), s=s, h_out="same")
    assert z.shape == (1, 1, h_out, w_out)
    np.testing.assert_allclose(z[0, 0], expected, rtol=1e-12, atol=1e-12)


def test_bias_is_added_to_every_pixel_of_its_channel(case):
    q, W, b, _ = case.arrays()
    z0 = conv_forward(q, W, np.zeros_like(b), **case.kwargs)
    z1 = conv_forward(q, W, b, **case.kwargs)
    np.testing.assert_allclose(z1 - z0, np.broadcast_to(b[None, :, None, None], z0.shape),
                               atol=1e-12)


def test_forward_is_linear_in_q_and_in_W(case):
    q, W, b, _ = case.arrays()
    q2, W2, _, _ = case.arrays(seed=1)
    zero = np.zeros_like(b)
    z = conv_forward(q + 2 * q2, W, zero, **case.kwargs)
    np.testing.assert_allclose(
        z,
        conv_forward(q, W, zero, **case.kwargs) + 2 * conv_forward(q2, W, zero, **case.kwargs),
        atol=1e-11,
    )
    z = conv_forward(q, W - W2, zero, **case.kwargs)
    np.testing.assert_allclose(
        z, conv_forward(q, W, zero, **case.kwargs) - conv_forward(q, W2, zero, **case.kwargs),
        atol=1e-11,
    )


def test_explicit_padding_equals_the_eq8_split_when_they_agree():
    rng = np.random.default_rng(3)
    q, W, b = rng.standard_normal((2, 2, 7, 8)), rng.standard_normal((2, 3, 4, 4)), np.ones(3)
    # "same" with s = 2: h_out = 4 -> p = 6 + 4 - 7 = 3 -> (2, 1); w_out = 4 -> p = 2 -> (1, 1)
    np.testing.assert_allclose(
        conv_forward(q, W, b, s=2, h_out="same"),
        conv_forward(q, W, b, s=2, padding=(2, 1, 1, 1)),
        rtol=1e-14,
    )
