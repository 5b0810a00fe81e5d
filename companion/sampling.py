"""Monte Carlo, importance sampling, gradient estimators and push-forward densities.

The mathematics of the chapter "Probability" (``book/probability.md``) and of the push-forward
section of "Measure theory" (``book/measure.md``). Conventions:

* Every estimator returns its estimate together with a **standard error** (the estimated
  standard deviation of the estimate itself, i.e. of the average, not of one sample) and an
  **effective sample size**, so that a reader can always say how far to trust a number.
* Distributions are :mod:`torch.distributions` objects (anything with ``sample``/``rsample``
  and ``log_prob`` works). Functions ``f`` map a batch of samples ``(n, *event_shape)`` to
  ``(n,)`` values. Everything runs on the device of the distribution's parameters.
* Moment generating functions ``M_X(t) = E[exp(t X)]`` use the parametrisations of
  :mod:`torch.distributions`: ``Normal(loc, scale)`` with σ the standard deviation,
  ``Gamma(concentration α, rate β)`` (mean α/β), ``Uniform(low, high)``, ``Beta(α, β)``.
* Push-forward direction: ``Y = f(X)``; the density of ``Y`` is
  ``p_Y(y) = sum over x with f(x) = y of p_X(x) / |f'(x)|`` ({eq}`eq-measure-change-of-variables`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.distributions import Distribution

from ._validate import check_callable as _check_callable
from ._validate import check_int, check_iterations, check_real, check_tensor
from .models import seeded

__all__ = [
    "Estimate",
    "GradientEstimate",
    "effective_sample_size",
    "monte_carlo",
    "importance_sampling",
    "score_function_gradient",
    "reparameterization_gradient",
    "MGF_FAMILIES",
    "mgf",
    "moments_from_mgf",
    "pushforward_density",
    "condition_gaussian",
    "POSTERIOR_GRID",
    "grid_posterior",
    "monte_carlo_error",
    "is_second_moment",
    "rare_event_importance_run",
    "gradient_estimator_variances",
    "exponential_running_sums",
    "generated_sigma_algebra",
    "is_sigma_algebra",
    "is_measurable",
    "simple_function_integral",
    "PUSHFORWARD_MAPS",
    "pushforward_map",
    "count_preimages",
    "relu_cdf",
    "circle_kl",
    "riemann_lower_heights",
]


@dataclass(frozen=True)
class Estimate:
    """An estimate of an expectation with its uncertainty.

    Attributes
    ----------
    estimate
        The estimate (0-d tensor).
    std_error
        Estimated standard deviation of ``estimate`` over repeated runs (0-d tensor).
    ess
        Effective sample size (a float; ``n`` for plain Monte Carlo, ``(Σw)² / Σw²`` for
        importance sampling).
    n
        Number of samples drawn.
    """

    estimate: Tensor
    std_error: Tensor
    ess: float
    n: int


@dataclass(frozen=True)
class GradientEstimate:
    """A Monte Carlo gradient: the mean, its standard error and the per-sample terms.

    ``gradient[k]``, ``std_error[k]`` have the shape of the ``k``-th parameter;
    ``per_sample[k]`` has shape ``(n, *param.shape)`` and averages to ``gradient[k]``.
    """

    gradient: tuple[Tensor, ...]
    std_error: tuple[Tensor, ...]
    per_sample: tuple[Tensor, ...]
    n: int


def _check_distribution(dist: object, name: str) -> Distribution:
    if not (hasattr(dist, "sample") and hasattr(dist, "log_prob")):
        raise TypeError(
            f"{name} must be a torch.distributions.Distribution (something with sample() and "
            f"log_prob()); got an object of type {type(dist).__name__}"
        )
    return dist


def _values(f: Callable, x: Tensor, name: str = "f") -> Tensor:
    """Call ``f`` on a batch of ``n`` samples and check it returned ``n`` finite numbers."""
    out = f(x)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name} must return a tensor; got {type(out).__name__}")
    n = x.shape[0]
    if out.shape != (n,):
        raise ValueError(
            f"{name} must map a batch of {n} samples to a tensor of shape ({n},); got shape "
            f"{tuple(out.shape)}"
        )
    return check_tensor(out, f"{name}(samples)")


def effective_sample_size(log_weights: Tensor) -> Tensor:
    """Kish's effective sample size ``(Σ w)² / Σ w²`` of importance weights, from their logs.

    Working with logarithms keeps it exact when the weights under- or overflow. It equals ``n``
    for equal weights and 1 when one weight dominates.
    """
    lw = check_tensor(log_weights, "log_weights", ndim=1, allow_inf=True)
    if torch.isposinf(lw.detach()).any():
        raise ValueError("log_weights contains +inf")
    if torch.isneginf(lw.detach()).all():
        raise ValueError("every weight is zero (all log_weights are -inf)")
    return torch.exp(2 * torch.logsumexp(lw, 0) - torch.logsumexp(2 * lw, 0))


def monte_carlo(f: Callable[[Tensor], Tensor], dist: Distribution, n: int) -> Estimate:
    """Plain Monte Carlo: ``E_p[f(X)] ≈ (1/n) Σ f(x_i)`` with ``x_i ~ p`` ({eq}`eq-prob-mc`).

    The standard error is the sample standard deviation of ``f(x_i)`` over ``√n``.
    """
    _check_callable(f, "f")
    _check_distribution(dist, "dist")
    n = check_int(n, "n", minimum=2)
    x = dist.sample((n,))
    v = _values(f, x)
    return Estimate(v.mean(), v.std() / math.sqrt(n), float(n), n)


def importance_sampling(
    f: Callable[[Tensor], Tensor],
    log_p: Callable[[Tensor], Tensor] | Distribution,
    proposal: Distribution,
    n: int,
    *,
    self_normalized: bool = False,
) -> Estimate:
    """Importance sampling: ``E_p[f(X)] ≈ (1/n) Σ w_i f(x_i)`` with ``x_i ~ q``, ``w_i = p/q``.

    Parameters
    ----------
    f
        The integrand, batch ``(n, *event)`` → ``(n,)``.
    log_p
        The target's log-density: a callable or a distribution (its ``log_prob``). For
        ``self_normalized=False`` it must be normalised; for ``self_normalized=True`` it may be
        known only up to a constant.
    proposal
        The distribution ``q`` that is sampled. It must be positive wherever ``p·f`` is not zero,
        otherwise the estimator is biased.
    n
        Number of samples.
    self_normalized
        ``False``: the unbiased estimator ``mean(w f)`` ({eq}`eq-prob-is`).
        ``True``: ``Σ w f / Σ w``, consistent but biased, with the delta-method standard error.

    Returns
    -------
    Estimate
        With the effective sample size ``(Σw)²/Σw²`` of the weights.
    """
    _check_callable(f, "f")
    if isinstance(log_p, Distribution) or hasattr(log_p, "log_prob"):
        log_p = log_p.log_prob
    _check_callable(log_p, "log_p")
    _check_distribution(proposal, "proposal")
    n = check_int(n, "n", minimum=2)
    if not isinstance(self_normalized, bool):
        raise TypeError(f"self_normalized must be True or False; got {self_normalized!r}")
    x = proposal.sample((n,))
    lw = log_p(x) - proposal.log_prob(x)
    if lw.shape != (n,):
        raise ValueError(
            f"log_p(x) - proposal.log_prob(x) must have shape ({n},); got {tuple(lw.shape)} "
            "(sum log-densities over the event dimensions)"
        )
    lw = check_tensor(lw, "log weights", allow_inf=True)
    v = _values(f, x)
    ess = float(effective_sample_size(lw))
    w = torch.exp(lw)
    if self_normalized:
        wn = torch.softmax(lw, 0)
        est = (wn * v).sum()
        se = torch.sqrt((wn**2 * (v - est) ** 2).sum())
    else:
        terms = w * v
        est = terms.mean()
        se = terms.std() / math.sqrt(n)
    return Estimate(est, se, ess, n)


def _check_params(params: object) -> tuple[Tensor, ...]:
    if isinstance(params, Tensor):
        params = (params,)
    if not isinstance(params, (tuple, list)) or len(params) == 0:
        raise TypeError("params must be a tensor or a non-empty tuple of floating tensors")
    return tuple(check_tensor(p, f"params[{k}]") for k, p in enumerate(params))


def _batched(params: tuple[Tensor, ...], n: int) -> tuple[Tensor, ...]:
    """One independent copy of every parameter per sample: row i's gradient is sample i's."""
    return tuple(p.detach().expand(n, *p.shape).clone().requires_grad_(True) for p in params)


def _summarise(grads: Sequence[Tensor], n: int) -> GradientEstimate:
    grads = tuple(g.detach() for g in grads)
    means = tuple(g.mean(0) for g in grads)
    ses = tuple(g.std(0) / math.sqrt(n) for g in grads)
    return GradientEstimate(means, ses, grads, n)


def _event_sum(logp: Tensor, n: int) -> Tensor:
    return logp.reshape(n, -1).sum(1)


def score_function_gradient(
    f: Callable[[Tensor], Tensor],
    make_dist: Callable[..., Distribution],
    params: Tensor | Sequence[Tensor],
    n: int,
    *,
    baseline: float | None = None,
) -> GradientEstimate:
    """The score-function (log-derivative, REINFORCE) estimator of ``∇_θ E_{p_θ}[f(Z)]``.

    ``(1/n) Σ (f(z_i) − b) ∇_θ log p_θ(z_i)`` with ``z_i ~ p_θ`` ({eq}`eq-prob-score`). It needs
    ``log p_θ`` to be differentiable in θ but not ``f``, which may be a black box (a reward, an
    indicator). ``b`` is an optional constant baseline: it leaves the estimator unbiased because
    ``E[∇_θ log p_θ(Z)] = 0``, and a good one lowers its variance.

    Parameters
    ----------
    f
        Batch of samples ``(n, *event)`` → ``(n,)``; gradients through it are not used.
    make_dist
        ``make_dist(*params)`` returns the distribution; it must broadcast over a leading batch
        dimension of the parameters (every :mod:`torch.distributions` family does).
    params
        The parameters θ (a tensor or a tuple of tensors); their values are used, not modified.
    n
        Number of samples.
    baseline
        Optional constant ``b`` subtracted from ``f``.
    """
    _check_callable(f, "f")
    _check_callable(make_dist, "make_dist")
    params = _check_params(params)
    n = check_int(n, "n", minimum=2)
    b = 0.0 if baseline is None else check_real(baseline, "baseline")
    rows = _batched(params, n)
    dist = _check_distribution(make_dist(*rows), "make_dist(*params)")
    with torch.no_grad():
        z = dist.sample()
        v = _values(f, z)
    logp = _event_sum(dist.log_prob(z), n)
    grads = torch.autograd.grad(logp.sum(), rows, allow_unused=True)
    grads = [
        torch.zeros_like(r) if g is None else g * (v - b).reshape(n, *([1] * (g.dim() - 1)))
        for g, r in zip(grads, rows, strict=True)
    ]
    return _summarise(grads, n)


def reparameterization_gradient(
    f: Callable[[Tensor], Tensor],
    make_dist: Callable[..., Distribution],
    params: Tensor | Sequence[Tensor],
    n: int,
) -> GradientEstimate:
    """The reparameterisation (pathwise) estimator of ``∇_θ E_{p_θ}[f(Z)]``.

    Writes ``z = g_θ(ε)`` with noise ``ε`` that does not depend on θ (for a normal,
    ``z = μ + σ ε``) and averages ``∇_θ f(g_θ(ε_i))`` ({eq}`eq-prob-reparam`). It needs ``f`` to be
    differentiable and the distribution to have ``rsample`` (``has_rsample``).
    Arguments as in :func:`score_function_gradient`.
    """
    _check_callable(f, "f")
    _check_callable(make_dist, "make_dist")
    params = _check_params(params)
    n = check_int(n, "n", minimum=2)
    rows = _batched(params, n)
    dist = _check_distribution(make_dist(*rows), "make_dist(*params)")
    if not getattr(dist, "has_rsample", False):
        raise ValueError(
            f"{type(dist).__name__} has no reparameterised sampler (has_rsample is False); "
            "use score_function_gradient"
        )
    v = _values(f, dist.rsample())
    if not v.requires_grad:
        raise ValueError("f(z) does not depend differentiably on z; the pathwise gradient is 0")
    grads = torch.autograd.grad(v.sum(), rows, allow_unused=True)
    grads = [torch.zeros_like(r) if g is None else g for g, r in zip(grads, rows, strict=True)]
    return _summarise(grads, n)


# --- moment generating functions -------------------------------------------------------------

#: Family name -> (parameter names, domain of t where the MGF is finite, as a function of them).
MGF_FAMILIES: dict[str, tuple[tuple[str, ...], Callable[..., tuple[float, float]]]] = {
    "normal": (("loc", "scale"), lambda loc, scale: (-math.inf, math.inf)),
    "bernoulli": (("probs",), lambda probs: (-math.inf, math.inf)),
    "binomial": (("total_count", "probs"), lambda total_count, probs: (-math.inf, math.inf)),
    "poisson": (("rate",), lambda rate: (-math.inf, math.inf)),
    "uniform": (("low", "high"), lambda low, high: (-math.inf, math.inf)),
    "gamma": (("concentration", "rate"), lambda concentration, rate: (-math.inf, rate)),
    "beta": (("concentration1", "concentration0"), lambda c1, c0: (-math.inf, math.inf)),
}


def _check_family_params(family: str, params: dict) -> dict[str, float]:
    if family not in MGF_FAMILIES:
        raise ValueError(f"family must be one of {sorted(MGF_FAMILIES)}; got {family!r}")
    names = MGF_FAMILIES[family][0]
    if set(params) != set(names):
        raise ValueError(f"{family} takes the parameters {names}; got {tuple(params)}")
    vals = {k: check_real(params[k], k) for k in names}
    positive = {
        "scale",
        "rate",
        "concentration",
        "concentration1",
        "concentration0",
    }
    for k, v in vals.items():
        if k in positive and v <= 0:
            raise ValueError(f"{family}: {k} must be > 0; got {v}")
    if family in ("bernoulli", "binomial") and not 0 <= vals["probs"] <= 1:
        raise ValueError(f"{family}: probs must lie in [0, 1]; got {vals['probs']}")
    if family == "binomial" and (vals["total_count"] < 0 or vals["total_count"] % 1):
        raise ValueError(f"binomial: total_count must be a whole number >= 0; got {vals}")
    if family == "poisson" and vals["rate"] <= 0:
        raise ValueError(f"poisson: rate must be > 0; got {vals['rate']}")
    if family == "uniform" and not vals["low"] < vals["high"]:
        raise ValueError(f"uniform: need low < high; got {vals}")
    return vals


def _beta_mgf(t: Tensor, a: float, b: float) -> Tensor:
    """1F1(a; a+b; t) by its power series Σ_k [Π_{r<k} (a+r)/(a+b+r)] t^k / k! (converges for
    all t). Term k is at most |t|^k / k!, so e·max|t| + 40 terms reach double precision."""
    terms = int(math.e * float(t.detach().abs().max()) + 40)
    total = torch.ones_like(t)
    term = torch.ones_like(t)
    for k in range(terms):
        term = term * (a + k) / (a + b + k) * t / (k + 1)
        total = total + term
    return total


def mgf(family: str, t: Tensor, **params: float) -> Tensor:
    """The moment generating function ``M_X(t) = E[exp(t X)]`` of a standard family.

    Closed forms ({eq}`eq-prob-mgf-table`), derived in the chapter "Probability":

    ========== ==================================== ===================
    normal     ``exp(μ t + σ² t² / 2)``             all t
    bernoulli  ``1 − p + p eᵗ``                     all t
    binomial   ``(1 − p + p eᵗ)ⁿ``                  all t
    poisson    ``exp(λ (eᵗ − 1))``                  all t
    uniform    ``(e^{bt} − e^{at}) / ((b − a) t)``   all t (1 at t = 0)
    gamma      ``(β / (β − t))^α`` (rate β)          t < β only
    beta       ``₁F₁(α; α + β; t)`` (series)         all t
    ========== ==================================== ===================

    ``t`` is a floating tensor (differentiable: the ``k``-th derivative at 0 is ``E[X^k]``). For
    the gamma family a ``t ≥ β`` gives ``inf`` (the expectation diverges), not an error.
    """
    vals = _check_family_params(family, params)
    t = check_tensor(t, "t")
    if family == "normal":
        return torch.exp(vals["loc"] * t + 0.5 * vals["scale"] ** 2 * t**2)
    if family == "bernoulli":
        return 1 - vals["probs"] + vals["probs"] * torch.exp(t)
    if family == "binomial":
        return (1 - vals["probs"] + vals["probs"] * torch.exp(t)) ** vals["total_count"]
    if family == "poisson":
        return torch.exp(vals["rate"] * torch.expm1(t))
    if family == "uniform":
        a, b = vals["low"], vals["high"]
        # (e^{bt} - e^{at}) / ((b-a) t) = e^{at} (e^{(b-a)t} - 1) / ((b-a) t); use a series near
        # t = 0 so that autograd gives the moments there.
        u = (b - a) * t
        small = u.abs() < 1e-3
        safe = torch.where(small, torch.ones_like(u), u)
        ratio = torch.where(
            small, 1 + u / 2 + u**2 / 6 + u**3 / 24 + u**4 / 120, torch.expm1(safe) / safe
        )
        return torch.exp(a * t) * ratio
    if family == "gamma":
        alpha, beta = vals["concentration"], vals["rate"]
        inside = t < beta
        safe = torch.where(inside, t, torch.zeros_like(t))
        val = (beta / (beta - safe)) ** alpha
        return torch.where(inside, val, torch.full_like(t, math.inf))
    return _beta_mgf(t, vals["concentration1"], vals["concentration0"])


def moments_from_mgf(family: str, order: int = 2, **params: float) -> list[float]:
    """Raw moments ``E[X], …, E[X^order]`` as derivatives of :func:`mgf` at ``t = 0`` (autograd)."""
    order = check_int(order, "order", minimum=1, maximum=20)
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    y = mgf(family, t, **params)
    out = []
    for _ in range(order):
        (y,) = torch.autograd.grad(y, t, create_graph=True)
        out.append(float(y.detach()))
    return out


# --- push-forward densities ------------------------------------------------------------------


def _derivative(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """f'(x) elementwise, by autograd."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(f(x).sum(), x)
    return g


