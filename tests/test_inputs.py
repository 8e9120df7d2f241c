"""Inputs are never modified, and float32, float64 and integer input all work."""

import numpy as np
import pytest
from cases import CASES
from reference import assert_same, case_geometry

import convlib
from convlib import (
    activate,
    bias_gradient,
    bias_gradient_naive,
    check,
    col2im,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
    dilate,
    dilated_padded_dz,
    filter_gradient_dilated,
    filter_gradient_naive,
    im2col,
    input_gradient_col2im,
    input_gradient_naive,
    input_gradient_rot180,
    input_rows,
    layer_geometry,
    numerical_gradient,
    output_error,
    pad,
    prepare,
    rel_error,
    rot180,
    windows,
)

LAYER = [conv_forward, conv_forward_naive]
GRADIENTS = [
    conv_backward,
    conv_backward_naive,
    input_gradient_col2im,
    input_gradient_rot180,
    filter_gradient_dilated,
]
SOME = CASES[::3]
some_cases = pytest.mark.parametrize("some_case", SOME, ids=[c.id for c in SOME])


def _frozen(*arrays):
    """Read-only copies: any attempt to write into them raises."""
    out = []
    for a in arrays:
        a = np.array(a)
        a.flags.writeable = False
        out.append(a)
    return out


def _calls(case, q, W, b, dz):
    """Every public function of convlib, called on one case's arrays."""
    (ho, wo), pads = case_geometry(case)
    layer = prepare(q, W, b, **case.kwargs)[3]
    z = conv_forward(q, W, b, **case.kwargs)
    (Q,) = _frozen(im2col(q, case.f, case.s, pads))
    Q_before = Q.copy()

    def col2im_keeps_Q():
        col2im(Q, q.shape, case.f, case.s, pads)
        col2im(Q[:, : Q.shape[1] // ho], q.shape, case.f, case.s, pads, rows=(0, 1))
        np.testing.assert_array_equal(Q, Q_before)

    return {
        "conv_forward": lambda: conv_forward(q, W, b, **case.kwargs),
        "conv_forward_naive": lambda: conv_forward_naive(q, W, b, **case.kwargs),
        "conv_backward": lambda: conv_backward(dz, q, W, **case.kwargs),
        "conv_backward_naive": lambda: conv_backward_naive(dz, q, W, **case.kwargs),
        "input_gradient_col2im": lambda: input_gradient_col2im(dz, q, W, **case.kwargs),
        "input_gradient_rot180": lambda: input_gradient_rot180(dz, q, W, **case.kwargs),
        "filter_gradient_dilated": lambda: filter_gradient_dilated(dz, q, W, **case.kwargs),
        "bias_gradient": lambda: bias_gradient(dz),
        "dilated_padded_dz": lambda: dilated_padded_dz(dz, layer),
        "prepare": lambda: prepare(q, W, b, **case.kwargs),
        "layer_geometry": lambda: layer_geometry(q.shape[2], q.shape[3], case.f, case.s,
                                                 case.h_out, case.padding),
        "pad": lambda: pad(q, pads),
        "pad_int": lambda: pad(q, 3),
        "pad_negative": lambda: pad(q, -1),
        "dilate": lambda: dilate(dz, case.s),
        "rot180": lambda: rot180(W),
        "windows": lambda: windows(q, case.f, case.s),
        "im2col": lambda: im2col(q, case.f, case.s, pads),
        "input_rows": lambda: input_rows(case.h_in, case.f, case.s, pads[0][0], (0, ho)),
        "filter_gradient_naive": lambda: filter_gradient_naive(dz, q, W, **case.kwargs),
        "input_gradient_naive": lambda: input_gradient_naive(dz, q, W, **case.kwargs),
        "bias_gradient_naive": lambda: bias_gradient_naive(dz),
        "conv_forward_chunked": lambda: conv_forward(q, W, b, **case.kwargs, workspace=64),
        "conv_backward_chunked": lambda: conv_backward(dz, q, W, **case.kwargs, workspace=64),
        "col2im": col2im_keeps_Q,
        "activate": lambda: [activate(z, n) for n in convlib.ACTIVATIONS],
        "output_error": lambda: [output_error(dz, z, n) for n in convlib.ACTIVATIONS],
        "rel_error": lambda: rel_error(q, q),
        "check": lambda: check("x", q, q),
        "numerical_gradient": lambda: numerical_gradient(lambda x: float(np.sum(x)), b),
    }


def test_inputs_are_never_modified(case):
    """Every public function on read-only inputs (a write would raise), compared with copies
    before and after, on every case of the grid."""
    arrays = case.arrays()
    originals = [a.copy() for a in arrays]
    frozen = _frozen(*arrays)
    for name, call in _calls(case, *frozen).items():
        call()
        for before, after in zip(originals, frozen, strict=True):
            np.testing.assert_array_equal(after, before, err_msg=name)
    # and on writeable inputs too (a function could copy only when it has to)
    for name, call in _calls(case, *arrays).items():
        call()
        for before, after in zip(originals, arrays, strict=True):
            np.testing.assert_array_equal(after, before, err_msg=name)


def test_results_do_not_share_memory_with_the_inputs(case):
    q, W, b, dz = case.arrays()
    z = conv_forward(q, W, b, **case.kwargs)
    results = [conv_forward(q, W, b, **case.kwargs), conv_forward_naive(q, W, b, **case.kwargs)]
    results += list(conv_backward(dz, q, W, **case.kwargs))
    results += [f(dz, q, W, **case.kwargs) for f in GRADIENTS[2:]]
    results += [pad(q, 0), pad(q, 1), dilate(dz, 1), dilate(dz, case.s), rot180(W)]
    results += [activate(z, n) for n in convlib.ACTIVATIONS]
    results += [output_error(dz, z, n) for n in convlib.ACTIVATIONS]
    for r in results:
        for a in (q, W, b, dz, z):
            assert not np.shares_memory(r, a)


def test_windows_is_a_read_only_view():
    q = np.arange(25.0).reshape(1, 1, 5, 5)
    v = windows(q, 3, 1)
    assert np.shares_memory(v, q)
    with pytest.raises(ValueError):
        v[0, 0, 0, 0, 0, 0] = 1.0


@some_cases
def test_float32_stays_float32_and_is_close_to_float64(some_case):
    case = some_case
    a64 = case.arrays()
    q, W, b, dz = case.arrays(dtype=np.float32)
    for fn in LAYER:
        z32, z64 = fn(q, W, b, **case.kwargs), fn(*a64[:3], **case.kwargs)
        assert z32.dtype == np.float32
        assert_same(z32, z64, fn.__name__, 1e-5, norm=True)
    for fn in GRADIENTS:
        got32, got64 = fn(dz, q, W, **case.kwargs), fn(a64[3], *a64[:2], **case.kwargs)
        got32 = got32 if isinstance(got32, tuple) else (got32,)
        got64 = got64 if isinstance(got64, tuple) else (got64,)
        for g32, g64 in zip(got32, got64, strict=True):
            assert g32.dtype == np.float32, fn.__name__
            assert_same(g32, g64, fn.__name__, 1e-5, norm=True)
    assert bias_gradient(dz).dtype == np.float32
    z = conv_forward(q, W, b, **case.kwargs)
    for name in convlib.ACTIVATIONS:
        assert activate(z, name).dtype == np.float32
        assert output_error(dz, z, name).dtype == np.float32


@some_cases
def test_integer_input_is_promoted_to_float64(some_case):
    case = some_case
    q, W, b, dz = (np.round(3 * a).astype(np.int64) for a in case.arrays())
    qf, Wf, bf, dzf = (a.astype(np.float64) for a in (q, W, b, dz))
    for fn in LAYER:
        z = fn(q, W, b, **case.kwargs)
        assert z.dtype == np.float64
        np.testing.assert_array_equal(z, fn(qf, Wf, bf, **case.kwargs))
    for fn in GRADIENTS:
        got, expected = fn(dz, q, W, **case.kwargs), fn(dzf, qf, Wf, **case.kwargs)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for g, e in zip(got, expected, strict=True):
            assert g.dtype == np.float64, fn.__name__
            np.testing.assert_allclose(g, e, rtol=1e-13, err_msg=fn.__name__)
    assert bias_gradient(dz).dtype == np.float64
    assert activate(q, "identity").dtype == np.float64
    assert output_error(q, q, "identity").dtype == np.float64


def test_mixed_precision_gives_the_wider_dtype():
    q, W, b, dz = CASES[1].arrays()
    z = conv_forward(q.astype(np.float32), W, b.astype(np.int32))
    assert z.dtype == np.float64
    dq, dW, db = conv_backward(dz.astype(np.float32), q.astype(np.float32), W)
    assert dq.dtype == dW.dtype == db.dtype == np.float64


def test_lists_are_accepted():
    q, W, b, dz = CASES[0].arrays()
    np.testing.assert_array_equal(
        conv_forward(q.tolist(), W.tolist(), b.tolist()), conv_forward(q, W, b)
    )


def test_every_public_function_is_called_above():
    """A new public function must join ``_calls`` (or this list of ones that take no array)."""
    scalars_only = {"output_size", "padding_amount", "split_padding", "backward_padding"}
    not_functions = {"ACTIVATIONS", "Geometry", "chunks"}
    covered = set(_calls(CASES[0], *CASES[0].arrays()))
    assert set(convlib.__all__) - not_functions - scalars_only <= covered


def _strided(a):
    """The values of ``a`` as a view that skips every other element of a bigger array."""
    big = np.zeros(tuple(2 * n for n in a.shape))
    big[tuple(slice(None, None, 2) for _ in a.shape)] = a
    return big[tuple(slice(None, None, 2) for _ in a.shape)]


@some_cases
def test_non_contiguous_inputs(some_case):
    """Views with negative or Fortran strides give the same results as contiguous copies."""
    case = some_case
    q, W, b, dz = case.arrays()
    qv = np.asfortranarray(q[:, :, ::-1, :])[:, :, ::-1, :]  # same values, odd strides
    Wv, bv = _strided(W), _strided(b)
    dzv = np.asfortranarray(dz)
    assert not qv.flags.c_contiguous and not qv.flags.f_contiguous
    for view, array in ((qv, q), (Wv, W), (bv, b), (dzv, dz)):
        np.testing.assert_array_equal(view, array)
    np.testing.assert_allclose(
        conv_forward(qv, Wv, bv, **case.kwargs),
        conv_forward(q, W, b, **case.kwargs),
        rtol=1e-12,
        atol=1e-12,
    )
    for fn in GRADIENTS:
        got, expected = fn(dzv, qv, Wv, **case.kwargs), fn(dz, q, W, **case.kwargs)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=fn.__name__)
