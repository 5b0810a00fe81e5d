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


# --- CPU threads: affinity, cgroup quota, GF_THREADS ---------------------------------------


def _fake_cgroup(tmp_path, proc_lines, files):
    """A fake /sys/fs/cgroup tree under tmp_path and a fake /proc/self/cgroup."""
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    root.mkdir(exist_ok=True)
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text("\n".join(proc_lines) + "\n")
    return root, proc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("max 100000", None),
        ("150000 100000", 1.5),
        ("50000 100000", 0.5),
        ("200000 50000", 4.0),
        ("", None),
        ("garbage", None),
        ("-1 100000", None),
        ("100000 0", None),
    ],
)
def test_cgroup_v2_cpu_max(tmp_path, text, expected):
    root, proc = _fake_cgroup(tmp_path, ["0::/"], {"cpu.max": text})
    assert device.cgroup_cpu_quota(root, proc) == expected


def test_cgroup_v2_nested_takes_the_smallest_limit_up_the_tree(tmp_path):
    files = {
        "user.slice/cpu.max": "300000 100000",
        "user.slice/app/cpu.max": "max 100000",
        "cpu.max": "max 100000",
    }
    root, proc = _fake_cgroup(tmp_path, ["0::/user.slice/app"], files)
    assert device.cgroup_cpu_quota(root, proc) == 3.0
    files["user.slice/app/cpu.max"] = "120000 100000"
    root, proc = _fake_cgroup(tmp_path, ["0::/user.slice/app"], files)
    assert device.cgroup_cpu_quota(root, proc) == 1.2


@pytest.mark.parametrize(
    "quota, period, expected",
    [
        ("-1", "100000", None),
        ("100000", "100000", 1.0),
        ("250000", "100000", 2.5),
        ("x", "100000", None),
    ],
)
def test_cgroup_v1_cfs_quota(tmp_path, quota, period, expected):
    files = {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": quota,
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": period,
    }
    lines = ["4:memory:/docker/abc", "2:cpu,cpuacct:/docker/abc", "1:name=systemd:/docker/abc"]
    root, proc = _fake_cgroup(tmp_path, lines, files)
    assert device.cgroup_cpu_quota(root, proc) == expected


def test_cgroup_missing_files_mean_no_limit(tmp_path):
    root, proc = _fake_cgroup(tmp_path, ["0::/"], {})
    assert device.cgroup_cpu_quota(root, proc) is None
    assert device.cgroup_cpu_quota(tmp_path / "nowhere", tmp_path / "no_proc") is None


def test_cpu_budget_is_affinity_capped_by_quota(monkeypatch):
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    monkeypatch.setattr(device, "cgroup_cpu_quota", lambda: 1.5)
    assert device.cpu_budget() == 2  # a 1.5-CPU quota may keep two threads busy part time
    monkeypatch.setattr(device, "cgroup_cpu_quota", lambda: None)
    assert device.cpu_budget() == 8
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {3})  # taskset -c 3
    assert device.cpu_budget() == 1
    monkeypatch.setattr(device, "cgroup_cpu_quota", lambda: 0.2)
    assert device.cpu_budget() == 1


def test_choose_threads_and_override(monkeypatch):
    monkeypatch.delenv(device.ENV_THREADS, raising=False)
    monkeypatch.setattr(device, "cpu_budget", lambda: 6)
    assert device.choose_threads() == 1
    assert device.choose_threads("large") == 6
    monkeypatch.setenv(device.ENV_THREADS, "3")
    assert device.choose_threads() == 3 and device.choose_threads("large") == 3
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv(device.ENV_THREADS, bad)
        with pytest.raises(ValueError, match="GF_THREADS must be a positive integer"):
            device.choose_threads()
    with pytest.raises(ValueError, match="workload must be"):
        device.choose_threads("huge")


def test_setup_sets_the_thread_count(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv(device.ENV_THREADS, raising=False)
        companion.setup(seed=0)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv(device.ENV_THREADS, "2")
        companion.setup(seed=0)
        assert torch.get_num_threads() == 2
        companion.setup(seed=0, threads=1)
        assert torch.get_num_threads() == 1
        for bad in (0, -1, 1.5, True, "2"):
            with pytest.raises(ValueError, match="thread count must be a positive integer"):
                device.use_threads(bad)
    finally:
        torch.set_num_threads(before)
