"""Assignment 5's text and model answers against a run of its model solution (issue 15).

Executes the source notebook's code cells (solutions in, hidden tests out, so its public tests
run too) and checks every number and claim the text and the model answers quote; the
transposed convolution itself against loops written from the definition and against
PyTorch's conv_transpose2d with autograd, and the grading references (checks/a5.py) against
both. Fast: the trainings are 10 epochs of 1500 small images (about a second each).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "classroom" / "source" / "a5_network" / "a5_network.ipynb"
CLASSROOM = ROOT / "classroom"


def _cells():
    return json.loads(SOURCE.read_text())["cells"]


def _text(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _unmarked(code):
    """The code without the lines of nbgrader's solution markers."""
    return "\n".join(line for line in code.split("\n") if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def _markdown(grade_id):
    """The text of a Markdown cell, its line breaks as spaces."""
    return " ".join(next(_text(c) for c in _cells()
                         if c["metadata"]["nbgrader"]["grade_id"] == grade_id).split())


@pytest.fixture(scope="module")
def ns():
    """The notebook run as a student with the model solution would run it."""
    pytest.importorskip("sklearn")
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "a5"}
    for cell in _cells():
        if cell["cell_type"] != "code":
            continue
        code = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", "", _text(cell),
                      flags=re.S)
        code = _unmarked(code)
        exec(compile(code, f"a5:{cell['metadata']['nbgrader']['grade_id']}", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")  # the notebook's figures: other tests count pyplot's open figures
    return namespace


def loops_forward(x, W, b, s, padding):
    """The definition of part 1, one multiply-add at a time."""
    n_b, ch_in, h, w = x.shape
    _, ch_out, f_h, f_w = W.shape
    top, bottom, left, right = padding
    H, Wd = s[0] * (h - 1) + f_h, s[1] * (w - 1) + f_w
    Y = np.zeros((n_b, ch_out, H, Wd))
    for n in range(n_b):
        for mu in range(ch_in):
            for nu in range(ch_out):
                for i in range(h):
                    for j in range(w):
                        for a in range(f_h):
                            for c in range(f_w):
                                Y[n, nu, s[0] * i + a, s[1] * j + c] += (
                                    x[n, mu, i, j] * W[mu, nu, a, c])
    y = np.zeros((n_b, ch_out, H - top - bottom, Wd - left - right))
    for r in range(y.shape[2]):
        for c in range(y.shape[3]):
            if 0 <= r + top < H and 0 <= c + left < Wd:
                y[:, :, r, c] = Y[:, :, r + top, c + left]
    return y + (0 if b is None else b[:, None, None])


# (PyTorch's own padding and output_padding express the sides of the last two)
CASES = [((2, 3, 4, 5), (3, 2, 3, 2), (2, 3), (1, 0, 0, 1)),
         ((1, 2, 3, 3), (2, 2, 3, 3), (2, 2), (-1, 2, 2, -1)),
         ((3, 1, 2, 4), (1, 3, 2, 4), (3, 1), (0, -2, 1, 1)),
         ((2, 2, 4, 4), (2, 1, 1, 1), (2, 2), (0, -1, 0, -1))]


@pytest.mark.parametrize("case", CASES)
def test_model_solution_agrees_with_loops_and_torch(ns, case):
    torch = pytest.importorskip("torch")
    x_shape, W_shape, s, padding = case
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=x_shape), rng.normal(size=W_shape), rng.normal(size=W_shape[1])
    y = ns["conv_transpose_forward"](x, W, b, s, padding)
    np.testing.assert_allclose(y, loops_forward(x, W, b, s, padding), atol=1e-12)
    # PyTorch, with its own padding/output_padding where the sides allow it
    top, bottom, left, right = padding
    if min(top, left) >= 0 and 0 <= top - bottom < s[0] and 0 <= left - right < s[1]:
        want = torch.nn.functional.conv_transpose2d(
            torch.tensor(x), torch.tensor(W), torch.tensor(b), stride=s, padding=(top, left),
            output_padding=(top - bottom, left - right)).numpy()
        np.testing.assert_allclose(y, want, atol=1e-12)
    # gradients: autograd through the loops' definition (the scatter, then the cut)
    X, Wt, B = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    full = torch.nn.functional.conv_transpose2d(X, Wt, None, stride=s)
    full = torch.nn.functional.pad(full, (max(-left, 0), max(-right, 0), max(-top, 0),
                                          max(-bottom, 0)))
    yt = full[:, :, max(top, 0):full.shape[2] - max(bottom, 0),
              max(left, 0):full.shape[3] - max(right, 0)] + B[:, None, None]
    np.testing.assert_allclose(yt.detach().numpy(), y, atol=1e-12)
    dy = rng.normal(size=y.shape)
    (yt * torch.tensor(dy)).sum().backward()
    dx, dW, db = ns["conv_transpose_backward"](dy, x, W, s, padding)
    for got, want in ((dx, X.grad), (dW, Wt.grad), (db, B.grad)):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-12)


