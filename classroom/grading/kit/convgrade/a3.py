"""Assignment 3 (the vectorized layer, channels last and grouped): the hidden cases, as calls.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a3.py) makes the same plan to compute
its references. Nothing here computes an answer.

The layer of the assignment (NHWC, TensorFlow's layout): q (n_b, h_in, w_in, ch_in), W
(f_h, f_w, ch_in // g, ch_out), b (ch_out,) or None, z (n_b, h_out, w_out, ch_out); stride
s = (s_h, s_w), pads ((top, bottom), (left, right)) of any sign, g groups.

`im2col` and `col2im` are called on layer geometries. `adjoint_test` runs with `im2col` and
`col2im` swapped for a stand-in pair (`Gather`) that is not a window matrix: a gather from
secret random positions of the input, and its adjoint, a scatter that adds (or, the wrong one,
assigns); the trusted oracle alone knows the positions and in which runs the scatter assigns.
`conv_nhwc` and `conv_nhwc_backward` run with `im2col` and `col2im` swapped for the true window
matrix and its adjoint (`Trusted`), also answered by the oracle, so that a mistake in parts
1-2 costs only those parts. The student's other parts are never called in a part's cases.
"""

from __future__ import annotations

import numpy as np

from . import call, function, oracle

PARTS = {
    "a3-im2col-tests": "im2col",
    "a3-col2im-tests": "col2im",
    "a3-adjoint-tests": "adjoint_test",
    "a3-fwd-tests": "conv_nhwc",
    "a3-back-tests": "conv_nhwc_backward",
}

# (label, n_b, h_in, w_in, ch_in, ch_out, g, f, s, pads); windows overlap where s < f
FIXED = (
    ("one channel, 3 x 3 filter, stride 1, no padding",
     1, 5, 5, 1, 1, 1, (3, 3), (1, 1), ((0, 0), (0, 0))),
    ("2 x 3 filter, odd padding", 1, 4, 5, 2, 2, 1, (2, 3), (1, 1), ((1, 0), (1, 1))),
    ("stride (2, 3), rectangular image, a batch of 2",
     2, 7, 8, 2, 3, 1, (3, 2), (2, 3), ((1, 1), (0, 1))),
    ("negative padding (cropped rows and columns)",
     1, 7, 6, 1, 2, 1, (3, 3), (2, 1), ((-1, 0), (0, -2))),
    ("g = 2 groups, 4 -> 6 channels", 2, 6, 5, 4, 6, 2, (3, 2), (1, 2), ((1, 1), (1, 0))),
    ("depthwise, g = ch_in = ch_out = 3", 1, 6, 7, 3, 3, 3, (3, 3), (2, 2), ((1, 1), (1, 1))),
    ("depthwise with 2 filters per channel, g = 2, 2 -> 4 channels",
     2, 5, 6, 2, 4, 2, (2, 3), (1, 1), ((0, 1), (1, 1))),
    ("f = (1, 1), stride (2, 1)", 2, 5, 4, 3, 2, 1, (1, 1), (2, 1), ((0, 0), (0, 0))),
)


def cases(seed, n_random=3):
    """The fixed cases, random ones drawn from `seed`, and a float32 one (dtype last)."""
    out = [c + (np.float64,) for c in FIXED]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        f = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        h_out, w_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        g = int(rng.integers(1, 4))
        ch_in, ch_out = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
        # totals -2 <= p <= f - 1 (every window meets the image), split at random
        sides = []
        for fa, sa, oa in zip(f, s, (h_out, w_out), strict=True):
            p = int(rng.integers(-2, fa))
            before = int(rng.integers(min(p, 0) - 1, max(p, 0) + 2))
            sides.append((before, p - before, sa * (oa - 1) + fa - p))
        (t, b_, h_in), (l_, r, w_in) = sides
        if min(h_in - max(-t, 0) - max(-b_, 0), w_in - max(-l_, 0) - max(-r, 0)) < 1:
            (t, b_, h_in), (l_, r, w_in) = (0, 0, s[0] * (h_out - 1) + f[0]), (
                0, 0, s[1] * (w_out - 1) + f[1])
        out.append((f"random case {k + 1}", int(rng.integers(1, 4)), h_in, w_in, ch_in, ch_out,
                    g, f, s, ((t, b_), (l_, r)), np.float64))
    out.append(("float32 inputs, g = 2", 2, 6, 7, 2, 4, 2, (3, 2), (2, 2), ((1, 0), (0, 1)),
                np.float32))
    return out


