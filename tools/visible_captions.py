"""Make figure captions visible, and figure references resolvable, in JupyterLab too.

The book's numbered figures are code cells whose caption and name live in the cell's
metadata (myst-nb: ``{"mystnb": {"figure": {"caption": ..., "name": ...}}}``). JupyterLab
never shows cell metadata, and jupyterlab-myst only knows labels defined in markdown, so
there the caption is invisible and a ``{numref}`` to the figure shows as a bare label with a
warning sign (jupyterlab-myst issue #176).

This tool puts, right after each such code cell, a markdown cell that holds the same caption
as a MyST figure with the same label::

    :::{figure}
    :label: fwd-graph

    Computational graph of ...
    :::

tagged ``remove-cell`` and marked ``"visible_caption": true`` in its metadata.

- In JupyterLab (jupyterlab-myst) it renders under the figure as "Figure N: caption", and
  ``{numref}``/``{ref}`` to the name resolve to it.
- In the book (Jupyter Book 1) the cell is removed before parsing, so the figure keeps its
  number and caption from the metadata, as before, and the label is defined once.

The metadata stays the one source of the caption: after editing a caption, run the tool
again (it rewrites the caption cells it made, adds missing ones, drops orphans) or check with
``--check`` (exit status 1 if a notebook is not up to date). Notebooks are read and written
with nbformat in the repository's format (indent 1, sorted keys, final newline); nothing
else in them changes.

Usage::

    python tools/visible_captions.py chapters/01_forward.ipynb [more.ipynb ...]
    python tools/visible_captions.py --check chapters/*.ipynb
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

MARK = "visible_caption"
TAG = "remove-cell"


def figure_of(cell) -> dict | None:
    """The myst-nb figure options of a code cell (caption, name), or None."""
    if cell.get("cell_type") != "code":
        return None
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
    if not isinstance(figure, dict) or not (figure.get("caption") or figure.get("name")):
        return None
    return figure


def caption_source(figure: dict) -> str:
    """The MyST figure that repeats ``figure``'s caption under its label."""
    caption = str(figure.get("caption") or "").strip()
    runs = [len(m) for m in re.findall(r":{3,}", caption)]
    fence = ":" * max([3, *(n + 1 for n in runs)])
    lines = [f"{fence}{{figure}}"]
    if figure.get("name"):
        lines.append(f":label: {figure['name']}")
    if caption:
        lines += ["", caption]
    lines.append(fence)
    return "\n".join(lines)


def caption_cell(figure: dict, figure_cell_id: str | None, k: int):
    cell = nbformat.v4.new_markdown_cell(caption_source(figure))
    cell.metadata = {"tags": [TAG], MARK: True}
    base = figure_cell_id or f"cell-{k}"
    cell.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"{base}-caption")[:64]
    return cell


def is_caption_cell(cell) -> bool:
    return cell.get("cell_type") == "markdown" and bool(cell.get("metadata", {}).get(MARK))


def with_visible_captions(nb):
    """A copy of the notebook's cell list with one caption cell after each figure cell."""
    cells = []
    old = list(nb.cells)
    k = 0
    while k < len(old):
        cell = old[k]
        k += 1
        if is_caption_cell(cell):
            continue  # an orphan (its figure is gone or moved): dropped
        cells.append(cell)
        figure = figure_of(cell)
        if figure is None:
            continue
        new = caption_cell(figure, cell.get("id"), len(cells) - 1)
        if k < len(old) and is_caption_cell(old[k]):
            new.id = old[k].get("id", new.id)  # keep the id of the cell it replaces
            k += 1
        cells.append(new)
    return cells


def process(path: Path, check: bool = False) -> bool:
    """Add or refresh the caption cells of one notebook; True if it changed (or would)."""
    text = path.read_text(encoding="utf8")
    nb = nbformat.reads(text, as_version=4)
    nb.cells = with_visible_captions(nb)
    out = nbformat.writes(nb) + "\n"
    if out == text:
        return False
    if not check:
        nbformat.validate(nb)
        path.write_text(out, encoding="utf8")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook is not up to date")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        changed = process(path, check=args.check)
        if changed:
            stale.append(path)
            print(f"{path}: {'captions not up to date' if args.check else 'captions written'}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
