"""Checks for the computational exercises of the chapter "Norms, Banach spaces and kernels".

Each check runs the reader's code on fresh inputs and compares with answers computed here
independently: the polynomial kernel written out by hand, scikit-learn's ``KernelRidge``, and
the logarithm that solves the Banach bound for ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from . import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_feature_map", "check_iterations_needed", "check_kernel_ridge"]


def check_feature_map(phi: Callable) -> bool:
    r"""Exercise "a feature map for the polynomial kernel".

    ``phi(x)`` takes an ``(n, 2)`` float64 tensor and returns an ``(n, D)`` tensor of features
    such that :math:`\phi(a)^\top \phi(b) = (a^\top b + 1)^2` for all pairs.
    """
    g = torch.Generator().manual_seed(11)
    a = torch.randn(7, 2, generator=g, dtype=torch.float64)
    b = 3 * torch.randn(5, 2, generator=g, dtype=torch.float64)
    try:
        fa_, fb = phi(a), phi(b)
    except Exception as exc:  # the reader's code: say what went wrong, in one line
        raise CheckFailed(f"phi raised {type(exc).__name__}: {exc}") from None
    for name, f, n in (("phi(a)", fa_, 7), ("phi(b)", fb, 5)):
        if not isinstance(f, torch.Tensor) or f.ndim != 2 or f.shape[0] != n:
            raise CheckFailed(f"{name} must be a tensor with one row per point ({n} rows)")
    expected = (a @ b.T + 1.0) ** 2  # the kernel itself, entry by entry
    compare(
        "phi(a) @ phi(b).T",
        fa_ @ fb.T,
        expected,
        atol=1e-9,
        rtol=1e-12,
        hint="Expand (a1 b1 + a2 b2 + 1)^2: six monomials, some with a factor sqrt(2).",
    )
    return passed(f"{fa_.shape[1]} features reproduce (a·b + 1)² on 35 random pairs.")


def check_iterations_needed(n_needed: Callable[[float, float, float], int]) -> bool:
    """Exercise "how many iterations": ``n_needed(q, first_step, tol)`` must return the smallest
    ``n`` for which the a-priori bound ``q**n * first_step / (1 - q)`` is at most ``tol``."""
    if not callable(n_needed):
        raise CheckFailed("pass your function itself: check_iterations_needed(n_needed)")
    cases = [(0.5, 1.0, 1e-6), (0.9, 0.3, 1e-8), (0.99, 2.0, 1e-3), (0.1, 5.0, 1e-12)]
    for q, d, tol in cases:
        # smallest integer n with n >= log(tol (1 - q) / d) / log q, confirmed by direct search
        n_ref = max(0, math.ceil(math.log(tol * (1 - q) / d) / math.log(q)))
        while n_ref > 0 and q ** (n_ref - 1) * d / (1 - q) <= tol:
            n_ref -= 1
        while q**n_ref * d / (1 - q) > tol:
            n_ref += 1
        got = call_reader(n_needed, q, d, tol, name="n_needed")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise CheckFailed(f"n_needed({q}, {d}, {tol}) must return an int; got {got!r}")
        if int(got) != n_ref:
            raise CheckFailed(
                f"n_needed({q}, {d}, {tol}) returned {got}, expected {n_ref}. "
                "Solve q^n d / (1 - q) <= tol for n and round up."
            )
    return passed("the iteration counts match the Banach bound in all four cases.")


def check_kernel_ridge(fit_predict: Callable) -> bool:
    """Exercise "kernel ridge regression in three lines": ``fit_predict(x, y, t, lam, h)``
    returns the predictions at ``t`` of kernel ridge regression with the Gaussian kernel of
    bandwidth ``h`` (``exp(-|a - b|^2 / (2 h^2))``) and penalty ``lam``."""
    from sklearn.kernel_ridge import KernelRidge

    rng = np.random.default_rng(12)
    x = rng.uniform(-2, 2, size=(30, 1))
    y = np.cos(2 * x[:, 0]) + 0.1 * rng.normal(size=30)
    t = np.linspace(-2.5, 2.5, 50)[:, None]
    for lam, h in ((0.1, 0.5), (1e-3, 0.3)):
        ref = KernelRidge(alpha=lam, kernel="rbf", gamma=1 / (2 * h * h)).fit(x, y).predict(t)
        try:
            got = fit_predict(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(t), lam, h)
        except Exception as exc:  # the reader's code
            raise CheckFailed(f"fit_predict raised {type(exc).__name__}: {exc}") from None
        compare(
            f"predictions (lam={lam}, h={h})",
            as_float64(got, "fit_predict").reshape(-1),
            ref,
            atol=1e-7,
            hint="alpha solves (K + lam I) alpha = y; predictions are k(t, x) @ alpha.",
        )
    return passed("your predictions equal scikit-learn's KernelRidge for two settings.")
