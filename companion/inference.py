"""Maximum likelihood, EM for Gaussian mixtures, Markov chains and MCMC samplers.

The mathematics of the chapter "Likelihood, EM and Markov chain Monte Carlo"
(``book/inference.md``). Conventions:

* Log-likelihoods are in nats. ``σ`` is a standard deviation; covariances are ``Σ``.
* Data come as floating tensors: ``(n,)`` for one-dimensional families, ``(n, d)`` for mixtures.
* Samplers are **vectorised over chains**: a starting point ``x0`` of shape ``(chains, d)`` runs
  ``chains`` independent chains at once, and the samples come back with shape
  ``(steps, chains, d)``. Randomness comes from a private generator on ``x0``'s device seeded
  with ``seed``, so a call never touches PyTorch's global random stream and the same seed gives
  the same chains on the same device.
* A Markov chain on ``{0, …, m − 1}`` is a row-stochastic matrix ``P`` with
  ``P[i, j] = P(X_{t+1} = j | X_t = i)``; distributions are row vectors, ``p_{t+1} = p_t P``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.distributions import MultivariateNormal

from ._validate import (
    as_tensor_param,
    check_int,
    check_iterations,
    check_positive,
    check_probability,
    check_real,
    check_spd,
    check_tensor,
)
from .progress import progress

__all__ = [
    "mle_bernoulli",
    "mle_poisson",
    "mle_gaussian",
    "fisher_information",
    "map_bernoulli",
    "simulate_mle",
    "GMMParams",
    "GMMFit",
    "gmm_log_likelihood",
    "gmm_responsibilities",
    "gmm_m_step",
    "gmm_em",
    "Chains",
    "metropolis_hastings",
    "gibbs_gaussian",
    "mala",
    "autocorrelation",
    "effective_sample_size",
    "check_transition_matrix",
    "stationary_distribution",
    "spectral_gap",
    "evolve",
    "is_reversible",
]


# == maximum likelihood =========================================================================


def _sample_1d(x: object, name: str = "x") -> Tensor:
    return check_tensor(x, name, ndim=1)


def mle_bernoulli(x: Tensor) -> Tensor:
    """MLE of the Bernoulli parameter: the fraction of ones, ``p̂ = (1/n) Σ x_i``
    ({eq}`eq-inference-mle-closed`). ``x`` holds 0.0/1.0 values."""
    x = _sample_1d(x)
    if ((x != 0) & (x != 1)).any():
        raise ValueError("x must hold only 0.0 and 1.0 for a Bernoulli sample")
    return x.mean()


def mle_poisson(x: Tensor) -> Tensor:
    """MLE of the Poisson rate: the sample mean, ``λ̂ = (1/n) Σ x_i``
    ({eq}`eq-inference-mle-closed`). ``x`` holds non-negative whole numbers (as floats)."""
    x = _sample_1d(x)
    if (x < 0).any() or (x != torch.round(x)).any():
        raise ValueError("x must hold non-negative whole numbers for a Poisson sample")
    return x.mean()


def mle_gaussian(x: Tensor, *, unbiased: bool = False) -> tuple[Tensor, Tensor]:
    """MLE ``(μ̂, σ̂)`` of ``N(μ, σ²)``: the sample mean and the root of the ``1/n`` variance
    ({eq}`eq-inference-mle-closed`). ``unbiased=True`` divides by ``n − 1`` instead (not the
    MLE; its square is the unbiased variance estimate)."""
    x = _sample_1d(x)
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased must be True or False; got {unbiased!r}")
    n = x.shape[0]
    if unbiased and n < 2:
        raise ValueError("the unbiased variance needs at least two values")
    mu = x.mean()
    var = ((x - mu) ** 2).sum() / (n - 1 if unbiased else n)
    return mu, var.sqrt()


def fisher_information(family: str, theta: object) -> Tensor:
    """Fisher information of one observation, ``I(θ) = E[(∂_θ log p(X; θ))²]``
    ({eq}`eq-inference-fisher`).

    ``family`` is ``"bernoulli"`` (θ = p: ``1/(p(1 − p))``), ``"poisson"`` (θ = λ: ``1/λ``),
    ``"gaussian_mean"`` (θ = μ with σ = 1: ``1``) or ``"gaussian_sigma"`` (θ = σ with the mean
    known: ``2/σ²``).
    """
    t = as_tensor_param(theta, "theta")
    check_positive(t, "theta")
    if family == "bernoulli":
        if (t >= 1).any():
            raise ValueError("theta = p must lie in (0, 1) for the Bernoulli family")
        return 1 / (t * (1 - t))
    if family == "poisson":
        return 1 / t
    if family == "gaussian_mean":
        return torch.ones_like(t)
    if family == "gaussian_sigma":
        return 2 / t**2
    raise ValueError(
        "family must be 'bernoulli', 'poisson', 'gaussian_mean' or 'gaussian_sigma'; "
        f"got {family!r}"
    )


def map_bernoulli(x: Tensor, a: float, b: float) -> Tensor:
    """MAP estimate of a Bernoulli ``p`` under a ``Beta(a, b)`` prior with ``a, b > 1``:
    ``(k + a − 1) / (n + a + b − 2)`` with ``k`` ones in ``n`` draws ({eq}`eq-inference-map`)."""
    x = _sample_1d(x)
    a, b = check_real(a, "a"), check_real(b, "b")
    if a <= 1 or b <= 1:
        raise ValueError(f"a and b must be > 1 for an interior mode; got a={a}, b={b}")
    if ((x != 0) & (x != 1)).any():
        raise ValueError("x must hold only 0.0 and 1.0 for a Bernoulli sample")
    return (x.sum() + a - 1) / (x.shape[0] + a + b - 2)


def simulate_mle(
    family: str, theta: float, n: int, reps: int, *, seed: int = 0, device=None
) -> Tensor:
    """The sampling distribution of the MLE: ``reps`` independent samples of size ``n``, and
    the MLE of each, shape ``(reps,)``.

    ``family`` is ``"poisson"`` (θ = λ, MLE the mean) or ``"gaussian_sigma"`` (θ = σ of
    ``N(0, σ²)`` with the mean unknown, MLE the root of the ``1/n`` variance). Compare its
    variance with the Cramér–Rao bound ``1/(n I(θ))`` ({eq}`eq-inference-cramer-rao`).
    """
    theta = check_real(theta, "theta", positive=True)
    n = check_int(n, "n", minimum=2)
    reps = check_int(reps, "reps")
    if n * reps > 50_000_000:
        raise ValueError(f"n * reps = {n * reps} draws is too many (at most 5e7)")
    dev = torch.device("cpu") if device is None else torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(check_int(seed, "seed", minimum=0))
    if family == "poisson":
        rate = torch.full((reps, n), theta, dtype=torch.float64, device=dev)
        return torch.poisson(rate, generator=gen).mean(1)
    if family == "gaussian_sigma":
        x = theta * torch.randn(reps, n, generator=gen, dtype=torch.float64, device=dev)
        return x.var(1, correction=0).sqrt()
    raise ValueError(f"family must be 'poisson' or 'gaussian_sigma'; got {family!r}")


# == Gaussian mixtures and EM ===================================================================


@dataclass(frozen=True)
class GMMParams:
    """Parameters of a ``k``-component Gaussian mixture in ``d`` dimensions:
    ``weights (k,)``, ``means (k, d)``, ``covs (k, d, d)``."""

    weights: Tensor
    means: Tensor
    covs: Tensor


@dataclass(frozen=True)
class GMMFit:
    """What :func:`gmm_em` returns.

    Attributes
    ----------
    params : GMMParams
        The parameters after the last iteration.
    log_likelihood : Tensor
        ``(steps + 1,)``: the average log-likelihood per point (nats) of the initial parameters
        and after each iteration; never decreasing (up to rounding).
    history : list[GMMParams]
        The parameters at iterations ``0, 1, …, steps`` (``history[-1] == params``).
    """

    params: GMMParams
    log_likelihood: Tensor
    history: list


def _check_params(params: GMMParams, d: int) -> GMMParams:
    if not isinstance(params, GMMParams):
        raise TypeError(f"init must be 'random' or a GMMParams; got {type(params).__name__}")
    w = check_probability(params.weights, "weights")
    mu = check_tensor(params.means, "means", ndim=2)
    k = w.shape[0]
    if w.ndim != 1 or mu.shape != (k, d):
        raise ValueError(
            f"weights (k,) and means (k, {d}) must agree; got {tuple(w.shape)} and "
            f"{tuple(mu.shape)}"
        )
    if params.covs.shape != (k, d, d):
        raise ValueError(f"covs must have shape ({k}, {d}, {d}); got {tuple(params.covs.shape)}")
    check_spd(params.covs, "covs")
    return params


def _component_log_probs(x: Tensor, params: GMMParams) -> Tensor:
    """``log w_k + log N(x_i; μ_k, Σ_k)``, shape ``(n, k)``."""
    comp = MultivariateNormal(params.means, covariance_matrix=params.covs)
    return comp.log_prob(x[:, None, :]) + params.weights.log()


def gmm_log_likelihood(x: Tensor, params: GMMParams) -> Tensor:
    """Average log-likelihood per point, ``(1/n) Σ_i log Σ_k w_k N(x_i; μ_k, Σ_k)``
    ({eq}`eq-inference-gmm`)."""
    x = check_tensor(x, "x", ndim=2)
    _check_params(params, x.shape[1])
    return torch.logsumexp(_component_log_probs(x, params), dim=1).mean()


def gmm_responsibilities(x: Tensor, params: GMMParams) -> Tensor:
    """E-step: ``r_ik = w_k N(x_i; μ_k, Σ_k) / Σ_j w_j N(x_i; μ_j, Σ_j)``, shape ``(n, k)``
    ({eq}`eq-inference-e-step`)."""
    x = check_tensor(x, "x", ndim=2)
    _check_params(params, x.shape[1])
    return torch.softmax(_component_log_probs(x, params), dim=1)


def gmm_m_step(x: Tensor, resp: Tensor, reg: float = 0.0) -> GMMParams:
    """M-step ({eq}`eq-inference-m-step`): with ``N_k = Σ_i r_ik``, ``w_k = N_k / n``,
    ``μ_k = Σ_i r_ik x_i / N_k`` and ``Σ_k = Σ_i r_ik (x_i − μ_k)(x_i − μ_k)ᵀ / N_k + reg·I``."""
    x = check_tensor(x, "x", ndim=2)
    resp = check_tensor(resp, "resp", ndim=2)
    reg = check_real(reg, "reg", low=0)
    if resp.shape[0] != x.shape[0]:
        raise ValueError(f"resp needs one row per point ({x.shape[0]}); got {resp.shape[0]}")
    nk = resp.sum(0)
    if (nk <= 0).any():
        raise ValueError("a component has no responsibility left (it collapsed); re-initialise")
    means = resp.mT @ x / nk[:, None]
    diff = x[None, :, :] - means[:, None, :]  # (k, n, d)
    covs = (resp.mT[:, :, None] * diff).mT @ diff / nk[:, None, None]
    covs = covs + reg * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    return GMMParams(nk / x.shape[0], means, covs)


def _random_init(x: Tensor, k: int, seed: int) -> GMMParams:
    """``k`` distinct data points as means, the data covariance for every component, equal
    weights."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    idx = torch.randperm(x.shape[0], generator=gen, device=x.device)[:k]
    cov = torch.cov(x.mT).reshape(x.shape[1], x.shape[1])
    covs = cov.expand(k, -1, -1).clone()
    weights = torch.full((k,), 1.0 / k, dtype=x.dtype, device=x.device)
    return GMMParams(weights, x[idx].clone(), covs)


