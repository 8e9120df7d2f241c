"""Proves the browser checks work: builds a tiny throwaway book with the book's own
_config.yml (same offline assets) and checks that

- a clean page with math, an executed ipywidgets slider (LaTeX label) and a to_jshtml
  animation passes, with the widget rendered and the animation advancing;
- broken pages fail for the right reason: a TeX error (merror), an external image, a
  script error, a missing local file, widget views without state, and a one-frame
  animation that cannot advance.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from pagecheck import check_page, serve

ROOT = Path(__file__).resolve().parents[2]

GOOD_MD = r"""# Good page

Inline math $\partial L / \partial W_{\mu\nu}$ and display math

$$
\frac{\partial L}{\partial b_\nu} = \sum_{i,j} \delta z_{\nu,i,j}
$$ (selftest-eq)

Equation {eq}`selftest-eq`; a link (not a request) to [a site](https://example.org/).
"""

WIDGET_CODE = """import ipywidgets as widgets
slider = widgets.IntSlider(value=3, min=0, max=9, description=r"stride $s$")
widgets.VBox([slider, widgets.HTML("<b>static</b> view")])"""


def anim_code(frames):
    return f"""import matplotlib
import matplotlib.pyplot as plt
from matplotlib import animation
from IPython.display import HTML
fig, ax = plt.subplots(figsize=(2, 1.5), dpi=60)
ax.set_xlim(0, 4)
ax.set_ylim(0, 4)
(line,) = ax.plot([0, 1], [0, 0])
def update(i):
    line.set_data([0, 4], [0, i])
    return (line,)
anim = animation.FuncAnimation(fig, update, frames={frames}, interval=100)
plt.close(fig)
HTML(anim.to_jshtml())"""


def notebook(cells, strip_widget_state=False, tags=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source))
        if kind == "code" and tags:
            nb.cells[-1].metadata["tags"] = list(tags)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    if strip_widget_state:
        nb.metadata.pop("widgets", None)
    return nb


BROKEN_MATH = r"""# Broken math

A TeX error: $\frac{$ and an undefined command $\notacommand x$.
"""

BROKEN_PAGE = """# Broken page

<img src="https://example.com/outside.png" alt="outside">

<img src="does-not-exist.png" alt="missing">

<script>throw new Error("selftest-boom");</script>
"""


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    book = tmp_path_factory.mktemp("tinybook")
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    for name in ("offline", "node_modules"):
        (book / name).symlink_to(ROOT / name, target_is_directory=True)
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: good\nchapters:\n"
        "  - file: broken_math\n  - file: broken_page\n  - file: broken_widgets\n"
        "  - file: removed_widgets\n"
    )
    nbformat.write(
        notebook([("md", GOOD_MD), ("code", WIDGET_CODE), ("code", anim_code(4))]),
        book / "good.ipynb",
    )
    nbformat.write(
        notebook(
            [("md", "# Broken widgets"), ("code", WIDGET_CODE), ("code", anim_code(1))],
            strip_widget_state=True,
        ),
        book / "broken_widgets.ipynb",
    )
    nbformat.write(
        notebook([("md", "# Removed widgets"), ("code", WIDGET_CODE)], tags=["remove-output"]),
        book / "removed_widgets.ipynb",
    )
    (book / "broken_math.md").write_text(BROKEN_MATH)
    (book / "broken_page.md").write_text(BROKEN_PAGE)
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", "--keep-going", "."],
        cwd=book,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The build itself warns about the external image (an error under -W in the real book).
    assert "broken_page.html loads from outside the book" in result.stderr + result.stdout
    html = book / "_build" / "html"
    with serve(html) as base:
        yield base, html


def test_clean_page_passes(tiny_book, chromium, tmp_path):
    base, html = tiny_book
    page_html = (html / "good.html").read_text(encoding="utf8")
    assert "application/vnd.jupyter.widget-state+json" in page_html
    assert "_static/offline/font-awesome/css/font-awesome.min.css" in page_html
    assert "bootstrapcdn" not in page_html
    assert page_html.count("const THEBE_JS_URL") == 1  # Sphinx 7.4 emitted it twice
    assert "_static/offline/mathjax/tex-mml-chtml.js" in page_html
    problems = check_page(chromium, base, "good.html", tmp_path / "good.png")
    assert problems == []
    # the widget's label "stride $s$" is typeset by MathJax 3 (through the Hub shim)
    page = chromium.new_page()
    try:
        page.goto(base + "good.html", wait_until="load")
        label = page.locator(".widget-label mjx-container")
        label.first.wait_for(timeout=20_000)
        assert page.locator(".widget-slider").count() == 1
    finally:
        page.close()
    assert (tmp_path / "good.png").stat().st_size > 10_000


def test_widget_state_without_views_is_not_shipped(tiny_book, chromium):
    """Widget outputs removed (remove-output): no state and no widget manager on the page."""
    base, html = tiny_book
    page_html = (html / "removed_widgets.html").read_text(encoding="utf8")
    assert "application/vnd.jupyter.widget-state+json" not in page_html
    assert "embed-amd.js" not in page_html
    assert check_page(chromium, base, "removed_widgets.html", None) == []


def test_search_page_passes(tiny_book, chromium):
    base, _html = tiny_book
    assert check_page(chromium, base, "search.html", None) == []


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("broken_math.html", ["math typeset as an error (merror)"]),
        (
            "broken_page.html",
            [
                "external request (aborted): https://example.com/outside.png",
                "HTTP 404",
                "selftest-boom",
            ],
        ),
        (
            "broken_widgets.html",
            ["widget views not rendered", "animation 0: frame did not advance"],
        ),
    ],
)
def test_broken_page_fails(tiny_book, chromium, page, expected):
    base, _html = tiny_book
    problems = check_page(chromium, base, page, None)
    report = "\n".join(problems)
    for message in expected:
        assert message in report, f"{page}: expected {message!r} among:\n{report}"
