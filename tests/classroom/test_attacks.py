"""The attack suite of the sealed grading (issue 14), through the instructor's interface.

(Each payload prints its marker as two words, ``print("ATTACK-OK", name)``, so that the
marker ``ATTACK-OK name`` can only appear in a page as output, never in the shown source.)

On temporary copies of ``classroom/`` (``nbgrader generate_assignment``, submissions under
``submitted/``, ``classroom/autograde.py`` as ``make autograde`` runs it), a batch of a1
submissions: the reference solution, the blank release, and one submission per attack, each
the blank release with the attack in its first solution cell (the attacker knows every path of
the course: they are written into the payloads). The same batch is graded twice:

- **unsealed** (``--unsealed-i-trust-every-submission``, student code with the grader's
  rights): each attack is shown to do what it claims (it reads the sources and scores, writes
  other students' files, leaves a process behind, prints the canaries, ...), so the suite
  can fail;
- **sealed** (the default): every attacker scores at most what the blank release scores, the
  reference keeps full marks, nothing outside the submissions' copies changes (hashes of the
  course, its gradebook rows of other students, the stand-in for the library), no process
  survives the batch, the grader's largest process stays under 1.5 GB, and the feedback holds
  no dropped file, symlink, canary, hidden-test line or student script.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_classroom import (  # noqa: E402
    IBIN,
    MATHJAX,
    ROOT,
    SCORES,
    _fill,
    _generated,
    _load,
    _text,
)

pytestmark = pytest.mark.slow

A = "a1_forward"
TOKEN = f"canary-{uuid.uuid4().hex}"       # in a file of the course and in the environment
SURVIVOR = "3141.5926"                     # `sleep` argument of the double-forked process
FIRST = "def layer_padding(h_in, f, s, d, h_out):"

# name: payload (Python run in the first solution cell; {course}, {token}, {lib} filled in)
ATTACKS = {
    "read-source": """
import json
nb = json.load(open("{course}/source/a1_forward/a1_forward.ipynb"))
stolen = "\\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
                    and c["metadata"].get("nbgrader", {{}}).get("solution"))
exec(stolen, globals())
# after every cell, again: the release's stubs below would replace the stolen functions
get_ipython().events.register("post_run_cell", lambda *a: exec(stolen, globals()))
print("ATTACK-OK", "read-source")
""",
    "read-gradebook": """
import sqlite3
db = sqlite3.connect("{course}/gradebook.db")
rows = db.execute("select source from source_cell").fetchall()
print("ATTACK-OK", "read-gradebook", len(rows))
""",
    "override-numpy": """
import builtins\nimport numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
builtins.abs = lambda x: 0
_expect_array = _close = lambda *a, **k: True
def layer_padding(h_in, f, s, d, h_out): return ((0, 0), (0, 0))
print("ATTACK-OK", "override-numpy")
""",
    "int-equals-all": """
class Any(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__
def layer_padding(h_in, f, s, d, h_out): return ((Any(0), Any(0)), (Any(0), Any(0)))
def read_counts(h_in, f, s, d, h_out, top): return [Any(0)] * h_in
print("ATTACK-OK", "int-equals-all")
""",
    "convlib-delegation": """
import importlib, gc
import convlib
keep = convlib.conv_forward
def conv_forward_loops(q, W, b, s, d, pads, _f=convlib.pad):  # the notes' layout, dilated
    (t, bo), (l, r) = pads
    return keep(q, convlib.dilate(W, d[0]).swapaxes(0, 1), b, s[0], padding=(t, bo, l, r))
importlib.reload(convlib)
print("ATTACK-OK", "convlib-delegation")
""",
    "tamper-others": """
import sqlite3, glob
db = sqlite3.connect("{course}/gradebook.db")
db.execute("update grade set auto_score = 0")
db.execute("update source_cell set source = 'print(1)'")
db.commit()
for path in glob.glob("{course}/submitted/*/a1_forward/*.ipynb"):
    open(path, "a").write(" ")
open("{lib}", "a").write("\\nraise SystemExit('tampered')\\n")
print("ATTACK-OK", "tamper-others")
""",
    "survivor": """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "{survivor}"])
    os._exit(0)
time.sleep(0.5)
print("ATTACK-OK", "survivor")
""",
    "flood": """
import os
chunk = b"x" * (1 << 20)
for _ in range(400):
    os.write(1, chunk)
for _ in range(200):
    print("y" * 100000)
print("ATTACK-OK", "flood")
""",
    "large-file": """
