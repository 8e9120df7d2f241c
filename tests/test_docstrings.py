"""The examples in convlib's docstrings run and print what they show; every public name is
documented."""

import doctest
import importlib
import inspect

import pytest

import convlib

CORE = ["_validate", "padding", "ops", "forward", "backward", "activations", "gradcheck"]


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name):
    module = importlib.import_module(f"convlib.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", convlib.__all__)
def test_public_names_are_documented(name):
    obj = getattr(convlib, name)
    if callable(obj):
        assert len(inspect.getdoc(obj) or "") > 20, name
