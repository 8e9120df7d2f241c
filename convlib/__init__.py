"""convlib: forward and backward propagation in convolutional layers, equation by equation.

The companion library of the course book. Names are the symbols of the notes (O. Diba,
"Forward and Backward Propagation in Convolutional Neural Networks"): ``q`` input,
``W`` filters ``(ch_in, ch_out, f, f)``, ``b`` biases, ``s`` stride, ``z`` pre-activation
output, ``dz``, ``dq``, ``dW``, ``db`` the differentials. The core needs numpy only;
``convlib.plot`` and ``convlib.explorers`` add matplotlib and ipywidgets.
"""

from . import chunks
from .activations import ACTIVATIONS, activate, output_error
from .backward import (
    bias_gradient,
    bias_gradient_naive,
    conv_backward,
    conv_backward_naive,
    dilated_padded_dz,
    filter_gradient_dilated,
    filter_gradient_naive,
    input_gradient_col2im,
    input_gradient_naive,
    input_gradient_rot180,
)
from .forward import conv_forward, conv_forward_naive, prepare
from .gradcheck import check, numerical_gradient, rel_error
from .ops import col2im, dilate, im2col, input_rows, rot180, windows
from .padding import (
    Geometry,
    backward_padding,
    layer_geometry,
    output_size,
    pad,
    padding_amount,
    split_padding,
)

__all__ = [
    "ACTIVATIONS",
    "Geometry",
    "activate",
    "backward_padding",
    "bias_gradient",
    "bias_gradient_naive",
    "chunks",
    "check",
    "col2im",
    "conv_backward",
    "conv_backward_naive",
    "conv_forward",
    "conv_forward_naive",
    "dilate",
    "dilated_padded_dz",
    "filter_gradient_dilated",
    "filter_gradient_naive",
    "im2col",
    "input_rows",
    "input_gradient_col2im",
    "input_gradient_naive",
    "input_gradient_rot180",
    "layer_geometry",
    "numerical_gradient",
    "output_error",
    "output_size",
    "pad",
    "padding_amount",
    "prepare",
    "rel_error",
    "rot180",
    "split_padding",
    "windows",
]
