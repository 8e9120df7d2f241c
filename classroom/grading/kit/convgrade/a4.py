"""Assignment 4 (debugging a 1-D layer): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a4.py) makes the same plan to compute
its references. Nothing here computes an answer; the layers are in `a4_cases`.

Each part is graded on its own. `forward`, `filter_gradient` and `input_gradient` reach the
student's `padding_amount` (part 1) directly or through the notebook's `layer_pads`; while
they run, that name is a table of the paddings the hidden layers were built from, so a wrong
part 1 costs no points elsewhere. The table knows those layers only: it is no implementation
of eq. (7). `col2im` calls nothing of the student's but itself.
"""

from __future__ import annotations

import numpy as np

from . import a4_cases, call, function

PARTS = {
    "a4-pad-tests": "padding_amount",
    "a4-fwd-tests": "forward",
    "a4-col2im-tests": "col2im",
    "a4-dw-tests": "filter_gradient",
    "a4-dx-tests": "input_gradient",
}
SEEDS = {"a4-fwd-tests": 41, "a4-col2im-tests": 42, "a4-dw-tests": 43, "a4-dx-tests": 44}


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a4-pad-tests":
        rng = np.random.default_rng(seed)
        for length in range(1, 10):
            for f in range(1, 5):
                for s in range(1, 4):
                    for l_out in range(1, 5):
                        calls.append((f"padding_amount(length={length}, f={f}, s={s}, "
                                      f"l_out={l_out})", name, (length, f, s, l_out)))
        for _ in range(8):  # larger ones
            length, f, s, l_out = (int(rng.integers(10, 64)), int(rng.integers(1, 8)),
                                   int(rng.integers(1, 6)), int(rng.integers(5, 20)))
            calls.append((f"padding_amount(length={length}, f={f}, s={s}, l_out={l_out})",
                          name, (length, f, s, l_out)))
        return calls
    part_seed = seed + SEEDS[grade_id]
    for k, case in enumerate(a4_cases.cases(part_seed)):
        x, W, b, dz = a4_cases.arrays(case, seed + 7 * k)
        label, n_b, ch_in, ch_out, length, f, s, l_out, dtype, p = case
        if grade_id == "a4-fwd-tests":
            calls.append((a4_cases.describe(case), name, (x, W, b, s, l_out)))
        elif grade_id == "a4-col2im-tests":
            # a window matrix (rows (n, i), columns (mu, a)) of a sequence of length `total`;
            # some cases end in samples that no window reads
            rng = np.random.default_rng(seed + 100 + k)
            total = s * (l_out - 1) + f + (k % s if k < len(a4_cases.FIXED)
                                           else int(rng.integers(0, s)))
            shape = (n_b, ch_in, total)
            cols = rng.normal(size=(n_b * l_out, ch_in * f)).astype(dtype)
            calls.append((f"(case '{label}': cols of shape {cols.shape}, shape={shape}, f={f}, "
                          f"s={s}, {np.dtype(dtype).name})", name, (cols, shape, f, s)))
        else:  # the gradients
            calls.append((a4_cases.describe(case), name, (dz, x, W, s)))
    return calls


_MISSING = object()


def _padding_table(table):
    def padding_amount(length, f, s, l_out):
        key = (int(length), int(f), int(s), int(l_out))
        if key not in table:
            raise RuntimeError(
                f"padding_amount{key} was called: while this part is graded, padding_amount "
                "(part 1) answers for the sizes of the layer under test only")
        return table[key]
    return padding_amount


def run(grade_id, namespace, seed):
    records = []
    swap = grade_id in ("a4-fwd-tests", "a4-dw-tests", "a4-dx-tests")
    own = namespace.get("padding_amount", _MISSING)
    if swap:
        namespace["padding_amount"] = _padding_table(a4_cases.paddings(seed + SEEDS[grade_id]))
    try:
        for label, name, args in plan(grade_id, seed):
            record = call(function(namespace, name), args)
            record["case"] = label
            records.append(record)
    finally:
        if swap and own is _MISSING:
            namespace.pop("padding_amount", None)
        elif swap:
            namespace["padding_amount"] = own
    return records
