"""Checks for the computational exercises of the chapter "Diffusion models".

The references are computed here, independently of :mod:`companion.diffusion`: ᾱ_t as NumPy's
cumulative product of 1 − β, and the DDPM posterior q(x_{t−1} | x_t, x_0) by Gaussian
conditioning of the 2×2 joint covariance of (x_{t−1}, x_t) given x_0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from companion.exercises import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_q_sample", "check_ddim_step"]

F64 = torch.float64


def _call(fn: Callable, *args) -> torch.Tensor:
    return as_float64(call_reader(fn, *args))


def _linear_betas(T: int = 1000) -> np.ndarray:
    return np.linspace(1e-4, 0.02, T)


def _q_sample_mistakes(got, x0, eps, ab_ext, t: int) -> None:
    if got.shape != x0.shape:
        return  # compare() reports the shape
    for shift, name in ((-1, "ᾱ_{t−1}"), (1, "ᾱ_{t+1}")):
        if 0 <= t + shift < len(ab_ext):
            other = ab_ext[t + shift]
            off = math.sqrt(other) * x0 + math.sqrt(1 - other) * eps
            if torch.allclose(got, off, atol=1e-12):
                raise CheckFailed(
                    f"at t = {t} you used {name}: time is 1-indexed, "
                    "ᾱ_t = (1 − β_1)⋯(1 − β_t) is the product over betas[:t]."
                )
    ab = ab_ext[t]
    if t > 1 and torch.allclose(got, ab * x0 + (1 - ab) * eps, atol=1e-12):
        raise CheckFailed("ᾱ_t and 1 − ᾱ_t are variances: take their square roots.")


def check_q_sample(q_sample: Callable) -> bool:
    """Check ``q_sample(x0, t, eps, betas)``: x_t of eq-diffusion-marginal for a 1-indexed
    integer ``t`` and a float64 tensor ``betas`` whose entry ``t - 1`` is β_t."""
    betas_np = _linear_betas()
    alpha_bar = np.cumprod(1 - betas_np)  # alpha_bar[t - 1] is ᾱ_t
    betas = torch.from_numpy(betas_np)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 2, generator=gen, dtype=F64)
    eps = torch.randn(6, 2, generator=gen, dtype=F64)
    ab_ext = np.concatenate([[1.0], alpha_bar])  # ab_ext[t] is ᾱ_t, with ᾱ_0 = 1
    for t in (1, 37, 500, 1000):
        got = _call(q_sample, x0, t, eps, betas)
        ab = ab_ext[t]
        want = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
        _q_sample_mistakes(got, x0, eps, ab_ext, t)
        compare(f"x_t at t = {t}", got, want, atol=1e-10)
    return passed("x_t matches the closed form at four times.")


def _posterior(ab_prev: float, ab_t: float, x0: torch.Tensor, xt: torch.Tensor):
    """Mean and variance of x_{t−1} given (x_t, x_0) by conditioning the joint Gaussian."""
    alpha = ab_t / ab_prev
    cov = np.array(
        [
            [1 - ab_prev, math.sqrt(alpha) * (1 - ab_prev)],
            [math.sqrt(alpha) * (1 - ab_prev), 1 - ab_t],
        ]
    )
    mean = math.sqrt(ab_prev) * x0 + cov[0, 1] / cov[1, 1] * (xt - math.sqrt(ab_t) * x0)
    return mean, cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1]


def _parts(step: Callable, xt, eps_hat, ab_t: float, ab_s: float, zeta: float):
    """Split the reader's x_s into its value at z = 0 and its coefficient of z."""
    zero = torch.zeros_like(xt)
    base = _call(step, xt, eps_hat, ab_t, ab_s, zeta, zero)
    with_z = _call(step, xt, eps_hat, ab_t, ab_s, zeta, torch.ones_like(xt))
    if base.shape != xt.shape or with_z.shape != xt.shape:
        raise CheckFailed(f"x_s should have the shape of x_t, {tuple(xt.shape)}")
    return base, with_z - base


