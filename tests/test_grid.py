"""The shared grid really covers what the issue asks for (and is itself consistent)."""

from cases import CASES, EXPLICIT
from reference import case_geometry, eq7_padding, read_mask


def _total_paddings():
    """Every per-axis total padding of the grid (eq. 7, or top + bottom when explicit)."""
    out = []
    for c in CASES:
        (ho, wo), ((t, b), (l, r)) = case_geometry(c)
        out += [t + b, l + r]
    return out


def test_strides_filters_batches():
    assert {c.s for c in CASES} >= {1, 2, 3, 4}
    assert {c.f for c in CASES} >= {1, 2, 3, 4, 5}
    assert {c.n_b for c in CASES} >= {1, 2, 3, 4}


def test_channels_differ_and_images_are_rectangular_and_small():
    assert all(c.ch_in != c.ch_out for c in CASES)
    assert sum(c.h_in != c.w_in for c in CASES) >= len(CASES) // 2
    assert all(c.h_in <= 9 and c.w_in <= 9 and max(c.ch_in, c.ch_out) <= 3 for c in CASES)


def test_total_padding_even_odd_zero_negative():
    ps = _total_paddings()
    assert any(p == 0 for p in ps)
    assert any(p > 0 and p % 2 == 0 for p in ps)
    assert any(p > 0 and p % 2 == 1 for p in ps)
    assert any(p < 0 and p % 2 == 0 for p in ps)
    assert any(p < 0 and p % 2 == 1 for p in ps)


def test_every_way_of_giving_the_output_size():
    kinds = {type(c.h_out).__name__ if c.padding is None else "padding" for c in CASES}
    assert kinds == {"str", "int", "tuple", "padding"}
    assert {c.h_out for c in CASES if isinstance(c.h_out, str)} == {"valid", "same", "full"}
    # an (h, w) pair whose two axes get paddings of different parity
    assert any(
        isinstance(c.h_out, tuple)
        and eq7_padding(c.h_in, c.f, c.s, c.h_out[0]) % 2
        != eq7_padding(c.w_in, c.f, c.s, c.h_out[1]) % 2
        for c in CASES
    )


def test_explicit_padding_asymmetric_negative_and_unread_rows():
    assert any(c.padding[0] != c.padding[1] for c in EXPLICIT)
    assert any(min(c.padding) < 0 for c in EXPLICIT)
    # some input pixels that no window reads although the padding does not crop them
    assert any(min(c.padding) >= 0 and not read_mask(c).all() for c in EXPLICIT)


def test_every_case_has_a_valid_output():
    for c in CASES:
        (ho, wo), ((t, b), (l, r)) = case_geometry(c)
        assert ho >= 1 and wo >= 1
        assert c.h_in + t + b >= c.f and c.w_in + l + r >= c.f
