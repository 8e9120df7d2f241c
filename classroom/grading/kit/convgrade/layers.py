"""Layer cases shared by the hidden tests (kernel side and trusted side alike; numpy only).

A case is (label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype): fixed ones that
cover stride 1-3, odd and negative padding, rectangles, batches, f = 1 and float32, plus random
ones drawn from the per-submission seed.

Nothing here computes an answer of an assignment (no padding rule, no pad): the kernel can
import this module, so it holds case data only.
"""

from __future__ import annotations

import numpy as np


def cases(seed, n_random=4, float32=True):
    fixed = [
        ("stride 1, no padding", 1, 1, 1, 5, 5, 3, 1, 3, 3),
        ("stride 1, odd padding", 1, 1, 2, 4, 4, 2, 1, 4, 4),
        ("stride 2, odd padding", 1, 2, 1, 6, 6, 3, 2, 4, 4),
        ("negative padding (cropped rows)", 1, 1, 1, 7, 6, 3, 2, 2, 2),
        ("stride 3, rectangular image", 1, 2, 2, 8, 5, 3, 3, 3, 2),
        ("a batch of 3 images, 3 input and 2 output channels", 3, 3, 2, 6, 5, 3, 2, 3, 3),
        ("f = 1", 2, 2, 3, 4, 3, 1, 2, 2, 2),
    ]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        f, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h_out, w_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        # -2 <= p <= f - 1: every window overlaps the image
        p_h, p_w = int(rng.integers(-2, f)), int(rng.integers(-2, f))
        h_in, w_in = s * (h_out - 1) + f - p_h, s * (w_out - 1) + f - p_w
        if min(h_in, w_in) < 1 or h_in + min(p_h, 0) < 1 or w_in + min(p_w, 0) < 1:
            h_in, w_in = s * (h_out - 1) + f, s * (w_out - 1) + f
        fixed.append((f"random shape {k + 1}", int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                      int(rng.integers(1, 4)), h_in, w_in, f, s, h_out, w_out))
    out = [c + (np.float64,) for c in fixed]
    if float32:
        out.append(("float32 inputs", 2, 2, 3, 6, 7, 3, 2, 3, 4, np.float32))
    return out


def describe(case):
    label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype = case
    return (f"(case '{label}': q of shape ({n_b}, {ch_in}, {h_in}, {w_in}), W of shape "
            f"({ch_in}, {ch_out}, {f}, {f}), s={s}, h_out=({h_out}, {w_out}), "
            f"{np.dtype(dtype).name})")


def arrays(case, seed):
    """q, W, b, dz of a case (dz has the output's shape)."""
    label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype = case
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_b, ch_in, h_in, w_in)).astype(dtype)
    W = rng.normal(size=(ch_in, ch_out, f, f)).astype(dtype)
    b = rng.normal(size=ch_out).astype(dtype)
    dz = rng.normal(size=(n_b, ch_out, h_out, w_out)).astype(dtype)
    return q, W, b, dz


def padded_inputs(seed):
    """(case, a random array of the case's padded-input shape) for the cases of `seed`.

    Only for the module's own cases: no function here takes a layer and returns its padding.
    """
    for k, case in enumerate(cases(seed)):
        label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype = case
        rng = np.random.default_rng(seed + k)
        rows, cols = s * (h_out - 1) + f, s * (w_out - 1) + f
        yield case, rng.normal(size=(n_b, ch_in, rows, cols)).astype(dtype)
