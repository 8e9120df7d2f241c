"""Show library code in a chapter, so that the book and the library cannot drift apart."""

from __future__ import annotations

import ast
import inspect
import textwrap


def source(obj, *, docstring: bool = True) -> str:
    """The source code of a convlib function or class, dedented, optionally without docstring."""
    code = textwrap.dedent(inspect.getsource(obj))
    if docstring:
        return code
    body = ast.parse(code).body[0].body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        lines = code.splitlines(keepends=True)
        code = "".join(lines[: first.lineno - 1] + lines[first.end_lineno :])
    return code


def show_source(obj, *, docstring: bool = True):
    """Display the source of ``obj`` as a highlighted Python block (in Jupyter and the book).

    Parameters
    ----------
    obj : function or class
    docstring : bool
        If False, the docstring is left out so that only the code is shown.

    Returns
    -------
    IPython.display.Markdown
        Rendered by JupyterLab and by the book as a code block.
    """
    from IPython.display import Markdown

    name = f"{obj.__module__}.{obj.__qualname__}"
    code = source(obj, docstring=docstring).rstrip()
    return Markdown(f"`{name}`\n\n```python\n{code}\n```")
