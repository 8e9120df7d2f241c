"""The animation players of the book, as a keyboard user and a reader who prefers reduced
motion meet them (WCAG 2.1.1 keyboard, 2.2.2 pause, stop, hide):

- with ``prefers-reduced-motion: reduce``, no animation starts on its own (frame and picture
  unchanged for several seconds after load);
- every player's controls are reached with Tab, and work from the keyboard: Enter on
  "Play" plays it, Space on "Pause" stops it, the arrow keys on the frame slider step it.
"""

from __future__ import annotations

import time

import pytest
from pagecheck import is_local
from test_pages import HTML

ANIMATION_PAGES = sorted(
    p.relative_to(HTML).as_posix()
    for p in HTML.glob("chapters/*.html")
    if 'class="animation"' in p.read_text(encoding="utf8", errors="replace")
) if HTML.is_dir() else []

JS_STATE = """
(i) => {
  const div = document.querySelectorAll("div.animation")[i];
  const img = div.querySelector("img"), slider = div.querySelector("input[type=range]");
  return {frame: slider.value, src: img.src.length + ":" + img.src.slice(-40)};
}
"""
JS_FOCUSED = """
() => { const a = document.activeElement;
        return a ? (a.getAttribute("aria-label") || a.title || a.type || a.tagName) : null; }
"""


@pytest.fixture(scope="module")
def site():
    from pagecheck import serve

    with serve(HTML) as base:
        yield base


def open_page(chromium, base, rel):
    page = chromium.new_page()
    page.route("**/*", lambda r: r.continue_() if is_local(r.request.url) else r.abort())
    page.emulate_media(reduced_motion="reduce")
    page.goto(base + rel, wait_until="load", timeout=60_000)
    return page


def wait_change(page, i, before, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page.wait_for_timeout(150)
        now = page.evaluate(JS_STATE, i)
        if now != before:
            return now
    return page.evaluate(JS_STATE, i)


def tab_to(page, label, limit=40, back=False):
    """Press Tab (Shift+Tab) until the focused control is named ``label``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(JS_FOCUSED) == label:
            return True
    return False


@pytest.mark.parametrize("rel", ANIMATION_PAGES or ["<no animation page>"])
def test_players_do_not_move_on_their_own_and_work_from_the_keyboard(rel, site, chromium):
    if rel == "<no animation page>":
        pytest.fail(f"no page with an animation under {HTML}: build the book first")
    page = open_page(chromium, site, rel)
    try:
        count = page.locator("div.animation").count()
        assert count, rel
        assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
        start = [page.evaluate(JS_STATE, i) for i in range(count)]
        page.wait_for_timeout(3000)
        moved = [i for i in range(count) if page.evaluate(JS_STATE, i) != start[i]]
        assert not moved, f"{rel}: animations {moved} started on their own"

        for i in range(count):
            div = page.locator("div.animation").nth(i)
            slider = div.locator("input[type=range]")
            # reach the player from the element before it, by Tab only
            div.evaluate("d => { const s = document.createElement('span'); s.tabIndex = -1;"
                         " s.id = 'kbd-start'; d.before(s); s.focus(); }")
            assert tab_to(page, "Play"), f"{rel}: Play of animation {i} not reached by Tab"
            before = page.evaluate(JS_STATE, i)
            page.keyboard.press("Enter")
            after = wait_change(page, i, before, 5)
            assert after["frame"] != before["frame"], f"{rel}: Enter on Play did nothing ({i})"
            assert tab_to(page, "Pause", back=True), f"{rel}: Pause not reached ({i})"
            page.keyboard.press("Space")
            paused = page.evaluate(JS_STATE, i)
            page.wait_for_timeout(2500)  # the slowest player steps every 1.4 s
            assert page.evaluate(JS_STATE, i) == paused, f"{rel}: Space on Pause ({i})"
            # the frame slider (before the buttons): Shift+Tab to it, the arrow keys step it
            assert tab_to(page, slider.get_attribute("aria-label"), back=True), f"{rel}: slider"
            page.keyboard.press("Home")
            first = page.evaluate(JS_STATE, i)
            page.keyboard.press("ArrowRight")
            stepped = page.evaluate(JS_STATE, i)
            assert int(stepped["frame"]) == int(first["frame"]) + 1, (first, stepped)
            assert stepped["src"] != first["src"], f"{rel}: the arrow key did not redraw ({i})"
            page.evaluate("() => document.getElementById('kbd-start').remove()")
    finally:
        page.close()
