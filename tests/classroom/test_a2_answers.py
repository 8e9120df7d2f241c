"""Assignment 2's model solutions re-run: the claims of the text and the model answers, and the
trusted references of the hidden checks (torch.autograd and loops from the definition) agree
with each other and with the model solutions. Fast: numpy, torch on a few small layers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "classroom" / "source" / "a2_backward" / "a2_backward.ipynb"
sys.path.insert(0, str(ROOT / "classroom"))
sys.path.insert(0, str(ROOT / "classroom" / "grading" / "kit"))

torch = pytest.importorskip("torch")

from convgrade import a2 as kit  # noqa: E402
from grading.checks import a2 as checks  # noqa: E402


def _cells():
    nb = json.loads(SOURCE.read_text())
    out = {}
    for c in nb["cells"]:
        src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        out[c["metadata"]["nbgrader"]["grade_id"]] = (c["cell_type"], src)
    return out


CELLS = _cells()


def _solutions(replace=()):
    """The namespace of the setup cell and every solution cell (with replacements)."""
    g = {}
    for gid, (kind, src) in CELLS.items():
        if kind == "code" and (gid == "a2-setup" or not gid.endswith("-tests")):
            for old, new in replace:
                src = src.replace(old, new)
            exec(compile(src, gid, "exec"), g)
    return g


G = _solutions()


def _run_public(gid, g):
    src = CELLS[gid][1]
    src = "\n".join(ln for ln in src.split("\n") if "convgrade" not in ln)
    exec(compile(src, gid, "exec"), g)


def test_public_tests_pass_on_the_model_solution(capsys):
    g = _solutions()
    for gid in CELLS:
        if gid.endswith("-tests"):
            _run_public(gid, g)
    assert "the check passed" in capsys.readouterr().out


@pytest.mark.parametrize("grade_id", ["a2-dw-tests", "a2-dq1-tests", "a2-dq-tests"])
@pytest.mark.parametrize("seed", [0, 7])
def test_references_agree_and_model_solution_matches(grade_id, seed):
    for label, name, args in kit.plan(grade_id, seed):
        if grade_id == "a2-dq1-tests":
            dz, q, W, d = args
            s = (1, 1)
        else:
            dz, q, W, s, d = args
        dq_t, dW_t = checks.torch_grads(dz, q, W, s, d)
        dq_l, dW_l = checks.grads_loops(dz, q, W, s, d)
        tol = 1e-4 if q.dtype == np.float32 else 1e-10
        assert np.allclose(dq_t, dq_l, atol=tol) and np.allclose(dW_t, dW_l, atol=tol), label
        assert np.allclose(checks.dq_route(dz, q.shape, W, s, d), dq_t, atol=tol), label
        got = G[name](*args)
        assert got.dtype == q.dtype, label
        assert np.allclose(got, dW_t if name == "filter_gradient" else dq_t, atol=tol), label


def test_hidden_cases_cover_the_properties():
    pads = [checks.layer_pads(c[4:6], c[6:8], c[8:10], c[10:12], c[12:14])
            for c in kit.cases(0)]
    spans = [(c[10] * (c[6] - 1), c[11] * (c[7] - 1)) for c in kit.cases(0)]
    assert any((t - b) % 2 or (lf - r) % 2 for (t, b), (lf, r) in pads)  # odd padding
    assert any(t < 0 for (t, _), _ in pads)  # cropping
    assert any(t > sh for ((t, _), _), (sh, _) in zip(pads, spans, strict=True))  # negative
    assert any(c[8] != c[9] and c[10] != c[11] and c[6] != c[7] for c in kit.cases(0))
    for c, ((t, b), (lf, r)) in zip(kit.cases(0), pads, strict=True):
        if "odd padding" in c[0]:  # the labels' claims
            assert (t + b) % 2 == 1 and (lf + r) % 2 == 1, c[0]
        if "negative padding" in c[0]:
            assert t + b < 0, c[0]
        if "larger than d (f - 1)" in c[0]:
            assert min(t, b) > c[10] * (c[6] - 1), c[0]
    for case in G["PUBLIC_CASES"]:
        (t, b), (lf, r) = G["layer_pads"](*case[1:])
        m = re.search(r"odd padding \((\d+), (\d+)\)", case[0])
        if m:
            assert (t + b, lf + r) == (int(m.group(1)), int(m.group(2))), case[0]


def test_activation_and_bias_match_the_checks():
    for label, name, (dq, z, alpha) in kit.plan("a2-act-tests", 3):
        got = G[name](dq, z, alpha)
        assert np.all(np.isfinite(got)) and got.dtype == z.dtype
        slope = np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z.astype(float), 0)))
        assert np.allclose(got, dq * slope, rtol=1e-6), label
    assert G["elu_output_error"](np.ones(1), np.zeros(1), 0.3)[0] == 0.3  # slope alpha at 0
    dz = np.random.default_rng(0).normal(size=(3, 2, 4, 5))
    assert np.allclose(G["bias_gradient"](dz), dz.sum(axis=0))


def _backward_sides(case):
    """(before, after) of the backward padding along the rows, by the model solution's rule."""
    label, q_shape, W_shape, s, d, h_out = case
    (top, bottom), _ = G["layer_pads"](q_shape, W_shape, s, d, h_out)
    span = d[0] * (W_shape[2] - 1)
    return span, top, bottom, span - top, span - bottom


