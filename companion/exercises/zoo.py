"""Checks for the computational exercises of the chapter "The generative model zoo".

References are computed here, independently of :mod:`companion.zoo`: the proximal operator by
brute-force minimisation on a fine grid, the flow-matching loss of a linear field in NumPy, and
the entropy rate of a Markov chain from NumPy's eigen-decomposition and SciPy's entropy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from companion.exercises import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_soft_threshold", "check_flow_matching_loss", "check_entropy_rate"]

F64 = torch.float64


def _call(fn: Callable, *args) -> torch.Tensor:
    return as_float64(call_reader(fn, *args))


def check_soft_threshold(soft_threshold: Callable) -> bool:
    """Check ``soft_threshold(u, tau)``: the minimiser over y of ½(y − u)² + τ|y|, elementwise."""
    u = torch.tensor([-3.0, -0.9, -0.2, 0.0, 0.35, 0.7, 2.5], dtype=F64)
    tau = 0.7
    ys = np.linspace(-5, 5, 1_000_001)
    brute = [ys[np.argmin(0.5 * (ys - v) ** 2 + tau * np.abs(ys))] for v in u.tolist()]
    got = _call(soft_threshold, u, tau)
    if got.shape == u.shape:
        if torch.allclose(got, u * (u.abs() > tau), atol=1e-12):
            raise CheckFailed(
                "that is hard thresholding (keep or kill); the ℓ1 prox also shrinks the "
                "survivors towards 0 by τ."
            )
        if torch.allclose(got, (u.abs() - tau).clamp(min=0), atol=1e-12):
            raise CheckFailed("you lost the sign: S_τ(u) = sign(u) max(|u| − τ, 0).")
    compare("S_0.7(u)", got, torch.tensor(brute, dtype=F64), atol=2e-5)
    return passed("this is the proximal operator of τ‖·‖₁.")


def check_flow_matching_loss(fm_loss: Callable) -> bool:
    """Check ``fm_loss(velocity, x, z, t)`` for eq-zoo-flow-matching: the batch mean of
    ‖v(y_t, t) − (x − z)‖² at y_t = (1 − t) z + t x, with ``t`` of shape (n, 1) given."""
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(32, 2)) + 2.0, rng.normal(size=(32, 2))
    t = rng.uniform(size=(32, 1))
    A, b = np.array([[0.3, -1.0], [0.8, 0.1]]), np.array([1.5, -0.4])

    def velocity(y, time):  # v(y, t) = A y + t b, a field the reader can call on tensors
        return y @ torch.as_tensor(A.T, dtype=y.dtype) + time * torch.as_tensor(b, dtype=y.dtype)

    def loss_of(y, target):
        return float((((y @ A.T + t * b) - target) ** 2).sum(1).mean())

    want = loss_of((1 - t) * z + t * x, x - z)
    args = [torch.as_tensor(a, dtype=F64) for a in (x, z, t)]
    got = _call(fm_loss, velocity, *args)
    if got.numel() == 1:
        g = float(got)
        if abs(g - loss_of((1 - t) * z + t * x, z - x)) < 1e-9:
            raise CheckFailed("the target is x − z (noise to data), not z − x.")
        if abs(g - loss_of((1 - t) * x + t * z, x - z)) < 1e-9:
            raise CheckFailed("y_t should be (1 − t) z + t x: noise at t = 0, data at t = 1.")
        if abs(g - 32 * want) < 1e-7:
            raise CheckFailed("you summed over the batch; the loss is a mean over the batch.")
        if abs(g - want / 2) < 1e-9:
            raise CheckFailed("you averaged over coordinates too; sum them (a squared norm).")
    compare("flow-matching loss", got.reshape(()) if got.numel() == 1 else got, want, atol=1e-9)
    return passed("the loss matches a linear field's reference.")


def _stationary(P: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return pi / pi.sum()


def check_entropy_rate(entropy_rate: Callable) -> bool:
    """Check ``entropy_rate(P)``: the entropy rate in nats of the first-order Markov chain with
    row-stochastic transition matrix ``P`` (a float64 tensor), started in its stationary law."""
    P = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    pi = _stationary(P)
    row_h = np.array([stats.entropy(row) for row in P])
    want = float(pi @ row_h)
    got = _call(entropy_rate, torch.as_tensor(P, dtype=F64))
    if got.numel() == 1:
        g = float(got)
        if abs(g - row_h.mean()) < 1e-9:
            raise CheckFailed("you weighted the rows equally; weight them by the stationary π.")
        if abs(g - want / math.log(2)) < 1e-9:
            raise CheckFailed("that is in bits; use the natural logarithm (nats).")
        if abs(g - stats.entropy(pi)) < 1e-9:
            raise CheckFailed("that is the entropy of π itself, not of the next symbol given now.")
    compare("entropy rate", got.reshape(()) if got.numel() == 1 else got, want, atol=1e-9)
    return passed("your entropy rate is Σ_a π(a) H(P(· | a)) in nats.")