def describe(case):
    label, n_b, h_in, w_in, ch_in, ch_out, g, f, s, pads, dtype = case
    return (f"(case '{label}': q of shape ({n_b}, {h_in}, {w_in}, {ch_in}), W of shape "
            f"({f[0]}, {f[1]}, {ch_in // g}, {ch_out}), g={g}, s={s}, pads={pads}, "
            f"{np.dtype(dtype).name})")


def describe_input(case):
    """The case as parts 1-2 see it: an input and a window geometry."""
    label, n_b, h_in, w_in, ch_in, ch_out, g, f, s, pads, dtype = case
    return (f"(case '{label}': q of shape ({n_b}, {h_in}, {w_in}, {ch_in}), f={f}, s={s}, "
            f"pads={pads}, {np.dtype(dtype).name})")


def out_shape(case):
    """(n_b, h_out, w_out, ch_out) of a case: its dz must have z's shape (case data)."""
    label, n_b, h_in, w_in, ch_in, ch_out, g, f, s, pads, dtype = case
    (t, b_), (l_, r) = pads
    return (n_b, (h_in + t + b_ - f[0]) // s[0] + 1, (w_in + l_ + r - f[1]) // s[1] + 1,
            ch_out)


def arrays(case, seed):
    """q, W, b, dz of a case."""
    label, n_b, h_in, w_in, ch_in, ch_out, g, f, s, pads, dtype = case
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_b, h_in, w_in, ch_in)).astype(dtype)
    W = rng.normal(size=(*f, ch_in // g, ch_out)).astype(dtype)
    b = rng.normal(size=ch_out).astype(dtype)
    dz = rng.normal(size=out_shape(case)).astype(dtype)
    return q, W, b, dz


# adjoint_test's runs: (shape, f, s, pads); in some of them (drawn outside) col2im assigns
# where positions repeat
ADJOINT = (
    ((2, 7, 6, 3), (3, 2), (2, 1), ((1, 0), (0, 1))),
    ((1, 5, 5, 2), (2, 2), (1, 1), ((0, 0), (0, 0))),
    ((2, 6, 6, 2), (3, 3), (1, 2), ((1, 1), (-1, 0))),
    ((1, 7, 7, 2), (3, 1), (2, 2), ((0, 1), (0, 0))),
    ((1, 6, 7, 3), (2, 3), (2, 1), ((1, 1), (1, 1))),
    ((2, 5, 6, 1), (3, 3), (1, 1), ((0, -1), (2, 0))),
    ((1, 8, 6, 2), (4, 2), (2, 3), ((1, 0), (0, 0))),
    ((2, 5, 5, 2), (1, 2), (1, 1), ((0, 0), (1, 0))),
)


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a3-im2col-tests":
        for k, case in enumerate(cases(seed + 31)):
            q = arrays(case, seed + 131 + k)[0]
            calls.append((describe_input(case), name, (q, case[7], case[8], case[9])))
    elif grade_id == "a3-col2im-tests":
        for k, case in enumerate(cases(seed + 32)):
            n_b, h_out, w_out, _ = out_shape(case)
            rng = np.random.default_rng(seed + 132 + k)
            cols = rng.normal(size=(n_b * h_out * w_out, case[7][0] * case[7][1] * case[4]))
            shape = (case[1], case[2], case[3], case[4])
            calls.append((describe_input(case), name, (cols.astype(case[10]), shape, case[7],
                                                 case[8], case[9])))
    elif grade_id == "a3-adjoint-tests":
        test_seed = int(seed % 1000) + 1
        for k, (shape, f, s, pads) in enumerate(ADJOINT):
            calls.append((f"run {k + 1}, adjoint_test({shape}, {f}, {s}, {pads}, {test_seed})",
                          name, (k, shape, f, s, pads, test_seed, seed)))
    elif grade_id == "a3-fwd-tests":
        for k, case in enumerate(cases(seed + 33)):
            q, W, b, _ = arrays(case, seed + 133 + k)
            label = describe(case)
            if case[10] != np.float64:  # z has q's dtype; a float64 b must be cast to it
                b, label = b.astype(np.float64), label[:-1] + ", b float64)"
            calls.append((label, name, (q, W, None if k == 1 else b, case[8], case[9], case[6])))
    else:
        for k, case in enumerate(cases(seed + 34)):
            q, W, _, dz = arrays(case, seed + 134 + k)
            calls.append((describe(case), name, (dz, q, W, case[8], case[9], case[6])))
    return calls


def _pairs(f, s, pads):
    return (np.array([int(n) for n in f], dtype=np.int64),
            np.array([int(n) for n in s], dtype=np.int64),
            np.array([[int(n) for n in side] for side in pads], dtype=np.int64))


class Gather:
    """A stand-in for im2col, entries read from secret positions of the input (not windows),
    and its adjoint, which adds each entry back where it was read (or, wrong, assigns): both
    answered by the trusted oracle."""

    def __init__(self, run):
        self.run = np.int64(run)

    def im2col(self, q, f, s, pads):
        f, s, pads = _pairs(f, s, pads)
        return oracle.ask("gather", run=self.run, x=np.asarray(q), f=f, s=s, pads=pads)

    def col2im(self, cols, shape, f, s, pads):
        f, s, pads = _pairs(f, s, pads)
        return oracle.ask("scatter", run=self.run, cols=np.asarray(cols),
                          shape=np.array([int(n) for n in shape], dtype=np.int64),
                          f=f, s=s, pads=pads)


class Trusted:
    """The true window matrix and its adjoint, answered by the trusted oracle: the stand-ins
    of parts 1-2 while the layer of part 4 is graded."""

    @staticmethod
    def im2col(q, f, s, pads):
        f, s, pads = _pairs(f, s, pads)
        return oracle.ask("im2col", x=np.asarray(q), f=f, s=s, pads=pads)

    @staticmethod
    def col2im(cols, shape, f, s, pads):
        f, s, pads = _pairs(f, s, pads)
        return oracle.ask("col2im", cols=np.asarray(cols),
                          shape=np.array([int(n) for n in shape], dtype=np.int64),
                          f=f, s=s, pads=pads)


def _swapped(namespace, swaps, fn, args):
    """call(fn, args) with the names in `swaps` replaced in the student's namespace."""
    saved = {key: namespace[key] for key in swaps if key in namespace}
    namespace.update(swaps)
    try:
        return call(fn, args)
    finally:
        for key in swaps:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


def run(grade_id, namespace, seed):
    records = []
    for label, name, args in plan(grade_id, seed):
        student = function(namespace, name)
        if grade_id == "a3-adjoint-tests":
            gather = Gather(args[0])
            record = _swapped(namespace, {"im2col": gather.im2col, "col2im": gather.col2im},
                              lambda *a, fn=student: float(fn(*a)), args[1:6])
        elif grade_id in ("a3-fwd-tests", "a3-back-tests"):
            record = _swapped(namespace, {"im2col": Trusted.im2col, "col2im": Trusted.col2im},
                              student, args)
        else:
            record = call(student, args)
        record["case"] = label
        records.append(record)
    return records