def pushforward_density(
    f: Callable[[Tensor], Tensor],
    log_prob: Callable[[Tensor], Tensor],
    y: Tensor,
    *,
    support: tuple[float, float] = (-10.0, 10.0),
    grid: int = 4001,
    iters: int = 40,
) -> Tensor:
    """Density of ``Y = f(X)`` for a 1-D ``X`` with log-density ``log_prob`` (direction x → y).

    Implements ``p_Y(y) = Σ_{x: f(x) = y} p_X(x) / |f'(x)|`` ({eq}`eq-measure-change-of-variables`)
    numerically: ``f`` is evaluated on ``grid`` points of ``support`` (plus its turning points,
    located by bisection on ``f'``), every cell where ``f − y`` changes sign brackets one
    preimage, bisection (``iters`` halvings) locates it, and autograd gives ``f'`` there. So
    ``f`` need not be invertible, only piecewise monotone and differentiable on ``support``,
    which must hold practically all of ``X``'s mass. Where ``f' = 0`` at a preimage the density
    is infinite (at such a critical value itself the returned number is not meaningful).
    Cost: ``O(grid · log len(y))`` plus ``iters`` passes over the preimages found.

    Parameters
    ----------
    f
        Elementwise, differentiable torch function.
    log_prob
        Elementwise log-density of ``X`` (e.g. ``Normal(0, 1).log_prob``).
    y
        Points (1-D floating tensor) where ``p_Y`` is wanted; the result has their dtype and
        device.
    """
    _check_callable(f, "f")
    _check_callable(log_prob, "log_prob")
    y = check_tensor(y, "y", ndim=1)
    lo, hi = _check_support(support)
    grid = check_int(grid, "grid", minimum=3)
    iters = check_iterations(iters, "iters")
    xs = torch.linspace(lo, hi, grid, dtype=y.dtype, device=y.device)
    with torch.no_grad():
        fx = f(xs)
    if not isinstance(fx, Tensor) or fx.shape != xs.shape:
        raise ValueError("f must be elementwise: a tensor in, a tensor of the same shape out")
    check_tensor(fx, "f(support grid)")
    xs, fx = _add_turning_points(f, xs, fx, iters)
    cells, rows = _bracketing_cells(fx, y)
    root = _bisect_roots(f, xs, fx, cells, y[rows], iters)
    contrib = torch.exp(log_prob(root)) / _derivative(f, root).abs()
    out = torch.zeros_like(y)
    out.index_add_(0, rows, contrib.to(y.dtype))
    return out


