"""Checks for the computational exercises of the chapter "Information theory".

The expected answers come from ``scipy.stats.entropy``, never from :mod:`companion.information`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from . import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_entropy_bits", "check_mutual_information"]


def _call(fn: Callable, *args, name: str = "your function") -> float:
    out = as_float64(call_reader(fn, *args, name=name), name, "one number")
    if out.numel() != 1:
        raise CheckFailed(f"{name} should return one number; got shape {tuple(out.shape)}")
    return float(out.reshape(()))


def _nan_hint(value: float) -> str:
    if math.isnan(value):
        return (
            " NaN usually comes from 0 * log 0: outcomes with probability 0 contribute 0, "
            "so leave them out of the sum (or use torch.xlogy)."
        )
    return ""


def check_entropy_bits(fn: Callable) -> bool:
    """``fn(p)`` (a float64 probability vector, possibly with zeros) must return ``H[p]`` in
    bits."""
    rng = np.random.default_rng(4)
    cases = [np.array([0.5, 0.5]), np.array([0.25, 0.0, 0.75]), np.array([1.0, 0.0, 0.0])]
    cases += [rng.dirichlet(np.full(7, 0.4)) for _ in range(2)]
    for p in cases:
        expected = stats.entropy(p, base=2)
        got = _call(fn, torch.as_tensor(p))
        hint = _nan_hint(got)
        if not hint and expected > 0 and abs(got - expected * math.log(2)) < 1e-9:
            hint = " This is the entropy in nats: divide by log 2 (or use log2) for bits."
        elif not hint and expected > 0 and abs(got + expected) < 1e-9:
            hint = " The sign is wrong: H = -Σ p log p is never negative."
        compare(f"H[{np.round(p, 3).tolist()}] in bits", got, expected, atol=1e-9, hint=hint)
    return passed("entropy matches scipy's, in bits, zeros included.")


def check_mutual_information(fn: Callable) -> bool:
    """``fn(joint)`` (a float64 ``(m, k)`` joint pmf table, possibly with zeros) must return
    ``I(X; Y)`` in nats."""
    rng = np.random.default_rng(6)
    tables = [np.outer([0.3, 0.7], [0.2, 0.5, 0.3]), np.array([[0.5, 0.0], [0.0, 0.5]])]
    tables += [rng.dirichlet(np.full(12, 0.5)).reshape(3, 4)]
    tables += [np.array([[0.2, 0.1, 0.0], [0.0, 0.3, 0.4]])]
    for joint in tables:
        p_x, p_y = joint.sum(1), joint.sum(0)
        h_x, h_y, h_xy = (stats.entropy(v.ravel()) for v in (p_x, p_y, joint))
        expected = h_x + h_y - h_xy
        got = _call(fn, torch.as_tensor(joint))
        hint = _nan_hint(got)
        if not hint and expected > 0 and abs(got - expected / math.log(2)) < 1e-9:
            hint = " This is the value in bits; the exercise asks for nats (natural log)."
        elif not hint and abs(got - h_xy) < 1e-9:
            hint = " This is the joint entropy H[X, Y]; I(X; Y) = H[X] + H[Y] - H[X, Y]."
        elif not hint and got < -1e-12:
            hint = " I(X; Y) is a KL divergence and never negative: check the ratio's direction."
        compare(
            f"I(X; Y) for a {joint.shape[0]}×{joint.shape[1]} table",
            got,
            expected,
            atol=1e-9,
            hint=hint,
        )
    return passed("mutual information matches SciPy on 4 tables.")
