"""Where the course lives: one setting, ``repository.url`` in ``_config.yml``.

Jupyter Book reads it for the repository button and the launch buttons (Binder, Colab,
JupyterHub); Binder builds from the repository itself (``binder/requirements.txt`` installs
``-e .``). The other places that must name the repository are derived from it by this tool:

- the guarded first cell of every chapter notebook (``%pip install "git+URL"``) and any
  other mention of the repository in the notebooks (``git clone URL``);
- the README's install line and links.

The book's own address is ``html.baseurl`` (optional; empty means "wherever it is served").

Usage::

    python tools/course_url.py            # check: warn while the URL is the placeholder,
                                          # fail if a derived place names another URL
    python tools/course_url.py --apply    # rewrite the derived places from _config.yml

``make book`` runs the check first.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "https://github.com/conv-backprop/course"
# the files that name the repository besides _config.yml (globs relative to the root)
DERIVED = ["README.md", "chapters/*.ipynb", "chapters/*.md"]
# how a derived file names the repository: the URL in the guarded cell's pip line
PIP_URL = re.compile(r"git\+(https?://[^\s\"'\\]+)")
URL_SHAPE = re.compile(r"^https?://[^\s\"'\\]+[^/\s]$")


def configured_url(root: Path = ROOT) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf8"))
    url = str((config.get("repository") or {}).get("url") or "").strip()
    if not URL_SHAPE.match(url):
        raise SystemExit(
            f"_config.yml: repository.url = {url!r} is not a repository address such as "
            "https://github.com/<owner>/<repository> (no trailing slash)"
        )
    return url


def derived_files(root: Path = ROOT) -> list[Path]:
    return sorted({p for pattern in DERIVED for p in root.glob(pattern) if p.is_file()})


def named_urls(root: Path = ROOT) -> dict[Path, set[str]]:
    """The repository URLs each derived file installs from (``git+URL``)."""
    found = {}
    for path in derived_files(root):
        urls = set(PIP_URL.findall(path.read_text(encoding="utf8")))
        if urls:
            found[path] = urls
    return found


def apply(root: Path = ROOT) -> list[Path]:
    """Rewrite every derived place to the configured URL; returns the files changed."""
    url = configured_url(root)
    old = {u for urls in named_urls(root).values() for u in urls} | {PLACEHOLDER}
    old.discard(url)
    changed = []
    for path in derived_files(root):
        text = path.read_text(encoding="utf8")
        new = text
        for u in sorted(old, key=len, reverse=True):
            # the URL itself, not a longer one it prefixes (".../course" in ".../course-x")
            new = re.sub(re.escape(u) + r"(?![\w.-])", url, new)
        if new != text:
            path.write_text(new, encoding="utf8")
            changed.append(path)
    return changed


def check(root: Path = ROOT) -> int:
    url = configured_url(root)
    status = 0
    if url == PLACEHOLDER:
        print(
            f"WARNING: repository.url in _config.yml is still the placeholder {PLACEHOLDER}: "
            "the launch buttons, the repository button and every notebook's install cell "
            "point to a repository that is not yours. Set it to the repository you publish, "
            "then run `python tools/course_url.py --apply` (README: Publishing a fork).",
            file=sys.stderr,
        )
    for path, urls in named_urls(root).items():
        if urls != {url}:
            print(
                f"ERROR: {path.relative_to(root)} installs from {', '.join(sorted(urls))}, "
                f"but _config.yml says {url}: run `python tools/course_url.py --apply`.",
                file=sys.stderr,
            )
            status = 1
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apply", action="store_true", help="rewrite the derived places")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder")
    args = parser.parse_args(argv)
    if args.apply:
        for path in apply(args.root):
            print(f"course_url: updated {path.relative_to(args.root)}")
    return check(args.root)


if __name__ == "__main__":
    sys.exit(main())