with open("big.bin", "wb") as fh:
    for _ in range(300):
        fh.write(b"z" * (1 << 20))
print("ATTACK-OK", "large-file")
""",
    "drop-files": """
import os, shutil
shutil.copy("{course}/gradebook.db", "gradebook.db")
os.symlink("{course}/canary.txt", "secret-link")
open("note.txt", "w").write("dropped")
print("ATTACK-OK", "drop-files", os.path.exists("gradebook.db"))
""",
    "print-secrets": """
import os
print(dict(os.environ).get("CANARY_ENV"), open("{course}/canary.txt").read())
print("ATTACK-OK", "print-secrets")
""",
    "script-output": """
from IPython.display import HTML, display
display(HTML("<script>document.title='pwned'</script><img src=x onerror=\\"alert(1)\\">"))
print("ATTACK-OK", "script-output")
""",
    "comm-flood": """
from ipykernel.comm import Comm
blob = "A" * (40 << 20)
for i in range(12):
    Comm(target_name="jupyter.widget", data={{"state": {{"_model_name": "X",
         "_model_module": "x", "_model_module_version": "1", f"big{{i}}": blob}},
         "buffer_paths": []}})
print("ATTACK-OK", "comm-flood")
""",
    "memory-children": """
import os, time
children = []
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        block = bytearray(200 << 20)  # 200 MB each, touched: 4 GB together
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(3)
        os._exit(0)
    children.append(pid)
alive = sum(os.waitpid(pid, 0)[1] == 0 for pid in children)
print(*(("ATTACK-OK", "memory-children") if alive == 20 else ("memory-children:", alive)))
""",
    "fill-run-folder": """
import os
run = [line.split()[4] for line in open("/proc/self/mountinfo") if "/dev/shm/" in line]
written = 0
for folder in run:
    try:
        for i in range(8):
            with open(f"{{folder}}/fill{{i}}", "wb") as fh:
                fh.write(b"\\0" * (40 << 20))
            written += 40
    except OSError:
        pass
print("ATTACK-OK", "fill-run-folder", written)
""",
}

# Markdown of a written answer (the first answer cell): script links of every kind
MARKDOWN_ATTACK = (
    "$\\href{javascript:document.title='pwned'}{\\text{CLICK}}$\n\n[ref link][r1]\n\n"
    "[r1]: javascript:document.title='pwned'\n\n[entity](java&#115;cript:alert('pwned'))\n\n"
    "![pixel](http://example.invalid/pixel.png)\n\n<img src=x onerror=\"alert('pwned')\">\n"
)


def _env(token):
    env = dict(os.environ)
    env["PATH"] = f"{IBIN}{os.pathsep}{env.get('PATH', '')}"
    env["CONVGRADE_VENV"] = str(ROOT / ".venv-grader")
    env["CANARY_ENV"] = token
    env.pop("MPLBACKEND", None)
    return env


def _course(tmp, token):
    course = tmp / "classroom"
    shutil.copytree(ROOT / "classroom", course, ignore=_generated)
    (course / "canary.txt").write_text(token)
    lib = tmp / "library" / "__init__.py"  # stands in for convlib's installed files
    lib.parent.mkdir()
    lib.write_text("# the library\n")
    subprocess.run([IBIN / "nbgrader", "generate_assignment", A, "--force"], cwd=course,
                   env=_env(token), check=True, capture_output=True)
    src, rel = course / "source" / A / f"{A}.ipynb", course / "release" / A / f"{A}.ipynb"
    subs = {"reference": _fill(rel, src), "blank": _load(rel)}
    for name, payload in ATTACKS.items():
        nb = _load(rel)
        cell = next(c for c in nb["cells"] if FIRST in _text(c))
        cell["source"] = payload.format(course=course, token=token, lib=lib, survivor=SURVIVOR)
        subs[name] = nb
    nb = _load(rel)
    answer = next(c for c in nb["cells"] if c["cell_type"] == "markdown"
                  and c["metadata"].get("nbgrader", {}).get("solution"))
    answer["source"] = MARKDOWN_ATTACK
    subs["markdown-links"] = nb
    for name, nb in subs.items():
        folder = course / "submitted" / name / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_text(json.dumps(nb))
    (course / "submitted" / "drop-files" / A / "extra.txt").write_text("extra")
    os.symlink(course / "canary.txt", course / "submitted" / "drop-files" / A / "link.txt")
    return course, lib


def _hashes(root: Path, skip=()):
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip or path.is_symlink() or not path.is_file():
            continue
        out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _survivors():
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if SURVIVOR in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def _scores(course):
    """{student: autograded points of a1} from the gradebook (nbgrader's own API)."""
    out = subprocess.run([IBIN / "python", "-c", SCORES], cwd=course, capture_output=True,
                         text=True, check=True).stdout
    return {student: sum(score for gid, (score, _) in per.get(A, {}).items()
                         if gid.endswith("-tests"))
            for student, per in json.loads(out).items()}


def _grade(course, token, *flags):
    """Run autograde.py; (process, largest RSS of its descendants in bytes, wall seconds)."""
    probe = (
        "import resource, subprocess, sys, json; "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024; "
        "print(json.dumps([p.returncode, p.stdout[-20000:], p.stderr[-5000:], r]))"
    )
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", probe, IBIN / "python", course / "autograde.py", "--course",
         course, "--cell-timeout", "20", "--submission-timeout", "300", "--jobs", "2",
         "--mathjax", MATHJAX, *flags],
        cwd=course, env=_env(token), capture_output=True, text=True, timeout=1800)
    code, stdout, stderr, rss = json.loads(out.stdout.strip().splitlines()[-1])
    return code, stdout + stderr, rss, time.monotonic() - start


