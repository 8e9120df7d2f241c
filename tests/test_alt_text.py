"""Every figure of the chapters has a text alternative that says what it shows
(tools/alt_text.py writes them into the cell metadata; the browser test checks that the
built pages carry them and that no picture's alternative is a file name)."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import alt_text  # noqa: E402


def test_every_figure_has_a_text_alternative():
    assert alt_text.missing() == []


def test_the_tool_is_applied_and_idempotent(tmp_path):
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    assert alt_text.apply(tmp_path) == [], "run `python tools/alt_text.py`"


def test_the_check_can_fail(tmp_path):
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nb = tmp_path / "chapters" / "02_output_error.ipynb"
    nb.write_text(nb.read_text("utf8").replace('"alt": "', '"alt": "x" , "old": "'), "utf8")
    assert len(alt_text.missing(tmp_path)) == 2
