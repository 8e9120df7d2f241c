"""Bad input: a ValueError (TypeError for a non-numeric dtype) that names the parameter and
says what was expected, from every public entry point."""

import numpy as np
import pytest
from reference import assert_same, backward_ref, forward_ref

import convlib
from convlib import (
    activate,
    bias_gradient,
    conv_backward,
    conv_backward_naive,
    conv_forward,
    conv_forward_naive,
    filter_gradient_dilated,
    input_gradient_col2im,
    input_gradient_rot180,
    output_error,
    output_size,
)

RNG = np.random.default_rng(0)
Q = RNG.standard_normal((2, 3, 6, 5))  # n_b=2, ch_in=3, 6 x 5
WF = RNG.standard_normal((3, 4, 3, 3))  # ch_in=3, ch_out=4, f=3
B = RNG.standard_normal(4)
DZ = RNG.standard_normal((2, 4, 4, 3))  # "valid": 6-3+1=4, 5-3+1=3


def _forward(fn):
    def call(q=Q, W=WF, b=B, dz=None, **kw):
        return fn(q, W, b, **kw)

    return call


def _backward(fn):
    def call(q=Q, W=WF, b=None, dz=DZ, **kw):
        return fn(dz, q, W, **kw)

    return call


LAYER_FUNCTIONS = {
    "conv_forward": _forward(conv_forward),
    "conv_forward_naive": _forward(conv_forward_naive),
    "conv_backward": _backward(conv_backward),
    "conv_backward_naive": _backward(conv_backward_naive),
    "input_gradient_col2im": _backward(input_gradient_col2im),
    "input_gradient_rot180": _backward(input_gradient_rot180),
    "filter_gradient_dilated": _backward(filter_gradient_dilated),
}
BACKWARD = [k for k in LAYER_FUNCTIONS if "forward" not in k]

layer_functions = pytest.mark.parametrize(
    "call", list(LAYER_FUNCTIONS.values()), ids=list(LAYER_FUNCTIONS)
)
backward_functions = pytest.mark.parametrize(
    "call", [LAYER_FUNCTIONS[k] for k in BACKWARD], ids=BACKWARD
)


@pytest.mark.parametrize("name", list(LAYER_FUNCTIONS))
def test_the_good_arguments_give_the_references_results(name):
    """The arguments every bad-input test starts from are good ones: the results are those of
    the loops of ``reference.py`` (so a failure below is the bad argument's, not another)."""
    result = LAYER_FUNCTIONS[name]()
    pads = ((0, 0), (0, 0))  # h_out="valid"
    if "forward" in name:
        assert_same(result, forward_ref(Q, WF, B, 1, (4, 3), pads))
        return
    dq, dW, db = backward_ref(DZ, Q, WF, 1, pads)
    want = {"conv_backward": (dq, dW, db), "conv_backward_naive": (dq, dW, db),
            "input_gradient_col2im": dq, "input_gradient_rot180": dq,
            "filter_gradient_dilated": dW}[name]
    if isinstance(want, tuple):
        for got, expected in zip(result, want, strict=True):
            assert_same(got, expected)
    else:
        assert_same(result, want)


@layer_functions
@pytest.mark.parametrize("shape", [(3, 6, 5), (1, 2, 3, 6, 5), (6, 5)])
def test_q_wrong_ndim(call, shape):
    with pytest.raises(ValueError, match=r"q must be 4-D \(n_b, ch_in, h_in, w_in\).*ndim="):
        call(q=np.zeros(shape))


@layer_functions
@pytest.mark.parametrize("shape", [(3, 4, 3), (3, 4, 3, 3, 1)])
def test_W_wrong_ndim(call, shape):
    with pytest.raises(ValueError, match=r"W must be 4-D \(ch_in, ch_out, f, f\)"):
        call(W=np.zeros(shape))


@layer_functions
def test_channel_mismatch(call):
    with pytest.raises(ValueError, match=r"channel mismatch.*W.shape\[0\].*2.*q.shape\[1\].*3"):
        call(W=np.zeros((2, 4, 3, 3)))


