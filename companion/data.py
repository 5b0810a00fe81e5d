"""Small data sets for the model chapters, all generated or bundled — nothing is downloaded.

Every function returns ``torch`` tensors (float32 by default) on the requested device and takes a
``seed``: the same seed gives the same points on every machine (the points are drawn with NumPy's
``Generator`` on the CPU and then moved). ``seed=None`` draws fresh points.

=====================  ==========  ============================================================
function               shape       what it is
=====================  ==========  ============================================================
:func:`moons`          (n, 2)      scikit-learn's two interleaved half circles
:func:`ring`           (n, 2)      a mixture of ``modes`` Gaussians on a circle (the GAN test)
:func:`grid`           (n, 2)      a mixture of ``side²`` Gaussians on a square lattice
:func:`swiss_roll`     (n, 3)      scikit-learn's swiss roll, and its roll parameter
:func:`digits`         (1797, 64)  scikit-learn's bundled 8×8 digits scaled to [0, 1], labels
=====================  ==========  ============================================================

:func:`ring_centers` and :func:`grid_centers` give the mixture means, and :func:`mode_coverage`
scores samples against them (modes covered, share of high-quality samples) as in the unrolled-GAN
and VEEGAN papers.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ._validate import check_int, check_real, check_tensor
from .device import resolve_device

__all__ = [
    "moons",
    "ring",
    "grid",
    "swiss_roll",
    "digits",
    "ring_centers",
    "grid_centers",
    "mode_coverage",
]


def _seed(seed: object) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer or None; got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32); got {seed}")
    return int(seed)


def _noise(value: object, name: str) -> float:
    return check_real(value, name, low=0)


def _dtype(dtype: object) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a floating torch dtype such as torch.float32; got {dtype!r}"
        )
    return dtype


def _out(points: np.ndarray, dtype: torch.dtype, device) -> Tensor:
    return torch.as_tensor(points, dtype=_dtype(dtype)).to(resolve_device(device))


def moons(
    n: int, noise: float = 0.05, seed: int | None = None, *, dtype=torch.float32, device=None
) -> Tensor:
    """``n`` points of scikit-learn's two moons with Gaussian noise of standard deviation
    ``noise``; shape ``(n, 2)``. The upper moon is the unit half circle centred at the origin,
    the lower one is shifted to (1, 0.5)."""
    from sklearn.datasets import make_moons

    n = check_int(n, "n", minimum=1)
    points, _ = make_moons(n, noise=_noise(noise, "noise"), random_state=_seed(seed))
    return _out(points, dtype, device)


def ring_centers(
    modes: int = 8, radius: float = 2.0, *, dtype=torch.float32, device=None
) -> Tensor:
    """The ``modes`` means of :func:`ring`: equally spaced on the circle of ``radius``, the first
    at angle 0; shape ``(modes, 2)``."""
    modes = check_int(modes, "modes", minimum=1)
    radius = check_real(radius, "radius", positive=True)
    angles = 2 * math.pi * np.arange(modes) / modes
    return _out(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), dtype, device)


def grid_centers(
    side: int = 5, spacing: float = 2.0, *, dtype=torch.float32, device=None
) -> Tensor:
    """The ``side²`` means of :func:`grid`: a square lattice with ``spacing`` between neighbours,
    centred at the origin (side 5, spacing 2 gives coordinates −4, −2, 0, 2, 4)."""
    side = check_int(side, "side", minimum=1)
    spacing = check_real(spacing, "spacing", positive=True)
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    return _out(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype, device)


def _mixture(centers: np.ndarray, n: int, std: float, seed: int | None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(centers), size=n)
    return centers[which] + std * rng.standard_normal((n, 2))


def ring(
    n: int,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    seed: int | None = None,
    *,
    dtype=torch.float32,
    device=None,
) -> Tensor:
    """``n`` points from an equal-weight mixture of ``modes`` isotropic Gaussians (standard
    deviation ``std`` per coordinate) centred on :func:`ring_centers`; shape ``(n, 2)``."""
    n = check_int(n, "n", minimum=1)
    centers = ring_centers(modes, radius, dtype=torch.float64, device="cpu").numpy()
    return _out(_mixture(centers, n, _noise(std, "std"), _seed(seed)), dtype, device)


def grid(
    n: int,
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.02,
    seed: int | None = None,
    *,
    dtype=torch.float32,
    device=None,
) -> Tensor:
    """``n`` points from an equal-weight mixture of ``side²`` isotropic Gaussians (standard
    deviation ``std``) centred on :func:`grid_centers`; shape ``(n, 2)``."""
    n = check_int(n, "n", minimum=1)
    centers = grid_centers(side, spacing, dtype=torch.float64, device="cpu").numpy()
    return _out(_mixture(centers, n, _noise(std, "std"), _seed(seed)), dtype, device)


def swiss_roll(
    n: int, noise: float = 0.0, seed: int | None = None, *, dtype=torch.float32, device=None
) -> tuple[Tensor, Tensor]:
    """``n`` points of scikit-learn's swiss roll, shape ``(n, 3)``, and the roll parameter
    ``t`` of each point, shape ``(n,)`` (the position along the spiral, in [1.5π, 4.5π]). The roll
    lies in the (x, z) plane; y is the width direction. ``(x, z)`` is the 2-D projection the
    model chapters fit."""
    from sklearn.datasets import make_swiss_roll

    n = check_int(n, "n", minimum=1)
    points, t = make_swiss_roll(n, noise=_noise(noise, "noise"), random_state=_seed(seed))
    return _out(points, dtype, device), _out(t, dtype, device)


def digits(*, dtype=torch.float32, device=None) -> tuple[Tensor, Tensor]:
    """scikit-learn's bundled handwritten digits: 1 797 images of 8×8 pixels, flattened to
    ``(1797, 64)`` and scaled from the original 0–16 grey levels to [0, 1], and their labels
    (``int64``, 0–9). The data ship with scikit-learn; nothing is downloaded."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    dev = resolve_device(device)
    images = torch.as_tensor(bunch.data / 16.0, dtype=_dtype(dtype)).to(dev)
    return images, torch.as_tensor(bunch.target, dtype=torch.int64).to(dev)


