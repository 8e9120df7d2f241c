"""Assignment 4 (debugging a layer): the hidden cases, as calls of the student's functions.

`plan(grade_id, seed)` lists the calls, (label, function name, args); the kernel runs them
(`run`) and the trusted grader (classroom/grading/checks/a4.py) makes the same plan to compute
its references. Nothing here computes an answer.

Each part is graded on its own. `forward`, `filter_gradient` and `input_gradient` reach the
student's `padding_amount` (part 1) through the notebook's `layer_pads`; while they run, that
name is a table of the paddings the hidden layers were built from (a layer here is made from
its padding p: h_in = s (h_out - 1) + f - p), so a wrong part 1 costs no points elsewhere.
The table knows those layers only: it is no implementation of eq. (7).
"""

from __future__ import annotations

import numpy as np

from . import call, function

PARTS = {
    "a4-pad-tests": "padding_amount",
    "a4-fwd-tests": "forward",
    "a4-col2im-tests": "col2im",
    "a4-dw-tests": "filter_gradient",
    "a4-dq-tests": "input_gradient",
}
SEEDS = {"a4-fwd-tests": 41, "a4-col2im-tests": 42, "a4-dw-tests": 43, "a4-dq-tests": 44}


def cases(seed, n_random=4):
    """(label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype, (p_h, p_w))."""
    fixed = [  # (label, n_b, ch_in, ch_out, p_h, p_w, f, s, h_out, w_out)
        ("stride 1, no padding", 1, 1, 1, 0, 0, 3, 1, 3, 3),
        ("stride 1, odd padding", 1, 1, 2, 1, 1, 2, 1, 4, 4),
        ("stride 2, odd padding", 1, 2, 1, 3, 3, 3, 2, 4, 4),
        ("negative padding (cropped rows)", 1, 1, 1, -2, -1, 3, 2, 2, 2),
        ("stride 3, rectangular image", 1, 2, 2, 1, 1, 3, 3, 3, 2),
        ("a batch of 3 images, 3 input and 2 output channels", 3, 3, 2, 1, 2, 3, 2, 3, 3),
        ("f = 1", 2, 2, 3, -1, 0, 1, 2, 2, 2),
        ("a batch of 2 images, odd padding, stride 1", 2, 2, 2, 1, 1, 2, 1, 3, 4),
    ]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        f, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h_out, w_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        # -2 <= p <= f - 1: every window overlaps the image
        p_h, p_w = int(rng.integers(-2, f)), int(rng.integers(-2, f))
        h_in, w_in = s * (h_out - 1) + f - p_h, s * (w_out - 1) + f - p_w
        if min(h_in, w_in) < 1 or h_in + min(p_h, 0) < 1 or w_in + min(p_w, 0) < 1:
            p_h = p_w = 0
        fixed.append((f"random shape {k + 1}", int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                      int(rng.integers(1, 4)), p_h, p_w, f, s, h_out, w_out))
    out = [c + (np.float64,) for c in fixed]
    out.append(("float32 inputs", 2, 2, 3, 1, 2, 3, 2, 3, 4, np.float32))
    built = []
    for label, n_b, ch_in, ch_out, p_h, p_w, f, s, h_out, w_out, dtype in out:
        h_in, w_in = s * (h_out - 1) + f - p_h, s * (w_out - 1) + f - p_w
        built.append((label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype,
                      (p_h, p_w)))
    return built


def describe(case):
    label, n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype = case[:11]
    return (f"(case '{label}': q of shape ({n_b}, {ch_in}, {h_in}, {w_in}), W of shape "
            f"({ch_in}, {ch_out}, {f}, {f}), s={s}, h_out=({h_out}, {w_out}), "
            f"{np.dtype(dtype).name})")


def arrays(case, seed):
    """q, W, b, dz of a case (dz has the output's shape)."""
    n_b, ch_in, ch_out, h_in, w_in, f, s, h_out, w_out, dtype = case[1:11]
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_b, ch_in, h_in, w_in)).astype(dtype)
    W = rng.normal(size=(ch_in, ch_out, f, f)).astype(dtype)
    b = rng.normal(size=ch_out).astype(dtype)
    dz = rng.normal(size=(n_b, ch_out, h_out, w_out)).astype(dtype)
    return q, W, b, dz


def paddings(seed):
    """{(h_in, f, s, h_out): p} of the layers of a part: the paddings they were built from."""
    table = {}
    for case in cases(seed):
        h_in, w_in, f, s, h_out, w_out = case[4:10]
        table[(h_in, f, s, h_out)] = case[11][0]
        table[(w_in, f, s, w_out)] = case[11][1]
    return table


def plan(grade_id, seed):
    name = PARTS[grade_id]
    calls = []
    if grade_id == "a4-pad-tests":
        rng = np.random.default_rng(seed)
        for h_in in range(1, 10):
            for f in range(1, 5):
                for s in range(1, 4):
                    for h_out in range(1, 5):
                        calls.append((f"padding_amount(h_in={h_in}, f={f}, s={s}, "
                                      f"h_out={h_out})", name, (h_in, f, s, h_out)))
        for _ in range(8):  # larger ones
            h_in, f, s, h_out = (int(rng.integers(10, 64)), int(rng.integers(1, 8)),
                                 int(rng.integers(1, 6)), int(rng.integers(5, 20)))
            calls.append((f"padding_amount(h_in={h_in}, f={f}, s={s}, h_out={h_out})", name,
                          (h_in, f, s, h_out)))
        return calls
    part_seed = seed + SEEDS[grade_id]
    for k, case in enumerate(cases(part_seed)):
        q, W, b, dz = arrays(case, seed + 7 * k)
        s, h_out, f = case[7], case[8:10], case[6]
        if grade_id == "a4-fwd-tests":
            calls.append((describe(case), name, (q, W, b, s, h_out)))
        elif grade_id == "a4-col2im-tests":
            # the window matrix of an image of shape `shape` (rows (n, i, j), columns
            # (mu, a, b)); some cases have rows/columns at the end that no window reads
            rng = np.random.default_rng(seed + 100 + k)
            extra = (int(rng.integers(0, s)), int(rng.integers(0, s)))
            shape = (case[1], case[2], s * (h_out[0] - 1) + f + extra[0],
                     s * (h_out[1] - 1) + f + extra[1])
            cols = rng.normal(size=(case[1] * h_out[0] * h_out[1], case[2] * f * f))
            cols = cols.astype(case[10])
            calls.append((f"(case '{case[0]}': cols of shape {cols.shape}, shape={shape}, "
                          f"f={f}, s={s}, {np.dtype(case[10]).name})", name,
                          (cols, shape, f, s)))
        else:  # the gradients
            calls.append((describe(case), name, (dz, q, W, s)))
    return calls


_MISSING = object()


def _padding_table(table):
    def padding_amount(h_in, f, s, h_out):
        key = (int(h_in), int(f), int(s), int(h_out))
        if key not in table:
            raise RuntimeError(
                f"padding_amount{key} was called: while this part is graded, padding_amount "
                "(part 1) answers for the sizes of the layer under test only")
        return table[key]
    return padding_amount


def run(grade_id, namespace, seed):
    records = []
    swap = grade_id in ("a4-fwd-tests", "a4-dw-tests", "a4-dq-tests")
    own = namespace.get("padding_amount", _MISSING)
    if swap:
        namespace["padding_amount"] = _padding_table(paddings(seed + SEEDS[grade_id]))
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