def check_ddim_step(ddim_step: Callable) -> bool:
    """Check ``ddim_step(x_t, eps_hat, ab_t, ab_s, zeta, z)``: the DDIM update eq-diffusion-ddim
    from time t to an earlier time s, with ᾱ_t = ``ab_t``, ᾱ_s = ``ab_s``, stochasticity ζ =
    ``zeta`` and standard normal noise ``z``."""
    alpha_bar = np.cumprod(1 - _linear_betas())
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(5, 2, generator=gen, dtype=F64)
    eps = torch.randn(5, 2, generator=gen, dtype=F64)
    t, s = 400, 250
    ab_t, ab_s = float(alpha_bar[t - 1]), float(alpha_bar[s - 1])
    xt = math.sqrt(ab_t) * x0 + math.sqrt(1 - ab_t) * eps
    _check_ddim_deterministic(ddim_step, xt, x0, eps, ab_t, ab_s)
    _check_ddim_posterior(ddim_step, xt, x0, eps, ab_t, float(alpha_bar[t - 2]))
    _check_ddim_half(ddim_step, xt, x0, eps, ab_t, ab_s)
    return passed("ζ = 0 is exact, ζ = 1 is DDPM's posterior.")


def _check_ddim_deterministic(ddim_step, xt, x0, eps, ab_t: float, ab_s: float) -> None:
    """ζ = 0 with the true noise: deterministic, and exactly the same (x_0, ε) at time s."""
    base, noise = _parts(ddim_step, xt, eps, ab_t, ab_s, 0.0)
    compare(
        "coefficient of z at ζ = 0",
        noise,
        torch.zeros_like(xt),
        atol=1e-12,
        hint="With ζ = 0 the step is deterministic: σ = 0.",
    )
    want = math.sqrt(ab_s) * x0 + math.sqrt(1 - ab_s) * eps
    compare(
        "x_s at ζ = 0 with the true noise",
        base,
        want,
        atol=1e-10,
        hint="Predict x̂_0 = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t and re-noise it to time s with ε̂.",
    )


def _check_ddim_posterior(ddim_step, xt, x0, eps, ab_t: float, ab_prev: float) -> None:
    """ζ = 1 between consecutive steps: the DDPM posterior q(x_{t−1} | x_t, x_0)."""
    base, noise = _parts(ddim_step, xt, eps, ab_t, ab_prev, 1.0)
    mean, var = _posterior(ab_prev, ab_t, x0, xt)
    compare(
        "σ² at ζ = 1, s = t − 1",
        noise[0, 0] ** 2,
        var,
        atol=1e-12,
        rtol=1e-9,
        hint="σ² = ζ² (1 − ᾱ_s)/(1 − ᾱ_t) (1 − ᾱ_t/ᾱ_s).",
    )
    compare(
        "mean at ζ = 1, s = t − 1",
        base,
        mean,
        atol=1e-10,
        hint="The middle term has √(1 − ᾱ_s − σ²), not √(1 − ᾱ_s).",
    )


def _check_ddim_half(ddim_step, xt, x0, eps, ab_t: float, ab_s: float) -> None:
    """ζ = 0.5 and a jump: the marginal given x_0 keeps variance 1 − ᾱ_s."""
    base, noise = _parts(ddim_step, xt, eps, ab_t, ab_s, 0.5)
    sigma2 = 0.25 * (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
    if abs(float(noise[0, 0]) ** 2 - 2 * sigma2) < 1e-12:
        raise CheckFailed("σ² has ζ², not ζ: at ζ = 0.5 your σ² is twice too large.")
    compare("σ² at ζ = 0.5", noise[0, 0] ** 2, sigma2, atol=1e-12, rtol=1e-9)
    eps_coef = (base - math.sqrt(ab_s) * x0) / eps
    compare(
        "coefficient of ε at ζ = 0.5",
        eps_coef,
        torch.full_like(eps, math.sqrt(1 - ab_s - sigma2)),
        atol=1e-8,
        hint="So that Var(x_s | x_0) = 1 − ᾱ_s.",
    )
