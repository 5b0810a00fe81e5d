"""What the zoo chapter's figures compute (moved from ``companion/explore/zoo.py``): the ring
density on a grid and its radial moments, Langevin chains on the ring, particles carried by a
continuous flow, and a transformer's next-symbol distributions at a temperature with a sequence
drawn from them by common random numbers."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._validate import check_array, check_int, check_iterations, check_real, check_tensor
from .energy import langevin, ring_energy, ring_log_partition
from .ode import VelocityNet, rk4
from .transformer import TinyTransformer

__all__ = [
    "ring_density_grid",
    "ring_radial_moments",
    "langevin_ring",
    "flow_paths",
    "next_symbol_probs",
    "sample_by_uniforms",
]

F64 = torch.float64


def ring_density_grid(
    limit: float, n: int = 81, radius: float = 2.0, width: float = 0.25
) -> tuple[Tensor, Tensor]:
    """Axis values ``(n,)`` on ``[−limit, limit]`` and the normalised ring density
    ``e^{−E} / Z`` on the ``n × n`` grid (rows along the second coordinate), float64."""
    c = torch.linspace(
        -check_real(limit, "limit", positive=True), limit, check_int(n, "n", minimum=2), dtype=F64
    )
    xx, yy = torch.meshgrid(c, c, indexing="xy")
    e = ring_energy(torch.stack([xx, yy], -1), radius, width)
    return c, torch.exp(-e - ring_log_partition(radius, width))


def ring_radial_moments(radius: float = 2.0, width: float = 0.25) -> tuple[float, float]:
    """Mean and standard deviation of ``‖x‖`` under the ring density (radial density
    ``∝ ρ e^{−(ρ − r)²/2w²}``), by the trapezoidal rule on 200 001 points of [0, r + 12 w]."""
    r, w = check_real(radius, "radius", positive=True), check_real(width, "width", positive=True)
    rho = torch.linspace(0, r + 12 * w, 200_001, dtype=F64)
    dens = rho * torch.exp(-((rho - r) ** 2) / (2 * w**2))
    dens = dens / torch.trapezoid(dens, rho)
    mean = float(torch.trapezoid(rho * dens, rho))
    var = float(torch.trapezoid((rho - mean) ** 2 * dens, rho))
    return mean, math.sqrt(var)


def langevin_ring(
    step: float,
    n: int = 400,
    n_steps: int = 100,
    seed: int = 0,
    radius: float = 2.0,
    width: float = 0.25,
) -> Tensor:
    """Unadjusted Langevin on the ring energy: ``n`` chains from a blob at (r, 0) (std 0.15),
    ``n_steps`` steps of size ``step``, noise from a private generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    r, w2 = (
        check_real(radius, "radius", positive=True),
        check_real(width, "width", positive=True) ** 2,
    )
    x0 = torch.tensor([r, 0.0], dtype=F64) + 0.15 * torch.randn(
        check_int(n, "n"), 2, generator=gen, dtype=F64
    )

    def score(x):  # ring_score without its argument checks (one call per step)
        norm = torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp(min=1e-12)
        return (r / norm - 1) * x / w2

    return langevin(score, x0, step, n_steps, generator=gen)


@torch.no_grad()
def flow_paths(model: VelocityNet, n: int = 600, n_steps: int = 40, seed: int = 0) -> Tensor:
    """Positions ``(n_steps + 1, n, 2)`` (CPU) of ``n`` noise points carried by the flow from
    t = 0 to 1, one RK4 step per interval; the noise from a private generator."""
    if not isinstance(model, VelocityNet):
        raise TypeError(f"model must be a VelocityNet; got {type(model).__name__}")
    n_steps = check_iterations(n_steps, "n_steps")
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    x = torch.randn(check_int(n, "n"), 2, generator=gen).to(model.device)
    out = [x.cpu()]
    h = 1.0 / n_steps
    for i in range(n_steps):
        x = rk4(model, x, i * h, (i + 1) * h, 1)
        out.append(x.cpu())
    return torch.stack(out)


@torch.no_grad()
def next_symbol_probs(model: TinyTransformer, vocab: int, temperature: float) -> Tensor:
    """``softmax(logits / T)`` of the model's next symbol after every two-symbol context
    ``(a, b)``, row ``a · vocab + b``: shape ``(vocab², vocab)``, float64 on the CPU."""
    t = check_real(temperature, "temperature", positive=True)
    v = check_int(vocab, "vocab", minimum=2, maximum=model.vocab)
    ctx = torch.tensor([[a, b] for a in range(v) for b in range(v)], dtype=torch.int64)
    logits = model(ctx.to(model.device))[:, -1].cpu().double()
    return torch.softmax(logits / t, dim=-1)


def sample_by_uniforms(probs: Tensor, uniforms, start: tuple[int, int] = (0, 1)) -> list[int]:
    """A sequence from the second-order chain ``probs`` (rows as in :func:`next_symbol_probs`),
    each symbol the inverse CDF of the next of the given uniforms (common random numbers: the
    same uniforms give comparable sequences at every temperature). ``uniforms[k]`` draws symbol
    ``k``; the first two symbols are ``start``."""
    probs = check_tensor(probs, "probs", ndim=2)
    v = probs.shape[-1]
    if probs.shape[0] != v * v:
        raise ValueError(f"probs must have shape (V², V); got {tuple(probs.shape)}")
    if not isinstance(start, (tuple, list)) or len(start) != 2:
        raise ValueError(f"start must be two symbols (a, b); got {start!r}")
    start = tuple(check_int(s, "start symbol", minimum=0, maximum=v - 1) for s in start)
    uniforms = check_array(uniforms, "uniforms")
    cdf = torch.cumsum(probs, dim=-1)
    seq = list(start)
    for k in range(len(seq), len(uniforms)):
        row = cdf[seq[-2] * v + seq[-1]]
        seq.append(min(int(torch.searchsorted(row, float(uniforms[k]))), v - 1))
    return seq