def gmm_em(
    x: Tensor,
    k: int,
    *,
    init: str | GMMParams = "random",
    steps: int = 100,
    seed: int = 0,
    reg: float = 0.0,
    progress_bar: bool = False,
) -> GMMFit:
    """Fit a ``k``-component Gaussian mixture with full covariances to ``x (n, d)`` by EM.

    Each iteration is one E-step ({eq}`eq-inference-e-step`) and one M-step
    ({eq}`eq-inference-m-step`). ``init`` is ``"random"`` (``k`` distinct data points drawn with
    ``seed`` as means, the data covariance, equal weights) or explicit :class:`GMMParams`.
    ``reg ≥ 0`` is added to every covariance's diagonal after each M-step (scikit-learn's
    ``reg_covar``). Runs on ``x``'s device.
    """
    x = check_tensor(x, "x", ndim=2)
    k = check_int(k, "k")
    steps = check_iterations(steps, "steps", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    reg = check_real(reg, "reg", low=0)
    if k > x.shape[0]:
        raise ValueError(f"k = {k} components need at least {k} points; got {x.shape[0]}")
    if isinstance(init, str):
        if init != "random":
            raise ValueError(f"init must be 'random' or a GMMParams; got {init!r}")
        params = _random_init(x, k, seed)
    else:
        params = _check_params(init, x.shape[1])
        if params.weights.shape[0] != k:
            raise ValueError(f"init has {params.weights.shape[0]} components, k = {k}")
    history, lls = [params], [gmm_log_likelihood(x, params)]
    for _ in progress(range(steps), desc="EM", enabled=progress_bar):
        params = gmm_m_step(x, gmm_responsibilities(x, params), reg)
        history.append(params)
        lls.append(gmm_log_likelihood(x, params))
    return GMMFit(params, torch.stack(lls), history)


# == MCMC =======================================================================================


@dataclass(frozen=True)
class Chains:
    """What the samplers return.

    Attributes
    ----------
    samples : Tensor
        ``(steps, chains, d)``: the state after each step (the starting point is not included).
    acceptance : Tensor
        ``(chains,)``: the fraction of accepted proposals per chain (1 for Gibbs).
    """

    samples: Tensor
    acceptance: Tensor


#: Largest number of stored values (steps × chains × d) a sampler accepts: 8 GB in float64.
MAX_DRAWS = 1_000_000_000


def _check_start(x0: object) -> Tensor:
    return check_tensor(x0, "x0", ndim=2)


def _check_steps(steps: object, x: Tensor) -> int:
    steps = check_int(steps, "steps")
    if steps * x.numel() > MAX_DRAWS:
        raise ValueError(
            f"steps × chains × d = {steps * x.numel():.3g} values is more than the samplers "
            f"store ({MAX_DRAWS:.0e}); run fewer steps or chains, or in pieces"
        )
    return steps


def _check_log_prob(log_prob: object, x0: Tensor) -> Callable[[Tensor], Tensor]:
    if not callable(log_prob):
        raise TypeError(f"log_prob must be callable; got {type(log_prob).__name__}")
    out = log_prob(x0)
    if not isinstance(out, Tensor) or out.shape != x0.shape[:1]:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"log_prob must map (chains, d) to (chains,) log-densities; got {shape} for "
            f"x0 of shape {tuple(x0.shape)}"
        )
    if torch.isnan(out).any() or (out == math.inf).any():
        raise ValueError("log_prob(x0) is NaN or +inf; start the chains where the target is finite")
    if (out == -math.inf).any():
        raise ValueError("log_prob(x0) is -inf for some chain: start inside the target's support")
    return log_prob


