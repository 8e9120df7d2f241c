"""The classroom set end to end: release, autograde, feedback (issue 11).

On a temporary copy of ``classroom/``: nbgrader generates the student release of every
assignment; the release must hold no solution code, no model answer and no hidden test. Then
``classroom/autograde.py`` (the script behind ``make autograde``) grades, in one run:

- the reference solutions (the source notebook's solution cells put into the release):
  full marks on every autograded part;
- the unmodified release: zero;
- seeded-wrong submissions, made here from the reference by string replacement (a common
  mistake each): each loses exactly the points of the parts it breaks, and only those;
- a submission that loops forever and one that allocates far too much: zero on the broken
  part, the rest of it and the rest of the batch graded;
- a submission that is not a notebook at all: reported, the others graded.

Every kernel runs sealed (bubblewrap, grading/sandbox.py) and the hidden tests are judged
outside it (grading/checks/); the attacks on that are in test_attacks.py.

The feedback must not reveal the hidden tests, and must work offline: no page refers to
anything on the internet, and a student's feedback folder, zipped and unpacked elsewhere, shows
its math typeset by MathJax in headless Chromium from file:// (a screenshot is saved next to
it, in pytest's temporary folder). nbgrader runs from the instructor's
environment (``make instructor`` creates ``.venv-instructor``); without it the test is
skipped, unless ``CLASSROOM_TEST_REQUIRED`` is set (``make test`` sets it).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
IBIN = ROOT / ".venv-instructor" / "bin"
GENERATED = ("release", "submitted", "autograded", "feedback", "gradebook.db", ".nbgrader.log")
MATHJAX = ROOT / "node_modules" / "mathjax"  # npm ci (make test sets it up)
CELL_TIMEOUT = 20  # seconds per cell for this test (the endless loop costs this much)

# Docstring lines of the reference solutions, where the seeded mistakes are inserted.
A1_LOOPS = ('    """Eq. (6) as loops, rectangular filters, stride and dilation per axis; '
            'b may be None."""\n')
A1_VEC = '    """Eq. (35): one matrix product of the window matrix and the filters."""\n'

