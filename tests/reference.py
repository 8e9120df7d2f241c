"""Independent references for the tests, written from the notes' definitions.

Nothing here imports convlib: the output size and padding come from the issue's formulas and
eqs. (7)-(8), the padded image is built index by index, the layer is eq. (6) as a loop over
every index, its gradients are the chain rule of eq. (6) applied index by index, and the
single-channel cross-correlations come from scipy. Finite differences and CS231n's relative
error are written out here too.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import correlate2d


# ----------------------------------------------------------------------------------------
# Sizes and padding: the formulas for the modes, eq. (7) for p, eq. (8) for its split
# ----------------------------------------------------------------------------------------
def mode_size(h_in: int, f: int, s: int, mode: str) -> int:
    """h_out of a named mode, exactly as the issue defines it."""
    if mode == "valid":
        return math.floor((h_in - f) / s) + 1
    if mode == "same":
        return math.ceil(h_in / s)
    if mode == "full":
        return math.floor((h_in + f - 2) / s) + 1
    raise AssertionError(mode)


def eq7_padding(h_in: int, f: int, s: int, h_out: int) -> int:
    """Eq. (7) solved for p: h_out = (h_in + p - f)/s + 1."""
    return s * (h_out - 1) + f - h_in


def eq8_split(p: int) -> tuple[int, int]:
    """Eq. (8): ceil(p/2) before (top/left), floor(p/2) after (bottom/right)."""
    return math.ceil(p / 2), math.floor(p / 2)


def geometry(h_in, w_in, f, s, h_out="valid", padding=None):
    """``(h_out, w_out), ((top, bottom), (left, right))`` of a layer."""
    if padding is not None:
        t, b, l, r = padding
        ho = (h_in + t + b - f) // s + 1
        wo = (w_in + l + r - f) // s + 1
        return (ho, wo), ((t, b), (l, r))
    if isinstance(h_out, str):
        ho, wo = mode_size(h_in, f, s, h_out), mode_size(w_in, f, s, h_out)
    elif isinstance(h_out, tuple):
        ho, wo = h_out
    else:
        ho = wo = h_out
    pads = (eq8_split(eq7_padding(h_in, f, s, ho)), eq8_split(eq7_padding(w_in, f, s, wo)))
    return (ho, wo), pads


def case_geometry(case):
    return geometry(case.h_in, case.w_in, case.f, case.s, case.h_out, case.padding)


def pad_ref(q, pads):
    """Zero padding by index: ``q_bar[..., i, j] = q[..., i - top, j - left]`` or 0.

    Negative amounts crop: those rows of ``q`` simply have no place in ``q_bar``.
    """
    q = np.asarray(q, dtype=np.float64)
    (t, b), (l, r) = pads
    h, w = q.shape[-2:]
    out = np.zeros(q.shape[:-2] + (h + t + b, w + l + r))
    for i in range(h + t + b):
        for j in range(w + l + r):
            if 0 <= i - t < h and 0 <= j - l < w:
                out[..., i, j] = q[..., i - t, j - l]
    return out


def unpad_ref(dq_bar, pads, h, w):
    """Gradient on ``q_bar`` -> gradient on ``q``: pixel (i, j) of q sits at (i+top, j+left).

    Input pixels cropped away (negative padding) get zero gradient.
    """
    (t, _), (l, _) = pads
    H, Wd = dq_bar.shape[-2:]
    out = np.zeros(dq_bar.shape[:-2] + (h, w))
    for i in range(h):
        for j in range(w):
            if 0 <= i + t < H and 0 <= j + l < Wd:
                out[..., i, j] = dq_bar[..., i + t, j + l]
    return out


def read_mask(case):
    """Boolean (h_in, w_in): True where some window of the forward pass reads the pixel."""
    (ho, wo), ((t, _), (l, _)) = case_geometry(case)
    rows = {i * case.s + a - t for i in range(ho) for a in range(case.f)}
    cols = {j * case.s + a - l for j in range(wo) for a in range(case.f)}
    mask = np.zeros((case.h_in, case.w_in), dtype=bool)
    for i in range(case.h_in):
        for j in range(case.w_in):
            mask[i, j] = i in rows and j in cols
    return mask


# ----------------------------------------------------------------------------------------
# The layer: eq. (6) as a loop over every index, and its chain rule
# ----------------------------------------------------------------------------------------
def forward_ref(q, W, b, s, sizes, pads):
    """Eq. (6): z[n,nu,i,j] = b[nu] + sum_{mu,a,c} q_bar[n,mu,i s+a,j s+c] W[mu,nu,a,c]."""
    q_bar = pad_ref(q, pads).tolist()
    W_, b_ = np.asarray(W, dtype=np.float64).tolist(), np.asarray(b, dtype=np.float64).tolist()
    n_b, ch_in = len(q_bar), len(q_bar[0])
    ch_out, f = len(W_[0]), len(W_[0][0])
    ho, wo = sizes
    z = np.zeros((n_b, ch_out, ho, wo))
    for n in range(n_b):
        for nu in range(ch_out):
            for i in range(ho):
                for j in range(wo):
                    total = b_[nu]
                    for mu in range(ch_in):
                        for a in range(f):
                            for c in range(f):
                                total += q_bar[n][mu][i * s + a][j * s + c] * W_[mu][nu][a][c]
                    z[n, nu, i, j] = total
    return z


def backward_ref(dz, q, W, s, pads):
    """The chain rule of eq. (6), index by index: every term q_bar * W of every z[n,nu,i,j]
    sends dz[n,nu,i,j] * W to q_bar's pixel and dz * q_bar to W's entry; b gets dz."""
    q = np.asarray(q, dtype=np.float64)
    q_bar = pad_ref(q, pads)
    dz = np.asarray(dz, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    n_b, ch_out, ho, wo = dz.shape
    ch_in, f = W.shape[0], W.shape[2]
    qb, W_, dz_ = q_bar.tolist(), W.tolist(), dz.tolist()
    dq_bar = np.zeros(q_bar.shape).tolist()
    dW = np.zeros(W.shape).tolist()
    db = [0.0] * ch_out
    for n in range(n_b):
        for nu in range(ch_out):
            for i in range(ho):
                for j in range(wo):
                    g = dz_[n][nu][i][j]
                    db[nu] += g
                    for mu in range(ch_in):
                        for a in range(f):
                            for c in range(f):
                                dq_bar[n][mu][i * s + a][j * s + c] += g * W_[mu][nu][a][c]
                                dW[mu][nu][a][c] += g * qb[n][mu][i * s + a][j * s + c]
    dq = unpad_ref(np.array(dq_bar), pads, q.shape[2], q.shape[3])
    return dq, np.array(dW), np.array(db)


def forward_scipy(q, W, b, s, sizes, pads):
    """Eq. (6) from single-channel cross-correlations: for each image, input channel mu and
    output channel nu, ``correlate2d(q_bar[n, mu], W[mu, nu], 'valid')`` taken every s-th
    row and column, summed over mu, plus b[nu]."""
    q_bar = pad_ref(q, pads)
    W = np.asarray(W, dtype=np.float64)
    n_b, ch_in = q_bar.shape[:2]
    ch_out = W.shape[1]
    ho, wo = sizes
    z = np.zeros((n_b, ch_out, ho, wo))
    for n in range(n_b):
        for nu in range(ch_out):
            z[n, nu] = b[nu]
            for mu in range(ch_in):
                full = correlate2d(q_bar[n, mu], W[mu, nu], mode="valid")
                z[n, nu] += full[::s, ::s]
    return z


# ----------------------------------------------------------------------------------------
# Gradient checking
# ----------------------------------------------------------------------------------------
def rel_error(x, y) -> float:
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    assert x.shape == y.shape, (x.shape, y.shape)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def finite_differences(loss, x, h: float = 1e-5):
    """Centered differences (L(x + h e_k) - L(x - h e_k)) / 2h for every entry k of x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        plus = loss(x)
        flat[k] = old - h
        minus = loss(x)
        flat[k] = old
        gflat[k] = (plus - minus) / (2 * h)
    return grad


