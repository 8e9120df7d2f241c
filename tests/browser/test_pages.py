"""Every page of the built book in headless Chromium: no external request, no console or
page error, no failed local request, all math typeset without error, every widget rendered,
every animation plays. A screenshot of each page goes to _build/screenshots/.

The book must be built first (`make test` and `make browser-test` do it). Environment:
BOOK_HTML (default _build/html) and BOOK_SCREENSHOTS (default _build/screenshots).
"""

import os
from pathlib import Path

import pytest
import yaml
from pagecheck import check_page, list_pages, serve

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
SHOTS = Path(os.environ.get("BOOK_SCREENSHOTS", HTML.parent / "screenshots")).resolve()
PAGES = list_pages(HTML) if HTML.is_dir() else []


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def test_book_is_built():
    if not (HTML / "index.html").exists():
        pytest.fail(
            f"{HTML} has no built book: run `make book` first "
            "(`make test` and `make browser-test` build it before this test)."
        )
    missing = [f for f in toc_files() if not (HTML / f"{f}.html").exists()]
    assert not missing, f"pages of _toc.yml missing from {HTML}: {missing}"
    assert PAGES, f"no page found under {HTML}"


@pytest.fixture(scope="module")
def site():
    if not HTML.is_dir():
        pytest.fail(f"{HTML} missing: run `make book` first")
    with serve(HTML) as base:
        yield base


@pytest.mark.parametrize("page", PAGES or ["<book not built>"])
def test_page(page, site, chromium):
    if page == "<book not built>":
        pytest.fail(f"{HTML} missing: run `make book` first")
    shot = SHOTS / (page[: -len(".html")].replace("/", "__") + ".png")
    problems = check_page(chromium, site, page, shot)
    assert not problems, f"{page} (screenshot {shot}):\n  " + "\n  ".join(problems)
