import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pagecheck import browser_context  # noqa: E402


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium (Debian's) with a fresh profile for the whole session."""
    with browser_context(tmp_path_factory.mktemp("chromium") / "profile") as context:
        yield context


def pytest_terminal_summary(terminalreporter):
    from test_pages import SHOTS

    if SHOTS.is_dir() and any(SHOTS.glob("*.png")):
        terminalreporter.write_line(f"browser test: a screenshot of every page in {SHOTS}")