def norm_rel_error(x, y) -> float:
    """The relative error of the arrays as wholes: ||x - y|| / (||x|| + ||y||), 0 if both are 0."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    assert x.shape == y.shape, (x.shape, y.shape)
    denominator = np.linalg.norm(x) + np.linalg.norm(y)
    return float(np.linalg.norm(x - y) / denominator) if denominator else 0.0


def assert_same(actual, expected, what: str = "", rtol: float = 1e-10, *, norm: bool = False):
    """The one array comparison of the tests: ``actual`` equals ``expected`` up to ``rtol``.

    The measure is CS231n's relative error entry by entry, :func:`rel_error`,
    ``max |x - y| / max(1e-8, |x| + |y|)``. The default ``rtol = 1e-10`` suits two float64
    computations of the same sums in a different order; centered finite differences of a
    linear loss meet 1e-7. With ``norm=True`` the arrays are compared as wholes,
    :func:`norm_rel_error`, for errors spread evenly over the entries whatever their size
    (finite differences of a non-linear loss, float32 against float64), where an entry that
    cancels to almost zero would fail an entry-wise test although the code is right.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shapes {actual.shape} != {expected.shape}"
    error = norm_rel_error(actual, expected) if norm else rel_error(actual, expected)
    kind = "norm-wise" if norm else "entry-wise"
    assert error < rtol, f"{what}: {kind} relative error {error:.3g}, expected < {rtol:g}"
