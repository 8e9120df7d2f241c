"""Assignment 1 (the forward pass): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a1.py) makes the same plan to compute
its references. Nothing here computes an answer.
"""

from __future__ import annotations

import numpy as np

from . import call, function, layers

PARTS = {
    "a1-size-tests": "padding_amount",
    "a1-split-tests": "split_padding",
    "a1-pad-tests": "pad",
    "a1-loops-tests": "conv_forward_loops",
    "a1-im2col-tests": "im2col",
    "a1-vec-tests": "conv_forward_vectorized",
}


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a1-size-tests":
        for h_in in range(1, 12, 2):
            for f in range(1, 5):
                for s in range(1, 4):
                    for h_out in (1, 2, 5):
                        calls.append((f"h_in={h_in}, f={f}, s={s}, h_out={h_out}", name,
                                      (h_in, f, s, h_out)))
    elif grade_id == "a1-split-tests":
        calls = [(f"p={p}", name, (p,)) for p in range(-9, 10)]
    elif grade_id == "a1-pad-tests":
        rng = np.random.default_rng(seed)
        for shape in [(4, 5), (2, 3, 6, 4), (1, 7, 3)]:
            for p in [((0, 0), (0, 0)), ((2, 1), (1, 2)), ((-1, -2), (0, -1)),
                      ((3, -1), (-2, 2))]:
                q = rng.normal(size=shape).astype(rng.choice([np.float64, np.float32]))
                calls.append((f"q of shape {shape} and pads={p}", name, (q, p)))
    elif grade_id == "a1-im2col-tests":
        for case, q_bar in layers.padded_inputs(seed + 4):
            calls.append((f"q_bar of shape {q_bar.shape}, f={case[6]}, s={case[7]} "
                          f"({case[0]})", name, (q_bar, case[6], case[7])))
    else:  # the forward passes, loops and vectorized
        for k, case in enumerate(layers.cases(seed + 3)):
            q, W, b, _ = layers.arrays(case, seed + k)
            calls.append((layers.describe(case), name, (q, W, b, case[7], case[8:10])))
    return calls


def _loops_switched_off(*args, **kwargs):
    raise RuntimeError("conv_forward_vectorized must not call conv_forward_loops")


def run(grade_id, namespace, seed):
    records = []
    loops = namespace.get("conv_forward_loops")
    if grade_id == "a1-vec-tests" and loops is not None:
        namespace["conv_forward_loops"] = _loops_switched_off
    try:
        for label, name, args in plan(grade_id, seed):
            record = call(function(namespace, name), args)
            record["case"] = label
            records.append(record)
    finally:
        if loops is not None:
            namespace["conv_forward_loops"] = loops
    return records