def test_grading_reference_agrees(ns):
    """checks/a5.py's reference (PyTorch) against the model solution, float64 and float32."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(CLASSROOM))
    from grading.checks import a5 as checks
    from grading.kit.convgrade import a5 as kit

    for label, name, args in kit.plan("a5-fwd-tests", 3) + kit.plan("a5-bwd-tests", 3):
        if name == "conv_transpose_forward":
            want, got = checks.reference(*args), ns[name](*args)
            assert got.dtype == want.dtype, label
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=label)
        else:
            dy, x, W, s, padding = args
            want = checks.reference(x, W, None, s, padding, dy)
            for g, w in zip(ns[name](*args), want, strict=True):
                assert g.dtype == w.dtype, label
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=label)


def test_layer_is_the_convolutions_input_gradient(ns):
    """Part 1's claim: y is conv_backward's dq with x as dz, W.transpose(1, 0, 2, 3)."""
    import convlib as cl

    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(3, 2, 3, 3))
    for padding in [(1, 0, 1, 0), (0, 0, 0, 0), (1, 1, 2, 1), (0, -1, 0, -1)]:
        y = ns["conv_transpose_forward"](x, W, None, (2, 2), padding)
        dq = cl.conv_backward(x, np.zeros(y.shape), W.transpose(1, 0, 2, 3), 2,
                              padding=padding)[0]
        np.testing.assert_allclose(y, dq, atol=1e-12)


def test_nearest_neighbour_number(ns):
    """The 0.0487 of part 3, the public and the hidden test, and checks/a5.py."""
    images, _ = ns["load_digits_8x8"]()
    y = (images / 16).reshape(-1, 1, 8, 8)
    x = y.reshape(-1, 1, 4, 2, 4, 2).mean(axis=(3, 5))
    nearest = np.repeat(np.repeat(x, 2, axis=2), 2, axis=3)
    mse = np.mean((nearest[1500:] - y[1500:]) ** 2)
    assert f"{mse:.4f}" == "0.0487"
    assert "0.0487" in _markdown("a5-train-md")
    assert len(y) - 1500 == 297 and len(range(0, 1500, 32)) == 47


def _counts(ns, f, padding):
    y = ns["conv_transpose_forward"](np.ones((1, 1, 4, 4)), np.ones((1, 1, *f)), None, (2, 2),
                                     padding)
    return y[0, 0]


def test_q1_model_answer(ns):
    answer = _markdown("a5-q1")
    y = _counts(ns, (3, 3), (1, 0, 1, 0))
    rows = y[:, 0] / y[0, 0] * 1  # column 0 is reached by one tap
    assert y.shape == (8, 8)
    assert rows.astype(int).tolist() == [1, 2, 1, 2, 1, 2, 1, 1]
    assert np.array_equal(y, np.outer(rows, rows))
    assert y[:2].astype(int).tolist()[0] == [1, 2, 1, 2, 1, 2, 1, 1]
    assert y[1].astype(int).tolist() == [2, 4, 2, 4, 2, 4, 2, 2]
    assert sorted(set(y.ravel().astype(int))) == [1, 2, 4]
    assert "`[1, 2, 1, 2, 1, 2, 1, 1]`" in answer and "[2, 4, 2, 4, 2, 4, 2, 2]" in answer
    y4 = _counts(ns, (4, 4), (1, 1, 1, 1))
    assert y4.shape == (8, 8)
    assert (y4[:, 0] / y4[0, 0]).astype(int).tolist() == [1, 2, 2, 2, 2, 2, 2, 1]
    assert np.all(y4[1:-1, 1:-1] == 4)
    assert "`[1, 2, 2, 2, 2, 2, 2, 1]`" in answer
    # the convolution of the answer: 8 -> 4, f = 3, s = 2, p = 1 split 1 / 0 (eqs. 7-8)
    from convlib import padding_amount, split_padding

    assert padding_amount(8, 3, 2, 4) == 1 and split_padding(1) == (1, 0)


def test_q2_model_answer_and_public_numbers(ns):
    answer = _markdown("a5-q2")
    losses, mse = ns["train"](0, 10)
    first, last = np.mean(losses[:10]), np.mean(losses[-47:])
    for number in (f"{first:.4f}", f"{last:.4f}", f"{mse:.4f}"):
        assert number in answer, number
    assert mse < 0.040 < 0.0487  # the public and hidden threshold, the baseline
    # "fast in the first epoch and slowly after"
    epochs = losses.reshape(10, 47).mean(axis=1)
    assert np.all(np.diff(epochs) < 0) and epochs[0] - epochs[1] > epochs[1] - epochs[-1]
    assert mse < 0.0487 * 0.7  # "a third lower"

    def train4(seed, epochs):  # the change of the answer: the first layer with f = 4
        text = re.search(r"def train\(.*?### END SOLUTION", next(
            _text(c) for c in _cells() if c["metadata"]["nbgrader"]["grade_id"] == "a5-train"),
            re.S).group(0)
        text = text.replace("(3, 3), (2, 2), (1, 0, 1, 0)", "(4, 4), (2, 2), (1, 1, 1, 1)")
        local = dict(ns)
        exec(_unmarked(text), local)
        return local["train"](seed, epochs)

    mse4 = train4(0, 10)[1]
    assert f"{mse4:.4f}" in answer and mse4 < mse
    assert "256 against 144" in answer and 1 * 16 * 4 * 4 == 256 and 1 * 16 * 3 * 3 == 144


def test_seeds_clear_the_hidden_threshold(ns):
    """The hidden test trains with seeds 1..1000 (seed % 1000 + 1): a few of them pass."""
    for seed in (1, 2, 500):
        assert ns["train"](seed, 10)[1] < 0.040


def test_rules_names_agree_with_the_sealed_kernel(ns):
    """The notebook's REMOVED is what checks/a5.py removes from the kernel's convlib, and
    convlib.pad (allowed by the rules) survives the removal."""
    sys.path.insert(0, str(CLASSROOM))
    from grading.checks import a5 as checks
    from grading.kit.build import strip_source

    import convlib

    assert ns["REMOVED"] == set(checks.CONVLIB)
    assert "pad" not in checks.CONVLIB and "`convlib.pad` (allowed" in _markdown("a5-intro")
    stripped = {}
    for path in Path(convlib.__file__).parent.glob("*.py"):
        exec(compile(strip_source(path.read_text(), set(checks.CONVLIB)), str(path), "exec"),
             stripped.setdefault(path.stem, {"__name__": f"convlib.{path.stem}"}))
    assert "pad" in stripped["padding"] and "conv_forward" not in stripped["forward"]
    # its sign, as the rules say: a positive amount pads, a negative one crops
    assert convlib.pad(np.ones((1, 2, 2)), (1, -1, 0, 0)).shape == (1, 2, 2)
    assert convlib.pad(np.ones((2, 2)), (1, 0, 0, 0))[0].tolist() == [0, 0]


def test_public_rules_check(ns):
    """check_rules flags a removed name used directly, through a helper of the notebook or an
    import alias; not the model solution, nor a notebook function of the same name."""
    code = ("import convlib\nfrom convlib import conv_forward as cf\n"
            "def direct(x):\n    return convlib.conv_backward(x)\n"
            "def helper(x):\n    return nn.Conv2d(x)\n"
            "def indirect(x):\n    return helper(x)\n"
            "def aliased(x):\n    return cf(x)\n"
            "def input_gradient_naive(x):\n    return x\n"
            "def own(x):\n    return input_gradient_naive(x)\n")
    local = dict(ns)
    exec(code, local)
    found = {name: local["removed_names"](local[name])
             for name in ("direct", "indirect", "aliased", "own")}
    assert found == {"direct": {"conv_backward"}, "indirect": {"Conv2d"}, "aliased": {"cf"},
                     "own": set()}
    for name in ("conv_transpose_forward", "conv_transpose_backward", "train"):
        assert ns["removed_names"](ns[name]) == set(), name
    with pytest.raises(AssertionError, match="no convolution passes"):
        local["check_rules"](local["indirect"])


def _public_test_fails(ns, grade_id, replace):
    """The message with which the public test cell `grade_id` fails on the model solution
    changed by `replace` (old, new) in the solution cell of that part."""
    part = {"a5-fwd-tests": "a5-fwd", "a5-bwd-tests": "a5-bwd"}[grade_id]
    cells = {c["metadata"]["nbgrader"]["grade_id"]: _text(c) for c in _cells()}
    local = dict(ns)
    solution = _unmarked(cells[part])
    assert replace[0] in solution
    exec(solution.replace(*replace), local)
    test = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", "", cells[grade_id],
                  flags=re.S)
    with pytest.raises(AssertionError) as info:
        exec(test, local)
    return str(info.value)


def test_public_tests_name_the_mistakes(ns):
    """b[0] on every channel fails part 1's bias case; a backward that zeroes dy in place is
    told so; a forward that cannot cut into the added zeros fails the case that does."""
    message = _public_test_fails(ns, "a5-fwd-tests",
                                 ("y = y + b[:, None, None]", "y = y + b[0]"))
    assert "bias per channel" in message and "b[0] on every channel?" in message
    message = _public_test_fails(ns, "a5-bwd-tests", (
        "    dx = np.zeros(", "    dy[:, :, 0] = 0\n    dx = np.zeros("))
    assert "modified dy in place; it must be unchanged" in message
    message = _public_test_fails(ns, "a5-fwd-tests", (  # cuts first, then adds the zeros
        "    full = np.pad(full,",
        "    full = full[:, :, max(top, 0):H - max(bottom, 0), max(left, 0):Wd - max(right, 0)]\n"
        "    top, bottom, left, right = min(top, 0), min(bottom, 0), min(left, 0), "
        "min(right, 0)\n    full = np.pad(full,"))
    assert "padding=(-3, 4, 3, -4)" in message, message


def test_q2_traps(ns):
    """Q2's warnings: 4 channels (seed 0) leave one of the 4 first-layer channels dead; with
    lr=1e-3 the loss is still falling after 10 epochs, test error above 0.040 and below
    nearest neighbour's 0.0487."""
    question = _markdown("a5-q2-question")
    assert "with seed 0 one of the 4 does" in question and "`lr=1e-3`" in question
    text = re.search(r"def train\(.*?### END SOLUTION", next(
        _text(c) for c in _cells() if c["metadata"]["nbgrader"]["grade_id"] == "a5-train"),
        re.S).group(0)
    nn = ns["nn"]

    def run(*replacements):
        """train(0, 10) of the model solution changed; (losses, test error, its network)."""
        code = _unmarked(text)
        for old, new in replacements:
            assert old in code
            code = code.replace(old, new)
        built = []

        class Sequential(nn.Sequential):
            def __init__(self, *layers):
                super().__init__(*layers)
                built.append(self)

        local = dict(ns, Sequential=Sequential)
        exec(code.replace("nn.Sequential(", "Sequential("), local)
        losses, mse = local["train"](0, 10)
        return losses, mse, built[-1]

    _, mse4, net = run(("(1, 16, (3, 3)", "(1, 4, (3, 3)"), ("(16, 1, (3, 3)", "(4, 1, (3, 3)"))
    images, _ = ns["load_digits_8x8"]()
    x = (images / 16).reshape(-1, 1, 4, 2, 4, 2).mean(axis=(3, 5))
    with nn.no_grad():
        hidden = net.layers[0].forward(x)
    assert hidden.shape[1] == 4 and int(np.sum(np.all(hidden <= 0, axis=(0, 2, 3)))) == 1
    losses, mse3, _ = run(("lr=1e-2", "lr=1e-3"))
    epochs = losses.reshape(10, 47).mean(axis=1)
    assert epochs[-1] < epochs[-2] and 0.040 < mse3 < 0.0487
