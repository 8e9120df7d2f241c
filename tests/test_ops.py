"""dilate, rot180, windows, im2col (entries of its docstring formula) and col2im (adjoint)."""

import itertools

import numpy as np
import pytest
from reference import case_geometry, pad_ref

from convlib import col2im, dilate, im2col, input_rows, rot180, windows

RNG_SEED = 20240601


@pytest.mark.parametrize("s", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (2, 3, 4, 1), (2, 1, 5, 3)])
def test_dilate(s, shape):
    x = np.random.default_rng(RNG_SEED).standard_normal(shape)
    h, w = shape[-2:]
    out = dilate(x, s)
    # size s (h - 1) + 1 (the notes print h (s + 1) - 1, see the errata)
    assert out.shape == shape[:-2] + (s * (h - 1) + 1, s * (w - 1) + 1)
    for i, j in itertools.product(range(out.shape[-2]), range(out.shape[-1])):
        if i % s == 0 and j % s == 0:
            np.testing.assert_array_equal(out[..., i, j], x[..., i // s, j // s])
        else:
            assert not out[..., i, j].any()
    assert out.sum() == pytest.approx(x.sum())


def test_dilate_example_and_dtype():
    np.testing.assert_array_equal(
        dilate(np.array([[1, 2], [3, 4]]), 2), [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    )
    assert dilate(np.ones((2, 2), dtype=np.float32), 3).dtype == np.float32


def test_dilate_stride_1_is_a_copy():
    x = np.ones((2, 3))
    out = dilate(x, 1)
    np.testing.assert_array_equal(out, x)
    out[0, 0] = 7
    assert x[0, 0] == 1


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
def test_rot180(f):
    W = np.random.default_rng(f).standard_normal((2, 3, f, f))
    R = rot180(W)
    for a, b in itertools.product(range(f), repeat=2):
        np.testing.assert_array_equal(R[..., a, b], W[..., f - 1 - a, f - 1 - b])
    np.testing.assert_array_equal(rot180(R), W)  # an involution
    np.testing.assert_array_equal(R[0, 1], np.rot90(W[0, 1], 2))
    R[0, 0, 0, 0] += 1  # a new array, not a view of W
    assert R[0, 0, 0, 0] != W[0, 0, -1, -1]


def _padded(case):
    q = case.arrays()[0]
    (ho, wo), pads = case_geometry(case)
    return pad_ref(q, pads), ho, wo


def test_windows_entries(case):
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    v = windows(q_bar, f, s)
    assert v.shape == q_bar.shape[:2] + (ho, wo, f, f)
    for i, j in itertools.product(range(ho), range(wo)):
        np.testing.assert_array_equal(
            v[:, :, i, j], q_bar[:, :, i * s : i * s + f, j * s : j * s + f]
        )


def test_im2col_entries_match_its_docstring(case):
    """Q[(mu, a, b), (n, i, j)] == q_bar[n, mu, i s + a, j s + b], gathered from q and pads."""
    q = case.arrays()[0]
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    Q = im2col(q, f, s, case_geometry(case)[1])
    assert Q.shape == (case.ch_in * f * f, case.n_b * ho * wo)
    Q6 = Q.reshape(case.ch_in, f, f, case.n_b, ho, wo)
    for i, j, a, b in itertools.product(range(ho), range(wo), range(f), range(f)):
        np.testing.assert_array_equal(
            Q6[:, a, b, :, i, j].T, q_bar[:, :, i * s + a, j * s + b]
        )


def test_im2col_is_the_notes_eq34_tensor_transposed(case):
    """Eq. (34)'s (n_b, ch_in, h_out w_out, f^2) from the strided view of the padded input."""
    q = case.arrays()[0]
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    eq34 = windows(q_bar, f, s).reshape(case.n_b, case.ch_in, ho * wo, f * f)
    Q = im2col(q, f, s, case_geometry(case)[1])
    np.testing.assert_array_equal(
        Q.reshape(case.ch_in, f * f, case.n_b, ho * wo).transpose(2, 0, 3, 1), eq34
    )


def test_im2col_rows_and_out_give_the_same_band(case):
    """A band of output rows, gathered into a reused buffer, is that band of the whole."""
    q = case.arrays()[0]
    _, ho, wo = _padded(case)
    pads = case_geometry(case)[1]
    f, s = case.f, case.s
    whole = im2col(q, f, s, pads).reshape(-1, case.n_b, ho, wo)
    buffer = np.full(whole.size + 5, np.nan)
    for i0 in range(ho):
        for i1 in range(i0 + 1, ho + 1):
            band = im2col(q, f, s, pads, rows=(i0, i1), out=buffer)
            assert np.shares_memory(band, buffer)
            np.testing.assert_array_equal(
                band.reshape(-1, case.n_b, i1 - i0, wo), whole[:, :, i0:i1]
            )


def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), y> == <x, col2im(y)> for random x and y, whole and in bands of rows."""
    _, ho, wo = _padded(case)
    pads = case_geometry(case)[1]
    f, s = case.f, case.s
    rng = np.random.default_rng(RNG_SEED)
    shape = (case.n_b, case.ch_in, case.h_in, case.w_in)
    x = rng.standard_normal(shape)
    y = rng.standard_normal((case.ch_in * f * f, case.n_b * ho * wo))
    lhs = np.vdot(im2col(x, f, s, pads), y)
    rhs = np.vdot(x, col2im(y, shape, f, s, pads))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
    top = pads[0][0]
    for i0, i1 in [(0, 1), (ho - 1, ho), (0, ho)]:
        yb = rng.standard_normal((case.ch_in * f * f, case.n_b * (i1 - i0) * wo))
        r_lo, r_hi = input_rows(case.h_in, f, s, top, (i0, i1))
        band = col2im(yb, shape, f, s, pads, rows=(i0, i1))
        assert band.shape == (case.n_b, case.ch_in, r_hi - r_lo, case.w_in)
        lhs = np.vdot(im2col(x, f, s, pads, rows=(i0, i1)), yb)
        assert lhs == pytest.approx(np.vdot(x[:, :, r_lo:r_hi], band), rel=1e-12, abs=1e-12)


def test_col2im_of_ones_counts_the_windows(case):
    """Scatter-adding ones gives how many windows read each pixel (zero where none does)."""
    q_bar, ho, wo = _padded(case)
    pads = case_geometry(case)[1]
    f, s = case.f, case.s
    shape = (case.n_b, case.ch_in, case.h_in, case.w_in)
    counts = col2im(np.ones((case.ch_in * f * f, case.n_b * ho * wo)), shape, f, s, pads)
    expected = np.zeros(q_bar.shape[-2:])
    for i, j in itertools.product(range(ho), range(wo)):
        expected[i * s : i * s + f, j * s : j * s + f] += 1
    (t, b), (l, r) = pads
    expected = np.pad(expected, ((max(-t, 0), max(-b, 0)), (max(-l, 0), max(-r, 0))))
    expected = expected[max(t, 0) : expected.shape[0] - max(b, 0),
                        max(l, 0) : expected.shape[1] - max(r, 0)]
    np.testing.assert_array_equal(counts, np.broadcast_to(expected, shape))


def test_col2im_adds_into_out():
    """With ``out`` the scatter adds (a chunk never overwrites what another chunk put there)."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((27, 2 * 4 * 3))
    out = np.ones((2, 3, 6, 5))
    col2im(y, x.shape, 3, 1, ((0, 0), (0, 0)), out=out)
    np.testing.assert_allclose(out, 1 + col2im(y, x.shape, 3, 1, 0))


def test_col2im_shape_error():
    with pytest.raises(ValueError, match=r"dU must have shape \(9, 9\)"):
        col2im(np.ones((1, 1, 4, 9)), (1, 1, 5, 5), 3, 1)
    with pytest.raises(ValueError, match=r"out must have shape \(1, 1, 5, 5\)"):
        col2im(np.ones((9, 9)), (1, 1, 5, 5), 3, 1, out=np.zeros((1, 1, 5, 4)))


def test_im2col_errors_name_the_parameter():
    q = np.ones((1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"q must be 4-D"):
        im2col(np.ones((5, 5)), 3)
    with pytest.raises(ValueError, match=r"filter \(f=7\) is bigger than the padded input"):
        im2col(q, 7, 1, 1)
    with pytest.raises(ValueError, match=r"rows must be \(i0, i1\)"):
        im2col(q, 3, 1, rows=(2, 9))
    with pytest.raises(ValueError, match=r"out must be a C-contiguous float64 array"):
        im2col(q, 3, 1, out=np.empty(3))
