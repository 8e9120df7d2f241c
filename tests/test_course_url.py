"""One setting for where the course lives (tools/course_url.py): once ``repository.url`` of
``_config.yml`` is given, the placeholder appears nowhere in the course a reader or student
meets (README, chapters, Jupyter Book's repository and launch buttons), and the check that
``make book`` runs warns while it is still the placeholder."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import course_url  # noqa: E402

FORK = "https://github.com/some-university/conv-course"
COPIED = ["_config.yml", "_toc.yml", "README.md", "chapters", "binder", "_templates"]


@pytest.fixture()
def course(tmp_path):
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
        else:
            shutil.copy2(src, tmp_path / name)
    return tmp_path


def set_url(root: Path, url: str) -> None:
    config = root / "_config.yml"
    text = config.read_text(encoding="utf8")
    assert f"url: {course_url.PLACEHOLDER}" in text
    config.write_text(text.replace(f"url: {course_url.PLACEHOLDER}", f"url: {url}"), "utf8")


def text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".md", ".ipynb", ".yml", ".txt", ".html"}:
            yield path


def test_placeholder_warns_and_places_agree(capsys):
    status = course_url.check(ROOT)
    err = capsys.readouterr().err
    if course_url.configured_url(ROOT) == course_url.PLACEHOLDER:
        assert "still the placeholder" in err
    assert status == 0, err  # every derived place names the configured URL


def test_fork_url_replaces_the_placeholder_everywhere(course, capsys):
    set_url(course, FORK)
    assert course_url.check(course) == 1  # the notebooks still name the placeholder
    assert "run `python tools/course_url.py --apply`" in capsys.readouterr().err

    changed = course_url.apply(course)
    assert len(changed) >= 12  # README and every chapter notebook
    assert course_url.check(course) == 0
    assert "placeholder" not in capsys.readouterr().err
    left = [p.relative_to(course) for p in text_files(course)
            if course_url.PLACEHOLDER in p.read_text(encoding="utf8")]
    assert not left, f"the placeholder is still in {left}"
    first = (course / "chapters" / "01_forward.ipynb").read_text(encoding="utf8")
    assert f'git+{FORK}\\"' in first

    # a second fork of the fork: the derived places follow again
    set_again = FORK + "-2"
    cfg = course / "_config.yml"
    cfg.write_text(cfg.read_text("utf8").replace(f"url: {FORK}", f"url: {set_again}"), "utf8")
    course_url.apply(course)
    assert course_url.check(course) == 0
    assert f'git+{set_again}\\"' in (course / "chapters" / "01_forward.ipynb").read_text("utf8")


def test_book_buttons_follow_the_setting(course):
    """Jupyter Book derives the repository and launch buttons from repository.url."""
    set_url(course, FORK)
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        pytest.skip("jupyter-book not installed")
    subprocess.run([str(jb), "config", "sphinx", str(course)], check=True,
                   capture_output=True, timeout=120)
    conf = (course / "conf.py").read_text(encoding="utf8")
    assert f"'repository_url': '{FORK}'" in conf
    assert course_url.PLACEHOLDER not in conf


def test_bad_setting_is_refused(course):
    set_url(course, "github.com/no-scheme/")
    with pytest.raises(SystemExit, match="repository.url"):
        course_url.configured_url(course)
