"""Checks for the computational exercises of "Variational autoencoders".

* :func:`check_kl_to_prior`: KL(N(μ, diag σ²) ‖ N(0, I)) (eq-vae-kl-prior), against
  ``torch.distributions.kl_divergence``.
* :func:`check_iwae_from_log_weights`: the importance-weighted bound from log-weights
  (eq-vae-iwae), against a conjugate Gaussian model whose log p(x) is known exactly.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal, kl_divergence

from . import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_kl_to_prior", "check_iwae_from_log_weights"]

_F64 = torch.float64


_call = call_reader


def check_kl_to_prior(kl_to_prior) -> bool:
    """``kl_to_prior(mu, sigma)`` for (n, k) tensors must return the n KL values in nats."""
    if not callable(kl_to_prior):
        raise CheckFailed("pass your function itself, e.g. check_kl_to_prior(kl_to_prior)")
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=gen, dtype=_F64)
    sigma = torch.rand(5, 3, generator=gen, dtype=_F64) * 2 + 0.2
    got = as_float64(_call(kl_to_prior, mu, sigma), "kl_to_prior")
    expected = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).sum(-1)
    as_variance = 0.5 * (mu**2 + sigma - 1 - torch.log(sigma)).sum(-1)
    hint = ""
    if got.shape == expected.shape and torch.allclose(got, as_variance, atol=1e-8):
        hint = "You used σ as the variance: σ is a standard deviation, so σ² enters the formula."
    elif got.shape == expected.shape and torch.allclose(got, 2 * expected, atol=1e-8):
        hint = "Twice the right value: the formula has a factor ½."
    elif got.shape != expected.shape:
        raise CheckFailed(
            f"expected one KL per row, shape {tuple(expected.shape)}; got {tuple(got.shape)}. "
            "Sum over the k latent coordinates."
        )
    compare("KL for five random (μ, σ)", got, expected, atol=1e-9, rtol=1e-9, hint=hint)
    at_prior = _call(kl_to_prior, torch.zeros(2, 4, dtype=_F64), torch.ones(2, 4, dtype=_F64))
    compare("KL of the prior to itself", at_prior, torch.zeros(2, dtype=_F64), atol=1e-12)
    return passed("your KL matches torch.distributions, and is 0 at the prior.")


def _iwae_hint(got: torch.Tensor, lw: torch.Tensor, expected: torch.Tensor) -> str:
    if got.shape != expected.shape:
        return "Reduce over the K samples (dimension 0): one value per data point (column)."
    if not bool(torch.isfinite(got).all()):
        return "exp of log-weights this negative underflows to 0: subtract the maximum first."
    if torch.allclose(got, expected + math.log(lw.shape[0]), atol=1e-8):
        return "You forgot the 1/K: subtract log K."
    if torch.allclose(got, lw.mean(0), atol=1e-8) and not torch.allclose(got, expected):
        return "That is the mean of the log-weights, the ELBO: average the weights, then log."
    return ""


def check_iwae_from_log_weights(iwae_bound) -> bool:
    """``iwae_bound(log_w)`` for log-weights of shape (K, n) must return the n values
    log (1/K) Σ_i w_i (one draw of the quantity inside eq-vae-iwae per column)."""
    if not callable(iwae_bound):
        raise CheckFailed("pass your function itself, e.g. check_iwae_from_log_weights(fn)")
    # z ~ N(0, 1), x | z ~ N(z, s²), 1000 such coordinates folded into one large log-weight;
    # q = the exact posterior makes every weight equal to p(x), so the bound is exact.
    s, x, dims = 0.5, 1.2, 1000
    log_px_one = Normal(0.0, math.sqrt(1 + s * s)).log_prob(torch.tensor(x, dtype=_F64))
    lw_exact = torch.full((50, 3), float(dims * log_px_one), dtype=_F64)
    gen = torch.Generator().manual_seed(1)
    lw_random = torch.randn(200, 4, generator=gen, dtype=_F64) * 2.0 - 300.0
    cases = [
        ("bound when every weight equals p(x)", lw_exact, lw_exact[0]),
        ("bound from 200 random log-weights", lw_random,
         torch.logsumexp(lw_random, 0) - math.log(200)),
    ]  # fmt: skip
    for name, lw, expected in cases:
        got = as_float64(_call(iwae_bound, lw.clone()), "iwae_bound")
        hint = _iwae_hint(got, lw, expected)
        if got.shape != expected.shape:
            raise CheckFailed(f"{name}: expected shape {tuple(expected.shape)}, got "
                              f"{tuple(got.shape)}. {hint}")  # fmt: skip
        compare(name, got, expected, atol=1e-8, hint=hint)
    return passed("log (1/K) Σ w_i, computed stably in log space.")
