"""convlib.display: the library code a chapter shows is the code that runs."""

import ast
import inspect

import pytest

import convlib
from convlib.display import show_source, source

SHOWN = [convlib.conv_forward_naive, convlib.conv_backward, convlib.pad, convlib.Geometry]


@pytest.mark.parametrize("obj", SHOWN, ids=lambda o: o.__name__)
def test_source_is_the_running_code(obj):
    assert source(obj) == inspect.getsource(obj)  # top-level: nothing to dedent
    compile(source(obj), "<shown>", "exec")


@pytest.mark.parametrize("obj", SHOWN, ids=lambda o: o.__name__)
def test_source_without_docstring(obj):
    code = source(obj, docstring=False)
    assert inspect.getdoc(obj).splitlines()[0] not in code
    tree = ast.parse(code).body[0]
    assert ast.get_docstring(tree) is None
    # the code itself is unchanged: same statements once the docstring is dropped
    full = ast.parse(source(obj)).body[0]
    assert ast.dump(ast.Module(full.body[1:], [])) == ast.dump(ast.Module(tree.body, []))


def test_show_source_is_a_markdown_code_block():
    md = show_source(convlib.conv_forward, docstring=False)
    text = md.data
    assert text.startswith("`convlib.forward.conv_forward`\n\n```python\ndef conv_forward(")
    assert text.endswith("\n```")
