"""Divergences and distances between probability distributions.

Discrete f-divergences (KL, Jensen–Shannon, total variation, Hellinger), closed forms for
Gaussians (KL, 2-Wasserstein), optimal transport between samples (exact 1-D Wasserstein,
entropic Sinkhorn in any dimension), the kernel two-sample statistic MMD², and the Mahalanobis
distance.

All functions take and return :class:`torch.Tensor` objects, compute in the input's dtype on the
input's device (CPU or CUDA) and are differentiable with autograd wherever the mathematics is —
except :func:`sinkhorn` / :func:`sinkhorn_plan`, whose iterations run without autograd (see there).

Conventions used throughout
---------------------------
* **Units.** Information quantities (KL, JS) are in *nats* by default; ``base=2`` gives bits.
* **Direction of KL.** ``kl_*(p, q)`` is KL(p || q), the expectation under
  the *first* argument of ``log(p / q)``.
* **Zero probabilities.** ``0 * log 0 = 0`` and ``0 * log(0 / q) = 0``; ``p * log(p / 0) = +inf``
  for ``p > 0``.
* **sigma** is a *standard deviation*; **cov** a covariance matrix (symmetric positive definite).
* **Wasserstein** functions return :math:`W_p` itself, not :math:`W_p^p`.
* **Probability vectors** must be non-negative and sum to one within ``1e-6``; they are never
  renormalised. Bad input raises ``TypeError`` (wrong kind: not a floating tensor) or
  ``ValueError`` (wrong content), naming the argument.

Each docstring names the equation label of the book chapter that the function implements.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._validate import (
    as_tensor_param,
    check_broadcastable,
    check_int,
    check_positive,
    check_probability_pair,
    check_real,
    check_same_device,
    check_spd,
    check_tensor,
    log_of_base,
)

__all__ = [
    "kl_discrete",
    "js_discrete",
    "kl_gaussian",
    "kl_mvn",
    "wasserstein_1d",
    "wasserstein_gaussian",
    "sinkhorn",
    "sinkhorn_plan",
    "SinkhornConvergenceError",
    "mmd2",
    "mahalanobis",
    "total_variation",
    "hellinger",
]


class SinkhornConvergenceError(RuntimeError):
    """Raised when :func:`sinkhorn` has not reached its tolerance within ``max_iter`` iterations.

    Attributes
    ----------
    iterations : int
        Number of iterations performed.
    marginal_error : float
        Euclidean norm of the marginal violation of the last plan.
    """

    def __init__(self, message: str, iterations: int, marginal_error: float):
        super().__init__(message)
        self.iterations = iterations
        self.marginal_error = marginal_error


# ----------------------------------------------------------------------------------------------
# helpers


def _in_base(value: Tensor, base: object) -> Tensor:
    log_base = log_of_base(base)
    return value if log_base is None else value / log_base


def _kl_terms(p: Tensor, q: Tensor) -> Tensor:
    """``p log(p / q)`` elementwise, with ``0 log(0 / q) = 0`` and ``p log(p / 0) = +inf``.

    The inner ``where``s keep the masked branch finite so that it cannot put NaN into
    gradients.
    """
    p, q = torch.broadcast_tensors(p, q)
    positive = p > 0
    p_safe = torch.where(positive, p, torch.ones_like(p))
    q_safe = torch.where(positive, q, torch.ones_like(q))
    return torch.where(
        positive, p_safe * (torch.log(p_safe) - torch.log(q_safe)), torch.zeros_like(p)
    )


def _js_terms(a: Tensor, b: Tensor) -> Tensor:
    """``a log(a / m)`` with ``m = (a + b) / 2`` elementwise, ``0`` where ``a = 0``.

    Where ``a`` is subnormal and ``b = 0``, ``(a + b) / 2`` rounds to zero and the plain formula
    returns ``a log(a / 0) = inf``; the exact term, ``a log 2 < 4e-324``, is returned as 0.
    """
    a, b = torch.broadcast_tensors(a, b)
    m = 0.5 * (a + b)
    m = torch.where((a > 0) & (m == 0), a, m)
    return _kl_terms(a, m)


def _check_order(p: object) -> float:
    """Validate a Wasserstein order ``p >= 1``."""
    p = check_real(p, "p")
    if p < 1:
        raise ValueError(f"p must be >= 1 (W_p is a metric only for p >= 1); got {p:g}")
    return p


def _as_points(x: object, name: str) -> Tensor:
    """A sample cloud as an ``(n, d)`` floating tensor; a 1-D ``(n,)`` tensor means d = 1."""
    x = check_tensor(x, name, ndim=(1, 2))
    return x.unsqueeze(-1) if x.ndim == 1 else x


def _check_clouds(x: object, y: object) -> tuple[Tensor, Tensor]:
    x = _as_points(x, "x")
    y = _as_points(y, "y")
    check_same_device({"x": x, "y": y})
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"x and y must be points of the same dimension; got x with {x.shape[-1]} and y "
            f"with {y.shape[-1]} coordinates"
        )
    return x, y


def _check_gaussian(mu: object, cov: object, name_mu: str, name_cov: str) -> tuple[Tensor, Tensor]:
    """Validate a mean ``(..., d)`` and a covariance ``(..., d, d)``; return mean and Cholesky."""
    mu = check_tensor(mu, name_mu, min_ndim=1)
    chol = check_spd(cov, name_cov)
    if mu.shape[-1] != chol.shape[-1]:
        raise ValueError(
            f"{name_mu} has dimension {mu.shape[-1]} but {name_cov} is "
            f"{chol.shape[-2]}x{chol.shape[-1]}; they must match"
        )
    check_same_device({name_mu: mu, name_cov: chol})
    return mu, chol


def _check_gaussian_pair(
    mu1: object, cov1: object, mu2: object, cov2: object
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Validate two Gaussians of the same dimension with broadcastable batch shapes.

    Returns the two means and the two lower Cholesky factors.
    """
    mu1, chol1 = _check_gaussian(mu1, cov1, "mu1", "cov1")
    mu2, chol2 = _check_gaussian(mu2, cov2, "mu2", "cov2")
    check_same_device({"mu1": mu1, "mu2": mu2})
    if mu1.shape[-1] != mu2.shape[-1]:
        raise ValueError(
            f"the two Gaussians must have the same dimension; got {mu1.shape[-1]} and "
            f"{mu2.shape[-1]}"
        )
    batches = (mu1.shape[:-1], chol1.shape[:-2], mu2.shape[:-1], chol2.shape[:-2])
    try:
        torch.broadcast_shapes(*batches)
    except RuntimeError:
        raise ValueError(
            "the batch shapes of mu1, cov1, mu2, cov2 "
            f"{', '.join(str(tuple(b)) for b in batches)} cannot be broadcast together"
        ) from None
    return mu1, chol1, mu2, chol2


