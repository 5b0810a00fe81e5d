"""Checks for the computational exercises of the chapter "Likelihood, EM and Markov chain Monte
Carlo". The expected answers come from SciPy and NumPy, never from :mod:`companion.inference`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from . import call_reader, compare, passed

__all__ = ["check_responsibilities", "check_stationary"]


_call = call_reader


def _random_mixture(rng: np.random.Generator, k: int, d: int) -> tuple:
    weights = rng.dirichlet(np.ones(k))
    means = rng.normal(0, 2, (k, d))
    a = rng.normal(size=(k, d, d))
    covs = a @ np.swapaxes(a, 1, 2) + 0.3 * np.eye(d)
    x = rng.normal(0, 2.5, (25, d))
    return x, weights, means, covs


def check_responsibilities(fn: Callable) -> bool:
    """``fn(x, weights, means, covs)`` (float64 tensors ``(n, d)``, ``(k,)``, ``(k, d)``,
    ``(k, d, d)``) must return the E-step responsibilities ``(n, k)``."""
    rng = np.random.default_rng(2024)
    for k, d in ((2, 1), (3, 2), (4, 3)):
        x, w, mu, cov = _random_mixture(rng, k, d)
        joint = np.stack(
            [w[j] * stats.multivariate_normal(mu[j], cov[j]).pdf(x).reshape(-1) for j in range(k)],
            axis=1,
        )
        expected = joint / joint.sum(1, keepdims=True)
        got = _call(fn, *(torch.as_tensor(a) for a in (x, w, mu, cov)), name="your function")
        compare(
            f"responsibilities (k={k}, d={d})",
            got,
            expected,
            atol=1e-8,
            hint="Each row should be w_k N(x_i; μ_k, Σ_k) divided by the row's sum over k.",
        )
    return passed("your E-step matches SciPy's densities on three random mixtures.")


def check_stationary(fn: Callable) -> bool:
    """``fn(P)`` (a float64 row-stochastic ``(m, m)`` tensor) must return the stationary
    distribution ``π`` with ``π P = π`` and ``Σ π = 1``, shape ``(m,)``."""
    rng = np.random.default_rng(7)
    for m in (2, 4, 7):
        p = rng.gamma(0.8, size=(m, m)) + 0.02
        p /= p.sum(1, keepdims=True)
        evals, evecs = np.linalg.eig(p.T)
        v = np.real(evecs[:, np.argmin(np.abs(evals - 1))])
        expected = v / v.sum()
        got = _call(fn, torch.as_tensor(p), name="your function")
        compare(
            f"π for a {m}-state chain",
            got,
            expected,
            atol=1e-9,
            hint="π is a *left* eigenvector (of P transposed) for eigenvalue 1, scaled to sum 1.",
        )
    return passed("your stationary distributions match NumPy's eigenvectors.")
