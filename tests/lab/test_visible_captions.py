"""tools/visible_captions.py, on copies of the chapters (the committed notebooks are never
touched) and on small notebooks; the JupyterLab test shows the captions and the resolved
references where students see them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import visible_captions as vc  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def figures(nb):
    return [(k, c) for k, c in enumerate(nb["cells"]) if vc.figure_of(c)]


def strip(nb):
    """The notebook without the tool's caption cells."""
    return [c for c in nb["cells"] if not vc.is_caption_cell(c)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_gets_its_caption_cell_and_nothing_else_changes(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy2(path, copy)
    before = json.loads(copy.read_text(encoding="utf8"))
    changed = vc.process(copy)
    after = json.loads(copy.read_text(encoding="utf8"))
    assert strip(after) == strip(before)  # every other cell as it was, in order
    assert {k: v for k, v in after.items() if k != "cells"} == \
           {k: v for k, v in before.items() if k != "cells"}
    figs = figures(after)
    if not figs:
        assert not changed, "a notebook without figures was changed"
    for k, cell in figs:
        figure = cell["metadata"]["mystnb"]["figure"]
        nxt = after["cells"][k + 1]
        assert vc.is_caption_cell(nxt), f"cell {k + 1} should be the caption of cell {k}"
        assert nxt["metadata"]["tags"] == ["remove-cell"]
        src = "".join(nxt["source"])
        assert src.startswith(":::{figure}\n") and src.endswith("\n:::")
        if figure.get("name"):
            assert f"\n:label: {figure['name']}\n" in src
        assert figure.get("caption", "").strip() in src
    assert sum(vc.is_caption_cell(c) for c in after["cells"]) == len(figs)
    text = copy.read_text(encoding="utf8")
    assert not vc.process(copy)  # idempotent: a second run changes nothing
    assert copy.read_text(encoding="utf8") == text
    nbformat.validate(nbformat.reads(text, as_version=4))


def small_notebook(caption="A line.", name="fig-a"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"See {{numref}}`{name}`."),
        nbformat.v4.new_code_cell("plot()", metadata={
            "mystnb": {"figure": {"caption": caption, "name": name}}}),
        nbformat.v4.new_markdown_cell("After the figure."),
    ]
    for k, c in enumerate(nb.cells):
        c.id = f"c{k}"
    return nb


def write(nb, path):
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf8")


@pytest.mark.slow  # over 2 s on 2 cores: out of `make check`
def test_check_mode_updates_orphans_and_fences(tmp_path):
    path = tmp_path / "nb.ipynb"
    write(small_notebook(), path)
    original = path.read_text(encoding="utf8")
    tool = [sys.executable, str(ROOT / "tools" / "visible_captions.py")]
    assert subprocess.run([*tool, "--check", str(path)], capture_output=True).returncode == 1
    assert path.read_text(encoding="utf8") == original  # --check writes nothing
    assert subprocess.run([*tool, str(path)], capture_output=True).returncode == 0
    assert subprocess.run([*tool, "--check", str(path)], capture_output=True).returncode == 0
    nb = json.loads(path.read_text(encoding="utf8"))
    assert [c["id"] for c in nb["cells"]] == ["c0", "c1", "c1-caption", "c2"]
    assert "".join(nb["cells"][2]["source"]) == ":::{figure}\n:label: fig-a\n\nA line.\n:::"

    # the caption edited in the metadata: the caption cell follows, keeping its id
    nb["cells"][1]["metadata"]["mystnb"]["figure"]["caption"] = "A rising line."
    path.write_text(json.dumps(nb, indent=1), encoding="utf8")
    assert vc.process(path)
    nb = json.loads(path.read_text(encoding="utf8"))
    assert "A rising line." in "".join(nb["cells"][2]["source"])
    assert nb["cells"][2]["id"] == "c1-caption"

    # the figure gone: its caption cell goes too
    del nb["cells"][1]["metadata"]["mystnb"]
    path.write_text(json.dumps(nb, indent=1), encoding="utf8")
    assert vc.process(path)
    nb = json.loads(path.read_text(encoding="utf8"))
    assert [c["id"] for c in nb["cells"]] == ["c0", "c1", "c2"]

    # a caption holding a colon fence gets a longer fence
    src = vc.caption_source({"caption": "a ::: b", "name": "x"})
    assert src.startswith("::::{figure}\n") and src.endswith("\n::::")


def test_a_notebook_without_figures_is_left_byte_for_byte(tmp_path):
    nb = small_notebook()
    del nb.cells[1].metadata["mystnb"]
    path = tmp_path / "plain.ipynb"
    write(nb, path)
    before = path.read_bytes()
    assert not vc.process(path)
    assert path.read_bytes() == before


@pytest.mark.slow
def test_captions_show_and_references_resolve_in_jupyterlab(tmp_path, tmp_path_factory):
    from labcheck import browser_context, run_notebook, serve_lab, shutdown_kernels

    root = tmp_path / "root"
    root.mkdir()
    nb = small_notebook(caption="A line rising from 1 to 3.", name="fig-rise")
    nb.cells[1].source = "import matplotlib.pyplot as plt\n\nplt.plot([1, 2, 3])\nplt.show()"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    results = {}
    for label, processed in (("before", False), ("after", True)):
        path = root / f"{label}.ipynb"
        write(nb, path)
        if processed:
            vc.process(path)
        results[label] = json.loads(path.read_text(encoding="utf8"))
    with serve_lab(root, tmp_path / "home") as (base, token), \
            browser_context(tmp_path_factory.mktemp("chromium") / "profile") as context:
        try:
            out = {label: run_notebook(context, base, token, f"{label}.ipynb", results[label],
                                       tmp_path / "shots" / label)
                   for label in results}
            page = context.new_page()
            page.goto(f"{base}lab/workspaces/x/tree/after.ipynb?token={token}&reset")
            page.wait_for_selector(".jp-MarkdownCell .myst figure", timeout=120_000)
            figure_text = page.locator(".jp-MarkdownCell .myst figure").first.inner_text()
            ref_text = page.locator(".jp-MarkdownCell .myst").first.inner_text()
            page.close()
        finally:
            shutdown_kernels(base, token)
    before, _ = out["before"]
    assert any("'fig-rise'" in p and "does not resolve" in p for p in before), before
    after, _ = out["after"]
    assert not after, after
    assert "Figure" in figure_text and "A line rising from 1 to 3." in figure_text
    assert "Figure" in ref_text and "1" in ref_text and "fig-rise" not in ref_text
