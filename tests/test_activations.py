"""Activations (eq. 9) and the output error dz = dq * sigma'(z) (eqs. 10-11, corrected)."""

import numpy as np
import pytest
from cases import CASES
from reference import assert_same, finite_differences, rel_error

from convlib import ACTIVATIONS, activate, conv_backward, conv_forward, output_error

NAMES = ["identity", "relu", "sigmoid", "tanh"]
DEFINITIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
}


def _z_and_dq(seed=0, shape=(2, 3, 4, 5)):
    """z in [-3, 3] kept 0.1 away from relu's kink; dq with |dq| in [0.5, 1.5] so that no
    gradient entry is accidentally tiny (CS231n's relative error is harsh on those)."""
    rng = np.random.default_rng(seed)
    z = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 3.0, shape)
    dq = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
    return z, dq


def test_the_four_activations_are_offered():
    assert sorted(ACTIVATIONS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_activate_is_the_definition(name):
    z, _ = _z_and_dq()
    q = activate(z, name)
    assert q.shape == z.shape and q.dtype == np.float64
    np.testing.assert_allclose(q, DEFINITIONS[name](z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_output_error_matches_finite_differences(name):
    """dz = dL/dz for L = sum(dq * sigma(z)): centered differences, h = 1e-5, float64."""
    z, dq = _z_and_dq()
    dz = output_error(dq, z, name)
    numeric = finite_differences(lambda x: np.sum(dq * activate(x, name)), z)
    assert_same(dz, numeric, name, rtol=1e-7)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_output_error_uses_the_derivative_not_the_activation(name):
    """Eq. (11) as printed multiplies by sigma(z); the corrected one by sigma'(z)."""
    z, dq = _z_and_dq()
    assert rel_error(output_error(dq, z, name), dq * activate(z, name)) > 1e-3


def test_output_error_examples():
    z = np.array([-2.0, 0.0, 3.0])
    dq = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(output_error(dq, z, "identity"), dq)
    np.testing.assert_array_equal(output_error(dq, z, "relu"), [0.0, 0.0, 3.0])  # 0 at z = 0
    np.testing.assert_allclose(output_error(dq, z, "sigmoid")[1], 2 * 0.25)
    np.testing.assert_allclose(output_error(dq, z, "tanh")[1], 2.0)


def test_sigmoid_does_not_overflow():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        q = activate(z, "sigmoid")
        dz = output_error(np.ones_like(z), z, "sigmoid")
    np.testing.assert_allclose(q, [0.0, 1 / (1 + np.exp(50.0)), 0.5, 1 / (1 + np.exp(-50.0)), 1])
    assert np.all(np.isfinite(dz)) and dz[2] == 0.25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_dtypes_are_kept(name, dtype):
    z, dq = (a.astype(dtype) for a in _z_and_dq())
    assert activate(z, name).dtype == dtype
    assert output_error(dq, z, name).dtype == dtype


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("some_case", CASES[1::6], ids=[c.id for c in CASES[1::6]])
def test_layer_with_activation_matches_finite_differences(some_case, name):
    """The whole layer, L = sum(G * sigma(conv_forward(q, W, b))): eq. (11) then
    conv_backward give dq, dW and db, equal to centered differences (h = 1e-5).

    The loss is not linear here, so the differences carry a truncation and a rounding error
    of about 1e-11 absolute; a gradient entry that cancels to 1e-6 would then fail CS231n's
    entry-wise 1e-7 although the code is right. This compound check therefore measures the
    gradient as a whole (norm-wise relative error); the entry-wise 1e-7 checks are
    test_output_error_matches_finite_differences above and test_backward.py. The weights are
    scaled as in a trained network (z of order 1, sigmoid and tanh not saturated).
    """
    case = some_case
    q, W, b, _ = case.arrays()
    W = W / np.sqrt(case.ch_in * case.f**2)
    z = conv_forward(q, W, b, **case.kwargs)
    _, G = _z_and_dq(seed=1, shape=z.shape)
    dq, dW, db = conv_backward(output_error(G, z, name), q, W, **case.kwargs)

    def loss(q_, W_, b_):
        return np.sum(G * activate(conv_forward(q_, W_, b_, **case.kwargs), name))

    assert_same(dq, finite_differences(lambda x: loss(x, W, b), q), "dq", 1e-8, norm=True)
    assert_same(dW, finite_differences(lambda x: loss(q, x, b), W), "dW", 1e-8, norm=True)
    assert_same(db, finite_differences(lambda x: loss(q, W, x), b), "db", 1e-8, norm=True)
