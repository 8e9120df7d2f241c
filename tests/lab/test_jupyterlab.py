"""The student test: every chapter in a real JupyterLab, as a student opens it.

JupyterLab 4 (with jupyterlab-myst, from the course's own environment: the Python running
this test) serves copies of the chapters from a temporary directory on 127.0.0.1 (a free
port, a token, throwaway Jupyter directories); headless Debian Chromium opens each chapter,
runs all cells and checks every cell (see labcheck.py for the list of failures). Screenshots
of each chapter (top, end, every animation and explorer) go to _build/lab-screenshots/.

The committed notebooks are never modified: JupyterLab serves copies, with autosave off,
and the test checks that even the copies are left as they were.
Environment: LAB_SCREENSHOTS (default _build/lab-screenshots), LAB_RUN_TIMEOUT (seconds per
chapter, default 900).
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from labcheck import browser_context, run_notebook, serve_lab, shutdown_kernels

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SHOTS = Path(os.environ.get("LAB_SCREENSHOTS", ROOT / "_build" / "lab-screenshots")).resolve()
NOTES = []

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of chapters/ (and the stored benchmark results chapter 6
    reads from ../benchmarks/results)."""
    work = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(ROOT / "chapters", work / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    results = ROOT / "benchmarks" / "results"
    if results.is_dir():
        shutil.copytree(results, work / "benchmarks" / "results")
    with serve_lab(work, tmp_path_factory.mktemp("lab-home")) as (base, token):
        yield base, token, work


@pytest.fixture(scope="module")
def lab_browser(tmp_path_factory):
    with browser_context(tmp_path_factory.mktemp("lab-chromium") / "profile") as context:
        yield context


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_and_renders_in_jupyterlab(path, lab, lab_browser):
    base, token, work = lab
    copy = work / "chapters" / path.name  # the served copy, taken when the server started
    before = copy.read_bytes()
    nb = json.loads(before)
    for old in SHOTS.glob(f"{path.stem}__*.png"):  # screenshots of an earlier run
        old.unlink()
    try:
        problems, notes = run_notebook(lab_browser, base, token, f"chapters/{path.name}", nb,
                                       SHOTS / path.stem)
    finally:
        shutdown_kernels(base, token)
    NOTES.extend(f"{path.name}: {n}" for n in dict.fromkeys(notes))
    assert copy.read_bytes() == before, f"JupyterLab saved {copy} (autosave should be off)"
    assert not problems, (f"{path.name} in JupyterLab (screenshots {SHOTS}/{path.stem}__*.png):"
                          "\n  " + "\n  ".join(dict.fromkeys(problems)))
