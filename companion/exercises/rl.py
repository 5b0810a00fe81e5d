"""Checks for the computational exercises of the chapter "Policies, rewards and the score
function". The expected answers are computed here with NumPy and SciPy, independently of
:mod:`companion.rl`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.special import logsumexp

from . import call_reader, compare, passed

__all__ = ["check_policy_evaluation", "check_tilted_optimum"]


def _random_mdp(rng: np.random.Generator, s: int, a: int):
    p = rng.gamma(0.5, size=(s, a, s))
    p /= p.sum(-1, keepdims=True)
    r = rng.normal(size=(s, a))
    pi = rng.gamma(1.0, size=(s, a))
    pi /= pi.sum(-1, keepdims=True)
    return p, r, pi


_call = call_reader


def check_policy_evaluation(evaluate: Callable) -> bool:
    """``evaluate(P, R, gamma, policy) -> V`` for tensors ``P (S, A, S)``, ``R (S, A)``,
    ``policy (S, A)`` (float64) and a float ``gamma``; ``V`` has shape ``(S,)``.

    Compared with ``numpy.linalg.solve(I − γ P_π, r_π)`` on three random processes, one with
    ``γ = 0.99`` where a few hundred sweeps of the Bellman operator are not enough."""
    rng = np.random.default_rng(17)
    for s, a, gamma in ((3, 2, 0.5), (6, 3, 0.9), (5, 4, 0.99)):
        p, r, pi = _random_mdp(rng, s, a)
        p_pi = np.einsum("sa,sat->st", pi, p)
        r_pi = (pi * r).sum(1)
        expected = np.linalg.solve(np.eye(s) - gamma * p_pi, r_pi)
        got = _call(evaluate, torch.tensor(p), torch.tensor(r), gamma, torch.tensor(pi))
        compare(
            f"V for S={s}, A={a}, γ={gamma}",
            got,
            expected,
            atol=1e-6,
            rtol=1e-6,
            hint="V must satisfy V = r_π + γ P_π V; average P and R over the policy first, "
            "then solve the linear system (or iterate until the change is below 1e-10).",
        )
    return passed("your policy evaluation solves the Bellman expectation equation.")


def check_tilted_optimum(tilted: Callable) -> bool:
    """``tilted(ref, rewards, beta) -> probs`` for a probability tensor ``ref (n,)``, rewards
    ``(n,)`` and ``beta > 0``; ``probs ∝ ref · exp(rewards / beta)``.

    Compared with a NumPy/SciPy computation in log space, including a case with zeros in
    ``ref`` and one with ``rewards / beta`` near 1000, where ``exp`` overflows unless the
    largest exponent is subtracted first."""
    rng = np.random.default_rng(3)
    ref = rng.dirichlet(np.ones(8))
    sparse = ref.copy()
    sparse[[1, 4]] = 0.0
    sparse /= sparse.sum()
    cases = (
        (ref, rng.normal(size=8), 0.7),
        (sparse, rng.normal(size=8), 0.2),
        (ref, 100 * rng.normal(size=8) + 900, 0.1),
    )
    for k, (q, r, beta) in enumerate(cases):
        with np.errstate(divide="ignore"):
            logits = np.log(q) + r / beta
        expected = np.exp(logits - logsumexp(logits))
        got = _call(tilted, torch.tensor(q), torch.tensor(r), beta)
        compare(
            f"case {k + 1} (β = {beta})",
            got,
            expected,
            atol=1e-9,
            hint="π* ∝ π_ref exp(r/β): work with log π_ref + r/β and normalise with a softmax "
            "(or subtract the largest exponent before exp) so that nothing overflows.",
        )
    return passed("your tilted distribution is the maximiser of E[r] − β KL(π ‖ π_ref).")
