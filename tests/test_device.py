"""Device choice, seeding and progress bars."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import companion
from companion import device, progress


def test_default_device_follows_cuda_availability(monkeypatch):
    monkeypatch.delenv(device.ENV_DEVICE, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.default_device().type == expected


def test_environment_variable_forces_cpu(monkeypatch):
    monkeypatch.setenv(device.ENV_DEVICE, "cpu")
    assert device.default_device() == torch.device("cpu")
    assert device.resolve_device(None) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="no CUDA GPU"):
        device.resolve_device("cuda")
    monkeypatch.setenv(device.ENV_DEVICE, "cuda")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        device.default_device()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_when_present():
    assert device.resolve_device("cuda").type == "cuda"
    assert torch.zeros(1, device=device.resolve_device("cuda")).is_cuda


def test_resolve_device_bad_input():
    with pytest.raises(ValueError, match="unknown device"):
        device.resolve_device("gpu0")
    with pytest.raises(TypeError, match="device must be"):
        device.resolve_device(3)


def test_seed_everything_reproduces_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()  # noqa: NPY002

    device.seed_everything(123)
    first = draw()
    device.seed_everything(123)
    assert draw() == first
    device.seed_everything(124)
    assert draw() != first
    gen = device.seed_everything(5)
    assert (
        torch.rand(2, generator=gen).tolist()
        == torch.rand(2, generator=torch.Generator().manual_seed(5)).tolist()
    )


@pytest.mark.parametrize(
    ("seed", "exc"), [(1.5, TypeError), (True, TypeError), (-1, ValueError), (2**32, ValueError)]
)
def test_seed_bad_input(seed, exc):
    with pytest.raises(exc):
        device.seed_everything(seed)


def test_setup_returns_device_and_registers_theme(monkeypatch):
    import plotly.io as pio

    monkeypatch.setenv(device.ENV_DEVICE, "cpu")
    assert companion.setup(seed=1) == torch.device("cpu")
    assert pio.templates.default == "generative"
    assert pio.renderers.default == "generative"


def test_no_cuda_calls_in_the_package():
    import ast
    from pathlib import Path

    offenders = []
    for path in Path(companion.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "cuda"
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], f".cuda() called at {offenders}; use .to(device)"


def test_progress_bar(monkeypatch):
    monkeypatch.delenv("GF_FIGURE_MODE", raising=False)
    bar = progress.progress(range(3), desc="x")
    assert not bar.disable
    assert list(bar) == [0, 1, 2]
    monkeypatch.setenv("GF_FIGURE_MODE", "static")
    assert progress.progress(range(3)).disable, "no progress bars on the built website"
    with pytest.raises(ValueError, match="total"):
        progress.progress(total=-1)
    with pytest.raises(TypeError, match="enabled"):
        progress.progress(range(2), enabled="yes")


def test_single_thread_restores_the_setting():
    before = torch.get_num_threads()
    with device.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before

    @device.single_thread()
    def inside():
        return torch.get_num_threads()

    assert inside() == 1 and torch.get_num_threads() == before
    with pytest.raises(RuntimeError), device.single_thread():
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
