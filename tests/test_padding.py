"""Output size and padding: the modes' formulas, eq. (7), eq. (8), pad, backward padding."""

import itertools

import numpy as np
import pytest
from reference import case_geometry, eq7_padding, eq8_split, mode_size, pad_ref

from convlib import (
    backward_padding,
    layer_geometry,
    output_size,
    pad,
    padding_amount,
    split_padding,
)

SIZES = list(itertools.product(range(1, 12), range(1, 6), range(1, 5)))  # h_in, f, s


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_output_size_matches_the_issue_formulas(mode):
    for h_in, f, s in SIZES:
        if mode == "valid" and f > h_in:
            continue
        assert output_size(h_in, f, s, mode) == mode_size(h_in, f, s, mode), (h_in, f, s)


def test_output_size_mode_meanings():
    for h_in, f, s in SIZES:
        same = output_size(h_in, f, s, "same")
        assert same * s >= h_in > (same - 1) * s  # ceil(h_in / s)
        full = output_size(h_in, f, s, "full")
        # at most f - 1 pad rows on each side: the first and the last window each overlap
        # the image by at least one row
        assert max(eq8_split(eq7_padding(h_in, f, s, full))) <= f - 1
        if f <= h_in:
            valid = output_size(h_in, f, s, "valid")
            assert (valid - 1) * s + f <= h_in < valid * s + f  # every window inside


def test_padding_amount_is_eq7():
    """Eq. (7): the padded input is exactly s (h_out - 1) + f long."""
    for (h_in, f, s), h_out in itertools.product(SIZES, range(1, 8)):
        p = padding_amount(h_in, f, s, h_out)
        assert h_in + p == s * (h_out - 1) + f
        assert (h_in + p - f) // s + 1 == h_out  # eq. 7 read forwards
        assert p == eq7_padding(h_in, f, s, h_out)


def test_same_mode_padding_is_at_most_f_minus_1():
    for h_in, f, s in SIZES:
        p = padding_amount(h_in, f, s, output_size(h_in, f, s, "same"))
        assert p <= f - 1


@pytest.mark.parametrize("p", range(-9, 10))
def test_split_padding_is_eq8(p):
    before, after = split_padding(p)
    assert before + after == p
    assert before - after in (0, 1)  # the extra pixel goes top/left
    assert (before, after) == eq8_split(p)
    assert isinstance(before, int) and isinstance(after, int)


def test_split_padding_examples():
    assert split_padding(0) == (0, 0)
    assert split_padding(3) == (2, 1)
    assert split_padding(4) == (2, 2)
    assert split_padding(-3) == (-1, -2)


@pytest.mark.parametrize("p", [0, 1, 2, 3, -1, -2, -3, (2, -1), (0, 3), (-2, 1)])
def test_pad_total_per_axis(p):
    q = np.arange(2 * 3 * 6 * 5, dtype=float).reshape(2, 3, 6, 5)
    ph, pw = p if isinstance(p, tuple) else (p, p)
    out = pad(q, p)
    assert out.shape == (2, 3, 6 + ph, 5 + pw)
    np.testing.assert_array_equal(out, pad_ref(q, (eq8_split(ph), eq8_split(pw))))


@pytest.mark.parametrize("sides", [((0, 0), (0, 0)), ((1, 0), (0, 2)), ((-1, 2), (3, -2))])
def test_pad_explicit_sides(sides):
    q = np.arange(4 * 7, dtype=float).reshape(4, 7)
    out = pad(q, sides)
    np.testing.assert_array_equal(out, pad_ref(q, sides))


def test_pad_keeps_a_copy_and_the_dtype():
    q = np.ones((3, 3), dtype=np.float32)
    out = pad(q, 0)
    assert out.dtype == np.float32
    out[0, 0] = 5
    assert q[0, 0] == 1


def test_pad_crop_too_much():
    with pytest.raises(ValueError, match="crops more"):
        pad(np.ones((3, 3)), -4)


def test_layer_geometry_on_the_grid(case):
    L = layer_geometry(case.h_in, case.w_in, case.f, case.s, case.h_out, case.padding,
                       n_b=case.n_b, ch_in=case.ch_in, ch_out=case.ch_out)
    assert ((L.h_out, L.w_out), L.pads) == case_geometry(case)
    assert (L.n_b, L.ch_in, L.ch_out, L.h_in, L.w_in, L.f, L.s) == (
        case.n_b, case.ch_in, case.ch_out, case.h_in, case.w_in, case.f, case.s)
    assert (L.top, L.left) == (L.pads[0][0], L.pads[1][0])


def test_layer_geometry_accepts_a_consistent_h_out_with_padding():
    L = layer_geometry(7, 7, 3, 2, (4, 4), (1, 1, 1, 1))
    assert (L.h_out, L.w_out) == (4, 4)
    with pytest.raises(ValueError, match="h_out"):
        layer_geometry(7, 7, 3, 2, 5, (1, 1, 1, 1))


@pytest.mark.parametrize("h_out", [np.int64(3), np.array(3), np.array([3, 2]), [np.int32(3), 2]])
def test_integer_arrays_are_accepted_wherever_lists_are(h_out):
    L = layer_geometry(7, 6, 3, 2, h_out)
    expected = (3, 3) if np.ndim(h_out) == 0 else (3, 2)
    assert (L.h_out, L.w_out) == expected
    P = layer_geometry(7, 6, 3, 2, padding=np.array([1, 1, 0, 1]))
    assert P.pads == ((1, 1), (0, 1))
    np.testing.assert_array_equal(pad(np.ones((2, 2)), np.array([[1, 0], [0, 1]])),
                                  pad(np.ones((2, 2)), ((1, 0), (0, 1))))


@pytest.mark.parametrize("h_out", [10**5, 10**40, (3, 10**5)])
def test_absurd_h_out_is_refused_up_front(h_out):
    """Beyond the 'full' size windows read only padding; refused before any allocation."""
    with pytest.raises(ValueError, match=r"h_out=.* is too large along the (height|width)"):
        layer_geometry(8, 8, 3, 1, h_out)


def test_full_size_is_the_largest_accepted_h_out():
    for h_in, f, s in itertools.product(range(1, 8), range(1, 5), range(1, 5)):
        full = output_size(h_in, f, s, "full")
        assert layer_geometry(h_in, h_in, f, s, full).h_out == full
        with pytest.raises(ValueError, match="too large"):
            layer_geometry(h_in, h_in, f, s, full + 1)


def test_backward_padding_sums_to_2f_minus_2_minus_p():
    """Eq. (24), with p the forward padding of eq. (7), and the before part of eq. (25)."""
    for (h_in, f, s), h_out in itertools.product(SIZES, range(1, 8)):
        p = eq7_padding(h_in, f, s, h_out)
        before = eq8_split(p)[0]
        back_before, back_after = backward_padding(h_in, f, s, h_out, before)
        assert back_before + back_after == 2 * (f - 1) - p
        assert back_before == f - 1 - before
        # the padded dilated dz is h_in + f - 1 long, so a stride-1 f-wide
        # cross-correlation returns h_in rows
        assert s * (h_out - 1) + 1 + back_before + back_after == h_in + f - 1
