"""Sphinx extension: the HTML book serves every browser asset itself (no CDN).

Third-party browser code is not committed. It is pinned in ``package.json`` /
``package-lock.json`` and installed into ``node_modules/`` by ``npm ci`` (``make book`` does
it). This extension, loaded from ``_config.yml`` (``sphinx: local_extensions``):

- stops the build with a clear message when ``node_modules/`` is missing or incomplete;
- copies the assets into ``_build/html/_static/offline/`` when the build finishes
  (NOT into the source ``_static/``: Jupyter Book 1 would inject every ``.js``/``.css``
  found there into every page):

  ==========================  ==========================================================
  ``offline/mathjax/``        ``mathjax/es5`` (``mathjax_path`` in ``_config.yml``)
  ``offline/require.js``      ``requirejs`` (``nb_ipywidgets_js`` in ``_config.yml``)
  ``offline/html-manager/``   ``@jupyter-widgets/html-manager/dist`` (widget manager and
                              its fonts)
  ``offline/font-awesome/``   ``font-awesome`` 4.7 (the ``to_jshtml`` animation buttons)
  ``offline/widgets-setup.js``  ``offline/widgets-setup.js`` of this repository
  ==========================  ==========================================================

- rewrites the Font Awesome stylesheet that matplotlib's ``Animation.to_jshtml()`` links
  from a CDN to the local copy (in the notebook outputs, when a page is written);
- next to the kernel-free animations of the four explorers, adds the static explorers
  (``offline/static_explorer.js`` drawing ``convlib.static_explorer``'s data, written to
  ``offline/explorers/`` at build time and loaded when the reader opens one);
- names controls written by others for assistive technology (folded code cells,
  to_jshtml's frame slider);
- removes the duplicated inline scripts of Sphinx 7.4 (``THEBE_JS_URL`` declared twice),
  and the widget state and manager from pages that show no widget view;
- scans the built HTML and warns (an error under ``-W``) about any ``src=``/stylesheet that
  still points outside the book.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
OUT = "_static/offline"  # inside the HTML output

# (source under node_modules, destination under OUT, file to check that it is installed)
NPM_ASSETS = [
    ("mathjax/es5", "mathjax", "tex-mml-chtml.js"),
    ("mathjax/LICENSE", "mathjax/LICENSE", ""),
    ("requirejs/require.js", "require.js", ""),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "embed-amd.js"),
    ("font-awesome", "font-awesome", "css/font-awesome.min.css"),
]
OWN_ASSETS = [("widgets-setup.js", "widgets-setup.js")]
SKIP = shutil.ignore_patterns("*.map", "embed.js", "*.LICENSE.txt", "less", "scss", "*.md")

# CDN stylesheets that notebook outputs link, and their local replacement (under OUT).
CDN_REWRITES = [
    (
        re.compile(
            r"https?://(?:maxcdn|stackpath|netdna)\.bootstrapcdn\.com/font-awesome/[\d.]+/css/"
            r"font-awesome(?:\.min)?\.css"
        ),
        "font-awesome/css/font-awesome.min.css",
    ),
    (
        re.compile(
            r"https?://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/4\.[\d.]+/css/"
            r"font-awesome(?:\.min)?\.css"
        ),
        "font-awesome/css/font-awesome.min.css",
    ),
]

# Resources a browser fetches by itself (links <a href> and <link rel="canonical"> are not).
FETCHING_LINK_RELS = {
    "stylesheet", "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch",
    "icon", "shortcut", "apple-touch-icon", "manifest",
}
CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)["']?((?:https?:)?//[^"')\s;]+)""", re.I)


def is_external(url: str | None) -> bool:
    url = (url or "").strip().lower()
    return url.startswith(("http://", "https://", "//"))


