"""Numerical corner cases of companion.divergences found while building the chapters."""

from __future__ import annotations

import math

import torch
from scipy.spatial import distance

from companion import divergences as dv


def test_js_with_subnormal_probabilities_is_finite():
    # A density discretised on a wide grid has subnormal cells; where the other distribution
    # is exactly zero, (p + q) / 2 underflows to 0. JS must still be finite and correct.
    tiny = 5e-324  # the smallest positive double
    p = torch.tensor([0.5 - tiny, 0.5, tiny, 0.0], dtype=torch.float64)
    q = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    js = dv.js_discrete(p, q)
    # Exact value: the subnormal cell contributes (1/2) * tiny * log 2, which rounds to 0.
    assert js.item() == 0.0
    # The textbook formula underflows here: SciPy returns inf for the same input.
    assert math.isinf(distance.jensenshannon(p.numpy(), q.numpy()))
    # Same situation with a visible mass: equal to the direct formula in logs.
    p2 = torch.tensor([0.7, 0.3, 0.0], dtype=torch.float64)
    q2 = torch.tensor([0.1, 0.0, 0.9], dtype=torch.float64)
    ref = 0.5 * (0.7 * math.log(0.7 / 0.4) + 0.3 * math.log(2)) + 0.5 * (
        0.1 * math.log(0.1 / 0.4) + 0.9 * math.log(2)
    )
    assert abs(dv.js_discrete(p2, q2).item() - ref) < 1e-15


def test_js_gradient_is_finite_at_zero_probabilities():
    p = torch.tensor([0.6, 0.4, 0.0], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    dv.js_discrete(p, q).backward()
    assert torch.all(torch.isfinite(p.grad))
    assert torch.autograd.gradcheck(
        lambda a: dv.js_discrete(a / a.sum(), q),
        (torch.tensor([0.6, 0.4, 0.3], dtype=torch.float64, requires_grad=True),),
    )
