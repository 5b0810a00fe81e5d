"""Score-based models: a noise-conditional score network, denoising score matching and
annealed Langevin sampling."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .._validate import (
    as_tensor_param,
    check_callable,
    check_int,
    check_iterations,
    check_positive,
    check_real,
    check_rows,
    check_same_shape,
    check_tensor,
)
from ..device import resolve_device
from ..models import GenerativeModel, batches, fit_run, merge_hyper
from ._common import _adam_fit
from .energy import langevin


def mixture_score(x: Tensor, centers: Tensor, std: float, sigma: float = 0.0) -> Tensor:
    """Score ``∇ log p_σ(x)`` of an equal-weight mixture of ``N(c_k, std² I)`` convolved with
    ``N(0, σ² I)`` (so each component has variance ``std² + σ²``)."""
    x = check_tensor(x, "x", ndim=2)
    centers = check_tensor(centers, "centers", ndim=2)
    var = check_real(std, "std", positive=True) ** 2 + check_real(sigma, "sigma") ** 2
    diff = centers[None, :, :].to(x) - x[:, None, :]  # (N, K, d)
    logw = torch.log_softmax(-(diff**2).sum(-1) / (2 * var), dim=1)  # responsibilities
    return (torch.exp(logw)[:, :, None] * diff).sum(1) / var


class ScoreNet(GenerativeModel):
    """A noise-conditional score network ``s(x, σ)`` for 2-D data (input ``[x, log σ]``)."""

    family = "zoo-score"

    def __init__(
        self,
        dim: int = 2,
        hidden: int = 128,
        sigma_min: float = 0.05,
        sigma_max: float = 2.0,
        levels: int = 10,
    ):
        super().__init__(
            dim=dim, hidden=hidden, sigma_min=sigma_min, sigma_max=sigma_max, levels=levels
        )
        d, h = check_int(dim, "dim"), check_int(hidden, "hidden")
        self.net = nn.Sequential(
            nn.Linear(d + 1, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, d)
        )
        lo, hi = (
            check_real(sigma_min, "sigma_min", positive=True),
            check_real(sigma_max, "sigma_max", positive=True),
        )
        if not lo < hi:
            raise ValueError(f"need sigma_min < sigma_max; got {lo}, {hi}")
        levels = check_int(levels, "levels", minimum=2)
        self.register_buffer(
            "sigmas", torch.exp(torch.linspace(math.log(hi), math.log(lo), levels))
        )

    def forward(self, x: Tensor, sigma: Tensor) -> Tensor:
        x = check_rows(x, "x", self.net[-1].out_features, finite=False)
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1)
        if sigma.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"sigma needs one level or one per row of x; got {sigma.shape[0]}")
        check_positive(sigma, "sigma")
        sigma = sigma.expand(x.shape[0], 1)
        # Output scaled by 1/σ: the true score of the noised data has that size.
        return self.net(torch.cat([x, torch.log(sigma)], dim=1)) / sigma

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        steps_per_level: int = 60,
        step_scale: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Annealed Langevin from ``N(0, σ_max² I)`` down the noise levels."""
        return annealed_langevin(
            self,
            check_int(n, "n"),
            steps_per_level=steps_per_level,
            step_scale=step_scale,
            generator=generator,
        )


