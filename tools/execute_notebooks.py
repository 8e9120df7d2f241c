"""Execute chapter notebooks in place, the way the book and nbval expect them stored.

Usage: ``python tools/execute_notebooks.py chapters/01_forward.ipynb ...`` (``make execute``).

Widget state is not stored (and any old state is dropped): a saved widget in the static book
would show sliders that do nothing without a kernel; the book shows each explorer as a
kernel-free animation instead, and the live widget appears when the notebook runs in Jupyter.
"""

import sys
from pathlib import Path

import nbclient
import nbformat


def execute(path: Path, timeout: int = 300) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # no timestamps: a re-run that changes nothing changes no line
        cell.metadata.pop("execution", None)
    nbclient.execute(
        nb, cwd=str(path.parent), timeout=timeout, store_widget_state=False, record_timing=False
    )
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))