def _step_scale(value: object, name: str, x0: Tensor) -> Tensor:
    """A positive scalar or a ``(chains,)`` tensor of per-chain values, as ``(chains, 1)``."""
    s = as_tensor_param(value, name, like=x0)
    check_positive(s, name)
    if s.ndim > 1 or (s.ndim == 1 and s.shape[0] != x0.shape[0]):
        raise ValueError(
            f"{name} must be a number or a ({x0.shape[0]},) tensor with one value per chain; "
            f"got shape {tuple(s.shape)}"
        )
    return s.to(device=x0.device, dtype=x0.dtype).reshape(-1, 1).expand(x0.shape[0], 1)


def metropolis_hastings(
    log_prob: Callable[[Tensor], Tensor],
    x0: Tensor,
    *,
    steps: int,
    scale: float | Tensor = 1.0,
    seed: int = 0,
    progress_bar: bool = False,
) -> Chains:
    """Random-walk Metropolis–Hastings ({eq}`eq-inference-mh-accept`).

    Proposal ``y = x + scale · ξ``, ``ξ ~ N(0, I)`` (symmetric, so the Hastings ratio is the
    target ratio); accept with probability ``min(1, π(y)/π(x))``. ``log_prob`` maps
    ``(chains, d)`` to ``(chains,)`` unnormalised log-densities; ``scale`` is a number or one
    value per chain (to compare several scales in one run).
    """
    x = _check_start(x0).clone()
    log_prob = _check_log_prob(log_prob, x)
    steps = _check_steps(steps, x)
    s = _step_scale(scale, "scale", x)
    gen = torch.Generator(device=x.device).manual_seed(check_int(seed, "seed", minimum=0))
    lp = log_prob(x)
    # All the randomness up front (same size as the output): fewer small kernels per step.
    moves = s * torch.randn((steps, *x.shape), generator=gen, dtype=x.dtype, device=x.device)
    log_u = torch.rand((steps, x.shape[0]), generator=gen, dtype=x.dtype, device=x.device).log()
    out = torch.empty((steps, *x.shape), dtype=x.dtype, device=x.device)
    accepted = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for t in progress(range(steps), desc="Metropolis–Hastings", enabled=progress_bar):
        y = x + moves[t]
        lp_y = log_prob(y)
        accept = log_u[t] < lp_y - lp
        x = torch.where(accept[:, None], y, x)
        lp = torch.where(accept, lp_y, lp)
        accepted += accept
        out[t] = x
    return Chains(out, accepted / steps)


