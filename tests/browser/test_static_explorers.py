"""The four explorers (padding, windows, dilation, input gradient) with their parameters in
the HTML book, kernel-free:

- their script and data load only when the reader opens one (not with the page), from the
  book itself, and weigh under 3 MB;
- every parameter the reader can choose (h_in, f, s, h_out; i and j: an output pixel, an
  entry of dW, an input pixel) changes the picture, from the keyboard alone (focus, arrow key);
- the picture draws figdata's numbers (the sentence under the controls states the padding
  eq. 7 gives, and the output size, as convlib computes them);
- the page with the explorers open has no axe violation.
"""

from __future__ import annotations

import pytest
from pagecheck import is_local
from test_a11y import JS_AXE, TAGS, axe_source
from test_pages import HTML

from convlib import padding

PAGES = {"chapters/01_forward.html": ["padding", "windows"],
         "chapters/03_filter_gradients.html": ["dilation"],
         "chapters/04_input_gradient_stride1.html": ["gradient"],
         "chapters/05_input_gradient_strided.html": ["gradient"]}
PARAMS = {"padding": ["h_in", "f", "s", "h_out"], "windows": ["h_in", "f", "s", "h_out", "i", "j"],
          "dilation": ["h_in", "f", "s", "h_out", "i", "j"],
          "gradient": ["h_in", "f", "s", "h_out", "i", "j"]}
LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def site():
    from pagecheck import serve

    if not all((HTML / page).exists() for page in PAGES):
        pytest.fail(f"{HTML} has no built book: run `make book` first")
    with serve(HTML) as base:
        yield base


def picture(det):
    return det.locator(".static-explorer-picture").inner_html()


@pytest.mark.parametrize("rel", PAGES)
def test_static_explorers_follow_every_parameter(rel, site, chromium):
    page = chromium.new_page()
    loaded = []
    outside = []

    def route(r):
        if is_local(r.request.url):
            loaded.append(r.request.url)
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(site + rel, wait_until="load")
        assert not [u for u in loaded if u.endswith("layers.js")], "data loaded before opening"
        for kind in PAGES[rel]:
            names = PARAMS[kind]
            det = page.locator(f'details.static-explorer[data-explorer="{kind}"]')
            assert det.count() == 1, f"no static {kind} explorer on {rel}"
            det.locator("summary").focus()
            page.keyboard.press("Enter")  # open it from the keyboard
            det.locator(".static-explorer-picture svg").wait_for(timeout=15_000)
            for name in names:
                sel = det.locator(f"select[name={name}]")
                if name in ("i", "j"):  # a layer with several outputs (and f > 1) first
                    det.locator("select[name=f]").select_option("3")
                    det.locator("select[name=h_out]").select_option("same")
                before = picture(det)
                options = sel.locator("option").all_text_contents()
                assert len(options) > 1, (kind, name, options)
                sel.focus()
                page.keyboard.press("ArrowDown" if sel.input_value() != sel.locator(
                    "option").last.get_attribute("value") else "ArrowUp")
                assert picture(det) != before, f"{kind}: changing {name} kept the picture"
            # the numbers drawn are convlib's: eq. 7 for the layer now chosen
            h_in, f, s = (int(det.locator(f"select[name={n}]").input_value())
                          for n in ("h_in", "f", "s"))
            det.locator("select[name=h_out]").select_option("full")
            text = det.locator(".static-explorer-text").text_content()
            ho = padding.output_size(h_in, f, s, "full")
            p = padding.padding_amount(h_in, f, s, ho)
            assert f"gives p = {p} " in text and f"output is {ho} by {ho}" in text, text
        data = [u for u in loaded if u.endswith("layers.js")]
        assert len(data) == 1, data  # loaded once, for every explorer of the page
        size = (HTML / "_static/offline/explorers/layers.js").stat().st_size
        size += (HTML / "_static/offline/explorers/static_explorer.js").stat().st_size
        assert size < LIMIT, f"the static explorers weigh {size} bytes"
        page.add_script_tag(content=axe_source())
        violations = page.evaluate(JS_AXE, TAGS)
        assert not violations, violations
        assert not outside, outside
    finally:
        page.close()
