"""Information-theoretic quantities: entropy, cross-entropy, mutual information, capacities.

All functions take and return :class:`torch.Tensor` objects, compute in the input's dtype on the
input's device, and are differentiable with autograd wherever the mathematics is.

Conventions used throughout
---------------------------
* **Units.** Results are in *nats* (natural logarithm) by default. Pass ``base=2`` for bits, or
  any other base > 0 (!= 1); the result is then the nats value divided by ``log(base)``.
  :func:`bsc_capacity` is the one exception: it defaults to bits, as capacities usually are.
* **Zero probabilities.** ``0 * log 0 = 0`` (the limit of ``t log t`` as ``t -> 0+``), so outcomes
  of probability zero contribute nothing.
* **Probability vectors** are floating tensors whose entries are >= 0 and sum to one along
  ``dim`` within ``1e-6``. They are never renormalised: anything else raises ``ValueError``.
* **Scalar parameters** (``sigma``, ``eps``, ``rho``, the ``p`` of :func:`binary_entropy`) may be
  Python numbers (computed in float64) or floating tensors (elementwise, with broadcasting).
* ``sigma`` is always a **standard deviation**, never a variance.

Each docstring names the equation label of the book chapter that the function implements.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._validate import (
    as_tensor_param,
    check_interval,
    check_positive,
    check_probability,
    check_probability_pair,
    check_tensor,
    log_of_base,
)

__all__ = [
    "entropy",
    "cross_entropy",
    "mutual_information",
    "gaussian_entropy",
    "binary_entropy",
    "bsc_capacity",
    "gaussian_mutual_information",
    "MIXTURE_WEIGHTS",
    "MAX_SEPARATION",
    "mixture_log_density",
    "kl_forward",
    "kl_reverse",
    "GaussianFit",
    "fit_gaussian_kl",
    "gaussian_mi_quantised",
    "bsc_mutual_information",
    "js_gaussian_shift",
]

_LOG_2PI_E = math.log(2.0 * math.pi) + 1.0


def _in_base(value: Tensor, base: object) -> Tensor:
    """Convert a value in nats to the requested base (validated)."""
    log_base = log_of_base(base)
    return value if log_base is None else value / log_base


def _neg_xlogx(t: Tensor) -> Tensor:
    """``-t log t`` elementwise with ``0 log 0 = 0``, with finite gradients at ``t = 0``.

    The inner ``where`` keeps ``log`` away from zero, so the masked branch cannot inject a
    ``0 * inf = nan`` into the backward pass.
    """
    positive = t > 0
    safe = torch.where(positive, t, torch.ones_like(t))
    return torch.where(positive, -safe * torch.log(safe), torch.zeros_like(t))


def _neg_xlogy(x: Tensor, y: Tensor) -> Tensor:
    """``-x log y`` elementwise with ``0 log y = 0`` for every ``y`` (including ``y = 0``).

    Where ``x > 0`` and ``y = 0`` the result is ``+inf``, as it should be.
    """
    x, y = torch.broadcast_tensors(x, y)
    positive = x > 0
    x_safe = torch.where(positive, x, torch.zeros_like(x))
    y_safe = torch.where(positive, y, torch.ones_like(y))
    return torch.where(positive, -x_safe * torch.log(y_safe), torch.zeros_like(x))


def entropy(p: Tensor, dim: int = -1, base: float | None = None) -> Tensor:
    r"""Shannon entropy of a discrete distribution.

    Implements {eq}`eq-entropy`:

    .. math:: H(p) = -\sum_x p(x) \log p(x),

    with the convention ``0 log 0 = 0``.

    Parameters
    ----------
    p : Tensor
        Floating tensor of probabilities, non-negative and summing to 1 (within ``1e-6``) along
        ``dim``. Leading dimensions are batch dimensions.
    dim : int, optional
        The dimension that indexes outcomes. Default: the last.
    base : float or None, optional
        Logarithm base. ``None`` (default) gives nats, ``2`` gives bits.

    Returns
    -------
    Tensor
        ``p``'s shape with ``dim`` removed. Between 0 and ``log(K)`` for ``K`` outcomes.

    Raises
    ------
    TypeError
        If ``p`` is not a floating tensor.
    ValueError
        If ``p`` is empty, holds NaN/inf or negative entries, or does not sum to 1.
    """
    p = check_probability(p, "p", dim)
    return _in_base(_neg_xlogx(p).sum(dim=dim), base)


def cross_entropy(p: Tensor, q: Tensor, dim: int = -1, base: float | None = None) -> Tensor:
    r"""Cross-entropy of ``q`` relative to ``p``: the expected code length under ``p`` of a code
    built for ``q``.

    Implements {eq}`eq-cross-entropy`:

    .. math:: H(p, q) = -\sum_x p(x) \log q(x) = H(p) + \mathrm{KL}(p \,\|\, q).

    It is *not* a distance: ``H(p, p) = H(p)``, which is zero only for a point mass.

    Parameters
    ----------
    p, q : Tensor
        Probability tensors over the same outcomes along ``dim`` (same size there); the other
        dimensions broadcast. ``p`` is the "true" distribution, ``q`` the model.
    dim : int, optional
        The outcome dimension. Default: the last.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        The broadcast shape with ``dim`` removed. ``+inf`` wherever some outcome has
        ``q(x) = 0 < p(x)``; terms with ``p(x) = 0`` contribute 0 whatever ``q(x)`` is.
    """
    p, q = check_probability_pair(p, q, dim)
    return _in_base(_neg_xlogy(p, q).sum(dim=dim), base)


def mutual_information(joint: Tensor, base: float | None = None) -> Tensor:
    r"""Mutual information of two discrete random variables from their joint table.

    Implements {eq}`eq-mi`:

    .. math:: I(X; Y) = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x) p(y)}
              = H(X) + H(Y) - H(X, Y) = H(X) - H(X \mid Y),

    computed from the first form (no cancellation between large entropies), with
    ``0 log 0 = 0``.

    Parameters
    ----------
    joint : Tensor
        Shape ``(m, n)`` (or ``(..., m, n)`` for a batch): ``joint[i, j] = P(X = i, Y = j)``,
        non-negative and summing to 1 over the last two dimensions.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        Shape ``joint.shape[:-2]``; 0 exactly when ``X`` and ``Y`` are independent, at most
        ``min(H(X), H(Y))``.
    """
    joint = check_tensor(joint, "joint", min_ndim=2)
    joint = check_probability(joint, "joint", dim=(-2, -1))
    px = joint.sum(dim=-1, keepdim=True)
    py = joint.sum(dim=-2, keepdim=True)
    # -p log(p / (px py)) = -p log p + p log px + p log py, each with 0 log 0 = 0; wherever
    # p(x, y) > 0 both marginals are positive, so no term is infinite.
    terms = _neg_xlogx(joint) - _neg_xlogy(joint, px) - _neg_xlogy(joint, py)
    return _in_base(-terms.sum(dim=(-2, -1)), base)


def gaussian_entropy(sigma: Tensor | float, base: float | None = None) -> Tensor:
    r"""Differential entropy of a univariate normal distribution ``N(mu, sigma^2)``.

    Implements the Gaussian case of {eq}`eq-entropy`:

    .. math:: h(\mathcal N(\mu, \sigma^2)) = \tfrac12 \log(2 \pi e \sigma^2),

    which does not depend on ``mu``. Unlike discrete entropy it can be negative (for
    ``sigma < 1 / sqrt(2 pi e)``).

    Parameters
    ----------
    sigma : Tensor or float
        The **standard deviation** (not the variance), > 0; elementwise for tensors.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        Same shape as ``sigma`` (0-d float64 for a Python number).
    """
    sigma = check_positive(as_tensor_param(sigma, "sigma"), "sigma")
    return _in_base(0.5 * _LOG_2PI_E + torch.log(sigma), base)


def binary_entropy(p: Tensor | float, base: float | None = None) -> Tensor:
    r"""Entropy of a Bernoulli(``p``) variable, elementwise.

    Implements the two-outcome case of {eq}`eq-entropy`:

    .. math:: H_b(p) = -p \log p - (1 - p) \log(1 - p),

    with ``H_b(0) = H_b(1) = 0`` and maximum ``log 2`` (1 bit) at ``p = 1/2``.

    Parameters
    ----------
    p : Tensor or float
        Success probabilities in ``[0, 1]``; any shape.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        Same shape as ``p``.
    """
    p = check_interval(as_tensor_param(p, "p"), "p", 0.0, 1.0)
    # (1 - p) log(1 - p) through log1p keeps precision when p is tiny.
    below_one = p < 1
    p_safe = torch.where(below_one, p, torch.zeros_like(p))
    second = torch.where(below_one, -(1 - p_safe) * torch.log1p(-p_safe), torch.zeros_like(p))
    return _in_base(_neg_xlogx(p) + second, base)


def bsc_capacity(eps: Tensor | float, base: float | None = 2) -> Tensor:
    r"""Capacity of the binary symmetric channel with crossover probability ``eps``.

    Implements :math:`C = \max_{P_X} I(X; Y) = \log 2 - H_b(\varepsilon)`, reached by the
    uniform input; in bits that is the familiar ``1 - H_b(eps)``.

    Parameters
    ----------
    eps : Tensor or float
        Probability in ``[0, 1]`` that the channel flips a bit; elementwise for tensors.
    base : float or None, optional
        Defaults to **2 (bits per channel use)**, unlike the rest of this module. ``None`` gives
        nats.

    Returns
    -------
    Tensor
        Same shape as ``eps``; 1 bit at ``eps`` = 0 or 1, 0 at ``eps = 1/2``.
    """
    eps = check_interval(as_tensor_param(eps, "eps"), "eps", 0.0, 1.0)
    return _in_base(math.log(2.0) - binary_entropy(eps), base)


def gaussian_mutual_information(rho: Tensor | float, base: float | None = None) -> Tensor:
    r"""Mutual information between the two coordinates of a bivariate normal vector.

    Implements the Gaussian case of {eq}`eq-mi`: for ``(X, Y)`` jointly normal with correlation
    coefficient ``rho``,

    .. math:: I(X; Y) = -\tfrac12 \log(1 - \rho^2),

    whatever the means and variances. It grows without bound as ``|rho| -> 1``.

    Parameters
    ----------
    rho : Tensor or float
        Correlation coefficient(s) with ``|rho| < 1``; elementwise for tensors.
    base : float or None, optional
        ``None`` for nats (default), ``2`` for bits.

    Returns
    -------
    Tensor
        Same shape as ``rho``.
    """
    rho = check_interval(as_tensor_param(rho, "rho"), "rho", -1.0, 1.0, closed=False)
    # 1 - rho^2 = (1 - rho)(1 + rho), written with log1p to stay accurate near |rho| = 1.
    return _in_base(-0.5 * (torch.log1p(-rho) + torch.log1p(rho)), base)


# == moved from explore/information.py ==
# The chapter's computations behind its figures (companion.explore.information draws them):
# forward and reverse KL fits of a Gaussian to a two-mode mixture (``eq-info-forward``,
# ``eq-info-reverse``), the mutual information of a binned bivariate normal and of a binary
# symmetric channel from its joint table, and JS between two shifted Gaussians.
import functools  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from torch.distributions import Normal  # noqa: E402

from ._validate import check_choice, check_int, check_real  # noqa: E402
from .device import single_thread  # noqa: E402

_F64 = torch.float64


def _real_in(value: object, name: str, low: float, high: float, *, closed: bool = True) -> float:
    """``value`` as a float, checked to be a finite real number in [low, high] (or (low, high))."""
    return check_real(value, name, low=low, high=high, low_open=not closed, high_open=not closed)


def _choice(value: object, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {type(value).__name__}")
    return check_choice(value, name, options)


#: Weights of the left (mean -s/2) and right (mean +s/2) components of the mixture p.
MIXTURE_WEIGHTS = (0.4, 0.6)
#: Largest separation s the fitting functions accept (the figures use [0, 8]).
MAX_SEPARATION = 12.0
_LOG_W = torch.log(torch.tensor(MIXTURE_WEIGHTS, dtype=_F64))
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

# Expectations under a normal N(m, σ²) by the trapezoidal rule in standard units:
# E[f(m + σZ)] ≈ Σ_k w_k f(m + σ u_k), u_k on [-10, 10] in steps of 0.01, w_k = φ(u_k)·0.01.
# The nodes move with (m, σ), so gradients flow through them (the reparameterisation trick).
# log p bends sharply between the two modes (over a width of about 1/s), which an 80-node
# Gauss–Hermite rule does not resolve once q is wide (errors up to 1e-2 were measured); this
# rule agrees with adaptive quadrature to 1e-9 for s <= 12 and σ <= 10.
_U = torch.linspace(-10.0, 10.0, 2001, dtype=_F64)
_U_W = Normal(0.0, 1.0).log_prob(_U).exp() * (_U[1] - _U[0])


def _means(separation: float) -> torch.Tensor:
    return torch.tensor([-separation / 2.0, separation / 2.0], dtype=_F64)


_LOG_W_LEFT, _LOG_W_RIGHT = (float(w) for w in _LOG_W)


def _log_mix(x: torch.Tensor, separation: float) -> torch.Tensor:
    # logaddexp of the two components rather than a logsumexp over a size-2 axis: the same
    # values (to ~1e-15) in about half the time, forward and backward, and the KL fits behind
    # the live figure evaluate this a few hundred times per slider move.
    left = _LOG_W_LEFT - 0.5 * (x + separation / 2.0) ** 2 - _LOG_SQRT_2PI
    right = _LOG_W_RIGHT - 0.5 * (x - separation / 2.0) ** 2 - _LOG_SQRT_2PI
    return torch.logaddexp(left, right)


@single_thread()
def mixture_log_density(x: torch.Tensor, separation: float) -> torch.Tensor:
    """log p(x) for the mixture ``p = 0.4·N(-s/2, 1) + 0.6·N(s/2, 1)``, elementwise, in float64.

    Parameters
    ----------
    x : Tensor
        Points (any shape, floating dtype); converted to float64.
    separation : float
        The distance ``s >= 0`` between the two component means.
    """
    s = _real_in(separation, "separation", 0.0, MAX_SEPARATION)
    x = check_tensor(x, "x", allow_empty=True)
    return _log_mix(x.to(_F64), s)


def _expect_under_p(f, separation: float) -> torch.Tensor:
    """E_p[f(x)] under the mixture: one trapezoidal rule per (unit-variance) component."""
    nodes = _means(separation).unsqueeze(-1) + _U  # (2, K)
    values = f(nodes)  # (2, K)
    return (_LOG_W.exp() * (values * _U_W).sum(-1)).sum()


def _log_normal(x: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    return Normal(mu, torch.exp(log_sigma), validate_args=False).log_prob(x)


def _forward(mu: torch.Tensor, log_sigma: torch.Tensor, s: float) -> torch.Tensor:
    # KL(p‖q) = E_p[log p] - E_p[log q]; the first term does not depend on q.
    return _expect_under_p(lambda x: _log_mix(x, s) - _log_normal(x, mu, log_sigma), s)


def _reverse(mu: torch.Tensor, log_sigma: torch.Tensor, s: float) -> torch.Tensor:
    # KL(q‖p) = -H[q] - E_q[log p]; nodes move with (μ, σ), so gradients flow through them.
    x = mu + torch.exp(log_sigma) * _U
    entropy_q = 0.5 * math.log(2.0 * math.pi * math.e) + log_sigma
    return -entropy_q - (_U_W * _log_mix(x, s)).sum()


def _as_param(value: object, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.ndim != 0 or not value.is_floating_point():
            raise TypeError(f"{name} must be a real number or a 0-d floating tensor")
        if not torch.isfinite(value):
            raise ValueError(f"{name} must be finite; got {value.item()}")
        return value.to(_F64)
    return torch.tensor(check_real(value, name), dtype=_F64)


def _kl_args(mu, sigma, separation):
    mu = _as_param(mu, "mu")
    sigma = _as_param(sigma, "sigma")
    if not 0 < sigma.item() <= 10:
        raise ValueError(
            f"sigma is a standard deviation and must lie in (0, 10] (where the quadrature is "
            f"accurate); got {sigma.item():g}"
        )
    s = _real_in(separation, "separation", 0.0, MAX_SEPARATION)
    return mu, sigma, s


@single_thread()
def kl_forward(mu, sigma, separation: float) -> torch.Tensor:
    r"""Forward KL :math:`\mathrm{KL}(p \,\|\, q)` from the mixture p to ``q = N(mu, sigma²)``.

    The expectation is under the **mixture** (``eq-info-forward``). Computed by the trapezoidal
    rule on a fine grid around each component; differentiable in ``mu`` and ``sigma`` (pass tensors
    with ``requires_grad``). Returns a 0-d float64 tensor, in nats.
    """
    mu, sigma, s = _kl_args(mu, sigma, separation)
    return _forward(mu, torch.log(sigma), s)


@single_thread()
def kl_reverse(mu, sigma, separation: float) -> torch.Tensor:
    r"""Reverse KL :math:`\mathrm{KL}(q \,\|\, p)` from ``q = N(mu, sigma²)`` to the mixture p.

    The expectation is under the **Gaussian** q (``eq-info-reverse``): a trapezoidal rule on
    the nodes ``mu + sigma·u_k`` (``u_k`` a fine grid on [-12, 12]), which move with the
    parameters, so the gradient flows through them as in the reparameterisation trick. The
    entropy of q enters in closed form. Returns a 0-d float64 tensor, in nats.
    """
    mu, sigma, s = _kl_args(mu, sigma, separation)
    return _reverse(mu, torch.log(sigma), s)


@dataclass(frozen=True)
class GaussianFit:
    """The Gaussian ``N(mu, sigma²)`` that minimises one KL direction for one separation.

    ``kl`` is the minimised value in nats: ``KL(p‖q)`` for ``direction="forward"``,
    ``KL(q‖p)`` for ``"reverse"``. ``start`` names the component whose mean (with σ = 1) the
    optimiser started from; ``grad_norm`` is the gradient norm at the returned point.
    """

    separation: float
    direction: str
    start: str
    mu: float
    sigma: float
    kl: float
    iterations: int
    grad_norm: float


@functools.lru_cache(maxsize=4096)
def _fit(separation: float, direction: str, start: str) -> GaussianFit:
    with single_thread():
        return _fit_unthreaded(separation, direction, start)


def _fit_unthreaded(separation: float, direction: str, start: str) -> GaussianFit:
    objective = _forward if direction == "forward" else _reverse
    mu0 = -separation / 2.0 if start == "left" else separation / 2.0
    mu = torch.tensor(mu0, dtype=_F64, requires_grad=True)
    log_sigma = torch.tensor(0.0, dtype=_F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [mu, log_sigma],
        lr=1.0,
        max_iter=200,
        tolerance_grad=1e-11,
        tolerance_change=1e-15,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = objective(mu, log_sigma, separation)
        loss.backward()
        return loss

    for _ in range(5):  # L-BFGS may stop early on a flat stretch; restarting it is cheap
        opt.step(closure)
        loss = closure()
        grad = math.hypot(mu.grad.item(), log_sigma.grad.item())
        if grad < 1e-8:
            break
    iterations = int(opt.state[mu].get("n_iter", 0))
    return GaussianFit(
        separation=separation,
        direction=direction,
        start=start,
        mu=mu.item(),
        sigma=math.exp(log_sigma.item()),
        kl=loss.item(),
        iterations=iterations,
        grad_norm=grad,
    )


def fit_gaussian_kl(separation: float, direction: str = "forward", start: str = "right"):
    """Fit ``q = N(μ, σ²)`` to the mixture p by minimising one direction of the KL divergence.

    Minimises over ``(μ, log σ)`` (so σ stays positive) with ``torch.optim.LBFGS``, starting
    from ``μ`` = the mean of the ``start`` component and ``σ = 1``.

    * ``direction="forward"`` minimises ``KL(p‖q)``; its unique minimiser is the moment match
      (μ, σ²) = (mean, variance) of p, whatever the start.
    * ``direction="reverse"`` minimises ``KL(q‖p)``. For small separations (s below about 4.5
      for these weights) it has a single, broad minimiser and both starts reach it. For wide
      separations (s above about 5) it has a narrow minimiser on each mode and each start stays
      on its own mode; the right (heavier) one has the smaller KL. In between, a broad and a
      narrow minimiser coexist and which one a start reaches depends on the optimiser's path.
      Only a local minimiser is promised; compare ``kl`` across starts.

    Parameters
    ----------
    separation : float
        Distance between the mixture's component means, in ``[0, MAX_SEPARATION]``.
    direction : {"forward", "reverse"}
    start : {"right", "left"}
        Which component's mean the optimiser starts from.

    Returns
    -------
    GaussianFit
        Cached: the same arguments return the same (immutable) object without refitting.
    """
    s = _real_in(separation, "separation", 0.0, MAX_SEPARATION)
    direction = _choice(direction, "direction", ("forward", "reverse"))
    start = _choice(start, "start", ("left", "right"))
    return _fit(s, direction, start)


@single_thread()
def gaussian_mi_quantised(
    rho: float, bins: int = 40, half_width: float = 6.0, nodes: int = 32
) -> float:
    """Mutual information, in nats, of a bivariate normal after both coordinates are binned.

    ``(X, Y) ~ N(0, [[1, ρ], [ρ, 1]])``; each coordinate is cut into ``bins`` equal bins on
    ``[-half_width, half_width]`` (the two outer bins also take the tails). The probability of
    every cell is computed exactly, as
    ``∫ φ(x) [Φ((y_hi - ρx)/r) - Φ((y_lo - ρx)/r)] dx`` with ``r = sqrt(1 - ρ²)`` and a
    ``nodes``-point Gauss–Legendre rule in each x-bin, and the discrete mutual information of the
    table (``eq-mi``) is returned. Binning can only lose information, so the value stays below
    -½ log(1 - ρ²) and rises towards it as the bins shrink (when each grid refines the last).
    """
    rho = _real_in(rho, "rho", -1.0, 1.0, closed=False)
    bins = check_int(bins, "bins", minimum=2)
    nodes = check_int(nodes, "nodes", minimum=2)
    h = _real_in(half_width, "half_width", 0.5, 50.0)
    edges = torch.linspace(-h, h, bins + 1, dtype=_F64)
    x_edges = edges.clone()
    x_edges[0], x_edges[-1] = -h - 12.0, h + 12.0  # beyond these, the mass is below 1e-30
    y_edges = edges.clone()
    y_edges[0], y_edges[-1] = -math.inf, math.inf
    t, w = (torch.tensor(a, dtype=_F64) for a in np.polynomial.legendre.leggauss(nodes))
    lo, hi = x_edges[:-1, None], x_edges[1:, None]
    x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * t  # (bins, nodes)
    wx = 0.5 * (hi - lo) * w * Normal(0.0, 1.0).log_prob(x).exp()
    r = math.sqrt((1.0 - rho) * (1.0 + rho))
    cdf = torch.special.ndtr((y_edges - rho * x.unsqueeze(-1)) / r)  # (bins, nodes, bins + 1)
    joint = (wx.unsqueeze(-1) * (cdf[..., 1:] - cdf[..., :-1])).sum(dim=1)
    joint = joint.clamp_min(0.0)
    return float(mutual_information(joint / joint.sum()))


@single_thread()
def bsc_mutual_information(input_p, eps, base: float | None = 2):
    """I(X; Y) of a binary symmetric channel, from its joint table, in bits by default.

    ``X ~ Bern(input_p)`` is sent, ``Y`` is ``X`` flipped with probability ``eps``. The joint
    table ``P(X = i, Y = j)`` is built and passed to :func:`companion.information.
    mutual_information` (``eq-mi``); no closed form is used. Both arguments may be Python
    numbers or 1-d float64 tensors of equal length (elementwise). ``base=None`` gives nats.
    """
    a = _prob_tensor(input_p, "input_p")
    e = _prob_tensor(eps, "eps")
    a, e = torch.broadcast_tensors(a, e)
    px = torch.stack([1 - a, a], dim=-1)  # (..., 2)
    flip = torch.stack([torch.stack([1 - e, e], -1), torch.stack([e, 1 - e], -1)], -2)
    joint = px.unsqueeze(-1) * flip  # (..., 2, 2): P(X = i) P(Y = j | X = i)
    return mutual_information(joint, base=base)


def _prob_tensor(value: object, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating tensor or a real number")
        t = value.to(_F64)
        if not torch.isfinite(t).all() or (t < 0).any() or (t > 1).any():
            raise ValueError(f"{name} must lie in [0, 1]")
        return t
    return torch.tensor(_real_in(value, name, 0.0, 1.0), dtype=_F64)


_XJ = torch.linspace(-12.0, 22.0, 6801, dtype=_F64)


@single_thread()
def js_gaussian_shift(delta) -> torch.Tensor:
    r"""JS(N(0, 1) ‖ N(δ, 1)) in nats, by the trapezoidal rule on a fine grid, elementwise.

    Uses :math:`\mathrm{JS} = \tfrac12 \E_p[\log \tfrac{2p}{p+q}] + \tfrac12 \E_q[\log
    \tfrac{2q}{p+q}]` with the log-ratios computed by ``logaddexp`` (no underflow when the
    two densities barely overlap). ``delta`` is a number or a 1-d tensor in ``[0, 10]``.
    """
    if isinstance(delta, torch.Tensor):
        d = delta.to(_F64).reshape(-1)
        if not torch.isfinite(d).all() or (d < 0).any() or (d > 10).any():
            raise ValueError("delta must lie in [0, 10]")
        scalar = False
    else:
        d = torch.tensor([_real_in(delta, "delta", 0.0, 10.0)], dtype=_F64)
        scalar = True
    x = _XJ[None, :]
    log_p = Normal(0.0, 1.0).log_prob(x)
    log_q = Normal(d[:, None], 1.0).log_prob(x)
    log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)
    integrand = 0.5 * (log_p.exp() * (log_p - log_m) + log_q.exp() * (log_q - log_m))
    out = torch.trapezoid(integrand, _XJ, dim=-1)
    return out[0] if scalar else out
