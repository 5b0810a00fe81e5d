"""Checks for the computational exercises of the appendix "Network components and losses".

References are computed independently of :mod:`companion.components`: SciPy's ``logsumexp``
and PyTorch's ``scaled_dot_product_attention``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import special

from companion.exercises import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_logsumexp", "check_causal_attention"]

F64 = torch.float64


def _call(fn: Callable, *args) -> torch.Tensor:
    return as_float64(call_reader(fn, *args))


def check_logsumexp(logsumexp: Callable) -> bool:
    """Check ``logsumexp(z)``: log Σ_j exp(z_j) over the last axis of a float64 tensor, stable
    for logits in the thousands."""
    rng = np.random.default_rng(0)
    cases = {
        "random logits": rng.normal(size=(4, 6)) * 3,
        "logits near +1000": rng.normal(size=(3, 5)) + 1000.0,
        "logits near −1000": rng.normal(size=(3, 5)) - 1000.0,
    }
    for name, z in cases.items():
        got = _call(logsumexp, torch.as_tensor(z, dtype=F64))
        want = special.logsumexp(z, axis=-1)
        if got.shape == want.shape and torch.allclose(
            got, torch.as_tensor(z.max(-1), dtype=F64), atol=1e-12
        ):
            raise CheckFailed(f"{name}: you returned max z; add log Σ exp(z − max z) to it.")
        compare(
            name,
            got,
            want,
            atol=1e-9,
            hint="Subtract the maximum before exponentiating and add it back after the log.",
        )
    return passed("your logsumexp agrees with SciPy's, also at ±1000.")


def check_causal_attention(attention: Callable) -> bool:
    """Check ``attention(q, k, v)``: causal scaled dot-product attention (eq-comp-attention with
    the causal mask) for tensors of shape (..., n, d_k), (..., n, d_k) and (..., n, d_v)."""
    gen = torch.Generator().manual_seed(0)
    q, k = (torch.randn(2, 5, 16, generator=gen, dtype=F64) for _ in range(2))
    v = torch.randn(2, 5, 3, generator=gen, dtype=F64)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    want = sdpa(q, k, v, is_causal=True)
    got = _call(attention, q, k, v)
    if got.shape == want.shape:
        if torch.allclose(got, sdpa(q * math.sqrt(16), k, v, is_causal=True), atol=1e-10):
            raise CheckFailed("the scores are not divided by √d_k.")
        if torch.allclose(got, sdpa(q, k, v), atol=1e-10):
            raise CheckFailed("no mask: query i must not see keys j > i.")
        upper = torch.ones(5, 5, dtype=torch.bool).triu()
        if torch.allclose(got, sdpa(q, k, v, attn_mask=upper), atol=1e-10):
            raise CheckFailed("the mask is transposed: query i may see keys j ≤ i, not j ≥ i.")
    compare("causal attention", got, want, atol=1e-10, hint="Softmax over the keys (last axis).")
    return passed("your attention equals torch's, mask and all.")
