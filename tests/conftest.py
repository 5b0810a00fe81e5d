"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

from companion.device import single_thread


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tests on one intra-op thread (small tensors: several threads only add
    synchronisation, and on a busy 2-core machine they are many times slower)."""
    with single_thread():
        yield
