"""Checks one page of the built book in headless Chromium (Playwright, sync API).

Used by test_pages.py (every page of the book) and test_selftest.py (a tiny throwaway book
that proves the checks catch what they should). ``check_page`` returns a list of problems;
an empty list means the page is clean.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium quiet on a closed network (no update, sync, QUIC probes, ...).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--font-render-hinting=none",
]
VIEWPORT_WIDTH = 1280
SCREENSHOT_MAX_HEIGHT = 12000  # a tall viewport, not full_page (sticky header, TOOLCHAIN.md)
LOCAL_HOSTS = {"127.0.0.1"}
SKIP_PARTS = {"_static", "_sources", "_images", "reports", "_downloads"}
SKIP_PAGES = {"genindex.html"}


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} not found. The browser test needs Debian's Chromium: "
            "`sudo apt-get update && sudo apt-get install -y chromium` "
            "(`make test` installs it when run as root). It never downloads a browser."
        )


def list_pages(html_dir: Path) -> list[str]:
    """Every page of the built site, as paths relative to html_dir (posix)."""
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir)
        if SKIP_PARTS & set(rel.parts[:-1]) or rel.name in SKIP_PAGES:
            continue
        text = path.read_text(encoding="utf8", errors="replace")[:2000]
        if rel.as_posix() == "index.html" and 'http-equiv="Refresh"' in text:
            continue  # the jupyter-book redirect to the root page
        pages.append(rel.as_posix())
    return pages


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(directory: Path):
    """``python -m http.server --bind 127.0.0.1 <free port>`` on directory; yields base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"http.server on {base} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def browser_context(profile_dir: Path):
    """Headless Debian Chromium with a fresh user-data-dir."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    if profile_dir.exists():
        shutil.rmtree(profile_dir)
    profile_dir.mkdir(parents=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": VIEWPORT_WIDTH, "height": 1600},
            service_workers="block",
        )
        try:
            yield context
        finally:
            context.close()


# --- in-page checks (JavaScript run by page.evaluate) -------------------------------------

JS_WAIT_MATHJAX = """
async () => {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) return mj ? "config-only" : "absent";
  // typesetPromise() calls (the widget labels) chain onto startup.promise in MathJax 3.2
  let p;
  do { p = mj.startup.promise; await p; } while (p !== mj.startup.promise);
  return "ready";
}
"""

# Text left in the page that should have been typeset: \\( \\[ $$ \\begin{ or $x$ in prose.
JS_MATH_PROBLEMS = r"""
() => {
  const problems = [];
  const tex = new Map();  // typeset root -> TeX source
  try {
    for (const item of window.MathJax.startup.document.math) {
      if (item.typesetRoot) tex.set(item.typesetRoot, item.math);
    }
  } catch (e) {}
  const texOf = (container) => (tex.get(container) || container.textContent || "").trim();
  const errorOf = (container) => {
    const err = container.querySelector("mjx-merror");
    return err ? (err.getAttribute("data-mjx-error") || err.textContent || "error") : null;
  };
  document.querySelectorAll("span.math, div.math").forEach((el) => {
    if (!el.querySelector("mjx-container")) {
      problems.push("math not typeset: " + el.textContent.trim().slice(0, 120));
    }
  });
  document.querySelectorAll("mjx-container").forEach((c) => {
    if (c.parentElement && c.parentElement.closest("mjx-assistive-mml")) return;
    const err = errorOf(c);
    if (err) {
      problems.push("math typeset as an error (merror): " + err.slice(0, 120) +
                    " in: " + texOf(c).slice(0, 160));
    }
  });
  // (the article itself is class tex2jax_ignore; Sphinx's math elements opt back in)
  const skip = "script, style, pre, code, textarea, mjx-container, .highlight, .cell_input";
  const raw = /(\$\$|\\\(|\\\[|\\begin\{|(^|[^\w$\\])\$[^\s$]([^$\n]{0,200}?[^\s\\])?\$(?![\w$]))/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.textContent.match(raw);
    if (m) {
      const text = node.textContent;
      problems.push("raw TeX left in the page: ..." +
                    text.slice(Math.max(0, m.index - 40), m.index + 80).trim() + "...");
    }
  }
  return problems;
}
"""

JS_WIDGET_STATUS = """
() => {
  const views = Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  const missing = [];
  views.forEach((v) => {
    let id = "?";
    try { id = JSON.parse(v.textContent).model_id; } catch (e) {}
    const sub = v.previousElementSibling;
    const ok = sub && sub.classList.contains("widget-subarea") &&
               sub.querySelector(".jupyter-widgets, .widget-slider, .widget-box, " +
                                 ".widget-output, .widget-inline-hbox");
    if (!ok) missing.push(id);
  });
  return {views: views.length, missing: missing,
          rendered: document.querySelectorAll(".widget-subarea .jupyter-widgets").length};
}
"""

JS_ANIMATIONS = """
() => Array.from(document.querySelectorAll("div.animation")).map((div, i) => {
  const img = div.querySelector("img");
  const slider = div.querySelector("input.anim-slider, input[type=range]");
  return {index: i, src: img ? img.getAttribute("src") : null,
          frame: slider ? slider.value : null, max: slider ? slider.max : null};
})
"""


JS_FONT_AWESOME = """
async () => {
  if (!document.querySelector("div.animation button i.fa")) return "unused";
  await document.fonts.ready;
  for (const face of document.fonts) {
    if (/fontawesome/i.test(face.family.replace(/[\\s'"-]/g, "")) && face.status === "loaded") {
      return "loaded";
    }
  }
  return "missing";
}
"""


# Display equations wider than the text column (not a failure; listed after the run).
JS_WIDE_MATH = """
() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .filter((c) => c.scrollWidth > c.clientWidth + 2)
  .map((c) => {
    const box = c.closest("div.math");
    const label = box ? (box.id || "").replace(/^equation-/, "") : "";
    return [c.scrollWidth, c.clientWidth, label];
  })
"""
LAYOUT_NOTES: list[str] = []


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


def check_page(context, base_url: str, rel: str, screenshot: Path | None) -> list[str]:
    """Open one page, run every check, save a screenshot; return the problems found."""
    problems: list[str] = []
    page = context.new_page()
    page.set_default_timeout(10_000)

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            problems.append(f"external request (aborted): {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}")
        if m.type in ("error", "assert")
        else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.on(
        "requestfailed",
        lambda r: problems.append(f"request failed: {r.url} ({r.failure})")
        if is_local(r.url)
        else None,
    )
    try:
        page.goto(base_url + rel, wait_until="load", timeout=60_000)
        html = page.content()

        # Math: wait for MathJax 3 to finish, then every source must be typeset.
        has_math = page.locator("span.math, div.math").count() > 0
        state = page.evaluate(JS_WAIT_MATHJAX)
        if has_math and state != "ready":
            problems.append(f"page has math but MathJax did not load (MathJax: {state})")

        # Widgets: every embedded widget view must be rendered by the widget manager.
        status = page.evaluate(JS_WIDGET_STATUS)
        has_state = "application/vnd.jupyter.widget-state+json" in html
        if status["views"]:
            deadline = time.monotonic() + (30 if has_state else 0)
            while status["missing"] and time.monotonic() < deadline:
                page.wait_for_timeout(250)
                status = page.evaluate(JS_WIDGET_STATUS)
            if status["missing"]:
                problems.append(
                    f"{len(status['missing'])} of {status['views']} widget views not rendered "
                    f"(model ids {', '.join(status['missing'][:5])})"
                )
            if state == "ready":
                page.evaluate(JS_WAIT_MATHJAX)  # widget labels are typeset after rendering
        elif has_state:
            problems.append("page embeds widget state but shows no widget view")

        problems.extend(page.evaluate(JS_MATH_PROBLEMS))
        for width, column, label in page.evaluate(JS_WIDE_MATH):
            LAYOUT_NOTES.append(
                f"{rel}: equation {label or '(unlabelled)'} is {width}px wide in a {column}px "
                "column at 1280px (the reader has to scroll it sideways)"
            )

        # Animations (matplotlib to_jshtml): playing must advance the frame.
        for anim in page.evaluate(JS_ANIMATIONS):
            i = anim["index"]
            div = page.locator("div.animation").nth(i)
            if anim["src"] is None or anim["frame"] is None:
                problems.append(f"animation {i}: no image or slider")
                continue
            try:
                problems.extend(play_animation(page, div, anim))
            except PlaywrightError as err:
                problems.append(f"animation {i}: could not be played: {err}".split("\n")[0])
        # Font Awesome icons of plain to_jshtml buttons need the (local) icon font.
        fa_state = page.evaluate(JS_FONT_AWESOME)
        if fa_state == "missing":
            problems.append("animation buttons use Font Awesome but its font did not load")

        if screenshot is not None:
            save_screenshots(page, screenshot)
        page.wait_for_timeout(200)  # late console errors
    finally:
        page.close()
    return problems


def play_animation(page, div, anim) -> list[str]:
    """Click Play (JS click: a folded animation must play too); the frame must advance."""
    i = anim["index"]
    div.locator("button[title='Play']").evaluate("b => b.click()")
    deadline = time.monotonic() + 5  # slow animations (long interval) included
    while True:
        page.wait_for_timeout(150)
        after = page.evaluate(JS_ANIMATIONS)[i]
        if after["frame"] != anim["frame"] or time.monotonic() > deadline:
            break
    div.locator("button[title='Pause']").evaluate("b => b.click()")
    if after["frame"] == anim["frame"] or after["src"] == anim["src"]:
        return [
            f"animation {i}: frame did not advance when played "
            f"(frame {anim['frame']} -> {after['frame']} of max {anim['max']})"
        ]
    div.locator("button[title='First frame']").evaluate("b => b.click()")
    return []


def save_screenshots(page, screenshot: Path) -> list[Path]:
    """A tall viewport (not full_page, which draws the sticky header mid-page). Pages taller
    than SCREENSHOT_MAX_HEIGHT continue in <name>-part2.png, <name>-part3.png, ..."""
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate("document.documentElement.scrollHeight")
    view = max(800, min(height, SCREENSHOT_MAX_HEIGHT))
    page.set_viewport_size({"width": VIEWPORT_WIDTH, "height": view})
    page.wait_for_timeout(300)
    height = page.evaluate("document.documentElement.scrollHeight")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    for old in screenshot.parent.glob(f"{screenshot.stem}-part*.png"):
        old.unlink()
    saved, top, part = [], 0, 1
    while True:
        path = screenshot if part == 1 else screenshot.with_name(
            f"{screenshot.stem}-part{part}.png"
        )
        page.evaluate(f"window.scrollTo(0, {top})")
        page.wait_for_timeout(150)
        page.screenshot(path=str(path), full_page=False)
        saved.append(path)
        if top + view >= height:
            return saved
        top += view - 200  # overlap: the sticky header covers the top of the next part
        part += 1
