"""Assignment 1, trusted side: the references and the messages of each part.

The layer has rectangular filters, a stride and a dilation per axis: W (ch_out, ch_in, f_h,
f_w), window (i, j) reads q_bar[s_h i + d_h a, s_w j + d_w c] for tap (a, c). References are
written here from that definition (loops over the taps, numpy only); tests/classroom/
test_a1_answers.py checks them against torch.nn.functional.conv2d.
"""

from __future__ import annotations

import numpy as np
from convgrade import a1 as kit

from . import Verdict, close, decode, expect_array, rel, split, value

# The kernel gets no convlib at all: numpy only.
CONVLIB = None

FIRST_CASE = f"(case '{kit.FIXED[0][0]}'"
LAST_CASE = "(case 'float32 inputs'"
SPLIT_FIRST = "(case h_in=(10, 7), f=(3, 3), s=(2, 2), d=(1, 1), h_out=(5, 4))"
SPLIT_LAST = "(case h_in=(9, 6), f=(3, 2), s=(2, 1), d=(1, 3), h_out=(2, 2))"
# the signs of the odd totals the student's layer_padding gave, first case to last
_ODD: set = set()


def padding_total(h_in, f, s, d, h_out):
    """Eq. (7) with the effective filter size d (f - 1) + 1."""
    return s * (h_out - 1) + d * (f - 1) + 1 - h_in


def pad(q, pads):
    """Zero-pad (negative: crop) the last two axes by ((top, bottom), (left, right))."""
    (t, b), (l, r) = pads
    out = np.pad(q, [(0, 0)] * (q.ndim - 2) + [(max(t, 0), max(b, 0)), (max(l, 0), max(r, 0))])
    H, W_ = out.shape[-2:]
    return out[..., max(-t, 0):H - max(-b, 0), max(-l, 0):W_ - max(-r, 0)]


def out_size(padded, f, s, d):
    return tuple((P - d_ * (f_ - 1) - 1) // s_ + 1
                 for P, f_, s_, d_ in zip(padded, f, s, d, strict=True))


def windows(q_bar, f, s, d):
    """(n, i, j, mu, a, c): the window matrix before its reshape (loops over the taps)."""
    n_b, ch_in = q_bar.shape[:2]
    ho, wo = out_size(q_bar.shape[2:], f, s, d)
    out = np.zeros((n_b, ho, wo, ch_in) + tuple(f), dtype=q_bar.dtype)
    for a in range(f[0]):
        for b in range(f[1]):
            r0, c0 = d[0] * a, d[1] * b
            out[..., a, b] = q_bar[:, :, r0:r0 + s[0] * (ho - 1) + 1:s[0],
                                   c0:c0 + s[1] * (wo - 1) + 1:s[1]].transpose(0, 2, 3, 1)
    return out


def im2col(q_bar, f, s, d):
    w = windows(q_bar, f, s, d)
    n_b, ho, wo = w.shape[:3]
    return w.reshape(n_b * ho * wo, -1)


def _windows_with(q_bar, f, s, d, other):
    """The window matrix of dilation d's windows with the taps placed by `other`."""
    ho, wo = out_size(q_bar.shape[2:], f, s, d)
    w = windows(q_bar, f, s, other)[:, :ho, :wo]
    return w.reshape(-1, int(np.prod(w.shape[3:])))


def forward(q, W, b, s, d, pads):
    """z of the layer, computed in float64 and returned in the inputs' dtype."""
    dtype = np.result_type(q, W) if b is None else np.result_type(q, W, b)
    w = windows(pad(q.astype(np.float64), pads), W.shape[2:], s, d)
    z = np.einsum("nijmab,omab->noij", w, W.astype(np.float64))
    if b is not None:
        z = z + b.astype(np.float64)[None, :, None, None]
    return z.astype(dtype)


def read_counts(h_in, f, s, d, h_out, top):
    counts = np.zeros(h_in, dtype=np.int64)
    for i in range(h_out):
        for a in range(f):
            r = s * i + d * a - top
            if 0 <= r < h_in:
                counts[r] += 1
    return counts


