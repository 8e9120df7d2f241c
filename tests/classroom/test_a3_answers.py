"""Assignment 3 (NHWC, grouped): the model solution, its public tests and the quoted numbers.

Runs the source notebook's setup and solution cells (not its hidden lines), then checks:
the public tests pass on the model solution; the trusted references of the hidden checks
(grading/checks/a3.py, loops from the definition) and the oracle's window index agree with the
model solution and with torch.nn.functional.conv2d(groups=g); every claim and number of the
statement and of the model answers (Q1, Q2); that the public tests catch the mistakes they are
meant to catch; the dtype rule. No timing is asserted anywhere (speed is the student's
observation, or a benchmark script's, never a unit test's).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "classroom"), str(ROOT / "classroom" / "grading" / "kit")]
from convgrade import a3 as kit  # noqa: E402
from grading import oracle  # noqa: E402
from grading.checks import a3 as checks  # noqa: E402

NOTEBOOK = ROOT / "classroom" / "source" / "a3_vectorized" / "a3_vectorized.ipynb"


def _cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def _source(cell):
    text = "".join(cell["source"])
    text = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", "", text, flags=re.S)
    return "\n".join(line for line in text.split("\n")
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


@pytest.fixture(scope="module")
def model():
    """The namespace after the setup and solution cells (no test cell)."""
    ns: dict = {}
    for cell in _cells():
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("solution") or
                                            meta.get("grade_id") == "a3-setup"):
            exec(compile(_source(cell), meta["grade_id"], "exec"), ns)
    return ns


def _markdown(grade_id):
    cell = next(c for c in _cells() if c["metadata"].get("nbgrader", {}).get("grade_id")
                == grade_id)
    return "".join(cell["source"])


def test_public_tests_pass_on_the_model_solution(capsys):
    ns: dict = {}
    for cell in _cells():
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader"):
            exec(compile(_source(cell), "cell", "exec"), ns)
    out = capsys.readouterr().out
    for name in ("im2col", "col2im", "adjoint_test", "conv_nhwc", "conv_nhwc_backward"):
        assert f"{name}: public tests passed" in out


def _torch_layer(q, W, b, s, pads, g):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    (t, b_), (l_, r) = pads
    qt = torch.tensor(q.transpose(0, 3, 1, 2), requires_grad=True)
    Wt = torch.tensor(W.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    z = F.conv2d(F.pad(qt, (l_, r, t, b_)), Wt, bt, stride=s, groups=g)
    return z, qt, Wt, bt


def _run_public(replace=None):
    """Run the setup, solution and public test cells in order, `replace` = {grade_id:
    (old, new)} applied to solution cells; returns (namespace, {grade_id: exception})."""
    ns: dict = {}
    errors = {}
    for cell in _cells():
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta:
            continue
        src = _source(cell)
        if replace and meta["grade_id"] in replace:
            old, new = replace[meta["grade_id"]]
            assert src.count(old) == 1, old
            src = src.replace(old, new)
        try:
            exec(compile(src, meta["grade_id"], "exec"), ns)
        except AssertionError as exc:
            errors[meta["grade_id"]] = exc
    return ns, errors


def test_solution_cells_only_define(model):
    """A blank release run top to bottom fails in the test cells only: no solution cell calls
    its function (the demo calls are in the test cells)."""
    for cell in _cells():
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            body = ast.parse(_source(cell)).body
            assert all(isinstance(node, ast.FunctionDef) for node in body), meta["grade_id"]


@pytest.mark.parametrize("grade_id, old, new, failing, words", [
    # col2im placing the kept rows and columns from index 0 after a negative top/left crop
    ("a3-col2im", "return pad_nhwc(dq_bar, ((-top, -bottom), (-left, -right)))",
     "out = np.zeros(shape, dq_bar.dtype)\n"
     "    kept = dq_bar[:, max(top, 0):H - max(bottom, 0), max(left, 0):W_ - max(right, 0)]\n"
     "    out[:, :kept.shape[1], :kept.shape[2]] = kept\n    return out",
     "a3-col2im-tests", ("negative top", "case: pads ((-1, 0), (-1, 1))")),
    # im2col ignoring a negative top pad (crops the bottom instead)
    ("a3-im2col", "q_bar = pad_nhwc(q, pads)",
     "q_bar = pad_nhwc(q, ((max(pads[0][0], 0), pads[0][1] + min(pads[0][0], 0)), pads[1]))",
     "a3-im2col-tests", ("negative top pad crops row 0", "case: stride (2, 1)")),
    # im2col ignoring a negative right pad
    ("a3-im2col", "q_bar = pad_nhwc(q, pads)",
     "q_bar = pad_nhwc(q, (pads[0], (pads[1][0], max(pads[1][1], 0))))",
     "a3-im2col-tests", ("negative right pad", "case: stride (2, 1)")),
    # the bias of a grouped layer added in the groups' order (channel nu gets b of nu % g ...)
    ("a3-fwd", "Z + b.astype(Z.dtype)",
     "Z + b.reshape(g, -1).T.reshape(-1).astype(Z.dtype)",
     "a3-fwd-tests", ("b[nu] is added to output channel nu", "with a bias")),
    # a float64 b not cast: z becomes float64
    ("a3-fwd", "Z + b.astype(Z.dtype)", "Z + b", "a3-fwd-tests", ("float32 (cast b)",)),
])
def test_public_tests_catch(grade_id, old, new, failing, words):
    _, errors = _run_public({grade_id: (old, new)})
    assert failing in errors, errors
    message = str(errors[failing])
    assert all(w in message for w in words), message


def test_public_adjoint_cell_fails_on_a_pair_that_is_not_adjoint():
    """Part 3's public cell never says "passed" after a large gap of the student's own pair."""
    _, errors = _run_public({"a3-col2im": ("dq_bar[:, rows, columns] += c6[:, :, :, a, b]",
                                           "dq_bar[:, rows, columns] = c6[:, :, :, a, b]")})
    assert "overlapping windows add up" in str(errors["a3-col2im-tests"])
    assert "im2col and col2im are not adjoint for case shape (2, 7, 6, 3)" in str(
        errors["a3-adjoint-tests"])


def test_dtypes_as_stated(model):
    """z, dq, dW, db have q's (and W's) dtype; a float64 b is cast (statement, public and
    hidden tests agree)."""
    text = _markdown("a3-layer-md")
    assert "cast it to `q`'s dtype" in text and "float64 `b` with\nfloat32 `q` and `W`" in text
    rng = np.random.default_rng(4)
    q = rng.normal(size=(2, 6, 7, 4)).astype(np.float32)
    W = rng.normal(size=(3, 2, 2, 6)).astype(np.float32)
    b, dz = rng.normal(size=6), rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    pads = ((1, 0), (0, 1))
    z = model["conv_nhwc"](q, W, b, (2, 1), pads, 2)
    assert z.dtype == np.float32 and checks.close(z, checks.conv_ref(q, W, b, (2, 1), pads, 2))
    assert all(x.dtype == np.float32
               for x in model["conv_nhwc_backward"](dz, q, W, (2, 1), pads, 2))
    # the hidden float32 forward case passes a float64 b
    calls = kit.plan("a3-fwd-tests", 7)
    label, _, (q, W, b, *_rest) = calls[-1]
    assert q.dtype == W.dtype == np.float32 and b.dtype == np.float64 and "b float64" in label


@pytest.mark.parametrize("grade_id", ["a3-im2col-tests", "a3-col2im-tests", "a3-fwd-tests",
                                      "a3-back-tests"])
def test_the_model_solution_passes_the_hidden_checks(model, grade_id):
    from convgrade import call
    for label, name, args in kit.plan(grade_id, 11):
        checks.check(grade_id, name, label, args, call(model[name], args))


def test_references_agree_with_torch_and_the_model(model):
    torch = pytest.importorskip("torch")
    for seed in range(3):
        for k, case in enumerate(kit.cases(seed)):
            q, W, b, dz = (x.astype(np.float64) for x in kit.arrays(case, seed + k))
            f, s, pads, g = case[7], case[8], case[9], case[6]
            z, qt, Wt, bt = _torch_layer(q, W, b, s, pads, g)
            (z * torch.tensor(dz.transpose(0, 3, 1, 2))).sum().backward()
            want_z = z.detach().numpy().transpose(0, 2, 3, 1)
            want = (qt.grad.numpy().transpose(0, 2, 3, 1), Wt.grad.numpy().transpose(2, 3, 1, 0),
                    bt.grad.numpy())
            assert np.allclose(checks.conv_ref(q, W, b, s, pads, g), want_z), case[0]
            # Q1 (a): PyTorch's filters (ch_out, ch_in // g, f_h, f_w) by transpose(2, 3, 1, 0)
            W_torch = Wt.detach().numpy()
            assert np.allclose(model["conv_nhwc"](q, W_torch.transpose(2, 3, 1, 0), b, s, pads, g),
                               want_z), case[0]
            assert np.allclose(model["conv_nhwc"](q, W, b, s, pads, g), want_z), case[0]
            for ref, mod, w in zip(checks.backward_ref(dz, q, W, s, pads, g),
                                   model["conv_nhwc_backward"](dz, q, W, s, pads, g), want,
                                   strict=True):
                assert np.allclose(ref, w) and np.allclose(mod, w), case[0]
            index = checks.window_index(q.shape, f, s, pads)
            assert np.array_equal(index, oracle.a3_window_index(q.shape, f, s, pads))
            Q = checks.im2col_ref(q, f, s, pads)
            assert np.array_equal(Q, model["im2col"](q, f, s, pads)), case[0]
            Y = np.random.default_rng(k).normal(size=Q.shape)
            assert np.allclose(checks.col2im_ref(Y, q.shape, f, s, pads),
                               model["col2im"](Y, q.shape, f, s, pads)), case[0]
            assert model["adjoint_test"](q.shape, f, s, pads, k) < 1e-12


def test_the_diagnoses_can_fail_and_name_the_mistake(model):
    """The wrong variants the checks recognise really differ from the reference."""
    case = kit.FIXED[4]  # g = 2, windows overlap
    q, W, b, dz = kit.arrays(case + (np.float64,), 0)
    f, s, pads, g = case[7], case[8], case[9], case[6]
    Y = np.random.default_rng(0).normal(size=checks.im2col_ref(q, f, s, pads).shape)
    right = checks.col2im_ref(Y, q.shape, f, s, pads)
    for wrong in (False, None):
        assert not checks.close(checks.col2im_ref(Y, q.shape, f, s, pads, add=wrong), right)
    assert not checks.close(checks.conv_ref(q, W, b, s, pads, g, True),
                            checks.conv_ref(q, W, b, s, pads, g))
    z0 = checks.conv_ref(q, W, None, s, pads, g)
    swapped = b.reshape(g, -1).T.reshape(-1)  # the bias in the groups' order
    assert checks._bias_permuted(z0 + swapped, z0, b)
    assert not checks._bias_permuted(z0 + b, z0, b) and not checks._bias_permuted(z0, z0, b)


def test_statement_g1_is_one_product_without_transpose(model):
    """The intro and Q1 (a): for g = 1, im2col(q) @ W.reshape(-1, ch_out) is the layer."""
    rng = np.random.default_rng(5)
    q, W = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 4))
    s, pads = (2, 1), ((1, 0), (-1, 2))
    Q = model["im2col"](q, (3, 2), s, pads)
    z = (Q @ W.reshape(-1, 4)).reshape(2, 3, 6, 4)
    assert np.allclose(z, checks.conv_ref(q, W, None, s, pads, 1))
    # a full-image window of one image is that image in memory order (part 1's public test)
    assert np.array_equal(model["im2col"](q, (7, 6), (1, 1), ((0, 0), (0, 0))),
                          q.reshape(2, -1))


def test_q1_rows_three_and_four_are_zero(model):
    text = _markdown("a3-q1")
    assert "Rows 3 and 4" in text and "\\rfloor + 1 = 2" in text
    assert "W_torch.transpose(2, 3, 1, 0)" in text
    shape, f, s, pads = (1, 5, 4, 1), (2, 2), (2, 1), ((1, -1), (0, 0))
    rng = np.random.default_rng(0)
    Q = model["im2col"](np.zeros(shape), f, s, pads)
    assert len(Q) == 2 * 3  # h_out = 2 (and w_out = 3)
    for _ in range(5):
        dq = model["col2im"](rng.normal(size=Q.shape), shape, f, s, pads)
        zero = [r for r in range(5) if not dq[0, r].any()]
        assert zero == [3, 4]
    # the windows read the zero row and q rows 0, 1, 2
    index = checks.window_index(shape, f, s, pads)
    assert sorted({int(i) // 4 for i in index[index >= 0]}) == [0, 1, 2]
    assert (index < 0).any()  # the top zero row is read (its gradient is dropped)


def test_q2_counts_without_a_clock(model):
    """Q2's model answer claims counts only (no timing is asserted: speed is measured by the
    student, and by benchmark scripts, never in a unit test)."""
    text = _markdown("a3-q2")
    n_b, h, w, ch = 8, 32, 32, 16
    macs = {g: n_b * h * w * 9 * (ch // g) * ch for g in (1, 4, 16)}
    assert macs == {1: 18_874_368, 4: 4_718_592, 16: 1_179_648}
    for g in (1, 4, 16):
        assert f"{macs[g]:,}".replace(",", "\\,") in text
    assert n_b * h * w == 8192 and "= 8192$" in text
    assert n_b * h * w * 4 == 32_768 and "32\\,768" in text
    # fully literal loops: one iteration per multiply-add of g = 4
    assert n_b * h * w * 9 * 4 * (ch // 4) * (ch // 4) == macs[4]
    rng = np.random.default_rng(0)
    q = rng.normal(size=(n_b, h, w, ch))
    pads = ((1, 1), (1, 1))
    Q = model["im2col"](q, (3, 3), (1, 1), pads)
    # the window matrix: the same for every g, 9 times the input, as many numbers as g = 16's
    # multiply-adds
    assert Q.size == 1_179_648 == 9 * q.size == macs[16] and "1\\,179\\,648" in text
    assert "9 times the input" in text and "each window entry is used once" in text
    # depthwise: 16 products (8192 x 9) @ (9 x 1), as the model solution groups them
    g, cg_in, K = 16, 1, 9
    Qg = Q.reshape(len(Q), 9, g, cg_in).transpose(2, 0, 1, 3).reshape(g, len(Q), K)
    Wg = rng.normal(size=(3, 3, 1, ch)).reshape(K, g, 1).transpose(1, 0, 2)
    assert Qg.shape == (16, 8192, 9) and Wg.shape == (16, 9, 1)
    assert "$8192 \\times 9$ times $9 \\times 1$" in text
    # col2im makes one strided addition per filter tap: 9 here
    assert "one\nstrided addition per filter tap, 9 here" in text
    # the loops of Q2 (pixels, then groups) agree with the vectorized pass (a smaller case)
    qs, dz = q[:2, :8, :8], rng.normal(size=(2, 8, 8, ch))
    W4 = rng.normal(size=(3, 3, ch // 4, ch))
    fast = model["conv_nhwc_backward"](dz, qs, W4, (1, 1), pads, 4)
    slow = _pixel_loops(model["pad_nhwc"], dz, qs, W4, (1, 1), pads, 4)
    assert all(np.allclose(x, y) for x, y in zip(fast, slow, strict=True))
    # timings are the student's observation: no speed claim of the model solution survives
    assert "times are the student's own observation" in text
    assert "than `g = 1` is\nagain the student's observation" in text
    for claim in ("not even 4 times faster", "is faster than any loop", "loses by a small"):
        assert claim not in text


def _pixel_loops(pad_nhwc, dz, q, W, s, pads, g):
    """The backward pass as a loop over the pixels and the groups (Q2's 8192 x 4 iterations),
    numpy doing each window's taps and channels."""
    f_h, f_w, cg_in, ch_out = W.shape
    cg_out = ch_out // g
    q_bar = pad_nhwc(q, pads)
    dq_bar, dW = np.zeros_like(q_bar), np.zeros_like(W)
    n_b, h_out, w_out, _ = dz.shape
    for n in range(n_b):
        for i in range(h_out):
            for j in range(w_out):
                rows, cols = slice(s[0] * i, s[0] * i + f_h), slice(s[1] * j, s[1] * j + f_w)
                for k in range(g):
                    ci = slice(k * cg_in, (k + 1) * cg_in)
                    co = slice(k * cg_out, (k + 1) * cg_out)
                    d = dz[n, i, j, co]
                    dW[..., co] += q_bar[n, rows, cols, ci, None] * d
                    dq_bar[n, rows, cols, ci] += W[..., co] @ d
    (t, b), (l_, r) = pads
    return pad_nhwc(dq_bar, ((-t, -b), (-l_, -r))), dW, dz.sum(axis=(0, 1, 2))
