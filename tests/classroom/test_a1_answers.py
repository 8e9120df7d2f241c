"""Assignment 1 (the atrous forward pass): the model solution, its numbers and its grading.

Fast (seconds), in the test environment (numpy and torch): the source notebook's solution
cells are run here, and

- its public tests pass on them, and every number the text and the model answers quote
  (Q1's paddings, Q2's receptive fields, Q3's shapes and shares) is what they compute;
- the trusted references of classroom/grading/checks/a1.py agree with PyTorch's conv2d
  (stride and dilation, on the explicitly padded input);
- the hidden cases of every part pass with the model solution, and typical mistakes fail
  exactly their own part with the message that names the property (the vectorized pass
  with a wrong im2col included: that mistake costs part 4 only).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "classroom" / "source" / "a1_forward" / "a1_forward.ipynb"
sys.path.insert(0, str(ROOT / "classroom"))
sys.path.insert(0, str(ROOT / "classroom" / "grading" / "kit"))

from convgrade import a1 as kit  # noqa: E402
from convgrade import call  # noqa: E402
from grading.checks import a1 as checks  # noqa: E402
from grading.checks import verdict  # noqa: E402

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", re.S)
MARKERS = re.compile(r"[ ]*### (BEGIN|END) SOLUTION\n")


def _cells():
    nb = json.loads(SOURCE.read_text())
    return [c for c in nb["cells"]]


def _source(cell):
    return MARKERS.sub("", HIDDEN.sub("", "".join(cell["source"])))


def _solution(replacements=()):
    """The namespace of the setup and solution cells, with (old, new) replacements."""
    ns: dict = {}
    for cell in _cells():
        meta = cell["metadata"]["nbgrader"]
        if cell["cell_type"] == "code" and (meta["solution"] or meta["grade_id"] == "a1-setup"):
            text = _source(cell)
            for old, new in replacements:
                text = text.replace(old, new)
            exec(text, ns)
    return ns


def _markdown(grade_id):
    return next("".join(c["source"]) for c in _cells()
                if c["metadata"]["nbgrader"]["grade_id"] == grade_id)


@pytest.fixture(scope="module")
def model():
    return _solution()


def test_the_notebook_runs_with_its_public_tests(capsys):
    ns: dict = {}
    for cell in _cells():
        if cell["cell_type"] == "code":
            exec(_source(cell), ns)
    out = capsys.readouterr().out
    assert out.count("public tests passed") == 6, out


def test_references_agree_with_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    for seed in range(6):
        for k, case in enumerate(kit.cases(seed)):
            q, W, b = kit.arrays(case, seed + k)
            s, d, pads = case[5], case[6], case[8]
            q_bar = checks.pad(q.astype(np.float64), pads)
            want = F.conv2d(torch.from_numpy(q_bar), torch.from_numpy(W.astype(np.float64)),
                            None if b is None else torch.from_numpy(b.astype(np.float64)),
                            stride=s, dilation=d).numpy()
            got = checks.forward(q, W, b, s, d, pads)
            assert got.shape == want.shape == (case[1], case[3]) + case[7], case
            assert np.allclose(got, want, atol=1e-5), case
            # the window matrix of the reference, against torch's unfold (columns (mu, a, b))
            cols = F.unfold(torch.from_numpy(q_bar), W.shape[2:], dilation=d, stride=s)
            Q = checks.im2col(q_bar, W.shape[2:], s, d)
            assert np.array_equal(Q, cols.numpy().transpose(0, 2, 1).reshape(Q.shape)), case


def test_reference_padding_and_counts_follow_their_definitions():
    for case in kit.cases(3):
        (h_in, w_in), padded = kit.sizes(case)
        f, s, d, h_out, pads = case[4:9]
        assert checks.out_size(padded, f, s, d) == h_out
        assert h_in + sum(pads[0]) == padded[0] and w_in + sum(pads[1]) == padded[1]
    # read_counts against the forward pass: z of ones on an impulse row
    for h_in, f, s, d, h_out in kit._axis_cases(5, 20):
        top = 1
        counts = checks.read_counts(h_in, f, s, d, h_out, top)
        for r in range(h_in):
            q = np.zeros((1, 1, h_in, 1))
            q[0, 0, r] = 1
            z = checks.forward(q, np.ones((1, 1, f, 1)), None, (s, 1), (d, 1),
                               ((top, s * (h_out - 1) + d * (f - 1) + 1 - h_in - top), (0, 0)))
            assert z.sum() == counts[r]


def _grade(ns, grade_id, seed=7):
    records = kit.run(grade_id, ns, seed)
    return verdict(grade_id, records, seed)


def _only_these_parts_fail(ns, broken):
    """Each part of `broken` fails with its phrase in the verdict; every other part passes."""
    for grade_id in kit.PARTS:
        message = _grade(ns, grade_id)
        if grade_id in broken:
            assert message and broken[grade_id] in message, (grade_id, message)
        else:
            assert message is None, (grade_id, message)


def test_model_solution_passes_every_part(model):
    for seed in (0, 1, 12345):
        for grade_id in kit.PARTS:
            assert _grade(dict(model), grade_id, seed) is None, grade_id


def test_blank_stubs_fail_every_part():
    ns = _solution()
    for name in ("layer_padding", "read_counts", "conv_forward_loops", "im2col",
                 "conv_forward_vectorized"):
        def stub(*args, **kwargs):
            raise NotImplementedError()
        ns[name] = stub
    for grade_id in kit.PARTS:
        assert "NotImplementedError" in _grade(ns, grade_id), grade_id


MISTAKES = {  # (old, new) in the solution cells: {part: a phrase of its message}
    "split reversed": (("before = -(-p // 2)  # ceil, also for negative p", "before = p // 2"),
                       {"a1-split-tests": "the extra pixel of an odd p goes before"}),
    "eq. 7 without the dilation": (("d_ * (f_ - 1) + 1 - n_in", "f_ - n_in"),
                                   {"a1-size-tests": "leaves the dilation out of eq. (7)"}),
    "counts without top": (("row = s * i + d * a - top", "row = s * i + d * a"),
                           {"a1-reads-tests": "ignores the padding on top"}),
    "the notes' filter layout": (("* W[nu, mu, a, c])", "* W[mu, nu, a, c])"),
                                 {"a1-loops-tests": "conv_forward_loops"}),
    "im2col without the dilation": (("tap = q_bar[:, :, d_h * a : d_h * a + s_h",
                                     "tap = q_bar[:, :, a : a + s_h"),
                                    {"a1-im2col-tests": "ignores the dilation"}),
    "no bias in the product": (("        z = z + b\n", "        z = z\n"),
                               {"a1-vec-tests": "leaves out the bias"}),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_fails_its_own_part_only(mistake):
    (old, new), broken = MISTAKES[mistake]
    text = "".join(_source(c) for c in _cells())
    assert text.count(old) == 1, old
    ns = _solution([(old, new)])
    _only_these_parts_fail(ns, broken)


def test_vectorized_pass_is_not_fooled_by_a_stand_in_window_matrix():
    """Zeros from 'im2col' and z = b would pass a check that trusted any window matrix."""
    ns = _solution()  # (its functions look their names up in this namespace)
    ns["im2col"] = lambda q_bar, f, s, d: np.zeros(checks.im2col(q_bar, f, s, d).shape,
                                                    q_bar.dtype)
    assert "gives wrong values" in _grade(ns, "a1-vec-tests")
    # made of a pixel of q_bar, so the product checks out, but it tests no layout
    ns["im2col"] = lambda q_bar, f, s, d: np.full(checks.im2col(q_bar, f, s, d).shape,
                                                  q_bar.flat[0])
    assert "none of them had pixels that vary" in _grade(ns, "a1-vec-tests")


def test_constant_paddings_score_nothing():
    """No padding at all, ((0, 0), (0, 0)), splits right but shows no split: both cells fail."""
    ns = _solution()
    ns["layer_padding"] = lambda h_in, f, s, d, h_out: ((0, 0), (0, 0))
    assert "wrong total padding" in _grade(ns, "a1-size-tests")
    assert "gave no odd total padding of each sign" in _grade(ns, "a1-split-tests")


def test_vectorized_pass_may_not_call_the_loops(model):
    ns = dict(model)
    ns["conv_forward_vectorized"] = lambda *a: ns["conv_forward_loops"](*a)
    assert "must not call conv_forward_loops" in _grade(ns, "a1-vec-tests")


def test_modified_input_is_reported(model):
    def loops(q, W, b, s, d, pads):
        q += 0
        q[...] = 0
        return model["conv_forward_loops"](q, W, b, s, d, pads)
    ns = dict(model, conv_forward_loops=loops)
    assert "modified its input" in _grade(ns, "a1-loops-tests")


# --- the numbers of the text and of the model answers -----------------------------------


def test_intro_and_part_texts(model):
    intro = _markdown("a1-intro")
    assert "covers a\n  $5 \\times 5$ patch" in intro
    Q = model["im2col"](np.ones((1, 1, 5, 5)), (3, 3), (1, 1), (2, 2))
    assert Q.shape == (1, 9)  # one 3 x 3 filter with d = 2 covers exactly a 5 x 5 patch
    # part 2's public case: with s = d = 2 the odd rows are never read
    counts = model["read_counts"](7, 2, 2, 2, 3, 0)
    assert not counts[1::2].any() and counts[::2].all()


def test_q1_numbers(model):
    text = _markdown("a1-q1")
    assert "$p = 31 + 4 + 1 - 32 = 4$, split $(2, 2)$" in text
    assert "$p = 6 + 4 + 1 - 8 = 3$, split $(2, 1)$" in text
    lp = model["layer_padding"]
    assert lp((32, 32), (3, 3), (1, 1), (2, 2), (32, 32)) == ((2, 2), (2, 2))
    assert lp((8, 8), (3, 3), (2, 2), (2, 2), (4, 4)) == ((2, 1), (2, 1))


def _field(model, dilations, h=41):
    """(span, rows read) of the middle output pixel of a stack of 3-tap 'same' layers."""
    lp, loops = model["layer_padding"], model["conv_forward_loops"]
    middle = h // 2
    read = []
    for r in range(h):
        x = np.zeros((1, 1, h, 1))
        x[0, 0, r] = 1.0
        for d in dilations:
            pads = lp((h, 1), (3, 1), (1, 1), (d, 1), (h, 1))
            x = loops(x, np.ones((1, 1, 3, 1)), None, (1, 1), (d, 1), pads)
        if x[0, 0, middle, 0] != 0:
            read.append(r)
    return read[-1] - read[0] + 1, len(read)


def test_q2_numbers(model):
    text = _markdown("a1-q2")
    assert "$1 + 2 + 4 + 8 = 15$ rows, and all 15" in text
    assert "$1 + 4 + 4 + 4 = 13$ rows" in text and "only 7 of the 13 rows" in text
    assert "15 of 15 rows and 7 of 13" in text
    assert _field(model, (1, 2, 4)) == (15, 15)
    assert _field(model, (2, 2, 2)) == (13, 7)


def test_q3_numbers(model):
    text = _markdown("a1-q3")
    im2col, lp = model["im2col"], model["layer_padding"]
    rng = np.random.default_rng(0)
    q = rng.normal(size=(1, 16, 32, 32))
    W = rng.normal(size=(4, 16, 3, 3))
    pads = lp((32, 32), (3, 3), (1, 1), (2, 2), (32, 32))
    q_bar = np.pad(q, ((0, 0), (0, 0)) + pads)
    atrous = im2col(q_bar, (3, 3), (1, 1), (2, 2))
    W_hat = np.zeros((4, 16, 5, 5))
    W_hat[:, :, ::2, ::2] = W
    plain = im2col(q_bar, (5, 5), (1, 1), (1, 1))
    assert atrous.shape == (1024, 144) and plain.shape == (1024, 400)
    assert "$(1024, 144)$" in text and "$(1024, 400)$" in text
    assert f"{400 / 144:.2f}" == "2.78" and "\\approx 2.78" in text
    zero_columns = int((W_hat.reshape(4, -1) == 0).all(axis=0).sum())
    assert zero_columns == 256 and round(100 * 256 / 400) == 64
    assert "$256$ of its $400$ columns (64%)" in text
    z1 = model["conv_forward_vectorized"](q, W, None, (1, 1), (2, 2), pads)
    z2 = model["conv_forward_vectorized"](q, W_hat, None, (1, 1), (1, 1), pads)
    assert np.allclose(z1, z2)


def test_kernel_side_computes_no_padding():
    """The kit (importable by the student's code) holds case data, no eq. (7) or split."""
    text = (ROOT / "classroom" / "grading" / "kit" / "convgrade" / "a1.py").read_text()
    assert "// 2" not in text and "ceil" not in text.lower().replace("ceil(p/2)", "")


def test_call_records_errors_with_the_case():
    def broken(*args):
        raise ValueError("boom")
    record = call(broken, (np.zeros(2),))
    assert record["error"].startswith("ValueError: boom")


# --- the public tests catch the common mistakes, and so do the hidden checks -------------

SWV_IM2COL = (  # a loop-free im2col whose reshape can be a view of q_bar
    "    n_b, ch_in, H, W_ = q_bar.shape\n",
    "    n_b, ch_in, H, W_ = q_bar.shape\n"
    "    (f_h, f_w), (s_h, s_w), (d_h, d_w) = f, s, d\n"
    "    win = np.lib.stride_tricks.sliding_window_view(\n"
    "        q_bar, (d_h * (f_h - 1) + 1, d_w * (f_w - 1) + 1), axis=(2, 3))\n"
    "    win = win[:, :, ::s_h, ::s_w, ::d_h, ::d_w]  # (n, mu, i, j, a, c)\n"
    "    return win.transpose(0, 2, 3, 1, 4, 5).reshape(-1, ch_in * f_h * f_w)\n")
PAD_OR_CROP_ONCE = (  # crops when any pad is negative, and then forgets the positive ones
    "    q_bar = np.pad(q, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)),\n"
    "                       (max(left, 0), max(right, 0))))\n"
    "    H, W_ = q_bar.shape[2:]\n"
    "    q_bar = q_bar[:, :, max(-top, 0):H - max(-bottom, 0), "
    "max(-left, 0):W_ - max(-right, 0)]\n"
    "    (s_h, s_w), (d_h, d_w) = s, d\n",
    "    if min(top, bottom, left, right) < 0:\n"
    "        H, W_ = q.shape[2:]\n"
    "        q_bar = q[:, :, max(-top, 0):H - max(-bottom, 0), "
    "max(-left, 0):W_ - max(-right, 0)]\n"
    "    else:\n"
    "        q_bar = np.pad(q, ((0, 0), (0, 0), (top, bottom), (left, right)))\n"
    "    (s_h, s_w), (d_h, d_w) = s, d\n")
Z_IN_Q_DTYPE = ("z = np.zeros((n_b, ch_out, ho, wo), dtype=dtype)",
                "z = np.zeros((n_b, ch_out, ho, wo), dtype=q.dtype)")
IM2COL_TRANSPOSED = ("return cols.reshape(n_b * ho * wo, ch_in * f_h * f_w)",
                     "return cols.reshape(n_b * ho * wo, ch_in * f_h * f_w).T")
NO_DILATION = ("d_ * (f_ - 1) + 1 - n_in", "f_ - n_in")
SPLIT_REVERSED = ("before = -(-p // 2)  # ceil, also for negative p", "before = p // 2")

NEW_MISTAKES = {  # {part: a phrase of its hidden message}, and the public cell's phrase
    "im2col transposed": ([IM2COL_TRANSPOSED],
                          {"a1-im2col-tests": "rows and columns swapped",
                           "a1-vec-tests": "conv_forward_vectorized raised"},
                          "a1-im2col-tests", "rows and columns swapped"),
    "im2col as a view": ([SWV_IM2COL], {"a1-im2col-tests": "shares memory with q_bar"},
                         "a1-im2col-tests", "not a view that shares memory"),
    "z in q's dtype": ([Z_IN_Q_DTYPE], {"a1-loops-tests": "not q.dtype"},
                       "a1-loops-tests", "not q.dtype"),
    "pad or crop decided once": ([PAD_OR_CROP_ONCE],
                                 {"a1-loops-tests": "decide pad or crop for each side"},
                                 "a1-loops-tests", "decide pad or crop for each side"),
    "wrong totals and a wrong split": ([NO_DILATION, SPLIT_REVERSED],
                                       {"a1-size-tests": "leaves the dilation out",
                                        "a1-split-tests": "the wrong way round"},
                                       "a1-split-tests", "the extra pixel of an odd p goes"),
}


def _public_message(grade_id, replacements):
    """The AssertionError message of one public test cell on a changed model solution."""
    ns = _solution(replacements)
    cell = next(c for c in _cells() if c["metadata"]["nbgrader"]["grade_id"] == grade_id)
    try:
        exec(_source(cell), ns)
    except AssertionError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("mistake", sorted(NEW_MISTAKES))
def test_public_and_hidden_tests_catch_the_reviewers_mistakes(mistake):
    replacements, broken, public_cell, phrase = NEW_MISTAKES[mistake]
    text = "".join(_source(c) for c in _cells())
    for old, _ in replacements:
        assert text.count(old) == 1, old
    message = _public_message(public_cell, replacements)
    assert message and phrase in message, message
    ns = _solution(replacements)
    _only_these_parts_fail(ns, broken)


def test_split_cell_says_why_it_cannot_check_even_totals():
    message = _public_message("a1-split-tests", [(
        "    pads = []\n", "    return ((0, 0), (0, 0))\n    pads = []\n")])
    assert "the split could not be checked" in message and "fix the totals first" in message


def test_hidden_cases_mix_signs_and_dtypes():
    cases = kit.cases(0)
    mixed = [c for c in cases if min(sum(c[8], ())) < 0 < max(sum(c[8], ()))]
    assert len(mixed) >= 2
    assert any(kit.dtypes(c) == (np.float32, np.float64) for c in cases)
    assert cases[-1][0] == "float32 inputs"  # the stand-in guard's last case


def test_helper_in_part_3_serves_part_5():
    """The intro: a helper defined in an earlier solution cell stays defined for part 5 (the
    classroom test's own-helpers submission: `pad_or_crop` defined in part 3, used in part 5)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_classroom import MISTAKES

    assignment, replacements, broken = MISTAKES["own-helpers"]
    assert assignment == "a1_forward" and not broken
    assert any("def pad_or_crop(" in new for _, new in replacements)
    text = "".join(_source(c) for c in _cells())
    assert all(text.count(old) == 1 for old, _ in replacements)
    ns = _solution(replacements)
    for grade_id in kit.PARTS:
        assert _grade(ns, grade_id) is None, grade_id


def test_book_filter_recipe_scrambles_pytorch_layout(model):
    """Part 5's reminder: chapter 6's F = W.transpose(0, 2, 3, 1).reshape(K, ch_out) is for
    the notes' (ch_in, ch_out, f, f); on (ch_out, ch_in, f_h, f_w) it gives a wrong z, and the
    window matrix here is the transpose of the book's U."""
    rng = np.random.default_rng(1)
    q_bar = rng.normal(size=(2, 3, 5, 6))
    W = rng.normal(size=(4, 3, 2, 3))
    Q = model["im2col"](q_bar, (2, 3), (1, 1), (1, 1))
    K = 3 * 2 * 3
    assert Q.shape == (2 * 4 * 4, K)  # M x K: one row per output pixel
    right = Q @ W.reshape(4, K).T
    book = Q @ W.transpose(0, 2, 3, 1).reshape(K, 4)
    assert not np.allclose(right, book)
    z = model["conv_forward_vectorized"](q_bar, W, None, (1, 1), (1, 1), ((0, 0), (0, 0)))
    assert np.allclose(right.reshape(2, 4, 4, 4).transpose(0, 3, 1, 2), z)
