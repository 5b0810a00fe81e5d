"""Device choice, seeding and CPU threads.

Every model and tensor factory in the companion takes a ``device=`` argument. When it is
``None`` the device comes from :func:`default_device`: the ``GF_DEVICE`` environment variable if
set (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...), else CUDA when PyTorch sees a GPU, else the CPU.
Nothing in the package calls ``.cuda()``; tensors are moved with ``.to(device)``.

PyTorch starts one intra-op thread per core it *sees*, which is often more than the process may
use: a container with a CPU quota (Binder) sees the host's cores, and next to a busy process two
threads on two cores fight for one. :func:`cpu_budget` reads what the process may really use
(the affinity mask and the cgroup CPU quota) and :func:`choose_threads` turns it into a thread
count per workload; :func:`companion.setup` applies it. ``GF_THREADS`` overrides the choice.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "default_device",
    "resolve_device",
    "seed_everything",
    "single_thread",
    "cpu_budget",
    "cgroup_cpu_quota",
    "choose_threads",
    "use_threads",
    "ENV_DEVICE",
    "ENV_THREADS",
]

ENV_DEVICE = "GF_DEVICE"
ENV_THREADS = "GF_THREADS"


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Turn ``device`` (a string, a :class:`torch.device` or ``None``) into a usable device.

    ``None`` means :func:`default_device`. Asking for CUDA on a machine without a GPU raises a
    ``ValueError`` that says so, instead of PyTorch's later and less direct error.
    """
    if device is None:
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a string such as 'cpu' or 'cuda', a torch.device or None; "
            f"got {type(device).__name__}"
        )
    try:
        dev = torch.device(device)
    except RuntimeError as exc:  # torch raises RuntimeError for unknown device strings
        raise ValueError(f"unknown device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(dev)!r} was requested but PyTorch sees no CUDA GPU on this machine; "
            "use device='cpu' (or unset GF_DEVICE)"
        )
    return dev


def default_device() -> torch.device:
    """The device used when a function is called with ``device=None``.

    Order: the ``GF_DEVICE`` environment variable, then CUDA if available, then CPU.
    """
    forced = os.environ.get(ENV_DEVICE, "").strip()
    if forced:
        return resolve_device(forced)
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random number generators (CPU and all GPUs).

    Returns a CPU :class:`torch.Generator` seeded with ``seed`` for code that prefers an explicit
    generator. A chapter calls this once at the top so that its printed numbers are the same on
    every run of the same software on the same kind of device.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global RNG is what chapters may use
    torch.manual_seed(seed)  # also seeds every CUDA device
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


@contextlib.contextmanager
def single_thread():
    """Run PyTorch on one intra-op thread inside the block (or decorated function), then restore.

    The book's figures and small fits work on tensors of a few thousand numbers, where several
    threads only add synchronisation: on a busy 2-core machine (Binder, a laptop building the
    book) a 4 000-point quadrature ran ten times slower, and a 5 000-element ``exp`` up to forty
    times slower, with two threads than with one.
    """
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- CPU threads -----------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _quota_v2(folder: Path) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("max 100000" or "50000 100000"), or None."""
    text = _read(folder / "cpu.max")
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _quota_v1(folder: Path) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: none)."""
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    try:
        q, p = int(quota), int(period)
    except (TypeError, ValueError):
        return None
    return q / p if q > 0 and p > 0 else None


def _own_cgroups(proc_cgroup: Path) -> list[tuple[str, str]]:
    """(controllers, path) pairs of ``/proc/self/cgroup`` ("0::/a/b" for v2)."""
    pairs = []
    for line in (_read(proc_cgroup) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3:
            pairs.append((fields[1], fields[2]))
    return pairs


def _candidate_folders(root: Path, own: list[tuple[str, str]]) -> list[tuple[Path, bool]]:
    """Folders that may hold this process's CPU limit, with True for v2, from the process's
    own cgroup up to the root (a parent's limit applies to its children too)."""
    folders = []
    for controllers, rel in own:
        if controllers == "":
            bases, v2 = [root], True
        elif "cpu" in controllers.split(","):
            bases, v2 = [root / controllers, root / "cpu", root / "cpu,cpuacct"], False
        else:
            continue
        parts = [p for p in rel.split("/") if p]
        for base in bases:
            for depth in range(len(parts), -1, -1):
                folders.append((base.joinpath(*parts[:depth]), v2))
    if not own:  # no /proc/self/cgroup: look at the usual mount points only
        folders = [(root, True), (root / "cpu", False), (root / "cpu,cpuacct", False)]
    return folders


def cgroup_cpu_quota(
    root: str | os.PathLike = "/sys/fs/cgroup", proc_cgroup: str | os.PathLike = "/proc/self/cgroup"
) -> float | None:
    """The number of CPUs this process's cgroup may use (e.g. 1.5), or ``None`` for no limit.

    Reads cgroup v2 ``cpu.max`` and cgroup v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us`` in the
    process's own cgroup and its parents (the smallest limit wins). ``root`` and ``proc_cgroup``
    exist for tests; missing or unreadable files mean "no limit".
    """
    root, own = Path(root), _own_cgroups(Path(proc_cgroup))
    limits = []
    for folder, v2 in _candidate_folders(root, own):
        limit = _quota_v2(folder) if v2 else _quota_v1(folder)
        if limit is not None:
            limits.append(limit)
    return min(limits) if limits else None


def cpu_budget() -> int:
    """Whole CPUs this process may really use: the affinity mask (``taskset``, a container's
    cpuset) capped by the cgroup CPU quota rounded up, and at least 1."""
    try:
        visible = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        visible = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        visible = min(visible, math.ceil(quota))
    return max(1, visible)


# Measured (benchmarks/bench_threads.py): the book's models (MLPs of a few hundred units on
# batches of a few hundred points) train as fast on one thread as on two on a quiet machine and
# several times slower on two next to one busy process. "large" is for readers' own bigger
# models, where the threads pay off.
_WORKLOADS = ("small", "large")


def choose_threads(workload: str = "small") -> int:
    """The intra-op thread count for ``workload``: ``GF_THREADS`` if set, else 1 for
    ``"small"`` (every model and figure in the book) and :func:`cpu_budget` for ``"large"``."""
    if workload not in _WORKLOADS:
        raise ValueError(f"workload must be one of {_WORKLOADS}, got {workload!r}")
    forced = os.environ.get(ENV_THREADS, "").strip()
    if forced:
        try:
            n = int(forced)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{ENV_THREADS} must be a positive integer, got {forced!r}")
        return n
    return 1 if workload == "small" else cpu_budget()


def use_threads(n: int | None = None, workload: str = "small") -> int:
    """Set PyTorch's intra-op thread count to ``n`` (default :func:`choose_threads`) and return
    it."""
    if n is None:
        n = choose_threads(workload)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the thread count must be a positive integer, got {n!r}")
    torch.set_num_threads(int(n))
    return int(n)