def gibbs_gaussian(
    mean: Tensor,
    cov: Tensor,
    x0: Tensor,
    *,
    steps: int,
    seed: int = 0,
    progress_bar: bool = False,
) -> Chains:
    """Systematic-scan Gibbs sampling of ``N(mean, cov)`` ({eq}`eq-inference-gibbs`).

    One step updates every coordinate in turn from its full conditional,
    ``x_i | x_{−i} ~ N(μ_i − Σ_{j≠i} Λ_ij (x_j − μ_j) / Λ_ii, 1/Λ_ii)`` with ``Λ = Σ⁻¹``.
    """
    mean = check_tensor(mean, "mean", ndim=1)
    chol = check_spd(cov, "cov")
    x = _check_start(x0).clone()
    d = mean.shape[0]
    if cov.shape != (d, d) or x.shape[1] != d:
        raise ValueError(
            f"mean (d,), cov (d, d) and x0 (chains, d) must agree; got {tuple(mean.shape)}, "
            f"{tuple(cov.shape)}, {tuple(x.shape)}"
        )
    steps = _check_steps(steps, x)
    gen = torch.Generator(device=x.device).manual_seed(check_int(seed, "seed", minimum=0))
    prec = torch.cholesky_inverse(chol).to(x)
    # Conditional mean of coordinate i, centred: Σ_j B_ij y_j with B_ij = −Λ_ij/Λ_ii, B_ii = 0.
    gain = (-prec / prec.diagonal()[:, None]).fill_diagonal_(0.0)
    mean = mean.to(x)
    cond_sd = prec.diagonal().rsqrt()
    y = x - mean
    # All the noise up front (same size as the output): fewer small kernels per step.
    noise = cond_sd * torch.randn((steps, *x.shape), generator=gen, dtype=x.dtype, device=x.device)
    out = torch.empty((steps, *x.shape), dtype=x.dtype, device=x.device)
    for t in progress(range(steps), desc="Gibbs", enabled=progress_bar):
        for i in range(d):
            y[:, i] = y @ gain[i] + noise[t, :, i]
        out[t] = y
    out += mean
    return Chains(out, torch.ones(x.shape[0], dtype=x.dtype, device=x.device))


