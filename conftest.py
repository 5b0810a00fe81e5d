"""Lets nbval execute the book's MyST Markdown chapters.

nbval only reads ``.ipynb`` files. With ``--nbval-lax`` (or ``--nbval``) this hook also collects
each chapter ``book/**/*.md`` that carries a jupytext header: jupytext converts it to a notebook
in pytest's temporary folder (never in the repository) and nbval runs that notebook's cells one by
one, with the kernel started in the chapter's own folder. It also holds the fixtures that several
test modules use: ``one_torch_thread``, ``target_device``/``target`` (the device under test, from
``GF_TEST_DEVICE``) and ``browser``.

Nothing here imports nbval, torch or playwright at import time, so that a machine without them
(the bare GPU machine has torch but no nbval) can still run ``python -m pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from unittest import mock

import pytest

BOOK = Path(__file__).parent / "book"
_HEADER = re.compile(r"\A---\s*\n.*?^jupytext:", re.S | re.M)


def is_notebook_chapter(path: Path) -> bool:
    """A MyST Markdown file whose front matter declares it a jupytext notebook."""
    return path.suffix == ".md" and bool(_HEADER.match(path.read_text(encoding="utf-8")))


def pytest_collect_file(file_path: Path, parent):
    opt = parent.config.option
    if not (getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False)):
        return None
    if BOOK not in file_path.parents or not is_notebook_chapter(file_path):
        return None
    return _myst_chapter_class().from_parent(parent, path=file_path)


@functools.cache
def _myst_chapter_class():
    """nbval's notebook collector, fed by jupytext instead of reading an ``.ipynb`` (built on
    first use: only runs with ``--nbval``/``--nbval-lax`` need nbval)."""
    from nbval.plugin import IPyNbFile

    class MystChapter(IPyNbFile):
        def collect(self):
            import jupytext
            import nbformat
            import nbval.plugin

            nb = jupytext.read(self.path)
            tmp = self.config._tmp_path_factory.mktemp("chapters") / (self.path.stem + ".ipynb")
            nbformat.write(nb, tmp)  # kept for inspection when a cell fails
            converted = nbformat.read(tmp, as_version=4)
            # nbval's collect() reads self.path with nbformat.read; hand it the converted notebook
            with mock.patch.object(nbval.plugin.nbformat, "read", lambda *a, **k: converted):
                items = list(super().collect())
            return items

    return MystChapter


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "nbval: a chapter cell executed by nbval")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a test module on one intra-op thread (small tensors: several threads only add
    synchronisation, and on a busy 2-core machine they are many times slower)."""
    from companion.device import single_thread

    with single_thread():
        yield


# The devices the device checks run on: GF_TEST_DEVICE, a comma-separated list ("cpu" unless set;
# "cuda", "cuda:1", "cpu,cuda"). A CUDA entry is skipped on a machine without a GPU.
TEST_DEVICES = [d.strip() for d in os.environ.get("GF_TEST_DEVICE", "cpu").split(",") if d.strip()]


@pytest.fixture(scope="session", params=TEST_DEVICES)
def target_device(request):
    """The ``torch.device`` under test. On CUDA, TF32 is off in float32 matmuls and convolutions
    for the session, so that float32 results can be compared with the CPU's."""
    import torch

    dev = torch.device(request.param)
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.skip(f"GF_TEST_DEVICE={request.param} needs a CUDA GPU; this machine has none")
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield dev
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.fixture(scope="session")
def target(target_device):
    """``helpers.Target`` for the device under test: run there, compare with the CPU."""
    from helpers import Target

    return Target(target_device)


# Debian's Chromium by default; `make ... CHROMIUM=/path` (GF_CHROMIUM) names another build.
CHROMIUM = os.environ.get("GF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the browser tests of the website and of the live door."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's package")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
