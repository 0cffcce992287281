"""The examples in the rewards' docstrings run, so they cannot drift from the code."""

import doctest
import importlib

import pytest

MODULES = ["extract", "registry", "math", "format", "language", "length", "tiny", "combine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"r1.rewards.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
