"""Matplotlib's ``to_jshtml`` animation player, made fit for the book: reproducible ids, no
CDN, small frames, a sized picture and accessible controls.

``Animation.to_jshtml()`` writes a random uuid4 id, links Font Awesome from a CDN for its
buttons, embeds full-colour PNG frames, leaves the ``<img>`` without a size until its script
runs and its frame slider without a label. :func:`finish` fixes all of that on the HTML;
:func:`convlib.explorers.animation_html` makes the animation and calls it. Nothing here
imports matplotlib (Pillow re-encodes the frames).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re

__all__ = ["finish", "stable_html", "sized_player", "quantize", "label_controls"]

_BUTTONS = {
    "fa fa-minus": "&minus;",
    "fa fa-fast-backward": "|&#x25C0;&#xFE0E;&#x25C0;&#xFE0E;",
    "fa fa-step-backward": "|&#x25C0;&#xFE0E;",
    "fa fa-play fa-flip-horizontal": "&#x25C0;&#xFE0E;",
    "fa fa-pause": "&#x2759;&#x2759;",
    "fa fa-play": "&#x25B6;&#xFE0E;",
    "fa fa-step-forward": "&#x25B6;&#xFE0E;|",
    "fa fa-fast-forward": "&#x25B6;&#xFE0E;&#x25B6;&#xFE0E;|",
    "fa fa-plus": "+",
}


def stable_html(html: str, name: str) -> str:
    """Make ``to_jshtml`` output reproducible and self-contained.

    The random uuid4 id becomes ``name`` plus a digest of the frames (same frames, same
    id; two players on one page still differ); the Font Awesome stylesheet linked from a
    CDN is dropped and the icon buttons become plain characters.
    """
    uid = re.search(r'id="_anim_img([0-9a-f]{32})"', html).group(1)
    digest = hashlib.sha256(html.replace(uid, "").encode()).hexdigest()[:8]
    html = html.replace(uid, f"{re.sub(r'[^0-9a-zA-Z]', '', name)}{digest}")
    html = re.sub(r'<link rel="stylesheet"\s+href="[^"]*font-awesome[^"]*">\s*', "", html)
    for cls, text in _BUTTONS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{text}</span>')
    if "font-awesome" in html or "fa fa-" in html or "_anim_img" + uid in html:
        raise RuntimeError("matplotlib's to_jshtml template changed; update stable_html")
    return html


def quantize(html: str, colors: int = 96) -> str:
    """Re-encode every embedded PNG frame with a palette: about 3x smaller, same look."""
    from PIL import Image

    def small(match):
        data = base64.b64decode(re.sub(r"[^A-Za-z0-9+/=]", "", match.group(1)))
        img = Image.open(io.BytesIO(data)).convert("RGB")
        out = io.BytesIO()
        img = img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
        img.save(out, format="png", optimize=True)
        return f'"data:image/png;base64,{base64.b64encode(out.getvalue()).decode()}"'

    return re.sub(r'"data:image/png;base64,([A-Za-z0-9+/=\s\\]+)"', small, html)


def sized_player(html: str, alt: str = "") -> str:
    """Give the player's ``<img>`` a size of its own: its pixel ``width`` and ``height`` and
    the first frame as ``src``.

    ``to_jshtml`` writes a bare ``<img>`` whose script sets the frame later, so its box has
    no size until that frame has loaded. In JupyterLab 4 (notebook windowing
    ``contentVisibility``, the default) an output rendered while its cell is off screen sits
    in a ``content-visibility: auto`` subtree, and Chromium skips the relayout that the
    frame's load asks for: after Run All in chapter 3 the picture stayed 0 x 0 under its
    slider. With its size in the HTML, the picture no longer depends on that relayout (nor
    on the script: without JavaScript the first frame shows).
    """
    from PIL import Image

    first = re.search(r'frames\[0\] = "data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    tag = re.search(r'<img id="(_anim_img[0-9A-Za-z]+)">', html)
    if first is None or tag is None:
        raise RuntimeError("matplotlib's to_jshtml template changed; update sized_player")
    width, height = Image.open(io.BytesIO(base64.b64decode(first.group(1)))).size
    img = (f'<img id="{tag.group(1)}" src="data:image/png;base64,{first.group(1)}" '
           f'width="{width}" height="{height}" alt="{alt}" '
           'style="max-width: 100%; height: auto;">')
    return html.replace(tag.group(0), img)



def label_controls(html: str, name: str) -> str:
    """Name the player's frame slider (WCAG 1.3.1/4.1.2: a form control needs a label); its
    buttons already have titles (Play, Pause, ...), and their icons are aria-hidden."""
    new, n = re.subn(r'(<input id="_anim_slider\w*" type="range")',
                     rf'\1 aria-label="Frame of the {name} animation"', html)
    if n != 1:
        raise RuntimeError("matplotlib's to_jshtml template changed; update label_controls")
    return new


def finish(html: str, name: str, *, colors: int = 96, alt: str = "") -> str:
    """All of the above on one ``to_jshtml`` output: palette frames, stable id, no CDN,
    a sized first frame with ``alt`` text, a labelled slider."""
    html = stable_html(quantize(html, colors), name)
    return label_controls(sized_player(html, alt or f"{name} animation"), name)