# ----------------------------------------------------------------------------------------------
# discrete divergences


def kl_discrete(p: Tensor, q: Tensor, dim: int = -1, base: float | None = None) -> Tensor:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(p \,\|\, q)` between discrete distributions.

    Implements {eq}`eq-kl`:

    .. math:: \mathrm{KL}(p \,\|\, q) = \sum_x p(x) \log \frac{p(x)}{q(x)} \;\ge\; 0,

    the expectation under ``p`` (the first argument) of the log-ratio. Terms with ``p(x) = 0``
    are 0; the result is ``+inf`` if some ``q(x) = 0 < p(x)`` (``p`` not absolutely continuous
    with respect to ``q``). It is 0 exactly when ``p = q`` and is not symmetric. When ``p`` and
    ``q`` differ only by rounding, the computed value can be a tiny negative number (~1e-16).

    Parameters
    ----------
    p, q : Tensor
        Probability tensors with the same number of outcomes along ``dim``; other dimensions
        broadcast. Each must be >= 0 and sum to 1 within ``1e-6`` (never renormalised).
    dim : int, optional
        The outcome dimension. Default: the last.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        The broadcast shape with ``dim`` removed.
    """
    p, q = check_probability_pair(p, q, dim)
    return _in_base(_kl_terms(p, q).sum(dim=dim), base)


def js_discrete(p: Tensor, q: Tensor, dim: int = -1, base: float | None = None) -> Tensor:
    r"""Jensen–Shannon divergence between discrete distributions (the divergence itself).

    Implements {eq}`eq-js`:

    .. math:: \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m)
              + \tfrac12 \mathrm{KL}(q \,\|\, m), \qquad m = \tfrac12 (p + q).

    It is symmetric, always finite and lies in ``[0, log 2]`` (``[0, 1]`` in bits) for *any*
    number of outcomes. This is the divergence, **not** its square root (the Jensen–Shannon
    *distance*, which is what :func:`scipy.spatial.distance.jensenshannon` returns).

    Parameters
    ----------
    p, q : Tensor
        Probability tensors with the same number of outcomes along ``dim``; other dimensions
        broadcast.
    dim : int, optional
        The outcome dimension. Default: the last.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        The broadcast shape with ``dim`` removed.
    """
    p, q = check_probability_pair(p, q, dim)
    value = 0.5 * (_js_terms(p, q).sum(dim=dim) + _js_terms(q, p).sum(dim=dim))
    return _in_base(value, base)


def total_variation(p: Tensor, q: Tensor, dim: int = -1) -> Tensor:
    r"""Total variation distance between discrete distributions.

    Implements {eq}`eq-tv`:

    .. math:: \mathrm{TV}(p, q) = \tfrac12 \sum_x |p(x) - q(x)| = \max_A |p(A) - q(A)|
              \in [0, 1].

    Parameters
    ----------
    p, q : Tensor
        Probability tensors with the same number of outcomes along ``dim``.
    dim : int, optional
        The outcome dimension. Default: the last.

    Returns
    -------
    Tensor
        The broadcast shape with ``dim`` removed.
    """
    p, q = check_probability_pair(p, q, dim)
    return 0.5 * (p - q).abs().sum(dim=dim)


def hellinger(p: Tensor, q: Tensor, dim: int = -1) -> Tensor:
    r"""Hellinger distance between discrete distributions, normalised to lie in ``[0, 1]``.

    Implements {eq}`eq-hellinger` with the **1/√2 convention**:

    .. math:: \mathrm{Hel}(p, q) = \frac{1}{\sqrt 2} \big\| \sqrt p - \sqrt q \big\|_2
              = \sqrt{1 - \textstyle\sum_x \sqrt{p(x) q(x)}},

    so that ``Hel = 0`` iff ``p = q`` and ``Hel = 1`` iff the supports are disjoint. (Some texts
    omit the 1/√2; their value is ``sqrt(2)`` times this one.) Computed from the first form,
    which has no cancellation.

    Parameters
    ----------
    p, q : Tensor
        Probability tensors with the same number of outcomes along ``dim``.
    dim : int, optional
        The outcome dimension. Default: the last.

    Returns
    -------
    Tensor
        The broadcast shape with ``dim`` removed.
    """
    p, q = check_probability_pair(p, q, dim)
    squared = 0.5 * (torch.sqrt(p) - torch.sqrt(q)).square().sum(dim=dim)
    return torch.sqrt(squared)


# ----------------------------------------------------------------------------------------------
# Gaussians


def kl_gaussian(
    mu1: Tensor | float, sigma1: Tensor | float, mu2: Tensor | float, sigma2: Tensor | float
) -> Tensor:
    r"""KL divergence :math:`\mathrm{KL}(\mathcal N(\mu_1, \sigma_1^2) \,\|\, \mathcal N(\mu_2,
    \sigma_2^2))` between univariate normals, elementwise, in nats.

    Implements {eq}`eq-kl-gauss`:

    .. math:: \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2}
              - \frac12 .

    Parameters
    ----------
    mu1, sigma1 : Tensor or float
        Mean and **standard deviation** (> 0) of the first distribution (the one the expectation
        is taken under).
    mu2, sigma2 : Tensor or float
        Mean and standard deviation (> 0) of the second.

    All four broadcast together; Python numbers are taken as float64 (or the dtype of the
    tensor arguments).

    Returns
    -------
    Tensor
        The broadcast shape of the four arguments.
    """
    tensors = [v for v in (mu1, sigma1, mu2, sigma2) if isinstance(v, Tensor)]
    like = tensors[0] if tensors else None
    names = ("mu1", "sigma1", "mu2", "sigma2")
    mu1, sigma1, mu2, sigma2 = (
        as_tensor_param(v, n, like) for v, n in zip((mu1, sigma1, mu2, sigma2), names, strict=True)
    )
    check_same_device(dict(zip(names, (mu1, sigma1, mu2, sigma2), strict=True)))
    check_positive(sigma1, "sigma1")
    check_positive(sigma2, "sigma2")
    try:
        torch.broadcast_shapes(mu1.shape, sigma1.shape, mu2.shape, sigma2.shape)
    except RuntimeError:
        raise ValueError(
            "mu1, sigma1, mu2, sigma2 have mismatched shapes "
            f"{tuple(mu1.shape)}, {tuple(sigma1.shape)}, {tuple(mu2.shape)}, {tuple(sigma2.shape)}"
        ) from None
    # With t = log(sigma1^2 / sigma2^2): KL = ((e^t - 1) - t) / 2 + (mu1 - mu2)^2 / (2 sigma2^2);
    # expm1 keeps the variance part accurate when sigma1 is close to sigma2.
    t = 2.0 * (torch.log(sigma1) - torch.log(sigma2))
    return 0.5 * (torch.expm1(t) - t) + (mu1 - mu2).square() / (2.0 * sigma2.square())


def kl_mvn(mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor) -> Tensor:
    r"""KL divergence :math:`\mathrm{KL}(\mathcal N(\mu_1, \Sigma_1) \,\|\, \mathcal N(\mu_2,
    \Sigma_2))` between multivariate normals, in nats.

    Implements {eq}`eq-kl-mvn`:

    .. math:: \tfrac12 \Big[ \operatorname{tr}(\Sigma_2^{-1}\Sigma_1)
              + (\mu_2 - \mu_1)^\top \Sigma_2^{-1} (\mu_2 - \mu_1) - d
              + \log\frac{\det \Sigma_2}{\det \Sigma_1} \Big],

    evaluated through Cholesky factors (no explicit inverse or determinant).

    Parameters
    ----------
    mu1, mu2 : Tensor
        Means, shape ``(d,)`` (or ``(..., d)`` for a batch).
    cov1, cov2 : Tensor
        Covariance matrices, shape ``(d, d)`` (or ``(..., d, d)``), symmetric positive definite.

    Returns
    -------
    Tensor
        0-d for single Gaussians, else the broadcast batch shape.
    """
    mu1, chol1, mu2, chol2 = _check_gaussian_pair(mu1, cov1, mu2, cov2)
    d = mu1.shape[-1]
    # tr(S2^-1 S1) = ||L2^-1 L1||_F^2 ; Mahalanobis term = ||L2^-1 (mu2 - mu1)||^2.
    solved = torch.linalg.solve_triangular(chol2, chol1, upper=False)
    trace_term = solved.square().sum(dim=(-2, -1))
    diff = (mu2 - mu1).unsqueeze(-1)
    z = torch.linalg.solve_triangular(chol2, diff, upper=False)
    maha = z.square().sum(dim=(-2, -1))
    logdet1 = 2.0 * torch.log(torch.diagonal(chol1, dim1=-2, dim2=-1)).sum(-1)
    logdet2 = 2.0 * torch.log(torch.diagonal(chol2, dim1=-2, dim2=-1)).sum(-1)
    return 0.5 * (trace_term + maha - d + logdet2 - logdet1)


def wasserstein_gaussian(mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor) -> Tensor:
    r"""2-Wasserstein distance between two normal distributions (closed form, unsquared).

    Implements {eq}`eq-w2-gauss`:

    .. math:: W_2^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{tr}\big(\Sigma_1 + \Sigma_2
              - 2 (\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2})^{1/2}\big),

    the second term being the squared Bures distance between the covariances. The trace of
    the matrix square root is the sum of the square roots of the eigenvalues of
    ``L1^T S2 L1`` (``S1 = L1 L1^T``), which are those of ``S1 S2``.

    Parameters
    ----------
    mu1, mu2 : Tensor
        Means, shape ``(d,)`` (or ``(..., d)``).
    cov1, cov2 : Tensor
        Covariances, shape ``(d, d)`` (or ``(..., d, d)``), symmetric positive definite.

    Returns
    -------
    Tensor
        :math:`W_2` (not :math:`W_2^2`). Rounding in the trace term leaves an absolute error
        of about ``sqrt(1e-16 * tr(S1 + S2))`` when the two Gaussians nearly coincide.
    """
    mu1, chol1, mu2, _ = _check_gaussian_pair(mu1, cov1, mu2, cov2)
    middle = chol1.mT @ cov2 @ chol1
    middle = 0.5 * (middle + middle.mT)
    eigenvalues = torch.linalg.eigvalsh(middle).clamp_min(0.0)
    trace1 = torch.diagonal(cov1, dim1=-2, dim2=-1).sum(-1)
    trace2 = torch.diagonal(cov2, dim1=-2, dim2=-1).sum(-1)
    bures2 = trace1 + trace2 - 2.0 * torch.sqrt(eigenvalues).sum(-1)
    squared = (mu1 - mu2).square().sum(-1) + bures2
    return torch.sqrt(squared.clamp_min(0.0))


def mahalanobis(x: Tensor, y: Tensor, cov: Tensor) -> Tensor:
    r"""Mahalanobis distance between points under a covariance matrix.

    Implements {eq}`eq-mahalanobis`:

    .. math:: D_\Sigma(x, y) = \sqrt{(x - y)^\top \Sigma^{-1} (x - y)},

    computed as ``||L^{-1}(x - y)||`` with the Cholesky factor ``Sigma = L L^T`` (no inverse
    is formed). Note that this takes the covariance itself, whereas
    :func:`scipy.spatial.distance.mahalanobis` takes its inverse.

    Parameters
    ----------
    x, y : Tensor
        Points of shape ``(..., d)``; leading dimensions broadcast.
    cov : Tensor
        Covariance ``(d, d)`` or a batch ``(..., d, d)``, symmetric positive definite.

    Returns
    -------
    Tensor
        The broadcast batch shape of ``x - y`` and ``cov``.
    """
    x = check_tensor(x, "x", min_ndim=1)
    y = check_tensor(y, "y", min_ndim=1)
    chol = check_spd(cov, "cov")
    check_same_device({"x": x, "y": y, "cov": chol})
    check_broadcastable(x, y, "x", "y")
    d = chol.shape[-1]
    if x.shape[-1] != d or y.shape[-1] != d:
        raise ValueError(
            f"x and y must have d = {d} coordinates to match cov of shape {tuple(cov.shape)}; "
            f"got x {tuple(x.shape)} and y {tuple(y.shape)}"
        )
    diff = (x - y).unsqueeze(-1)
    try:
        z = torch.linalg.solve_triangular(chol, diff, upper=False)
    except RuntimeError:
        raise ValueError(
            f"the batch shapes of x - y {tuple(diff.shape[:-2])} and cov {tuple(cov.shape[:-2])} "
            "cannot be broadcast together"
        ) from None
    return torch.sqrt(z.square().sum(dim=(-2, -1)))


# ----------------------------------------------------------------------------------------------
# optimal transport between samples


def wasserstein_1d(x: Tensor, y: Tensor, p: float = 1) -> Tensor:
    r"""p-Wasserstein distance between two 1-D empirical distributions (exact).

    Implements {eq}`eq-w1d`: with uniform weights ``1/n`` on the samples ``x`` and ``1/m`` on
    ``y``, the optimal coupling in one dimension is monotone, so

    .. math:: W_p^p = \int_0^1 \big|F_x^{-1}(t) - F_y^{-1}(t)\big|^p \, dt ,

    where :math:`F^{-1}` are the empirical quantile functions (step functions jumping at
    multiples of ``1/n`` and ``1/m``). The integral is a finite sum over the merged jump points,
    found with exact integer arithmetic; for ``n == m`` it is just the mean of
    ``|x_(i) - y_(i)|^p`` over sorted samples. Cost: two sorts, ``O((n + m) log(n + m))``.

    Parameters
    ----------
    x : Tensor
        Samples, shape ``(n,)`` or ``(..., n)`` for a batch of sample sets.
    y : Tensor
        Samples, shape ``(m,)`` or ``(..., m)``; ``m`` may differ from ``n``, and the batch
        dimensions broadcast with ``x``'s.
    p : float, optional
        Order, ``p >= 1`` (default 1).

    Returns
    -------
    Tensor
        :math:`W_p` (the p-th root taken, **not** :math:`W_p^p`), shape = broadcast batch
        shape. Differentiable with respect to the sample values.
    """
    x = check_tensor(x, "x", min_ndim=1)
    y = check_tensor(y, "y", min_ndim=1)
    p = _check_order(p)
    check_same_device({"x": x, "y": y})
    try:
        torch.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except RuntimeError:
        raise ValueError(
            f"the batch shapes of x {tuple(x.shape)} and y {tuple(y.shape)} (all but the last "
            "dimension) cannot be broadcast together"
        ) from None
    n, m = x.shape[-1], y.shape[-1]
    xs = torch.sort(x, dim=-1).values
    ys = torch.sort(y, dim=-1).values
    if n == m:
        gaps = (xs - ys).abs()
        powered = gaps if p == 1 else gaps.pow(p)
        value = powered.mean(dim=-1)
    else:
        value = _unequal_quantile_sum(xs, ys, p)
    return value if p == 1 else value.pow(1.0 / p)


def _unequal_quantile_sum(xs: Tensor, ys: Tensor, p: float) -> Tensor:
    """``W_p^p`` of two sorted sample sets of different sizes ``n != m``.

    Jump points of the quantile functions, scaled by n*m to integers: i*m (for x) and j*n (for
    y). Their merged order is known in closed form, so no sort is needed: a_i = i*m is preceded
    by ceil(i*m/n) of the b_j, and b_j = j*n by floor(j*n/m) + 1 of the a_i (ties put a before b).
    """
    n, m = xs.shape[-1], ys.shape[-1]
    dev = xs.device
    i = torch.arange(n + 1, device=dev)
    j = torch.arange(m + 1, device=dev)
    grid = torch.empty(n + m + 2, dtype=torch.int64, device=dev)
    grid[i + (i * m + n - 1) // n] = i * m
    grid[j + (j * n) // m + 1] = j * n
    starts = grid[:-1]
    lengths = (grid[1:] - starts).to(xs.dtype) / (n * m)
    ix = torch.clamp(starts // m, max=n - 1)
    iy = torch.clamp(starts // n, max=m - 1)
    gaps = (xs[..., ix] - ys[..., iy]).abs()
    powered = gaps if p == 1 else gaps.pow(p)
    return (powered * lengths).sum(dim=-1)


def _cost_matrix(x: Tensor, y: Tensor, p: float) -> Tensor:
    """``C[i, j] = ||x_i - y_j||_2^p`` from direct differences (no ``|a|^2 + |b|^2 - 2ab``,
    which loses the small distances to cancellation)."""
    if p == 2 and x.shape[-1] <= 8:
        # a few passes over the matrix, one per coordinate, exact up to rounding
        diff = x[:, 0, None] - y[None, :, 0]
        cost = diff.square_()
        for k in range(1, x.shape[-1]):
            diff = x[:, k, None] - y[None, :, k]
            cost.addcmul_(diff, diff)
        return cost
    dist = torch.cdist(x, y, p=2.0, compute_mode="donot_use_mm_for_euclid_dist")
    return dist if p == 1 else dist.pow_(p)


# Scalings are folded back into the log-potentials once they leave [1/_ABSORB, _ABSORB]. With this
# bound, a kernel entry that underflowed to 0 stands for a plan entry below 1e-308 * _ABSORB**2,
# about 1e-208: nothing, at float64 resolution.
_ABSORB = 1e50


def _sinkhorn_first_iteration(scaled: Tensor, a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The first Sinkhorn iteration in the log domain: the potentials ``f, g`` (units of eps)
    and the re-centred kernel ``exp(f_i + g_j - C_ij / eps)`` (see :func:`_sinkhorn_solve`)."""
    n, m = scaled.shape
    # column step from f = 0: g_j = log b_j - logsumexp_i(-C_ij / eps)
    col_min = scaled.amin(dim=0)
    work = torch.sub(col_min[None, :], scaled).exp_()
    g = col_min - math.log(m) - torch.log(work.sum(dim=0))
    # row step: f_i = log a_i - logsumexp_j(g_j - C_ij / eps), shifted by the row maximum
    torch.sub(g[None, :], scaled, out=work)
    row_max = work.amax(dim=1)
    work.sub_(row_max[:, None]).exp_()
    row_sum = work.sum(dim=1)
    f = -math.log(n) - row_max - torch.log(row_sum)
    # exp(f_i + g_j - C_ij / eps) = work_ij * exp(f_i + row_max_i) = work_ij * a_i / row_sum_i
    return f, g, work.mul_((a / row_sum)[:, None])


def _sinkhorn_solve(scaled: Tensor, max_iter: int, tol: float) -> tuple[Tensor, int, float]:
    """Sinkhorn iterations for uniform marginals on the scaled cost ``C / eps``.

    Returns the plan, the number of iterations and the final marginal error.

    The classic iteration ``v = b / K^T u``, ``u = a / K v`` with ``K = exp(-C / eps)`` breaks
    down for small ``eps``: ``K`` underflows to zero and ``0 / 0`` follows. Here:

    1. The first iteration is done on the potentials ``f, g`` (in units of eps) in the log
       domain, each ``logsumexp`` shifted by its row or column extremum, so it cannot underflow
       whatever ``C / eps`` is.
    2. The plan is then written ``P = diag(u) K diag(v)`` with the *re-centred* kernel
       ``K_ij = exp(f_i + g_j - C_ij / eps)``: its rows sum to ``a_i`` and its columns to at
       least ``b_j / n``, so no row or column has underflowed. The iterations continue on ``u``
       and ``v`` with matrix-vector products, as fast as the classic method.
    3. A half-step multiplies each ``u_i`` by a factor in ``[1/n, m]`` and each ``v_j`` by one in
       ``[1/m, n]`` (a marginal entry after the other half-step lies between its target over
       the other side's size and 1), so ``u, v`` never overflow in one step; whenever they leave
       ``[1e-50, 1e50]`` they are absorbed into ``f, g`` (log domain) and ``K`` is rebuilt.

    Every step is an exact Sinkhorn step from the textbook starting point ``u = 1``, so the
    iterates, the stopping rule and the iteration count are those of the classic algorithm.
    After each full iteration (columns, then rows) the row marginals are exact; the loop stops
    once ``||P^T 1 - b||_2 <= tol``, the column sums of the current plan being ``v * (K^T u)``.
    Only two ``n x m`` matrices are held: ``scaled`` and the kernel (which becomes the plan).
    """
    n, m = scaled.shape
    dtype, dev = scaled.dtype, scaled.device
    a = torch.full((n,), 1.0 / n, dtype=dtype, device=dev)
    b = torch.full((m,), 1.0 / m, dtype=dtype, device=dev)
    f, g, kernel = _sinkhorn_first_iteration(scaled, a)
    u = torch.ones(n, dtype=dtype, device=dev)
    v = torch.ones(m, dtype=dtype, device=dev)
    iterations = 1
    while True:
        ktu = kernel.mT @ u
        err = torch.linalg.vector_norm(v * ktu - b).item()
        if err <= tol or iterations >= max_iter:
            break
        v = b / ktu
        u = a / (kernel @ v)
        iterations += 1
        low, high = torch.stack(torch.aminmax(torch.cat([u, v]))).tolist()
        if not (1.0 / _ABSORB < low and high < _ABSORB):
            f = f + torch.log(u)
            g = g + torch.log(v)
            torch.add(f[:, None], g[None, :], out=kernel)
            kernel.sub_(scaled).exp_()
            u = torch.ones_like(u)
            v = torch.ones_like(v)
    plan = kernel.mul_(u[:, None]).mul_(v[None, :])
    return plan, iterations, err


def _sinkhorn_checked(
    x: object, y: object, epsilon: object, p: object, max_iter: object, tol: object
) -> tuple[Tensor, Tensor]:
    x, y = _check_clouds(x, y)
    epsilon = check_real(epsilon, "epsilon", positive=True)
    p = _check_order(p)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_real(tol, "tol", positive=True)
    with torch.no_grad():
        scaled = _cost_matrix(x.detach(), y.detach(), p).div_(epsilon)
        plan, iterations, err = _sinkhorn_solve(scaled, max_iter, tol)
        if not err <= tol:
            raise SinkhornConvergenceError(
                f"sinkhorn did not converge: after {iterations} iterations the marginal error "
                f"||P^T 1 - b||_2 is {err:.3g} > tol = {tol:g}. Increase max_iter, increase "
                "epsilon (convergence slows roughly like 1/epsilon), or loosen tol",
                iterations,
                err,
            )
        # <P, C> = eps * <P, C / eps>, as one dot product over the flattened matrices
        cost = epsilon * torch.dot(plan.reshape(-1), scaled.reshape(-1))
        return plan, cost


def sinkhorn_plan(
    x: Tensor,
    y: Tensor,
    epsilon: float,
    p: float = 2,
    max_iter: int = 1000,
    tol: float = 1e-9,
) -> tuple[Tensor, Tensor]:
    r"""Entropic optimal transport plan between two point clouds, and its transport cost.

    Same problem, algorithm, arguments and errors as :func:`sinkhorn`; see there.

    Returns
    -------
    plan : Tensor
        Shape ``(n, m)``, non-negative; its row sums are ``1/n`` and its column sums ``1/m``
        (the latter to within ``tol`` in Euclidean norm).
    cost : Tensor
        0-d, ``<plan, C>`` (the value :func:`sinkhorn` returns).
    """
    return _sinkhorn_checked(x, y, epsilon, p, max_iter, tol)


def sinkhorn(
    x: Tensor, y: Tensor, epsilon: float, p: float = 2, max_iter: int = 1000, tol: float = 1e-9
) -> Tensor:
    r"""Entropy-regularised optimal transport cost between two point clouds (Sinkhorn).

    Implements {eq}`eq-sinkhorn`. With uniform weights ``a = 1/n``, ``b = 1/m`` and the cost
    :math:`C_{ij} = \|x_i - y_j\|_2^p`, it solves

    .. math:: P^\star = \operatorname*{arg\,min}_{P \ge 0,\; P\mathbf 1 = a,\; P^\top \mathbf 1 = b}
              \langle P, C \rangle + \varepsilon \sum_{ij} P_{ij} \log P_{ij}

    and returns the **transport part** :math:`\langle P^\star, C\rangle` (without the entropy
    term) — the quantity :func:`ot.sinkhorn2` returns. It is at least the exact OT cost
    :math:`W_p^p` and tends to it as ``epsilon -> 0`` (from above, monotonically; the gap is at
    most ``epsilon * log(m)``). Note: this is a cost, comparable to :math:`W_p^p`, not to
    :math:`W_p`.

    **Stability.** Unlike the classic ``exp(-C / epsilon)`` scaling (``0 / 0 = nan`` for small
    ``epsilon``), the first iteration runs in the log domain and later ones multiply by a kernel
    re-centred on the dual potentials, ``exp((f_i + g_j - C_ij) / epsilon)``: nothing underflows
    however small ``epsilon`` is, at two matrix-vector products per iteration.

    **Convergence is never assumed.** Each iteration enforces the row marginals; the loop stops
    when ``||P^T 1 - b||_2 <= tol``, else after ``max_iter`` iterations it **raises**
    :class:`SinkhornConvergenceError` (an unconverged plan gives a wrong cost). Small ``epsilon``
    needs more iterations (roughly proportional to ``1/epsilon``).

    **Gradients.** None: the iterations run under :func:`torch.no_grad` (the result is detached).

    Parameters
    ----------
    x : Tensor
        Source points, shape ``(n, d)`` (``(n,)`` is read as ``d = 1``).
    y : Tensor
        Target points, shape ``(m, d)``; ``m`` may differ from ``n``.
    epsilon : float
        Regularisation strength, > 0, in the units of the cost (e.g. a fraction of ``C.mean()``).
    p : float, optional
        Exponent of the Euclidean distance in the cost, ``p >= 1`` (default 2).
    max_iter : int, optional
        Maximal number of iterations (one iteration updates both marginals). Default 1000.
    tol : float, optional
        Tolerance on the Euclidean norm of the column-marginal error. Default ``1e-9``.

    Returns
    -------
    Tensor
        0-d tensor :math:`\langle P^\star, C\rangle`.

    Raises
    ------
    SinkhornConvergenceError
        If the tolerance is not reached within ``max_iter`` iterations.
    TypeError, ValueError
        For bad input (see the module docstring), ``epsilon <= 0``, ``p < 1``, ``tol <= 0``.
    """
    return _sinkhorn_checked(x, y, epsilon, p, max_iter, tol)[1]


# ----------------------------------------------------------------------------------------------
# kernel two-sample statistic


# Entries per block in the no-gradient MMD path (8 MiB in float64): large enough that the per-block
# overhead vanishes, small enough that no n x m temporary is ever allocated; each block is built,
# exponentiated in place and summed.
_MMD_BLOCK = 1 << 20


def _rbf_sum_dense(a: Tensor, b: Tensor, gamma: Tensor, exclude_diagonal: bool) -> Tensor:
    """Sum of ``exp(-gamma ||a_i - b_j||^2)`` over all pairs (minus the diagonal if asked),
    from the full kernel matrix: the differentiable path."""
    sq = a.square().sum(-1)[:, None] + b.square().sum(-1)[None, :] - 2.0 * (a @ b.mT)
    kernel = torch.exp(-gamma * sq.clamp_min(0.0))
    total = kernel.sum()
    if exclude_diagonal:
        total = total - torch.diagonal(kernel).sum()
    return total


def _rbf_sum_blocked(a: Tensor, b: Tensor | None, gamma: Tensor, exclude_diagonal: bool) -> Tensor:
    """Same sum without autograd, one cache-sized block of rows at a time, in place.

    ``b=None`` means ``b = a``: then only the blocks on and right of the diagonal are built and
    the off-diagonal ones counted twice (the kernel matrix is symmetric).
    """
    symmetric = b is None
    b = a if symmetric else b
    a_sq, b_sq = a.square().sum(-1), b.square().sum(-1)
    n, m = a.shape[0], b.shape[0]
    rows = max(1, _MMD_BLOCK // m)
    total = torch.zeros((), dtype=a.dtype, device=a.device)
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        c0 = r0 if symmetric else 0
        block = torch.addmm(b_sq[None, c0:], a[r0:r1], b[c0:].mT, alpha=-2.0)
        block.add_(a_sq[r0:r1, None]).clamp_(min=0.0).mul_(-gamma).exp_()
        if symmetric:
            square = block[:, : r1 - r0]
            total += square.sum() + 2.0 * block[:, r1 - r0 :].sum()
            if exclude_diagonal:
                total -= torch.diagonal(square).sum()
        else:
            total += block.sum()
    return total


def _rbf_sum(a: Tensor, b: Tensor | None, gamma: Tensor, exclude_diagonal: bool) -> Tensor:
    """Sum of the RBF kernel over all pairs of ``a`` and ``b`` (``b=None``: within ``a``)."""
    needs_grad = torch.is_grad_enabled() and (
        a.requires_grad or gamma.requires_grad or (b is not None and b.requires_grad)
    )
    if needs_grad:
        return _rbf_sum_dense(a, a if b is None else b, gamma, exclude_diagonal)
    with torch.no_grad():
        return _rbf_sum_blocked(a, b, gamma, exclude_diagonal)


def mmd2(x: Tensor, y: Tensor, bandwidth: float | Tensor = 1.0, unbiased: bool = True) -> Tensor:
    r"""Squared maximum mean discrepancy between two samples with a Gaussian (RBF) kernel.

    Implements {eq}`eq-mmd` with :math:`k(a, b) = \exp(-\|a - b\|^2 / (2 h^2))`, ``h`` the
    bandwidth. The unbiased estimator (default) is

    .. math:: \frac{1}{n(n-1)} \sum_{i \ne i'} k(x_i, x_{i'})
              + \frac{1}{m(m-1)} \sum_{j \ne j'} k(y_j, y_{j'})
              - \frac{2}{nm} \sum_{i, j} k(x_i, y_j),

    whose expectation is exactly the population MMD²; it can therefore be slightly negative.
    ``unbiased=False`` gives the biased (V-statistic) version, which includes the ``i = i'``
    and ``j = j'`` terms, averages over ``n^2`` and ``m^2`` pairs, and is always >= 0.

    Parameters
    ----------
    x : Tensor
        Samples ``(n, d)``, or ``(n,)`` for one-dimensional data.
    y : Tensor
        Samples ``(m, d)`` or ``(m,)``; ``m`` may differ from ``n``.
    bandwidth : float or Tensor, optional
        Kernel bandwidth ``h > 0`` (default 1.0); a 0-d tensor keeps it differentiable.
    unbiased : bool, optional
        Unbiased U-statistic (default, needs ``n, m >= 2``) or biased V-statistic.

    Returns
    -------
    Tensor
        0-d tensor. Without autograd the kernel matrices are summed block by block in
        ``O(n + m)`` extra memory; when a gradient is needed they are built whole
        (``O(n^2 + m^2 + nm)`` memory).
    """
    x, y = _check_clouds(x, y)
    h = as_tensor_param(bandwidth, "bandwidth", like=x)
    if h.ndim != 0:
        raise ValueError(f"bandwidth must be a scalar; got shape {tuple(h.shape)}")
    check_positive(h, "bandwidth")
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased must be True or False; got {type(unbiased).__name__}")
    n, m = x.shape[0], y.shape[0]
    if unbiased and min(n, m) < 2:
        raise ValueError(
            f"the unbiased MMD^2 needs at least 2 samples on each side; got n = {n}, m = {m} "
            "(use unbiased=False for the biased estimator)"
        )
    gamma = 0.5 / h.square()
    cross = _rbf_sum(x, y, gamma, False) / (n * m)
    if unbiased:
        within_x = _rbf_sum(x, None, gamma, True) / (n * (n - 1))
        within_y = _rbf_sum(y, None, gamma, True) / (m * (m - 1))
    else:
        within_x = _rbf_sum(x, None, gamma, False) / (n * n)
        within_y = _rbf_sum(y, None, gamma, False) / (m * m)
    return within_x + within_y - 2.0 * cross


# == moved from explore/divergences.py ==
# One-dimensional Gaussian mixtures and the values the chapter's figures print about them
# (closed form where one exists, else quadrature on a fine grid), the disjoint-supports example,
# the exact OT cost of two equal-size clouds, and MMD² for batches of sample pairs.

_F64 = torch.float64
_QUAD_GRID = torch.linspace(-30.0, 30.0, 6001, dtype=_F64)
_QUAD_DX = float(_QUAD_GRID[1] - _QUAD_GRID[0])
_QUAD_U = (torch.arange(2000, dtype=_F64) + 0.5) / 2000


class Mixture:
    """A one-dimensional Gaussian mixture ``sum_k w_k N(mu_k, sigma_k^2)`` (σ = std).

    ``components`` is a non-empty list of ``(weight, mean, std)`` triples, weights > 0 summing
    to one, std > 0.
    """

    def __init__(self, components):
        if not isinstance(components, (list, tuple)) or len(components) == 0:
            raise ValueError("a mixture needs a non-empty list of (weight, mean, std) triples")
        comps = []
        for k, comp in enumerate(components):
            if not isinstance(comp, (list, tuple)) or len(comp) != 3:
                raise ValueError(f"component {k} must be a (weight, mean, std) triple")
            w, m, s = (
                check_real(v, f"component {k} {n}") for v, n in zip(comp, "wms", strict=True)
            )
            if w <= 0 or s <= 0:
                raise ValueError(f"component {k} needs weight > 0 and std > 0, got {comp}")
            comps.append((w, m, s))
        total = sum(w for w, _, _ in comps)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"mixture weights must sum to 1, got {total}")
        self.components = tuple(comps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mixture) and self.components == other.components

    def __hash__(self) -> int:
        return hash(self.components)

    def __repr__(self) -> str:
        return f"Mixture({list(self.components)})"

    @property
    def is_gaussian(self) -> bool:
        return len(self.components) == 1

    def log_pdf(self, x: Tensor) -> Tensor:
        """``log p(x)`` elementwise (a log-sum-exp over the components)."""
        x = check_tensor(x, "x", allow_empty=True)
        terms = [
            math.log(w) + torch.distributions.Normal(x.new_tensor(m), x.new_tensor(s)).log_prob(x)
            for w, m, s in self.components
        ]
        return torch.logsumexp(torch.stack(terms), dim=0)

    def cdf(self, x: Tensor) -> Tensor:
        """``P(X <= x)`` elementwise."""
        x = check_tensor(x, "x", allow_empty=True)
        # erfc keeps the far left tail accurate (1 + erf would round it to 0).
        return sum(
            w * 0.5 * torch.erfc(-(x - m) / (s * math.sqrt(2))) for w, m, s in self.components
        )

    def mean(self) -> float:
        return sum(w * m for w, m, _ in self.components)

    def variance(self) -> float:
        mu = self.mean()
        return sum(w * (s**2 + (m - mu) ** 2) for w, m, s in self.components)


def _mixture_on_grid(d: Mixture) -> dict[str, Tensor]:
    """A mixture on the quadrature grid (±30, 6001 points): log-density, cell probabilities
    (renormalised; the mass beyond ±30 is below 1e-15 for the book's mixtures), CDF, and the
    quantiles at 2000 midpoints (monotone interpolation of the CDF)."""
    import numpy as np

    lp = d.log_pdf(_QUAD_GRID)
    m = torch.exp(lp) * _QUAD_DX
    cdf = d.cdf(_QUAD_GRID)
    quant = torch.from_numpy(np.interp(_QUAD_U.numpy(), cdf.numpy(), _QUAD_GRID.numpy()))
    return {"log_pdf": lp, "mass": m / m.sum(), "cdf": cdf, "quantile": quant}


def _mixture_rbf_mean(a: Mixture, b: Mixture, h: float) -> float:
    """E k(X, Y) for independent X ~ a, Y ~ b and k(x, y) = exp(-(x-y)^2 / (2h^2)) (exact)."""
    total = 0.0
    for wa, ma, sa in a.components:
        for wb, mb, sb in b.components:
            v = h**2 + sa**2 + sb**2
            total += wa * wb * h / math.sqrt(v) * math.exp(-((ma - mb) ** 2) / (2 * v))
    return total


def _gaussian_rows(p: Mixture, q: Mixture) -> dict[str, tuple]:
    """KL both ways and W₂ of two Gaussians, closed form."""
    (_, m1, s1), (_, m2, s2) = p.components[0], q.components[0]
    cov = [torch.tensor([[s**2]], dtype=_F64) for s in (s1, s2)]
    mus = [torch.tensor([m], dtype=_F64) for m in (m1, m2)]
    return {
        "KL(p‖q)": (float(kl_gaussian(m1, s1, m2, s2)), "closed form"),
        "KL(q‖p)": (float(kl_gaussian(m2, s2, m1, s1)), "closed form"),
        "W₂": (float(wasserstein_gaussian(mus[0], cov[0], mus[1], cov[1])), "closed form"),
    }


def divergence_table(p: Mixture, q: Mixture, bandwidth: float = 1.0) -> dict[str, tuple]:
    """Every divergence between two 1-D mixtures, as ``name -> (value, how)``.

    ``how`` is "closed form" or "quadrature". KL, JS in nats; W₁, W₂ distances (not powers);
    MMD² with the RBF kernel of the given bandwidth (exact for mixtures of Gaussians).
    """
    if not isinstance(p, Mixture) or not isinstance(q, Mixture):
        raise TypeError("p and q must be Mixture objects")
    h = check_real(bandwidth, "bandwidth", positive=True)
    gp, gq = _mixture_on_grid(p), _mixture_on_grid(q)
    exact = _gaussian_rows(p, q) if p.is_gaussian and q.is_gaussian else {}
    out: dict[str, tuple] = {}
    for key, a, b in (("KL(p‖q)", gp, gq), ("KL(q‖p)", gq, gp)):
        lp, lq = a["log_pdf"], b["log_pdf"]
        quad = (float(torch.sum(torch.exp(lp) * (lp - lq)) * _QUAD_DX), "quadrature")
        out[key] = exact.get(key, quad)
    mp, mq = gp["mass"], gq["mass"]
    out["JS(p‖q)"] = (float(js_discrete(mp, mq)), "quadrature")
    out["TV(p, q)"] = (float(total_variation(mp, mq)), "quadrature")
    out["Hellinger"] = (float(hellinger(mp, mq)), "quadrature")
    # W1 in one dimension is the area between the two CDFs.
    out["W₁"] = (float(torch.sum(torch.abs(gp["cdf"] - gq["cdf"])) * _QUAD_DX), "quadrature")
    w2 = float(torch.sqrt(torch.mean((gp["quantile"] - gq["quantile"]) ** 2)))
    out["W₂"] = exact.get("W₂", (w2, "quadrature"))
    mmd = _mixture_rbf_mean(p, p, h) + _mixture_rbf_mean(q, q, h) - 2 * _mixture_rbf_mean(p, q, h)
    out["MMD² (h=1)" if h == 1.0 else f"MMD² (h={h:g})"] = (max(mmd, 0.0), "closed form")
    return out


def disjoint_values(theta: float, cells: int = 2000) -> dict[str, float]:
    """p = U[0, 1], q = U[θ, θ + 1]: KL(p‖q), JS(p‖q) and W₁.

    JS and KL use the two distributions discretised on a common grid of ``cells`` cells per unit
    length (exact for θ on that grid); W₁ uses ``cells`` quantile points of each.
    """
    theta = check_real(theta, "theta", low=0)
    n = check_int(cells, "cells", minimum=1)
    k = round(theta * n)
    p = torch.zeros(n + k, dtype=_F64)
    q = torch.zeros(n + k, dtype=_F64)
    p[:n] = 1.0 / n
    q[k : k + n] = 1.0 / n
    u = (torch.arange(n, dtype=_F64) + 0.5) / n
    return {
        "KL": float(kl_discrete(p, q)),
        "JS": float(js_discrete(p, q)),
        "W1": float(wasserstein_1d(u, u + theta)),
    }


def ot_assignment_cost(x: Tensor, y: Tensor) -> float:
    """Exact optimal-transport cost with squared Euclidean cost between two equal-size uniform
    clouds ``(n, d)``: the mean cost of the best assignment (Hungarian algorithm, SciPy)."""
    from scipy.optimize import linear_sum_assignment

    x, y = _check_clouds(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y need the same number of points; got {x.shape[0]}, {y.shape[0]}")
    c = torch.cdist(x.detach().cpu(), y.detach().cpu()) ** 2
    rows, cols = linear_sum_assignment(c.numpy())
    return float(c[rows, cols].mean())


def batch_sqdist(a: Tensor, b: Tensor) -> Tensor:
    """Squared distances ``(R, n, m)`` between batched clouds ``(R, n, d)`` and ``(R, m, d)``
    (``torch.cdist`` is slow on many small batches)."""
    a, b = check_tensor(a, "a", ndim=3), check_tensor(b, "b", ndim=3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]:
        raise ValueError(
            f"a (R, n, d) and b (R, m, d) need the same R and d; got {tuple(a.shape)}, "
            f"{tuple(b.shape)}"
        )
    d2 = a.square().sum(-1)[:, :, None] + b.square().sum(-1)[:, None, :] - 2 * a @ b.mT
    return d2.clamp_min(0)


def mmd2_from_sqdist(dxx: Tensor, dyy: Tensor, dxy: Tensor, bandwidth: float):
    """``(unbiased, biased)`` batched RBF MMD² from the three squared-distance matrices of
    :func:`batch_sqdist` (the same estimators as :func:`mmd2`)."""
    h = check_real(bandwidth, "bandwidth", positive=True)
    dxx, dyy = check_tensor(dxx, "dxx", ndim=3), check_tensor(dyy, "dyy", ndim=3)
    dxy = check_tensor(dxy, "dxy", ndim=3)
    n, m = dxx.shape[1], dyy.shape[1]
    if dxx.shape[2] != n or dyy.shape[2] != m or dxy.shape != (dxx.shape[0], n, m):
        raise ValueError(
            f"need dxx (R, n, n), dyy (R, m, m), dxy (R, n, m); got {tuple(dxx.shape)}, "
            f"{tuple(dyy.shape)}, {tuple(dxy.shape)}"
        )
    if n < 2 or m < 2 or dxy.shape[0] != dyy.shape[0]:
        raise ValueError("the unbiased estimate needs n, m >= 2 and one batch size R")
    kxx, kyy = torch.exp(-dxx / (2 * h * h)), torch.exp(-dyy / (2 * h * h))
    cross = 2 * torch.exp(-dxy / (2 * h * h)).mean((1, 2))
    sum_xx, sum_yy = kxx.sum((1, 2)), kyy.sum((1, 2))
    # exp(0) = 1 on the diagonals, so removing them subtracts n and m.
    unbiased = (sum_xx - n) / (n * (n - 1)) + (sum_yy - m) / (m * (m - 1)) - cross
    biased = sum_xx / n**2 + sum_yy / m**2 - cross
    return unbiased, biased


def mmd2_batch(x: Tensor, y: Tensor, bandwidth: float, unbiased: bool = True) -> Tensor:
    """:func:`mmd2` for a batch of sample pairs ``(R, n, d)``, ``(R, m, d)``: shape ``(R,)``.

    Same estimators, vectorised over the leading dimension (many repetitions in one call).
    """
    x, y = check_tensor(x, "x"), check_tensor(y, "y")
    if x.dim() != 3 or y.dim() != 3 or x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
        raise ValueError(
            f"need x (R, n, d) and y (R, m, d), got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    if unbiased and min(x.shape[1], y.shape[1]) < 2:
        raise ValueError("the unbiased MMD^2 needs at least 2 samples on each side")
    both = mmd2_from_sqdist(batch_sqdist(x, x), batch_sqdist(y, y), batch_sqdist(x, y), bandwidth)
    return both[0] if unbiased else both[1]


def mmd2_gaussian_shift(shift: float, bandwidth: float, dim: int = 2) -> float:
    """Population MMD² between N(0, I_d) and N(shift·e₁, I_d) for the RBF kernel of bandwidth h:
    ``2 (h²/(h²+2))^{d/2} (1 − exp(−shift²/(2(h²+2))))``."""
    shift = check_real(shift, "shift")
    h = check_real(bandwidth, "bandwidth", positive=True)
    d = check_int(dim, "dim", minimum=1)
    v = h**2 + 2.0
    return 2 * (h**2 / v) ** (d / 2) * (1 - math.exp(-(shift**2) / (2 * v)))


__all__ += [
    "Mixture",
    "divergence_table",
    "disjoint_values",
    "ot_assignment_cost",
    "batch_sqdist",
    "mmd2_from_sqdist",
    "mmd2_batch",
    "mmd2_gaussian_shift",
]
