"""Assignment 3 (NHWC, grouped): the model solution, its public tests and the quoted numbers.

Runs the source notebook's setup and solution cells (not its hidden lines), then checks:
the public tests pass on the model solution; the trusted references of the hidden checks
(grading/checks/a3.py, loops from the definition) and the oracle's window index agree with the
model solution and with torch.nn.functional.conv2d(groups=g); every claim and number of the
statement and of the model answers (Q1, Q2).
"""

from __future__ import annotations

import json
import re
import sys
import time
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


def test_q2_counts_and_the_depthwise_speed(model):
    text = _markdown("a3-q2")
    n_b, h, w, ch = 8, 32, 32, 16
    macs = {g: n_b * h * w * 9 * (ch // g) * ch for g in (1, 4, 16)}
    assert macs == {1: 18_874_368, 4: 4_718_592, 16: 1_179_648}
    for g in (1, 4, 16):
        assert f"{macs[g]:,}".replace(",", "\\,") in text
    rng = np.random.default_rng(0)
    q = rng.normal(size=(n_b, h, w, ch))
    pads = ((1, 1), (1, 1))
    Q = model["im2col"](q, (3, 3), (1, 1), pads)
    assert Q.size == 1_179_648 == 9 * q.size and "1\\,179\\,648" in text
    dz = rng.normal(size=(n_b, h, w, ch))

    def best(fn, *args, runs=3):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = fn(*args)
            times.append(time.perf_counter() - t0)
        return min(times), out

    W4 = rng.normal(size=(3, 3, ch // 4, ch))
    t_vec, fast = best(model["conv_nhwc_backward"], dz, q, W4, (1, 1), pads, 4)
    t_loop, slow = best(_pixel_loops, model["pad_nhwc"], dz, q, W4, (1, 1), pads, 4, runs=1)
    assert all(np.allclose(x, y) for x, y in zip(fast, slow, strict=True))
    assert t_loop > t_vec  # "faster than any loop over the pixels"
    t1 = best(model["conv_nhwc_backward"], dz, q, rng.normal(size=(3, 3, ch, ch)), (1, 1),
              pads, 1)[0]
    t16 = best(model["conv_nhwc_backward"], dz, q, rng.normal(size=(3, 3, 1, ch)), (1, 1),
               pads, 16)[0]
    assert t1 / t16 < 4 and "not even 4 times faster" in text


def _pixel_loops(pad_nhwc, dz, q, W, s, pads, g):
    """The backward pass as a loop over the pixels, numpy doing each window's taps and
    channels (Q2's "loop version of this notebook's test")."""
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