def test_q2_backward_padding_claims():
    cases = {c[0]: c for c in G["PUBLIC_CASES"]}
    span, top, bottom, before, after = _backward_sides(cases["padding 6 > d (f - 1) = 2 on "
                                                            "each axis"])
    assert (span, top, bottom, before, after) == (2, 3, 3, -1, -1)
    crop = cases["stride 1, cropped rows and columns (p = -2, -3), dilation (2, 1)"]
    assert crop in G["STRIDE_1"] and crop[3] == (1, 1)  # a part 4 case (Q2 asks of part 4)
    span, top, bottom, before, after = _backward_sides(crop)
    assert (span, top, bottom, before, after) == (2, -1, -1, 3, 3)
    (top, bottom), (left, right) = G["layer_pads"](*crop[1:])
    assert (top + bottom, left + right) == (-2, -3)  # the label's p
    span_w = crop[4][1] * (crop[2][3] - 1)
    back_w = crop[1][3] + span_w - crop[5][1]
    assert (span_w, left, right, span_w - left, back_w - (span_w - left)) == (2, -1, -2, 3, 4)
    # the sum is 2 d (f - 1) - p, the size the dilated dz needs
    label, q_shape, W_shape, s, d, h_out = crop
    p = s[0] * (h_out[0] - 1) + span + 1 - q_shape[2]
    assert before + after == 2 * span - p == q_shape[2] + span - (s[0] * (h_out[0] - 1) + 1)
    # negative exactly when that side is padded by more than d (f - 1), over many layers:
    # and the rule (with negative amounts cropping) gives torch's dq there
    rng = np.random.default_rng(1)
    seen_negative = 0
    for _ in range(60):
        f, d_, s_ = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        h_out, h_in = int(rng.integers(1, 6)), int(rng.integers(2, 8))
        if s_ * (h_out - 1) + d_ * (f - 1) + 1 - h_in < -(h_in - 1):
            continue
        case = ("", (1, 1, h_in, 3), (1, 1, f, 1), (s_, 1), (d_, 1), (h_out, 3))
        span, top, bottom, before, after = _backward_sides(case)
        assert (before < 0) == (top > span) and (after < 0) == (bottom > span)
        seen_negative += before < 0
        q, W, dz = G["public_case"](case)
        assert np.allclose(G["input_gradient"](dz, q, W, case[3], case[4]),
                           checks.torch_grads(dz, q, W, case[3], case[4])[0])
    assert seen_negative > 0