#: The PacGAN convention for a covered mode: at least 20 high-quality samples out of 2 500, a share
#: of 0.008 of the samples scored (the default of :func:`mode_coverage`).
PACGAN_MIN_SHARE = 20 / 2500


def mode_coverage(
    samples: Tensor,
    centers: Tensor,
    std: float,
    *,
    threshold: float = 3.0,
    min_share: float = PACGAN_MIN_SHARE,
    min_count: int = 1,
) -> tuple[int, float]:
    """Score 2-D samples against a mixture's means, as the unrolled-GAN, VEEGAN and PacGAN papers
    do.

    A sample is *high quality* when it lies within ``threshold · std`` (Euclidean distance) of its
    nearest mean. A mode is *covered* when at least ``max(min_count, ⌈min_share · n⌉)`` of the
    ``n`` samples are high-quality samples with it as their nearest mean. The default
    ``min_share = 20 / 2500`` (:data:`PACGAN_MIN_SHARE`) is the PacGAN convention: 20 samples
    when 2 500 are scored, 16 of 2 000, 4 of 500; a mode that a generator only grazes is not
    counted. ``min_share=0`` gives the older convention of the unrolled-GAN and VEEGAN papers
    (one high-quality sample is enough).

    Returns
    -------
    (modes covered, share of high-quality samples in [0, 1])
    """
    samples = check_tensor(samples, "samples", ndim=2)
    centers = check_tensor(centers, "centers", ndim=2)
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples and centers must have the same number of columns; got "
            f"{samples.shape[1]} and {centers.shape[1]}"
        )
    std = check_real(std, "std")
    threshold = check_real(threshold, "threshold")
    if std <= 0 or threshold <= 0:
        raise ValueError(f"std and threshold must be > 0; got {std} and {threshold}")
    min_share = check_real(min_share, "min_share")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share must lie in [0, 1]; got {min_share}")
    min_count = check_int(min_count, "min_count", minimum=1)
    # the tolerance keeps 20/2500 · 2500 at 20 despite rounding in the float product
    needed = max(min_count, math.ceil(min_share * samples.shape[0] - 1e-9))
    dist = torch.cdist(samples.detach().double(), centers.detach().double().to(samples.device))
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= threshold * std
    counts = torch.bincount(nearest[good], minlength=centers.shape[0])
    return int((counts >= needed).sum()), float(good.double().mean())
