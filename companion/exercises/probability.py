"""Checks for the computational exercises of the chapter "Probability".

The expected answers are computed here with NumPy from the definitions (sums of a joint table,
the sandwich ``A Σ Aᵀ``), never with :mod:`companion.sampling`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import CheckFailed, call_reader, compare, passed

__all__ = ["check_marginals_conditional", "check_affine_moments"]


_call = call_reader


def _unpack(out, n: int, what: str) -> tuple:
    if not isinstance(out, (tuple, list)) or len(out) != n:
        raise CheckFailed(f"return a tuple {what}; got {type(out).__name__}")
    return tuple(out)


def _close(got, expected) -> bool:
    try:
        g = torch.as_tensor(got, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    e = torch.as_tensor(expected, dtype=torch.float64)
    return g.shape == e.shape and bool(torch.allclose(g, e, atol=1e-9))


def check_marginals_conditional(fn: Callable) -> bool:
    """``fn(joint)`` for a float64 ``(m, k)`` table ``joint[i, j] = P(X = i, Y = j)`` must
    return ``(p_x, p_y, p_y_given_x)`` with ``p_y_given_x[i, j] = P(Y = j | X = i)``."""
    rng = np.random.default_rng(3)
    for m, k in ((4, 4), (2, 3), (5, 2)):
        joint = rng.dirichlet(np.ones(m * k)).reshape(m, k)
        p_x, p_y = joint.sum(1), joint.sum(0)
        cond = joint / p_x[:, None]
        got = _unpack(_call(fn, torch.as_tensor(joint)), 3, "(p_x, p_y, p_y_given_x)")
        compare(
            f"p_x for a {m}×{k} table",
            got[0],
            p_x,
            atol=1e-9,
            hint="p_x sums the joint over y, i.e. along each row (axis 1).",
        )
        compare(
            f"p_y for a {m}×{k} table",
            got[1],
            p_y,
            atol=1e-9,
            hint="p_y sums the joint over x, i.e. down each column (axis 0).",
        )
        if _close(got[2], joint):
            raise CheckFailed(
                "p_y_given_x is the joint table itself: divide each row by its marginal "
                "p_x[i], so that every row sums to 1."
            )
        if _close(got[2], joint / p_y[None, :]):
            raise CheckFailed(
                "p_y_given_x holds P(X = i | Y = j) (columns divided by p_y): for P(Y | X) "
                "divide each row i by p_x[i] instead."
            )
        compare(
            f"p_y_given_x for a {m}×{k} table",
            got[2],
            cond,
            atol=1e-9,
            hint="Row i is joint[i] / p_x[i]; each row sums to 1.",
        )
    return passed("marginals and conditionals are right for 3 tables.")


def check_affine_moments(fn: Callable) -> bool:
    """``fn(mu, cov, A, b)`` (float64 tensors ``(d,)``, ``(d, d)``, ``(k, d)``, ``(k,)``) must
    return ``(mean, cov)`` of ``Y = A X + b`` when ``X`` has mean ``mu`` and covariance ``cov``."""
    rng = np.random.default_rng(8)
    for d, k in ((2, 2), (3, 2), (4, 1)):
        mu = rng.normal(size=d)
        root = rng.normal(size=(d, d))
        cov = root @ root.T + 0.2 * np.eye(d)
        a, b = rng.normal(size=(k, d)), rng.normal(size=k)
        args = (torch.as_tensor(x) for x in (mu, cov, a, b))
        mean_y, cov_y = _unpack(_call(fn, *args), 2, "(mean, cov)")
        compare(
            f"mean of AX + b (d = {d}, k = {k})",
            mean_y,
            a @ mu + b,
            atol=1e-9,
            hint="The mean moves with the whole map: A μ + b.",
        )
        expected = a @ cov @ a.T
        if _close(cov_y, expected + np.outer(b, b)) or _close(cov_y, expected + b):
            raise CheckFailed(
                "the covariance depends on b: a constant shift moves the mean, not the spread."
            )
        if d == k and _close(cov_y, a.T @ cov @ a):
            raise CheckFailed("you computed Aᵀ Σ A; the covariance of A X + b is A Σ Aᵀ.")
        compare(
            f"covariance of AX + b (d = {d}, k = {k})",
            cov_y,
            expected,
            atol=1e-9,
            hint="Cov(AX + b) = A Σ Aᵀ, a k × k matrix.",
        )
    return passed("mean and covariance of A X + b are right for 3 maps.")
