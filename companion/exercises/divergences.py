"""Checks for the computational exercises of the chapter "Divergences and distances".

The expected answers come from SciPy (``scipy.stats.wasserstein_distance``) and from the
definition of the MMD written out with NumPy loops, never from :mod:`companion.divergences`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from . import CheckFailed, call_reader, compare, passed, scalar_or_none

__all__ = ["check_wasserstein_1d", "check_mmd2_unbiased"]


def _call(fn: Callable, *args, name: str = "your function"):
    out = call_reader(fn, *args, name=name)
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.reshape(())
    return out


def check_wasserstein_1d(fn: Callable) -> bool:
    """``fn(x, y)`` (two float64 tensors of the same length ``n``) must return ``W_1`` between
    the two empirical distributions, as a number."""
    rng = np.random.default_rng(11)
    for n in (1, 5, 200):
        x = rng.normal(0.0, 1.0, n)
        y = rng.standard_t(4, n) * 1.5 + 0.7
        expected = stats.wasserstein_distance(x, y)
        got = _call(fn, torch.as_tensor(x), torch.as_tensor(y))
        unsorted = float(np.mean(np.abs(x - y)))
        try:
            compare(f"W1 with n = {n}", got, expected, atol=1e-10, rtol=1e-10)
        except CheckFailed as err:
            hint, value = "", scalar_or_none(got)
            if value is not None and abs(value - unsorted) < 1e-10:
                hint = (
                    " This is the mean of |x_i - y_i| in the order the samples came: sort "
                    "both first, so that the i-th smallest x is matched with the i-th "
                    "smallest y (the monotone coupling)."
                )
            raise CheckFailed(f"{err}{hint}") from None
    return passed("W1 matches scipy's wasserstein_distance (n = 1, 5, 200).")


def _mmd2_reference(x: np.ndarray, y: np.ndarray, h: float, unbiased: bool) -> float:
    def k(a, b):
        return float(np.exp(-np.sum((a - b) ** 2) / (2 * h**2)))

    def mean_within(z):
        pairs = [(i, j) for i in range(len(z)) for j in range(len(z)) if i != j or not unbiased]
        return sum(k(z[i], z[j]) for i, j in pairs) / len(pairs)

    cross = np.mean([[k(a, b) for b in y] for a in x])
    return mean_within(x) + mean_within(y) - 2 * cross


def check_mmd2_unbiased(fn: Callable) -> bool:
    """``fn(x, y, h)`` (float64 tensors ``(n, d)`` and ``(m, d)``, a bandwidth ``h``) must
    return the unbiased estimate of MMD² with the kernel ``exp(-|a - b|² / 2h²)``."""
    rng = np.random.default_rng(5)
    for n, m, d, h in ((4, 4, 1, 1.0), (7, 5, 2, 0.5), (12, 9, 3, 2.0)):
        x = rng.normal(size=(n, d))
        y = rng.normal(size=(m, d)) + 0.5
        expected = _mmd2_reference(x, y, h, unbiased=True)
        got = _call(fn, torch.as_tensor(x), torch.as_tensor(y), h)
        biased = _mmd2_reference(x, y, h, unbiased=False)
        try:
            compare(f"MMD² with n = {n}, m = {m}, d = {d}, h = {h}", got, expected, atol=1e-10)
        except CheckFailed as err:
            value = scalar_or_none(got)
            hint = ""
            if value is None:
                pass
            elif abs(value - biased) < 1e-10:
                hint = (
                    " This is the biased (V-statistic) estimate: leave out the pairs i = j "
                    "in the two within-sample averages, which then have n(n - 1) and "
                    "m(m - 1) terms."
                )
            elif abs(value - expected) < 0.2 * abs(expected) + 1e-3:
                hint = " Close: check the kernel's 2h² and the divisors n(n - 1), m(m - 1)."
            raise CheckFailed(f"{err}{hint}") from None
    return passed("unbiased MMD² matches the definition on 3 sample pairs.")
