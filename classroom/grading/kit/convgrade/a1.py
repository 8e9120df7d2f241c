"""Assignment 1 (the forward pass of an atrous layer): the hidden cases, as calls.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a1.py) makes the same plan to compute
its references. Nothing here computes an answer: a layer case is built from its output size
and its padding (the input size follows), so no padding rule is written here.

The layer: q (n_b, ch_in, h_in, w_in), W (ch_out, ch_in, f_h, f_w), b (ch_out,) or None,
stride s = (s_h, s_w), dilation d = (d_h, d_w); window (i, j) reads
q_bar[s_h i + d_h a, s_w j + d_w c] for filter tap (a, c).

Each part is graded on its own: the forward passes take the padding as data (not from part
1), and while the vectorized pass runs, the student's `im2col` is wrapped so that the trusted
side can also accept a right product of a window matrix that part 4 got wrong. While im2col
itself is graded, the kernel also notes whether its result shares memory with its input (a
view, not a new array): a property of the student's value, not an answer.
"""

from __future__ import annotations

import numpy as np

from . import call, encode, function

PARTS = {
    "a1-size-tests": "layer_padding",
    "a1-split-tests": "layer_padding",
    "a1-reads-tests": "read_counts",
    "a1-loops-tests": "conv_forward_loops",
    "a1-im2col-tests": "im2col",
    "a1-vec-tests": "conv_forward_vectorized",
}

# (label, n_b, ch_in, ch_out, f, s, d, h_out, pads, extra rows/columns, bias?)
FIXED = [
    ("square 3 x 3 filter, stride 1, no dilation, no padding", 1, 1, 1, (3, 3), (1, 1),
     (1, 1), (3, 3), ((0, 0), (0, 0)), (0, 0), True),
    ("rectangular 2 x 3 filter, odd padding", 1, 1, 2, (2, 3), (1, 1), (1, 1), (4, 3),
     ((1, 0), (1, 1)), (0, 0), True),
    ("stride (2, 1) and dilation (1, 2)", 1, 2, 1, (3, 3), (2, 1), (1, 2), (3, 4),
     ((1, 0), (2, 1)), (0, 0), True),
    ("dilation (2, 2), 3 x 2 filter, padding on one side only", 1, 1, 1, (3, 2), (1, 1),
     (2, 2), (4, 3), ((2, 0), (0, 1)), (0, 0), True),
    ("negative padding (cropped rows and columns), stride (2, 3), dilation (2, 1)", 1, 1, 1,
     (2, 2), (2, 3), (2, 1), (2, 2), ((-1, -1), (0, -1)), (0, 0), True),
    ("a batch of 3 images, 3 input and 2 output channels, stride 2, dilation 3", 3, 3, 2,
     (2, 2), (2, 2), (3, 3), (3, 2), ((1, 0), (1, 1)), (0, 0), True),
    ("a 1 x 1 filter, stride (1, 2)", 2, 2, 3, (1, 1), (1, 2), (1, 1), (2, 2),
     ((0, -1), (0, 0)), (0, 0), True),
    ("rows and columns left over at the end (no window reaches them)", 1, 2, 2, (2, 3),
     (3, 2), (1, 2), (2, 3), ((1, 1), (0, 0)), (2, 1), True),
    ("no bias (b is None)", 2, 2, 2, (3, 2), (1, 2), (2, 1), (3, 3), ((1, 1), (1, 0)),
     (0, 0), False),
    ("dilation larger than the stride (gaps between taps)", 1, 2, 3, (2, 3), (1, 2),
     (3, 2), (3, 2), ((0, 1), (1, 0)), (0, 0), True),
    ("rows cropped, columns padded (pads of both signs)", 1, 2, 2, (2, 2), (1, 2), (1, 1),
     (3, 3), ((-1, 0), (1, 1)), (0, 0), True),
    ("rows padded, columns cropped (pads of both signs)", 2, 1, 2, (3, 2), (2, 1), (2, 1),
     (2, 3), ((1, 2), (-1, -1)), (0, 0), False),
    ("one window covering the whole padded image", 1, 2, 2, (3, 2), (1, 1), (1, 1), (1, 1),
     ((1, 0), (0, 1)), (0, 0), True),
]


