"""Build the student edition of the book: no exercise solutions, no listings that answer an
assignment of the classroom set (``make classroom`` runs it).

The book's sources are staged in ``OUT/src`` and changed there, never in place:

- every ``{solution}`` directive (the folded answers of the chapter exercises) is removed
  from the markdown cells and pages, so the solutions appear neither on the pages nor in the
  notebooks offered for download (which are these staged notebooks);
- every cell that shows the source of a ``convlib`` function a student writes in an
  assignment (``convlib.display.show_source(...)``) becomes a short note that points to the
  assignment; the equation before it and its numerical check after it stay;
- the instructor's guide is left out of the table of contents;
- its repository, launch and download links, and every notebook's install cell, name the
  students' repository (``--repository``, or ``STUDENT_REPOSITORY``; ``make classroom
  STUDENT_REPOSITORY=URL``), never the one that holds ``classroom/source/``: the tool refuses
  to build when that repository is not named, or is the one holding the sources.

The staged book is built with Jupyter Book (stored outputs, warnings as errors) into
``OUT/html``, and the result is checked: no solution block, no removed listing, no link to
the instructor's guide.

Usage::

    python tools/student_edition.py _build/student --repository https://github.com/<you>/<course>
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import course_url  # noqa: E402

GUIDE = "chapters/instructors"

# convlib functions whose listing answers an assignment -> (number, title) of the assignment
ASSIGNMENTS = {
    1: "the forward pass",
    2: "the backward pass",
    3: "the vectorized backward pass",
    5: "a small network",
}
ANSWERS = {
    **dict.fromkeys(
        ["conv_forward_naive", "conv_forward", "pad", "padding_amount", "split_padding",
         "im2col", "windows", "window_matrix", "_window_tensor", "filter_matrix"], 1),
    **dict.fromkeys(
        ["output_error", "relu_prime", "sigmoid_prime", "tanh_prime", "bias_gradient",
         "conv_backward_naive", "filter_gradient_dilated", "filter_gradient_naive",
         "backward_padding", "dilated_padded_dz", "input_gradient_naive",
         "input_gradient_rot180", "numerical_gradient",
         "gradient_check"], 2),  # convlib.nn's gradient check holds the centered differences
    **dict.fromkeys(
        ["col2im", "conv_backward", "_scatter_window_tensor", "input_gradient_col2im"], 3),
    **dict.fromkeys(["MaxPool2d", "_Pool2d"], 5),  # convlib.nn's pooling, chapter 7
}
SHOW_SOURCE = re.compile(r"show_source\(\s*([\w.]+)")
IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "_build", "node_modules", "classroom", "tests", "benchmarks", "tools",
    ".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__", "*.egg-info",
    ".ipynb_checkpoints",
)


def strip_solutions(text: str) -> tuple[str, int]:
    """Remove every ``{solution}`` directive (colon or backtick fence) from MyST text."""
    out, removed, closing = [], 0, None
    for line in text.split("\n"):
        if closing is None:
            m = re.match(r"^\s*(:{3,}|`{3,})\{solution\}", line)
            if m:
                closing, removed = m.group(1), removed + 1
                continue
            out.append(line)
        elif line.strip() == closing:
            closing = None
    if closing is not None:
        raise ValueError("a {solution} directive is not closed")
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text), removed


def pointer(names: list[str], number: int) -> str:
    listed = " and ".join(f"`{n}`" for n in names)
    what = "The listing of" if len(names) == 1 else "The listings of"
    return (
        ":::{note}\n"
        f"**Student edition.** {what} {listed} {'is' if len(names) == 1 else 'are'} left out: "
        f"you write {'it' if len(names) == 1 else 'them'} yourself in assignment {number} of "
        f"the classroom set ({ASSIGNMENTS[number]}). The equation above and the numerical "
        "check that follows stay.\n"
        ":::"
    )


def answered(source: str):
    """(name, assignment) if this code cell only shows the listing of an answered function."""
    m = SHOW_SOURCE.search(source)
    if not m:
        return None
    name = m.group(1).split(".")[-1]
    return (name, ANSWERS[name]) if name in ANSWERS else None


def convert_notebook(path: Path) -> dict:
    nb = json.loads(path.read_text())
    counts = {"solutions": 0, "listings": 0}
    cells, last = [], None  # last: (names, assignment) of a pointer just written
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        hit = answered(source) if cell["cell_type"] == "code" else None
        if hit:
            counts["listings"] += 1
            if last is not None and last[1] == hit[1]:  # one note for listings in a row
                last[0].append(hit[0])
                cells[-1]["source"] = pointer(*last)
                continue
            last = ([hit[0]], hit[1])
            cells.append({"cell_type": "markdown", "id": cell.get("id", f"s{i}"),
                          "metadata": {}, "source": pointer(*last)})
            continue
        last = None
        if cell["cell_type"] == "markdown":
            text, removed = strip_solutions(source)
            if removed:
                cell["source"] = text
                counts["solutions"] += removed
        cells.append(cell)
    nb["cells"] = cells
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return counts


def _same(a: str, b: str) -> bool:
    def norm(u):
        return re.sub(r"(\.git)?/*$", "", u.strip().lower())
    return norm(a) == norm(b)


def students_repository(url: str, classroom: Path) -> str:
    """The students' repository URL, or SystemExit saying why it cannot be used."""
    sources = sorted(classroom.glob("source/*/*.ipynb"))
    ours = course_url.configured_url(ROOT)
    if not url:
        raise SystemExit(
            "student edition: name the students' repository, whose links the edition shows "
            "(launch, repository and download buttons, install cells): make classroom "
            "STUDENT_REPOSITORY=https://github.com/<you>/<course> (or --repository). It must "
            "not be the repository holding classroom/source/ (the solutions and hidden tests): "
            "see 'Keeping the answers private' in the instructors' guide.")
    if not course_url.URL_SHAPE.match(url):
        raise SystemExit(f"student edition: {url!r} is not a repository address such as "
                         "https://github.com/<owner>/<repository>")
    if _same(url, ours) and sources:
        raise SystemExit(
            f"student edition: {url} is the repository of this checkout, which holds the "
            f"assignments' sources ({len(sources)} notebooks under {classroom / 'source'}): "
            "its students would find every solution and hidden test there. Publish the course "
            "without classroom/ (keep that folder in a private repository, CLASSROOM=...) or "
            "name another repository.")
    return url


