"""Function spaces for generative models: norms, contractions, kernels and dual distances.

The computations behind the chapter "Norms, Banach spaces and kernels":

* norms of functions sampled on a grid (:func:`function_norm`) and the ramp sequence that is
  Cauchy in L¹ but has no continuous limit (:func:`ramp`);
* fixed-point iteration and the Banach a-priori bound (:func:`fixed_point_iterates`,
  :func:`banach_bound`);
* positive-definite kernels returning Gram matrices (:func:`rbf_kernel`,
  :func:`laplace_kernel`, :func:`polynomial_kernel`, :func:`linear_kernel`, dispatched by
  :func:`gram`), a positive-semi-definiteness check (:func:`check_psd`), kernel ridge regression
  (:class:`KernelRidge`) and Gaussian-process prior samples (:func:`gp_prior_samples`);
* integral probability metrics: the discrete Kantorovich–Rubinstein dual solved as a linear
  program with :func:`scipy.optimize.linprog` (:func:`kantorovich_dual`), its 1-Lipschitz
  extension (:func:`lipschitz_extension`), MMD² for any of the kernels (:func:`mmd2`, which
  hands the Gaussian kernel to :func:`companion.divergences.mmd2`) and the MMD witness function
  (:func:`mmd_witness`).

Conventions: points are ``(n, d)`` floating tensors (``(n,)`` means ``d = 1``); the RBF kernel
is :math:`\\exp(-\\lVert a - b\\rVert^2 / 2h^2)` with ``h`` the bandwidth, as in
:mod:`companion.divergences`; the Laplace kernel is :math:`\\exp(-\\lVert a - b\\rVert_2 / h)`;
the polynomial kernel is :math:`(a^\\top b + c)^p`. Results are computed in the input's dtype on
the input's device, except the linear program, which SciPy solves in float64 on the CPU. Bad input
raises ``TypeError`` or ``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from . import divergences as dv
from ._validate import check_int, check_probability, check_real, check_same_device, check_tensor
from .divergences import _as_points

__all__ = [
    "KERNELS",
    "MAX_GRAM_ENTRIES",
    "MAX_LP_POINTS",
    "function_norm",
    "ramp",
    "fixed_point_iterates",
    "banach_bound",
    "rbf_kernel",
    "laplace_kernel",
    "polynomial_kernel",
    "linear_kernel",
    "gram",
    "min_eigenvalue",
    "check_psd",
    "KernelRidge",
    "gp_prior_samples",
    "KRDual",
    "kantorovich_dual",
    "lipschitz_extension",
    "lipschitz_constant",
    "mmd2",
    "mmd_witness",
]

KERNELS = ("rbf", "laplace", "polynomial", "linear")
#: Largest Gram matrix (entries) the module builds: 5e7 float64 entries are 400 MB.
MAX_GRAM_ENTRIES = 50_000_000
#: Largest number of support points of the Kantorovich–Rubinstein linear program (it has one
#: constraint per ordered pair of points).
MAX_LP_POINTS = 300


# ----------------------------------------------------------------------------------------------
# norms and the non-complete space


def function_norm(values: Tensor, grid: Tensor, p: float = 2) -> Tensor:
    r"""The :math:`L^p` norm of a function sampled on a 1-D grid (trapezoidal rule).

    Implements {eq}`eq-fa-lp-norm`: :math:`\lVert f\rVert_p = (\int \lvert f\rvert^p)^{1/p}` for
    ``p >= 1`` and :math:`\lVert f\rVert_\infty = \max \lvert f\rvert` for ``p = math.inf``.

    Parameters
    ----------
    values : Tensor
        ``f`` at the grid points, shape ``(n,)`` or ``(..., n)`` for several functions.
    grid : Tensor
        Increasing grid, shape ``(n,)``, ``n >= 2``.
    p : float
        ``>= 1`` or ``math.inf``.
    """
    grid = check_tensor(grid, "grid", ndim=1)
    values = check_tensor(values, "values", min_ndim=1)
    check_same_device({"values": values, "grid": grid})
    if values.shape[-1] != grid.shape[0] or grid.shape[0] < 2:
        raise ValueError(
            f"values must have the grid's length (>= 2) in its last dimension; got values "
            f"{tuple(values.shape)} and grid {tuple(grid.shape)}"
        )
    if not bool((grid[1:] > grid[:-1]).all()):
        raise ValueError("grid must be strictly increasing")
    p = check_real(p, "p") if p != math.inf else math.inf
    if p < 1:
        raise ValueError(f"p must be >= 1 (or math.inf); got {p:g}")
    if p == math.inf:
        return values.abs().amax(dim=-1)
    return torch.trapezoid(values.abs().pow(p), grid, dim=-1).pow(1.0 / p)


def ramp(t: Tensor, n: float) -> Tensor:
    r"""The continuous ramp :math:`f_n` of {eq}`eq-fa-ramp`: 0 left of :math:`\tfrac12 -
    \tfrac1{2n}`, 1 right of :math:`\tfrac12 + \tfrac1{2n}`, linear in between.

    ``n >= 1`` may be any real number (the width of the ramp is ``1/n``).
    """
    t = check_tensor(t, "t", min_ndim=1)
    n = check_real(n, "n", low=1)
    return (n * (t - 0.5) + 0.5).clamp(0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# contractions


def fixed_point_iterates(T: Callable[[Tensor], Tensor], x0: Tensor | float, steps: int) -> Tensor:
    r"""The iterates :math:`x_0, x_1 = T(x_0), \dots, x_{\text{steps}}` of {eq}`eq-fa-iterates`.

    Returns a tensor of shape ``(steps + 1, *x0.shape)``. Raises ``ValueError`` as soon as an
    iterate is not finite (a map that sends points to infinity is not a contraction).
    """
    if not callable(T):
        raise TypeError(f"T must be callable; got {type(T).__name__}")
    steps = check_int(steps, "steps", minimum=0, maximum=1_000_000)
    x = (
        torch.tensor(check_real(x0, "x0"), dtype=torch.float64)
        if not isinstance(x0, Tensor)
        else x0
    )
    x = check_tensor(x, "x0")
    out = [x]
    for k in range(steps):
        x = T(x)
        if not isinstance(x, Tensor) or not bool(torch.isfinite(x).all()):
            raise ValueError(f"iterate {k + 1} is not a finite tensor: T does not contract here")
        out.append(x)
    return torch.stack(out)


def banach_bound(q: float, n: int, first_step: float) -> float:
    r"""The a-priori bound of {eq}`eq-fa-banach-bound`:
    :math:`d(x_n, x^*) \le q^n\, d(x_1, x_0) / (1 - q)` for a contraction with factor ``q``."""
    q = check_real(q, "q")
    if not 0 <= q < 1:
        raise ValueError(f"q must lie in [0, 1) for a contraction; got {q:g}")
    n = check_int(n, "n", minimum=0)
    first_step = check_real(first_step, "first_step")
    if first_step < 0:
        raise ValueError(f"first_step is a distance, >= 0; got {first_step:g}")
    return q**n * first_step / (1.0 - q)


# ----------------------------------------------------------------------------------------------
# kernels


def _pair(x: object, y: object) -> tuple[Tensor, Tensor]:
    x = _as_points(x, "x")
    y = x if y is None else _as_points(y, "y")
    check_same_device({"x": x, "y": y})
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"x and y must be points of the same dimension; got {x.shape[-1]} and {y.shape[-1]}"
        )
    if x.dtype != y.dtype:
        raise ValueError(f"x and y must have the same dtype; got {x.dtype} and {y.dtype}")
    if x.shape[0] * y.shape[0] > MAX_GRAM_ENTRIES:
        raise ValueError(
            f"a {x.shape[0]} x {y.shape[0]} Gram matrix exceeds {MAX_GRAM_ENTRIES:.0e} entries; "
            "use fewer points"
        )
    return x, y


def _distances(x: Tensor, y: Tensor) -> Tensor:
    return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")


def rbf_kernel(x: Tensor, y: Tensor | None = None, bandwidth: float = 1.0) -> Tensor:
    r"""Gram matrix of the Gaussian kernel :math:`k(a, b) = \exp(-\lVert a - b\rVert^2 / 2h^2)`
    ({eq}`eq-fa-kernels`), shape ``(n, m)``; ``y=None`` means ``y = x``."""
    x, y = _pair(x, y)
    h = check_real(bandwidth, "bandwidth", positive=True)
    return torch.exp(-_distances(x, y).square() / (2.0 * h * h))


def laplace_kernel(x: Tensor, y: Tensor | None = None, bandwidth: float = 1.0) -> Tensor:
    r"""Gram matrix of the Laplace (exponential) kernel :math:`\exp(-\lVert a - b\rVert_2 / h)`
    ({eq}`eq-fa-kernels`)."""
    x, y = _pair(x, y)
    h = check_real(bandwidth, "bandwidth", positive=True)
    return torch.exp(-_distances(x, y) / h)


def polynomial_kernel(
    x: Tensor, y: Tensor | None = None, degree: int = 2, coef0: float = 1.0
) -> Tensor:
    r"""Gram matrix of the polynomial kernel :math:`(a^\top b + c)^p` ({eq}`eq-fa-kernels`),
    ``p = degree >= 1`` and ``c = coef0 >= 0`` (with ``c < 0`` it need not be PSD)."""
    same = y is None
    x, y = _pair(x, y)
    degree = check_int(degree, "degree", minimum=1, maximum=20)
    c = check_real(coef0, "coef0")
    if c < 0:
        raise ValueError(f"coef0 must be >= 0 (otherwise the kernel need not be PSD); got {c:g}")
    return _symmetrise((x @ y.mT + c).pow(degree), same)


def linear_kernel(x: Tensor, y: Tensor | None = None) -> Tensor:
    r"""Gram matrix of the linear kernel :math:`a^\top b` ({eq}`eq-fa-kernels`)."""
    same = y is None
    x, y = _pair(x, y)
    return _symmetrise(x @ y.mT, same)


def _symmetrise(g: Tensor, same: bool) -> Tensor:
    """For ``y = x``, the Gram matrix made exactly symmetric: a blocked matrix product (and a
    vectorised ``pow``) need not round the entries ``(i, j)`` and ``(j, i)`` alike."""
    return 0.5 * (g + g.mT) if same else g


_NAMED = {
    "rbf": rbf_kernel,
    "laplace": laplace_kernel,
    "polynomial": polynomial_kernel,
    "linear": linear_kernel,
}


def gram(kernel: str | Callable, x: Tensor, y: Tensor | None = None, **params) -> Tensor:
    """Gram matrix ``K[i, j] = k(x_i, y_j)`` of a named kernel (one of :data:`KERNELS`, with its
    keyword parameters) or of a callable ``kernel(x, y) -> (n, m) tensor``.

    A callable's result is checked for shape and finiteness, not for positive
    semi-definiteness; see :func:`check_psd`.
    """
    if isinstance(kernel, str):
        if kernel not in _NAMED:
            raise ValueError(f"kernel must be one of {KERNELS} or a callable; got {kernel!r}")
        try:
            return _NAMED[kernel](x, y, **params)
        except TypeError as exc:
            if "unexpected keyword" in str(exc):
                raise TypeError(f"{kernel} kernel: {exc}") from None
            raise
    if not callable(kernel):
        raise TypeError(f"kernel must be a name or a callable; got {type(kernel).__name__}")
    if params:
        raise TypeError(f"parameters {sorted(params)} are only for named kernels")
    x, y = _pair(x, y)
    k = kernel(x, y)
    if not isinstance(k, Tensor) or k.shape != (x.shape[0], y.shape[0]):
        raise ValueError(
            f"a kernel callable must return an ({x.shape[0]}, {y.shape[0]}) tensor; got "
            f"{tuple(k.shape) if isinstance(k, Tensor) else type(k).__name__}"
        )
    return check_tensor(k, "kernel(x, y)")


def min_eigenvalue(K: Tensor) -> float:
    """Smallest eigenvalue of the symmetric part of a square matrix (float)."""
    K = check_tensor(K, "K", ndim=2)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be square; got shape {tuple(K.shape)}")
    return float(torch.linalg.eigvalsh(0.5 * (K + K.mT))[0])


def check_psd(K: Tensor, name: str = "K", rtol: float = 1e-9) -> Tensor:
    r"""Raise ``ValueError`` unless ``K`` is symmetric positive semi-definite.

    A Gram matrix of a positive-definite kernel ({eq}`eq-fa-psd`) passes; its smallest eigenvalue
    may be negative by rounding, so it must only be at least ``-rtol * n * max |eigenvalue|``.
    """
    K = check_tensor(K, name, ndim=2)
    rtol = check_real(rtol, "rtol", low=0)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be square; got shape {tuple(K.shape)}")
    scale = float(K.detach().abs().max())
    if float((K - K.mT).detach().abs().max()) > 1e-10 * max(scale, 1e-300):
        raise ValueError(f"{name} must be symmetric: k(a, b) = k(b, a)")
    eig = torch.linalg.eigvalsh(K.detach())
    floor = -rtol * K.shape[0] * float(eig.abs().max())
    if float(eig[0]) < floor:
        raise ValueError(
            f"{name} is not positive semi-definite: its smallest eigenvalue is "
            f"{float(eig[0]):.3g}. The function used as a kernel is not positive definite"
        )
    return K


# ----------------------------------------------------------------------------------------------
# kernel ridge regression and Gaussian processes


def _targets(y: object, n: int, like: Tensor) -> Tensor:
    y = check_tensor(y, "y", ndim=(1, 2))
    check_same_device({"x": like, "y": y})
    if y.shape[0] != n:
        raise ValueError(f"y must have one row per point of x ({n}); got shape {tuple(y.shape)}")
    return y.to(like.dtype)


class KernelRidge:
    r"""Kernel ridge regression: the minimiser of {eq}`eq-fa-krr` over the kernel's RKHS.

    By the representer theorem the solution is :math:`f(t) = \sum_i \alpha_i k(x_i, t)` with
    :math:`(K + \lambda I)\alpha = y` — the convention of scikit-learn's ``KernelRidge``, whose
    ``alpha`` is our ``lam``.

    Parameters
    ----------
    kernel : str or callable
        A name from :data:`KERNELS` or a callable ``(x, y) -> Gram matrix``. A callable whose
        training Gram matrix is not positive semi-definite is rejected by :meth:`fit`.
    lam : float
        Regularisation strength :math:`\lambda > 0`.
    **params
        The named kernel's parameters (``bandwidth``, ``degree``, ``coef0``).
    """

    def __init__(self, kernel: str | Callable = "rbf", lam: float = 1.0, **params):
        self.kernel = kernel
        self.lam = check_real(lam, "lam", positive=True)
        self.params = params
        self.x_: Tensor | None = None
        self.alpha_: Tensor | None = None

    def fit(self, x: Tensor, y: Tensor) -> KernelRidge:
        """Solve :math:`(K + \\lambda I)\\alpha = y` by Cholesky; return ``self``."""
        x = _as_points(x, "x")
        y = _targets(y, x.shape[0], x)
        K = gram(self.kernel, x, **self.params)
        check_psd(K, "the training Gram matrix")
        eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
        chol, info = torch.linalg.cholesky_ex(K + self.lam * eye)
        if int(info) != 0:
            raise ValueError("K + lam I is not positive definite; increase lam")
        rhs = y if y.ndim == 2 else y[:, None]
        alpha = torch.cholesky_solve(rhs, chol)
        self.x_, self.alpha_ = x, alpha if y.ndim == 2 else alpha[:, 0]
        self._gram = K
        return self

    def _check_fitted(self) -> None:
        if self.alpha_ is None:
            raise RuntimeError("call fit(x, y) before predict or rkhs_norm")

    def predict(self, t: Tensor) -> Tensor:
        r""":math:`f(t) = \sum_i \alpha_i k(x_i, t)` at the points ``t``."""
        self._check_fitted()
        return gram(self.kernel, _as_points(t, "t"), self.x_, **self.params) @ self.alpha_

    def rkhs_norm(self) -> Tensor:
        r""":math:`\lVert f\rVert_{\mathcal H} = \sqrt{\alpha^\top K \alpha}` (summed over
        outputs for several)."""
        self._check_fitted()
        a = self.alpha_ if self.alpha_.ndim == 2 else self.alpha_[:, None]
        return torch.sqrt((a * (self._gram @ a)).sum().clamp_min(0.0))


def gp_prior_samples(
    grid: Tensor,
    kernel: str | Callable = "rbf",
    n_samples: int = 1,
    seed: int = 0,
    jitter: float | None = None,
    **params,
) -> Tensor:
    r"""Sample paths of the Gaussian process :math:`f \sim \mathcal{GP}(0, k)` on a grid
    ({eq}`eq-fa-gp`).

    The values at the grid points are :math:`L z` with :math:`z \sim \mathcal N(0, I)` and
    :math:`L L^\top = K + \text{jitter}\cdot \max_i K_{ii}\, I` (Cholesky; the tiny jitter makes
    the factorisation exist for the nearly singular Gram matrices of smooth kernels). The default
    jitter is ``max(1e-10, 10 n eps)`` with ``eps`` the dtype's machine epsilon (``1e-10`` in
    float64 for any allowed ``n``, a few ``1e-6`` in float32). The normal
    draws come from a private generator seeded with ``seed`` on the grid's device, so the global
    random state is left alone and the same seed gives the same ``z`` for every kernel.

    Returns
    -------
    Tensor
        Shape ``(n_samples, n)``.
    """
    pts = _as_points(grid, "grid")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    if pts.shape[0] > 4000 or n_samples > 100_000:
        raise ValueError("at most 4000 grid points and 100000 samples")
    seed = check_int(seed, "seed", minimum=0)
    if jitter is None:
        jitter = max(1e-10, 10 * pts.shape[0] * torch.finfo(pts.dtype).eps)
    jitter = check_real(jitter, "jitter", low=0, high=1, high_open=True)
    K = gram(kernel, pts, **params)
    if not isinstance(kernel, str):
        check_psd(K, "the Gram matrix on the grid")
    scale = float(K.diagonal().max())
    eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    chol, info = torch.linalg.cholesky_ex(K + jitter * max(scale, 1e-300) * eye)
    if int(info) != 0:
        raise ValueError("the Gram matrix on the grid is not positive definite; raise jitter")
    gen = torch.Generator(device=pts.device).manual_seed(seed)
    z = torch.randn(n_samples, pts.shape[0], generator=gen, dtype=K.dtype, device=K.device)
    return z @ chol.mT


# ----------------------------------------------------------------------------------------------
# integral probability metrics


class KRDual(NamedTuple):
    """Solution of the discrete Kantorovich–Rubinstein dual (see :func:`kantorovich_dual`)."""

    value: float
    potential_x: Tensor
    potential_y: Tensor


def _weights(w: object, n: int, name: str, like: Tensor) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    w = check_probability(w, name)
    check_same_device({name: w, "x": like})
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{name} must be a vector of {n} weights; got shape {tuple(w.shape)}")
    return w.detach().cpu().double().numpy()


def _kr_linprog(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Maximise ``w @ phi`` subject to ``phi_k - phi_l <= |z_k - z_l|`` for all ``k != l`` and
    ``phi_0 = 0`` (the objective ignores constants because ``w`` sums to 0)."""
    from scipy import sparse  # imported here: the rest of the module needs only torch
    from scipy.optimize import linprog

    N = z.shape[0]
    dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    k, j = np.nonzero(~np.eye(N, dtype=bool))
    rows = np.arange(k.size)
    A = sparse.csr_matrix(
        (np.r_[np.ones(k.size), -np.ones(k.size)], (np.r_[rows, rows], np.r_[k, j])),
        shape=(k.size, N),
    )
    res = linprog(
        -w,
        A_ub=A,
        b_ub=dist[k, j],
        bounds=[(0.0, 0.0)] + [(None, None)] * (N - 1),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:  # pragma: no cover - the problem is always feasible and bounded
        raise RuntimeError(f"the Kantorovich-Rubinstein linear program failed: {res.message}")
    return res.x


def kantorovich_dual(
    x: Tensor, y: Tensor, a: Tensor | None = None, b: Tensor | None = None
) -> KRDual:
    r"""The Kantorovich–Rubinstein dual of :math:`W_1` between two discrete distributions.

    Implements {eq}`eq-fa-kr-discrete`: with :math:`P = \sum_i a_i \delta_{x_i}` and
    :math:`Q = \sum_j b_j \delta_{y_j}` it solves the linear program

    .. math:: \max_{\varphi}\; \sum_i a_i \varphi(x_i) - \sum_j b_j \varphi(y_j)
              \quad\text{s.t.}\quad \varphi(z) - \varphi(z') \le \lVert z - z'\rVert_2

    over the values of :math:`\varphi` on the support :math:`\{x_i\} \cup \{y_j\}` (one
    constraint per ordered pair), with :func:`scipy.optimize.linprog` (HiGHS). Its value is
    :math:`W_1(P, Q)`; the potential is defined up to a constant, fixed by :math:`\varphi(x_0)
    = 0`. :func:`lipschitz_extension` extends it to every point.

    Parameters
    ----------
    x, y : Tensor
        Support points ``(n, d)`` and ``(m, d)`` (``(n,)`` for ``d = 1``); ``n + m <=``
        :data:`MAX_LP_POINTS`.
    a, b : Tensor, optional
        Probability vectors of lengths ``n`` and ``m``; uniform when omitted.

    Returns
    -------
    KRDual
        ``value`` (float) and the potential at ``x`` and at ``y`` (tensors on x's device).
    """
    x, y = dv._check_clouds(x, y)
    n, m = x.shape[0], y.shape[0]
    if n + m > MAX_LP_POINTS:
        raise ValueError(
            f"the linear program has one constraint per pair of points; n + m = {n + m} "
            f"exceeds {MAX_LP_POINTS}"
        )
    wa, wb = _weights(a, n, "a", x), _weights(b, m, "b", x)
    z = torch.cat([x, y]).detach().cpu().double().numpy()
    w = np.r_[wa, -wb]
    phi = _kr_linprog(z, w)
    value = float(w @ phi)
    phi_t = torch.as_tensor(phi, dtype=x.dtype, device=x.device)
    return KRDual(value, phi_t[:n], phi_t[n:])


def lipschitz_extension(points: Tensor, values: Tensor, t: Tensor) -> Tensor:
    r"""The McShane extension :math:`\tilde\varphi(t) = \min_k \big(\varphi(z_k) + \lVert t -
    z_k\rVert\big)` ({eq}`eq-fa-mcshane`).

    It is 1-Lipschitz on the whole space and equals ``values`` at ``points`` when those values
    are 1-Lipschitz there.
    """
    z = _as_points(points, "points")
    values = check_tensor(values, "values", ndim=1)
    if values.shape[0] != z.shape[0]:
        raise ValueError(f"values must have {z.shape[0]} entries; got {values.shape[0]}")
    t, z = _pair(t, z)
    return (values[None, :] + _distances(t, z)).amin(dim=1)


def lipschitz_constant(points: Tensor, values: Tensor) -> float:
    r""":math:`\max_{k \ne l} \lvert\varphi(z_k) - \varphi(z_l)\rvert / \lVert z_k - z_l\rVert`
    over distinct points (0 for a single point)."""
    z = _as_points(points, "points")
    values = check_tensor(values, "values", ndim=1)
    if values.shape[0] != z.shape[0]:
        raise ValueError(f"values must have {z.shape[0]} entries; got {values.shape[0]}")
    d = _distances(z, z)
    diff = (values[:, None] - values[None, :]).abs()
    mask = d > 0
    return float((diff[mask] / d[mask]).max()) if bool(mask.any()) else 0.0


def mmd2(
    x: Tensor, y: Tensor, kernel: str | Callable = "rbf", unbiased: bool = False, **params
) -> Tensor:
    r"""Squared MMD {eq}`eq-mmd` between two samples for any kernel.

    The Gaussian kernel is handed to :func:`companion.divergences.mmd2` (its ``bandwidth``
    parameter); other kernels use their Gram matrices. ``unbiased=False`` (default here) is the
    V-statistic :math:`\lVert \hat\mu_P - \hat\mu_Q\rVert_{\mathcal H}^2` of
    {eq}`eq-fa-mmd-embedding`; ``unbiased=True`` leaves out the diagonal terms.
    """
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased must be True or False; got {type(unbiased).__name__}")
    if isinstance(kernel, str) and kernel == "rbf":
        return dv.mmd2(x, y, bandwidth=params.pop("bandwidth", 1.0), unbiased=unbiased, **params)
    x, y = dv._check_clouds(x, y)
    n, m = x.shape[0], y.shape[0]
    kxx, kyy, kxy = (gram(kernel, u, v, **params) for u, v in ((x, x), (y, y), (x, y)))
    if not unbiased:
        return kxx.mean() + kyy.mean() - 2.0 * kxy.mean()
    if min(n, m) < 2:
        raise ValueError(f"the unbiased MMD^2 needs n, m >= 2; got n = {n}, m = {m}")
    off_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    off_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return off_x + off_y - 2.0 * kxy.mean()


def mmd_witness(
    x: Tensor,
    y: Tensor,
    t: Tensor,
    kernel: str | Callable = "rbf",
    normalise: bool = True,
    **params,
) -> Tensor:
    r"""The MMD witness function {eq}`eq-fa-witness` at the points ``t``.

    Unnormalised it is :math:`\hat\mu_P(t) - \hat\mu_Q(t) = \frac1n\sum_i k(x_i, t) -
    \frac1m \sum_j k(y_j, t)`; normalised it is divided by its RKHS norm, the biased
    :math:`\mathrm{MMD}`, so that it is the unit-norm function that attains the supremum: its
    mean under the ``x`` sample minus its mean under the ``y`` sample is the biased MMD. When the
    two embeddings coincide (squared norm below ``1e-13`` times the mean of ``k(x_i, x_i)``:
    zero to rounding) every function of the unit ball has equal means and the normalised
    witness is returned as zeros.
    """
    x, y = dv._check_clouds(x, y)
    t = _as_points(t, "t")
    if not isinstance(normalise, bool):
        raise TypeError(f"normalise must be True or False; got {type(normalise).__name__}")
    f = gram(kernel, t, x, **params).mean(dim=1) - gram(kernel, t, y, **params).mean(dim=1)
    if not normalise:
        return f
    kxx, kyy, kxy = (gram(kernel, u, v, **params) for u, v in ((x, x), (y, y), (x, y)))
    norm2 = kxx.mean() + kyy.mean() - 2.0 * kxy.mean()
    size = max(float(kxx.diagonal().mean()), float(kyy.diagonal().mean()), 1e-300)
    if float(norm2) <= 1e-13 * size:
        return torch.zeros_like(f)
    return f / torch.sqrt(norm2)


# == moved from explore/functional.py ==


def cos_fixed_point(q: float) -> float:
    """The unique solution of ``x = q cos x`` for ``0 < q <= 2`` (SciPy's ``brentq`` on
    [−2.5, 2.5], to machine precision): the fixed point of the chapter's contraction example."""
    from scipy.optimize import brentq

    q = check_real(q, "q")
    if not 0 < q <= 2:
        raise ValueError(f"q must lie in (0, 2]; got {q:g}")
    return brentq(lambda x: x - q * math.cos(x), -2.5, 2.5, xtol=1e-15, rtol=1e-15)


__all__ += ["cos_fixed_point"]
