"""Companion package of *Generative Foundations*.

The book's chapters import from here; so can any script or notebook::

    import companion
    dev = companion.setup(seed=0)   # seeds everything, registers the plotly look, picks a device

Modules:

- infrastructure: :mod:`companion.figures` (the dual-mode interactive figure),
  :mod:`companion.theme` (plotly template and renderer), :mod:`companion.device` (device choice,
  seeding, thread control), :mod:`companion.progress` (progress bars);
- foundations: :mod:`companion.sampling` (Monte Carlo, importance sampling, gradient
  estimators, push-forward densities), :mod:`companion.information`,
  :mod:`companion.divergences`, :mod:`companion.linalg`, :mod:`companion.optimization`;
- models: :mod:`companion.data` (generated and bundled data sets), :mod:`companion.models`
  (save/load/train shared by the model families), :mod:`companion.manifolds`,
  :mod:`companion.vae`, :mod:`companion.gan`, :mod:`companion.flows`,
  :mod:`companion.diffusion`, :mod:`companion.zoo` (autoregressive, energy-based, score-based,
  neural-ODE and transformer models), :mod:`companion.rl` (Markov decision processes, policy
  gradients, KL-regularised fine-tuning), :mod:`companion.components` (layers and losses);
  :mod:`companion.pretrain` retrains the shipped checkpoints;
- :mod:`companion.explore` holds each chapter's interactive figures.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["setup", "default_device", "resolve_device", "seed_everything", "__version__"]

# Imported on first use, so that `import companion.sphinxext` (the book build's Sphinx extension)
# does not pull in torch through this package's __init__.
_FROM_DEVICE = ("default_device", "resolve_device", "seed_everything")


def __getattr__(name: str):
    if name in _FROM_DEVICE:
        return getattr(importlib.import_module(".device", __name__), name)
    if name == "device":  # `import companion; companion.device` worked when __init__ imported it
        return importlib.import_module(".device", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_DEVICE, "device"})


def setup(seed: int = 0, device=None, threads: int | None = None):
    """Prepare a chapter or script: seed every RNG, register the book's plotly template and
    renderer as plotly's defaults, set PyTorch's CPU thread count, and return the device to
    compute on.

    Parameters
    ----------
    seed
        Seed for Python, NumPy and PyTorch (see :func:`companion.device.seed_everything`).
    device
        ``None`` (CUDA if available, else CPU, overridable by ``GF_DEVICE``), or a device name.
    threads
        PyTorch's intra-op thread count; ``None`` means
        :func:`companion.device.choose_threads` (one thread for the book's small models unless
        the ``GF_THREADS`` environment variable says otherwise).
    """
    from . import theme
    from .device import resolve_device, seed_everything, use_threads

    seed_everything(seed)
    use_threads(threads)
    theme.register(make_default=True)
    return resolve_device(device)
