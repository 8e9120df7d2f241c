"""Assignment 3 (the vectorized backward pass): the hidden cases, as calls of the student's code.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a3.py) makes the same plan to compute
its references. Nothing here computes an answer.

`im2col`, `col2im` and `conv_backward_vectorized` are called on layer cases (the backward pass
with the student's own im2col and col2im, as the part asks). `adjoint_test` runs with `im2col`
and `col2im` swapped for a stand-in pair (`Gather`) that is not a window matrix: a gather from
secret random positions of the input, and its adjoint, a scatter that adds (or, the wrong one,
assigns). Both are proxies answered by the trusted oracle, which alone knows the positions and
in which runs the scatter assigns; the student's other parts are never called there.
"""

from __future__ import annotations

import numpy as np

from . import call, function, layers, oracle

PARTS = {
    "a3-im2col-tests": "im2col",
    "a3-col2im-tests": "col2im",
    "a3-adjoint-tests": "adjoint_test",
    "a3-back-tests": "conv_backward_vectorized",
}

# adjoint_test's runs: (shape, f, s); in some of them (drawn outside) col2im assigns where
# positions repeat
ADJOINT = (
    ((2, 3, 7, 6), 3, 2),
    ((1, 2, 5, 5), 2, 1),
    ((2, 2, 6, 6), 3, 1),
    ((1, 2, 7, 7), 3, 2),
    ((1, 3, 6, 7), 2, 2),
    ((2, 1, 5, 6), 3, 1),
    ((1, 2, 8, 6), 4, 2),
    ((2, 2, 5, 5), 2, 1),
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
        for k, (shape, f, s) in enumerate(ADJOINT):
            calls.append((f"run {k + 1}, adjoint_test({shape}, {f}, {s}, {test_seed})", name,
                          (k, shape, f, s, test_seed, seed)))
    else:
        for k, case in enumerate(layers.cases(seed + 34)):
            q, W, _, dz = layers.arrays(case, seed + k)
            calls.append((layers.describe(case), name, (dz, q, W, case[7])))
    return calls


class Gather:
    """A stand-in for im2col, entries read from secret positions of the input (not windows),
    and its adjoint, which adds each entry back where it was read (or, wrong, assigns): both
    answered by the trusted oracle."""

    def __init__(self, run):
        self.run = np.int64(run)

    def im2col(self, x, f, s):
        x = np.asarray(x)
        return oracle.ask("gather", run=self.run, x=x, f=np.int64(f), s=np.int64(s))

    def col2im(self, cols, shape, f, s):
        return oracle.ask("scatter", run=self.run, cols=np.asarray(cols),
                          shape=np.array([int(n) for n in shape], dtype=np.int64),
                          f=np.int64(f), s=np.int64(s))


def _run_adjoint(namespace, run, shape, f, s, test_seed, _seed):
    student = function(namespace, "adjoint_test")
    gather = Gather(run)
    swaps = {"im2col": gather.im2col, "col2im": gather.col2im}
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
            record = _run_adjoint(namespace, *args)
        else:
            record = call(function(namespace, name), args)
        record["case"] = label
        records.append(record)
    return records