def _feedback_text(course, student):
    pages = list((course / "feedback" / student).glob(f"{A}/*.html"))
    return "\n".join(p.read_text(errors="replace") for p in pages)


@pytest.fixture(scope="module")
def unsealed(tmp_path_factory):
    if not (IBIN / "nbgrader").exists() or not (ROOT / ".venv-grader").exists():
        pytest.fail("the instructor's and grading environments are missing: make instructor")
    tmp = tmp_path_factory.mktemp("unsealed")
    course, lib = _course(tmp, TOKEN)
    with open(course / "nbgrader_config.py", "a") as config:  # the control only: no sanitising
        config.write("\nc.SanitizeOutputs.enabled = False\nc.HTMLExporter.sanitize_html = False\n")
    lib_before = lib.read_text()
    code, log, rss, seconds = _grade(course, TOKEN, "--unsealed-i-trust-every-submission")
    time.sleep(1)
    survivors = _survivors()
    for pid in survivors:
        os.kill(pid, 9)
    return course, lib, lib_before, log, survivors


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, unsealed):
    tmp = tmp_path_factory.mktemp("sealed")
    course, lib = _course(tmp, TOKEN)
    before = _hashes(course.parent, skip=("classroom",))
    course_before = _hashes(course, skip=("submitted", "autograded", "feedback", "gradebook.db",
                                          ".nbgrader.log", "release"))
    subs_before = _hashes(course / "submitted")
    code, log, rss, seconds = _grade(course, TOKEN)
    time.sleep(1)
    return dict(course=course, lib=lib, before=before, course_before=course_before,
                subs_before=subs_before, code=code, log=log, rss=rss, seconds=seconds,
                survivors=_survivors())


def test_each_attack_works_unsealed(unsealed):
    """The control: without the sandbox every attack does what it claims."""
    course, lib, lib_before, log, survivors = unsealed
    scores = _scores(course)
    assert scores.get("blank") == 0.0, scores
    stolen = (course / "autograded" / "read-source" / A / f"{A}.ipynb").read_text()
    assert "a1-loops: hidden tests passed" in stolen  # ran the stolen reference solution
    assert lib.read_text() != lib_before                                    # library tampered
    assert survivors, "the double-forked process should outlive an unsealed batch"
    canary = _feedback_text(course, "print-secrets")
    assert TOKEN in canary, "unsealed, the environment and canary file print into feedback"
    active = _Active()
    active.feed(_feedback_text(course, "script-output"))
    assert active.handlers and active.pwned  # the student's script runs where it is shown
    links = _Active()
    links.feed(_feedback_text(course, "markdown-links"))
    assert links.script_links, "unsanitised, the answer's javascript: links reach the page"
    for name in ("read-gradebook", "override-numpy", "int-equals-all", "drop-files"):
        assert f"ATTACK-OK {name}" in _feedback_text(course, name), name


def test_attackers_score_no_more_than_blank(sealed):
    scores = _scores(sealed["course"])
    assert scores["reference"] == 14.0, scores
    assert scores["blank"] == 0.0, scores
    for name in [*ATTACKS, "markdown-links"]:
        assert scores.get(name, 0.0) <= scores["blank"], (name, scores)


