"""Autograde every submission under submitted/<student>/<assignment>/, each one sealed off.

Submissions are untrusted code. Each one is graded by its own ``nbgrader autograde`` process,
whose kernel runs in a bubblewrap sandbox of its own (grading/sandbox.py: no network, its own
processes, nothing of the course but what it must import, memory, processes, disk, output and
time capped for the whole submission), and whose hidden tests are judged outside that kernel
(grading/checks/). nbgrader itself stays outside, trusted. This script

- refuses to grade when the sandbox cannot start (it says what to install), unless the
  loudly named ``--unsealed-i-trust-every-submission`` is given;
- hands nbgrader a clean copy of each submission: the notebook alone, a regular file of at
  most 20 MB (no other file, no symlink of the student's reaches the gradebook or feedback);
- writes each nbgrader's output into a size-capped log file, never a pipe;
- kills whatever a submission left behind (its cgroups) and stops it after
  ``--submission-timeout`` seconds;
- generates the feedback and keeps only its HTML pages (plus MathJax, copied from
  ``node_modules/`` into ``feedback/<student>/mathjax/``: the pages typeset their math offline);
- writes ``feedback/class-report.html`` (grading/report.py): per part, the share of students
  with full points and the failed properties the hidden tests named most often.

Usage, from anywhere (nbgrader must be on PATH, as in ``make autograde``)::

    python classroom/autograde.py [ASSIGNMENT ...] [--memory-gb 3] [--cell-timeout 60] [--jobs 1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

COURSE = Path(__file__).resolve().parent
sys.path.insert(0, str(COURSE))
from grading import report, sandbox  # noqa: E402

# MathJax 3 from npm (package.json); templates/feedback/mathjax.html.j2 loads this one file.
MATHJAX = COURSE.parent / "node_modules" / "mathjax"
MATHJAX_FILES = ("es5/tex-svg-full.js", "LICENSE")
MAX_NOTEBOOK = 20 * 2**20   # bytes of a submitted notebook
GRADER_MEMORY = 3 * 2**30 // 2  # address space of the trusted nbgrader process (1.5 GB)
UNSEALED = "--unsealed-i-trust-every-submission"

# Runs first in the child: caps the trusted process's address space (soft limit: the sealed
# kernel sets its own, grading/sandbox.py), then becomes the nbgrader command. Its log goes to
# a file; the kernel's own stdout and stderr go to a capped file inside the sandbox's folder.
_CAPPED = (
    "import os, resource, sys; mem = int(sys.argv[1]); "
    "hard = resource.getrlimit(resource.RLIMIT_AS)[1]; "
    "resource.setrlimit(resource.RLIMIT_AS, (mem, hard)); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)


def _tail(path: Path, lines=5) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4000))
        return "\n".join(fh.read().decode("utf-8", "replace").strip().splitlines()[-lines:])


def cleanup(prefix: str):
    """Kill and remove whatever sandbox of this run is left (its cgroups and run folders)."""
    roots = [sandbox.CGROUP_ROOT, *(sandbox.CGROUP_ROOT / c for c in ("memory", "pids"))]
    for root in roots:
        for group in root.glob(f"{prefix}*") if root.is_dir() else []:
            for _ in range(100):
                pids = (group / "cgroup.procs").read_text().split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
            try:
                group.rmdir()
            except OSError:
                pass
    for base in (Path("/dev/shm"), Path(tempfile.gettempdir())):
        for path in base.glob(f"{prefix}*"):
            shutil.rmtree(path, ignore_errors=True)


def run(cmd, course, env, log: Path, wall_seconds, prefix):
    """Run one nbgrader command under the limits; return (ok, message)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CAPPED, str(GRADER_MEMORY), *cmd],
            cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a timeout kills it all
        )
        try:
            proc.wait(timeout=wall_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            cleanup(prefix)
            return False, f"stopped after {wall_seconds} s"
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything of its group still there
    except ProcessLookupError:
        pass
    cleanup(prefix)
    if proc.returncode != 0:
        return False, f"nbgrader exited with {proc.returncode}:\n{_tail(log)}"
    return True, "ok"


def submissions(course: Path, assignments):
    root = course / "submitted"
    if not root.is_dir():
        return []
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and not p.is_symlink()):
            if not assignments or folder.name in assignments:
                found.append((student.name, folder.name))
    return found


def stage(course: Path, staging: Path, student: str, assignment: str) -> str:
    """Copy the submitted notebook alone into the staging folder; '' or what is wrong."""
    src = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target = staging / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return f"no regular file {assignment}.ipynb in the submission"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"{assignment}.ipynb is not a regular file"
        data = fh.read(MAX_NOTEBOOK + 1)
    if len(data) > MAX_NOTEBOOK:
        return f"{assignment}.ipynb is larger than {MAX_NOTEBOOK // 2**20} MB"
    (target / f"{assignment}.ipynb").write_bytes(data)
    return ""


