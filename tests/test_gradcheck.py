"""convlib's gradient-checking helpers: numerical_gradient, rel_error and check."""

import numpy as np
import pytest
from reference import finite_differences

from convlib import check, numerical_gradient, rel_error


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4))
    grad = numerical_gradient(lambda v: np.sum(v**3) + np.sum(np.sin(v)), x)
    exact = 3 * x**2 + np.cos(x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert rel_error(grad, exact) < 1e-8


def test_numerical_gradient_is_centered_differences():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2))
    A = rng.standard_normal((2, 3, 2))

    def loss(v):
        return np.sum(A * v**2)

    np.testing.assert_array_equal(numerical_gradient(loss, x), finite_differences(loss, x))
    np.testing.assert_array_equal(
        numerical_gradient(loss, x, h=1e-3), finite_differences(loss, x, h=1e-3)
    )


def test_numerical_gradient_does_not_modify_x_and_accepts_float32_and_ints():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        numerical_gradient(lambda v: np.sum(v**2), np.arange(4)), 2 * np.arange(4), atol=1e-8
    )


def test_rel_error_is_cs231n():
    x = np.array([1.0, -2.0, 0.0, 1e-10])
    y = np.array([1.1, -2.0, 0.0, 0.0])
    expected = max(0.1 / 2.1, 0.0, 0.0, 1e-10 / 1e-8)  # max(1e-8, |x| + |y|) below
    assert rel_error(x, y) == pytest.approx(expected, rel=1e-12)
    assert rel_error(x, x) == 0.0
    assert rel_error(x, y) == rel_error(y, x)
    assert isinstance(rel_error(x, y), float)
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(3), np.zeros(4))


def test_check_prints_one_stable_line():
    a = np.array([1.0, 2.0, 3.0])
    assert str(check("same", a, a)) == (
        "same: relative error = 0 -> agree (tolerance 1e-07)"
    )
    tiny = check("tiny", a, a * (1 + 3.1e-16 * np.array([0, 0, 1])))
    line = str(tiny)
    assert line.startswith("tiny: relative error < 1e-1") and line.endswith(
        "-> agree (tolerance 1e-07)"
    )
    assert "3.1" not in line and "e-16" not in line  # no raw float that depends on the BLAS
    assert bool(tiny) and repr(tiny) == line


def test_check_disagree_and_tolerance():
    a, b = np.array([1.0]), np.array([1.1])
    c = check("far", a, b)
    assert not c
    assert str(c) == "far: relative error = 0.048 -> DISAGREE (tolerance 1e-07)"
    assert check("loose", a, b, tol=0.1)
    assert str(check("loose", a, b, tol=0.1)).endswith("-> agree (tolerance 1e-01)")