def dsm_loss(model: ScoreNet, x: Tensor, sigma: Tensor, noise: Tensor) -> Tensor:
    """Denoising score matching (eq-zoo-dsm), weighted by σ² so every level counts alike:
    ``mean ‖σ s(x + σ ε, σ) + ε‖²``. The minimiser is the score of the noised data density.

    ``sigma`` is one level for all rows (a number or a 0-d tensor) or one per row, of shape
    ``(n,)`` or ``(n, 1)``; every level must be > 0."""
    if not isinstance(model, ScoreNet):
        raise TypeError(f"model must be a ScoreNet; got {type(model).__name__}")
    x = check_rows(x, "x", model.net[-1].out_features)
    noise = check_tensor(noise, "noise")
    check_same_shape(x, noise, "x", "noise")
    sigma = as_tensor_param(sigma, "sigma", like=x)
    check_positive(sigma, "sigma")
    if sigma.numel() not in (1, x.shape[0]) or sigma.ndim > 2:
        raise ValueError(
            f"sigma must be one level or one per row ((n,) or (n, 1) with n = {x.shape[0]}); "
            f"got shape {tuple(sigma.shape)}"
        )
    sigma = sigma.reshape(-1, 1)
    x_noisy = x + sigma * noise
    return ((sigma * model(x_noisy, sigma) + noise) ** 2).sum(dim=1).mean()


#: Every default of :func:`fit_score`.
DEFAULTS: dict[str, object] = {
    # number of Adam steps
    "steps": 1500,
    # width of the score network's two hidden layers
    "hidden": 128,
    # smallest and largest noise level σ (geometric ladder between them)
    "sigma_min": 0.05,
    "sigma_max": 2.0,
    # number of noise levels
    "levels": 10,
    # Adam's learning rate (constant)
    "lr": 2e-3,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 256,
}


def fit_score(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> ScoreNet:
    """Train a :class:`ScoreNet` by denoising score matching on every noise level;
    hyper-parameters ``hidden``, ``sigma_min``, ``sigma_max``, ``levels``, ``lr``,
    ``batch_size`` (defaults in :data:`DEFAULTS`)."""
    h = merge_hyper(DEFAULTS, hyper)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        dev, gen = run.device, run.generator
        levels = (h["sigma_min"], h["sigma_max"], h["levels"])
        model = ScoreNet(run.data.shape[1], h["hidden"], *levels).to(dev)
        it = batches(run.data, h["batch_size"], gen)

        def loss_fn():
            x = next(it)
            k = torch.randint(len(model.sigmas), (x.shape[0],), generator=gen).to(dev)
            noise = torch.randn(x.shape, generator=gen).to(dev)
            return dsm_loss(model, x, model.sigmas[k][:, None], noise)

        return _adam_fit(model, loss_fn, run, h["lr"], "score matching", "dsm")


@torch.no_grad()
def annealed_langevin(
    score: Callable[[Tensor, Tensor], Tensor] | ScoreNet,
    n: int,
    *,
    sigmas: Tensor | None = None,
    dim: int = 2,
    steps_per_level: int = 60,
    step_scale: float = 0.1,
    generator: torch.Generator | None = None,
    device=None,
) -> Tensor:
    """Annealed Langevin dynamics (Song & Ermon): Langevin at each noise level σ_k with step
    ``η_k = step_scale · σ_k²``, from the largest σ to the smallest, starting at ``N(0, σ_1² I)``.

    ``score(x, sigma)`` may be a :class:`ScoreNet` (its ``sigmas`` are used) or any callable, in
    which case ``sigmas`` (decreasing) is required.
    """
    score = check_callable(score, "score")
    if isinstance(score, ScoreNet):
        sigmas = score.sigmas if sigmas is None else sigmas
        device = score.device if device is None else device
    if sigmas is None:
        raise ValueError("pass the noise levels `sigmas` for a plain score function")
    sigmas = check_tensor(sigmas, "sigmas", ndim=1)
    dev = resolve_device(device)
    n, dim = check_int(n, "n"), check_int(dim, "dim")
    steps_per_level = check_iterations(steps_per_level, "steps_per_level")
    scale = check_real(step_scale, "step_scale", positive=True)
    x = float(sigmas[0]) * torch.randn(n, dim, generator=generator).to(dev)
    for s in sigmas:
        s_t = torch.full((n, 1), float(s), device=dev)
        x = langevin(
            lambda y, s_t=s_t: score(y, s_t),
            x,
            scale * float(s) ** 2,
            steps_per_level,
            generator=generator,
        )
    return x