def clean_feedback(course: Path, students_assignments):
    """Keep only the rendered pages: delete any other file, folder or symlink."""
    for student, assignment in students_assignments:
        folder = course / "feedback" / student / assignment
        if folder.is_symlink():
            folder.unlink()
            continue
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name == f"{assignment}.html" and path.is_file() and not path.is_symlink():
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def install_mathjax(course: Path, mathjax: Path) -> str:
    """Copy MathJax into feedback/<student>/mathjax/ of every student; return what went wrong."""
    missing = [name for name in MATHJAX_FILES if not (mathjax / name).is_file()]
    if missing:
        return (f"{mathjax} lacks {', '.join(missing)}: run `npm ci` in the repository "
                "(make autograde does); the feedback pages show raw TeX until then")
    for student in sorted(p for p in (course / "feedback").glob("*")
                          if p.is_dir() and not p.is_symlink()):
        target = student / "mathjax"
        if target.is_symlink():
            target.unlink()
        target.mkdir(exist_ok=True)
        for name in MATHJAX_FILES:
            shutil.copyfile(mathjax / name, target / Path(name).name)
    return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the course folder")
    parser.add_argument("--memory-gb", type=float, default=3.0,
                        help="memory of each submission, all its processes (default 3)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell (default: Execute.timeout of the config)")
    parser.add_argument("--submission-timeout", type=int, default=900,
                        help="seconds for one submission in all (default 900)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at the same time, each in its own sandbox")
    parser.add_argument("--no-feedback", action="store_true", help="skip generate_feedback")
    parser.add_argument("--mathjax", type=Path, default=MATHJAX,
                        help="the npm package mathjax 3 that the feedback pages load "
                        "(default: node_modules/mathjax of the repository)")
    parser.add_argument(UNSEALED, action="store_true", dest="unsealed",
                        help="run student code WITHOUT the sandbox, with your rights (never "
                        "for student work: only to compare, e.g. in the attack suite)")
    args = parser.parse_args(argv)

    course = args.course.resolve()
    problem = sandbox.problem()
    if problem and not args.unsealed:
        print(f"cannot grade: the sandbox cannot start: {problem}.\nNo submission was run. "
              f"(To run student code unsealed, with your rights, pass {UNSEALED}.)")
        return 2
    if args.unsealed:
        print("WARNING: grading UNSEALED: every submission runs with your rights, "
              "sees your files and the network.", flush=True)
    todo = submissions(course, set(args.assignments))
    if not todo:
        print(f"no submissions under {course / 'submitted'}/<student>/<assignment>/")
        return 0
    venv = os.environ.get("CONVGRADE_VENV", str(COURSE.parent / ".venv-grader"))
    if not (Path(venv) / "bin" / "python").exists():
        print(f"cannot grade: no grading environment at {venv} (make instructor creates it)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="convgrade-run-"))
    staging = work / "submitted"
    extra = [f"--CourseDirectory.submitted_directory={staging}",
             f"--SealedExecute.memory_bytes={int(args.memory_gb * 2**30)}"]
    if args.cell_timeout is not None:
        extra.append(f"--Execute.timeout={args.cell_timeout}")
    if args.unsealed:
        extra.append("--SealedExecute.unsealed=True")

    def grade(item):
        student, assignment = item
        wrong = stage(course, staging, student, assignment)
        if wrong:
            return False, wrong
        prefix = f"convgrade-{uuid.uuid4().hex[:8]}-"
        env = {**os.environ, "CONVGRADE_VENV": venv, "CONVGRADE_PREFIX": prefix}
        cmd = ["nbgrader", "autograde", assignment, "--student", student, "--create", "--force"]
        log = work / f"{student}-{assignment}.log"
        return run(cmd + extra, course, env, log, args.submission_timeout, prefix)

    failed, graded = [], {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for (student, assignment), (ok, msg) in zip(todo, pool.map(grade, todo),
                                                        strict=True):
                print(f"{student:>20} {assignment:<16} {msg}", flush=True)
                if ok:
                    graded.setdefault(assignment, []).append(student)
                else:
                    failed.append((student, assignment))
        # Feedback runs no student code (it renders the sanitised, autograded notebooks).
        for assignment in [] if args.no_feedback else graded:
            cmd = ["nbgrader", "generate_feedback", assignment, "--force",
                   f"--CourseDirectory.submitted_directory={staging}"]
            log = work / f"feedback-{assignment}.log"
            ok, msg = run(cmd, course, dict(os.environ), log, args.submission_timeout,
                          "convgrade-none-")
            print(f"{'(feedback)':>20} {assignment:<16} {msg}", flush=True)
            if not ok:
                failed.append(("feedback", assignment))
        clean_feedback(course, [(s, a) for a, ss in graded.items() for s in ss])
        if graded and not args.no_feedback:
            problem = install_mathjax(course, args.mathjax.resolve())
            print(f"{'(feedback)':>20} {'mathjax':<16} {problem or 'ok'}", flush=True)
            if problem:
                failed.append(("feedback", "mathjax"))
        written = report.write(course, sorted(graded))
        if written:
            print(f"{'(class report)':>20} {written.relative_to(course)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(todo) - len(failed)} of {len(todo)} submissions graded"
          + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
