"""Sparse latent models: soft thresholding and ISTA."""

from __future__ import annotations

import torch
from torch import Tensor

from .._validate import check_iterations, check_real, check_tensor


def soft_threshold(z: Tensor, lam: float) -> Tensor:
    """``sign(z) max(|z| − λ, 0)``: the proximal operator of ``λ‖·‖₁``."""
    z = check_tensor(z, "z")
    lam = check_real(lam, "lam", low=0)
    return torch.sign(z) * (z.abs() - lam).clamp(min=0)


def ista(dictionary: Tensor, x: Tensor, lam: float, n_iter: int = 500) -> Tensor:
    """Sparse code ``argmin_z ½‖x − D z‖² + λ‖z‖₁`` by ISTA (eq-zoo-sparse):
    ``z ← soft_threshold(z + Dᵀ(x − D z)/L, λ/L)``, ``L = ‖D‖₂²``. ``x`` is ``(d,)`` or
    ``(N, d)``; the result has ``D``'s number of columns (atoms) as last dim."""
    dmat = check_tensor(dictionary, "dictionary", ndim=2)
    x = check_tensor(x, "x", ndim=(1, 2))
    if x.shape[-1] != dmat.shape[0]:
        raise ValueError(
            f"x has {x.shape[-1]} features but the dictionary has {dmat.shape[0]} rows"
        )
    lam = check_real(lam, "lam", low=0)
    n_iter = check_iterations(n_iter, "n_iter")
    lip = float(torch.linalg.matrix_norm(dmat, ord=2)) ** 2
    if lip == 0:
        raise ValueError("the dictionary is all zeros: it cannot represent any x")
    z = x.new_zeros(*x.shape[:-1], dmat.shape[1])
    for _ in range(n_iter):
        grad = (z @ dmat.T - x) @ dmat
        z = soft_threshold(z - grad / lip, lam / lip)
    return z