class ExternalResources(HTMLParser):
    """Collects the URLs outside the book that a page would fetch."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        urls = []
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track"):
            urls.append(a.get("src"))
        if tag in ("img", "source"):
            srcset = (a.get("srcset") or "").split(",")
            urls += [part.split()[0] for part in srcset if part.strip()]
        if tag == "video":
            urls.append(a.get("poster"))
        if tag == "object":
            urls.append(a.get("data"))
        if tag == "input" and (a.get("type") or "").lower() == "image":
            urls.append(a.get("src"))
        if tag == "link" and FETCHING_LINK_RELS & set((a.get("rel") or "").lower().split()):
            urls.append(a.get("href"))
        urls += CSS_URL.findall(a.get("style") or "")
        self.found += [f"<{tag}> {u}" for u in urls if is_external(u)]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += [f"<style> {u}" for u in CSS_URL.findall(data)]


def node_modules(app: Sphinx) -> Path:
    return Path(app.confdir) / "node_modules"


def check_installed(app: Sphinx, config) -> None:
    missing = []
    for src, _dest, probe in NPM_ASSETS:
        path = node_modules(app) / src / probe
        if not path.exists():
            missing.append(str(Path("node_modules") / src / probe))
    if missing:
        raise ConfigError(
            "The book's browser assets are not installed ("
            + ", ".join(missing)
            + " missing). Run `npm ci` in the book folder (`make book` does it; it needs "
            "Node.js and npm: on Debian/Ubuntu `apt-get install nodejs npm`)."
        )
    for key in ("mathjax_path",):
        value = getattr(config, key, "") or ""
        if "://" in value:
            logger.warning(f"offline_assets: {key} = {value!r} loads from outside the book")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# Accessibility fixes of HTML written by others, applied to each page's body (WCAG 2.1 AA,
# tests/browser/test_a11y.py):
# - myst-nb's folded code cells: ``<summary aria-label="Toggle hidden content">`` around the
#   visible "Show code cell source" (label-content-name-mismatch): the name is the text;
# - matplotlib's to_jshtml frame slider has no label (stored notebook outputs made before
#   convlib.player labelled it): name it after its player.
FOLD_SUMMARY = '<summary aria-label="Toggle hidden content">'
ANIM_SLIDER = re.compile(r'<input id="_anim_slider(\w*)" type="range"(?![^>]*aria-label)')


# The four explorers with their parameters, without a kernel: a
# disclosure next to each kernel-free animation; its script and data (convlib.static_explorer, from
# convlib.figdata) load when the reader opens it.
EXPLORER_ANIMATION = re.compile(
    r'(<div class="animation">\s*<img id="_anim_img(padding|windows|dilation|inputgradient)'
    r'[0-9a-f]+")'
)
EXPLORER_DEFAULTS = {"padding": (5, 3, 2, "same"), "windows": (7, 3, 2, "same"),
                     "dilation": (7, 3, 2, "same"), "gradient": (7, 3, 2, "same")}
EXPLORER_DIR = "explorers"


def add_static_explorers(body: str, pathto) -> str:
    data = pathto(f"{OUT}/{EXPLORER_DIR}/layers.js", 1)

    def disclosure(m):
        kind = {"inputgradient": "gradient"}.get(m.group(2), m.group(2))
        h_in, f, s, h_out = EXPLORER_DEFAULTS[kind]
        title = {"gradient": "input-gradient"}.get(kind, kind)
        return (
            f'<details class="static-explorer" data-explorer="{kind}" data-h-in="{h_in}" '
            f'data-f="{f}" data-s="{s}" data-h-out="{h_out}" data-src="{data}"'
            + (' data-i="3" data-j="3">' if kind == "gradient" else ">")
            + f"<summary>The {title} explorer with your own parameters (h_in, f, s, h_out"
            f'{"" if kind == "padding" else ", i, j"}): open to choose them, no kernel '
            "needed</summary></details>\n" + m.group(1)
        )

    new = EXPLORER_ANIMATION.sub(disclosure, body)
    if new != body:
        script = pathto(f"{OUT}/{EXPLORER_DIR}/static_explorer.js", 1)
        new += f'\n<script defer src="{script}"></script>\n'
    return new


def accessible_body(body: str) -> str:
    body = body.replace(FOLD_SUMMARY, "<summary>")
    return ANIM_SLIDER.sub(
        lambda m: f'<input id="_anim_slider{m.group(1)}" type="range" '
        'aria-label="Animation frame"',
        body,
    )


def tidy_assets(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Per page:

    - Sphinx 7.4 registers inline scripts added at builder-inited twice (filename None and
      ''), which redeclares ``const THEBE_JS_URL``: keep the first of identical entries;
    - myst-nb embeds a notebook's whole widget state, and loads the widget manager, even
      when no widget view is shown on the page (outputs removed with ``remove-output``):
      drop both there (up to megabytes of script that would render nothing).
    """
    if context.get("body"):
        context["body"] = add_static_explorers(accessible_body(context["body"]),
                                               context["pathto"])
    widget_js = tuple(str(key) for key in (getattr(app.config, "nb_ipywidgets_js", {}) or {}))
    no_views = WIDGET_VIEW not in (context.get("body") or "")
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        seen, kept = set(), []
        for asset in assets:
            filename = getattr(asset, "filename", asset) or ""
            attrs = getattr(asset, "attributes", {}) or {}
            if no_views and key == "script_files" and (
                attrs.get("type") == WIDGET_STATE
                or (widget_js and filename.endswith(widget_js))
            ):
                continue
            ident = (filename, tuple(sorted((k, str(v)) for k, v in attrs.items())))
            if ident in seen:
                continue
            seen.add(ident)
            kept.append(asset)
        if len(kept) != len(assets):
            context[key] = kept