def stage(src: Path, repository: str = "") -> dict:
    """Copy the book into ``src`` and make it the student edition; return what changed."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(ROOT, src, ignore=IGNORE)
    (src / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    report = {}
    for path in sorted((src / "chapters").glob("*.ipynb")):
        report[path.name] = convert_notebook(path)
    for path in sorted((src / "chapters").glob("*.md")):
        text, removed = strip_solutions(path.read_text())
        # the guide is left out of this edition: a link to it becomes plain words
        text = re.sub(r"\{doc\}`instructors`|\[[^\]]*\]\(instructors\.md\)",
                      "the instructors' guide (in the instructors' edition)", text)
        path.write_text(text)
        report[path.name] = {"solutions": removed, "listings": 0}
    guide = src / f"{GUIDE}.md"
    if guide.exists():
        guide.unlink()
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    for part in toc.get("parts", []):
        part["chapters"] = [c for c in part["chapters"] if c.get("file") != GUIDE]
    toc["parts"] = [p for p in toc.get("parts", []) if p["chapters"]]
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    config = yaml.safe_load((src / "_config.yml").read_text())
    config["title"] = f"{config.get('title', '')} (student edition)".strip()
    if repository:
        config.setdefault("repository", {})["url"] = repository
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    if repository:
        course_url.apply(src)  # the install cells and any other mention follow it
    return report


def check(html: Path, hidden_repository: str = "") -> None:
    """Fail if a solution, a removed listing, the guide or a link to the repository holding
    the sources made it into the built edition."""
    problems = []
    files = [*html.rglob("*.html"), *(html / "_sources").rglob("*.ipynb")]
    if hidden_repository:
        pattern = re.compile(re.escape(hidden_repository.rstrip("/")) + r"(?![\w.-])")
        problems += [f"{f.relative_to(html)}: a link to {hidden_repository}" for f in files
                     if pattern.search(f.read_text(errors="replace"))]
    for page in sorted(html.rglob("*.html")):
        text = page.read_text(errors="replace")
        if re.search(r'class="[^"]*\bsolution\b', text):
            problems.append(f"{page.relative_to(html)}: a solution block")
        if "instructors.html" in text:
            problems.append(f"{page.relative_to(html)}: a link to the instructor's guide")
    for nb in sorted((html / "_sources").rglob("*.ipynb")):
        text = nb.read_text()
        if "{solution}" in text:
            problems.append(f"{nb.relative_to(html)}: a solution in the download")
        for m in SHOW_SOURCE.finditer(text):
            if m.group(1).split(".")[-1] in ANSWERS:
                problems.append(f"{nb.relative_to(html)}: the listing of {m.group(1)}")
    if (html / "chapters" / "instructors.html").exists():
        problems.append("the instructor's guide was built")
    if problems:
        raise SystemExit("student edition leaks:\n  " + "\n  ".join(problems))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder, e.g. _build/student")
    parser.add_argument("--no-build", action="store_true", help="stage the sources only")
    parser.add_argument("--repository", default=os.environ.get("STUDENT_REPOSITORY", ""),
                        help="the students' repository (default: $STUDENT_REPOSITORY)")
    parser.add_argument("--classroom", type=Path, default=Path(
        os.environ.get("CLASSROOM", ROOT / "classroom")), help="the nbgrader course folder")
    args = parser.parse_args(argv)
    repository = students_repository(args.repository, args.classroom.resolve())
    ours = course_url.configured_url(ROOT)
    out = args.out.resolve()
    src = out / "src"
    report = stage(src, repository)
    total = {k: sum(r[k] for r in report.values()) for k in ("solutions", "listings")}
    print(f"staged {src}: {total['solutions']} solutions and {total['listings']} listings "
          "removed")
    if args.no_build:
        return 0
    book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(book), "build", "-W", "-n", "--keep-going", "--path-output", str(src),
                    str(src)], check=True)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.copytree(src / "_build" / "html", html)
    check(html, hidden_repository="" if _same(ours, repository) else ours)
    print(f"student edition: {html / 'index.html'} (links to {repository})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
