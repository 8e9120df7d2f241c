"""The students' path without make (README, "Running the notebooks"), Unix form, from a fresh
virtual environment: the README's own commands, run by ``sh`` in a copy of the course,

1. ``python3 -m venv .venv-lab``;
2. ``.venv-lab/bin/python -m pip install -e ".[lab]"`` (the package registry only: pip's
   configured index, no other URL);
3. ``.venv-lab/bin/jupyter lab chapters``, started headless (``--no-browser``, a port and a
   token added; the command is otherwise the README's): the server lists every chapter and
   its kernel is the new environment's Python.

Then a chapter runs in that environment (``jupyter nbconvert --execute``) and every module
the chapters import, PyTorch aside (a separate, optional command), imports there.

Slow (a minute or two with pip's cache). STUDENT_INSTALL_TIMEOUT (seconds, default 900).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = float(os.environ.get("STUDENT_INSTALL_TIMEOUT", 900))
COPY = ["pyproject.toml", "README.md", "convlib", "chapters"]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from pagecheck import free_port  # noqa: E402


def readme_commands(shell: str) -> list[str]:
    """The commands of the README's student block for ``shell`` ("unix" or "windows")."""
    text = (ROOT / "README.md").read_text(encoding="utf8")
    block = re.search(rf"<!-- student-path: {shell} -->\s*```\w*\n(.*?)```", text, re.S)
    assert block, f"README.md has no student-path block for {shell}"
    return [line.split(" #")[0].strip() for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_readme_gives_both_shells():
    unix, windows = readme_commands("unix"), readme_commands("windows")
    assert len(unix) == 3 and len(windows) == 3, (unix, windows)
    for cmds in (unix, windows):
        assert "venv" in cmds[0] and 'pip install -e ".[lab]"' in cmds[1]
        assert cmds[2].endswith("jupyter lab chapters")
        assert not any("make" in c.split() for c in cmds)
    assert "\\Scripts\\" in windows[1] and "/bin/" in unix[1]


def sh(cmd, cwd, env, timeout, what):
    try:
        return subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env, timeout=timeout,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout:.0f} s: {cmd}")


def test_unix_student_path_from_a_fresh_venv(tmp_path):
    venv_cmd, pip_cmd, lab_cmd = readme_commands("unix")
    repo = tmp_path / "course"
    for rel in COPY:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, repo / rel, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints", "*.egg-info", "_build"))
        else:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND", "JUPYTER_PATH")}
    base = Path(getattr(sys, "_base_executable", None) or sys.executable).parent
    env["PATH"] = f"{base}{os.pathsep}{env.get('PATH', '')}"  # python3 = a plain Python
    for key, sub in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_CONFIG_DIR", "config"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[key] = str(tmp_path / "jupyter" / sub)  # no user kernelspecs or settings
    env["PIP_RETRIES"] = "0"

    started = time.monotonic()
    proc = sh(venv_cmd, repo, env, 300, "the venv command")
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = sh(pip_cmd, repo, env, INSTALL_TIMEOUT, "the pip command")
    assert proc.returncode == 0, f"{pip_cmd} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    install_s = time.monotonic() - started
    bin_ = repo / ".venv-lab" / "bin"

    imports = "import convlib, matplotlib, ipywidgets, scipy, sklearn, tqdm, jupyterlab_myst"
    proc = sh(f'{bin_}/python -c "{imports}; print(convlib.__file__)"', repo, env, 120,
              "imports")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()).is_relative_to(repo), proc.stdout

    # the README's third command, headless
    port, token = free_port(), "student-path-test"
    lab = subprocess.Popen(
        ["sh", "-c", f"exec {lab_cmd} --no-browser --ip=127.0.0.1 --port={port} "
         f"--ServerApp.port_retries=0 --IdentityProvider.token={token} "
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"
         + (" --allow-root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "")],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/?token={token}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    listing = json.load(r)
                break
            except OSError:
                if lab.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"`{lab_cmd}` did not serve: {lab.stderr.read()[-3000:]}")
                time.sleep(0.5)
        names = {item["name"] for item in listing["content"]}
        chapters = {p.name for p in (repo / "chapters").glob("*.ipynb")}
        assert chapters <= names, f"jupyter lab chapters lists {names}"
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=10) as r:
            specs = json.load(r)["kernelspecs"]
        argv0 = specs["python3"]["spec"]["argv"][0]
        assert argv0.startswith(str(repo / ".venv-lab")) or argv0 == "python", argv0
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()

    # a chapter runs in the students' environment
    out = tmp_path / "executed.ipynb"
    proc = sh(f"{bin_}/jupyter nbconvert --to notebook --execute "
              "--ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=python3 "
              f"chapters/02_output_error.ipynb --output {out}", repo, env, 600, "a chapter")
    assert proc.returncode == 0, proc.stderr[-4000:]
    print(f"student path: venv + pip install in {install_s:.0f} s")
