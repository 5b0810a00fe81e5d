"""Checks for the computational exercises of the chapter "Linear algebra and matrix calculus".

References: scikit-learn's PCA and NumPy's ``slogdet``, never the reader's code; when an
answer is wrong, a few typical slips are tried and named.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import CheckFailed, as_float64, call_reader, compare, passed, scalar_or_none

__all__ = ["check_pca", "check_logdet_cholesky"]

F64 = torch.float64


def _data() -> torch.Tensor:
    gen = torch.Generator().manual_seed(4)
    mix = torch.tensor(
        [[2.0, 0.3, 0.0, 0.1], [0.0, 1.0, 0.5, 0.0], [0.0, 0.0, 0.4, 0.2], [0.0, 0.0, 0.0, 0.1]],
        dtype=F64,
    )
    return torch.randn(60, 4, generator=gen, dtype=F64) @ mix + torch.tensor([5.0, -3, 1, 2])


def _pca_parts(got: object) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(got, tuple) and len(got) == 2):
        raise CheckFailed("pca must return a pair (components of shape (k, d), variances (k,))")
    return as_float64(got[0], "pca", "a tensor of components"), as_float64(got[1], "pca")


def check_pca(pca: Callable) -> bool:
    """Check ``pca(X, k) -> (components (k, d), variances (k,))`` against scikit-learn's PCA
    (components compared up to sign)."""
    from sklearn.decomposition import PCA

    if not callable(pca):
        raise CheckFailed("pass your function itself: check_pca(pca)")
    X, k = _data(), 2
    ref = PCA(n_components=k).fit(X.numpy())
    comps, var = _pca_parts(call_reader(pca, X.clone(), k, name="pca"))
    if comps.shape != (k, X.shape[1]):
        raise CheckFailed(
            f"components: expected shape ({k}, {X.shape[1]}) (one row per axis), got "
            f"{tuple(comps.shape)}" + (" - transpose it?" if comps.shape == (X.shape[1], k) else "")
        )
    n = X.shape[0]
    if torch.allclose(var, torch.as_tensor(ref.explained_variance_) * (n - 1) / n, rtol=1e-6):
        raise CheckFailed("Not yet: the sample variance divides by n - 1, not n (s_i²/(n-1)).")
    s = torch.linalg.svdvals(X)[:k]
    if torch.allclose(var, s**2 / (n - 1), rtol=1e-6):
        raise CheckFailed("Not yet: centre the data first (subtract the column means).")
    compare("variances", var, ref.explained_variance_, atol=1e-8, rtol=1e-8)
    align = (comps * torch.as_tensor(ref.components_)).sum(1).abs()
    compare(
        "|cosine| between your axes and scikit-learn's",
        align,
        np.ones(k),
        atol=1e-8,
        hint="Each row must be a unit principal axis (a row of Vᵀ in X_c = U S Vᵀ).",
    )
    return passed("your principal axes and variances agree with scikit-learn.")


def check_logdet_cholesky(logdet: Callable) -> bool:
    """Check ``logdet(A) -> log det A`` for symmetric positive definite ``A`` (through a
    Cholesky factor) against NumPy's ``slogdet``, on matrices with tiny and huge determinants."""
    if not callable(logdet):
        raise CheckFailed("pass your function itself: check_logdet_cholesky(logdet)")
    gen = torch.Generator().manual_seed(5)
    for d, scale in ((3, 1.0), (50, 1e-8), (50, 1e8)):
        B = torch.randn(d, d, generator=gen, dtype=F64)
        A = scale * (B @ B.T / d + 0.5 * torch.eye(d, dtype=F64))
        expected = np.linalg.slogdet(A.numpy())[1]
        got = call_reader(logdet, A.clone(), name="logdet")
        try:
            compare(f"log det of a {d}×{d} matrix", got, expected, atol=1e-8, rtol=1e-10)
        except CheckFailed:
            g = scalar_or_none(got)
            if g is None:
                raise
            if abs(2 * g - expected) < 1e-6 * max(1.0, abs(expected)):
                raise CheckFailed(
                    "Not yet: det A = det L · det Lᵀ = (prod L_ii)², so log det A = "
                    "2 · sum log L_ii - the factor 2 is missing."
                ) from None
            if abs(g - float(torch.log(torch.diagonal(A)).sum())) < 1e-8:
                raise CheckFailed(
                    "Not yet: you summed the logs of A's diagonal, not of its Cholesky factor's."
                ) from None
            if not np.isfinite(g):
                raise CheckFailed(
                    f"log det of a {d}×{d} matrix is {g}: take logs of the diagonal entries "
                    "and add them, rather than the log of their product (which under- or "
                    "overflows)."
                ) from None
            raise
    return passed("your log-determinant agrees with numpy.linalg.slogdet.")
