"""Checks for the computational exercises of "Normalizing flows".

Both concern the one-dimensional flow z = f(x) = x + a·tanh(x) (a > −1) with Z ~ N(0, 1):

* :func:`check_planar_log_density`: log p_X(x) by the change of variables (eq-flows-cov-1d),
  against the derivative of the CDF P(X ≤ x) = Φ(f(x)) (SciPy), with the reciprocal-Jacobian
  slip detected.
* :func:`check_planar_sampler`: x = f⁻¹(z) for a tensor of z, against f itself and against a
  Kolmogorov–Smirnov test of the samples' law (SciPy).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from .._validate import check_int
from . import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_planar_log_density", "check_planar_sampler"]

_F64 = torch.float64
_AS = (-0.9, 0.5, 3.0)


def _f(x: np.ndarray, a: float) -> np.ndarray:
    return x + a * np.tanh(x)


def _call(fn, *args):
    return as_float64(call_reader(fn, *args))


def check_planar_log_density(log_density) -> bool:
    """``log_density(x, a)`` (x a float64 tensor, a a float) must return log p_X(x) elementwise."""
    if not callable(log_density):
        raise CheckFailed("pass your function itself, e.g. check_planar_log_density(fn)")
    x = np.linspace(-4.0, 4.0, 41)
    h = 1e-5
    for a in _AS:
        got = _call(log_density, torch.from_numpy(x.copy()), a)
        # independent route: differentiate the CDF Φ(f(x)) numerically
        # (the survival function on the right tail, where the CDF is too close to 1)
        up, down = _f(x + h, a), _f(x - h, a)
        dens = np.where(
            x > 0,
            stats.norm.sf(down) - stats.norm.sf(up),
            stats.norm.cdf(up) - stats.norm.cdf(down),
        ) / (2 * h)
        expected = torch.from_numpy(np.log(dens))
        deriv = 1 + a * (1 - np.tanh(x) ** 2)
        slip = torch.from_numpy(stats.norm.logpdf(_f(x, a)) - np.log(deriv))
        no_jac = torch.from_numpy(stats.norm.logpdf(_f(x, a)))
        hint = ""
        if got.shape == expected.shape and torch.allclose(got, slip, atol=1e-6):
            hint = "You divided by |f′(x)|: with z = f(x) the factor |f′(x)| multiplies."
        elif got.shape == expected.shape and torch.allclose(got, no_jac, atol=1e-6):
            hint = "The Jacobian term log|f′(x)| is missing."
        compare(f"log p_X(x) for a = {a}", got, expected, atol=1e-5, hint=hint)
    return passed("log φ(f(x)) + log f′(x) matches d/dx Φ(f(x)) for three a.")


def check_planar_sampler(sample, n: int = 4000) -> bool:
    """``sample(z, a)`` must return x = f⁻¹(z) elementwise for a float64 tensor z."""
    if not callable(sample):
        raise CheckFailed("pass your function itself, e.g. check_planar_sampler(fn)")
    n = check_int(n, "n", minimum=100, maximum=10**7)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(n, generator=gen, dtype=_F64)
    for a in _AS:
        x = _call(sample, z.clone(), a)
        if x.shape != z.shape:
            raise CheckFailed(f"expected one x per z, shape {tuple(z.shape)}; got {tuple(x.shape)}")
        if not bool(torch.isfinite(x).all()):
            raise CheckFailed("your samples contain NaN or inf.")
        forward = torch.from_numpy(_f(x.numpy(), a))
        hint = ""
        if torch.allclose(x, torch.from_numpy(_f(z.numpy(), a)), atol=1e-8):
            hint = "You applied f to z: sampling needs the inverse, the x with f(x) = z."
        compare(f"f(x) against z for a = {a}", forward, z, atol=1e-6, hint=hint)
        p_value = stats.kstest(x.numpy(), lambda t, a=a: stats.norm.cdf(_f(t, a))).pvalue
        if p_value < 1e-4:
            raise CheckFailed(f"for a = {a} the samples do not follow P(X ≤ x) = Φ(f(x)) "
                              f"(Kolmogorov–Smirnov p = {p_value:.1e}).")  # fmt: skip
    return passed(f"f(x) = z to 1e-6 and x has the right law (KS, {n} draws).")