def check(grade_id, name, label, args, record):
    got = value(name, record)
    if grade_id in ("a1-size-tests", "a1-split-tests"):
        _check_padding(grade_id, label, args, got)
    elif grade_id == "a1-reads-tests":
        want = read_counts(*args)
        if not (isinstance(got, np.ndarray) and got.dtype.kind in "iu"):
            raise Verdict(f"read_counts must return an array of ints; got "
                          f"{_show(got)} {label}")
        if got.shape != want.shape:
            raise Verdict(f"read_counts returned shape {got.shape} {label}; one count per "
                          f"input row, shape {want.shape}")
        if not np.array_equal(got, want):
            h_in, f, s, d, h_out, top = args
            if np.array_equal(got, read_counts(h_in, f, s, d, h_out, 0)):
                raise Verdict("read_counts ignores the padding on top: by eq. (8), padded "
                              f"row r is input row r - top {label}")
            if d > 1 and np.array_equal(got, read_counts(h_in, f, s, 1, h_out, top)):
                raise Verdict("read_counts ignores the dilation: the taps of a window are d "
                              f"rows apart {label}")
            raise Verdict(f"read_counts gives wrong counts {label}")
    elif grade_id == "a1-im2col-tests":
        q_bar, f, s, d = args
        want = im2col(q_bar, f, s, d)
        if (isinstance(got, np.ndarray) and got.ndim == 2 and got.T.shape == want.shape
                and close(got.T, want) and not close(got, want)):
            raise Verdict(f"im2col returns the window matrix with rows and columns swapped "
                          f"{label}: here it is M x K, one row per output pixel (n, i, j), "
                          "the transpose of the book's U")
        if not expect_array("im2col", got, want, label):
            if np.array_equal(np.sort(got, axis=None), np.sort(want, axis=None)):
                raise Verdict(f"im2col holds the right values in the wrong order {label}: "
                              "rows are (n, i, j), columns (mu, a, c)")
            if max(d) > 1 and any(close(got, _windows_with(q_bar, f, s, d, other))
                                  for other in ((1, 1), (1, d[1]), (d[0], 1))):
                raise Verdict(f"im2col ignores the dilation: tap (a, c) of window (i, j) "
                              f"reads q_bar[s_h i + d_h a, s_w j + d_w c] {label}")
            raise Verdict(f"im2col reads the wrong pixels {label}")
        if record.get("view"):
            raise Verdict(f"im2col returns a view that shares memory with q_bar {label}: it "
                          "must return a new array (copy it)")
    else:
        _check_forward(name, label, args, got, record)


def _check_padding(grade_id, label, args, got):
    pair = _pairs(got)
    if pair is None:
        raise Verdict(f"layer_padding returned {_show(got)}: it must return "
                      f"((top, bottom), (left, right)), four ints {label}")
    h_in, f, s, d, h_out = args
    totals = [padding_total(*axis) for axis in zip(h_in, f, s, d, h_out, strict=True)]
    if grade_id == "a1-size-tests":
        for axis, (before, after), p in zip(("rows", "columns"), pair, totals, strict=True):
            if before + after != p:
                k = 0 if axis == "rows" else 1
                old = s[k] * (h_out[k] - 1) + f[k] - h_in[k]
                if d[k] > 1 and before + after == old:
                    raise Verdict("layer_padding leaves the dilation out of eq. (7): a window "
                                  "spans d (f - 1) + 1 rows of the padded input, not f (the "
                                  f"{axis}) {label}")
                raise Verdict(f"layer_padding gives the {axis} a wrong total padding: eq. (7) "
                              "makes the padded input exactly long enough for h_out windows "
                              "of effective size d (f - 1) + 1 placed s apart "
                              f"{label}")
    else:  # the split of the student's own totals
        if label == SPLIT_FIRST:
            _ODD.clear()
        _ODD.update(("positive" if p > 0 else "negative") for p in map(sum, pair) if p % 2)
        for (before, after) in pair:
            if (before, after) != split(before + after):
                if (after, before) == split(before + after):
                    raise Verdict("layer_padding splits the padding the wrong way round: "
                                  "eq. (8): the extra pixel of an odd p goes before (top/left), "
                                  f"for negative p (cropping) too {label}")
                raise Verdict(f"layer_padding splits a total padding of {before + after} as "
                              f"({before}, {after}): eq. (8) gives ceil(p/2) before and "
                              f"floor(p/2) after {label}")
        if label == SPLIT_LAST and _ODD != {"positive", "negative"}:
            raise Verdict("layer_padding gave no odd total padding of each sign, so its split "
                          "could not be checked: eq. (8) shows only on odd totals, positive "
                          f"and negative {label}")


