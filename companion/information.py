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