def _check_support(support: object) -> tuple[float, float]:
    if not isinstance(support, (tuple, list)) or len(support) != 2:
        raise ValueError(f"support must be an interval (lo, hi); got {support!r}")
    lo, hi = (check_real(v, n) for v, n in zip(support, ("support[0]", "support[1]"), strict=True))
    if not lo < hi:
        raise ValueError(f"support must be an interval (lo, hi) with lo < hi; got {support}")
    return lo, hi


def _add_turning_points(f: Callable, xs: Tensor, fx: Tensor, iters: int) -> tuple[Tensor, Tensor]:
    """Add f's turning points to the grid: near one, both preimages of a y can fall in one cell,
    where f - y does not change sign, and would be missed."""
    step = torch.diff(fx)
    turn = torch.nonzero(step[:-1] * step[1:] < 0).flatten()
    if len(turn):
        a, b = xs[turn].clone(), xs[turn + 2].clone()
        sign_a = torch.sign(_derivative(f, a))
        for _ in range(iters):
            mid = 0.5 * (a + b)
            same = torch.sign(_derivative(f, mid)) == sign_a
            a, b = torch.where(same, mid, a), torch.where(same, b, mid)
        xs = torch.sort(torch.cat([xs, 0.5 * (a + b)])).values
        with torch.no_grad():
            fx = f(xs)
    return xs, fx


