"""The JupyterLab checks can fail: a throwaway notebook with one defect of each kind.

Each defect must be reported on its own cell, and the sound cells (a real animation and a
real explorer of convlib) must not be.
"""

import json

import nbformat
import pytest
from labcheck import browser_context, run_notebook, serve_lab, shutdown_kernels

pytestmark = pytest.mark.slow

FAKE_EXPLORER = """\
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt

buf = io.BytesIO()
plt.figure(figsize=(2, 1)).savefig(buf, format="png")
plt.close("all")
widgets.VBox([widgets.IntSlider(3, 0, 9, description="n"),
              widgets.Image(value=buf.getvalue(), format="png")])  # the slider draws nothing"""

CELLS = [  # (kind, source, metadata)
    ("markdown", "Raw role in HTML: <div>{eq}`eq-x`</div>\n\n:::{rubric} Unknown\n:::\n\n"
                 "Bad math $\\undefinedmacro{x}$ and a web image ![w](http://example.invalid/w.png)",
     {}),
    ("markdown", "See {numref}`self-fig` and {ref}`elsewhere`.", {}),
    ("code", "import matplotlib.pyplot as plt\n\nplt.plot([1, 2])\nplt.show()",
     {"mystnb": {"figure": {"caption": "A figure.", "name": "self-fig"}}}),
    ("code", "from IPython.display import HTML\n\n"
             "HTML('<div class=\"animation\"><img id=\"_anim_imgbroken\"></div>')", {}),
    ("code", FAKE_EXPLORER, {}),
    ("code", "from convlib import explorers\n\nexplorers.padding_animation()", {}),
    ("code", "explorers.padding_explorer()", {}),
    ("code", "raise ValueError('selftest: an error output')", {}),
    ("code", "print('never reached')", {}),
]


def make_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for kind, source, meta in CELLS:
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(source, metadata=meta))
    return nb


def test_every_check_can_fail(tmp_path, tmp_path_factory):
    root = tmp_path / "root"
    root.mkdir()
    nb = make_notebook()
    nbformat.write(nb, root / "selftest.ipynb")
    with serve_lab(root, tmp_path / "home") as (base, token), \
            browser_context(tmp_path_factory.mktemp("chromium") / "profile") as context:
        try:
            problems, notes = run_notebook(context, base, token, "selftest.ipynb",
                                           json.loads(nbformat.writes(nb)),
                                           tmp_path / "shots" / "selftest")
        finally:
            shutdown_kernels(base, token)
    text = "\n".join(problems)

    def on(cell, *words):
        return any(p.startswith(f"cell {cell}:") and all(w in p for w in words)
                   for p in problems)

    assert on(0, "raw MyST role", "{eq}"), text
    assert on(0, "rubric", "Unknown Directive"), text
    assert on(0, "KaTeX"), text
    assert any(p.startswith("request outside 127.0.0.1: http://example.invalid")
               for p in problems), text
    assert on(1, "self-fig", "does not resolve"), text
    assert any("'elsewhere' of another page" in n for n in notes), notes
    assert on(3, "animation 0 shows no picture"), text
    assert on(4, "explorer", "did not change"), text
    assert on(7, "error output ValueError: selftest"), text
    assert on(8, "not executed"), text
    for sound in (2, 5, 6):
        assert not any(p.startswith(f"cell {sound}:") for p in problems), text