def test_nothing_outside_each_copy_changes(sealed):
    course = sealed["course"]
    assert _hashes(course.parent, skip=("classroom",)) == sealed["before"]  # the library
    assert sealed["lib"].read_text() == "# the library\n"
    assert _hashes(course / "submitted") == sealed["subs_before"]           # others' files
    assert _hashes(course, skip=("submitted", "autograded", "feedback", "gradebook.db",
                                 ".nbgrader.log", "release")) == sealed["course_before"]
    # the gradebook's stored test cells and others' grades: the reference kept full marks
    # (above) and the stored sources still hold the hidden line
    db = sqlite3.connect(course / "gradebook.db")
    sources = [s for (s,) in db.execute("select source from source_cell")]
    assert any("convgrade" in s for s in sources) and "print(1)" not in sources


def test_memory_is_capped_for_the_whole_submission(sealed, unsealed):
    """20 children of 200 MB each: 4 GB together, over the 3 GB of the submission's cgroup
    (each child alone is far under the per-process cap, so only a whole-submission cap stops
    them)."""
    assert "ATTACK-OK memory-children" in _feedback_text(unsealed[0], "memory-children")
    assert "ATTACK-OK memory-children" not in _feedback_text(sealed["course"],
                                                              "memory-children")


def test_the_run_folder_is_capped(sealed):
    """The one writable folder the sandbox shares with nbgrader takes 16 MB, not 160."""
    page = _feedback_text(sealed["course"], "fill-run-folder")
    written = re.search(r"ATTACK-OK fill-run-folder (\d+)", page)
    assert written and int(written.group(1)) <= 16, written


def test_no_process_survives_and_the_grader_stays_small(sealed):
    assert not sealed["survivors"], sealed["survivors"]
    assert sealed["rss"] < 1.5e9, sealed["rss"]
    assert not list(Path("/dev/shm").glob("convgrade-*")), "sandbox run folders left"


def test_feedback_holds_only_clean_pages(sealed):
    course = sealed["course"]
    for path in (course / "feedback").rglob("*"):
        assert not path.is_symlink(), path
        rel = path.relative_to(course / "feedback").parts
        if path.is_file() and rel != ("class-report.html",):
            assert rel[1] == "mathjax" or path.name == f"{A}.html", path
    hidden = [ln for ln in _text_all(course / "source" / A / f"{A}.ipynb").splitlines()
              if "convgrade" in ln]
    for student in [*ATTACKS, "markdown-links"]:
        page = _feedback_text(course, student)
        assert TOKEN not in page, student
        found = _Active()
        found.feed(page)
        assert not found.handlers and not found.pwned, (student, found.handlers)
        assert not found.script_links and not found.remote, (student, found.script_links)
        assert "\\href{javascript" not in page, student
        for line in hidden:
            assert line.strip() not in page, (student, line)
    graded = _load(course / "autograded" / "script-output" / A / f"{A}.ipynb")  # formgrader's
    shown = [o for c in graded["cells"] for o in c.get("outputs", [])]
    assert not [o for o in shown if set(o.get("data", {})) - {"text/plain", "image/png"}]


class _Active(HTMLParser):
    """Event-handler attributes and the student's script, as a browser would run them."""

    def __init__(self):
        super().__init__()
        self.handlers, self.pwned, self._script = [], False, False
        self.script_links, self.remote = [], []

    def handle_starttag(self, tag, attrs):
        self.handlers += [(tag, k) for k, _ in attrs if k.lower().startswith("on")]
        self._script = tag == "script"
        for key, value in attrs:
            plain = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if key in ("href", "src", "action") and plain.startswith(
                    ("javascript:", "vbscript:", "data:text")):
                self.script_links.append(value)
            if key == "src" and tag == "img" and plain.startswith(("http:", "https:", "//")):
                self.remote.append(value)

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        self.pwned |= self._script and "pwned" in data


def _text_all(path):
    return "\n".join(_text(c) for c in _load(path)["cells"])


def test_refuses_without_the_sandbox(tmp_path):
    """No bwrap on PATH: autograde.py stops before running anything and says what to do."""
    proc = subprocess.run([IBIN / "python", ROOT / "classroom" / "autograde.py", "--course",
                           tmp_path], env={**_env(TOKEN), "PATH": str(IBIN)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bubblewrap" in proc.stdout and "apt-get install -y bubblewrap" in proc.stdout
    assert re.search(r"--unsealed-i-trust-every-submission", proc.stdout)