def _value_and_grad(log_prob: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    with torch.enable_grad():
        xr = x.detach().requires_grad_(True)
        lp = log_prob(xr)
        (grad,) = torch.autograd.grad(lp.sum(), xr)
    return lp.detach(), grad


def mala(
    log_prob: Callable[[Tensor], Tensor],
    x0: Tensor,
    *,
    steps: int,
    step_size: float | Tensor = 0.1,
    seed: int = 0,
    progress_bar: bool = False,
) -> Chains:
    """Metropolis-adjusted Langevin algorithm ({eq}`eq-inference-mala`).

    Propose one Euler step of the Langevin diffusion ({eq}`eq-inference-langevin`),
    ``y = x + η ∇log π(x) + √(2η) ξ``, and accept it with the Metropolis–Hastings probability
    for this asymmetric Gaussian proposal, so that ``π`` is exactly stationary for every ``η``.
    Gradients come from autograd through ``log_prob``.
    """
    x = _check_start(x0).clone()
    log_prob = _check_log_prob(log_prob, x)
    steps = _check_steps(steps, x)
    eta = _step_scale(step_size, "step_size", x)
    gen = torch.Generator(device=x.device).manual_seed(check_int(seed, "seed", minimum=0))

    def log_q(to: Tensor, frm: Tensor, grad_frm: Tensor) -> Tensor:
        return -((to - frm - eta * grad_frm) ** 2).sum(1) / (4 * eta[:, 0])

    lp, grad = _value_and_grad(log_prob, x)
    out = torch.empty((steps, *x.shape), dtype=x.dtype, device=x.device)
    accepted = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for t in progress(range(steps), desc="MALA", enabled=progress_bar):
        noise = torch.randn(x.shape, generator=gen, dtype=x.dtype, device=x.device)
        y = x + eta * grad + (2 * eta).sqrt() * noise
        lp_y, grad_y = _value_and_grad(log_prob, y)
        log_ratio = lp_y - lp + log_q(x, y, grad_y) - log_q(y, x, grad)
        u = torch.rand(x.shape[0], generator=gen, dtype=x.dtype, device=x.device)
        accept = (u.log() < log_ratio) & torch.isfinite(lp_y)
        x = torch.where(accept[:, None], y, x)
        lp = torch.where(accept, lp_y, lp)
        grad = torch.where(accept[:, None], grad_y, grad)
        accepted += accept
        out[t] = x
    return Chains(out, accepted / steps)


# == autocorrelation and effective sample size ==================================================


def _check_series(x: object) -> Tensor:
    x = check_tensor(x, "x", ndim=(1, 2))
    if x.shape[0] < 4:
        raise ValueError(f"x needs at least 4 time steps along dim 0; got {x.shape[0]}")
    return x


def autocorrelation(x: Tensor, max_lag: int | None = None) -> Tensor:
    """Sample autocorrelation ``ρ̂_k = γ̂_k / γ̂_0`` for lags ``0, …, max_lag`` along dim 0,
    with ``γ̂_k = (1/n) Σ_{t<n−k} (x_t − x̄)(x_{t+k} − x̄)`` ({eq}`eq-inference-ess`).

    ``x`` is ``(n,)`` or ``(n, chains)`` (one column per chain, each with its own mean); the
    result has shape ``(max_lag + 1,)`` or ``(max_lag + 1, chains)``. Computed with an FFT.
    """
    x = _check_series(x)
    n = x.shape[0]
    max_lag = n - 1 if max_lag is None else check_int(max_lag, "max_lag", minimum=0)
    if max_lag >= n:
        raise ValueError(f"max_lag must be < n = {n}; got {max_lag}")
    xc = x - x.mean(0)
    if (xc.abs().amax(0) == 0).any():
        raise ValueError("a chain is constant: its autocorrelation is undefined")
    size = 1 << (2 * n - 1).bit_length()
    f = torch.fft.rfft(xc, n=size, dim=0)
    acov = torch.fft.irfft(f * f.conj(), n=size, dim=0)[: max_lag + 1] / n
    return acov / acov[:1]


def effective_sample_size(x: Tensor) -> Tensor:
    """Effective sample size of the mean of ``x`` (``(n,)`` or ``(n, chains)``), in total draws.

    ``ESS = m n / (1 + 2 Σ_{k≥1} ρ_k)`` ({eq}`eq-inference-ess`) with ``ρ_k`` the
    autocorrelation averaged over the ``m`` chains, the sum truncated by Geyer's initial
    positive sequence: pairs ``ρ_{2j} + ρ_{2j+1}`` are added while they stay positive.
    """
    x = _check_series(x)
    rho = autocorrelation(x)
    rho = rho.mean(1) if rho.ndim == 2 else rho
    n = x.shape[0]
    m = 1 if x.ndim == 1 else x.shape[1]
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(1)  # (ρ0 + ρ1, ρ2 + ρ3, ...)
    negative = (pairs <= 0).nonzero()
    stop = int(negative[0]) if len(negative) else len(pairs)
    tau = -1.0 + 2.0 * pairs[:stop].sum()  # 1 + 2 Σ_{k≥1} ρ_k = −ρ0 + 2 Σ pairs
    tau = torch.clamp(tau, min=1.0 / math.log10(max(n, 10)))
    return m * n / tau


# == finite Markov chains =======================================================================


def check_transition_matrix(p: object) -> Tensor:
    """Raise ``ValueError`` unless ``p`` is a square row-stochastic matrix; return it."""
    p = check_tensor(p, "P", ndim=2)
    if p.shape[0] != p.shape[1]:
        raise ValueError(f"P must be square (m, m); got shape {tuple(p.shape)}")
    return check_probability(p, "P (each row)", dim=-1, atol=1e-10)


def stationary_distribution(p: Tensor) -> Tensor:
    """The stationary distribution ``π = π P``, ``Σ π = 1`` ({eq}`eq-inference-stationary`).

    Solved as a linear system: the equations ``π (P − I) = 0`` with one of them replaced by
    ``Σ π = 1``. Unique when the chain is irreducible; otherwise a ``ValueError`` is raised.
    """
    p = check_transition_matrix(p)
    m = p.shape[0]
    a = (p - torch.eye(m, dtype=p.dtype, device=p.device)).mT.clone()
    a[-1] = 1.0
    b = torch.zeros(m, dtype=p.dtype, device=p.device)
    b[-1] = 1.0
    if torch.linalg.matrix_rank(a) < m:
        raise ValueError("P has more than one stationary distribution (it is not irreducible)")
    return torch.linalg.solve(a, b)


def spectral_gap(p: Tensor) -> Tensor:
    """``1 − |λ₂|``, one minus the second-largest eigenvalue modulus of ``P``
    ({eq}`eq-inference-gap`): the geometric rate at which ``p_t`` approaches ``π``."""
    p = check_transition_matrix(p)
    mods = torch.linalg.eigvals(p).abs().sort(descending=True).values
    if mods.shape[0] < 2:
        return torch.ones((), dtype=p.dtype, device=p.device)
    return 1 - mods[1]


def evolve(p: Tensor, p0: Tensor, steps: int) -> Tensor:
    """The distributions ``p_0, p_0 P, …, p_0 P^steps`` of ``X_t``, shape ``(steps + 1, m)``
    ({eq}`eq-inference-evolve`)."""
    p = check_transition_matrix(p)
    p0 = check_probability(p0, "p0")
    if p0.shape != p.shape[:1]:
        raise ValueError(f"p0 must have shape ({p.shape[0]},); got {tuple(p0.shape)}")
    steps = check_iterations(steps, "steps", minimum=0)
    out = [p0]
    for _ in range(steps):
        out.append(out[-1] @ p)
    return torch.stack(out)


def is_reversible(p: Tensor, atol: float = 1e-12) -> bool:
    """Whether ``P`` satisfies detailed balance ``π_i P_ij = π_j P_ji`` with its stationary
    ``π`` ({eq}`eq-inference-detailed-balance`)."""
    p = check_transition_matrix(p)
    atol = check_real(atol, "atol", low=0)
    flow = stationary_distribution(p)[:, None] * p
    return bool(((flow - flow.mT).abs() <= atol).all())


# == moved from explore/inference.py ==


def chain_diagnostics(samples: Tensor, burn: int, max_lag: int) -> dict[str, object]:
    """Autocorrelation (averaged over the chains, lags 0..``max_lag``) and pooled effective
    sample size of scalar chains ``samples (steps, chains)`` after dropping the first ``burn``
    steps. A chain that never moved carries no information: then the autocorrelation is 1 at
    every lag and the ESS 0."""
    x = check_tensor(samples, "samples", ndim=2)
    burn = check_int(burn, "burn", minimum=0)
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    kept = x[burn:]
    if kept.shape[0] <= max_lag:
        raise ValueError(f"need more than max_lag={max_lag} steps after the burn-in")
    if bool((kept.std(0) > 0).all()):
        acf = autocorrelation(kept, max_lag=max_lag).mean(1)
        ess = float(effective_sample_size(kept))
    else:
        acf, ess = torch.ones(max_lag + 1, dtype=kept.dtype), 0.0
    return {"acf": acf, "ess": ess, "draws": kept.numel()}


def mixture_1d_log_prob(z: Tensor, means: Tensor, sd: float) -> Tensor:
    """``log π`` of the equal mixture of ``N(means_k, sd²)`` at the first coordinate of
    ``z (chains, d)``: one value per chain (a log-sum-exp of ``torch.distributions.Normal``)."""
    z = check_tensor(z, "z", ndim=2)
    means = check_tensor(means, "means", ndim=1)
    sd = check_real(sd, "sd", positive=True)
    comps = torch.distributions.Normal(means.to(z), torch.as_tensor(sd, dtype=z.dtype))
    logs = comps.log_prob(z[:, :1]) - math.log(means.numel())
    return torch.logsumexp(logs, dim=1)


__all__ += ["chain_diagnostics", "mixture_1d_log_prob"]
