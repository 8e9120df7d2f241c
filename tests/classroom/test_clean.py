"""The sanitising of what a submission shows (classroom/grading/clean.py), case by case.

Fast, without nbgrader: the payloads of two attacker reviews, each of which reached the
feedback page or the graded notebook as a live javascript: link before, and honest answers
that must come through unchanged.
"""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "classroom"))
from grading.clean import sanitize_cell, sanitize_markdown  # noqa: E402

SCRIPT_LINKS = [
    "[a](javascript:alert(1))",
    "[a](  JaVaScRiPt:alert(1))",
    "[entity](java&#115;cript:alert('x'))",
    "[ref][r1]\n\n[r1]: javascript:alert(1)",
    "[a](javascript\\:document.title='x')",
    "[b][a\\]b]\n[a\\]b]: javascript:document.title='x'",
    "[c][r]\n> [r]: javascript:document.title='x'",
    "[c][r]\n- [r]: javascript:document.title='x'",
    "[d][q]\n[q]: javascript\\:document.title='x'",
    "[e](vbscript:msgbox)",
]


@pytest.mark.parametrize("text", SCRIPT_LINKS)
def test_no_script_link_survives(text):
    out = sanitize_markdown(text)
    plain = out.replace("\\", "").replace("&#115;", "s").lower().replace(" ", "")
    assert "javascript:" not in plain and "vbscript:" not in plain, out


@pytest.mark.parametrize("text, gone", [
    ("<img src=x onerror=alert(1)>", "<img"),
    ("<script>alert(1)</script>", "<script"),
    ("$\\href{javascript:alert(1)}{x}$", "\\href"),
    ("$\\style{color:red}{x}$", "\\style"),
    ("$\\bbox[background-image:url(https://x)]{x}$", "\\bbox"),
    ("![pixel](http://example.invalid/p.png)", "http://example.invalid"),
])
def test_html_mathjax_commands_and_remote_images_are_disarmed(text, gone):
    assert gone not in sanitize_markdown(text)


@pytest.mark.parametrize("text", [
    "An honest answer: $p = s(h_\\mathrm{out} - 1) + f - h_\\mathrm{in}$, so $a < b$.",
    "See [the notes](https://example.org/notes.pdf#page=3) and [chapter 2](01_forward.ipynb).",
    "![my sketch](attachment:sketch.png)",
])
def test_honest_answers_come_through(text):
    assert sanitize_markdown(text) == text


def test_outputs_keep_text_and_images_only():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": "<script>x</script>", "text/plain": "x",
                              "image/svg+xml": "<svg onload=alert(1)>",
                              "application/javascript": "alert(1)", "image/png": "iVBORw0K"})]
    cell.metadata["evil"] = "<script>"
    out = sanitize_cell(cell)
    assert set(out.outputs[0]["data"]) == {"text/plain", "image/png"}
    assert "evil" not in out.metadata