def cases(seed, n_random=4):
    """(label, n_b, ch_in, ch_out, f, s, d, h_out, pads, extra, dtype, bias?) of a part;
    dtype is one numpy type, or a pair (type of q, type of W and b)."""
    out = [c[:10] + (np.float64, c[10]) for c in FIXED]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        f = tuple(int(n) for n in rng.integers(1, 4, 2))
        s = tuple(int(n) for n in rng.integers(1, 4, 2))
        d = tuple(int(n) for n in rng.integers(1, 4, 2))
        h_out = tuple(int(n) for n in rng.integers(1, 5, 2))
        extra = tuple(int(rng.integers(0, s_)) for s_ in s)
        pads = []
        for f_, s_, d_, n, e in zip(f, s, d, h_out, extra, strict=True):
            top, bottom = (int(p) for p in rng.integers(-1, d_ * (f_ - 1) + 1, 2))
            # at least one row of the image left: top + bottom < the padded size
            pads.append((top, min(bottom, s_ * (n - 1) + d_ * (f_ - 1) + e - top)))
        pads = tuple(pads)
        n_b, ch_in, ch_out = (int(n) for n in rng.integers(1, 4, 3))
        out.append((f"random layer {k + 1}", n_b, ch_in, ch_out, f, s, d, h_out, pads, extra,
                    np.float64, bool(rng.integers(0, 4))))
    out.append(("float32 q, float64 W and b", 1, 2, 2, (2, 3), (1, 2), (2, 1), (3, 2),
                ((1, 0), (0, 1)), (0, 1), (np.float32, np.float64), True))
    out.append(("float32 inputs", 2, 2, 3, (3, 2), (2, 1), (1, 2), (3, 4), ((1, 1), (2, 1)),
                (1, 0), np.float32, True))
    return out


def sizes(case):
    """(h_in, w_in) and the padded size (H, W) of a case (both from its h_out and pads)."""
    f, s, d, h_out, pads, extra = case[4:10]
    padded = tuple(s_ * (n - 1) + d_ * (f_ - 1) + 1 + e
                   for f_, s_, d_, n, e in zip(f, s, d, h_out, extra, strict=True))
    return tuple(P - sum(p) for P, p in zip(padded, pads, strict=True)), padded


def dtypes(case):
    """(dtype of q, dtype of W and b) of a case."""
    dtype = case[10]
    return tuple(dtype) if isinstance(dtype, tuple) else (dtype, dtype)


def describe(case):
    label, n_b, ch_in, ch_out, f, s, d, h_out, pads, extra, dtype, bias = case
    (h_in, w_in), _ = sizes(case)
    dq, dw = (np.dtype(t).name for t in dtypes(case))
    kinds = dq if dq == dw else f"q {dq}, W and b {dw}"
    return (f"(case '{label}': q of shape ({n_b}, {ch_in}, {h_in}, {w_in}), W of shape "
            f"({ch_out}, {ch_in}, {f[0]}, {f[1]}), s={s}, d={d}, pads={pads}, "
            f"{'b given' if bias else 'b=None'}, {kinds})")


def arrays(case, seed):
    """q, W, b (None for a layer without bias) of a case."""
    label, n_b, ch_in, ch_out, f, s, d, h_out, pads, extra, dtype, bias = case
    (h_in, w_in), _ = sizes(case)
    rng = np.random.default_rng(seed)
    dq, dw = dtypes(case)
    q = rng.normal(size=(n_b, ch_in, h_in, w_in)).astype(dq)
    W = rng.normal(size=(ch_out, ch_in) + f).astype(dw)
    b = rng.normal(size=ch_out).astype(dw) if bias else None
    return q, W, b


