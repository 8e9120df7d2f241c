"""WCAG 2.1 A/AA on every page of the built book (and of the student edition when it is
built): axe-core, installed by ``npm ci`` from package-lock.json (never fetched), injected
into each page from ``node_modules/``; any violation of the wcag2a, wcag2aa, wcag21a and
wcag21aa rules fails, the theme's own controls included (no rule is excluded). Beyond axe,
on the same page load: every typeset formula carries MathJax's assistive MathML (what screen
readers read), and no picture's text alternative is a file name.

Each page's weight (bytes the browser fetched to load it) and load time go to the terminal
summary (and to ``_build/page_weights.json``).

The student edition is checked when ``_build/student/html`` exists (``make classroom`` or
``python tools/student_edition.py _build/student`` builds it); BOOK_STUDENT_HTML overrides
the folder, and BOOK_STUDENT_REQUIRED=1 makes its absence a failure.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from pagecheck import is_local, list_pages, serve
from test_pages import HTML, ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STUDENT = Path(os.environ.get("BOOK_STUDENT_HTML", ROOT / "_build" / "student" / "html"))
BOOK_PAGES = list_pages(HTML) if HTML.is_dir() else []
STUDENT_PAGES = list_pages(STUDENT) if STUDENT.is_dir() else []
WEIGHTS: dict[str, dict] = {}

JS_AXE = """
async (tags) => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    let p;
    do { p = mj.startup.promise; await p; } while (p !== mj.startup.promise);
  }
  const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                     resultTypes: ["violations"]});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.html.slice(0, 160))}));
}
"""

# What axe does not check: math exposed to assistive technology (MathJax's assistive MathML
# beside every typeset formula) and pictures whose text alternative is a file name.
JS_BEYOND_AXE = r"""
() => {
  const problems = [];
  const top = Array.from(document.querySelectorAll("mjx-container"))
    .filter((c) => !(c.parentElement && c.parentElement.closest("mjx-assistive-mml")));
  const bare = top.filter((c) => !c.querySelector("mjx-assistive-mml > math"));
  if (bare.length) {
    problems.push(`${bare.length} of ${top.length} formulas without assistive MathML, e.g. ` +
                  (bare[0].textContent || "").slice(0, 60));
  }
  document.querySelectorAll("img").forEach((img) => {
    const alt = (img.getAttribute("alt") || "").trim();
    if (img.getAttribute("role") === "presentation" || img.closest("[aria-hidden=true]")) return;
    if (!alt || /\.(png|jpe?g|svg|gif)$/i.test(alt) || /^_?images?\//.test(alt) ||
        /^[0-9a-f]{16,}/.test(alt) || alt.includes("../")) {
      problems.push(`picture without a text alternative that says what it shows: alt="${alt}"` +
                    ` (${(img.getAttribute("src") || "").slice(0, 60)})`);
    }
  });
  return {problems: problems, formulas: top.length};
}
"""

JS_WEIGHT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const size = (e) => e.transferSize || e.encodedBodySize || 0;
  return {bytes: size(nav) + res.reduce((a, e) => a + size(e), 0),
          requests: 1 + res.length,
          load_ms: Math.round(nav.loadEventEnd - nav.startTime)};
}
"""


def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` (make setup does it; axe-core is pinned "
                    "in package-lock.json)")
    return AXE.read_text(encoding="utf8")


def audit(context, base: str, rel: str) -> tuple[list[str], dict]:
    page = context.new_page()
    outside: list[str] = []

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        start = time.monotonic()
        page.goto(base + rel, wait_until="load", timeout=60_000)
        weight = page.evaluate(JS_WEIGHT)
        weight["wall_ms"] = round(1000 * (time.monotonic() - start))
        page.add_script_tag(content=axe_source())
        violations = page.evaluate(JS_AXE, TAGS)
        beyond = page.evaluate(JS_BEYOND_AXE)
    finally:
        page.close()
    problems = [f"external request (aborted): {u}" for u in outside] + beyond["problems"]
    weight["formulas"] = beyond["formulas"]
    for v in violations:
        problems.append(f"axe {v['id']} ({v['impact']}): {v['help']}, {len(v['nodes'])} nodes")
        problems += [f"    {n}" for n in v["nodes"][:6]]
    return problems, weight


@pytest.fixture(scope="module")
def book_site():
    if not HTML.is_dir():
        pytest.fail(f"{HTML} missing: run `make book` first")
    with serve(HTML) as base:
        yield base


@pytest.fixture(scope="module")
def student_site():
    if not STUDENT.is_dir():
        if os.environ.get("BOOK_STUDENT_REQUIRED") == "1":
            pytest.fail(f"{STUDENT} missing: run `python tools/student_edition.py "
                        "_build/student` first")
        pytest.skip(f"{STUDENT} not built (python tools/student_edition.py _build/student)")
    with serve(STUDENT) as base:
        yield base


@pytest.mark.parametrize("page", BOOK_PAGES or ["<book not built>"])
def test_axe_book(page, book_site, chromium):
    if page == "<book not built>":
        pytest.fail(f"{HTML} missing: run `make book` first")
    problems, weight = audit(chromium, book_site, page)
    WEIGHTS[page] = weight
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", STUDENT_PAGES or ["<student edition not built>"])
def test_axe_student_edition(page, student_site, chromium):
    problems, _weight = audit(chromium, student_site, page)
    assert not problems, f"student edition {page}:\n  " + "\n  ".join(problems)


def test_axe_catches_a_violation(book_site, chromium, tmp_path):
    """The audit can fail: an unlabeled range input and low-contrast text are reported."""
    bad = HTML / "_a11y_selftest.html"
    bad.write_text(
        "<!doctype html><html lang='en'><head><title>t</title></head><body><main>"
        "<input type='range' min='0' max='3'>"
        "<p style='color:#bbb;background:#fff'>faint text</p>"
        "<img src='_images/x.png' alt='_images/x.png'></main></body></html>",
        encoding="utf8",
    )
    try:
        problems, _ = audit(chromium, book_site, bad.name)
    finally:
        bad.unlink()
    text = "\n".join(problems)
    assert "axe label " in text and "axe color-contrast " in text, text
    assert 'picture without a text alternative that says what it shows: alt="_images' in text


def pytest_terminal_summary_weights() -> list[str]:
    lines = []
    for page, w in sorted(WEIGHTS.items()):
        lines.append(f"  {page}: {w['bytes'] / 1024:.0f} KiB in {w['requests']} requests, "
                     f"load {w['load_ms']} ms")
    if WEIGHTS:
        out = HTML.parent / "page_weights.json"
        out.write_text(json.dumps(WEIGHTS, indent=1, sort_keys=True), encoding="utf8")
    return lines
