"""One contract for every interactive figure of the book (see ``helpers.check_explorer``).

Every explorer in an explore module's ``__all__`` is covered: those that need no input are built
and checked here; those that are drawn from precomputed runs or models (``NEEDS_INPUTS``) are
checked with the same helper in their module's test file, which builds small inputs for them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from helpers import check_explorer

import companion.explore as explore_pkg

TESTS = Path(__file__).parent
# Figures with controls whose names do not end in "_explorer".
EXTRA = {"divergences.disjoint_supports", "probability.distribution_gallery"}
# Tighter budgets some chapters keep.
BUDGETS = {
    "linalg": dict(max_frames=300, max_bytes=2_000_000, validate=True),
    "optimization": dict(max_frames=300, max_bytes=2_000_000, validate=True),
    "manifolds": dict(max_bytes=3_000_000),
    "probability": dict(max_frames=330),
    "flows": dict(max_frames=300),
    "gan": dict(max_frames=300, max_bytes=3_000_000),
}


def _explorers():
    found = {}
    for info in pkgutil.iter_modules(explore_pkg.__path__):
        module = importlib.import_module(f"companion.explore.{info.name}")
        for name in getattr(module, "__all__", ()):
            key = f"{info.name}.{name}"
            if name.endswith("_explorer") or key in EXTRA:
                found[key] = getattr(module, name)
    return found


def _needs_input(fn) -> bool:
    return any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(fn).parameters.values()
    )


ALL = _explorers()
SELF_CONTAINED = {k: f for k, f in ALL.items() if not _needs_input(f)}
NEEDS_INPUTS = {k: f for k, f in ALL.items() if _needs_input(f)}


def test_every_explorer_is_covered():
    assert len(ALL) >= 60
    for key in NEEDS_INPUTS:
        module, name = key.split(".")
        source = (TESTS / f"test_explore_{module}.py").read_text()
        assert name in source and "check_explorer" in source, (
            f"{key} needs inputs: build small ones in test_explore_{module}.py and pass it to "
            "helpers.check_explorer"
        )


@pytest.mark.parametrize("key", sorted(SELF_CONTAINED))
def test_explorer_contract(key):
    check_explorer(SELF_CONTAINED[key], **BUDGETS.get(key.split(".")[0], {}))