def test_q3_forward_split_at_stride_1():
    case = G["PUBLIC_CASES"][1]
    assert case[0].startswith("filter 3 x 2, dilation (2, 1), odd padding (3, 1)")
    label, q_shape, W_shape, s, d, h_out = case
    assert s == (1, 1)
    (top, bottom), (left, right) = G["layer_pads"](q_shape, W_shape, s, d, h_out)
    p_h, p_w = top + bottom, left + right
    assert (p_h, top, p_w, left) == (3, 2, 1, 1)
    span_h, span_w = d[0] * (W_shape[2] - 1), d[1] * (W_shape[3] - 1)
    back_h = q_shape[2] + span_h - h_out[0]
    back_w = q_shape[3] + span_w - h_out[1]
    assert back_h == 5 and (span_h - top, -(-back_h // 2)) == (2, 3)
    assert back_w == 1 and (span_w - left, -(-back_w // 2)) == (0, 1)
    wrong = _solutions([("before_h, before_w = span_h - top, span_w - left",
                         "before_h, before_w = -(-p_h // 2), -(-p_w // 2)")])
    q, W, dz = G["public_case"](case)
    right_dq = G["input_gradient_dilated"](dz, q, W, d)
    wrong_dq = wrong["input_gradient_dilated"](dz, q, W, d)
    assert np.array_equal(wrong_dq[..., 1:, 1:], right_dq[..., :-1, :-1])  # one pixel down-right
    assert np.all(wrong_dq != right_dq)  # every entry differs
    lhs = float(np.sum(G["conv_forward"](q, W, None, s, d, h_out) * dz))
    rhs = float(np.sum(q * wrong_dq))
    quoted = re.search(r"z \\odot dz = ([-0-9.]+)\$ but\s+\$\\sum q \\odot dq = ([-0-9.]+)\$",
                       CELLS["a2-q3"][1])
    assert (f"{lhs:.2f}", f"{rhs:.2f}") == quoted.groups()
    with pytest.raises(AssertionError):
        wrong["check_adjoint"]("input_gradient_dilated", case)


def test_float32_claim_of_part_6():
    """Part 6: in float32, x +- h v at h = 1e-4 give a centered difference with a relative
    error whose median over random directions is 6e-4 to 2e-3 for arrays of 5 to 24 entries
    (the part's hidden shapes), far above part 7's 1e-6; float64 removes it."""
    h = 1e-4
    L = lambda y: float(np.sum(np.asarray(y, np.float64) ** 3))  # noqa: E731
    medians = []
    for shape in ((5,), (2, 3), (3, 4), (2, 3, 4)):
        errors = []
        for seed in range(200):
            rng = np.random.default_rng(seed)
            x = (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2, size=shape)
                 ).astype(np.float32)
            v = rng.standard_normal(shape)
            v /= np.linalg.norm(v)
            exact = np.sum(3 * x.astype(np.float64) ** 2 * v + h * h * v ** 3)
            in32 = (L((x + h * v).astype(np.float32))
                    - L((x - h * v).astype(np.float32))) / (2 * h)
            errors.append(abs(in32 - exact) / abs(exact))
        medians.append(float(np.median(errors)))
    assert f"{min(medians):.0e}" == "6e-04" and f"{max(medians):.0e}" == "2e-03", medians
    text = CELLS["a2-num-md"][1]
    assert "median over random directions $6 \\cdot 10^{-4}$\nto $2 \\cdot 10^{-3}$" in text
    assert "for arrays of 5 to 24 entries" in text
    x = np.array([[1.0, -2.0, 0.5], [1.5, -0.5, 2.0]], dtype=np.float32)
    for seed in range(3):
        v = np.random.default_rng(seed).standard_normal(x.shape)
        v /= np.linalg.norm(v)
        exact = np.sum(3 * x.astype(np.float64) ** 2 * v + h * h * v ** 3)
        g_v, n_v = G["directional_check"](L, x, 3 * x ** 2, np.random.default_rng(seed), h)
        assert abs(n_v - exact) / abs(exact) < 1e-8


def test_gradient_check_passes_and_notices_wrong_gradients():
    assert max(G["gradient_check"](0).values()) <= 1e-6
    for key, swap in (("db", ("return dz.sum(axis=0)", "return dz.mean(axis=0)")),
                      ("dq", ("before_h, before_w = span_h - top, span_w - left  # not",
                              "before_h, before_w = -(-p_h // 2), -(-p_w // 2)  # not"))):
        errors = _solutions([swap])["gradient_check"](0)
        assert errors[key] > 1e-4 and all(e <= 1e-6 for k, e in errors.items() if k != key)


def test_provided_forward_matches_torch():
    import torch.nn.functional as F

    for case in G["PUBLIC_CASES"]:
        label, q_shape, W_shape, s, d, h_out = case
        q, W, dz = G["public_case"](case)
        (t, b), (lf, r) = G["layer_pads"](q_shape, W_shape, s, d, h_out)
        want = F.conv2d(F.pad(torch.tensor(q), (lf, r, t, b)), torch.tensor(W), stride=s,
                        dilation=d).numpy()
        assert np.allclose(G["conv_forward"](q, W, None, s, d, h_out), want), label


def _mistake(name):
    """The replacements of a seeded mistake of tests/classroom/test_classroom.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_classroom",
                                                  Path(__file__).with_name("test_classroom.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES[name][1]


def test_delegating_to_conv_forward_is_right_but_switched_off():
    """The loophole parts 3-5 forbid: the provided conv_forward gives dW and dq in one call.
    The delegating solution is right; the public tests and the hidden runs of parts 3-5 switch
    conv_forward off (and put it back), so it fails there with the rule named."""
    g = _solutions(_mistake("a2-delegates-to-conv-forward"))
    for case in G["PUBLIC_CASES"] + [("float32", (2, 2, 6, 7), (3, 2, 3, 2), (2, 1), (1, 2),
                                      (3, 4))]:
        label, q_shape, W_shape, s, d, h_out = case
        q, W, dz = G["public_case"](case)
        dq, dW = checks.torch_grads(dz, q, W, s, d)
        assert np.allclose(g["filter_gradient"](dz, q, W, s, d), dW), label
        assert np.allclose(g["input_gradient"](dz, q, W, s, d), dq), label
        if s == (1, 1):
            assert np.allclose(g["input_gradient_dilated"](dz, q, W, d), dq), label
    forward = g["conv_forward"]
    for name in ("filter_gradient", "input_gradient_dilated", "input_gradient"):
        with pytest.raises(AssertionError, match="conv_forward is switched off in parts 3-5"):
            g["check_adjoint"](name, G["PUBLIC_CASES"][0])
        assert g["conv_forward"] is forward  # put back
    g["alias"] = forward
    for grade_id in ("a2-dw-tests", "a2-dq1-tests", "a2-dq-tests"):
        records = kit.run(grade_id, g, 0)
        assert records and all("conv_forward is switched off in parts 3-5" in r["error"]
                               for r in records), grade_id
        assert g["conv_forward"] is forward and g["alias"] is forward
        assert not any("error" in r for r in kit.run(grade_id, dict(G), 0)), grade_id
    g["gradient_check"](0)  # part 7 may call it


def test_public_tests_catch_a_modified_x_and_a_wrong_layer_of_part_7():
    inplace = _solutions([("    n_v = (loss(x + h * v) - loss(x - h * v)) / (2 * h)\n",
                           "    x += h * v  # not put back\n"
                           "    n_v = (loss(x) - loss(x - 2 * h * v)) / (2 * h)\n")])
    with pytest.raises(AssertionError, match="modified x .case sum.x.3. at a float64 x"):
        _run_public("a2-num-tests", inplace)
    for old, new, what in (
            ("q = rng.normal(size=(2, 2, 6, 5))", "q = rng.normal(size=(2, 2, 7, 5))",
             "odd along both axes"),
            ("q = rng.normal(size=(2, 2, 6, 5))", "q = rng.normal(size=(2, 2, 5, 5))",
             "h_in != w_in")):
        g = _solutions([(old, new)])
        with pytest.raises(AssertionError, match=re.escape(what)):
            _run_public("a2-check-tests", g)


def test_kernel_convlib_has_no_forward_pass():
    import shutil
    import tempfile

    sys.path.insert(0, str(ROOT / "classroom" / "grading" / "kit"))
    from grading.kit.build import strip_source

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "convlib"
        shutil.copytree(ROOT / "convlib", target, ignore=shutil.ignore_patterns("__pycache__"))
        for path in target.rglob("*.py"):
            path.write_text(strip_source(path.read_text(), set(checks.CONVLIB)))
        text = (target / "__init__.py").read_text() + (target / "forward.py").read_text()
        for name in ("conv_forward", "im2col", "col2im", "conv_backward"):
            assert f"def {name}(" not in text + (target / "ops.py").read_text(), name
        for name in ("pad", "rot180", "dilate"):
            assert name in (target / "__init__.py").read_text(), name