# student: (assignment, [(old, new), ...] applied to the solution cells, parts it breaks)
MISTAKES = {
    "split-reversed": (
        "a1_forward",
        [("before = -(-p // 2)  # ceil, also for negative p", "before = p // 2")],
        {"a1-split-tests"},  # the forward passes take their padding as data
    ),
    "padding-without-dilation": (  # eq. (7) with f, not the effective size d (f - 1) + 1
        "a1_forward",
        [("d_ * (f_ - 1) + 1 - n_in", "f_ - n_in")],
        {"a1-size-tests"},  # the split of its own totals is right
    ),
    "notes-filter-layout": (  # W[mu, nu] of the notes, not (ch_out, ch_in, f_h, f_w)
        "a1_forward",
        [("* W[nu, mu, a, c])", "* W[mu, nu, a, c])")],
        {"a1-loops-tests"},
    ),
    "im2col-without-dilation": (  # the vectorized pass on it keeps its points (eq. 35 right)
        "a1_forward",
        [("tap = q_bar[:, :, d_h * a : d_h * a + s_h", "tap = q_bar[:, :, a : a + s_h")],
        {"a1-im2col-tests"},
    ),
    "own-helpers": (  # a right solution with helper functions of its own: full marks
        "a1_forward",
        [("def layer_padding(h_in, f, s, d, h_out):",
          "def effective_size(f, d):\n    return d * (f - 1) + 1\n\n\n"
          "def layer_padding(h_in, f, s, d, h_out):"),
         ("d_ * (f_ - 1) + 1 - n_in", "effective_size(f_, d_) - n_in"),
         ("def conv_forward_vectorized(q, W, b, s, d, pads):",
          "def as_matrix(W):\n    return W.reshape(W.shape[0], -1).T\n\n\n"
          "def conv_forward_vectorized(q, W, b, s, d, pads):"),
         ("z = Q @ W.reshape(ch_out, ch_in * f_h * f_w).T", "z = Q @ as_matrix(W)"),
         # a helper defined in part 3's cell, used by part 5 (the intro says it may)
         ("def conv_forward_loops(q, W, b, s, d, pads):",
          "def pad_or_crop(q, pads):\n    (t, bo), (l, r) = pads\n"
          "    q = np.pad(q, ((0, 0), (0, 0), (max(t, 0), max(bo, 0)), (max(l, 0), max(r, 0))))\n"
          "    return q[:, :, max(-t, 0):q.shape[2] - max(-bo, 0), "
          "max(-l, 0):q.shape[3] - max(-r, 0)]\n\n\n"
          "def conv_forward_loops(q, W, b, s, d, pads):"),
         ("    (top, bottom), (left, right) = pads\n"
          "    q_bar = np.pad(q, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)),\n"
          "                       (max(left, 0), max(right, 0))))\n"
          "    H, W_ = q_bar.shape[2:]\n"
          "    q_bar = q_bar[:, :, max(-top, 0):H - max(-bottom, 0), "
          "max(-left, 0):W_ - max(-right, 0)]\n"
          "    ho = (q_bar.shape[2] - d[0]",
          "    q_bar = pad_or_crop(q, pads)\n    ho = (q_bar.shape[2] - d[0]")],
        set(),
    ),
    "im2col-sliding-view": (  # right values, but a view of q_bar where the reshape needs no copy
        "a1_forward",
        [("    n_b, ch_in, H, W_ = q_bar.shape\n",
          "    n_b, ch_in, H, W_ = q_bar.shape\n"
          "    (f_h, f_w), (s_h, s_w), (d_h, d_w) = f, s, d\n"
          "    win = np.lib.stride_tricks.sliding_window_view(\n"
          "        q_bar, (d_h * (f_h - 1) + 1, d_w * (f_w - 1) + 1), axis=(2, 3))\n"
          "    win = win[:, :, ::s_h, ::s_w, ::d_h, ::d_w]\n"
          "    return win.transpose(0, 2, 3, 1, 4, 5).reshape(-1, ch_in * f_h * f_w)\n")],
        {"a1-im2col-tests"},  # part 5 on it keeps its points (its values are right)
    ),
    "calls-convlib": (  # under an alias imported at the top, and through the module
        "a1_forward",
        [("def conv_forward_loops(",
          "from convlib import conv_forward_naive as loops\n\n\ndef conv_forward_loops("),
         (A1_LOOPS, A1_LOOPS + "    return loops(q, W.swapaxes(0, 1), b, s, padding=pads)\n"),
         (A1_VEC, A1_VEC + "    import convlib\n"
          "    return convlib.conv_forward(q, W.swapaxes(0, 1), b, s, padding=pads)\n")],
        {"a1-loops-tests", "a1-vec-tests"},
    ),
    "endless-loop": (
        "a1_forward",
        [(A1_LOOPS, A1_LOOPS + "    while True:\n        pass\n")],
        {"a1-loops-tests"},
    ),
    # a2: each mistake breaks two parts that share nothing, to show each is graded on its own
    "a2-elu-kink-and-one-sided": (
        "a2_backward",
        [("slope = np.where(z > 0, 1.0,", "slope = np.where(z >= 0, 1.0,"),
         ("n_v = (loss(x + h * v) - loss(x - h * v)) / (2 * h)",
          "n_v = (loss(x + h * v) - loss(x)) / h")],
        {"a2-act-tests", "a2-num-tests"},
    ),
    "a2-dw-last-image-and-forward-split": (
        "a2_backward",
        [('dW[:, :, a, b] = np.einsum("nvij,nmij->vm", dz, seen)',
          'dW[:, :, a, b] = np.einsum("vij,mij->vm", dz[-1], seen[-1])'),
         ("before_h, before_w = span_h - top, span_w - left  # not the forward split",
          "before_h, before_w = -(-p_h // 2), -(-p_w // 2)")],
        {"a2-dw-tests", "a2-dq-tests"},  # part 7 runs on the grader's stand-ins
    ),
    "a2-no-negative-padding-and-float32-step": (
        "a2_backward",
        [("before_h, before_w = span_h - top, span_w - left  # negative when top > d (f - 1)",
          "before_h, before_w = max(span_h - top, 0), max(span_w - left, 0)"),
         ("x = np.asarray(x, dtype=np.float64)  # float64 even for a float32 x",
          "x32 = np.asarray(x)\n    x = x32.astype(np.float64)"),
         ("n_v = (loss(x + h * v) - loss(x - h * v)) / (2 * h)",
          "n_v = (loss((x + h * v).astype(x32.dtype)) - loss((x - h * v).astype(x32.dtype)))"
          " / (2 * h)")],
        {"a2-dq1-tests", "a2-num-tests"},
    ),
    "a2-db-mean-and-blind-checker": (
        "a2_backward",
        [("return dz.sum(axis=0)", "return dz.mean(axis=0)"),
         ("    return abs(g_v - n_v) / max(1e-8, abs(g_v) + abs(n_v))", "    return 0.0")],
        {"a2-db-tests", "a2-check-tests"},
    ),
    "a2-delegates-to-conv-forward": (  # right values, by the provided forward pass
        "a2_backward",
        [("def filter_gradient(dz, q, W, s, d):",
          "def via_forward(dz, q, W, s, d):\n"
          "    dz_hat = np.zeros(dz.shape[:2] + tuple(k * (n - 1) + 1 for k, n in "
          "zip(s, dz.shape[2:])), dtype=dz.dtype)\n"
          "    dz_hat[:, :, ::s[0], ::s[1]] = dz\n"
          "    tops = [t for t, _ in layer_pads(q.shape, W.shape, s, d, dz.shape[-2:])]\n"
          "    spans = [k * (f - 1) for k, f in zip(d, W.shape[2:])]\n"
          "    sides = tuple((sp - t, n + t - m) for sp, t, n, m in "
          "zip(spans, tops, q.shape[2:], dz_hat.shape[2:]))\n"
          "    return conv_forward(cl.pad(dz_hat, sides), cl.rot180(W).transpose(1, 0, 2, 3), "
          "None, (1, 1), d, q.shape[-2:])\n\n\n"
          "def filter_gradient(dz, q, W, s, d):"),
         ('    """dW of the dilated, strided layer, summed over the batch."""\n',
          '    """dW of the dilated, strided layer, summed over the batch."""\n'
          "    return conv_forward(q.transpose(1, 0, 2, 3), dz.transpose(1, 0, 2, 3), None, d, "
          "s, W.shape[-2:]).transpose(1, 0, 2, 3)\n"),
         ('    """dq at stride 1 with a dilation d = (d_h, d_w)."""\n',
          '    """dq at stride 1 with a dilation d = (d_h, d_w)."""\n'
          "    return via_forward(dz, q, W, (1, 1), d)\n"),
         ('    """dq at any stride s and dilation d (eq. 29 generalised)."""\n',
          '    """dq at any stride s and dilation d (eq. 29 generalised)."""\n'
          "    return via_forward(dz, q, W, s, d)\n")],
        {"a2-dw-tests", "a2-dq1-tests", "a2-dq-tests"},  # parts 3-5 switch conv_forward off
    ),
    "a2-own-helpers": (  # correct, with helper names of its own: full marks
        "a2_backward",
        [("def input_gradient(dz, q, W, s, d):",
          "def spread(x, s):\n    out = np.zeros(x.shape[:2] + tuple(k * (n - 1) + 1 for k, n in "
          "zip(s, x.shape[2:])), dtype=x.dtype)\n    out[:, :, ::s[0], ::s[1]] = x\n"
          "    return out\n\n\ndef input_gradient(dz, q, W, s, d):"),
         ("    dz_hat[:, :, ::s_h, ::s_w] = dz  # dz dilated by s along each axis\n",
          "    dz_hat = spread(dz, s)\n"),
         ("def gradient_check(seed):",
          "def my_errors(pairs):\n    return {k: rel_error(*p) for k, p in pairs.items()}\n\n\n"
          "def gradient_check(seed):"),
         ("    return {k: rel_error(*directional_check(losses[k], at[k], grads[k], rng)) "
          "for k in grads}",
          "    return my_errors({k: directional_check(losses[k], at[k], grads[k], rng) "
          "for k in grads})")],
        set(),
    ),
    "assign-instead-of-add": (
        "a3_vectorized",
        [("dq_bar[:, rows, columns] += c6[:, :, :, a, b]",
          "dq_bar[:, rows, columns] = c6[:, :, :, a, b]")],
        {"a3-col2im-tests"},  # the layer's hidden cases run on trusted im2col/col2im
    ),
    "nchw-window-columns": (
        "a3_vectorized",
        [("return view.transpose(0, 1, 2, 4, 5, 3).reshape(",
          "return view.transpose(0, 1, 2, 3, 4, 5).reshape(")],
        {"a3-im2col-tests"},
    ),
    "adjoint-of-the-wrong-array": (
        "a3_vectorized",
        [("rhs = np.sum(x * col2im(y, shape, f, s, pads))",
          "rhs = np.sum(x * col2im(cols, shape, f, s, pads))")],
        {"a3-adjoint-tests"},
    ),
    "interleaved-groups-and-averaged-db": (
        "a3_vectorized",
        [("Wg = W.reshape(K, g, cg_out).transpose(1, 0, 2)        # (g, K, cg_out): group k's",
          "Wg = W.reshape(K, cg_out, g).transpose(2, 0, 1)        # (g, K, cg_out): group k's"),
         ("db = dZ.sum(axis=0).reshape(ch_out)", "db = dZ.mean(axis=0).reshape(ch_out)")],
        {"a3-fwd-tests", "a3-back-tests"},
    ),
    "a3-helpers-of-their-own": (  # correct, with helper functions of the student's own
        "a3_vectorized",
        [("def im2col(q, f, s, pads):",
          "def my_pad(x, pads):\n    return pad_nhwc(x, pads)\n\n\ndef im2col(q, f, s, pads):"),
         ("    q_bar = pad_nhwc(q, pads)\n", "    q_bar = my_pad(q, pads)\n"),
         ("def conv_nhwc_backward(dz, q, W, s, pads, g):",
          "def group_matrices(Q, W, g):\n"
          "    f_h, f_w, cg_in, ch_out = W.shape\n"
          "    K, P = f_h * f_w * cg_in, Q.shape[0]\n"
          "    return (Q.reshape(P, f_h * f_w, g, cg_in).transpose(2, 0, 1, 3).reshape(g, P, K),\n"
          "            W.reshape(K, g, ch_out // g).transpose(1, 0, 2))\n\n\n"
          "def conv_nhwc_backward(dz, q, W, s, pads, g):"),
         ("    Qg = Q.reshape(P, f_h * f_w, g, cg_in).transpose(2, 0, 1, 3).reshape(g, P, K)\n"
          "    Wg = W.reshape(K, g, cg_out).transpose(1, 0, 2)\n    dZ =",
          "    Qg, Wg = group_matrices(Q, W, g)\n    dZ =")],
        set(),
    ),
    "a5-bias-off-added-rows": (
        "a5_network",
        [("    full = np.pad(full, ((0, 0), (0, 0), (max(-top, 0), max(-bottom, 0)),",
          "    full = full + (0 if b is None else b[:, None, None])\n"
          "    full = np.pad(full, ((0, 0), (0, 0), (max(-top, 0), max(-bottom, 0)),"),
         ("        y = y + b[:, None, None]", "        pass")],
        {"a5-fwd-tests", "a5-train-tests"},  # training counts only with a working layer
    ),
    "a5-bias-first-channel": (
        "a5_network",
        [("        y = y + b[:, None, None]", "        y = y + b[0]")],
        {"a5-fwd-tests", "a5-train-tests"},
    ),
    "a5-cut-before-zeros": (  # wrong only where a side cuts past the scatter
        "a5_network",
        [("    full = np.pad(full, ((0, 0), (0, 0), (max(-top, 0), max(-bottom, 0)),",
          "    full = full[:, :, max(top, 0):H - max(bottom, 0),\n"
          "                max(left, 0):Wd - max(right, 0)]\n"
          "    top, bottom, left, right = (min(v, 0) for v in (top, bottom, left, right))\n"
          "    full = np.pad(full, ((0, 0), (0, 0), (max(-top, 0), max(-bottom, 0)),")],
        {"a5-fwd-tests", "a5-train-tests"},
    ),
    "a5-dW-not-summed": (
        "a5_network",
        [('dW[:, :, a, c] = np.einsum("nmij,nvij->mv", x, seen)',
          'dW[:, :, a, c] = np.einsum("mij,vij->mv", x[0], seen[0])')],
        {"a5-bwd-tests", "a5-train-tests"},
    ),
    "a5-backward-sides-swapped": (
        "a5_network",
        [("    dY = np.pad(dy, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)),",
          "    dY = np.pad(dy, ((0, 0), (0, 0), (max(bottom, 0), max(top, 0)),")],
        {"a5-bwd-tests", "a5-train-tests"},
    ),
    "a5-network-split-reversed": (
        "a5_network",
        [("ConvTranspose2d(1, 16, (3, 3), (2, 2), (1, 0, 1, 0), rng=rng)",
          "ConvTranspose2d(1, 16, (3, 3), (2, 2), (0, 1, 0, 1), rng=rng)")],
        {"a5-train-tests"},
    ),
    "a5-own-helpers": (  # correct, with a helper of its own shared by parts 1 and 2
        "a5_network",
        [("def conv_transpose_forward(x, W, b, s, padding):",
          "def _cut(a, top, bottom, left, right):\n"
          "    a = np.pad(a, ((0, 0), (0, 0), (max(-top, 0), max(-bottom, 0)),\n"
          "                   (max(-left, 0), max(-right, 0))))\n"
          "    return a[:, :, max(top, 0) : a.shape[2] - max(bottom, 0),\n"
          "             max(left, 0) : a.shape[3] - max(right, 0)]\n\n\n"
          "def conv_transpose_forward(x, W, b, s, padding):"),
         ("    dY = np.pad(dy, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)),\n"
          "                     (max(left, 0), max(right, 0))))\n"
          "    dY = dY[:, :, max(-top, 0) : dY.shape[2] - max(-bottom, 0),\n"
          "            max(-left, 0) : dY.shape[3] - max(-right, 0)]\n",
          "    dY = _cut(dy, -top, -bottom, -left, -right)\n")],
        set(),
    ),
    "a4-two-bugs-left": (  # forward and filter_gradient not fixed: exactly those parts lost
        "a4_debugging",
        [("Wm = W.reshape(ch_out, ch_in * f)", "Wm = W[:, :, ::-1].reshape(ch_out, ch_in * f)"),
         ("dZ = dz.transpose(0, 2, 1).reshape(-1, ch_out)", "dZ = dz.reshape(-1, ch_out)")],
        {"a4-fwd-tests", "a4-dw-tests"},
    ),
    "a4-round-half": (  # a partial fix: right for p = 0, 2, 3 (mod 4), wrong for p = 1 (mod 4)
        "a4_debugging",
        [("lead = f - 1 - -(-p // 2)  # eq. (25): f - 1 - before",
          "lead = f - 1 - round(p / 2)  # eq. (25)")],
        {"a4-dx-tests"},
    ),
    "a4-no-crop-lead": (  # eq. (25)'s lead without the crop: wrong for p <= -2 only
        "a4_debugging",
        [("lead = f - 1 - -(-p // 2)  # eq. (25): f - 1 - before",
          "lead = f - 1 - max(0, -(-p // 2))  # eq. (25)")],
        {"a4-dx-tests"},
    ),
    "a4-float64-dw": (  # right values, float64 for float32 inputs: the dtype rule of all parts
        "a4_debugging",
        [("return (dZ.T @ X).reshape(ch_out, ch_in, f)",
          "return (dZ.T @ X).reshape(ch_out, ch_in, f).astype(np.float64)")],
        {"a4-dw-tests"},
    ),
    "a4-own-helpers": (  # a correct solution with helper functions of its own: full marks
        "a4_debugging",
        [("def forward(", "def _filter_matrix(W):\n    return W.reshape(W.shape[0], -1)\n\n\n"
          "def forward("),
         ("Wm = W.reshape(ch_out, ch_in * f)", "Wm = _filter_matrix(W)"),
         ("def input_gradient(", "def _front(p):\n    return -(-p // 2)\n\n\ndef input_gradient("),
         ("lead = f - 1 - -(-p // 2)  # eq. (25): f - 1 - before", "lead = f - 1 - _front(p)")],
        set(),
    ),
    "huge-allocation": (
        "a1_forward",
        # 16 GB of address space: fine for the machine without a cap (never touched), refused
        # under the 3 GB cap of the autograde script.
        [(A1_VEC, A1_VEC + "    np.empty(2**31)\n")],
        {"a1-vec-tests"},
    ),
}


