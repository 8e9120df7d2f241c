"""No bias (b=None), one output dtype everywhere, and casts that refuse to overflow."""

import numpy as np
import pytest
from reference import assert_same, case_geometry, forward_ref

import convlib as cl

FORWARD = [cl.conv_forward, cl.conv_forward_naive]
BACKWARD = [cl.conv_backward, cl.conv_backward_naive]


@pytest.mark.parametrize("fn", FORWARD)
def test_no_bias_is_b_none(case, fn):
    q, W, _, _ = case.arrays()
    sizes, pads = case_geometry(case)
    z = fn(q, W, None, **case.kwargs)
    assert_same(z, forward_ref(q, W, np.zeros(case.ch_out), case.s, sizes, pads))
    np.testing.assert_array_equal(fn(q, W, **case.kwargs), z)  # b defaults to None


DTYPES = [np.float16, np.float32, np.float64, np.int32]


@pytest.mark.parametrize("dq", DTYPES)
@pytest.mark.parametrize("dW", DTYPES)
@pytest.mark.parametrize("db", [np.float32, np.float64, None])
def test_the_output_dtype_is_the_result_type_of_q_and_W(dq, dW, db):
    rng = np.random.default_rng(0)
    q = (3 * rng.normal(size=(2, 2, 5, 4))).astype(dq)
    W = (3 * rng.normal(size=(2, 3, 3, 3))).astype(dW)
    b = None if db is None else rng.normal(size=3).astype(db)
    work = np.result_type(np.asarray(q, dtype=float) if dq is np.int32 else q,
                          np.asarray(W, dtype=float) if dW is np.int32 else W)
    z = cl.conv_forward(q, W, b, 1, "same")
    assert cl.conv_forward_naive(q, W, b, 1, "same").dtype == z.dtype == work
    dz = rng.normal(size=z.shape)  # float64 dz: cast to the working dtype
    for fn in BACKWARD:
        dq_, dW_, db_ = fn(dz, q, W, 1, "same")
        assert dq_.dtype == dW_.dtype == db_.dtype == work, fn.__name__


def test_a_float64_bias_with_float32_layer_is_cast_and_agrees():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(2, 3, 7, 5)).astype(np.float32)
    W = rng.normal(size=(3, 4, 3, 3)).astype(np.float32)
    z = cl.conv_forward(q, W, np.zeros(4), s=2, h_out="same")  # the README's example
    assert z.dtype == np.float32
    dq, dW, db = cl.conv_backward(np.ones_like(z), q, W, s=2, h_out="same")
    assert dq.dtype == dW.dtype == db.dtype == np.float32


@pytest.mark.parametrize("fn", BACKWARD + [cl.input_gradient_col2im, cl.input_gradient_rot180,
                                           cl.filter_gradient_dilated])
def test_dz_that_would_overflow_is_an_error_not_inf(fn):
    q = np.ones((1, 1, 4, 4), dtype=np.float16)
    W = np.ones((1, 1, 3, 3), dtype=np.float16)
    dz = np.full((1, 1, 2, 2), 1e5)  # float16 holds at most 65504
    with pytest.raises(ValueError, match=r"dz holds 1e\+05, beyond the range of the working "
                                         r"dtype float16"):
        fn(dz, q, W)
    dz[...] = 1e4  # fits: accepted, cast down
    out = fn(dz, q, W)
    for array in out if isinstance(out, tuple) else (out,):
        assert array.dtype == np.float16


def test_infinite_and_nan_dz_are_passed_through_not_refused():
    q, W = np.ones((1, 1, 4, 4), np.float32), np.ones((1, 1, 3, 3), np.float32)
    dz = np.array([[[[np.inf, 1.0], [np.nan, 2.0]]]])
    dq = cl.conv_backward(dz, q, W)[0]
    assert np.isinf(dq).any() and np.isnan(dq).any()


def test_a_bias_that_would_overflow_is_an_error():
    q, W = np.ones((1, 1, 4, 4), np.float16), np.ones((1, 1, 3, 3), np.float16)
    with pytest.raises(ValueError, match=r"b holds 1e\+06, beyond the range"):
        cl.conv_forward(q, W, np.array([1e6]))


@pytest.mark.parametrize("shape, what", [((1, 0, 5, 5), "ch_in"), ((0, 1, 5, 5), "n_b")])
@pytest.mark.parametrize("fn", FORWARD + BACKWARD)
def test_empty_axes_are_refused_up_front(shape, what, fn):
    q = np.zeros(shape)
    W = np.zeros((shape[1], 2, 3, 3))
    args = (q, W) if fn in FORWARD else (np.zeros((shape[0], 2, 3, 3)), q, W)
    with pytest.raises(ValueError, match=rf"q must have {what} >= 1"):
        fn(*args)
