"""The student edition names the students' repository, never the one holding the answers.

Issue 14, item 5: its launch, repository and download links and every install cell point at
the repository the instructor names; `tools/student_edition.py` (behind `make classroom`)
refuses to build without one, or with the repository of this checkout while it holds
classroom/source/ (every solution and hidden test).
"""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import course_url  # noqa: E402
import student_edition  # noqa: E402

STUDENTS = "https://github.com/conv-backprop/course-students"


def test_refuses_without_a_students_repository():
    with pytest.raises(SystemExit, match="name the students' repository"):
        student_edition.students_repository("", ROOT / "classroom")


def test_refuses_the_repository_that_holds_the_sources():
    ours = course_url.configured_url(ROOT)
    assert list((ROOT / "classroom").glob("source/*/*.ipynb"))
    for url in (ours, ours + ".git", ours.replace("github.com", "GitHub.com")):
        with pytest.raises(SystemExit, match="holds the assignments' sources"):
            student_edition.students_repository(url, ROOT / "classroom")


def test_the_same_repository_is_fine_once_the_sources_are_elsewhere(tmp_path):
    ours = course_url.configured_url(ROOT)
    assert student_edition.students_repository(ours, tmp_path / "empty") == ours


def test_every_staged_link_names_the_students_repository(tmp_path):
    ours = course_url.configured_url(ROOT)
    src = tmp_path / "src"
    student_edition.stage(src, STUDENTS)
    config = yaml.safe_load((src / "_config.yml").read_text())
    assert config["repository"]["url"] == STUDENTS
    staged = [p for p in src.rglob("*") if p.suffix in (".ipynb", ".md", ".yml")
              and "node_modules" not in p.parts]
    assert staged
    pattern = re.compile(re.escape(ours) + r"(?![\w.-])")  # not .../course-students
    naming = [p for p in staged if pattern.search(p.read_text())]
    assert not naming, naming
    installs = [json.loads(p.read_text()) for p in (src / "chapters").glob("0*.ipynb")]
    assert all(STUDENTS in json.dumps(nb["cells"][0]) for nb in installs)  # the install cell


def test_the_check_finds_a_link_to_the_hidden_repository(tmp_path):
    html = tmp_path / "html"
    (html / "_sources").mkdir(parents=True)
    (html / "index.html").write_text('<a href="https://github.com/me/course">repo</a>')
    with pytest.raises(SystemExit, match="a link to https://github.com/me/course"):
        student_edition.check(html, hidden_repository="https://github.com/me/course")
    student_edition.check(html, hidden_repository="https://github.com/me/other")
