"""Every public module says what it exports, and exports only what it defines or re-exports."""

import importlib
import pkgutil

import pytest

import schemas
import streams

MODULES = sorted(
    name
    for package in (schemas, streams)
    for name in [package.__name__]
    + [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)
