"""Checks for the computational exercises of the chapter "Measure theory".

The expected answers come from SciPy's normal distribution (``scipy.stats.norm``), never from
:mod:`companion.sampling`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import stats
from torch.distributions import Normal

from . import CheckFailed, call_reader, compare, passed

__all__ = ["check_affine_pushforward", "check_change_of_measure"]


_call = call_reader


def _as_array(got, shape: tuple) -> np.ndarray | None:
    try:
        arr = torch.as_tensor(got, dtype=torch.float64).detach().cpu().numpy()
    except (TypeError, ValueError, RuntimeError):
        return None
    return arr if arr.shape == shape else None


def check_affine_pushforward(fn: Callable) -> bool:
    """``fn(y, a, b)`` must return the density at the points ``y`` (a float64 tensor) of
    ``Y = a X + b`` with ``X ~ N(0, 1)`` and a number ``a != 0``."""
    y = torch.linspace(-6.0, 6.0, 49, dtype=torch.float64)
    for a, b in ((2.0, 1.0), (0.5, -1.0), (-1.5, 0.5)):
        expected = stats.norm(loc=b, scale=abs(a)).pdf(y.numpy())
        got = _call(fn, y.clone(), a, b)
        arr = _as_array(got, expected.shape)
        hint = ""
        if arr is not None and np.allclose(arr, -expected):
            hint = (
                " The density is negative: for a < 0 the factor is 1/|a|, with the absolute value."
            )
        elif arr is not None and np.allclose(arr, expected * a**2):
            hint = " You multiplied by |a| instead of dividing: a stretch (|a| > 1) lowers it."
        compare(f"density of {a} X + {b}", got, expected, atol=1e-10, hint=hint)
    return passed("density matches scipy.stats.norm(b, |a|).pdf.")


def check_change_of_measure(fn: Callable) -> bool:
    """``fn(x, log_p, log_q, lo, hi)``: ``x`` holds samples of ``Q``, ``log_p`` and ``log_q``
    evaluate the two log-densities; it must return the importance-sampling estimate of
    ``P(lo < X < hi)`` that weights each sample by ``dP/dQ``."""
    gen = torch.Generator().manual_seed(12)
    for (mp, sp), (mq, sq), (lo, hi) in (
        ((1.0, 0.8), (0.0, 1.5), (0.0, 2.0)),
        ((-0.5, 1.0), (0.0, 2.0), (-3.0, -1.0)),
    ):
        x = mq + sq * torch.randn(5000, generator=gen, dtype=torch.float64)
        xs = x.numpy()
        weights = np.exp(stats.norm.logpdf(xs, mp, sp) - stats.norm.logpdf(xs, mq, sq))
        inside = (xs > lo) & (xs < hi)
        expected = float(np.mean(inside * weights))
        f64 = dict(dtype=torch.float64)
        p_dist = Normal(torch.tensor(mp, **f64), torch.tensor(sp, **f64))
        q_dist = Normal(torch.tensor(mq, **f64), torch.tensor(sq, **f64))
        got = _call(fn, x.clone(), p_dist.log_prob, q_dist.log_prob, lo, hi)
        try:
            value = float(torch.as_tensor(got, dtype=torch.float64).reshape(()))
        except (TypeError, ValueError, RuntimeError):
            raise CheckFailed(f"return one number; got {got!r:.60}") from None
        hint = ""
        if abs(value - inside.mean()) < 1e-9:
            hint = (
                " This is the fraction of Q's samples in the interval, i.e. Q(A): weight "
                "each one by dP/dQ = exp(log_p(x) - log_q(x))."
            )
        elif abs(value - np.mean(inside / weights)) < 1e-9:
            hint = " The weight is upside down: dP/dQ is p(x)/q(x), not q(x)/p(x)."
        elif abs(value - np.sum(inside * weights) / np.sum(weights)) < 1e-9:
            hint = " Close: that is the self-normalised estimate; divide by n instead."
        compare(f"P({lo} < X < {hi}) from Q's samples", value, expected, atol=1e-10, hint=hint)
    return passed("estimates match the weighted averages exactly.")
