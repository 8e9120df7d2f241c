"""What every chapter notebook needs to work outside the HTML book (issue 9, part 3).

- It starts with the guarded install cell, byte for byte, tagged ``remove-cell`` (the book
  hides it; Colab and Binder without the course run it; locally it does nothing).
- Every figure caption (myst-nb cell metadata) is repeated, under the same label, in the
  caption cell tools/visible_captions.py writes after the figure, so JupyterLab shows it and
  resolves references to it (run the tool after editing a caption).
- Its markdown uses only MyST roles and directives that jupyterlab-myst renders. The lists
  below were checked in JupyterLab 4.6 with jupyterlab-myst 2.7 in headless Chromium: an
  unknown directive shows as an "Unknown Directive" box (``{glue:figure}``, ``{rubric}``,
  ``{only}``), an unknown role shows its bare content with no error (``{glue:text}``), so
  only this static check catches it.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import course_url  # noqa: E402
import visible_captions  # noqa: E402

# the repository is the one setting of _config.yml (tools/course_url.py derives the cell)
GUARD = f'''\
# Colab or Binder without the course installed: install convlib from the course repository.
import importlib.util

if importlib.util.find_spec("convlib") is None:
    %pip install --quiet "git+{course_url.configured_url()}"'''

ROLES = {"eq", "numref", "ref", "doc", "math", "term", "abbr", "sub", "sup", "download", "kbd",
         "cite", "cite:p", "cite:t"}
DIRECTIVES = {
    "note", "tip", "warning", "important", "hint", "caution", "attention", "danger", "error",
    "seealso", "admonition", "dropdown", "exercise", "solution", "figure", "math", "table",
    "list-table", "csv-table", "code", "code-block", "margin", "aside", "sidebar", "epigraph",
    "topic", "card", "tab-set", "tab-item", "div", "image", "iframe", "prf:theorem",
    "prf:lemma", "prf:definition", "prf:proof",
}
# a role is {name} right before a backtick run; a backtick run without it is inline code
ROLE_OR_CODE = re.compile(r"(\{([A-Za-z][\w:+.-]*)\})?(`+)[^`]*?\3")
DIRECTIVE = re.compile(r"^[ \t>]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{([A-Za-z][\w:+.-]*)\}", re.M)
FENCED_CODE = re.compile(r"^[ \t]*(`{3,}|~{3,})(?![ \t]*\{).*?^[ \t]*\1[ \t]*$", re.M | re.S)


def load(path):
    return json.loads(path.read_text(encoding="utf8"))


def myst_constructs(source: str) -> tuple[set, set]:
    """The roles and directives a markdown cell uses (plain fenced code blocks and inline
    code skipped: a role shown as code is not a role)."""
    text = FENCED_CODE.sub("", source)
    directives = set(DIRECTIVE.findall(text))
    roles = {m.group(2) for m in ROLE_OR_CODE.finditer(DIRECTIVE.sub("", text)) if m.group(2)}
    return roles, directives


def test_there_are_chapter_notebooks():
    assert len(NOTEBOOKS) >= 8, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_starts_with_the_guarded_install_cell(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "code", f"{path.name}: cell 0 is {first['cell_type']}"
    source = "".join(first["source"])
    assert source == GUARD, f"{path.name}: cell 0 is not the guarded install cell:\n{source}"
    tags = first.get("metadata", {}).get("tags", [])
    assert "remove-cell" in tags, f"{path.name}: cell 0 lacks the tag remove-cell ({tags})"
    assert not first.get("outputs"), f"{path.name}: the guarded cell printed something"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figure_captions_are_visible_outside_the_book(path):
    assert not visible_captions.process(path, check=True), (
        f"{path.name}: a figure caption is not (or no longer) repeated in its caption cell; "
        f"run `.venv/bin/python tools/visible_captions.py chapters/{path.name}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_uses_only_what_jupyterlab_myst_renders(path):
    bad = []
    for k, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        roles, directives = myst_constructs("".join(cell["source"]))
        bad += [f"cell {k}: role {{{r}}}" for r in sorted(roles - ROLES)]
        bad += [f"cell {k}: directive {{{d}}}" for d in sorted(directives - DIRECTIVES)]
    assert not bad, (
        f"{path.name} uses MyST that jupyterlab-myst does not render (students would see it "
        "raw or as 'Unknown Directive'):\n  " + "\n  ".join(bad)
    )


@pytest.mark.parametrize(
    "source, roles, directives",
    [
        ("By {eq}`eq-7` and {numref}`fig`.", {"eq", "numref"}, set()),
        (":::{exercise}\n:label: x\nText {glue:text}`v`.\n:::", {"glue:text"}, {"exercise"}),
        ("```{glue:figure} f\n:name: g\n```", set(), {"glue:figure"}),
        ("> ```{note}\n> quoted\n> ```", set(), {"note"}),
        ("```python\nd = {eq}`not a role in code`\n```\n", set(), set()),
        ("Write `{eq}` then the label.", set(), set()),
    ],
)
def test_the_scanner_finds_roles_and_directives(source, roles, directives):
    assert myst_constructs(source) == (roles, directives)