def rewrite_cdn_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    page = app.builder.get_target_uri(docname)
    for node in doctree.findall(nodes.raw):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        new = text
        for pattern, local in CDN_REWRITES:
            new = pattern.sub(relative_uri(page, posixpath.join(OUT, local)), new)
        if new != text:
            node.children[:] = [nodes.Text(new)]
            node.rawsource = new


def copy_file(src: Path, dst: Path) -> None:
    if dst.exists():
        s, d = src.stat(), dst.stat()
        if s.st_size == d.st_size and int(s.st_mtime) == int(d.st_mtime):
            return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def copy_tree(src: Path, dst: Path) -> None:
    if src.is_file():
        copy_file(src, dst)
        return
    ignored = SKIP(str(src), [p.name for p in src.iterdir()])
    for entry in src.iterdir():
        if entry.name in ignored:
            continue
        copy_tree(entry, dst / entry.name)


def write_static_explorers(folder: Path) -> None:
    """The static explorers' script and their data, computed by convlib from figdata (a few
    seconds: done again only when a source file of convlib changed)."""
    import hashlib

    import convlib
    from convlib.static_explorer import layers_script

    folder.mkdir(parents=True, exist_ok=True)
    copy_file(HERE / "static_explorer.js", folder / "static_explorer.js")
    digest = hashlib.sha256()
    for path in sorted(Path(convlib.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    stamp = f"// convlib sources {digest.hexdigest()[:16]}\n"
    target = folder / "layers.js"
    if target.exists():
        with target.open(encoding="utf8") as f:
            if f.readline() == stamp:
                return
    target.write_text(stamp + layers_script(), encoding="utf8")


def install_and_check(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir) / OUT
    for src, dest, _probe in NPM_ASSETS:
        copy_tree(node_modules(app) / src, outdir / dest)
    for src, dest in OWN_ASSETS:
        copy_file(HERE / src, outdir / dest)
    write_static_explorers(outdir / EXPLORER_DIR)

    # Nothing in the built book may be fetched from outside it.
    for page in sorted(Path(app.outdir).rglob("*.html")):
        if OUT in page.as_posix() or "/_static/" in page.as_posix():
            continue
        finder = ExternalResources()
        finder.feed(page.read_text(encoding="utf8"))
        for hit in sorted(set(finder.found)):
            logger.warning(
                f"offline_assets: {page.relative_to(app.outdir)} loads from outside the book: "
                f"{hit[:200]}"
            )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_installed)
    app.connect("html-page-context", tidy_assets, priority=900)
    app.connect("doctree-resolved", rewrite_cdn_links)
    app.connect("build-finished", install_and_check)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