def _bracketing_cells(fx: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Pairs (cell, row of y) with a preimage of y[row] in the cell.

    Cell j = [x_j, x_{j+1}) holds a preimage of y when f(x_j) - y and f(x_{j+1}) - y differ in
    sign (a zero at the left end counts for this cell only, so no root is counted twice). With
    y sorted, each cell's y form one contiguous run, found by binary search.
    """
    y_sorted, order = torch.sort(y)
    fl, fr = fx[:-1].contiguous(), fx[1:].contiguous()
    up, down = fl < fr, fl > fr
    fl_left = torch.searchsorted(y_sorted, fl)
    fl_right = torch.searchsorted(y_sorted, fl, right=True)
    start = torch.where(down, torch.searchsorted(y_sorted, fr, right=True), fl_left)
    end = torch.where(up, torch.searchsorted(y_sorted, fr), fl_right)
    counts = (end - start).clamp_min(0)
    cells = torch.repeat_interleave(torch.arange(len(fl), device=y.device), counts)
    offsets = torch.cumsum(counts, 0) - counts
    pos = start[cells] + torch.arange(len(cells), device=y.device) - offsets[cells]
    return cells, order[pos]


def _bisect_roots(
    f: Callable, xs: Tensor, fx: Tensor, cells: Tensor, target: Tensor, iters: int
) -> Tensor:
    """The root of f - target in each cell, by ``iters`` bisections."""
    a, b = xs[cells].clone(), xs[cells + 1].clone()
    sign_a = torch.sign(fx[:-1].contiguous()[cells] - target)
    with torch.no_grad():
        for _ in range(iters):
            mid = 0.5 * (a + b)
            s = torch.sign(f(mid) - target)
            same = s == sign_a
            a = torch.where(same, mid, a)
            b = torch.where(same, b, mid)
    return torch.where(sign_a == 0, xs[cells], 0.5 * (a + b))


# --- Gaussian conditioning -------------------------------------------------------------------


def condition_gaussian(mean: Tensor, cov: Tensor, value: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Condition ``N(mean, cov)`` on its first ``k`` coordinates being ``value``.

    With the blocks ``a = x[:k]`` (observed) and ``b = x[k:]``,
    ``b | a = v  ~  N(μ_b + Σ_ba Σ_aa⁻¹ (v − μ_a),  Σ_bb − Σ_ba Σ_aa⁻¹ Σ_ab)``
    ({eq}`eq-prob-gauss-conditional`); the covariance is the Schur complement of ``Σ_aa``. Solves
    with a Cholesky factor of ``Σ_aa`` instead of inverting it.

    Returns
    -------
    (Tensor, Tensor)
        The conditional mean ``(d − k,)`` and covariance ``(d − k, d − k)``.
    """
    from ._validate import check_spd

    mean = check_tensor(mean, "mean", ndim=1)
    check_spd(cov, "cov")
    d = mean.shape[0]
    if cov.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}) to match mean; got {tuple(cov.shape)}")
    k = check_int(k, "k", minimum=1)
    if k >= d:
        raise ValueError(f"k must be smaller than the dimension {d}; got {k}")
    value = check_tensor(value, "value", ndim=1)
    if value.shape != (k,):
        raise ValueError(f"value must have shape ({k},); got {tuple(value.shape)}")
    s_aa, s_ab, s_bb = cov[:k, :k], cov[:k, k:], cov[k:, k:]
    chol = torch.linalg.cholesky(s_aa)
    gain = torch.cholesky_solve(s_ab, chol)  # Σ_aa⁻¹ Σ_ab, shape (k, d − k)
    cond_mean = mean[k:] + gain.mT @ (value - mean[:k])
    cond_cov = s_bb - s_ab.mT @ gain
    return cond_mean, cond_cov