def _text(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _split(text, *regions):
    """(lines inside any of the nbgrader regions, lines outside them), by position."""
    inside, outside, current = [], [], None
    for line in text.split("\n"):
        starts = [end for begin, end in regions if begin in line]
        if current is None and starts:
            current = starts[0]
        elif current is not None and current in line:
            current = None
        elif current is not None:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _secrets(sources, *regions):
    """Lines of the given regions of all source notebooks that appear nowhere outside them."""
    inside, outside = [], []
    for src in sources:
        for cell in _load(src)["cells"]:
            i, o = _split(_text(cell), *regions)
            inside += i
            outside += o
    public = "\n".join(outside)
    return {s for s in _distinctive(inside, set()) if s not in public}


def _distinctive(lines, elsewhere):
    """Lines long and specific enough that finding one elsewhere means a leak."""
    return {ln.strip() for ln in lines if len(ln.strip()) >= 25 and ln.strip() not in elsewhere}


def _without_solution_markers(text):
    return "\n".join(ln for ln in text.split("\n") if "### BEGIN SOLUTION" not in ln
                     and "### END SOLUTION" not in ln)


def _load(path):
    return json.loads(Path(path).read_text())


def _fill(release_nb, source_nb, replacements=()):
    """The release with every code solution cell taken from the source, then mistakes made."""
    release, source = _load(release_nb), _load(source_nb)
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: c for c in source["cells"]
             if "nbgrader" in c["metadata"]}
    for cell in release["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            cell["source"] = _without_solution_markers(_text(by_id[meta["grade_id"]]))
    for old, new in replacements:
        hits = 0
        for cell in release["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution") and old in _text(cell):
                cell["source"] = _text(cell).replace(old, new)
                hits += 1
        assert hits == 1, f"the seeded mistake must replace exactly one place: {old!r}"
    return release


def _points(source_nb):
    """{grade_id: points} of the autograded (code test) cells of a source notebook."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
            for c in _load(source_nb)["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code"}


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{IBIN}{os.pathsep}{env.get('PATH', '')}"
    env["CONVGRADE_VENV"] = str(ROOT / ".venv-grader")  # the sealed kernel's environment
    env.pop("MPLBACKEND", None)
    return env


def _run(cmd, cwd, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=1800)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-3000:]}")
    return proc


SCORES = """
import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for a in gb.assignments:
        for s in gb.assignment_submissions(a.name):
            out.setdefault(s.student_id, {})[a.name] = {
                g.name: [g.score, g.max_score] for nb in s.notebooks for g in nb.grades}
json.dump(out, sys.stdout)
"""


def _generated(folder, names):
    """copytree's ignore: the generated folders at the course's top (not templates/feedback/)."""
    return [n for n in names if n in GENERATED and Path(folder) == ROOT / "classroom"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded copy of the course folder: (path, sources, scores, autograde output)."""
    if not (IBIN / "nbgrader").exists() or not (ROOT / ".venv-grader").exists():
        reason = "the instructor's or grading environment is missing: run `make instructor`"
        if os.environ.get("CLASSROOM_TEST_REQUIRED"):
            pytest.fail(reason)
        pytest.skip(reason)
    course = tmp_path_factory.mktemp("classroom") / "classroom"
    shutil.copytree(ROOT / "classroom", course, ignore=_generated)
    sources = {p.parent.name: p for p in sorted(course.glob("source/*/*.ipynb"))}
    assert "a1_forward" in sources
    for name in sources:
        _run([IBIN / "nbgrader", "generate_assignment", name, "--force"], course)

    def submit(student, name, nb):
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        target = folder / sources[name].name
        if isinstance(nb, str):
            target.write_text(nb)
        else:
            target.write_text(json.dumps(nb, indent=1))

    for name, src in sources.items():
        release = course / "release" / name / src.name
        submit("reference", name, _fill(release, src))
        submit("blank", name, _load(release))
    for student, (name, replacements, _) in MISTAKES.items():
        release = course / "release" / name / sources[name].name
        submit(student, name, _fill(release, sources[name], replacements))
    submit("not-a-notebook", "a1_forward", "this is not JSON")

    proc = _run([IBIN / "python", course / "autograde.py", "--course", course,
                 "--cell-timeout", str(CELL_TIMEOUT), "--submission-timeout", "600",
                 "--jobs", "3", "--mathjax", MATHJAX],
                course, check=False)
    scores = json.loads(_run([IBIN / "python", "-c", SCORES], course).stdout)
    return course, sources, scores, proc


def _autograded(scores, student, name, sources):
    got = scores.get(student, {}).get(name)
    assert got is not None, f"{student}/{name} was not graded"
    return {gid: score for gid, (score, _) in got.items() if gid in _points(sources[name])}


def test_release_holds_no_solution_and_no_hidden_test(course):
    path, sources, _, _ = course
    for name, src in sources.items():
        released = json.loads((path / "release" / name / src.name).read_text())
        released_text = "\n".join(_text(c) for c in released["cells"])
        secrets = _secrets([src], SOLUTION, HIDDEN)
        assert len(secrets) > 20, f"{name}: too few solution/hidden lines to check"
        leaks = sorted(s for s in secrets if s in released_text)
        assert not leaks, f"{name}: the release shows solution or hidden-test lines: {leaks[:3]}"
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Model answer", "Rubric"):
            assert marker not in released_text, f"{name}: {marker!r} left in the release"
        assert "raise NotImplementedError()" in released_text
        assert "YOUR ANSWER HERE" in released_text


def test_reference_solutions_score_full_marks(course):
    _, sources, scores, _ = course
    for name, src in sources.items():
        got = _autograded(scores, "reference", name, sources)
        assert got == {k: float(v) for k, v in _points(src).items()}, name


def test_unmodified_release_scores_zero(course):
    _, sources, scores, _ = course
    for name in sources:
        got = _autograded(scores, "blank", name, sources)
        assert set(got.values()) == {0.0}, (name, got)


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_each_mistake_loses_exactly_its_parts(course, student):
    _, sources, scores, _ = course
    name, _, broken = MISTAKES[student]
    expected = {gid: 0.0 if gid in broken else float(p)
                for gid, p in _points(sources[name]).items()}
    assert _autograded(scores, student, name, sources) == expected


def test_one_bad_submission_never_stops_the_others(course):
    _, sources, scores, proc = course
    assert proc.returncode == 1, proc.stdout  # the broken file is reported ...
    assert re.search(r"not-a-notebook\s+a1_forward\s+nbgrader exited", proc.stdout), proc.stdout
    graded = {s for s, per in scores.items() for a in per}
    assert {"reference", "blank", *MISTAKES} <= graded  # ... and everyone else is graded


def test_feedback_names_the_property_and_hides_the_hidden_tests(course):
    path, sources, _, _ = course
    secrets = _secrets(sources.values(), HIDDEN)  # solution lines may show: they are theirs
    pages = sorted(path.glob("feedback/*/*/*.html"))
    students = {p.parts[-3] for p in pages}
    assert {"reference", "blank", *MISTAKES} <= students, students
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        leaks = sorted(s for s in secrets if s in text)
        assert not leaks, f"{page}: feedback shows hidden-test lines: {leaks[:3]}"
    split = html.unescape(re.sub(r"<[^>]+>", "", next(
        path.glob("feedback/split-reversed/a1_forward/*.html")).read_text()))
    assert "the extra pixel of an odd p goes before" in split  # the failed property
    convlib_call = html.unescape(re.sub(r"<[^>]+>", "", next(
        path.glob("feedback/calls-convlib/a1_forward/*.html")).read_text()))
    # the sealed kernel of a1 has no convlib at all: delegating fails with a plain ImportError
    assert "No module named 'convlib'" in convlib_call


def test_class_report_names_what_the_class_got_wrong(course):
    """feedback/class-report.html: per part the share with full points, the failed properties."""
    path, sources, scores, proc = course
    page = (path / "feedback" / "class-report.html").read_text()
    assert re.search(r"\(class report\)\s+feedback/class-report\.html", proc.stdout)
    assert "src='data:image/png;base64," in page and "% with full points" in page  # chart, alt
    for name in sources:
        assert f"<h2>{name}</h2>" in page, name
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    # split-reversed fails a1's split part with the padding split named, no case in it
    assert re.search(r"splits the padding the wrong way round: eq\. \(8\): [^:]*: 1 student",
                     text)
    assert "case '" not in text and "q of shape" not in text
    assert "reference" not in text and "split-reversed" not in text  # no student is named


class _Fetched(HTMLParser):
    """What a browser fetches by itself: src= of any tag, <link href>, CSS url() and @import."""

    def __init__(self):
        super().__init__()
        self.urls, self.scripts, self._style = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("src"):
            self.urls.append(attrs["src"])
            if tag == "script":
                self.scripts.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", attrs.get("style") or "")
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if self._style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def test_feedback_loads_nothing_from_the_internet(course):
    path, _, _, proc = course
    assert re.search(r"\(feedback\)\s+mathjax\s+ok", proc.stdout), proc.stdout
    pages = sorted(path.glob("feedback/*/*/*.html"))
    assert pages
    for page in pages:
        fetched = _Fetched()
        fetched.feed(page.read_text())
        remote = [u for u in fetched.urls if re.match(r"(https?:)?//", u)]
        assert not remote, f"{page} loads from the internet: {remote}"
        # every script is there, MathJax among them, in the student's own folder
        assert any("mathjax" in src for src in fetched.scripts), f"{page}: no MathJax"
        for src in fetched.scripts:
            target = (page.parent / src).resolve()
            assert target.is_file(), f"{page}: its script {src} is missing"
            assert page.parents[1] in target.parents, f"{page}: {src} is outside the folder"


def test_feedback_math_is_typeset_offline_from_a_zipped_folder(course, tmp_path):
    """The instructor zips one student's feedback folder and mails it; the student opens it."""
    path, _, _, _ = course
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from pagecheck import JS_WAIT_MATHJAX, browser_context

    archive = shutil.make_archive(str(tmp_path / "reference"), "zip", path / "feedback",
                                  "reference")
    shutil.unpack_archive(archive, tmp_path / "mail")
    page_file = tmp_path / "mail" / "reference" / "a1_forward" / "a1_forward.html"
    with browser_context(tmp_path / "profile") as context:
        page = context.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        assert page.evaluate(JS_WAIT_MATHJAX) == "ready"
        page.set_viewport_size({"width": 1280, "height": 2400})
        page.screenshot(path=str(tmp_path / "feedback.png"))
        typeset = page.locator("mjx-container").count()
        errors = page.locator('mjx-merror, [data-mml-node="merror"]').count()
        # a Markdown cell known to hold math: $h_\mathrm{out}$, $p$, \lceil p/2 \rceil, ...
        cell = page.locator("p", has_text="The notes fix the output size").first
        cell_math = cell.locator("mjx-container").count()
        cell_text = cell.inner_text()
    assert not [u for u in requests if not u.startswith("file://")], requests
    assert typeset >= 10 and errors == 0, (typeset, errors)
    assert cell_math >= 4 and "$" not in cell_text and "\\lceil" not in cell_text, cell_text


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
