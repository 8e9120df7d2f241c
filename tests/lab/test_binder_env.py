"""Binder's environment runs every chapter: build a fresh virtual environment from exactly
the files under binder/ (``pip install -r binder/requirements.txt``, from a copy of the
repository), then run the chapters under strict nbval with that environment's kernel.

Slow (a few minutes: the packages come from the registry or pip's cache). Time-bounded:
BINDER_INSTALL_TIMEOUT and BINDER_NBVAL_TIMEOUT (seconds; defaults 1200 and 1800).
The one line naming PyTorch's CPU index (for the real Binder) is left out here: nothing is
fetched from outside the package registries, and ``torch==2.13.0`` takes the local CPU wheel.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = float(os.environ.get("BINDER_INSTALL_TIMEOUT", 1200))
NBVAL_TIMEOUT = float(os.environ.get("BINDER_NBVAL_TIMEOUT", 1800))
# what repo2docker sees of the repository: the package, the binder files, the notebooks and
# what they read (the stored benchmark results of chapter 6)
COPY = ["pyproject.toml", "README.md", "convlib", "binder", "chapters", "benchmarks/results",
        "tests/nbval_sanitize.cfg"]


def run(cmd, cwd, env, timeout, what):
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True,
                              text=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout:.0f} s")
    return proc


def base_python() -> str:
    """The interpreter the course's .venv was made from (a venv inside a venv would do,
    but this is what a student's machine or Binder starts from)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def test_binder_requirements_run_every_chapter(tmp_path):
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-3."), runtime
    repo = tmp_path / "repo"
    for rel in COPY:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, repo / rel, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints", "*.egg-info", "_build"))
        elif src.exists():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND", "JUPYTER_PATH")}
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "jupyter-data")  # no user kernelspecs
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "jupyter-config")
    venv = tmp_path / "venv"
    proc = run([base_python(), "-m", "venv", str(venv)], tmp_path, env, 300, "python -m venv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    py = venv / "bin" / "python"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)

    # binder/requirements.txt as repo2docker runs it (from the repository root), less the
    # one line that names PyTorch's CPU index: nothing is fetched here from outside the
    # package registries, and the same torch release comes from the machine's CPU wheel
    lines = (repo / "binder" / "requirements.txt").read_text().splitlines()
    external = [line for line in lines if line.startswith("--extra-index-url")]
    assert external == ["--extra-index-url https://download.pytorch.org/whl/cpu"], external
    local = repo / "binder" / "requirements-closed-network.txt"
    local.write_text("\n".join(line for line in lines if line not in external) + "\n")
    proc = run([str(py), "-m", "pip", "install", "--quiet", "--retries", "0",
                "-r", str(local.relative_to(repo))], repo, env, INSTALL_TIMEOUT,
               "pip install -r binder/requirements.txt")
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout[-2000:]}\n" \
                                 f"{proc.stderr[-4000:]}"
    proc = run([str(py), "-c", "import convlib, jupyterlab, jupyterlab_myst; "
                "print(convlib.__file__)"], repo, env, 120, "import check")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()).is_relative_to(repo), proc.stdout

    # the test harness only (not part of the students' environment)
    proc = run([str(py), "-m", "pip", "install", "--quiet", "--retries", "0", "pytest>=8",
                "nbval>=0.11"], repo, env, INSTALL_TIMEOUT, "pip install pytest nbval")
    assert proc.returncode == 0, proc.stderr[-3000:]

    chapters = sorted(p.name for p in (repo / "chapters").glob("*.ipynb"))
    assert chapters, "no chapter notebook copied"
    proc = run([str(py), "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
                "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
                "--nbval-cell-timeout=600", *[f"chapters/{c}" for c in chapters]],
               repo, env, NBVAL_TIMEOUT, "nbval on the chapters in the Binder environment")
    assert proc.returncode == 0, (
        "chapters fail under nbval in the Binder environment:\n" + proc.stdout[-6000:]
        + proc.stderr[-2000:]
    )