def _check_forward(name, label, args, got, record):
    q, W, b, s, d, pads = args
    want = forward(q, W, b, s, d, pads)
    if label.startswith(FIRST_CASE):
        _STAND_INS.update(used=0, informative=0)
    flat_pads = [p for side in pads for p in side]
    mixed = min(flat_pads) < 0 < max(flat_pads)
    if isinstance(got, np.ndarray) and got.shape != want.shape and mixed:
        raise Verdict(f"{name} returned shape {got.shape} {label}; the shape should be "
                      f"{want.shape}: these pads crop some sides and pad others, so decide pad "
                      "or crop for each side on its own")
    if isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype != want.dtype:
        raise Verdict(f"{name} returned dtype {got.dtype} {label}; z has the dtype numpy "
                      f"gives the inputs together, np.result_type(q, W, b): {want.dtype}, "
                      "not q.dtype")
    if expect_array(name, got, want, label):
        _STAND_INS["informative"] += 1
        return
    if name == "conv_forward_vectorized":
        product = _right_product(got, record.get("windows"), q, W, b, s, d, pads)
        if product:  # a right eq. (35) on a window matrix that part 4 got wrong
            _STAND_INS["used"] += 1
            _STAND_INS["informative"] += product == "informative"
            if label.startswith(LAST_CASE) and not _STAND_INS["informative"]:
                raise Verdict("conv_forward_vectorized was checked on the window matrices "
                              "your im2col returned, but none of them had pixels that vary "
                              f"along its rows and its columns {label}")
            return
    (t, bo), (lf, r) = pads
    if b is not None and close(got, want - b[None, :, None, None]):
        raise Verdict(f"{name} leaves out the bias b {label}")
    if W.shape[0] == W.shape[1] and close(got, forward(q, W.swapaxes(0, 1), b, s, d, pads)):
        raise Verdict(f"{name} reads the filters in the notes' layout W[mu, nu]: here W has "
                      f"shape (ch_out, ch_in, f_h, f_w), W[nu, mu] {label}")
    if close(got, forward(q, W, b, s, d, ((bo, t), (r, lf)))):
        raise Verdict(f"{name} applies the padding the wrong way round: pads is "
                      f"((top, bottom), (left, right)) {label}")
    if max(d) > 1 and s != d and close(got, forward(q, W, b, d, s, pads)):
        raise Verdict(f"{name} swaps the stride and the dilation: window (i, j) reads "
                      f"q_bar[s_h i + d_h a, s_w j + d_w c] {label}")
    if q.dtype != W.dtype and close(got, want, 1e-4):
        raise Verdict(f"{name} computes in {q.dtype} although W is {W.dtype}: numpy's "
                      f"promotion of the inputs keeps float64 precision {label}")
    if mixed:
        raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) "
                      f"{label}; these pads crop some sides and pad others: decide pad or "
                      "crop for each side on its own")
    raise Verdict(f"{name} gives wrong values (relative error {rel(got, want):.1e}) {label}")


# the vectorized pass on the student's window matrices: at least one case must be right or
# right on a window matrix that varies (the cases are checked in the plan's order, first to
# last, for one submission at a time)
_STAND_INS = {"used": 0, "informative": 0}


def _right_product(got, windows_used, q, W, b, s, d, pads):
    """Whether z is eq. (35) done right on the window matrix the student's im2col returned
    for the right padded input (its own part graded in part 4): the matrix must be of the
    right shape and made of pixels of q_bar, not a stand-in such as zeros."""
    if not (isinstance(windows_used, list) and len(windows_used) == 2):
        return False
    q_bar_used, Q = decode(windows_used[0]), decode(windows_used[1])
    q_bar = pad(q, pads)
    want_Q = im2col(q_bar, W.shape[2:], s, d)
    if not (isinstance(Q, np.ndarray) and isinstance(q_bar_used, np.ndarray)
            and q_bar_used.shape == q_bar.shape and np.array_equal(q_bar_used, q_bar)
            and Q.shape == want_Q.shape and np.isin(Q, q_bar).all()):
        return False
    n_b, ho, wo = q.shape[0], *out_size(q_bar.shape[2:], W.shape[2:], s, d)
    z = Q.astype(np.float64) @ W.reshape(W.shape[0], -1).T.astype(np.float64)
    if b is not None:
        z = z + b.astype(np.float64)
    z = z.reshape(n_b, ho, wo, -1).transpose(0, 3, 1, 2)
    if not (isinstance(got, np.ndarray) and close(got, z.astype(got.dtype))):
        return False
    # a matrix whose rows or columns are all alike (zeros, say) tests no layout of eq. (35)
    varies = Q.size and (Q != Q[:1]).any() and (Q != Q[:, :1]).any()
    return "informative" if varies else "degenerate"


def _int(g):
    if isinstance(g, np.ndarray) and g.shape == () and g.dtype.kind in "iu":
        return int(g)
    return None


def _pairs(got):
    """((top, bottom), (left, right)) as ints, if the student returned four integers so."""
    if isinstance(got, np.ndarray) and got.shape == (2, 2) and got.dtype.kind in "iu":
        return tuple((int(a), int(b)) for a, b in got)
    if isinstance(got, tuple) and len(got) == 2:
        out = []
        for item in got:
            items = tuple(item) if isinstance(item, np.ndarray) and item.shape == (2,) else item
            if not (isinstance(items, tuple) and len(items) == 2):
                return None
            ints = [_int(np.asarray(v)) if isinstance(v, np.ndarray) else None for v in items]
            if None in ints:
                return None
            out.append(tuple(ints))
        return tuple(out)
    return None


def _show(got):
    if isinstance(got, np.ndarray) and got.size <= 4:
        return repr(got.tolist())
    if isinstance(got, tuple):
        return "a tuple of " + ", ".join(_show(g) for g in got)
    return type(got).__name__
