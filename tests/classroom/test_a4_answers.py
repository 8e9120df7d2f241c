"""Assignment 4: the numbers and claims of the notebook's text, public tests and model answers.

Runs the source notebook's cells (the buggy layer, the tools, the solution cells) in plain
numpy, checks the trusted references of classroom/grading/checks/a4.py against
torch.nn.functional.conv1d with autograd, and re-derives every number the model answers quote.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "classroom/source/a4_debugging/a4_debugging.ipynb"


def _checks():
    """The trusted module, imported as the grader imports it (classroom/ on the path)."""
    import importlib
    import sys

    if str(ROOT / "classroom") not in sys.path:
        sys.path.insert(0, str(ROOT / "classroom"))
    return importlib.import_module("grading.checks.a4")


NAMES = ("padding_amount", "forward", "col2im", "filter_gradient", "input_gradient")


def _cells():
    nb = json.loads(SOURCE.read_text())
    out = {}
    for c in nb["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id")
        if gid:
            out[gid] = "".join(c["source"])
    return out


CELLS = _cells()


def _code(gid):
    text = CELLS[gid]
    text = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", "", text, flags=re.S)
    return "\n".join(ln for ln in text.split("\n") if "### " not in ln)


def layer(buggy=()):
    """The notebook's namespace: the buggy layer, the tools, then every solution not in buggy."""
    ns = {}
    exec(_code("a4-setup"), ns)
    exec(_code("a4-buggy"), ns)
    exec(_code("a4-tools"), ns)
    for gid, name in zip(("a4-pad", "a4-fwd", "a4-col2im", "a4-dw", "a4-dx"), NAMES,
                         strict=True):
        if name not in buggy:
            exec(_code(gid), ns)
    return ns


FIXED = layer()
BUGGY = {name: layer({name}) for name in NAMES}


def grid(top=lambda f: 2 * f - 2):
    """The layers of the Q2 grid: (n_b, ch_in, ch_out, length, f, s, l_out, p), -2 <= p <= top(f).

    Q2 asks about the layers in which every window reads an input sample: p <= 2 f - 2.
    """
    for n_b, ch_in, ch_out, f, s, l_out in itertools.product((1, 2), (1, 2), (1, 2),
                                                            range(1, 5), (1, 2, 3), (1, 2, 3)):
        for p in range(-2, top(f) + 1):
            length = s * (l_out - 1) + f - p
            if length >= 1:
                yield n_b, ch_in, ch_out, length, f, s, l_out, p


def col2im_grid():
    """Q2's argument sets of col2im: (n_b, ch, length, f, s) with f <= length <= 10."""
    for n_b, ch, f, s in itertools.product((1, 2), (1, 2), range(1, 5), (1, 2, 3)):
        for length in range(f, 11):
            yield n_b, ch, length, f, s


