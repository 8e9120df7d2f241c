"""The folder the sealed kernel imports from: `convgrade` and a convlib without the answers.

Each assignment's trusted module (classroom/grading/checks/<a>.py) names, in ``CONVLIB``, what
the kernel gets of convlib: ``None`` for nothing (``import convlib`` fails), or the set of names
to take out of it. They are removed from the source (function and class definitions,
assignments, ``from .x import`` lists and ``__all__``), not switched off at run time: the
kernel has no implementation to call, keep under an alias or reload, and a delegating
solution fails with a plain ImportError, AttributeError or NameError.

A trusted module may also define ``kit_files()``, returning ``{path in the kit: bytes}``: data
the kernel needs but cannot make itself (a5's digits: the kernel has no scikit-learn).
"""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parent
_BUILT: dict[str, Path] = {}


def strip_source(text: str, names: set[str]) -> str:
    tree = ast.parse(text)
    tree.body = [node for node in (_strip(n, names) for n in tree.body) if node is not None]
    return ast.unparse(tree) + "\n"


def _strip(node, names):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None if node.name in names else node
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        ids = {t.id for t in targets if isinstance(t, ast.Name)}
        if ids & names:
            return None
        if "__all__" in ids and isinstance(node.value, (ast.List, ast.Tuple)):
            node.value.elts = [e for e in node.value.elts
                               if not (isinstance(e, ast.Constant) and e.value in names)]
        return node
    if isinstance(node, ast.ImportFrom) and node.level > 0:
        node.names = [a for a in node.names if (a.asname or a.name) not in names]
        return node if node.names else None
    if isinstance(node, ast.If):  # e.g. `if TYPE_CHECKING:` blocks
        node.body = [n for n in (_strip(b, names) for b in node.body) if n is not None] or [
            ast.Pass()]
        return node
    return node


def kit_for(assignment: str) -> Path:
    """A read-only folder for /grading/lib: convgrade, and convlib as the assignment allows."""
    if assignment in _BUILT and _BUILT[assignment].exists():
        return _BUILT[assignment]
    short = assignment.split("_")[0]
    rules = importlib.import_module(f"grading.checks.{short}")
    prefix = os.environ.get("CONVGRADE_PREFIX", "convgrade-")
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}kit-{short}-"))
    root.chmod(0o755)
    shutil.copytree(KIT / "convgrade", root / "convgrade",
                    ignore=shutil.ignore_patterns("__pycache__"))
    removed = getattr(rules, "CONVLIB", None)
    if removed is not None:
        import convlib

        source = Path(convlib.__file__).resolve().parent
        target = root / "convlib"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        for path in target.rglob("*.py"):
            path.write_text(strip_source(path.read_text(), set(removed)))
    for name, data in (getattr(rules, "kit_files", lambda: {})() or {}).items():
        path = root / name
        if not path.resolve().is_relative_to(root.resolve()):
            raise ValueError(f"kit file {name!r} is outside the kit")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    _BUILT[assignment] = root
    return root


def forget_kit(assignment: str) -> None:
    """Remove the folder `kit_for` built (after the submission it served)."""
    root = _BUILT.pop(assignment, None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
