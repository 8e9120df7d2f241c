"""The sandbox a submission's kernel runs in: bubblewrap, plus limits for the whole submission.

One sandbox per submission (`Sandbox`). Inside it the kernel

- has no network at all (its own network namespace: not even the host's loopback) and talks
  to nbgrader over Unix sockets (jupyter_client's ``ipc`` transport) in its run folder;
- has its own PID namespace: whatever it starts dies with it (``--die-with-parent``; when the
  sandbox's first process ends, the kernel kills every process left in the namespace);
- sees the system and the grading environment read-only (``/usr``, the Python it runs on, the
  grading venv, the kit of `kit/`), an empty size-capped ``/submission`` as its only writable
  folder (also ``/tmp``, both in memory) and nothing else: no course folder, no gradebook, no
  other student, no home folder, no host environment variable (``--clearenv``);
- runs as an unprivileged user (uid 65534) with every capability dropped and a new session
  (no terminal to inject into).

Limits for the whole submission: as root, a memory cgroup (all its processes together, the
in-memory folders included) and a pids cgroup (process count); for every process an
address-space cap (so one huge allocation fails with MemoryError in that cell), a file-size
cap and no core dumps. The wall time and the output bytes are capped by `sealed`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = ("install bubblewrap: `apt-get install -y bubblewrap` (Debian/Ubuntu, as root; "
                "`make autograde` does it when run as root), `dnf install bubblewrap` "
                "(Fedora), or your distribution's package")
CGROUP_ROOT = Path("/sys/fs/cgroup")
NOBODY = 65534


@dataclass
class Limits:
    """What one submission may use, all its processes together where the machine allows."""

    memory: int = 3 * 2**30        # bytes, all processes (cgroup); the same per process (AS)
    processes: int = 64            # pids in the sandbox at once
    disk: int = 64 * 2**20         # bytes of /submission and of /tmp (in memory, each)
    file_size: int = 64 * 2**20    # bytes, any one file it writes
    output: int = 2 * 2**20        # bytes of cell output kept, whole notebook (see sealed.py)


def bwrap() -> str | None:
    return shutil.which("bwrap")


def problem() -> str:
    """Why a sealed kernel cannot start here ('' if it can): tried, not guessed."""
    path = bwrap()
    if path is None:
        return f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}"
    probe = subprocess.run(
        [path, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-all",
         "--die-with-parent", "--uid", str(NOBODY), "--gid", str(NOBODY), "true"],
        capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return ("bubblewrap is installed but cannot create its namespaces here "
                f"({probe.stderr.strip() or probe.returncode}); run as root or enable "
                "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")
    return ""


def _python_roots(venv: Path) -> list[Path]:
    """The Python the grading venv runs on, when it lives outside /usr (pyenv, conda, ...)."""
    home = None
    cfg = venv / "pyvenv.cfg"
    for line in cfg.read_text().splitlines() if cfg.exists() else []:
        key, _, value = line.partition("=")
        if key.strip() == "home":
            home = Path(value.strip())
    prefixes = {home.parent} if home else set()
    prefixes |= {Path(sys.base_prefix)}
    roots = set()
    for prefix in prefixes:
        for p in (prefix, Path(os.path.realpath(prefix))):
            if p.is_dir() and not str(p).startswith("/usr"):
                roots.add(p)
    return sorted(roots)


@dataclass
class Sandbox:
    """The sealed kernel of one submission: its run folder, cgroups and bwrap command."""

    venv: Path                      # the grading environment (python, numpy, ipykernel)
    kit: Path                       # read-only /grading/lib inside (convgrade, a convlib)
    limits: Limits = field(default_factory=Limits)
    env: dict = field(default_factory=dict)   # the only environment variables inside
    name: str = field(default_factory=lambda: os.environ.get("CONVGRADE_PREFIX", "convgrade-")
                      + uuid.uuid4().hex[:12])

    def __post_init__(self):
        # The run folder holds the connection file and the kernel's sockets. It is in memory
        # (/dev/shm), so what the kernel writes there counts against its memory cgroup.
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
        self.run = base / self.name
        self.run.mkdir(mode=0o700)
        # As root, the run folder is a tmpfs of its own, small in bytes and in files: the
        # kernel must write its sockets there, and nothing more.
        self.mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m,nr_inodes=1024,mode=700", "tmpfs",
             str(self.run)], capture_output=True).returncode == 0
        self.cgroups = self._make_cgroups()

    # --- cgroups (root only; cgroup v1 or v2) ----------------------------------------------
    def _make_cgroups(self) -> list[Path]:
        if os.geteuid() != 0:
            return []
        made = []
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():  # v2
                group = CGROUP_ROOT / self.name
                group.mkdir()
                made.append(group)
                (group / "memory.max").write_text(str(self.limits.memory))
                (group / "memory.swap.max").write_text("0")
                (group / "pids.max").write_text(str(self.limits.processes))
            else:  # v1
                for ctl, key, value in (("memory", "memory.limit_in_bytes", self.limits.memory),
                                        ("pids", "pids.max", self.limits.processes)):
                    group = CGROUP_ROOT / ctl / self.name
                    group.mkdir()
                    made.append(group)
                    (group / key).write_text(str(value))
        except OSError:
            for group in reversed(made):
                group.rmdir()
            return []
        return made

    @property
    def whole_submission_limits(self) -> bool:
        """True when memory and process count are capped for all processes together."""
        return bool(self.cgroups)

    def argv(self, command: list[str]) -> list[str]:
        """The kernel command: enter the cgroups, set the rlimits, then bwrap."""
        lim = self.limits
        enter = " ".join(f'echo $$ > "{g}/cgroup.procs" &&' for g in self.cgroups)
        shell = (f"{enter} ulimit -v {lim.memory // 1024} && ulimit -f {lim.file_size // 512}"
                 f" && ulimit -c 0 && exec \"$@\" >\"{self.run}/kernel.log\" 2>&1")
        binds = ["--ro-bind", "/usr", "/usr"]
        for link in ("bin", "lib", "lib64", "sbin"):
            target = os.readlink(f"/{link}") if os.path.islink(f"/{link}") else None
            if target:
                binds += ["--symlink", target, f"/{link}"]
            elif os.path.isdir(f"/{link}"):
                binds += ["--ro-bind", f"/{link}", f"/{link}"]
        for etc in ("ld.so.cache", "localtime", "nsswitch.conf"):
            if os.path.exists(f"/etc/{etc}"):
                binds += ["--ro-bind", f"/etc/{etc}", f"/etc/{etc}"]
        venv = Path(self.venv).absolute()
        for root in _python_roots(venv):
            binds += ["--ro-bind", str(root), str(root)]
            # the base Python's own installed packages stay hidden (the venv has its own)
            for packages in sorted(root.glob("lib/python3*/site-packages")):
                binds += ["--tmpfs", str(packages)]
        binds += ["--ro-bind", str(venv), str(venv), "--ro-bind", str(self.kit), "/grading/lib"]
        env = {"HOME": "/submission", "PATH": f"{venv}/bin:/usr/bin:/bin",
               "PYTHONPATH": "/grading/lib", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "LANG": "C.UTF-8", **self.env}
        sealed = [
            # /tmp first: a bind below it (a course or venv under /tmp) made before the tmpfs
            # would be hidden by it
            bwrap() or "bwrap", "--size", str(self.limits.disk), "--tmpfs", "/tmp", *binds,
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(self.limits.disk), "--tmpfs", "/submission",
            "--bind", str(self.run), str(self.run),
            "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "grader",
            "--clearenv", *[a for k, v in env.items() for a in ("--setenv", k, str(v))],
            "--chdir", "/submission", *command,
        ]
        return ["/bin/sh", "-c", shell, "sh", *sealed]

    def kernel_argv(self) -> list[str]:
        python = str(Path(self.venv).absolute() / "bin" / "python")
        return self.argv([python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                          "--HistoryManager.hist_file=:memory:"])

    def peak_memory(self) -> int | None:
        for group in self.cgroups:
            for key in ("memory.max_usage_in_bytes", "memory.peak"):
                if (group / key).exists():
                    return int((group / key).read_text())
        return None

    def close(self):
        """Kill whatever is left and remove the run folder and the cgroups."""
        for group in self.cgroups:
            procs = group / "cgroup.procs"
            for _ in range(50):
                pids = [int(p) for p in procs.read_text().split()] if procs.exists() else []
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
        for group in reversed(self.cgroups):
            try:
                group.rmdir()
            except OSError:
                pass
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.run)], capture_output=True)
        shutil.rmtree(self.run, ignore_errors=True)
