"""Device choice and seeding.

Every model and tensor factory in the companion takes a ``device=`` argument. When it is
``None`` the device comes from :func:`default_device`: the ``GF_DEVICE`` environment variable if
set (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...), else CUDA when PyTorch sees a GPU, else the CPU.
Nothing in the package calls ``.cuda()``; tensors are moved with ``.to(device)``.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

__all__ = ["default_device", "resolve_device", "seed_everything", "single_thread", "ENV_DEVICE"]

ENV_DEVICE = "GF_DEVICE"


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
