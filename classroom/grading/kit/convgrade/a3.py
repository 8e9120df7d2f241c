"""Assignment 3 (the vectorized backward pass): the hidden cases, as calls of the student's code.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a3.py) makes the same plan to compute
its references. Nothing here computes an answer.

`im2col`, `col2im` and `conv_backward_vectorized` are called on layer cases (the backward pass
with the student's own im2col and col2im, as the part asks). `adjoint_test` runs with `im2col`
and `col2im` swapped for a stand-in pair (`Gather`) that is not a window matrix: a gather from
random positions of the input, and its adjoint, a scatter that adds (or, the wrong one,
assigns); the student's other parts are never called there.
"""

from __future__ import annotations

import numpy as np

from . import call, function, layers

PARTS = {
    "a3-im2col-tests": "im2col",
    "a3-col2im-tests": "col2im",
    "a3-adjoint-tests": "adjoint_test",
    "a3-back-tests": "conv_backward_vectorized",
}

# adjoint_test's cases: (variant, shape, f, s); "adjoint" is a right pair, "assigning" a
# col2im that assigns where positions repeat
ADJOINT = (
    ("adjoint", (2, 3, 7, 6), 3, 2),
    ("adjoint", (1, 2, 5, 5), 2, 1),
    ("assigning", (2, 2, 6, 6), 3, 1),
    ("assigning", (1, 2, 7, 7), 3, 2),
)


def _padded(seed):
    for case, q_bar in layers.padded_inputs(seed):
        yield case, q_bar, case[6], case[7]


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a3-im2col-tests":
        for case, q_bar, f, s in _padded(seed + 31):
            calls.append((f"q_bar of shape {q_bar.shape}, f={f}, s={s} ({case[0]})", name,
                          (q_bar, f, s)))
    elif grade_id == "a3-col2im-tests":
        rng = np.random.default_rng(seed + 132)
        for case, q_bar, f, s in _padded(seed + 32):
            n_b, ch_in, H, W_ = q_bar.shape
            rows = n_b * ((H - f) // s + 1) * ((W_ - f) // s + 1)
            cols = rng.normal(size=(rows, ch_in * f * f)).astype(q_bar.dtype)
            calls.append((f"an input of shape {q_bar.shape}, f={f}, s={s} ({case[0]})", name,
                          (cols, q_bar.shape, f, s)))
    elif grade_id == "a3-adjoint-tests":
        test_seed = int(seed % 1000) + 1
        for variant, shape, f, s in ADJOINT:
            what = ("an im2col/col2im pair that is adjoint" if variant == "adjoint" else
                    "a col2im that assigns instead of adding")
            calls.append((f"{what}, adjoint_test({shape}, {f}, {s}, {test_seed})", name,
                          (variant, shape, f, s, test_seed)))
    else:
        for k, case in enumerate(layers.cases(seed + 34)):
            q, W, _, dz = layers.arrays(case, seed + k)
            calls.append((layers.describe(case), name, (dz, q, W, case[7])))
    return calls


class Gather:
    """A stand-in for im2col: entries read from random positions of the input (not windows),
    and its adjoint, which adds each entry back where it was read (or, wrong, assigns)."""

    def __init__(self, seed):
        self.seed, self.index = seed, {}

    def _index(self, shape, f, s):
        shape = tuple(int(n) for n in shape)
        f, s = int(f), int(s)
        key = (shape, f, s)
        if key not in self.index:
            n_b, ch_in, H, W_ = shape
            rows = n_b * ((H - f) // s + 1) * ((W_ - f) // s + 1)
            if rows * ch_in * f * f > 10**7:
                raise ValueError("the shape given to im2col is far larger than the part asks")
            rng = np.random.default_rng([self.seed, f, s, *shape])
            self.index[key] = (rng.integers(0, int(np.prod(shape)), size=(rows, ch_in * f * f)),
                               shape)
        return self.index[key]

    def im2col(self, x, f, s):
        index, _ = self._index(np.shape(x), f, s)
        return np.asarray(x).reshape(-1)[index]

    def col2im(self, cols, shape, f, s, assign=False):
        index, shape = self._index(shape, f, s)
        cols = np.asarray(cols)
        if assign:
            out = np.zeros(int(np.prod(shape)), dtype=cols.dtype)
            out[index.reshape(-1)] = cols.reshape(-1)
            return out.reshape(shape)
        out = np.bincount(index.reshape(-1), weights=cols.reshape(-1).astype(np.float64),
                          minlength=int(np.prod(shape)))
        return out.astype(cols.dtype).reshape(shape)


def _run_adjoint(namespace, seed, variant, shape, f, s, test_seed):
    student = function(namespace, "adjoint_test")
    gather = Gather(seed)
    swaps = {"im2col": gather.im2col,
             "col2im": (lambda cols, shape, f, s: gather.col2im(cols, shape, f, s, assign=True))
             if variant == "assigning" else gather.col2im}
    saved = {key: namespace[key] for key in swaps if key in namespace}
    namespace.update(swaps)
    try:
        return call(lambda *args: float(student(*args)), (shape, f, s, test_seed))
    finally:
        for key in swaps:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)


def run(grade_id, namespace, seed):
    records = []
    for label, name, args in plan(grade_id, seed):
        if grade_id == "a3-adjoint-tests":
            record = _run_adjoint(namespace, seed, *args)
        else:
            record = call(function(namespace, name), args)
        record["case"] = label
        records.append(record)
    return records
