"""Linear algebra for the chapter "Linear algebra and matrix calculus".

Small helpers the chapter's figures and checks need: what a 2×2 matrix does to the unit circle,
definiteness tests (Sylvester's criterion stated correctly), condition numbers, PCA as an SVD,
Jacobians in both layouts, log-determinants, the Gaussian log-likelihood with its gradient, and a
table of matrix-calculus identities (:data:`IDENTITIES`) that the tests check with autograd.

Layout convention: the book writes gradients of a scalar with respect to a vector or matrix with
the **shape of the variable** (``∂f/∂X`` has the shape of ``X``), which is what
``torch.autograd.grad`` returns. Jacobians of vector functions are in **numerator layout**,
``J_ij = ∂f_i/∂x_j`` (shape ``m × n`` for ``f: ℝⁿ → ℝᵐ``), as
``torch.autograd.functional.jacobian`` returns them; :func:`jacobian` also gives the transposed
*denominator* layout on request.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._validate import check_int, check_real, check_spd, check_tensor
from .device import resolve_device

__all__ = [
    "circle_image",
    "eigen_2x2",
    "leading_minors",
    "principal_minors",
    "is_positive_definite",
    "is_positive_semidefinite",
    "condition_number",
    "pca",
    "jacobian",
    "logdet_spd",
    "gaussian_log_likelihood",
    "gaussian_log_likelihood_grad",
    "hutchinson_trace",
    "Identity",
    "IDENTITIES",
    "pca_cloud",
]

F64 = torch.float64


def _square(A: object, name: str = "A") -> Tensor:
    A = check_tensor(A, name, ndim=2)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {tuple(A.shape)}")
    return A


def circle_image(A: object, n: int = 129) -> tuple[Tensor, Tensor]:
    """``n`` points of the unit circle (shape ``(n, 2)``, closed: first = last) and their images
    ``x ↦ A x`` under a 2×2 matrix: an ellipse with semi-axes ``σ₁ u₁`` and ``σ₂ u₂``."""
    A = _square(A)
    if A.shape != (2, 2):
        raise ValueError(f"A must be 2×2, got shape {tuple(A.shape)}")
    n = check_int(n, "n", minimum=3)
    t = torch.linspace(0, 2 * math.pi, n, dtype=A.dtype, device=A.device)
    circle = torch.stack([torch.cos(t), torch.sin(t)], dim=-1)
    return circle, circle @ A.T


def eigen_2x2(A: object) -> tuple[Tensor, Tensor | None]:
    """Eigenvalues of a real 2×2 matrix (complex tensor of 2) and, when they are real, unit
    eigenvectors as the columns of a real 2×2 tensor (``None`` for a complex pair).

    A real matrix with a complex pair of eigenvalues (a rotation, say) fixes no direction of the
    plane; a repeated eigenvalue may have one eigenvector only (a shear), in which case the two
    columns returned coincide up to sign.
    """
    A = _square(A)
    if A.shape != (2, 2):
        raise ValueError(f"A must be 2×2, got shape {tuple(A.shape)}")
    vals, vecs = torch.linalg.eig(A)
    scale = max(float(A.abs().max()), 1.0)
    if float(vals.imag.abs().max()) > 1e-12 * scale:
        return vals, None
    return vals, vecs.real


def leading_minors(A: object) -> Tensor:
    """Determinants of the upper-left ``k × k`` blocks, ``k = 1, ..., d``."""
    A = _square(A)
    return torch.stack([torch.linalg.det(A[:k, :k]) for k in range(1, A.shape[0] + 1)])


def principal_minors(A: object) -> Tensor:
    """Determinants of **all** principal submatrices ``A[I, I]`` (``I`` a non-empty subset of the
    indices; ``2^d - 1`` of them, ordered by size then lexicographically)."""
    A = _square(A)
    d = A.shape[0]
    if d > 12:
        raise ValueError(f"principal_minors enumerates 2^d - 1 subsets; d = {d} is too large")
    out = []
    for k in range(1, d + 1):
        for idx in itertools.combinations(range(d), k):
            i = torch.tensor(idx, device=A.device)
            out.append(torch.linalg.det(A[i][:, i]))
    return torch.stack(out)


def _check_symmetric(A: Tensor, tol: float) -> None:
    scale = max(float(A.abs().max()), 1.0)
    if float((A - A.T).abs().max()) > tol * scale:
        raise ValueError("A must be symmetric: definiteness is defined here for symmetric matrices")


def is_positive_definite(A: object, tol: float = 1e-12) -> bool:
    """Sylvester's criterion {eq}`eq-la-sylvester`: a symmetric ``A`` is positive definite iff
    every *leading* principal minor is ``> 0`` (here ``> tol · max|A_ij|^k``)."""
    A = _square(A)
    tol = check_real(tol, "tol", low=0)
    _check_symmetric(A, 1e-10)
    scale = max(float(A.abs().max()), 1e-300)
    minors = leading_minors(A)
    ks = torch.arange(1, A.shape[0] + 1, dtype=A.dtype, device=A.device)
    return bool(torch.all(minors > tol * scale**ks))


def is_positive_semidefinite(A: object, tol: float = 1e-12) -> bool:
    """A symmetric ``A`` is positive semi-definite iff **every** principal minor (not only the
    leading ones) is ``>= 0`` {eq}`eq-la-sylvester-psd`; ``>= -tol · max|A_ij|^k`` here."""
    A = _square(A)
    tol = check_real(tol, "tol", low=0)
    _check_symmetric(A, 1e-10)
    scale = max(float(A.abs().max()), 1e-300)
    d = A.shape[0]
    sizes = torch.tensor(
        [k for k in range(1, d + 1) for _ in itertools.combinations(range(d), k)],
        dtype=A.dtype,
        device=A.device,
    )
    return bool(torch.all(principal_minors(A) >= -tol * scale**sizes))


def condition_number(A: object) -> Tensor:
    """``κ₂(A) = σ_max / σ_min`` (``inf`` for a singular matrix, σ_min = 0; rounding can leave
    a numerically singular one a huge finite value); for a symmetric positive definite ``A``
    it equals ``λ_max / λ_min``."""
    A = _square(A)
    s = torch.linalg.svdvals(A)
    if s[-1] == 0:  # singular: σ_min = 0 (and 0/0 for the zero matrix) means κ = inf
        return torch.full_like(s[0], math.inf)
    return s[0] / s[-1]


def pca(X: object, k: int) -> dict[str, Tensor]:
    """Principal component analysis of the rows of ``X`` (``n × d``) through the SVD of the
    centred data ``X_c = U S Vᵀ`` {eq}`eq-la-pca`.

    Returns ``mean`` (d,), ``components`` (k, d; rows are the top right-singular vectors, sign
    fixed so that each one's largest-magnitude entry is positive), ``variance`` (k; ``s_i² /
    (n - 1)``, the eigenvalues of the sample covariance), ``scores`` (n, k) and
    ``reconstruction`` (n, d).
    """
    X = check_tensor(X, "X", ndim=2)
    n, d = X.shape
    if n < 2:
        raise ValueError("pca needs at least two rows")
    k = check_int(k, "k", minimum=1)
    if k > min(n, d):
        raise ValueError(f"k must be at most min(n, d) = {min(n, d)}, got {k}")
    mean = X.mean(0)
    _, s, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    comps = Vh[:k]
    idx = comps.abs().argmax(dim=1)
    signs = torch.sign(comps[torch.arange(k), idx])
    comps = comps * signs.unsqueeze(-1)
    scores = (X - mean) @ comps.T
    return {
        "mean": mean,
        "components": comps,
        "variance": s[:k] ** 2 / (n - 1),
        "scores": scores,
        "reconstruction": mean + scores @ comps,
    }


def jacobian(f: Callable[[Tensor], Tensor], x: object, layout: str = "numerator") -> Tensor:
    """Jacobian of ``f: ℝⁿ → ℝᵐ`` at ``x`` (a vector): numerator layout ``J_ij = ∂f_i/∂x_j``
    (``m × n``, PyTorch's) or denominator layout, its transpose (``n × m``)
    {eq}`eq-la-layouts`."""
    if not callable(f):
        raise TypeError("f must be callable")
    x = check_tensor(x, "x", ndim=1)
    if layout not in ("numerator", "denominator"):
        raise ValueError(f"layout must be 'numerator' or 'denominator', got {layout!r}")
    J = torch.autograd.functional.jacobian(f, x)
    if J.ndim != 2:
        raise ValueError("f must map a vector to a vector")
    return J if layout == "numerator" else J.T


def logdet_spd(A: object) -> Tensor:
    """``log det A = 2 Σ_i log L_ii`` for a symmetric positive-definite ``A = L Lᵀ``
    {eq}`eq-la-logdet-chol`; differentiable, with gradient ``A⁻¹``."""
    L = check_spd(A, "A")
    return 2 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)


def _gaussian_args(x: object, mu: object, cov: object) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x = check_tensor(x, "x", ndim=(1, 2))
    mu = check_tensor(mu, "mu", ndim=1)
    L = check_spd(cov, "cov")
    cov = check_tensor(cov, "cov", ndim=2)
    if x.shape[-1] != mu.shape[0] or cov.shape[0] != mu.shape[0]:
        raise ValueError(
            f"dimensions differ: x {tuple(x.shape)}, mu {tuple(mu.shape)}, cov {tuple(cov.shape)}"
        )
    return x, mu, cov, L


def gaussian_log_likelihood(x: object, mu: object, cov: object) -> Tensor:
    """``Σ_i log N(x_i; μ, Σ)`` for the rows ``x_i`` of ``x`` (or one vector) {eq}`eq-la-gauss-ll`,
    written with a Cholesky factor ``Σ = L Lᵀ``:
    ``-½ Σ_i ‖L⁻¹(x_i - μ)‖² - (n/2) log det Σ - (n d/2) log 2π``."""
    x, mu, cov, L = _gaussian_args(x, mu, cov)
    xs = x.reshape(-1, mu.shape[0])
    n, d = xs.shape
    z = torch.linalg.solve_triangular(L, (xs - mu).T, upper=False)
    logdet = 2 * torch.log(torch.diagonal(L)).sum()
    return -0.5 * (z**2).sum() - 0.5 * n * logdet - 0.5 * n * d * math.log(2 * math.pi)


def gaussian_log_likelihood_grad(x: object, mu: object, cov: object) -> tuple[Tensor, Tensor]:
    """Closed-form gradients of :func:`gaussian_log_likelihood` {eq}`eq-la-gauss-grad`:
    ``∂/∂μ = Σ⁻¹ Σ_i (x_i - μ)`` and ``∂/∂Σ = ½ (Σ⁻¹ S Σ⁻¹ - n Σ⁻¹)`` with
    ``S = Σ_i (x_i - μ)(x_i - μ)ᵀ``, treating the d² entries of Σ as free variables."""
    x, mu, cov, _ = _gaussian_args(x, mu, cov)
    xs = x.reshape(-1, mu.shape[0])
    n = xs.shape[0]
    inv = torch.cholesky_inverse(torch.linalg.cholesky(cov))
    r = xs - mu
    S = r.T @ r
    return inv @ r.sum(0), 0.5 * (inv @ S @ inv - n * inv)


def hutchinson_trace(
    matvec: Callable[[Tensor], Tensor],
    dim: int,
    n_samples: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = F64,
    device=None,
) -> tuple[Tensor, Tensor]:
    """Hutchinson's estimator ``tr A ≈ (1/m) Σ_k ε_kᵀ A ε_k`` with Rademacher ``ε_k``
    {eq}`eq-la-hutchinson`; needs only products ``A ε`` (as FFJORD does with ``∂f/∂z``).

    The probe vectors are drawn on the CPU (with ``generator``, so a seed gives the same
    estimate on every device) and moved to ``device`` (default: the CPU) before ``matvec``.
    Returns ``(estimate, standard_error)``.
    """
    if not callable(matvec):
        raise TypeError("matvec must be callable: v -> A v for a batch of vectors (m, d)")
    dim = check_int(dim, "dim", minimum=1)
    m = check_int(n_samples, "n_samples", minimum=2)
    eps = torch.randint(0, 2, (m, dim), generator=generator).to(dtype) * 2 - 1
    eps = eps.to(resolve_device(device) if device is not None else "cpu")
    quad = (eps * matvec(eps)).sum(-1)
    return quad.mean(), quad.std() / math.sqrt(m)


# --- the identities the chapter lists ------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """One matrix-calculus identity ``∂f/∂X = G`` (gradient in the shape of X).

    ``inputs(gen)`` draws the variable (first entry) and the constants; ``f(*inputs)`` is the
    scalar; ``grad(*inputs)`` the closed form the chapter states. The tests compare ``grad``
    with ``torch.autograd.grad`` of ``f``.
    """

    name: str
    latex: str
    f: Callable[..., Tensor] = field(repr=False)
    grad: Callable[..., Tensor] = field(repr=False)
    inputs: Callable[[torch.Generator], tuple[Tensor, ...]] = field(repr=False)


def _randn(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=gen, dtype=F64)


def _spd(gen: torch.Generator, d: int) -> Tensor:
    B = _randn(gen, d, d)
    return B @ B.T + d * torch.eye(d, dtype=F64)


def _vec_inputs(*shapes: tuple[int, ...]) -> Callable[[torch.Generator], tuple[Tensor, ...]]:
    return lambda gen: tuple(_randn(gen, *s) for s in shapes)


_d, _m = 4, 3

IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "linear form",
        r"\frac{\partial}{\partial x}\, a^\top x = a",
        lambda x, a: a @ x,
        lambda x, a: a,
        _vec_inputs((_d,), (_d,)),
    ),
    Identity(
        "bilinear form",
        r"\frac{\partial}{\partial x}\, b^\top A x = A^\top b",
        lambda x, A, b: b @ A @ x,
        lambda x, A, b: A.T @ b,
        _vec_inputs((_d,), (_m, _d), (_m,)),
    ),
    Identity(
        "quadratic form",
        r"\frac{\partial}{\partial x}\, x^\top A x = (A + A^\top) x",
        lambda x, A: x @ A @ x,
        lambda x, A: (A + A.T) @ x,
        _vec_inputs((_d,), (_d, _d)),
    ),
    Identity(
        "rank-one form",
        r"\frac{\partial}{\partial x}\, a^\top x\, x^\top b = (a b^\top + b a^\top)\, x",
        lambda x, a, b: (a @ x) * (x @ b),
        lambda x, a, b: (torch.outer(a, b) + torch.outer(b, a)) @ x,
        _vec_inputs((_d,), (_d,), (_d,)),
    ),
    Identity(
        "squared residual",
        r"\frac{\partial}{\partial x}\, \lVert A x - b\rVert_2^2 = 2 A^\top (A x - b)",
        lambda x, A, b: ((A @ x - b) ** 2).sum(),
        lambda x, A, b: 2 * A.T @ (A @ x - b),
        _vec_inputs((_d,), (_m, _d), (_m,)),
    ),
    Identity(
        "affine–affine form",
        r"\frac{\partial}{\partial x}\, (A x + b)^\top C (D x + e) "
        r"= D^\top C^\top (A x + b) + A^\top C (D x + e)",
        lambda x, A, b, C, D, e: (A @ x + b) @ C @ (D @ x + e),
        lambda x, A, b, C, D, e: D.T @ C.T @ (A @ x + b) + A.T @ C @ (D @ x + e),
        _vec_inputs((_d,), (_m, _d), (_m,), (_m, _m), (_m, _d), (_m,)),
    ),
    Identity(
        "bilinear in a matrix",
        r"\frac{\partial}{\partial X}\, a^\top X b = a b^\top",
        lambda X, a, b: a @ X @ b,
        lambda X, a, b: torch.outer(a, b),
        _vec_inputs((_m, _d), (_m,), (_d,)),
    ),
    Identity(
        "bilinear in a transpose",
        r"\frac{\partial}{\partial X}\, a^\top X^\top b = b a^\top",
        lambda X, a, b: a @ X.T @ b,
        lambda X, a, b: torch.outer(b, a),
        _vec_inputs((_m, _d), (_d,), (_m,)),
    ),
    Identity(
        "Gram form",
        r"\frac{\partial}{\partial X}\, a^\top X^\top X b = X (a b^\top + b a^\top)",
        lambda X, a, b: a @ X.T @ X @ b,
        lambda X, a, b: X @ (torch.outer(a, b) + torch.outer(b, a)),
        _vec_inputs((_m, _d), (_d,), (_d,)),
    ),
    Identity(
        "trace of a product",
        r"\frac{\partial}{\partial X}\, \operatorname{tr}(A X B) = A^\top B^\top",
        lambda X, A, B: torch.trace(A @ X @ B),
        lambda X, A, B: A.T @ B.T,
        _vec_inputs((_m, _d), (_d, _m), (_d, _d)),
    ),
    Identity(
        "trace quadratic",
        r"\frac{\partial}{\partial X}\, \operatorname{tr}(X^\top A X) = (A + A^\top) X",
        lambda X, A: torch.trace(X.T @ A @ X),
        lambda X, A: (A + A.T) @ X,
        _vec_inputs((_m, _d), (_m, _m)),
    ),
    Identity(
        "Frobenius norm",
        r"\frac{\partial}{\partial X}\, \lVert X \rVert_F^2 = 2 X",
        lambda X: (X**2).sum(),
        lambda X: 2 * X,
        _vec_inputs((_m, _d)),
    ),
    Identity(
        "log-determinant",
        r"\frac{\partial}{\partial X}\, \log\lvert\det X\rvert = X^{-\top}",
        lambda X: torch.linalg.slogdet(X).logabsdet,
        lambda X: torch.linalg.inv(X).T,
        lambda gen: (_randn(gen, _d, _d) + 3 * torch.eye(_d, dtype=F64),),
    ),
    Identity(
        "trace of an inverse",
        r"\frac{\partial}{\partial X}\, \operatorname{tr}(A X^{-1}) = -X^{-\top} A^\top X^{-\top}",
        lambda X, A: torch.trace(A @ torch.linalg.inv(X)),
        lambda X, A: -torch.linalg.inv(X).T @ A.T @ torch.linalg.inv(X).T,
        lambda gen: (_randn(gen, _d, _d) + 3 * torch.eye(_d, dtype=F64), _randn(gen, _d, _d)),
    ),
    Identity(
        "inverse quadratic form",
        r"\frac{\partial}{\partial X}\, a^\top X^{-1} b = -X^{-\top} a b^\top X^{-\top}",
        lambda X, a, b: a @ torch.linalg.solve(X, b),
        lambda X, a, b: -torch.linalg.inv(X).T @ torch.outer(a, b) @ torch.linalg.inv(X).T,
        lambda gen: (
            _randn(gen, _d, _d) + 3 * torch.eye(_d, dtype=F64),
            _randn(gen, _d),
            _randn(gen, _d),
        ),
    ),
    Identity(
        "Gaussian log-likelihood, mean",
        r"\frac{\partial}{\partial \mu} \sum_i \log \mathcal N(x_i; \mu, \Sigma)"
        r" = \Sigma^{-1} \sum_i (x_i - \mu)",
        lambda mu, x, cov: gaussian_log_likelihood(x, mu, cov),
        lambda mu, x, cov: gaussian_log_likelihood_grad(x, mu, cov)[0],
        lambda gen: (_randn(gen, _m), _randn(gen, 5, _m), _spd(gen, _m)),
    ),
    Identity(
        "Gaussian log-likelihood, covariance",
        r"\frac{\partial}{\partial \Sigma} \sum_{i=1}^n \log \mathcal N(x_i; \mu, \Sigma)"
        r" = \tfrac12 \big(\Sigma^{-1} S \Sigma^{-1} - n \Sigma^{-1}\big)",
        lambda cov, x, mu: _gaussian_ll_free(x, mu, cov),
        lambda cov, x, mu: gaussian_log_likelihood_grad(x, mu, cov)[1],
        lambda gen: (_spd(gen, _m), _randn(gen, 5, _m), _randn(gen, _m)),
    ),
)


def _gaussian_ll_free(x: Tensor, mu: Tensor, cov: Tensor) -> Tensor:
    """The Gaussian log-likelihood through ``slogdet`` and ``solve``, so that autograd treats
    every entry of ``cov`` as a free variable (a Cholesky factorisation reads only one triangle,
    whose gradient is not the one the formula states)."""
    r = x - mu
    quad = (r * torch.linalg.solve(cov, r.T).T).sum()
    n, d = x.shape
    logdet = torch.linalg.slogdet(cov).logabsdet
    return -0.5 * quad - 0.5 * n * logdet - 0.5 * n * d * math.log(2 * math.pi)


# == moved from explore/linalg.py ==


def pca_cloud(angle_deg: float, ratio: float, n: int = 150, seed: int = 3) -> Tensor:
    """``n`` points from ``N(0, R diag(4, 4 ratio²) Rᵀ)`` (R a rotation by ``angle_deg``), drawn
    as ``z diag(2, 2 ratio) Rᵀ`` from standard normal ``z`` (a private generator seeded by
    ``seed``): the same underlying noise for every setting. Shape ``(n, 2)``, float64."""
    angle = math.radians(check_real(angle_deg, "angle_deg"))
    ratio = check_real(ratio, "ratio")
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must lie in (0, 1], got {ratio}")
    n, seed = check_int(n, "n", minimum=2), check_int(seed, "seed", minimum=0)
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    R = torch.tensor(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype=F64
    )
    return z @ torch.diag(torch.tensor([2.0, 2.0 * ratio], dtype=F64)) @ R.T
