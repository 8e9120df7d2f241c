"""Every public name of convlib is documented.

The examples in the docstrings run under ``pytest --doctest-modules convlib`` (``make check``
and ``make test``), not here.
"""

import inspect
import sys

import pytest

import convlib


@pytest.mark.parametrize("name", convlib.__all__)
def test_public_names_are_documented(name):
    """A function, class or module by its own docstring; a constant (ACTIVATIONS) by the
    docstring of the module that defines it, which must name it (a dict instance's
    ``inspect.getdoc`` is the docstring of ``dict``, which would pass for anything)."""
    obj = getattr(convlib, name)
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
        doc = obj.__doc__ if inspect.ismodule(obj) else inspect.getdoc(obj)
        assert len(doc or "") > 20, name
    else:
        home = sys.modules[next(m for m in _modules() if name in vars(sys.modules[m]))]
        assert f"``{name}``" in (home.__doc__ or ""), f"{home.__name__} does not describe {name}"


def _modules():
    """convlib's own modules, the package itself last (it only re-exports)."""
    return sorted((m for m in sys.modules if m.startswith("convlib.")), key=len) + ["convlib"]
