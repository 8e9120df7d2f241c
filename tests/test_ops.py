"""dilate, rot180, windows, im2col (entries of its docstring formula) and col2im (adjoint)."""

import itertools

import numpy as np
import pytest
from reference import case_geometry, pad_ref

from convlib import col2im, dilate, im2col, rot180, windows

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
    """Q[n, mu, i * w_out + j, a * f + b] == q_bar[n, mu, i * s + a, j * s + b]."""
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    Q = im2col(q_bar, f, s)
    assert Q.shape == (case.n_b, case.ch_in, ho * wo, f * f)
    for i, j, a, b in itertools.product(range(ho), range(wo), range(f), range(f)):
        np.testing.assert_array_equal(
            Q[:, :, i * wo + j, a * f + b], q_bar[:, :, i * s + a, j * s + b]
        )


def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), y> == <x, col2im(y)> for random x and y."""
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(q_bar.shape)
    y = rng.standard_normal((case.n_b, case.ch_in, ho * wo, f * f))
    lhs = np.vdot(im2col(x, f, s), y)
    rhs = np.vdot(x, col2im(y, x.shape, f, s))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_col2im_of_ones_counts_the_windows(case):
    """Scatter-adding ones gives how many windows read each pixel (zero where none does)."""
    q_bar, ho, wo = _padded(case)
    f, s = case.f, case.s
    counts = col2im(np.ones((case.n_b, case.ch_in, ho * wo, f * f)), q_bar.shape, f, s)
    expected = np.zeros(q_bar.shape[-2:])
    for i, j in itertools.product(range(ho), range(wo)):
        expected[i * s : i * s + f, j * s : j * s + f] += 1
    np.testing.assert_array_equal(counts, np.broadcast_to(expected, q_bar.shape))


def test_col2im_shape_error():
    with pytest.raises(ValueError, match="Q must have shape"):
        col2im(np.ones((1, 1, 4, 9)), (1, 1, 5, 5), 3, 1)
