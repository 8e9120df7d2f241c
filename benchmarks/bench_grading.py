"""How fast the sealed autograding grades: submissions per minute, sealed and unsealed.

A batch of N copies of assignment 1's reference solution (default 40) is autograded by
classroom/autograde.py (as `make autograde` runs it, feedback excluded) on a temporary copy of
the course, four times in one run: sealed and unsealed, with --jobs 1 and --jobs 2. The
wall-clock times and rates go to benchmarks/results/bench_grading.json; the ratios are
computed from that one run. Needs `make instructor` and bubblewrap (`make sandbox`).

    .venv-instructor/bin/python benchmarks/bench_grading.py [--n 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IBIN = ROOT / ".venv-instructor" / "bin"
A = "a1_forward"
sys.path.insert(0, str(ROOT / "tests" / "classroom"))
from test_classroom import _fill, _generated  # noqa: E402


def _env():
    return {**os.environ, "PATH": f"{IBIN}{os.pathsep}{os.environ['PATH']}",
            "CONVGRADE_VENV": str(ROOT / ".venv-grader")}


def batch(tmp: Path, n: int) -> Path:
    course = tmp / "classroom"
    shutil.copytree(ROOT / "classroom", course, ignore=_generated)
    subprocess.run([IBIN / "nbgrader", "generate_assignment", A, "--force"], cwd=course,
                   env=_env(), check=True, capture_output=True)
    nb = _fill(course / "release" / A / f"{A}.ipynb", course / "source" / A / f"{A}.ipynb")
    for k in range(n):
        folder = course / "submitted" / f"student{k:03d}" / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_text(json.dumps(nb))
    return course


def grade(course: Path, jobs: int, sealed: bool) -> float:
    for generated in ("autograded", "feedback", "gradebook.db"):
        path = course / generated
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    subprocess.run([IBIN / "nbgrader", "db", "assignment", "add", A], cwd=course, env=_env(),
                   capture_output=True)
    subprocess.run([IBIN / "nbgrader", "generate_assignment", A, "--force"], cwd=course,
                   env=_env(), check=True, capture_output=True)
    flags = [] if sealed else ["--unsealed-i-trust-every-submission"]
    start = time.perf_counter()
    proc = subprocess.run([IBIN / "python", course / "autograde.py", "--course", course,
                           "--jobs", str(jobs), "--no-feedback", *flags], cwd=course,
                          env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"autograde failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="submissions in the batch")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                        "bench_grading.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        course = batch(Path(tmp), args.n)
        runs = {}
        for sealed in (False, True):
            for jobs in (1, 2):
                key = f"{'sealed' if sealed else 'unsealed'}, --jobs {jobs}"
                seconds = grade(course, jobs, sealed)
                runs[key] = {"seconds": seconds, "per_minute": 60 * args.n / seconds}
                print(f"{key:<20} {seconds:7.1f} s  {60 * args.n / seconds:6.1f} per minute",
                      flush=True)
    rate = {k: v["per_minute"] for k, v in runs.items()}
    report = {
        "n": args.n, "cores": os.cpu_count(), "machine": platform.machine(),
        "load_at_start": os.getloadavg()[0], "runs": runs,
        "sandbox_cost_jobs1": 1 - rate["sealed, --jobs 1"] / rate["unsealed, --jobs 1"],
        "sandbox_cost_jobs2": 1 - rate["sealed, --jobs 2"] / rate["unsealed, --jobs 2"],
        "speedup_jobs2_sealed": rate["sealed, --jobs 2"] / rate["sealed, --jobs 1"],
        "class_of_300_minutes_jobs2": 300 / rate["sealed, --jobs 2"],
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