# == moved from explore/probability.py ==
# The sampling experiments and closed forms behind the chapter's figures
# (companion.explore.probability draws them).
import numpy as np  # noqa: E402
from torch.distributions import Normal  # noqa: E402

_F64 = torch.float64
#: Midpoints of 2000 equal cells of [0, 1]: the grid of :func:`grid_posterior`.
POSTERIOR_GRID = (np.arange(2000) + 0.5) / 2000


def grid_posterior(a: float, b: float, heads: int, tails: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior density of a coin's θ by Bayes' theorem on a grid ({eq}`eq-prob-bayes`):
    prior ``Beta(a, b)`` times the binomial likelihood, divided by their integral (midpoint
    rule on the 2000 cells of :data:`POSTERIOR_GRID`). Returns ``(θ, density)`` (numpy); the
    chapter compares it with the conjugate ``Beta(a + h, b + t)``."""
    a, b = check_real(a, "a"), check_real(b, "b")
    if a <= 0 or b <= 0:
        raise ValueError(f"a and b must be > 0; got {a}, {b}")
    heads, tails = check_int(heads, "heads", minimum=0), check_int(tails, "tails", minimum=0)
    from scipy import stats  # the prior's log-density, as SciPy computes it

    theta = POSTERIOR_GRID
    log_post = stats.beta.logpdf(theta, a, b) + heads * np.log(theta) + tails * np.log1p(-theta)
    post = np.exp(log_post - log_post.max())
    return theta, post / (post.sum() / len(theta))


def monte_carlo_error(repeats: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """Monte Carlo estimates of E[X²] = 1 for X ~ N(0, 1) at 15 sample sizes N from 10 to
    ~31 600 (log-spaced), each from ``repeats`` independent runs (a private generator): the
    sizes ``n``, the root-mean-square error ``rmse`` over the runs and the error ``single`` of
    the first run (signed), which the chapter sets against √(Var X² / N) = √(2/N)."""
    repeats = check_int(repeats, "repeats", minimum=2)
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    ns = np.unique(np.logspace(1, 4.5, 15).astype(int))
    x = torch.randn(repeats, int(ns[-1]), generator=g, dtype=_F64) ** 2
    csum = torch.cumsum(x, 1)
    rmse = [float(torch.sqrt(torch.mean((csum[:, n - 1] / n - 1.0) ** 2))) for n in ns]
    single = (csum[0, ns - 1] / torch.as_tensor(ns)).numpy() - 1.0
    return {"n": ns, "rmse": np.asarray(rmse), "single": single}


def is_second_moment(mu: float, sigma: float, c: float = 4.0) -> float:
    """``E_q[(w(X) 1{X > c})²] = ∫_c^∞ p(x)² / q(x) dx`` for ``p = N(0, 1)``, ``q = N(μ, σ²)``.

    Finite iff ``σ² > 1/2``, or ``σ² = 1/2`` and ``μ > 0``. For ``σ² > 1/2``, with
    ``a = 1 − 1/(2σ²)`` and ``m = μ / (2aσ²)``,
    ``p²/q = σ/√(2π) · exp(−a(x + m)² + a m² + μ²/(2σ²))``, whose integral over ``(c, ∞)``
    is a Gaussian tail: ``½√(π/a) erfc(√a (c + m))`` times the constants. At ``σ² = 1/2``
    the integrand is ``σ/√(2π) · exp(μ² − 2μx)``, integrable on ``(c, ∞)`` only when ``μ > 0``,
    with integral ``σ/√(2π) · exp(μ² − 2μc) / (2μ)``. Returns ``inf`` where the moment diverges.
    """
    mu, sigma, c = check_real(mu, "mu"), check_real(sigma, "sigma"), check_real(c, "c")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    if 2 * sigma**2 < 1:
        return math.inf
    a = 1 - 1 / (2 * sigma**2)
    if a < 1e-7:  # σ² = 1/2 up to rounding; the Gaussian-tail form cancels catastrophically here
        if mu <= 0:
            return math.inf
        return sigma / math.sqrt(2 * math.pi) * math.exp(mu**2 - 2 * mu * c) / (2 * mu)
    m = mu / (2 * a * sigma**2)
    const = a * m**2 + mu**2 / (2 * sigma**2)
    # log erfc(z) = log 2 + log Φ(−z√2), stable far in the tail.
    z = torch.tensor(-math.sqrt(2 * a) * (c + m), dtype=_F64)
    log_erfc = math.log(2.0) + float(torch.special.log_ndtr(z))
    log_tail = math.log(0.5 * math.sqrt(math.pi / a)) + log_erfc
    return sigma / math.sqrt(2 * math.pi) * math.exp(const + log_tail)


def rare_event_importance_run(
    mu: float, sigma: float, threshold: float = 4.0, n: int = 2000, seed: int = 0
) -> tuple[Estimate, Tensor, Tensor]:
    """One seeded run of :func:`importance_sampling` for ``P(X > threshold)``, ``X ~ N(0, 1)``,
    with the proposal ``N(μ, σ²)``: the estimate, the ``n`` proposal draws and the terms
    ``w(x_i) 1{x_i > threshold}``. The same seed gives every proposal the same noise; the
    caller's random state is left alone (the run happens under ``torch.random.fork_rng``)."""
    mu, sigma = check_real(mu, "mu"), check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    threshold, seed = check_real(threshold, "threshold"), check_int(seed, "seed", minimum=0)
    p = Normal(torch.tensor(0.0, dtype=_F64), torch.tensor(1.0, dtype=_F64))
    q = Normal(torch.tensor(mu, dtype=_F64), torch.tensor(sigma, dtype=_F64))

    def f(x):
        return (x > threshold).to(_F64)

    with seeded(seed, "cpu"):
        est = importance_sampling(f, p, q, n)
    with seeded(seed, "cpu"):
        x = q.sample((n,))
    return est, x, torch.exp(p.log_prob(x) - q.log_prob(x)) * f(x)


def _estimator_spread(fn, loc: Tensor, scale: Tensor, n: int, repeats: int) -> tuple[float, ...]:
    """(variance, its standard error, mean) of ``repeats`` independent n-sample estimates of
    ∂/∂μ E[Z²]: one call with n·repeats samples, its per-sample terms cut into groups of n."""
    terms = fn(lambda z: z**2, Normal, (loc, scale), n * repeats).per_sample[0]
    est = terms.reshape(repeats, n).mean(1)
    var = float(est.var())
    # Standard error of that sample variance, from the fourth central moment.
    m4 = float(((est - est.mean()) ** 4).mean())
    return var, math.sqrt(max(m4 - var**2, 0) / repeats), float(est.mean())


def gradient_estimator_variances(
    mu: float = 1.0, sigma: float = 1.0, ns=(10, 100, 1000), repeats: int = 300, seed: int = 0
) -> dict[str, np.ndarray]:
    """Measured variance of the score-function and reparameterisation estimators of
    ``∂/∂μ E[Z²]`` (``Z ~ N(μ, σ²)``, true value 2μ) over ``repeats`` independent runs at each
    sample size in ``ns``: keys ``score``/``reparam`` (variances), ``*_mean`` and ``*_var_se``
    (standard errors of the variances), and ``n``. Seeded; runs under ``torch.random.fork_rng``
    so the caller's random state is left alone."""
    repeats = check_int(repeats, "repeats", minimum=2)
    loc = torch.tensor(check_real(mu, "mu"), dtype=_F64)
    scale = torch.tensor(check_real(sigma, "sigma", positive=True), dtype=_F64)
    ns = np.asarray([check_int(n, "n", minimum=2, maximum=10**6) for n in ns])
    out: dict[str, list] = {k: [] for k in ("score", "reparam", "score_mean", "reparam_mean")}
    out.update(score_var_se=[], reparam_var_se=[])
    estimators = (("score", score_function_gradient), ("reparam", reparameterization_gradient))
    with seeded(check_int(seed, "seed", minimum=0), "cpu"):
        for n in ns:
            for key, fn in estimators:
                var, se, mean = _estimator_spread(fn, loc, scale, int(n), repeats)
                out[key].append(var)
                out[key + "_var_se"].append(se)
                out[key + "_mean"].append(mean)
    return {"n": ns} | {k: np.asarray(v) for k, v in out.items()}


def exponential_running_sums(repeats: int, max_n: int, seed: int = 0) -> Tensor:
    """``repeats`` independent rows of ``max_n`` Exp(1) draws (by inversion, a private
    generator), cumulatively summed along each row: column ``n − 1`` divided by ``n`` holds
    ``repeats`` sample means of n draws. Shape ``(repeats, max_n)``, float64."""
    repeats, max_n = check_int(repeats, "repeats"), check_int(max_n, "max_n")
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    x = -torch.log(torch.rand(repeats, max_n, generator=g, dtype=_F64))  # Exp(1)
    return torch.cumsum(x, 1)


# == moved from explore/measure.py ==
# The measure chapter's computations: finite σ-algebras (events are ``frozenset``s of outcomes),
# the simple-function integral, the push-forward maps, the ReLU cdf with its atom and the KL of
# a discretised singular pair (companion.explore.measure draws them).
import itertools  # noqa: E402
from collections.abc import Hashable, Iterable  # noqa: E402

Event = frozenset


def _as_events(sets: Iterable[Iterable[Hashable]], name: str) -> list[frozenset]:
    if isinstance(sets, (str, bytes)) or not isinstance(sets, Iterable):
        raise TypeError(f"{name} must be a collection of sets")
    out = []
    for s in sets:
        if isinstance(s, (str, bytes)) or not isinstance(s, Iterable):
            raise TypeError(f"every member of {name} must be a set of outcomes; got {s!r}")
        out.append(frozenset(s))
    return out


def generated_sigma_algebra(omega: Iterable[Hashable], sets: Iterable[Iterable[Hashable]]):
    """The smallest σ-algebra on the finite set ``omega`` that contains every set in ``sets``.

    Its **atoms** are the non-empty intersections ``∩_i (A_i or its complement)``; they
    partition ``omega``, and the σ-algebra consists of all ``2^(number of atoms)`` unions of
    atoms. For a partition the atoms are its blocks.

    Returns
    -------
    set[frozenset]
        Every event of the σ-algebra (including ``frozenset()`` and ``omega``).
    """
    omega = frozenset(omega)
    if not omega:
        raise ValueError("omega must be a non-empty set")
    sets = _as_events(sets, "sets")
    for s in sets:
        if not s <= omega:
            raise ValueError(f"{set(s)} is not a subset of omega")
    atoms: set[frozenset] = {omega}
    for s in sets:
        atoms = {piece for a in atoms for piece in (a & s, a - s) if piece}
    atoms_l = sorted(atoms, key=lambda a: sorted(map(repr, a)))
    return {
        frozenset().union(*combo)
        for r in range(len(atoms_l) + 1)
        for combo in itertools.combinations(atoms_l, r)
    }


def is_sigma_algebra(omega: Iterable[Hashable], family: Iterable[Iterable[Hashable]]) -> bool:
    """Whether ``family`` is a σ-algebra on the finite set ``omega``: it contains ``omega``, and
    is closed under complements and (on a finite set, finite = countable) unions."""
    omega = frozenset(omega)
    fam = set(_as_events(family, "family"))
    if omega not in fam or any(not a <= omega for a in fam):
        return False
    if any(omega - a not in fam for a in fam):
        return False
    return all(a | b in fam for a in fam for b in fam)


def is_measurable(
    func: Callable[[Hashable], float] | dict,
    omega: Iterable[Hashable],
    family: Iterable[Iterable[Hashable]],
) -> bool:
    """Whether ``func: omega → R`` is measurable with respect to ``family`` (a σ-algebra on a
    finite ``omega``): every level set ``{ω : func(ω) = v}`` must be an event. On a finite space
    that is equivalent to ``func⁻¹(B) ∈ family`` for every Borel set ``B``, because such a
    pre-image is a union of level sets."""
    omega = frozenset(omega)
    fam = set(_as_events(family, "family"))
    if not is_sigma_algebra(omega, fam):
        raise ValueError("family is not a σ-algebra on omega")
    get = func.__getitem__ if isinstance(func, dict) else func
    if not callable(get):
        raise TypeError("func must be callable or a dict")
    values: dict = {}
    for w in omega:
        values.setdefault(get(w), set()).add(w)
    return all(frozenset(level) in fam for level in values.values())


def simple_function_integral(n: int) -> float:
    """``∫ φ_n dλ`` on [0, 1] for ``f(x) = 4x(1 − x)`` and ``φ_n = ⌊2ⁿ f⌋ / 2ⁿ``.

    Layer by layer ({eq}`eq-measure-simple-integral`): ``φ_n = Σ_k 2⁻ⁿ 1{f ≥ k 2⁻ⁿ}``, and the
    level sets of this ``f`` have the exact measure ``λ{f ≥ c} = √(1 − c)`` for ``c ∈ [0, 1]``,
    so ``∫ φ_n = Σ_{k=1}^{2ⁿ} 2⁻ⁿ √(1 − k 2⁻ⁿ)``, which increases to ``∫ f = 2/3``.
    """
    n = check_int(n, "n", minimum=0, maximum=24)
    k = np.arange(1, 2**n + 1)
    return float(np.sum(2.0**-n * np.sqrt(np.clip(1 - k * 2.0**-n, 0, None))))


#: The push-forward maps of the measure chapter: name -> (label, f_t(x, t) in torch).
PUSHFORWARD_MAPS: dict[str, tuple[str, Callable]] = {
    "exp": ("(1 − t)x + t eˣ", lambda x, t: (1 - t) * x + t * torch.exp(x)),
    "tanh": ("(1 − t)x + 2t tanh x", lambda x, t: (1 - t) * x + 2 * t * torch.tanh(x)),
    "square": ("(1 − t)x + t x²  (not one-to-one)", lambda x, t: (1 - t) * x + t * x**2),
}


def pushforward_map(name: str, t: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The map ``x ↦ f_t(x)`` of the push-forward figure (``t = 0`` is the identity)."""
    if name not in PUSHFORWARD_MAPS:
        raise ValueError(f"transform must be one of {sorted(PUSHFORWARD_MAPS)}; got {name!r}")
    t = check_real(t, "t", low=0, high=1)
    fn = PUSHFORWARD_MAPS[name][1]
    return lambda x: fn(x, t)


def count_preimages(
    f: Callable[[Tensor], Tensor], ys: Tensor, support: tuple[float, float] = (-9.0, 9.0)
) -> int:
    """The largest number of preimages ``{x : f(x) = y}`` over the values ``ys``, counted as
    the sign changes of ``f(x) − y`` between neighbours of 3601 points on ``support``."""
    _check_callable(f, "f")
    ys = check_tensor(ys, "ys", ndim=1)
    lo, hi = _check_support(support)
    xg = torch.linspace(lo, hi, 3601, dtype=ys.dtype)
    d = f(xg)[None, :] - ys[:, None]
    return int(((d[:, :-1] * d[:, 1:]) < 0).sum(1).max())


def relu_cdf(y: np.ndarray, mu: float) -> np.ndarray:
    """cdf of ``Y = max(0, X)``, ``X ~ N(μ, 1)``: 0 for y < 0, ``Φ(y − μ)`` for y ≥ 0 — a jump of
    ``Φ(−μ)`` at 0 (an atom) followed by a continuous part."""
    mu = check_real(mu, "mu")
    y = np.asarray(y, dtype=float)
    return np.where(y < 0, 0.0, torch.special.ndtr(torch.from_numpy(y - mu)).numpy())


def circle_kl(h: float, angles: int = 400_000) -> float:
    """``KL(P_h ‖ Q_h)`` in nats for the uniform distribution P on the unit circle and Q = N(0, I₂),
    both discretised into square cells of side ``h`` (cells cover [−4, 4]²).

    P is singular with respect to Q (the circle has area 0), so the continuous KL is +∞; the
    discretised one is finite and grows like ``log(1/h)``. P's cell masses come from ``angles``
    equally spaced points on the circle, Q's from the normal cdf, renormalised to the box
    [−4, 4]² (which holds all but 0.013 % of Q's mass).
    """
    from .divergences import kl_discrete

    h = check_real(h, "h")
    if not 0 < h <= 4:
        raise ValueError(f"h must lie in (0, 4]; got {h}")
    angles = check_int(angles, "angles", minimum=16)
    k = math.ceil(8 / h)
    edges = -4 + h * np.arange(k + 1)
    phi = 2 * np.pi * (np.arange(angles) + 0.5) / angles
    counts, _, _ = np.histogram2d(np.cos(phi), np.sin(phi), bins=[edges, edges])
    p = counts / angles
    q1 = np.diff(torch.special.ndtr(torch.from_numpy(edges)).numpy())
    q = np.outer(q1, q1)
    q = q / q.sum()
    return float(kl_discrete(torch.from_numpy(p.ravel()), torch.from_numpy(q.ravel())))


def riemann_lower_heights(n: int) -> np.ndarray:
    """The heights of the Riemann lower sum of ``f(x) = 4x(1 − x)`` on 2ⁿ equal cells of
    [0, 1]: the minimum of f over each cell, at one of its ends (f is unimodal). Their mean is
    the lower sum, which increases to ``∫ f = 2/3``."""
    n = check_int(n, "n", minimum=0, maximum=24)
    edges = np.linspace(0, 1, 2**n + 1)
    return np.minimum(4 * edges[:-1] * (1 - edges[:-1]), 4 * edges[1:] * (1 - edges[1:]))
