"""Activation functions and their derivatives: eqs. (9)-(11) of the notes.

Each activation ``sigma`` comes with ``sigma'`` so that eq. (11), corrected, reads
``dz = dq * sigma'(z)`` (the notes print ``sigma(z)``; see the errata). ``ACTIVATIONS``
maps each name (``"identity"``, ``"relu"``, ``"sigmoid"``, ``"tanh"``) to its pair
``(sigma, sigma')``; :func:`activate` and :func:`output_error` look the name up there.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array


def identity(z):
    """sigma(z) = z (a copy, in the dtype of ``z``)."""
    return np.array(z, copy=True)


def identity_prime(z):
    """sigma'(z) = 1 (in the dtype of ``z``)."""
    return np.ones_like(np.asarray(z))


def relu(z):
    """sigma(z) = max(z, 0)."""
    return np.maximum(z, 0)


def relu_prime(z):
    """sigma'(z) = 1 where z > 0, else 0 (the subgradient 0 is taken at z = 0).

    Where ``z`` is NaN the derivative is 1, as in PyTorch (a NaN passes on; not masked).
    """
    z = np.asarray(z)
    return (~(z <= 0)).astype(z.dtype)


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), computed without overflow for large |z|."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    sz = sigmoid(z)
    return sz * (1 - sz)


def tanh(z):
    """sigma(z) = tanh(z)."""
    return np.tanh(z)


def tanh_prime(z):
    """sigma'(z) = 1 - tanh(z)^2."""
    return 1 - np.tanh(z) ** 2


ACTIVATIONS = {
    "identity": (identity, identity_prime),
    "relu": (relu, relu_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
}


def _lookup(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}")
    return ACTIVATIONS[name]


def activate(z, activation: str = "relu"):
    """The layer's output ``q = sigma(z)``: eq. (9) of the notes, element by element.

    Parameters
    ----------
    z : ndarray, any shape
        Pre-activation output, usually ``(n_b, ch_out, h_out, w_out)``.
    activation : {"identity", "relu", "sigmoid", "tanh"}

    Returns
    -------
    q : ndarray, same shape as ``z``
    """
    z = as_float_array(z, "z")
    return _lookup(activation)[0](z)


def output_error(dq, z, activation: str = "relu"):
    """Differential of the pre-activation output: eqs. (10) and (11) of the notes, corrected.

    ``dz = dq * sigma'(z)`` (Hadamard product). Eq. (10) has the derivative; eq. (11) as
    printed drops the prime.

    Parameters
    ----------
    dq : ndarray
        Differential of the loss with respect to the layer's output ``q``.
    z : ndarray, same shape as ``dq``
        Pre-activation output of the forward pass.
    activation : {"identity", "relu", "sigmoid", "tanh"}

    Returns
    -------
    dz : ndarray, same shape as ``z``
    """
    dq = as_float_array(dq, "dq")
    z = as_float_array(z, "z")
    if dq.shape != z.shape:
        raise ValueError(f"dq must have the shape of z, {z.shape}; got {dq.shape}")
    return dq * _lookup(activation)[1](z)