def every_window_reads_input(length, f, s, l_out, p):
    before = -(-p // 2)
    return all(any(0 <= s * i + a - before < length for a in range(f)) for i in range(l_out))


def test_public_tests_pass_on_the_solution_and_each_bug_fails_its_own():
    for gid in ("a4-pad-tests", "a4-fwd-tests", "a4-col2im-tests", "a4-dw-tests",
                "a4-dx-tests"):
        exec(_code(gid), dict(FIXED))
    for name, tests in zip(NAMES, ("a4-pad-tests", "a4-fwd-tests", "a4-col2im-tests",
                                   "a4-dw-tests", "a4-dx-tests"), strict=True):
        with pytest.raises(AssertionError):
            exec(_code(tests), dict(BUGGY[name]))


def _with(gid, old, new):
    """The corrected namespace with the solution of `gid` changed by one replacement."""
    ns = dict(FIXED)
    code = _code(gid)
    assert code.count(old) == 1, old
    exec(code.replace(old, new), ns)
    return ns


@pytest.mark.parametrize("gid, tests, old, new", [
    # the lead of eq. (25) without the crop: wrong for p <= -2 only
    ("a4-dx", "a4-dx-tests", "lead = f - 1 - -(-p // 2)", "lead = f - 1 - max(0, -(-p // 2))"),
    # float64 results for float32 inputs, in each part that returns arrays
    ("a4-fwd", "a4-fwd-tests", "return z.reshape(", "return z.astype(np.float64).reshape("),
    ("a4-col2im", "a4-col2im-tests", "return out", "return out.astype(np.float64)"),
    ("a4-dw", "a4-dw-tests", "return (dZ.T @ X).reshape(ch_out, ch_in, f)",
     "return (dZ.T @ X).reshape(ch_out, ch_in, f).astype(np.float64)"),
    ("a4-dx", "a4-dx-tests", "return dx", "return dx.astype(np.float64)"),
])
def test_public_tests_catch(gid, tests, old, new):
    with pytest.raises(AssertionError):
        exec(_code(tests), _with(gid, old, new))


def test_lead_without_crop_is_wrong_for_p_at_most_minus_2_only():
    ns = _with("a4-dx", "lead = f - 1 - -(-p // 2)", "lead = f - 1 - max(0, -(-p // 2))")
    rng = np.random.default_rng(3)
    for case in grid():
        n_b, ch_in, ch_out, length, f, s, l_out, p = case
        x, W = rng.normal(size=(n_b, ch_in, length)), rng.normal(size=(ch_out, ch_in, f))
        dz = rng.normal(size=(n_b, ch_out, l_out))
        same = np.allclose(ns["input_gradient"](dz, x, W, s), FIXED["input_gradient"](dz, x, W, s))
        assert same == (p > -2), case


def test_references_agree_with_torch_and_the_solution():
    torch = pytest.importorskip("torch")
    checks = _checks()

    rng = np.random.default_rng(0)
    for n_b, ch_in, ch_out, length, f, s, l_out, p in grid(lambda f: 2 * f + 1):
        x = rng.normal(size=(n_b, ch_in, length))
        W, b = rng.normal(size=(ch_out, ch_in, f)), rng.normal(size=ch_out)
        dz = rng.normal(size=(n_b, ch_out, l_out))
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(W, requires_grad=True)
        before, after = -(-p // 2), p // 2
        z = torch.nn.functional.conv1d(torch.nn.functional.pad(xt, (before, after)), Wt,
                                       torch.tensor(b), stride=s)
        (z * torch.tensor(dz)).sum().backward()
        dW, dx = checks.gradients_loops(dz, x, W, s)
        assert np.allclose(checks.forward_loops(x, W, b, s, l_out), z.detach().numpy())
        assert np.allclose(dW, Wt.grad.numpy()) and np.allclose(dx, xt.grad.numpy())
        assert FIXED["padding_amount"](length, f, s, l_out) == p
        assert np.allclose(FIXED["forward"](x, W, b, s, l_out), z.detach().numpy())
        assert np.allclose(FIXED["filter_gradient"](dz, x, W, s), dW)
        assert np.allclose(FIXED["input_gradient"](dz, x, W, s), dx)
        if length >= f:
            n_win = (length - f) // s + 1
            cols = rng.normal(size=(n_b * n_win, ch_in * f))
            shape = (n_b, ch_in, length)
            assert np.allclose(FIXED["col2im"](cols, shape, f, s),
                               checks.col2im_loops(cols, shape, f, s))


def escapes(name, case, rng):
    """Whether buggy[name] of the notebook, the other four fixed, gives the corrected result."""
    n_b, ch_in, ch_out, length, f, s, l_out, p = case
    bug, fix = {name: FIXED["buggy"][name]}, FIXED
    x = rng.normal(size=(n_b, ch_in, length))
    W, b = rng.normal(size=(ch_out, ch_in, f)), rng.normal(size=ch_out)
    dz = rng.normal(size=(n_b, ch_out, l_out))
    try:
        if name == "padding_amount":
            return bug[name](length, f, s, l_out) == fix[name](length, f, s, l_out)
        if name == "forward":
            got, want = bug[name](x, W, b, s, l_out), fix[name](x, W, b, s, l_out)
        elif name == "col2im":
            n_win = (length - f) // s + 1
            cols = rng.normal(size=(n_b * n_win, ch_in * f))
            got = bug[name](cols, (n_b, ch_in, length), f, s)
            want = fix[name](cols, (n_b, ch_in, length), f, s)
        else:
            got, want = bug[name](dz, x, W, s), fix[name](dz, x, W, s)
    except ValueError:
        return False
    return got.shape == want.shape and np.allclose(got, want)


CONDITIONS = {  # Q2's model answer
    "padding_amount": lambda n_b, ci, co, length, f, s, l_out, p: p >= 0,
    "forward": lambda n_b, ci, co, length, f, s, l_out, p: all(
        2 * a == f - 1 for i in range(l_out) for a in range(f)
        if 0 <= s * i + a + (-p) // 2 < length),  # s i + a - ceil(p/2): the sample read
    "col2im": lambda n_b, ci, co, length, f, s, l_out, p: (length - f) % s == 0,
    "filter_gradient": lambda n_b, ci, co, length, f, s, l_out, p: co == 1 or l_out == 1,
    "input_gradient": lambda n_b, ci, co, length, f, s, l_out, p: p % 2 == 0,
}


def test_q2_conditions_on_the_grid():
    cases = list(grid())
    assert len(cases) == 1544 and "grid of 1,544 layers" in CELLS["a4-q2"]
    assert "$-2 \\le p \\le 2f - 2$" in CELLS["a4-q2"]
    assert "p \\le 2f - 2$" in CELLS["a4-q2-question"]
    # the restriction of the question: every window reads an input sample iff p <= 2 f - 2
    for case in grid(lambda f: 2 * f + 2):
        assert every_window_reads_input(*case[3:]) == (case[7] <= 2 * case[4] - 2), case
    rng = np.random.default_rng(1)
    for name, condition in CONDITIONS.items():
        if name == "col2im":
            continue
        for case in cases:
            assert escapes(name, case, rng) == condition(*case), (name, case)
    # windows that read only zeros hide more: beyond p = 2 f - 2 the conditions have exceptions
    wider = [c for c in grid(lambda f: 2 * f + 2) if c[7] > 2 * c[4] - 2]
    for name in ("filter_gradient", "input_gradient"):
        assert any(escapes(name, c, rng) and not CONDITIONS[name](*c) for c in wider), name
    assert any(escapes("forward", c, rng) and c[4] > 1 and (c[3], c[4], c[6], c[7]) != (1, 3, 1, 2)
               for c in wider)  # more layer shapes than the model answer lists
    args = list(col2im_grid())
    assert len(args) == 408 and "408 argument sets" in CELLS["a4-q2"]
    for n_b, ch, length, f, s in args:
        case = (n_b, ch, 1, length, f, s, 1, 0)
        assert escapes("col2im", case, rng) == ((length - f) % s == 0), case
    centre = [c for c in cases if c[4] > 1 and CONDITIONS["forward"](*c)]
    assert {(c[3], c[4], c[6], c[7]) for c in centre} == {(1, 3, 1, 2)}
    assert {c[5] for c in centre} == {1, 2, 3} and "(any $s$)" in CELLS["a4-q2"]
    # a padded input of the layer leaves no sample after the last window (eq. (7))
    assert all((c[3] + c[7] - c[4]) % c[5] == 0 for c in cases)
    # a palindromic filter lets the forward bug escape with f > 1
    W = np.array([[[1.0, 2.0, 1.0]]])
    x = np.random.default_rng(2).normal(size=(1, 1, 6))
    assert np.allclose(BUGGY["forward"]["forward"](x, W, np.zeros(1), 1, 4),
                       FIXED["forward"](x, W, np.zeros(1), 1, 4))


def test_q1_evidence():
    answer = CELLS["a4-q1"]
    bug = BUGGY["padding_amount"]
    assert bug["padding_amount"](8, 3, 2, 2) == 0 and FIXED["padding_amount"](8, 3, 2, 2) == -3
    assert bug["im2col"](np.zeros((1, 1, 8)), 3, 2).shape[0] == 3
    with pytest.raises(ValueError, match="reshape"):
        bug["forward"](np.arange(8.0).reshape(1, 1, 8), np.array([[[1.0, -1, 2]]]),
                       np.zeros(1), 2, 2)
    q = FIXED["impulse"]((1, 1, 5), (0, 0, 2))
    W = np.array([[[1.0, 2, 3]]])
    assert BUGGY["forward"]["forward"](q, W, np.zeros(1), 1, 5).tolist() == [[[0, 1, 2, 3, 0]]]
    assert FIXED["forward"](q, W, np.zeros(1), 1, 5).tolist() == [[[0, 3, 2, 1, 0]]]
    assert "$[0, 1, 2, 3, 0]$ instead of $[0, 3, 2, 1, 0]$" in answer
    assert BUGGY["col2im"]["col2im"](np.zeros((6, 6)), (2, 2, 8), 3, 2).shape == (2, 2, 7)
    tool = FIXED["adjoint_test"]
    assert "returned shape (2, 2, 7), not (2, 2, 8)" in tool(FIXED["buggy"]["col2im"], (2, 2, 8),
                                                               3, 2)
    assert tool(FIXED["buggy"]["col2im"], (1, 1, 7), 3, 2).endswith(": equal")
    assert tool(FIXED["col2im"], (2, 2, 8), 3, 2).endswith(": equal")
    assert 'adjoint_test(buggy["col2im"], (2, 2, 8), 3, 2)' in answer
    # filter_gradient: the public finite-difference case, and the impulse in dz
    rng = np.random.default_rng(5)
    x, W, b = rng.normal(size=(2, 2, 5)), rng.normal(size=(3, 2, 4)), rng.normal(size=3)
    dz = rng.normal(size=(2, 3, 3))
    num = FIXED["finite_differences"](lambda: np.sum(FIXED["forward"](x, W, b, 2, 3) * dz), W)
    got = BUGGY["filter_gradient"]["filter_gradient"](dz, x, W, 2)
    assert np.sum(~np.isclose(got, num, atol=1e-5)) == 24 == got.size
    assert "all 24 of 24 entries" in answer
    x7 = np.arange(28.0).reshape(2, 2, 7) % 6
    dz1 = FIXED["impulse"]((2, 3, 3), (1, 2, 1))
    got = BUGGY["filter_gradient"]["filter_gradient"](dz1, x7, np.zeros((3, 2, 3)), 2)
    assert np.flatnonzero(np.abs(got).sum(axis=(1, 2))).tolist() == [1]
    assert np.allclose(got[1], x7[1, :, 4:7])  # window 2 of image 1
    # input_gradient: the public finite-difference cases
    rng = np.random.default_rng(6)
    seen = {}
    for length, f, s, l_out in [(5, 3, 1, 5), (5, 4, 2, 3), (9, 2, 2, 4), (7, 3, 3, 2),
                                (9, 3, 2, 3)]:
        x, W = rng.normal(size=(2, 2, length)), rng.normal(size=(3, 2, f))
        b, dz = rng.normal(size=3), rng.normal(size=(2, 3, l_out))
        num = FIXED["finite_differences"](
            lambda x=x, W=W, b=b, s=s, n=l_out, dz=dz:
            np.sum(FIXED["forward"](x, W, b, s, n) * dz), x)
        got = BUGGY["input_gradient"]["input_gradient"](dz, x, W, s)
        true = FIXED["input_gradient"](dz, x, W, s)
        seen[(length, f, s)] = int(np.sum(~np.isclose(got, num, atol=1e-5)))
        if (s * (l_out - 1) + f - length) % 2:
            assert np.allclose(got[..., 1:], true[..., :-1])  # moved one position later
    assert seen[(5, 3, 1)] == 0 and seen[(5, 4, 2)] == 20 and seen[(7, 3, 3)] == 28
    assert "20 of 20 entries" in answer and "28 of 28" in answer


def test_text_claims():
    intro = CELLS["a4-intro"]
    assert "About 2-3 hours" in intro
    assert "numpy and matplotlib, without `convlib`" in intro
    checks = _checks()

    assert checks.CONVLIB is None  # the kernel gets no convlib
    import matplotlib.pyplot  # noqa: F401  (error_map needs it; the grading kernel has it)

    nb = json.loads(SOURCE.read_text())
    points = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"].get("points")
              for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
    assert points == {"a4-pad-tests": 1, "a4-fwd-tests": 2, "a4-col2im-tests": 2,
                      "a4-dw-tests": 2, "a4-dx-tests": 3, "a4-q1": 2, "a4-q2": 2}
    assert "Part 1: `padding_amount`, 1 point" in CELLS["a4-pad-md"]
    assert "Part 5: `input_gradient`, 3 points" in CELLS["a4-dx-md"]
    # every cell has a stable id (nbformat 4.5): no MissingIDFieldWarning
    ids = [c.get("id") for c in nb["cells"]]
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5) and all(ids)
    assert len(set(ids)) == len(ids)
    # the originals stay reachable after the fixes
    assert set(FIXED["buggy"]) == set(NAMES)
    for name in NAMES:
        assert FIXED["buggy"][name] is not FIXED[name]
    # the notebook names no bug in a public message: no test cell mentions the fixes
    tests = "".join(_code(g) for g in CELLS if g.endswith("-tests"))
    for word in ("reversed", "flip", "clamp", "transpose", "ceil", "floor", "summed over"):
        assert word not in tests
