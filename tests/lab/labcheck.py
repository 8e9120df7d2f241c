"""Run a notebook as a student does: JupyterLab 4 in headless Chromium, Run All, then look.

Used by test_jupyterlab.py (every chapter) and test_lab_selftest.py (a throwaway notebook
that proves each check can fail). ``serve_lab`` starts JupyterLab from the course's own
environment (the Python running the tests) on 127.0.0.1 with a token and throwaway Jupyter
directories; ``run_notebook`` returns ``(problems, notes)``, two lists of strings.

What is a problem: an error output or a cell left unexecuted; a markdown cell not rendered
by jupyterlab-myst; MyST shown raw (a role like ``{eq}`` or a directive fence), an "Unknown
Directive" box, math KaTeX cannot typeset; a cross-reference to a label the notebook
defines that does not resolve; an animation whose picture is laid out 0 x 0 or has no
frame; an explorer whose figure does not change when a slider moves; a request leaving
127.0.0.1. Notes (reported, not failures): references to labels of other chapters (they
resolve only in the book) and text written to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from pagecheck import browser_context, free_port  # noqa: E402, F401  (re-exported)

# The JupyterLab (and kernel) under test: the students' environment that `make lab` builds
# (LAB_VENV=.venv-lab, set by `make test`), else the one running the tests.
LAB_VENV = os.environ.get("LAB_VENV")
BIN = (Path(LAB_VENV).resolve() / "bin") if LAB_VENV else Path(sys.executable).parent
RUN_TIMEOUT = float(os.environ.get("LAB_RUN_TIMEOUT", 900))  # seconds per notebook
VIEWPORT = {"width": 1280, "height": 2000}
# plugins that would reach the internet (news, update checks)
DISABLED_PLUGINS = {"@jupyterlab/apputils-extension:announcements": True}


@contextlib.contextmanager
def serve_lab(root: Path, home: Path):
    """JupyterLab on ``root`` (notebooks), Jupyter's own state under ``home``; yields
    ``(base_url, token)``. The windowing mode is JupyterLab's default (contentVisibility),
    the one students get."""
    token = secrets.token_hex(16)
    port = free_port()
    for sub in ("config/labconfig", "data", "runtime", "workspaces", "settings"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "config/labconfig/page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_PLUGINS}), encoding="utf8"
    )
    # no autosave: Run All must leave the served notebooks as they were
    docmanager = home / "settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True, exist_ok=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}',
                                                           encoding="utf8")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    cmd = [
        str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (home / "lab.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                req = urllib.request.Request(f"{base}api/status",
                                             headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(req, timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (home / "lab.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"JupyterLab did not start on {base}:\n{tail}") from None
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def shutdown_kernels(base: str, token: str) -> None:
    """End every kernel the server runs (one chapter at a time on a small machine)."""
    headers = {"Authorization": f"token {token}"}
    req = urllib.request.Request(f"{base}api/kernels", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        kernels = json.load(resp)
    for k in kernels:
        req = urllib.request.Request(f"{base}api/kernels/{k['id']}", headers=headers,
                                     method="DELETE")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(req, timeout=20).close()


# --- in-page JavaScript ---------------------------------------------------------------------

JS_OPEN = """
async (path) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let k = 0; k < 600 && !window.jupyterapp; k++) await sleep(100);
  const app = window.jupyterapp;
  await app.started; await app.restored;
  let w = null;
  for (let k = 0; k < 1200; k++) {
    w = app.shell.currentWidget;
    if (w && w.context && w.context.path === path && w.sessionContext) break;
    await sleep(100);
  }
  if (!w || !w.context || w.context.path !== path) return "notebook did not open";
  await w.context.ready; await w.sessionContext.ready;
  for (let k = 0; k < 1200 && !(w.sessionContext.session && w.sessionContext.session.kernel
                               && w.sessionContext.session.kernel.connectionStatus === "connected"
                               && w.sessionContext.session.kernel.status === "idle"); k++) {
    await sleep(100);
  }
  app.shell.collapseLeft();
  if (!w.sessionContext.session || !w.sessionContext.session.kernel) return "no kernel";
  return "";
}
"""

JS_RUN_ALL = """
() => {
  window.__labcheckRun = null;
  window.jupyterapp.commands.execute("notebook:run-all-cells").then(
    (ok) => { window.__labcheckRun = {ok: ok}; },
    (err) => { window.__labcheckRun = {error: String(err)}; });
}
"""

# Walk every cell (scrolled to, so windowing attaches and renders it) and report.
JS_SCAN = r"""
async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const nb = window.jupyterapp.shell.currentWidget.content;
  const sourceLike = (el) => {  // text as a reader sees it, inline code back in backticks
    const c = el.cloneNode(true);
    c.querySelectorAll(".katex, .katex-display, math, mjx-container, pre, svg, style, script")
      .forEach((e) => e.remove());
    c.querySelectorAll("code").forEach((e) => e.replaceWith("`" + e.textContent + "`"));
    return c.textContent;
  };
  const cells = [];
  for (let i = 0; i < nb.widgets.length; i++) {
    const cell = nb.widgets[i];
    const type = cell.model.type;
    await nb.scrollToItem(i, "start");
    await sleep(40);
    const info = {index: i, type: type, errors: [], stderr: [], unknown: [], katex: [],
                  unresolved: [], text: "", codeFences: [], animations: [], explorer: false,
                  rendered: true, count: null};
    if (type === "code") {
      info.count = cell.model.executionCount;
      for (const o of cell.model.outputs.toJSON()) {
        if (o.output_type === "error") info.errors.push(o.ename + ": " + o.evalue);
        if (o.output_type === "stream" && o.name === "stderr") {
          info.stderr.push([].concat(o.text).join("").slice(0, 300));
        }
      }
    }
    if (type === "markdown") {
      // jupyterlab-myst renders asynchronously (and re-renders every cell of the notebook
      // when references change): give a long notebook on a busy machine time
      for (let t = 0; t < 150 && !(cell.rendered && cell.node.querySelector(".myst")); t++) {
        await sleep(200);
      }
      info.rendered = cell.rendered && !!cell.node.querySelector(".myst");
      if (!info.rendered) {
        const plain = cell.node.querySelector(".jp-RenderedMarkdown");
        if (plain) info.text += sourceLike(plain) + "\n";
      }
    }
    for (const m of cell.node.querySelectorAll(".myst")) {
      info.text += sourceLike(m) + "\n";
      m.querySelectorAll(".myst-exercise-title, summary, div").forEach((t) => {
        if (/Unknown Directive/.test(t.textContent) && t.children.length <= 1) {
          info.unknown.push(t.textContent.trim().slice(0, 120));
        }
      });
      // math jupyterlab-myst's KaTeX rejects: an inline span or a display <pre> with a
      // warning sign, the KaTeX message as title
      m.querySelectorAll(".katex-error, .text-yellow-600[title], pre[title]").forEach((e) => {
        const title = e.getAttribute("title") || e.textContent;
        if (title !== "Cross Reference Not Found") info.katex.push(title.slice(0, 160));
      });
      m.querySelectorAll('[title="Cross Reference Not Found"]').forEach(
        (e) => info.unresolved.push(e.textContent.trim()));
      m.querySelectorAll('pre code[class*="language-{"]').forEach(
        (e) => info.codeFences.push(e.className));
    }
    info.unknown = [...new Set(info.unknown)];
    for (const img of cell.node.querySelectorAll("div.animation img")) {
      await sleep(300);  // the player's script sets its frame in a timeout
      const r = img.getBoundingClientRect();
      const src = img.getAttribute("src") || "";
      info.animations.push({width: r.width, height: r.height,
                            frame: src.startsWith("data:image/")});
    }
    info.explorer = !!cell.node.querySelector(".widget-image") &&
                    !!cell.node.querySelector(".widget-slider .noUi-handle, .widget-hslider");
    cells.push(info);
  }
  return cells;
}
"""

JS_EXPLORER_STATE = """
(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const img = cell.node.querySelector(".widget-image");
  const html = Array.from(cell.node.querySelectorAll(".widget-html-content"))
    .map((e) => e.textContent).join(" ");
  return {src: img ? img.getAttribute("src") : null, message: html};
}
"""

# JupyterLab 4.6's cell toolbar looks for the markdown output node jupyterlab-myst replaces
# (Notebook._markdownOverlapsToolbar); harmless: the toolbar still shows
KNOWN_PAGE_ERRORS = re.compile(r"_markdownOverlapsToolbar")
ROLE_RAW = re.compile(r"\{[A-Za-z][\w:+.-]*\}\s*`")
DIRECTIVE_RAW = re.compile(r"(^|\n)[ \t]*(:{3,}|`{3,})[ \t]*\{[A-Za-z][\w:+.-]*\}")
TARGET_RAW = re.compile(r"(^|\n)[ \t]*\([A-Za-z][\w:.-]*\)=")


def notebook_labels(nb: dict) -> set[str]:
    """Every label a notebook defines: targets ``(x)=``, ``:label:``/``:name:`` options,
    ``$$ ... $$ (x)`` equation labels, and figure names in myst-nb cell metadata."""
    labels = set()
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            labels |= set(re.findall(r"(?m)^[ \t]*\(([^)\s]+)\)=[ \t]*$", src))
            labels |= set(re.findall(r"(?m)^[ \t]*:(?:label|name):[ \t]*(\S+)", src))
            labels |= set(re.findall(r"\$\$[ \t]*\(([^)\s]+)\)", src))
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if figure.get("name"):
            labels.add(figure["name"])
    return labels


def wait_run_all(page, timeout: float) -> str:
    """Run All and wait for it to finish; returns '' or what went wrong."""
    page.evaluate(JS_RUN_ALL)
    try:
        page.wait_for_function("() => window.__labcheckRun !== null", timeout=timeout * 1000,
                               polling=500)
    except Exception:  # noqa: BLE001 (playwright's TimeoutError; the message says it)
        return f"Run All did not finish within {timeout:.0f} s"
    res = page.evaluate("() => window.__labcheckRun")
    return f"Run All failed: {res['error']}" if "error" in res else ""


def move_slider(page, i: int) -> str:
    """Move the explorer's first enabled slider by one step (keyboard, as a student can);
    '' if its figure changed, else what happened."""
    cell = page.locator(f'.jp-Notebook .jp-Cell[data-windowed-list-index="{i}"]')
    before = page.evaluate(JS_EXPLORER_STATE, i)
    handles = cell.locator(".widget-slider:not(.mod-disabled) .noUi-handle")
    if handles.count() == 0:
        return "has no slider to move"
    handle = handles.first
    for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):
        handle.focus()
        handle.press(key)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = page.evaluate(JS_EXPLORER_STATE, i)
            if now["src"] != before["src"]:
                return ""
            if now["message"].strip() and now["message"] != before["message"]:
                break  # that setting cannot be drawn (a teaching message): try the other way
            time.sleep(0.2)
    return "figure did not change when its first slider moved (ArrowRight, ArrowLeft)"


def run_notebook(context, base: str, token: str, path: str, nb: dict, shots: Path):
    """Open ``path`` (relative to the server root) in JupyterLab, Run All, check every cell.
    Screenshots go to ``shots`` (a file prefix). Returns ``(problems, notes)``."""
    problems, notes = [], []
    page = context.new_page()
    page.set_viewport_size(VIEWPORT)

    def route(r):
        url = r.request.url
        if url.startswith(base) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            problems.append(f"request outside 127.0.0.1: {url[:120]}")
            r.abort()

    page.route("**/*", route)
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(
        " | ".join((e.stack or str(e)).split("\n")[:3])[:300]))
    workspace = re.sub(r"[^A-Za-z0-9]", "-", path)
    try:
        page.goto(f"{base}lab/workspaces/{workspace}/tree/{path}?token={token}&reset",
                  wait_until="domcontentloaded", timeout=120_000)
        err = page.evaluate(JS_OPEN, path)
        if err:
            return [f"{path}: {err}"], notes
        err = wait_run_all(page, RUN_TIMEOUT)
        if err:
            problems.append(err)
        time.sleep(1.0)
        cells = page.evaluate(JS_SCAN)
        labels = notebook_labels(nb)
        shots.parent.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => window.jupyterapp.shell.currentWidget.content.scrollToItem(0)")
        time.sleep(0.5)
        page.screenshot(path=f"{shots}__top.png")
        for c in cells:
            where = f"cell {c['index']}"
            if c["type"] == "code" and c["count"] is None:
                problems.append(f"{where}: not executed by Run All")
            problems += [f"{where}: error output {e}" for e in c["errors"]]
            notes += [f"{where}: stderr {s!r}" for s in c["stderr"]]
            if not c["rendered"]:
                problems.append(f"{where}: markdown not rendered by jupyterlab-myst")
            problems += [f"{where}: {u}" for u in c["unknown"]]
            problems += [f"{where}: math not typeset by KaTeX: {k}" for k in c["katex"]]
            problems += [f"{where}: directive shown as code ({f})" for f in c["codeFences"]]
            for regex, what in ((ROLE_RAW, "role"), (DIRECTIVE_RAW, "directive"),
                                (TARGET_RAW, "target")):
                for m in regex.finditer(c["text"]):
                    snippet = c["text"][max(0, m.start() - 20): m.end() + 30].strip()
                    problems.append(f"{where}: raw MyST {what}: {snippet!r}")
            for label in c["unresolved"]:
                if label in labels:
                    problems.append(f"{where}: reference to {label!r} (defined in this "
                                    "notebook) does not resolve in JupyterLab")
                else:
                    notes.append(f"{where}: reference to {label!r} of another page")
            for k, a in enumerate(c["animations"]):
                if not a["frame"] or a["width"] < 10 or a["height"] < 10:
                    problems.append(f"{where}: animation {k} shows no picture (img "
                                    f"{a['width']:.0f} x {a['height']:.0f}, frame "
                                    f"{'set' if a['frame'] else 'missing'})")
            if c["animations"] or c["explorer"]:
                page.evaluate(f"() => window.jupyterapp.shell.currentWidget.content"
                              f".scrollToItem({c['index']}, 'start')")
                time.sleep(0.5)
            if c["explorer"]:
                err = move_slider(page, c["index"])
                if err:
                    problems.append(f"{where}: explorer {err}")
            if c["animations"] or c["explorer"]:
                page.screenshot(path=f"{shots}__cell{c['index']:02d}.png")
        page.evaluate("() => window.jupyterapp.shell.currentWidget.content"
                      ".scrollToItem(window.jupyterapp.shell.currentWidget.content"
                      ".widgets.length - 1, 'end')")
        time.sleep(0.5)
        page.screenshot(path=f"{shots}__end.png")
        for e in dict.fromkeys(page_errors):
            if KNOWN_PAGE_ERRORS.search(e):
                notes.append(f"known JupyterLab page error: {e[:100]}")
            else:
                problems.append(f"page error: {e}")
        return problems, notes
    finally:
        page.close()
