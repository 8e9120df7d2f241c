"""Every public name of convlib is documented.

The examples in the docstrings run under ``pytest --doctest-modules convlib`` (``make check``
and ``make test``), not here.
"""

import inspect

import pytest

import convlib


@pytest.mark.parametrize("name", convlib.__all__)
def test_public_names_are_documented(name):
    obj = getattr(convlib, name)
    if callable(obj):
        assert len(inspect.getdoc(obj) or "") > 20, name
