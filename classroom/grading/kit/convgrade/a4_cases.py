"""Assignment 4's hidden cases: 1-D convolution layers over sequences (numpy only).

A case is (label, n_b, ch_in, ch_out, length, f, s, l_out, dtype, p): fixed ones that cover
stride 1-3, odd, even and negative padding, several channels, batches, f = 1 and float32, plus
random ones drawn from the per-submission seed. A layer is made from its padding p (eq. (7) in
1-D: length = s (l_out - 1) + f - p), so the case data never computes a padding from a layer.

This module holds case data only (the kernel imports it): no padding rule, no reference.
"""

from __future__ import annotations

import numpy as np

FIXED = [  # (label, n_b, ch_in, ch_out, p, f, s, l_out)
    ("stride 1, no padding", 1, 1, 1, 0, 3, 1, 4),
    ("stride 1, odd padding", 1, 1, 2, 1, 2, 1, 4),
    ("stride 2, odd padding", 1, 2, 1, 3, 4, 2, 3),
    ("negative padding (cropped input)", 1, 1, 1, -2, 3, 2, 3),
    ("stride 3, 2 input and 2 output channels", 1, 2, 2, 1, 3, 3, 3),
    ("a batch of 3, 3 input and 2 output channels", 3, 3, 2, 2, 3, 2, 4),
    ("f = 1", 2, 2, 3, -1, 1, 2, 3),
    ("a batch of 2, odd negative padding, stride 2", 2, 2, 2, -1, 2, 2, 4),
]


def cases(seed, n_random=4):
    rng = np.random.default_rng(seed)
    rows = list(FIXED)
    for k in range(n_random):
        f, s, l_out = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
        p = int(rng.integers(-2, f))  # -2 <= p <= f - 1: every window overlaps the input
        if s * (l_out - 1) + f - p + min(p, 0) < 1:
            p = 0
        rows.append((f"random layer {k + 1}", int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                     int(rng.integers(1, 4)), p, f, s, l_out))
    out = [r + (np.float64,) for r in rows]
    out.append(("float32 inputs", 2, 2, 3, 1, 3, 2, 4, np.float32))
    built = []
    for label, n_b, ch_in, ch_out, p, f, s, l_out, dtype in out:
        length = s * (l_out - 1) + f - p
        built.append((label, n_b, ch_in, ch_out, length, f, s, l_out, dtype, p))
    return built


def describe(case):
    label, n_b, ch_in, ch_out, length, f, s, l_out, dtype, p = case
    return (f"(case '{label}': x of shape ({n_b}, {ch_in}, {length}), W of shape "
            f"({ch_out}, {ch_in}, {f}), s={s}, l_out={l_out}, p={p}, {np.dtype(dtype).name})")


def arrays(case, seed):
    """x, W, b, dz of a case (dz has the output's shape)."""
    label, n_b, ch_in, ch_out, length, f, s, l_out, dtype, p = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_b, ch_in, length)).astype(dtype)
    W = rng.normal(size=(ch_out, ch_in, f)).astype(dtype)
    b = rng.normal(size=ch_out).astype(dtype)
    dz = rng.normal(size=(n_b, ch_out, l_out)).astype(dtype)
    return x, W, b, dz


def paddings(seed):
    """{(length, f, s, l_out): p} of the layers of a part: the paddings they were built from."""
    return {(c[4], c[5], c[6], c[7]): c[9] for c in cases(seed)}
