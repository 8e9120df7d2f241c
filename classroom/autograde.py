"""Autograde every submission under submitted/<student>/<assignment>/, one process each.

Submissions are untrusted code. Each one is autograded by its own ``nbgrader autograde``
process, whose address space is capped (``RLIMIT_AS``, inherited by the kernel it starts) and
whose total run time is capped too; nbgrader's own per-cell timeout (``Execute.timeout`` in
nbgrader_config.py, or ``--cell-timeout``) interrupts an endless loop in one cell. A
submission that fails, runs out of time or crashes its kernel is reported and the others are
graded all the same. Feedback (HTML, hidden tests removed) is generated for each graded one.
Its pages load MathJax from ``feedback/<student>/mathjax/``, a copy this script puts into every
student's feedback folder (from ``node_modules/``, which ``make autograde`` installs): they
typeset their math without internet, also from a zipped copy of the student's folder.

This is a limit, not a sandbox: run it as an unprivileged user without network, or in a
container (see the instructor's guide, chapters/instructors.md).

Usage, from anywhere (nbgrader must be on PATH, as in ``make autograde``)::

    python classroom/autograde.py [ASSIGNMENT ...] [--memory-gb 3] [--cell-timeout 60] [--jobs 1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent
# MathJax 3 from npm (package.json); templates/feedback/mathjax.html.j2 loads this one file.
MATHJAX = COURSE.parent / "node_modules" / "mathjax"
MATHJAX_FILES = ("es5/tex-svg-full.js", "LICENSE")


# Runs first in the child: caps its address space (inherited by the kernel it starts), then
# becomes the nbgrader command. (No preexec_fn: it is unsafe with the threads of --jobs.)
_CAPPED = (
    "import os, resource, sys; cap = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (cap, cap)); os.execvp(sys.argv[2], sys.argv[2:])"
)


def run(cmd, course, memory_bytes, wall_seconds):
    """Run one nbgrader command under the limits; return (ok, message)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CAPPED, str(memory_bytes), *cmd], cwd=course,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: a timeout kills the kernel too
    )
    try:
        out, _ = proc.communicate(timeout=wall_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return False, f"stopped after {wall_seconds} s"
    if proc.returncode != 0:
        tail = "\n".join(out.strip().splitlines()[-5:])
        return False, f"nbgrader exited with {proc.returncode}:\n{tail}"
    return True, "ok"


def submissions(course: Path, assignments):
    root = course / "submitted"
    if not root.is_dir():
        return []
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if not assignments or folder.name in assignments:
                found.append((student.name, folder.name))
    return found


def install_mathjax(course: Path, mathjax: Path) -> str:
    """Copy MathJax into feedback/<student>/mathjax/ of every student; return what went wrong."""
    missing = [name for name in MATHJAX_FILES if not (mathjax / name).is_file()]
    if missing:
        return (f"{mathjax} lacks {', '.join(missing)}: run `npm ci` in the repository "
                "(make autograde does); the feedback pages show raw TeX until then")
    for student in sorted(p for p in (course / "feedback").glob("*") if p.is_dir()):
        target = student / "mathjax"
        target.mkdir(exist_ok=True)
        for name in MATHJAX_FILES:
            shutil.copyfile(mathjax / name, target / Path(name).name)
    return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the course folder")
    parser.add_argument("--memory-gb", type=float, default=3.0,
                        help="address-space cap of each submission's grading (default 3)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell (default: Execute.timeout of the config)")
    parser.add_argument("--submission-timeout", type=int, default=900,
                        help="seconds for one submission in all (default 900)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at the same time, each in its own process")
    parser.add_argument("--no-feedback", action="store_true", help="skip generate_feedback")
    parser.add_argument("--mathjax", type=Path, default=MATHJAX,
                        help="the npm package mathjax 3 that the feedback pages load "
                        "(default: node_modules/mathjax of the repository)")
    args = parser.parse_args(argv)

    course = args.course.resolve()
    todo = submissions(course, set(args.assignments))
    if not todo:
        print(f"no submissions under {course / 'submitted'}/<student>/<assignment>/")
        return 0
    memory = int(args.memory_gb * 2**30)
    extra = [] if args.cell_timeout is None else [f"--Execute.timeout={args.cell_timeout}"]
    def grade(item):
        student, assignment = item
        cmd = ["nbgrader", "autograde", assignment, "--student", student, "--create", "--force"]
        return run(cmd + extra, course, memory, args.submission_timeout)

    failed, graded = [], {}
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for (student, assignment), (ok, msg) in zip(todo, pool.map(grade, todo), strict=True):
            print(f"{student:>20} {assignment:<16} {msg}", flush=True)
            if ok:
                graded.setdefault(assignment, []).append(student)
            else:
                failed.append((student, assignment))
    # Feedback runs no student code (it renders the autograded notebooks): one process per
    # assignment, for the submissions graded above.
    for assignment in [] if args.no_feedback else graded:
        cmd = ["nbgrader", "generate_feedback", assignment, "--force"]
        ok, msg = run(cmd, course, memory, args.submission_timeout)
        print(f"{'(feedback)':>20} {assignment:<16} {msg}", flush=True)
        if not ok:
            failed.append(("feedback", assignment))
    if graded and not args.no_feedback:
        problem = install_mathjax(course, args.mathjax.resolve())
        print(f"{'(feedback)':>20} {'mathjax':<16} {problem or 'ok'}", flush=True)
        if problem:
            failed.append(("feedback", "mathjax"))
    print(f"{len(todo) - len(failed)} of {len(todo)} submissions graded"
          + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
