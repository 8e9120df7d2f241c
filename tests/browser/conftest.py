import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pagecheck import browser_context  # noqa: E402


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One headless Chromium (Debian's) with a fresh profile per test module.

    Not per session: a sync Playwright left running would make every later
    ``sync_playwright()`` of the same pytest run (the JupyterLab tests in tests/lab) fail with
    "using Playwright Sync API inside the asyncio loop"."""
    with browser_context(tmp_path_factory.mktemp("chromium") / "profile") as context:
        yield context


def pytest_terminal_summary(terminalreporter):
    from test_pages import SHOTS

    ran = [
        r
        for reports in terminalreporter.stats.values()
        for r in reports
        if "test_pages.py::test_page[" in getattr(r, "nodeid", "")
    ]
    if ran and SHOTS.is_dir():
        terminalreporter.write_line(f"browser test: a screenshot of every page in {SHOTS}")
    from test_a11y import pytest_terminal_summary_weights

    weights = pytest_terminal_summary_weights()
    if weights:
        terminalreporter.write_line("page weights and load times (served from 127.0.0.1):")
        for line in weights:
            terminalreporter.write_line(line)
    from pagecheck import LAYOUT_NOTES

    if ran and LAYOUT_NOTES:
        terminalreporter.write_line("browser test, layout notes (not failures):")
        for note in dict.fromkeys(LAYOUT_NOTES):
            terminalreporter.write_line(f"  {note}")