@layer_functions
def test_non_square_filter(call):
    with pytest.raises(ValueError, match=r"W must hold square f x f filters.*\(3, 4, 3, 2\)"):
        call(W=np.zeros((3, 4, 3, 2)))


@layer_functions
def test_empty_filters(call):
    with pytest.raises(ValueError, match=r"W must have f >= 1, ch_out >= 1 and ch_in >= 1"):
        call(W=np.zeros((3, 0, 3, 3)))


@pytest.mark.parametrize("fn", [conv_forward, conv_forward_naive])
def test_bias_wrong_ndim_and_length(fn):
    with pytest.raises(ValueError, match=r"b must be 1-D \(ch_out,\)"):
        fn(Q, WF, np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"b must have length ch_out=4.*b.shape=\(3,\)"):
        fn(Q, WF, np.zeros(3))


@backward_functions
@pytest.mark.parametrize("shape", [(2, 4, 4), (2, 4, 4, 3, 1)])
def test_dz_wrong_ndim(call, shape):
    with pytest.raises(ValueError, match=r"dz must be 4-D \(n_b, ch_out, h_out, w_out\)"):
        call(dz=np.zeros(shape))


@backward_functions
@pytest.mark.parametrize("shape", [(2, 4, 3, 4), (1, 4, 4, 3), (2, 3, 4, 3), (2, 4, 5, 3)])
def test_dz_wrong_shape(call, shape):
    with pytest.raises(ValueError, match=r"dz must have the shape of z.*\(2, 4, 4, 3\).*got"):
        call(dz=np.zeros(shape))


def test_bias_gradient_dz_wrong_ndim():
    with pytest.raises(ValueError, match=r"dz must be 4-D"):
        bias_gradient(np.zeros((4, 3)))


@layer_functions
@pytest.mark.parametrize("s", [0, -1, -3])
def test_stride_below_1(call, s):
    with pytest.raises(ValueError, match=rf"s must be an integer >= 1; got {s}"):
        call(s=s)


@layer_functions
@pytest.mark.parametrize("s", [1.5, 2.0, np.float64(2.0)])
def test_stride_not_an_integer(call, s):
    with pytest.raises(ValueError, match=r"s must be an integer >= 1; got"):
        call(s=s)


@layer_functions
@pytest.mark.parametrize("s", ["2", None, True, 1j])
def test_stride_not_a_number(call, s):
    with pytest.raises(TypeError, match=r"s must be an integer >= 1; got"):
        call(s=s)


@layer_functions
@pytest.mark.parametrize("h_out", [0, -2, (0, 3), (3, -1)])
def test_h_out_below_1(call, h_out):
    with pytest.raises(ValueError, match=r"h_out must be an integer >= 1; got -?\d"):
        call(h_out=h_out)


@layer_functions
@pytest.mark.parametrize("h_out", [2.5, 3.0, (3, 2.5)])
def test_h_out_not_an_integer(call, h_out):
    with pytest.raises(ValueError, match=r"h_out must be an integer >= 1; got"):
        call(h_out=h_out)


@layer_functions
@pytest.mark.parametrize("h_out", ["Same", "VALID", "half", ""])
def test_unknown_mode(call, h_out):
    with pytest.raises(ValueError, match=r"h_out must be .*'valid', 'same', 'full'.*got"):
        call(h_out=h_out)


@layer_functions
def test_h_out_pair_of_wrong_length(call):
    with pytest.raises(ValueError, match=r"h_out must be an int or an \(h, w\) pair"):
        call(h_out=(3, 3, 3))


@layer_functions
@pytest.mark.parametrize("f", [6, 7])
def test_valid_filter_bigger_than_the_image(call, f):
    """The image is 6 x 5: f = 6 fits the height but not the width."""
    with pytest.raises(ValueError, match=rf"h_out='valid' needs the filter to fit.*f={f}"):
        call(W=np.zeros((3, 4, f, f)))


def test_output_size_valid_filter_bigger_than_the_image_and_unknown_mode():
    with pytest.raises(ValueError, match=r"f=5 > h_in=4"):
        output_size(4, 5, 1, "valid")
    with pytest.raises(ValueError, match=r"h_out must be .*got 'wide'"):
        output_size(4, 3, 1, "wide")


