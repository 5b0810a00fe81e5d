"""Denoising diffusion models: the chapter "Diffusion models" in code.

Conventions (the book's, stated once here):

* **t is 1-indexed**, as in Ho et al. (2020): the forward chain is x_0 (data), x_1, ..., x_T, with
  :math:`q(x_t \\mid x_{t-1}) = \\mathcal N(\\sqrt{1-\\beta_t}\\,x_{t-1}, \\beta_t I)` for
  t = 1..T. :math:`\\alpha_t = 1 - \\beta_t`, :math:`\\bar\\alpha_t = \\prod_{s=1}^t \\alpha_s`
  and :math:`\\bar\\alpha_0 = 1`. **diffusers counts from 0**: its timestep ``k`` (0..T-1) is our
  ``t = k + 1``; its ``betas[k]`` is our β_{k+1}, its ``alphas_cumprod[k]`` our ᾱ_{k+1}, and its
  ``step(eps, k, x)`` goes from our x_{k+1} to x_k.
* σ is a standard deviation; a "variance" is σ². Every log-density is in nats.
* :attr:`NoiseSchedule.betas` is a float64 tensor of length T whose entry ``t - 1`` is β_t;
  every method takes the 1-indexed t (a Python int or an integer tensor, one t per row).
* A :class:`DiffusionModel` works on *standardised* data z = (x − shift) / scale (shift = mean,
  scale = one overall standard deviation, both stored in the model); :meth:`DiffusionModel.sample`
  maps back, and :meth:`DiffusionModel.nll_bound` reports the bound on −log p(x) in the data's
  own coordinates (it adds d·log scale).

The family contract (see :mod:`companion.models`)::

    model = diffusion.fit(data, steps=None, seed=0, device=None, progress=True, **hyper)
    model.sample(n)                              # ancestral DDPM sampling, all T steps
    model.sample(n, method="ddim", steps=20)     # deterministic DDIM, 20 network calls
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ._validate import (
    MAX_LAYERS,
    check_broadcastable,
    check_choice,
    check_int,
    check_iterations,
    check_positive,
    check_real,
    check_rows,
    check_tensor,
)
from .models import (
    GenerativeModel,
    batches,
    check_lr,
    fit_run,
    gaussian_log_prob,
    merge_hyper,
    train,
)

__all__ = [
    "NoiseSchedule",
    "timestep_embedding",
    "EpsilonMLP",
    "DiffusionModel",
    "gaussian_kl",
    "ddpm_sample",
    "ddim_sample",
    "annealed_langevin",
    "gaussian_eps",
    "sliced_wasserstein",
    "fit",
    "DEFAULTS",
    "PRETRAINED",
]

F64 = torch.float64
_KINDS = ("linear", "cosine")
_VARIANCES = ("beta", "beta_tilde")
EpsFn = Callable[[Tensor, Tensor], Tensor]


# -- the noise schedule -------------------------------------------------------------------------
class NoiseSchedule:
    """The fixed forward process: β_1..β_T and everything derived from them (1-indexed t).

    Parameters
    ----------
    kind
        ``"linear"``: β_t evenly spaced from ``beta_start`` (t = 1) to ``beta_end`` (t = T), as in
        Ho et al. (2020). ``"cosine"``: ᾱ_t = f(t/T)/f(0) with f(u) = cos²((u + s)/(1 + s)·π/2),
        i.e. β_t = 1 − f(t/T)/f((t−1)/T) clipped at ``max_beta`` (Nichol & Dhariwal 2021;
        diffusers' ``"squaredcos_cap_v2"``).
    T
        Number of forward steps.
    """

    def __init__(
        self,
        kind: str = "linear",
        T: int = 1000,
        *,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        cosine_s: float = 0.008,
        max_beta: float = 0.999,
    ) -> None:
        check_choice(kind, "kind", _KINDS)
        T = check_int(T, "T", minimum=1)
        beta_start = check_real(beta_start, "beta_start")
        beta_end = check_real(beta_end, "beta_end")
        cosine_s = check_real(cosine_s, "cosine_s")
        max_beta = check_real(max_beta, "max_beta")
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(
                f"need 0 < beta_start <= beta_end < 1; got beta_start={beta_start}, "
                f"beta_end={beta_end}"
            )
        if not 0 < max_beta < 1:
            raise ValueError(f"max_beta must lie in (0, 1); got {max_beta}")
        if cosine_s < 0:
            raise ValueError(f"cosine_s must be >= 0; got {cosine_s}")
        self.kind, self.T = kind, T
        if kind == "linear":
            betas = torch.linspace(beta_start, beta_end, T, dtype=F64)
        else:
            u = torch.arange(T + 1, dtype=F64) / T
            f = torch.cos((u + cosine_s) / (1 + cosine_s) * (math.pi / 2)) ** 2
            betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
        #: β_t at index t − 1 (float64, CPU).
        self.betas = betas
        zero, one = torch.zeros(1, dtype=F64), torch.ones(1, dtype=F64)
        alpha_bar = torch.cat([one, torch.cumprod(1 - betas, 0)])
        # Tables indexed directly by t = 0..T (entry 0 only meaningful for alpha_bar).
        self._tables = {
            "beta": torch.cat([zero, betas]),
            "alpha": torch.cat([one, 1 - betas]),
            "alpha_bar": alpha_bar,
            "beta_tilde": torch.cat(
                [zero, zero, (1 - alpha_bar[1:-1]) / (1 - alpha_bar[2:]) * betas[1:]]
            ),
        }
        self._cache: dict[tuple, Tensor] = {}

    def __repr__(self) -> str:
        return f"NoiseSchedule(kind={self.kind!r}, T={self.T})"

    # -- indexing --------------------------------------------------------------------------------
    def _check_t(self, t: object, name: str = "t", minimum: int = 1) -> int | Tensor:
        if isinstance(t, Tensor):
            if t.dtype in (torch.bool,) or t.is_floating_point() or t.is_complex():
                raise TypeError(f"{name} must be an integer tensor; got dtype {t.dtype}")
            if t.numel() == 0:
                raise ValueError(f"{name} is empty")
            lo, hi = int(t.min()), int(t.max())
            if lo < minimum or hi > self.T:
                raise ValueError(
                    f"{name} must lie in {minimum}..{self.T} (1-indexed; diffusers' timestep k "
                    f"is t = k + 1); got values in {lo}..{hi}"
                )
            return t.long()
        if isinstance(t, bool) or not isinstance(t, int):
            raise TypeError(f"{name} must be an int or an integer tensor; got {type(t).__name__}")
        if not minimum <= t <= self.T:
            raise ValueError(
                f"{name} must lie in {minimum}..{self.T} (1-indexed; diffusers' timestep k is "
                f"t = k + 1); got {t}"
            )
        return t

    def _get(self, name: str, t: int | Tensor, like: Tensor | None = None) -> Tensor:
        """Table ``name`` at ``t``; with ``like``, shaped to broadcast against it (one t per row)
        and in its dtype/device."""
        device = like.device if like is not None else torch.device("cpu")
        key = (name, str(device))
        table = self._cache.get(key)
        if table is None:
            table = self._cache[key] = self._tables[name].to(device)
        if isinstance(t, Tensor):
            value = table[t.to(device)]
            if like is not None:
                value = value.reshape(value.shape + (1,) * (like.ndim - value.ndim))
        else:
            value = table[t]
        return value if like is None else value.to(like.dtype)

    # -- the scalars of the schedule -------------------------------------------------------------
    def beta(self, t: int | Tensor) -> Tensor:
        """β_t (float64)."""
        return self._get("beta", self._check_t(t))

    def alpha(self, t: int | Tensor) -> Tensor:
        """α_t = 1 − β_t (float64)."""
        return self._get("alpha", self._check_t(t))

    def alpha_bar(self, t: int | Tensor) -> Tensor:
        """ᾱ_t = α_1 ⋯ α_t (float64); t = 0 is allowed and gives 1."""
        return self._get("alpha_bar", self._check_t(t, minimum=0))

    def snr(self, t: int | Tensor) -> Tensor:
        """Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) of q(x_t | x_0)."""
        ab = self.alpha_bar(self._check_t(t))
        return ab / (1 - ab)

    def log_snr(self, t: int | Tensor) -> Tensor:
        """log(ᾱ_t / (1 − ᾱ_t)), computed as log ᾱ_t − log1p(−ᾱ_t)."""
        ab = self.alpha_bar(self._check_t(t))
        return torch.log(ab) - torch.log1p(-ab)

    def posterior_variance(self, t: int | Tensor) -> Tensor:
        """β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of q(x_{t−1} | x_t, x_0);
        β̃_1 = 0 (x_0 is known exactly given x_1 and x_0)."""
        return self._get("beta_tilde", self._check_t(t))

    # -- the forward process and its posterior ---------------------------------------------------
    def q_sample(self, x0: Tensor, t: int | Tensor, noise: Tensor) -> Tensor:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw from q(x_t | x_0) given the noise ε
        (eq-diffusion-marginal). ``t`` is an int or one t per row of ``x0``."""
        x0, noise, t = self._check_xt(x0, "x0", t, noise, "noise")
        ab = self._get("alpha_bar", t, x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def q_posterior(self, x0: Tensor, xt: Tensor, t: int | Tensor) -> tuple[Tensor, Tensor]:
        """Mean and variance of q(x_{t−1} | x_t, x_0) (eq-diffusion-posterior):
        μ̃ = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t, and β̃_t.
        The variance is returned shaped to broadcast against ``x0`` (one value per row)."""
        x0, xt, t = self._check_xt(x0, "x0", t, xt, "xt")
        beta, alpha = self._get("beta", t, x0), self._get("alpha", t, x0)
        ab = self._get("alpha_bar", t, x0)
        ab_prev = self._get("alpha_bar", t - 1, x0)
        mean = (ab_prev.sqrt() * beta * x0 + alpha.sqrt() * (1 - ab_prev) * xt) / (1 - ab)
        return mean, self._get("beta_tilde", t, x0) * torch.ones_like(mean[..., :1])

    def predict_x0(self, xt: Tensor, t: int | Tensor, eps: Tensor) -> Tensor:
        """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t: the x_0 that ``eps`` implies."""
        xt, eps, t = self._check_xt(xt, "xt", t, eps, "eps")
        ab = self._get("alpha_bar", t, xt)
        return (xt - (1 - ab).sqrt() * eps) / ab.sqrt()

    def p_mean(self, xt: Tensor, t: int | Tensor, eps: Tensor) -> Tensor:
        """Mean of p(x_{t−1} | x_t) for an ε-prediction (eq-diffusion-mu-eps):
        (x_t − β_t / √(1 − ᾱ_t) · ε) / √α_t."""
        xt, eps, t = self._check_xt(xt, "xt", t, eps, "eps")
        beta, alpha = self._get("beta", t, xt), self._get("alpha", t, xt)
        ab = self._get("alpha_bar", t, xt)
        return (xt - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()

    def sampling_variance(self, t: int | Tensor, variance: str = "beta_tilde") -> Tensor:
        """σ_t² of the reverse step: β_t (``"beta"``) or β̃_t (``"beta_tilde"``). Both give 0 at
        t = 1, where the sampler returns the mean (as Ho et al. and diffusers do)."""
        check_choice(variance, "variance", _VARIANCES)
        t = self._check_t(t)
        value = self._get(variance, t)
        first = torch.as_tensor(t, device=value.device) == 1  # t may live on a GPU, the table not
        return torch.where(first, torch.zeros_like(value), value)

    def ddpm_step(
        self,
        xt: Tensor,
        t: int | Tensor,
        eps: Tensor,
        noise: Tensor | None = None,
        variance: str = "beta_tilde",
    ) -> Tensor:
        """One ancestral step x_t → x_{t−1} = p_mean + σ_t z (eq-diffusion-ddpm-step); ``noise``
        is z (drawn if ``None``); at t = 1 no noise is added."""
        mean = self.p_mean(xt, t, eps)
        if noise is None:
            noise = torch.randn_like(xt)
        noise = check_tensor(noise, "noise")
        if noise.shape != xt.shape:
            raise ValueError(f"noise must have xt's shape {tuple(xt.shape)}; got {noise.shape}")
        var = self.sampling_variance(t, variance)
        var = var.reshape(var.shape + (1,) * (xt.ndim - var.ndim)) if var.ndim else var
        return mean + var.to(device=xt.device, dtype=xt.dtype).sqrt() * noise

    def ddim_step(
        self, xt: Tensor, t: int, s: int, eps: Tensor, eta: float = 0.0, noise: Tensor | None = None
    ) -> Tensor:
        """One DDIM step from x_t to x_s, s < t (s = 0 gives the final sample)
        (eq-diffusion-ddim): x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε + σ z, with
        σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s). η = 0 is deterministic."""
        t = self._check_t(t)
        s = self._check_t(s, "s", minimum=0)
        if not isinstance(t, int) or not isinstance(s, int) or s >= t:
            raise ValueError(f"ddim_step needs Python ints s < t; got t={t}, s={s}")
        eta = check_real(eta, "eta", low=0)
        x0 = self.predict_x0(xt, t, eps)
        if noise is not None:
            noise = self._check_xt(xt, "xt", t, noise, "noise")[1]
        ab_t, ab_s = self._tables["alpha_bar"][t], self._tables["alpha_bar"][s]
        sigma2 = eta**2 * (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
        out = ab_s.sqrt().item() * x0 + (1 - ab_s - sigma2).clamp(min=0).sqrt().item() * eps
        if eta > 0:
            z = torch.randn_like(xt) if noise is None else noise
            out = out + sigma2.sqrt().item() * z
        return out

    def ddim_timesteps(self, steps: int) -> list[int]:
        """The ``steps`` times a DDIM run visits, from T down: round(i·T/steps) for
        i = steps..1 (diffusers' ``timestep_spacing="trailing"``, shifted by one); the run then
        ends at t = 0."""
        steps = check_int(steps, "steps", minimum=1, maximum=self.T)  # at most T
        times = [round(i * self.T / steps) for i in range(steps, 0, -1)]
        return [max(1, t) for t in times]

    # -- scores ----------------------------------------------------------------------------------
    def eps_to_score(self, eps: Tensor, t: int | Tensor) -> Tensor:
        """Score of q(x_t) from an ε-prediction (eq-diffusion-score): −ε / √(1 − ᾱ_t)."""
        eps = check_tensor(eps, "eps", min_ndim=1)
        t = self._check_t(t)
        return -eps / (1 - self._get("alpha_bar", t, eps)).sqrt()

    def score_to_eps(self, score: Tensor, t: int | Tensor) -> Tensor:
        """The inverse of :meth:`eps_to_score`: ε = −√(1 − ᾱ_t) · score."""
        score = check_tensor(score, "score", min_ndim=1)
        t = self._check_t(t)
        return -score * (1 - self._get("alpha_bar", t, score)).sqrt()

    # -- the weight L_simple drops ---------------------------------------------------------------
    def elbo_weight(self, t: int | Tensor, variance: str = "beta_tilde") -> Tensor:
        """λ_t = β_t² / (2 σ_t² α_t (1 − ᾱ_t)) with σ_t² = β_t or β̃_t (eq-diffusion-weight):
        the factor in front of ‖ε − ε_θ‖² in the bound's term L_{t−1}, t ≥ 2."""
        check_choice(variance, "variance", _VARIANCES)
        t = self._check_t(t)
        if (torch.as_tensor(t) < 2).any():
            raise ValueError("the weight λ_t is defined for t >= 2 (L_0 is a decoder term)")
        beta, alpha, ab = (self._get(k, t) for k in ("beta", "alpha", "alpha_bar"))
        return beta**2 / (2 * self._get(variance, t) * alpha * (1 - ab))

    def _check_xt(self, x: object, xname: str, t: object, y: object, yname: str):
        x = check_tensor(x, xname, min_ndim=1)
        y = check_tensor(y, yname, min_ndim=1)
        if x.shape != y.shape:
            raise ValueError(
                f"{xname} and {yname} must have the same shape; got {tuple(x.shape)} and "
                f"{tuple(y.shape)}"
            )
        if x.device != y.device:
            raise ValueError(f"{xname} and {yname} must be on one device")
        t = self._check_t(t)
        if isinstance(t, Tensor) and (t.ndim != 1 or t.shape[0] != x.shape[0]):
            raise ValueError(
                f"a tensor t needs one value per row of {xname}: shape ({x.shape[0]},); got "
                f"{tuple(t.shape)}"
            )
        return x, y, t


# -- the network --------------------------------------------------------------------------------
def timestep_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """Sinusoidal features of the (1-indexed) step t: [sin(t ω_k), cos(t ω_k)], k < dim/2, with
    ω_k = max_period^(−k/(dim/2)) — the Transformer's position encoding applied to t."""
    if not isinstance(t, Tensor) or t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError("t must be an integer tensor of steps")
    dim = check_int(dim, "dim", minimum=2)
    if dim % 2:
        raise ValueError(f"dim must be even; got {dim}")
    max_period = check_real(max_period, "max_period", positive=True)
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class EpsilonMLP(nn.Module):
    """ε_θ(x_t, t): an MLP on [x_t, embedding(t)] with SiLU activations, where the time
    embedding is also added (through its own linear map) to every hidden layer."""

    def __init__(self, dim: int = 2, hidden: int = 128, layers: int = 3, emb_dim: int = 32):
        super().__init__()
        dim, hidden = check_int(dim, "dim"), check_int(hidden, "hidden")
        layers = check_int(layers, "layers", maximum=MAX_LAYERS)
        emb_dim = check_int(emb_dim, "emb_dim", minimum=2)
        self.emb_dim = emb_dim
        self.time = nn.Sequential(nn.Linear(emb_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(dim, hidden)
        self.hidden = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, dim)
        self.act = nn.SiLU()

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        check_rows(x, "x", self.inp.in_features, finite=False)
        temb = self.time(timestep_embedding(t, self.emb_dim))
        h = self.act(self.inp(x) + temb)
        for layer in self.hidden:
            h = self.act(layer(h) + temb)
        return self.out(h)


def gaussian_kl(mean1: Tensor, var1: Tensor, mean2: Tensor, var2: Tensor) -> Tensor:
    """KL(N(mean1, var1·I) ‖ N(mean2, var2·I)) in nats, summed over the last dimension
    (variances broadcast against the means)."""
    mean1, mean2 = (
        check_tensor(mean1, "mean1", min_ndim=1),
        check_tensor(mean2, "mean2", min_ndim=1),
    )
    var1, var2 = check_tensor(var1, "var1"), check_tensor(var2, "var2")
    check_positive(var1, "var1")
    check_positive(var2, "var2")
    check_broadcastable(mean1, mean2, "mean1", "mean2")
    check_broadcastable(var1, mean1, "var1", "mean1")
    check_broadcastable(var2, mean2, "var2", "mean2")
    if var1.ndim > mean1.ndim or var2.ndim > mean2.ndim:
        raise ValueError("var1 and var2 must not have more dimensions than the means")
    var1, var2 = var1.expand_as(mean1), var2.expand_as(mean2)
    return 0.5 * (torch.log(var2 / var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1).sum(-1)


# -- samplers (any ε-function) ------------------------------------------------------------------
def _t_column(t: int, x: Tensor) -> Tensor:
    return torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)


def ddpm_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x_T: Tensor,
    *,
    variance: str = "beta_tilde",
    generator: torch.Generator | None = None,
    record: Sequence[int] = (),
) -> tuple[Tensor, dict[int, Tensor]]:
    """Ancestral sampling: from x_T, apply :meth:`NoiseSchedule.ddpm_step` for t = T..1 with
    ``eps_fn(x, t)`` (t one long per row). Returns x_0 and ``{t: x_t}`` for the t in ``record``
    (0 allowed)."""
    if not callable(eps_fn) or not isinstance(schedule, NoiseSchedule):
        raise TypeError("ddpm_sample needs a callable eps_fn and a NoiseSchedule")
    x = check_tensor(x_T, "x_T", ndim=2)
    check_choice(variance, "variance", _VARIANCES)
    keep = {int(r) for r in record}
    if any(r < 0 or r > schedule.T for r in keep):
        raise ValueError(f"record times must lie in 0..{schedule.T}")
    saved = {schedule.T: x.clone()} if schedule.T in keep else {}
    for t in range(schedule.T, 0, -1):
        eps = eps_fn(x, _t_column(t, x))
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = schedule.ddpm_step(x, t, eps, noise=z, variance=variance)
        if t - 1 in keep:
            saved[t - 1] = x.clone()
    return x, saved


def ddim_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x_T: Tensor,
    steps: int,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """DDIM: ``steps`` calls of ``eps_fn`` at :meth:`NoiseSchedule.ddim_timesteps`, each followed
    by :meth:`NoiseSchedule.ddim_step` to the next time (the last to t = 0)."""
    if not callable(eps_fn) or not isinstance(schedule, NoiseSchedule):
        raise TypeError("ddim_sample needs a callable eps_fn and a NoiseSchedule")
    x = check_tensor(x_T, "x_T", ndim=2)
    eta = check_real(eta, "eta", low=0)
    times = schedule.ddim_timesteps(steps)
    for t, s in zip(times, times[1:] + [0], strict=True):
        eps = eps_fn(x, _t_column(t, x))
        z = None
        if eta > 0:
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = schedule.ddim_step(x, t, s, eps, eta=eta, noise=z)
    return x


def annealed_langevin(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x: Tensor,
    *,
    levels: int = 20,
    steps_per_level: int = 20,
    step_scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Langevin dynamics with the score −ε(x, t)/√(1 − ᾱ_t) at ``levels`` decreasing noise levels
    (t from T down to 1, geometrically spaced): at each level, ``steps_per_level`` updates
    x ← x + η s(x) + √(2η) z with η = step_scale·(1 − ᾱ_t) (eq-diffusion-langevin); finally
    x̂_0 at t = 1. A sampler that uses *only* the score, not the reverse chain."""
    if not callable(eps_fn) or not isinstance(schedule, NoiseSchedule):
        raise TypeError("annealed_langevin needs a callable eps_fn and a NoiseSchedule")
    x = check_tensor(x, "x", ndim=2)
    levels = check_iterations(levels, "levels")
    steps_per_level = check_iterations(steps_per_level, "steps_per_level")
    step_scale = check_real(step_scale, "step_scale", positive=True)
    # geometric spacing in t: the levels crowd near t = 1, where q(x_t) changes fastest
    grid = torch.logspace(0, math.log10(schedule.T), levels, dtype=F64).tolist()
    times = sorted({min(schedule.T, max(1, round(v))) for v in grid})
    for t in reversed(times):
        tt = _t_column(t, x)
        eta = step_scale * float(1 - schedule._tables["alpha_bar"][t])
        for _ in range(steps_per_level):
            score = schedule.eps_to_score(eps_fn(x, tt), tt)
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            x = x + eta * score + math.sqrt(2 * eta) * z
    return schedule.predict_x0(x, _t_column(1, x), eps_fn(x, _t_column(1, x)))


def gaussian_eps(mean: Tensor, std: float, schedule: NoiseSchedule) -> EpsFn:
    """The exact (Bayes-optimal) ε-predictor for data N(mean, std² I) (eq-diffusion-gauss-eps):
    E[ε | x_t] = √(1 − ᾱ_t) (x_t − √ᾱ_t μ) / (ᾱ_t σ² + 1 − ᾱ_t)."""
    mean = check_tensor(mean, "mean", ndim=1)
    std = check_real(std, "std", positive=True)

    def eps(x: Tensor, t: Tensor) -> Tensor:
        ab = schedule._get("alpha_bar", t, x)
        m = mean.to(device=x.device, dtype=x.dtype)
        return (1 - ab).sqrt() * (x - ab.sqrt() * m) / (ab * std**2 + 1 - ab)

    return eps


def sliced_wasserstein(
    x: Tensor, y: Tensor, projections: int = 200, p: float = 2, seed: int = 0
) -> float:
    """Sliced Wasserstein distance SW_p between two equal-size point clouds: the p-th root of the
    average over ``projections`` random unit directions θ of W_p^p between the projections
    x·θ and y·θ (sorted-sample formula). Same definition as POT's
    ``ot.sliced_wasserstein_distance`` with the same directions."""
    x = check_tensor(x, "x", ndim=2)
    y = check_tensor(y, "y", ndim=2)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {tuple(x.shape)}, {y.shape}")
    projections = check_int(projections, "projections", minimum=1)
    p = check_real(p, "p", low=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    theta = torch.randn(x.shape[1], projections, generator=gen, dtype=F64)
    theta = theta / theta.norm(dim=0, keepdim=True)
    px = torch.sort(x.detach().cpu().double() @ theta, dim=0).values
    py = torch.sort(y.detach().cpu().double() @ theta, dim=0).values
    return float(((px - py).abs() ** p).mean() ** (1 / p))


# -- the model ----------------------------------------------------------------------------------
class DiffusionModel(GenerativeModel):
    """A DDPM on d-dimensional data: a :class:`NoiseSchedule` plus an :class:`EpsilonMLP`.

    ``shift`` and ``scale`` (buffers) standardise the data: the diffusion runs on
    z = (x − shift)/scale.
    """

    family = "diffusion"

    def __init__(
        self,
        dim: int = 2,
        T: int = 1000,
        schedule: str = "linear",
        hidden: int = 64,
        layers: int = 3,
        emb_dim: int = 32,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
    ) -> None:
        dim = check_int(dim, "dim", minimum=1)
        hidden = check_int(hidden, "hidden", minimum=1)
        layers = check_int(layers, "layers", minimum=1, maximum=MAX_LAYERS)
        emb_dim = check_int(emb_dim, "emb_dim", minimum=2)
        if emb_dim % 2:
            raise ValueError(f"emb_dim must be even; got {emb_dim}")
        super().__init__(
            dim=dim,
            T=T,
            schedule=schedule,
            hidden=hidden,
            layers=layers,
            emb_dim=emb_dim,
            beta_start=beta_start,
            beta_end=beta_end,
        )
        self.noise = NoiseSchedule(schedule, T, beta_start=beta_start, beta_end=beta_end)
        self.net = EpsilonMLP(dim, hidden, layers, emb_dim)
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(()))

    @property
    def T(self) -> int:
        return self.noise.T

    def standardize(self, x: Tensor) -> Tensor:
        return (check_rows(x, "x", self.shift.shape[0]) - self.shift) / self.scale

    def unstandardize(self, z: Tensor) -> Tensor:
        return check_rows(z, "z", self.shift.shape[0]) * self.scale + self.shift

    def eps(self, z: Tensor, t: Tensor) -> Tensor:
        """ε_θ(z_t, t) on standardised coordinates; ``t`` one long per row (1..T)."""
        return self.net(z, t)

    def score(self, z: Tensor, t: Tensor) -> Tensor:
        """The learned score of q(z_t): −ε_θ / √(1 − ᾱ_t) (standardised coordinates)."""
        return self.noise.eps_to_score(self.eps(z, t), t)

    def loss_simple(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """L_simple (eq-diffusion-lsimple) on a batch of *data* ``x``: t uniform on 1..T,
        ε ~ N(0, I), the mean over the batch of ‖ε − ε_θ(x_t, t)‖² (summed over coordinates)."""
        z = self.standardize(x)
        n = z.shape[0]
        t = torch.randint(1, self.T + 1, (n,), generator=generator).to(z.device)
        noise = torch.randn(z.shape, generator=generator).to(z.device)
        zt = self.noise.q_sample(z, t, noise)
        return ((noise - self.eps(zt, t)) ** 2).sum(-1).mean()

    @torch.no_grad()
    def nll_bound(
        self, x: Tensor, variance: str = "beta_tilde", generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """The variational bound on −log p_θ(x) in nats, per row of ``x`` (eq-diffusion-vlb):
        L_T + Σ_{t=2}^T L_{t−1} + L_0, every term with one draw of x_t ~ q(x_t | x_0).

        L_{t−1} = KL(q(x_{t−1}|x_t, x_0) ‖ p_θ(x_{t−1}|x_t)) with p_θ's variance σ_t² = β_t or β̃_t;
        L_0 = −log N(x_0; μ_θ(x_1, 1), β_1 I) (a Gaussian decoder with variance β_1, since β̃_1 = 0);
        L_T = KL(q(x_T|x_0) ‖ N(0, I)). Returns the three parts and their sum ``"bound"``, in the
        data's coordinates (d·log scale added to L_0)."""
        check_choice(variance, "variance", _VARIANCES)
        x = check_tensor(x, "x", ndim=2)
        if x.shape[1] != self.config["dim"]:
            raise ValueError(f"x must have {self.config['dim']} columns; got {tuple(x.shape)}")
        z = self.standardize(x.to(device=self.device, dtype=self.scale.dtype))
        n, d = z.shape
        sched = self.noise
        ab_T = sched._get("alpha_bar", self.T, z)
        prior = gaussian_kl(
            ab_T.sqrt() * z,
            (1 - ab_T).expand(1),
            torch.zeros_like(z),
            torch.ones(1, dtype=z.dtype, device=z.device),
        )
        middle = torch.zeros(n, dtype=z.dtype, device=z.device)
        for t in range(self.T, 1, -1):
            tt = _t_column(t, z)
            noise = torch.randn(z.shape, generator=generator).to(z.device)
            zt = sched.q_sample(z, tt, noise)
            mean_q, var_q = sched.q_posterior(z, zt, tt)
            mean_p = sched.p_mean(zt, tt, self.eps(zt, tt))
            var_p = sched._get(variance, tt, z)
            middle = middle + gaussian_kl(mean_q, var_q, mean_p, var_p)
        t1 = _t_column(1, z)
        z1 = sched.q_sample(z, t1, torch.randn(z.shape, generator=generator).to(z.device))
        mean_p = sched.p_mean(z1, t1, self.eps(z1, t1))
        var1 = sched._get("beta", 1, z)
        decoder = -gaussian_log_prob(z, mean_p, 0.5 * torch.log(var1)) + d * torch.log(self.scale)
        return {
            "prior": prior,
            "diffusion": middle,
            "decoder": decoder,
            "bound": prior + middle + decoder,
        }

    @torch.no_grad()
    def sample(
        self,
        n: int,
        method: str = "ddpm",
        steps: int | None = None,
        *,
        variance: str = "beta_tilde",
        eta: float = 0.0,
        seed: int | None = None,
        record: Sequence[int] = (),
    ):
        """``n`` samples on the model's device (data coordinates).

        ``method="ddpm"``: ancestral sampling through all T steps (``steps`` must be None or T),
        reverse variance σ_t² = β̃_t (``variance="beta_tilde"``, default) or β_t.
        ``method="ddim"``: DDIM with ``steps`` network calls (default 50), ``eta`` (0:
        deterministic). ``method="langevin"``: :func:`annealed_langevin` with ``steps`` noise
        levels (default 20) of 20 updates each. With ``record`` (ddpm only) returns
        ``(x, {t: x_t})``, the recorded states in data coordinates.
        """
        n = check_int(n, "n", minimum=1)
        gen = None
        if seed is not None:
            gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
        z = torch.randn(n, self.config["dim"], generator=gen).to(self.device)
        if method == "ddpm":
            if steps is not None and steps != self.T:
                raise ValueError(
                    f"ancestral DDPM sampling visits all T = {self.T} steps; for fewer steps use "
                    "method='ddim'"
                )
            out, saved = ddpm_sample(
                self.eps, self.noise, z, variance=variance, generator=gen, record=record
            )
            if record:
                return self.unstandardize(out), {t: self.unstandardize(v) for t, v in saved.items()}
            return self.unstandardize(out)
        if record:
            raise ValueError("record is only supported with method='ddpm'")
        if method == "ddim":
            steps = 50 if steps is None else steps
            return self.unstandardize(
                ddim_sample(self.eps, self.noise, z, steps, eta=eta, generator=gen)
            )
        if method == "langevin":
            levels = 20 if steps is None else check_int(steps, "steps", minimum=1)
            return self.unstandardize(
                annealed_langevin(self.eps, self.noise, z, levels=levels, generator=gen)
            )
        raise ValueError(f"method must be 'ddpm', 'ddim' or 'langevin'; got {method!r}")


# -- training -----------------------------------------------------------------------------------
#: Every default of :func:`fit`.
DEFAULTS: dict[str, object] = {
    # number of Adam steps; with the width and batch below, 99 % of the ancestral samples of a fit
    # on the ring of 8 Gaussians lie within 3σ of a mode, 96 % with DDIM-50 (seeds 0-2,
    # benchmarks/bench_quality.py); the former 10 000 steps of 256 at width 64 gave 80 % and 87 %
    "steps": 20_000,
    # number T of diffusion steps
    "T": 1000,
    # the noise schedule: "linear" (Ho et al.) or "cosine" (Nichol & Dhariwal)
    "schedule": "linear",
    # width of the ε-network's hidden layers (128: sharper modes than 64 for the same steps)
    "hidden": 128,
    # number of hidden layers of the ε-network
    "layers": 3,
    # size of the sinusoidal time embedding (even)
    "emb_dim": 32,
    # Adam's learning rate, decayed to zero along a cosine
    "lr": 2e-3,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 512,
}


def fit(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> DiffusionModel:
    """Train a :class:`DiffusionModel` on ``data`` (rows are examples) with L_simple and Adam,
    the learning rate decaying to zero on a cosine; ``steps`` defaults to ``DEFAULTS["steps"]``
    (20 000, on mini-batches of 512 with hidden layers of width 128: about 75 s on one CPU
    thread). Every hyper-parameter (``T``, ``schedule``, ``hidden``, ``layers``, ``emb_dim``,
    ``lr``, ``batch_size``) and its default is in :data:`DEFAULTS`. The data are standardised
    first (their mean and overall standard deviation are stored in the model). The caller's
    global random state is left unchanged."""
    h = merge_hyper(DEFAULTS, hyper)
    lr = check_lr(h["lr"])
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        x, gen = run.data, run.generator
        model = DiffusionModel(
            dim=x.shape[1],
            T=h["T"],
            schedule=h["schedule"],
            hidden=h["hidden"],
            layers=h["layers"],
            emb_dim=h["emb_dim"],
        ).to(run.device)
        model.shift.copy_(x.mean(0))
        model.scale.copy_((x - x.mean(0)).pow(2).mean().sqrt().clamp(min=1e-8))
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=run.steps)
        stream = batches(x, h["batch_size"], gen)
        model.train()

        def step(i: int) -> dict[str, Tensor]:
            loss = model.loss_simple(next(stream), generator=gen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sched.step()
            return {"L_simple": loss.detach()}

        desc = "diffusion (L_simple)"
        train(step, run.steps, model=model, progress=progress, desc=desc, log_every=50)
    return model.eval()


def _width_64(data: Tensor) -> DiffusionModel:
    # the default recipe with the former width of 64 (the chapter's narrower comparison); the
    # steps and batch size are written out so that the shipped files keep their recipe
    return fit(data, steps=20_000, batch_size=512, hidden=64, seed=0, device="cpu", progress=False)


def _pretrained_ring() -> DiffusionModel:
    from .data import ring

    return _width_64(ring(20_000, seed=0))


def _pretrained_ring_default() -> DiffusionModel:
    """The diffusion chapter's model: ``fit(ring)`` with every default (20 000 steps), on one
    thread as after :func:`companion.setup`, so the checkpoint equals the chapter's own fit."""
    from .data import ring
    from .device import single_thread

    with single_thread():
        return fit(ring(20_000, seed=0), seed=0, device="cpu", progress=False)


def _pretrained_moons() -> DiffusionModel:
    from .data import moons

    return _width_64(moons(20_000, seed=0))


PRETRAINED: dict[str, Callable[[], DiffusionModel]] = {
    "diffusion_ring": _pretrained_ring,
    "diffusion_ring_default": _pretrained_ring_default,
    "diffusion_moons": _pretrained_moons,
}


# == moved from explore/diffusion.py ==


def forward_chain(x0: Tensor, schedule: NoiseSchedule, seed: int = 0) -> Tensor:
    """The forward chain run step by step: ``x_t = sqrt(1 − β_t) x_{t−1} + sqrt(β_t) z_t`` for
    t = 1..T from ``x0`` (float64, fresh noise from a private generator seeded with ``seed``).

    Returns every state, shape ``(T + 1, *x0.shape)`` (index 0 is ``x0``): its law at step t is
    the closed form ``q(x_t | x_0)`` of :meth:`NoiseSchedule.q_sample`, which the chapter's
    figure sets beside it.
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule; got {type(schedule).__name__}")
    x = check_tensor(x0, "x0").detach().cpu().double()
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    path = [x]
    for t in range(1, schedule.T + 1):
        b = float(schedule.beta(t))
        z = torch.randn(x.shape, generator=g, dtype=torch.float64)
        x = math.sqrt(1 - b) * x + math.sqrt(b) * z  # one step of q(x_t | x_{t-1})
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def score_on_grid(model: DiffusionModel, t: int, grid: int = 15) -> tuple[Tensor, Tensor]:
    """The learned score of q(z_t) (standardised coordinates) on a ``grid × grid`` lattice of
    [-3, 3]²: the lattice points ``(grid², 2)`` and the score vectors there (on the CPU)."""
    if not isinstance(model, DiffusionModel):
        raise TypeError(f"model must be a DiffusionModel; got {type(model).__name__}")
    t = check_int(t, "t", minimum=1)
    if t > model.T:
        raise ValueError(f"t must lie in [1, {model.T}]; got {t}")
    axis = torch.linspace(-3, 3, check_int(grid, "grid", minimum=2))
    xx, yy = torch.meshgrid(axis, axis, indexing="ij")
    z = torch.stack([xx.ravel(), yy.ravel()], 1).to(model.device)
    tt = torch.full((z.shape[0],), t, dtype=torch.long, device=z.device)
    return z.cpu(), model.score(z, tt).cpu()


__all__ += ["forward_chain", "score_on_grid"]
