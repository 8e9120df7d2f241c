"""One geometry record and one meaning of padding (issue 16, items 12-13).

The expected values come from ``reference.py`` (eqs. 7-8 and the backward padding worked out
there by hand), never from convlib.
"""

import numpy as np
import pytest
from reference import geometry, pad_ref

import convlib as cl
from convlib import nn


@pytest.mark.parametrize(("h_in", "w_in", "f", "s", "h_out"),
                         [(7, 6, 3, 2, "same"), (5, 5, 3, 1, "full"), (8, 7, 2, 3, "valid"),
                          (6, 9, 4, 2, (4, 5))])
def test_the_record_carries_the_backward_padding(h_in, w_in, f, s, h_out):
    g = cl.layer_geometry(h_in, w_in, f, s, h_out)
    assert isinstance(g, cl.Geometry)
    (ho, wo), pads = geometry(h_in, w_in, f, s, h_out)
    assert (g.h_out, g.w_out) == (ho, wo) and g.pads == pads
    # eq. 29: the dilated dz, s (h_out - 1) + 1 long, padded to h_in + f - 1, f - 1 - top first
    for (before, after), n, n_out, (top, _) in zip(g.back_pads, (h_in, w_in), (ho, wo), pads,
                                                    strict=True):
        assert before == f - 1 - top
        assert before + s * (n_out - 1) + 1 + after == n + f - 1


@pytest.mark.parametrize("sides", [(1, 0, 2, 1), (0, 2, -1, 1)])
def test_padding_has_one_meaning(sides):
    """Four numbers mean the sides (top, bottom, left, right) wherever a padding is taken."""
    t, b, l, r = sides
    rng = np.random.default_rng(0)
    q, W = rng.normal(size=(2, 2, 6, 7)), rng.normal(size=(2, 3, 3, 3))
    want = pad_ref(q, ((t, b), (l, r)))
    np.testing.assert_array_equal(cl.pad(q, sides), want)
    np.testing.assert_array_equal(cl.pad(q, np.array(sides)), want)
    U = cl.im2col(q, 3, 2, sides)
    np.testing.assert_array_equal(U, cl.im2col(q, 3, 2, ((t, b), (l, r))))
    z = cl.conv_forward(q, W, None, 2, padding=sides)
    np.testing.assert_allclose(z, cl.conv_forward(q, W, None, 2, padding=((t, b), (l, r))))
    ones = np.ones_like(U)
    assert cl.col2im(ones, q.shape, 3, 2, sides).shape == q.shape


def test_an_explicit_padding_is_the_sides_only():
    with pytest.raises(ValueError, match="a total p split by eq. 8 is given through h_out"):
        cl.conv_forward(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=1)


def test_pooling_and_the_gradient_check_build_on_the_core(monkeypatch):
    """Pooling gathers with im2col and scatters with col2im (no scatter of its own);
    nn.gradient_check differentiates with numerical_gradient."""
    calls = []
    for name in ("im2col", "col2im", "numerical_gradient"):
        real = getattr(nn, name)
        monkeypatch.setattr(nn, name, lambda *a, _real=real, _name=name, **k:
                            calls.append(_name) or _real(*a, **k))
    pool = nn.MaxPool2d(2)
    y = pool.forward(np.arange(32.0).reshape(1, 2, 4, 4))
    pool.backward(np.ones_like(y))
    assert calls.count("im2col") >= 1 and calls.count("col2im") >= 1
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, rng=0))
    nn.gradient_check(net, np.ones((2, 1, 2, 2)), np.array([0, 2]))
    assert calls.count("numerical_gradient") == 2  # one per parameter
    assert not hasattr(nn._Pool2d, "_scatter")
