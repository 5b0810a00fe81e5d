"""Energy-based models: the ring energy, its partition function and Langevin sampling."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .._validate import check_callable, check_int, check_iterations, check_real, check_tensor


def ring_energy(x: Tensor, radius: float = 2.0, width: float = 0.25) -> Tensor:
    """``E(x) = (‖x‖ − r)² / (2 w²)``: low energy on the circle of radius ``r``."""
    x = check_tensor(x, "x", min_ndim=1)
    r, w = check_real(radius, "radius", positive=True), check_real(width, "width", positive=True)
    return (torch.linalg.vector_norm(x, dim=-1) - r) ** 2 / (2 * w**2)


def ring_score(x: Tensor, radius: float = 2.0, width: float = 0.25) -> Tensor:
    """``−∇E(x) = −(‖x‖ − r) / w² · x / ‖x‖`` (the score of ``p ∝ e^{−E}``)."""
    x = check_tensor(x, "x", min_ndim=1)
    r, w = check_real(radius, "radius", positive=True), check_real(width, "width", positive=True)
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp(min=1e-12)
    return -(norm - r) / w**2 * x / norm


def ring_log_partition(radius: float = 2.0, width: float = 0.25) -> float:
    """``log Z`` of the ring energy in closed form (eq-zoo-ring-z):
    ``Z = 2π [w² e^{−r²/2w²} + r w sqrt(2π) Φ(r/w)]``."""
    r, w = check_real(radius, "radius", positive=True), check_real(width, "width", positive=True)
    phi = 0.5 * math.erfc(-r / (w * math.sqrt(2)))
    z = 2 * math.pi * (w**2 * math.exp(-(r**2) / (2 * w**2)) + r * w * math.sqrt(2 * math.pi) * phi)
    return math.log(z)


def grid_log_partition(energy: Callable[[Tensor], Tensor], limit: float, n: int = 401) -> float:
    """``log Z`` of a 2-D energy by the midpoint rule on ``[−limit, limit]²`` with ``n²`` cells
    (in float64, with a log-sum-exp so large energies do not underflow)."""
    energy = check_callable(energy, "energy")
    limit = check_real(limit, "limit", positive=True)
    n = check_int(n, "n", minimum=2)
    h = 2 * limit / n
    c = -limit + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(c, c, indexing="ij")
    e = energy(torch.stack([xx, yy], dim=-1))
    return float(torch.logsumexp(-e.flatten(), dim=0) + 2 * math.log(h))


def langevin(
    score: Callable[[Tensor], Tensor],
    x0: Tensor,
    step: float,
    n_steps: int,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Unadjusted Langevin: ``x ← x + η s(x) + sqrt(2η) ξ``, ``ξ ~ N(0, I)`` (eq-zoo-langevin).

    ``score(x)`` is ``∇ log p(x) = −∇E(x)``. As ``η → 0`` and the number of steps grows the
    samples approach ``p``; a finite ``η`` leaves a bias (see :func:`ula_gaussian_variance`).
    The noise is drawn on the CPU with ``generator`` and moved to ``x0``'s device.
    """
    score = check_callable(score, "score")
    x = check_tensor(x0, "x0", min_ndim=1).clone()
    eta = check_real(step, "step", positive=True)
    n_steps = check_iterations(n_steps, "n_steps", minimum=0)
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = x + eta * score(x) + math.sqrt(2 * eta) * noise
    return x


def ula_gaussian_variance(sigma: float, step: float) -> float:
    """Stationary variance of unadjusted Langevin on ``N(0, σ²)``: ``σ² / (1 − η / (2σ²))``
    (eq-zoo-ula-bias); ``inf`` when ``η >= 2σ²`` (the chain diverges)."""
    s, eta = check_real(sigma, "sigma", positive=True), check_real(step, "step", positive=True)
    if eta >= 2 * s**2:
        return math.inf
    return s**2 / (1 - eta / (2 * s**2))