@layer_functions
@pytest.mark.parametrize(
    ("padding", "axis"), [((0, 0, 0, 0), "width"), ((-2, 0, 1, 1), "height"),
                          ((0, -4, 1, 1), "height"), ((1, 1, -1, 0), "width")]
)
def test_explicit_padding_smaller_than_the_filter(call, padding, axis):
    """f = 6 against a 6 x 5 input: the padded input must be at least 6 along each axis."""
    with pytest.raises(ValueError, match=rf"filter \(f=6\) is bigger than the padded input "
                                         rf"along the {axis}"):
        call(W=np.zeros((3, 4, 6, 6)), padding=padding)


@pytest.mark.parametrize("padding", [(1, 1), (1, 1, 1), (1, 1, 1, 1, 1)])
def test_explicit_padding_wrong_length(padding):
    with pytest.raises(ValueError, match=r"padding must be \(top, bottom, left, right\)"):
        conv_forward(Q, WF, B, padding=padding)


@pytest.mark.parametrize("padding", [(1.5, 1, 1, 1), (1, 1, "1", 1)])
def test_explicit_padding_not_integers(padding):
    with pytest.raises((ValueError, TypeError), match=r"padding must be an integer"):
        conv_forward(Q, WF, B, padding=padding)


def test_h_out_contradicting_explicit_padding():
    with pytest.raises(ValueError, match=r"h_out=5 contradicts padding=\(1, 1, 1, 1\)"):
        conv_forward(Q, WF, B, h_out=5, padding=(1, 1, 1, 1))


BAD_DTYPES = {
    "str": lambda a: a.astype(str),
    "bool": lambda a: a > 0,
    "complex": lambda a: a.astype(complex),
    "object": lambda a: a.astype(object),
}
bad_dtypes = pytest.mark.parametrize("make", list(BAD_DTYPES.values()), ids=list(BAD_DTYPES))


@layer_functions
@bad_dtypes
def test_non_numeric_q_and_W(call, make):
    with pytest.raises(TypeError, match=r"q must hold real numbers; got .*dtype"):
        call(q=make(Q))
    with pytest.raises(TypeError, match=r"W must hold real numbers; got .*dtype"):
        call(W=make(WF))


@bad_dtypes
def test_non_numeric_b(make):
    with pytest.raises(TypeError, match=r"b must hold real numbers"):
        conv_forward(Q, WF, make(B))


@backward_functions
@bad_dtypes
def test_non_numeric_dz(call, make):
    with pytest.raises(TypeError, match=r"dz must hold real numbers"):
        call(dz=make(DZ))


def test_activation_errors():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"activation must be one of .*'relu'.*got 'softmax'"):
        activate(z, "softmax")
    with pytest.raises(ValueError, match=r"activation must be one of"):
        output_error(z, z, "ReLU")
    with pytest.raises(ValueError, match=r"dq must have the shape of z, \(2, 3\); got \(3, 2\)"):
        output_error(np.zeros((3, 2)), z, "relu")
    with pytest.raises(TypeError, match=r"z must hold real numbers"):
        activate(z.astype(str), "relu")
    with pytest.raises(TypeError, match=r"dq must hold real numbers"):
        output_error(z.astype(complex), z, "relu")


def test_ops_errors():
    with pytest.raises(ValueError, match=r"s must be an integer >= 1; got 0"):
        convlib.dilate(np.zeros((3, 3)), 0)
    with pytest.raises(ValueError, match=r"x must have at least 2 axes"):
        convlib.dilate(np.zeros(3), 2)
    with pytest.raises(ValueError, match=r"W must have at least 2 axes"):
        convlib.rot180(np.zeros(3))
    with pytest.raises(ValueError, match=r"filter \(f=4\) is bigger than the padded input"):
        convlib.windows(np.zeros((3, 5)), 4, 1)
    with pytest.raises(ValueError, match=r"f must be an integer >= 1; got 0"):
        convlib.im2col(np.zeros((1, 1, 3, 3)), 0, 1)
    with pytest.raises(ValueError, match=r"q must have at least 2 axes"):
        convlib.pad(np.zeros(3), 1)