def _axis_cases(seed, n=48):
    """(h_in, f, s, d, h_out) of one axis: p = s (h_out - 1) + d (f - 1) + 1 - h_in of every
    sign and parity (the input size is drawn around the padded size)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        f, s, d, h_out = (int(rng.integers(1, 5)), int(rng.integers(1, 4)),
                          int(rng.integers(1, 4)), int(rng.integers(1, 6)))
        span = s * (h_out - 1) + d * (f - 1) + 1
        h_in = max(1, span + int(rng.integers(-2 * d - 1, 3)))
        out.append((h_in, f, s, d, h_out))
    return out


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id in ("a1-size-tests", "a1-split-tests"):
        rows = _axis_cases(seed + 1)
        cols = _axis_cases(seed + 2)
        # fixed first and last cases (the checks know the part's first and last label)
        rows[:4] = [(10, 3, 2, 1, 5), (7, 3, 1, 2, 3), (6, 2, 3, 2, 1), (4, 3, 2, 1, 1)]
        cols[:4] = [(7, 3, 2, 1, 4), (9, 2, 2, 3, 2), (11, 3, 1, 3, 5), (5, 1, 1, 2, 4)]
        rows.append((9, 3, 2, 1, 2))
        cols.append((6, 2, 1, 3, 2))
        for r, c in zip(rows, cols, strict=True):
            args = tuple((a, b) for a, b in zip(r, c, strict=True))
            h_in, f, s, d, h_out = args
            calls.append((f"(case h_in={h_in}, f={f}, s={s}, d={d}, h_out={h_out})", name,
                          args))
    elif grade_id == "a1-reads-tests":
        rng = np.random.default_rng(seed + 3)
        for h_in, f, s, d, h_out in _axis_cases(seed + 4, 40):
            top = int(rng.integers(-1, d * (f - 1) + 1))
            calls.append((f"(case h_in={h_in}, f={f}, s={s}, d={d}, h_out={h_out}, "
                          f"top={top})", name, (h_in, f, s, d, h_out, top)))
    elif grade_id == "a1-im2col-tests":
        for k, case in enumerate(cases(seed + 5)):
            _, padded = sizes(case)
            rng = np.random.default_rng(seed + 50 + k)
            q_bar = rng.normal(size=case[1:3] + padded).astype(dtypes(case)[0])
            calls.append((f"(case '{case[0]}': q_bar of shape {q_bar.shape}, f={case[4]}, "
                          f"s={case[5]}, d={case[6]})", name, (q_bar,) + case[4:7]))
    else:  # the forward passes, loops and vectorized
        part = 6 if grade_id == "a1-loops-tests" else 7
        for k, case in enumerate(cases(seed + part)):
            q, W, b = arrays(case, seed + 100 * part + k)
            calls.append((describe(case), name, (q, W, b, case[5], case[6], case[8])))
    return calls


def _loops_switched_off(*args, **kwargs):
    raise RuntimeError("conv_forward_vectorized must not call conv_forward_loops")


def _recording(fn, log):
    """`fn` (the student's im2col), its first call of each case kept in `log`."""
    def im2col(*args, **kwargs):
        out = fn(*args, **kwargs)
        if not log:
            log.append((args[0] if args else kwargs.get("q_bar"), out))
        return out
    return im2col


def _noting_views(fn, views):
    """`fn` (the student's im2col), whether its result shares memory with q_bar noted."""
    def im2col(*args, **kwargs):
        out = fn(*args, **kwargs)
        q_bar = args[0] if args else kwargs.get("q_bar")
        views.append(isinstance(out, np.ndarray) and isinstance(q_bar, np.ndarray)
                     and bool(np.may_share_memory(out, q_bar)))
        return out
    return im2col


def run(grade_id, namespace, seed):
    records = []
    views = []
    loops = namespace.get("conv_forward_loops")
    windows = namespace.get("im2col")
    log = []
    if grade_id == "a1-vec-tests":
        if loops is not None:
            namespace["conv_forward_loops"] = _loops_switched_off
        if callable(windows):
            namespace["im2col"] = _recording(windows, log)
    try:
        for label, name, args in plan(grade_id, seed):
            log.clear()
            views.clear()
            fn = function(namespace, name)
            if grade_id == "a1-im2col-tests":
                fn = _noting_views(fn, views)
            record = call(fn, args)
            record["case"] = label
            if views and views[0]:
                record["view"] = True
            if log and "value" in record:
                try:  # what the vectorized pass got from the student's im2col, if anything
                    record["windows"] = [encode(np.array(log[0][0])), encode(log[0][1])]
                except (TypeError, ValueError):
                    pass
            records.append(record)
    finally:
        if grade_id == "a1-vec-tests":
            if loops is not None:
                namespace["conv_forward_loops"] = loops
            if callable(windows):
                namespace["im2col"] = windows
    return records
