"""What a submission shows, made harmless where it is shown (numpy-free, nbgrader-free).

`sanitize_cell` is applied by `sealed.SanitizeOutputs` to every cell of a graded notebook: the
formgrader shows these notebooks in the instructor's logged-in Jupyter, and the feedback pages
go back to the students. Outputs keep plain text, PNG and JPEG only; Markdown and raw cells
keep text, http(s)/mailto/relative links and attachments only.
"""

from __future__ import annotations

import base64
import binascii
import html
import re

_SAFE = ("text/plain", "image/png", "image/jpeg")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
# link and image targets: inline ](target ...) and reference definitions [x]: target
_INLINE = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
_REFDEF = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S*)", re.M)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
# MathJax commands that make links, styles or load code
_TEX = re.compile(r"\\(href|url|style|class|cssId|require|data|html|unicode|bbox)(?![A-Za-z])")
# a script scheme anywhere once escapes, entities and spaces are undone (reference
# definitions in quotes or lists, escaped brackets and colons: whatever the Markdown
# parser may make a link of)
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live)script:|data:text/html")


def _safe_target(target: str, image: bool) -> str:
    """An http(s) or mailto link, a relative one or a fragment stays (entities decoded and
    control characters dropped before the scheme is read); an image only as an attachment."""
    plain = _CONTROL.sub("", html.unescape(target)).lower()
    if image:
        return target if plain.startswith("attachment:") else "#"
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", plain)
    return target if scheme is None or scheme.group(1) in ("http", "https", "mailto") else "#"


def sanitize_markdown(text: str) -> str:
    """Markdown that renders as text, links and attachments only: no raw HTML, no script URL,
    no remote image, no MathJax link or style. A cell in which a script scheme survives in
    any spelling (escapes, entities, spaces) loses every colon (U+2236 stands in).
    """
    text = _TAG.sub("&lt;", text)
    text = _TEX.sub(lambda m: "\\mathrm{" + m.group(1) + "}", text)

    def inline(m):
        return m.group(1) + _safe_target(m.group(2), _is_image(m))

    text = _INLINE.sub(inline, text)
    text = _REFDEF.sub(lambda m: m.group(1) + _safe_target(m.group(2), False), text)
    plain = _CONTROL.sub("", html.unescape(text.replace(chr(92), ""))).lower()
    if _SCRIPT_SCHEME.search(plain):
        # what the patterns above missed: no colon of this cell can end a scheme now
        text = text.replace(":", "\u2236")
    return text


def _is_image(match) -> bool:
    """Whether the ](target) closes an image: ![alt](target)."""
    head = match.string[:match.start() + 1]
    depth, i = 0, len(head) - 1
    while i >= 0:
        if head[i] == "]":
            depth += 1
        elif head[i] == "[":
            depth -= 1
            if depth == 0:
                return i > 0 and head[i - 1] == "!"
        i -= 1
    return False


def _safe_image(data):
    try:
        base64.b64decode("".join(data) if isinstance(data, list) else str(data), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def sanitize_cell(cell):
    if cell.cell_type == "raw":
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        cell.source = sanitize_markdown(text)
        cell.metadata = {}
    if cell.cell_type == "markdown":
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        cell.source = sanitize_markdown(text)
        attachments = cell.get("attachments") or {}
        for name in list(attachments):
            kept = {k: v for k, v in attachments[name].items()
                    if k in ("image/png", "image/jpeg") and _safe_image(v)}
            if kept:
                attachments[name] = kept
            else:
                del attachments[name]
    for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items()
                           if k in _SAFE and (k == "text/plain" or _safe_image(v))}
            out["metadata"] = {}
    cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags")}
    return cell
