"""Optimisation for the chapter "Optimization": test functions, explicit update rules, games.

Everything here is small and explicit on purpose: each optimiser is a few lines that read like
the chapter's equations, and records the whole trajectory so that a figure can draw it.

Conventions
-----------
* Steps are 1-indexed: the first update uses the gradient ``g_1`` at the starting point ``x_0``
  and produces ``x_1``; bias corrections use ``t = 1, 2, ...``.
* The update rules follow **PyTorch's** conventions (``torch.optim``), which differ from several
  papers; the chapter's section "PyTorch's conventions" lists the differences and the tests check
  that :func:`optimize` reproduces ``torch.optim`` to 1e-10 over 500 steps in float64:

  - SGD with momentum keeps a buffer ``b_t = β b_{t-1} + g_t`` (no ``1 - β`` factor, ``b_1 =
    g_1``) and steps ``x_t = x_{t-1} - η b_t``; this is the heavy-ball method
    ``x_t = x_{t-1} - η g_t + β (x_{t-1} - x_{t-2})`` written with a buffer.
  - Nesterov steps ``x_t = x_{t-1} - η (g_t + β b_t)`` with the gradient at the *current*
    point: Sutskever et al.'s look-ahead form after a change of variables.
  - RMSprop divides by ``sqrt(s_t) + ε`` (ε outside the square root), no bias correction.
  - Adam divides the bias-corrected first moment by ``sqrt(v̂_t) + ε`` (ε outside the root).

* Points in the plane are tensors of shape ``(..., 2)``; functions broadcast over leading axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._validate import (
    check_int,
    check_iterations,
    check_real,
    check_same_shape,
    check_tensor,
    check_values,
)
from .device import resolve_device

__all__ = [
    "Objective",
    "rosenbrock",
    "beale",
    "quadratic",
    "OBJECTIVES",
    "UpdateRule",
    "GradientDescent",
    "Momentum",
    "RMSprop",
    "Adam",
    "Adagrad",
    "optimize",
    "pl_rate",
    "quadratic_rate",
    "step_sizes",
    "least_squares_problem",
    "minibatch_gradient_variance",
    "sgd_least_squares",
    "polyak_average",
    "MINMAX_METHODS",
    "minmax_trajectory",
    "gradient_penalty",
    "mlp_forward_backward",
    "clip_grad_norm",
    "max_entropy",
    "taylor_polynomial",
    "taylor_remainder_integral",
    "random_hessian_minimum_fraction",
    "OPTIMIZERS",
    "SCHEDULES",
    "gd_quadratic_run",
    "sgd_least_squares_run",
    "make_rule",
    "adaptive_rule",
    "batched_paths",
    "bilinear_paths",
]

F64 = torch.float64


def _point(x: object, name: str = "x") -> Tensor:
    """Light check for the inner loops: a floating tensor of shape (..., 2). NaN is allowed (a
    diverged run is filled with NaN and still evaluated)."""
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {type(x).__name__}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"{name} must have a last dimension of size 2 (points in the plane)")
    return x


@dataclass(frozen=True)
class Objective:
    """A function of the plane with its analytic gradient and known minimiser.

    ``value(x)`` and ``grad(x)`` take tensors of shape ``(..., 2)``; ``xrange``/``yrange`` are
    the plotting window and ``start`` the figures' starting point.
    """

    name: str
    value: Callable[[Tensor], Tensor] = field(repr=False)
    grad: Callable[[Tensor], Tensor] = field(repr=False)
    minimizer: tuple[float, float]
    minimum: float
    start: tuple[float, float]
    xrange: tuple[float, float]
    yrange: tuple[float, float]
    smoothness: float | None = None  # L, where the gradient is globally L-Lipschitz
    strong_convexity: float | None = None  # m, where f is m-strongly convex


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    """``f(x, y) = (a - x)² + b (y - x²)²``, minimum 0 at ``(a, a²)``: a curved, narrow valley."""
    a, b = check_real(a, "a"), check_real(b, "b")
    if b <= 0:
        raise ValueError(f"b must be > 0, got {b}")

    def value(p: Tensor) -> Tensor:
        p = _point(p)
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p: Tensor) -> Tensor:
        p = _point(p)
        x, y = p[..., 0], p[..., 1]
        r = y - x**2
        return torch.stack([-2 * (a - x) - 4 * b * x * r, 2 * b * r], dim=-1)

    return Objective(
        "Rosenbrock", value, grad, (a, a * a), 0.0, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0)
    )


_BEALE_C = (1.5, 2.25, 2.625)


def beale() -> Objective:
    """Beale's function ``sum_{i=1}^3 (c_i - x + x y^i)²`` with ``c = (1.5, 2.25, 2.625)``.

    Minimum 0 at ``(3, 0.5)``; flat plateaus and steep walls.
    """

    def value(p: Tensor) -> Tensor:
        p = _point(p)
        x, y = p[..., 0], p[..., 1]
        return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(_BEALE_C))

    def grad(p: Tensor) -> Tensor:
        p = _point(p)
        x, y = p[..., 0], p[..., 1]
        y2 = y * y
        y3 = y2 * y
        r1, r2, r3 = (c - x + x * yk for c, yk in zip(_BEALE_C, (y, y2, y3), strict=True))
        gx = 2 * (r1 * (y - 1) + r2 * (y2 - 1) + r3 * (y3 - 1))
        gy = 2 * x * (r1 + 2 * r2 * y + 3 * r3 * y2)
        return torch.stack([gx, gy], dim=-1)

    return Objective("Beale", value, grad, (3.0, 0.5), 0.0, (1.0, 1.4), (-0.5, 4.5), (-1.5, 2.0))


def quadratic(kappa: float = 10.0, L: float = 1.0, angle: float = math.pi / 6) -> Objective:
    """``f(x) = ½ xᵀ H x`` with eigenvalues ``L`` and ``m = L/κ``, eigenvectors rotated by
    ``angle`` (radians). Minimum 0 at the origin; gradient ``H x`` is ``L``-Lipschitz and ``f`` is
    ``m``-strongly convex."""
    kappa, L, angle = check_real(kappa, "kappa"), check_real(L, "L"), check_real(angle, "angle")
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1 (it is L/m), got {kappa}")
    if L <= 0:
        raise ValueError(f"L must be > 0, got {L}")
    m = L / kappa
    c, s = math.cos(angle), math.sin(angle)
    h = torch.tensor(
        [
            [L * c * c + m * s * s, (L - m) * c * s],
            [(L - m) * c * s, L * s * s + m * c * c],
        ],
        dtype=F64,
    )

    def value(p: Tensor) -> Tensor:
        p = _point(p)
        hp = h.to(p)
        return 0.5 * torch.einsum("...i,ij,...j->...", p, hp, p)

    def grad(p: Tensor) -> Tensor:
        p = _point(p)
        return p @ h.to(p)  # H is symmetric

    return Objective(
        f"quadratic (κ = {kappa:g})",
        value,
        grad,
        (0.0, 0.0),
        0.0,
        (-1.8, 1.2),
        (-2.2, 2.2),
        (-2.2, 2.2),
        smoothness=L,
        strong_convexity=m,
    )


#: The three test functions of the optimiser figures.
OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "rosenbrock": rosenbrock,
    "beale": beale,
    "quadratic": lambda: quadratic(kappa=25.0),
}


# --- update rules ------------------------------------------------------------------------------


def _lr(lr: object) -> float:
    return check_real(lr, "lr", positive=True)


def _hyper(value: object, name: str, low: float, high: float | None) -> float | Tensor:
    """A hyper-parameter: a real number, or a tensor of them (one per row of a batch of runs)
    in ``[low, high)`` (``(0, ∞)`` for ``high=None``, i.e. a learning rate)."""
    bounds = {"positive": True} if high is None else {"low": low, "high": high, "high_open": True}
    if isinstance(value, Tensor):
        return check_values(check_tensor(value, name), name, **bounds)
    return check_real(value, name, **bounds)


def _eps(value: object) -> float | Tensor:
    """The ε of RMSprop and Adam: a real number ``>= 0``, or a tensor of them (one per row)."""
    if isinstance(value, Tensor):
        return check_values(check_tensor(value, "eps"), "eps", low=0)
    return check_real(value, "eps", low=0)


class UpdateRule:
    """An optimiser as an explicit update rule ``x_t = step(x_{t-1}, g_t)`` with internal state.

    Call :meth:`reset` before a new trajectory (``optimize`` does it). Hyper-parameters are real
    numbers; a tensor of them (shape ``(n, 1)`` for points of shape ``(n, 2)``) runs ``n``
    settings at once, one per row.
    """

    name = "update rule"

    def reset(self) -> None:
        self.t = 0

    def step(self, x: Tensor, g: Tensor) -> Tensor:
        """One update from the point ``x`` with gradient ``g`` (finite tensors of one shape)."""
        x, g = check_tensor(x, "x"), check_tensor(g, "g")
        check_same_shape(x, g, "x", "g")
        return self._update(x, g)

    def _update(self, x: Tensor, g: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class GradientDescent(UpdateRule):
    """``x_t = x_{t-1} - η g_t`` {eq}`eq-opt-gd`."""

    name = "GD"

    def __init__(self, lr: float):
        self.lr = _hyper(lr, "lr", 0, None)
        self.reset()

    def _update(self, x: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        return x - self.lr * g


class Momentum(UpdateRule):
    """SGD with momentum, PyTorch's convention {eq}`eq-opt-momentum`.

    ``b_t = β b_{t-1} + g_t`` (``b_1 = g_1``); plain: ``x_t = x_{t-1} - η b_t``;
    Nesterov: ``x_t = x_{t-1} - η (g_t + β b_t)``.
    """

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False):
        self.lr = _hyper(lr, "lr", 0, None)
        self.momentum = _hyper(momentum, "momentum", 0, 1)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and bool(torch.any(torch.as_tensor(self.momentum) == 0)):
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.nesterov = nesterov
        self.name = "Nesterov" if nesterov else "momentum"
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.buffer: Tensor | None = None

    def _update(self, x: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        self.buffer = g.clone() if self.buffer is None else self.momentum * self.buffer + g
        direction = g + self.momentum * self.buffer if self.nesterov else self.buffer
        return x - self.lr * direction


class RMSprop(UpdateRule):
    """RMSprop, PyTorch's convention {eq}`eq-opt-rmsprop`: ``s_t = α s_{t-1} + (1-α) g_t²``,
    ``x_t = x_{t-1} - η g_t / (sqrt(s_t) + ε)``, with ``s_0 = 0`` and no bias correction."""

    name = "RMSprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8):
        self.lr = _hyper(lr, "lr", 0, None)
        self.alpha = _hyper(alpha, "alpha", 0, 1)
        self.eps = _eps(eps)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.square_avg: Tensor | None = None

    def _update(self, x: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        prev = torch.zeros_like(g) if self.square_avg is None else self.square_avg
        if isinstance(self.alpha, Tensor) or isinstance(self.lr, Tensor):  # a batch of settings
            self.square_avg = self.alpha * prev + (1 - self.alpha) * g * g
            return x - self.lr * g / (self.square_avg.sqrt() + self.eps)
        # The same, in PyTorch's order of floating-point operations: near a minimum RMSprop's
        # steps stay of size ~η and hover chaotically, which amplifies any rounding difference.
        self.square_avg = torch.addcmul(self.alpha * prev, g, g, value=1 - self.alpha)
        return torch.addcdiv(x, g, self.square_avg.sqrt() + self.eps, value=-self.lr)


class Adam(UpdateRule):
    """Adam {eq}`eq-opt-adam`: moments ``m_t, v_t`` with ``m_0 = v_0 = 0``, bias corrections
    ``m̂_t = m_t / (1 - β₁ᵗ)``, ``v̂_t = v_t / (1 - β₂ᵗ)``, step
    ``x_t = x_{t-1} - η m̂_t / (sqrt(v̂_t) + ε)``."""

    name = "Adam"

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps=1e-8):
        self.lr = _hyper(lr, "lr", 0, None)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = _hyper(betas[0], "beta1", 0, 1)
        self.beta2 = _hyper(betas[1], "beta2", 0, 1)
        self.eps = _eps(eps)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.m: Tensor | None = None
        self.v: Tensor | None = None

    def _update(self, x: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        m = torch.zeros_like(g) if self.m is None else self.m
        v = torch.zeros_like(g) if self.v is None else self.v
        self.m = self.beta1 * m + (1 - self.beta1) * g
        self.v = self.beta2 * v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return x - self.lr * m_hat / (v_hat.sqrt() + self.eps)


class Adagrad(UpdateRule):
    """Adagrad, PyTorch's convention {eq}`eq-opt-adagrad`: ``s_t = s_{t-1} + g_t²`` (a plain sum,
    ``s_0 = 0``), ``x_t = x_{t-1} - η_t g_t / (sqrt(s_t) + ε)`` with
    ``η_t = η / (1 + (t - 1) · lr_decay)`` (``lr_decay = 0``: a constant η)."""

    name = "Adagrad"

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, lr_decay: float = 0.0):
        self.lr = _lr(lr)
        self.eps = _eps(eps)
        self.lr_decay = check_real(lr_decay, "lr_decay")
        if self.lr_decay < 0:
            raise ValueError(f"lr_decay must be >= 0, got {self.lr_decay}")
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.sum_sq: Tensor | None = None

    def _update(self, x: Tensor, g: Tensor) -> Tensor:
        self.t += 1
        prev = torch.zeros_like(g) if self.sum_sq is None else self.sum_sq
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        # PyTorch's order of floating-point operations (addcmul, then addcdiv).
        self.sum_sq = torch.addcmul(prev, g, g, value=1)
        return torch.addcdiv(x, g, self.sum_sq.sqrt() + self.eps, value=-clr)


def optimize(
    rule: UpdateRule,
    grad: Objective | Callable[[Tensor], Tensor],
    x0: object,
    steps: int,
    *,
    stop_above: float | None = None,
) -> Tensor:
    """Run ``rule`` from ``x0`` for ``steps`` updates and return the trajectory.

    Parameters
    ----------
    rule
        An :class:`UpdateRule` (it is reset first).
    grad
        An :class:`Objective` (its analytic gradient is used) or a function ``x -> ∇f(x)``.
    x0
        Starting point, a floating tensor of any shape the gradient accepts.
    steps
        Number of updates (``>= 1``).
    stop_above
        If given, stop early once ``|x|`` exceeds it anywhere (a diverging run); the rest of the
        trajectory is filled with ``nan`` so that its length is always ``steps + 1``.

    Returns
    -------
    Tensor
        Shape ``(steps + 1, *x0.shape)``: ``x_0, x_1, ..., x_steps``.
    """
    if not isinstance(rule, UpdateRule):
        raise TypeError(f"rule must be an UpdateRule (GradientDescent, Adam, ...), got {rule!r}")
    grad_fn = grad.grad if isinstance(grad, Objective) else grad
    if not callable(grad_fn):
        raise TypeError("grad must be an Objective or a callable returning the gradient")
    x = check_tensor(x0, "x0")
    steps = check_iterations(steps, "steps")
    rule.reset()
    # the unchecked update: a diverging run is drawn up to its inf/nan, not refused
    update = rule._update if type(rule).step is UpdateRule.step else rule.step
    out = torch.full((steps + 1, *x.shape), math.nan, dtype=x.dtype, device=x.device)
    out[0] = x
    for t in range(1, steps + 1):
        x = update(x, grad_fn(x))
        out[t] = x
        if stop_above is not None and not bool(torch.all(x.abs() <= stop_above)):
            break
    return out


# --- rates -------------------------------------------------------------------------------------


def pl_rate(m: float, L: float, lr: float) -> float:
    """Contraction factor of ``f(x_k) - f*`` per gradient step under m-PL and L-smoothness:
    ``1 - 2 m η (1 - L η / 2)`` {eq}`eq-opt-pl-rate`; equals ``1 - m/L`` at ``η = 1/L``.
    Only a contraction for ``0 < η < 2/L``."""
    m, L, lr = check_real(m, "m"), check_real(L, "L"), _lr(lr)
    if not 0 < m <= L:
        raise ValueError(f"need 0 < m <= L, got m={m}, L={L}")
    return 1.0 - 2.0 * m * lr * (1.0 - L * lr / 2.0)


def quadratic_rate(m: float, L: float, lr: float) -> float:
    """Exact worst-case contraction of the distance to the minimiser for gradient descent on a
    quadratic with Hessian eigenvalues in ``[m, L]``: ``max(|1 - η m|, |1 - η L|)``."""
    m, L, lr = check_real(m, "m"), check_real(L, "L"), _lr(lr)
    if not 0 < m <= L:
        raise ValueError(f"need 0 < m <= L, got m={m}, L={L}")
    return max(abs(1 - lr * m), abs(1 - lr * L))


# --- stochastic gradients -----------------------------------------------------------------------


def step_sizes(kind: str, steps: int, lr0: float, t0: float = 10.0) -> Tensor:
    """Step sizes ``α_1, ..., α_steps`` of a schedule (float64).

    ``"constant"``: ``α_t = lr0``; ``"1/t"``: ``lr0 · t0 / (t0 + t)``; ``"1/sqrt(t)"``:
    ``lr0 · sqrt(t0 / (t0 + t))``. The ``1/t`` schedule meets both Robbins–Monro conditions
    {eq}`eq-opt-robbins-monro`; ``1/sqrt(t)`` only the first (``sum α_t² = ∞``); a constant
    only the first.
    """
    steps = check_int(steps, "steps", minimum=1)
    lr0, t0 = _lr(lr0), check_real(t0, "t0")
    if t0 <= 0:
        raise ValueError(f"t0 must be > 0, got {t0}")
    t = torch.arange(1, steps + 1, dtype=F64)
    if kind == "constant":
        return torch.full_like(t, lr0)
    if kind == "1/t":
        return lr0 * t0 / (t0 + t)
    if kind == "1/sqrt(t)":
        return lr0 * torch.sqrt(t0 / (t0 + t))
    raise ValueError(f"kind must be 'constant', '1/t' or '1/sqrt(t)', got {kind!r}")


def least_squares_problem(
    n: int = 512, noise: float = 0.5, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor]:
    """A two-parameter linear regression ``y = X w + noise`` with correlated features.

    Returns ``(X, y, w_star)`` in float64, where ``w_star`` minimises the empirical loss
    ``F(w) = ‖X w - y‖² / (2n)`` (the least-squares solution, not the generating weights).
    """
    n = check_int(n, "n", minimum=2)
    noise = check_real(noise, "noise", low=0)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    z = torch.randn(n, 2, generator=gen, dtype=F64)
    X = z @ torch.tensor([[1.0, 0.0], [0.6, 0.5]], dtype=F64)
    y = X @ torch.tensor([1.0, -1.0], dtype=F64) + noise * torch.randn(n, generator=gen, dtype=F64)
    w_star = torch.linalg.lstsq(X, y.unsqueeze(-1)).solution.squeeze(-1)
    return X, y, w_star


def _check_regression(X: object, y: object) -> tuple[Tensor, Tensor]:
    X = check_tensor(X, "X", ndim=2)
    y = check_tensor(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    return X, y


def minibatch_gradient_variance(X: object, y: object, w: object, batch_size: int) -> Tensor:
    """Covariance of the mini-batch gradient of ``F(w) = ‖Xw - y‖²/(2n)`` at ``w``, for a batch
    of ``B`` rows drawn uniformly *without* replacement:
    ``Cov = (S / B) · (n - B) / (n - 1)``, with ``S`` the (1/n-normalised) covariance of the
    per-example gradients {eq}`eq-opt-minibatch-variance`."""
    X, y = _check_regression(X, y)
    w = check_tensor(w, "w", ndim=1)
    n = X.shape[0]
    B = check_int(batch_size, "batch_size", minimum=1)
    if B > n:
        raise ValueError(f"batch_size must be at most n = {n}, got {B}")
    per_example = (X @ w - y).unsqueeze(-1) * X  # (n, d)
    centred = per_example - per_example.mean(0)
    S = centred.T @ centred / n
    return S / B * (n - B) / (n - 1)


def sgd_least_squares(
    X: object,
    y: object,
    batch_size: int,
    lr: Tensor,
    w0: object,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Mini-batch SGD on ``F(w) = ‖X w - y‖² / (2n)`` with the step sizes ``lr`` (one per step,
    e.g. from :func:`step_sizes`). Each batch is drawn without replacement, independently per
    step. Returns the trajectory ``(steps + 1, d)``."""
    X, y = _check_regression(X, y)
    lr = check_tensor(lr, "lr", ndim=1)
    if (lr <= 0).any():
        raise ValueError("every step size in lr must be > 0")
    w = check_tensor(w0, "w0", ndim=1).clone()
    n = X.shape[0]
    B = check_int(batch_size, "batch_size", minimum=1)
    if B > n:
        raise ValueError(f"batch_size must be at most n = {n}, got {B}")
    steps = len(lr)
    # Batch t is the first B entries of a uniformly random permutation of the rows.
    batches = torch.rand(steps, n, generator=generator, dtype=F64).argsort(dim=1)[:, :B]
    batches = batches.to(X.device)
    xs, ys = X[batches], y[batches]  # (steps, B, d), (steps, B)
    scale = (lr / B).tolist()
    out = torch.empty(steps + 1, w.shape[0], dtype=w.dtype, device=w.device)
    out[0] = w
    for t in range(steps):
        xb = xs[t]
        w = w - scale[t] * (xb.T @ (xb @ w - ys[t]))
        out[t + 1] = w
    return out


def polyak_average(trajectory: object) -> Tensor:
    """Running means ``w̄_t = (1/t) sum_{i=1}^t w_i`` of a trajectory ``(steps + 1, d)`` (the
    starting point ``w_0`` is left out); row ``t`` of the result is ``w̄_t``, row 0 is ``w_0``."""
    tr = check_tensor(trajectory, "trajectory", ndim=2)
    out = tr.clone()
    counts = torch.arange(1, tr.shape[0], dtype=tr.dtype, device=tr.device).unsqueeze(-1)
    out[1:] = torch.cumsum(tr[1:], dim=0) / counts
    return out


# --- games -------------------------------------------------------------------------------------

MINMAX_METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")


def _bilinear_grads(p: Tensor) -> tuple[Tensor, Tensor]:
    return p[..., 1], p[..., 0]  # f(x, y) = x y: ∂f/∂x = y, ∂f/∂y = x


def minmax_trajectory(
    method: str,
    lr: float,
    steps: int,
    start: tuple[float, float] = (1.0, 0.0),
    grads: Callable[[Tensor], tuple[Tensor, Tensor]] | None = None,
) -> Tensor:
    """Gradient descent in ``x``, ascent in ``y`` for ``min_x max_y f(x, y)``.

    ``grads(p) -> (∂f/∂x, ∂f/∂y)`` at ``p = (x, y)``; the default is the bilinear game
    ``f(x, y) = x y`` {eq}`eq-opt-bilinear`. Methods:

    * ``"simultaneous"``: both players step from the same point;
    * ``"alternating"``: ``x`` steps first, ``y`` then uses the new ``x``;
    * ``"extragradient"``: a trial step, then the real step with the trial point's gradients;
    * ``"optimistic"``: ``2 g_t - g_{t-1}`` in place of ``g_t`` (``g_0 = g_1``).

    Returns the trajectory of ``(x, y)``, shape ``(steps + 1, 2)``, float64.
    """
    if method not in MINMAX_METHODS:
        raise ValueError(f"method must be one of {MINMAX_METHODS}, got {method!r}")
    lr = _lr(lr)
    steps = check_int(steps, "steps", minimum=1)
    grads = _bilinear_grads if grads is None else grads
    if not callable(grads):
        raise TypeError("grads must be a callable p -> (df/dx, df/dy)")
    p = torch.tensor([check_real(v, "start") for v in start], dtype=F64)
    if p.shape != (2,):
        raise ValueError("start must be a pair (x, y)")
    out = torch.empty(steps + 1, 2, dtype=F64)
    out[0] = p
    prev = None
    for t in range(1, steps + 1):
        x, y = p[0], p[1]
        if method == "simultaneous":
            gx, gy = grads(p)
            p = torch.stack([x - lr * gx, y + lr * gy])
        elif method == "alternating":
            gx, _ = grads(p)
            x = x - lr * gx
            _, gy = grads(torch.stack([x, y]))
            p = torch.stack([x, y + lr * gy])
        elif method == "extragradient":
            gx, gy = grads(p)
            trial = torch.stack([x - lr * gx, y + lr * gy])
            gx, gy = grads(trial)
            p = torch.stack([x - lr * gx, y + lr * gy])
        else:  # optimistic
            gx, gy = grads(p)
            px, py = (gx, gy) if prev is None else prev
            prev = (gx, gy)
            p = torch.stack([x - lr * (2 * gx - px), y + lr * (2 * gy - py)])
        out[t] = p
    return out


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: object,
    fake: object,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP's penalty ``E[(‖∇D(x̂)‖₂ - 1)²]`` at ``x̂ = ε x_real + (1 - ε) x_fake``,
    ``ε ~ U[0, 1]`` per pair {eq}`eq-opt-gp`. Differentiable in the critic's parameters
    (``create_graph=True``). ``real`` and ``fake`` have shape ``(n, d)``."""
    if not callable(critic):
        raise TypeError("critic must be callable (a torch.nn.Module or a function)")
    real = check_tensor(real, "real", ndim=2)
    fake = check_tensor(fake, "fake", ndim=2)
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must match")
    eps = torch.rand(real.shape[0], 1, generator=generator, dtype=real.dtype).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    out = critic(x_hat)
    (g,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((g.norm(dim=-1) - 1) ** 2).mean()


# --- backpropagation by hand ------------------------------------------------------------------


def mlp_forward_backward(
    x: object, y: object, W1: object, b1: object, W2: object, b2: object
) -> tuple[Tensor, dict[str, Tensor]]:
    """Loss and gradients of a one-hidden-layer tanh network, by the chain rule written out.

    Forward (rows are examples, ``n`` of them)::

        a = x W1ᵀ + b1,   h = tanh(a),   ŷ = h W2ᵀ + b2,   L = ‖ŷ - y‖² / (2n)

    Backward (reverse mode: each line reuses the one above) {eq}`eq-opt-backprop`::

        δ_ŷ = (ŷ - y) / n,  ∂L/∂W2 = δ_ŷᵀ h,  ∂L/∂b2 = Σ δ_ŷ,
        δ_a = (δ_ŷ W2) ⊙ (1 - h²),  ∂L/∂W1 = δ_aᵀ x,  ∂L/∂b1 = Σ δ_a.

    Returns ``(L, {"W1": ..., "b1": ..., "W2": ..., "b2": ...})``.
    """
    x = check_tensor(x, "x", ndim=2)
    y = check_tensor(y, "y", ndim=2)
    W1, W2 = check_tensor(W1, "W1", ndim=2), check_tensor(W2, "W2", ndim=2)
    b1, b2 = check_tensor(b1, "b1", ndim=1), check_tensor(b2, "b2", ndim=1)
    if W1.shape[1] != x.shape[1] or b1.shape[0] != W1.shape[0] or W2.shape[1] != W1.shape[0]:
        raise ValueError("shapes do not chain: need W1 (h, d), b1 (h,), W2 (k, h) for x (n, d)")
    if b2.shape[0] != W2.shape[0] or y.shape != (x.shape[0], W2.shape[0]):
        raise ValueError("need b2 (k,) and y (n, k) for W2 (k, h)")
    n = x.shape[0]
    a = x @ W1.T + b1
    h = torch.tanh(a)
    y_hat = h @ W2.T + b2
    loss = ((y_hat - y) ** 2).sum() / (2 * n)
    d_yhat = (y_hat - y) / n
    d_a = (d_yhat @ W2) * (1 - h**2)
    grads = {"W1": d_a.T @ x, "b1": d_a.sum(0), "W2": d_yhat.T @ h, "b2": d_yhat.sum(0)}
    return loss, grads


# --- gradient clipping --------------------------------------------------------------------------

#: Added to the total norm before dividing, as ``torch.nn.utils.clip_grad_norm_`` does.
CLIP_EPS = 1e-6


def clip_grad_norm(grads: object, max_norm: float) -> tuple[list[Tensor], Tensor]:
    """Clip a list of gradient tensors by their **global** Euclidean norm {eq}`eq-opt-clip`.

    ``N = sqrt(sum over all tensors and entries of g²)``; every tensor is multiplied by
    ``min(1, max_norm / (N + 1e-6))``, so the direction of the full gradient is kept and only
    its length is capped. Returns ``(clipped copies, N)``; the inputs are not modified (unlike
    ``torch.nn.utils.clip_grad_norm_``, which scales ``p.grad`` in place).
    """
    if isinstance(grads, Tensor):
        grads = [grads]
    if not isinstance(grads, (list, tuple)) or len(grads) == 0:
        raise TypeError("grads must be a tensor or a non-empty list of tensors")
    grads = [check_tensor(g, f"grads[{i}]") for i, g in enumerate(grads)]
    max_norm = check_real(max_norm, "max_norm", positive=True)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = torch.clamp(max_norm / (total + CLIP_EPS), max=1.0)
    return [g * coef for g in grads], total


# --- maximum entropy (Lagrange multipliers, KKT) ------------------------------------------------


def _gibbs(values: Tensor, lam: float) -> Tensor:
    return torch.softmax(lam * values, dim=0)


def _solve_mean(values: Tensor, mean: float) -> float:
    """The λ with ``sum_i x_i softmax(λ x)_i = mean``: the mean is increasing in λ (its
    derivative is the variance), so bracket and bisect."""
    lo, hi = -1.0, 1.0
    while float(values @ _gibbs(values, lo)) > mean:
        lo *= 2
    while float(values @ _gibbs(values, hi)) < mean:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(values @ _gibbs(values, mid)) < mean:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * max(1.0, abs(mid)):
            break
    return 0.5 * (lo + hi)


def max_entropy(values: object, mean: float | None = None, *, at_most: bool = False) -> dict:
    """The maximum-entropy distribution on the finite set ``values`` {eq}`eq-opt-gibbs`.

    * ``mean=None``: no constraint but normalisation; the answer is uniform.
    * ``mean=μ``: the constraint ``E X = μ`` (``min < μ < max``); the answer is the Gibbs form
      ``p_i = exp(λ x_i) / Z(λ)`` with the multiplier λ solving the constraint.
    * ``at_most=True``: the inequality ``E X ≤ μ`` (KKT): the uniform distribution if its mean
      already satisfies it (inactive constraint, multiplier 0), else the equality solution.

    Returns ``{"p", "lam", "entropy"}`` (entropy in nats, λ a float).
    """
    x = check_tensor(values, "values", ndim=1).to(F64)
    if x.numel() < 2 or bool((x == x[0]).all()):
        raise ValueError("values needs at least two distinct points")
    if mean is None:
        if at_most:
            raise ValueError("at_most=True needs a mean bound")
        lam = 0.0
    else:
        mean = check_real(mean, "mean")
        lo, hi = float(x.min()), float(x.max())
        if not lo < mean < hi:
            raise ValueError(f"mean must lie strictly between {lo:g} and {hi:g}, got {mean:g}")
        inactive = at_most and float(x.mean()) <= mean
        lam = 0.0 if inactive else _solve_mean(x - x.mean(), mean - float(x.mean()))
    p = _gibbs(x, lam)
    entropy = -(p * torch.log(p.clamp_min(1e-300))).sum()
    return {"p": p, "lam": lam, "entropy": entropy}


# --- Taylor's theorem ---------------------------------------------------------------------------


def taylor_polynomial(derivatives: object, a: float, x: object) -> Tensor:
    """``P_k(x) = sum_{j=0}^k f^(j)(a) (x - a)^j / j!`` from ``derivatives = [f(a), f'(a), ...,
    f^(k)(a)]`` {eq}`eq-opt-taylor`; ``x`` a float tensor of any shape."""
    d = check_tensor(derivatives, "derivatives", ndim=1)
    a = check_real(a, "a")
    x = check_tensor(x, "x")
    h = x - a
    out = torch.zeros_like(x)
    for j in range(d.numel() - 1, -1, -1):  # Horner: ((c_k h/k + c_{k-1}) h/(k-1) + ...)
        out = d[j] + out * h / (j + 1)
    return out


def taylor_remainder_integral(
    next_derivative: Callable[[Tensor], Tensor], a: float, x: float, k: int, nodes: int = 64
) -> float:
    """The integral form of the remainder {eq}`eq-opt-taylor-integral`,
    ``R_k(x) = ∫_a^x f^(k+1)(t) (x - t)^k / k! dt``, by Gauss–Legendre quadrature with
    ``nodes`` points (exact for polynomial integrands of degree < 2·nodes)."""
    if not callable(next_derivative):
        raise TypeError("next_derivative must be a function t -> f^(k+1)(t)")
    a, x = check_real(a, "a"), check_real(x, "x")
    k = check_int(k, "k", minimum=0, maximum=170)  # 171! overflows a float
    nodes = check_int(nodes, "nodes", minimum=1, maximum=10_000)
    u, w = _legendre(nodes)
    t = a + (x - a) * (u + 1) / 2  # nodes mapped from [-1, 1] to [a, x]
    integrand = next_derivative(t) * (x - t) ** k / math.factorial(k)
    return float((w * integrand).sum() * (x - a) / 2)


def _legendre(n: int) -> tuple[Tensor, Tensor]:
    """Gauss–Legendre nodes and weights on [-1, 1] (Golub–Welsch: eigenvalues of the Jacobi
    matrix)."""
    i = torch.arange(1, n, dtype=F64)
    off = i / torch.sqrt(4 * i**2 - 1)
    J = torch.diag(off, 1) + torch.diag(off, -1)
    u, V = torch.linalg.eigh(J)
    return u, 2 * V[0] ** 2


# --- random Hessians: why saddles dominate ------------------------------------------------------


def random_hessian_minimum_fraction(
    d: int, samples: int = 100_000, *, seed: int = 0, device: str | torch.device = "cpu"
) -> dict:
    """Draw ``samples`` random symmetric ``d × d`` matrices from the Gaussian orthogonal ensemble
    (``(A + Aᵀ)/√2`` with i.i.d. standard normal ``A``) and report how many are positive
    definite — the Hessian of a *minimum* — rather than indefinite (a saddle).

    Returns ``{"fraction", "stderr", "negative_share"}``: the fraction with all eigenvalues
    ``> 0``, its binomial standard error, and the mean share of negative eigenvalues.
    """
    d = check_int(d, "d", minimum=1)
    samples = check_int(samples, "samples", minimum=1)
    if d * d * samples > 5 * 10**7:
        raise ValueError(f"d² · samples = {d * d * samples} is too large (at most 5e7)")
    device = resolve_device(device)
    gen = torch.Generator(device=device).manual_seed(check_int(seed, "seed", minimum=0))
    A = torch.randn(samples, d, d, generator=gen, dtype=F64, device=device)
    eig = torch.linalg.eigvalsh((A + A.transpose(-1, -2)) / math.sqrt(2))
    frac = float((eig > 0).all(dim=-1).double().mean())
    return {
        "fraction": frac,
        "stderr": math.sqrt(max(frac * (1 - frac), 1e-300) / samples),
        "negative_share": float((eig < 0).double().mean()),
    }


# == moved from explore/optimization.py ==
# The runs behind the chapter's figures (companion.explore.optimization draws them).
import numpy as np  # noqa: E402

OPTIMIZERS = ("momentum", "nesterov", "rmsprop", "adam")
SCHEDULES = ("constant", "1/t", "1/sqrt(t)")


def gd_quadratic_run(log10_kappa: float, ratio: float, steps: int = 60) -> dict:
    """Gradient descent on :func:`quadratic` with ``L = 1``, ``κ = 10^log10_kappa`` and step
    ``η = ratio · 2/L``.

    Returns the objective, the trajectory, the gaps ``f(x_k) - f*``, the PL bound
    ``(1 - 2mη(1 - Lη/2))^k (f(x_0) - f*)`` (``None`` when ``η ≥ 2/L``), and the measured
    per-step contraction of the gap over the last half of the run.
    """
    kappa = 10 ** check_real(log10_kappa, "log10_kappa", low=0, high=12)
    ratio = check_real(ratio, "ratio", positive=True)
    steps = check_int(steps, "steps", minimum=2)
    obj = quadratic(kappa=kappa, L=1.0)
    lr = 2.0 * ratio / obj.smoothness
    traj = optimize(GradientDescent(lr), obj, torch.tensor(obj.start, dtype=F64), steps)
    gaps = obj.value(traj).numpy()
    bound = None
    if ratio < 1:
        bound = gaps[0] * pl_rate(obj.strong_convexity, obj.smoothness, lr) ** np.arange(steps + 1)
    half = steps // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = float((gaps[-1] / gaps[half]) ** (1 / (steps - half)))
    return {
        "objective": obj,
        "lr": lr,
        "trajectory": traj,
        "gaps": gaps,
        "bound": bound,
        "measured": measured,
        "kappa": kappa,
    }


def sgd_least_squares_run(
    batch_size: int, schedule: str, steps: int = 1000, seed: int = 1
) -> dict[str, object]:
    """Mini-batch SGD (:func:`sgd_least_squares`) on :func:`least_squares_problem` from
    ``(-1.5, 1.5)`` with the step sizes :func:`step_sizes` ``(schedule, steps, lr0=0.3, t0=20)``,
    seeded by a private generator. Returns ``X``, ``w_star``, the Hessian ``H = XᵀX/n``, the
    trajectory, its Polyak average and the excess losses ``F(w) - F(w*)`` of both (numpy)."""
    X, y, w_star = least_squares_problem()
    lr = step_sizes(schedule, steps, lr0=0.3, t0=20.0)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    traj = sgd_least_squares(
        X, y, batch_size, lr, torch.tensor([-1.5, 1.5], dtype=F64), generator=gen
    )
    avg = polyak_average(traj)
    H = X.T @ X / X.shape[0]

    def excess(w):
        d = w - w_star
        return 0.5 * ((d @ H) * d).sum(-1)

    return {
        "X": X,
        "w_star": w_star,
        "H": H,
        "trajectory": traj,
        "average": avg,
        "excess": excess(traj).numpy(),
        "excess_avg": excess(avg).numpy(),
    }


def make_rule(name: str, lr, beta) -> UpdateRule:
    """The update rule ``name`` (one of :data:`OPTIMIZERS`) with learning rate ``lr`` and its
    decay parameter ``beta``: the momentum β (momentum, Nesterov), the smoothing α (RMSprop) or
    β₁ (Adam, β₂ = 0.999). Numbers or tensors of shape ``(n, 1)`` (a batch of settings)."""
    if name == "momentum":
        return Momentum(lr, beta)
    if name == "nesterov":
        return Momentum(lr, beta, nesterov=True)
    if name == "rmsprop":
        return RMSprop(lr, alpha=beta)
    if name == "adam":
        return Adam(lr, betas=(beta, 0.999))
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def adaptive_rule(name: str, lr, decay, eps) -> UpdateRule:
    """RMSprop (``decay`` = α) or Adam (``decay`` = β₂, β₁ = 0.9) with this ``eps``."""
    if name == "rmsprop":
        return RMSprop(lr, alpha=decay, eps=eps)
    if name == "adam":
        return Adam(lr, betas=(0.9, decay), eps=eps)
    raise ValueError(f"optimizer must be 'rmsprop' or 'adam', got {name!r}")


def batched_paths(objective: str, rule: UpdateRule, n: int, steps: int) -> np.ndarray:
    """``rule`` (a batch of ``n`` settings) run for ``steps`` steps from the start of
    ``OBJECTIVES[objective]``: a numpy array ``(steps + 1, n, 2)``; a run is cut (nan) from the
    step where it leaves the box ``|x| ≤ 1000``."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    obj = OBJECTIVES[objective]()
    x0 = torch.tensor(obj.start, dtype=F64).expand(check_int(n, "n"), 2)
    with np.errstate(all="ignore"):
        traj = optimize(rule, obj, x0, steps).numpy().copy()
    bad = ~np.isfinite(traj).all(-1) | (np.abs(traj) > 1e3).any(-1)
    bad = np.maximum.accumulate(bad, axis=0)
    traj[bad] = np.nan
    return traj


def bilinear_paths(lr: float, steps: int) -> dict[str, np.ndarray]:
    """The four schemes of :func:`minmax_trajectory` on ``f = x y`` from ``(1, 0)``, as the
    linear maps they are (closed form: fast enough for a live slider).

    With ``z = (x, y)`` and ``J z = (∂f/∂x, -∂f/∂y) = (y, -x)``: simultaneous ``z ← (I - ηJ) z``;
    extragradient ``z ← (I - ηJ + η²J²) z``; alternating ``z ← [[1, -η], [η, 1 - η²]] z``;
    optimistic ``z_{t+1} = (I - 2ηJ) z_t + ηJ z_{t-1}`` after a plain first step.
    """
    lr = check_real(lr, "lr")
    steps = check_int(steps, "steps")
    eye = np.eye(2)
    J = np.array([[0.0, 1.0], [-1.0, 0.0]])
    maps = {
        "simultaneous": eye - lr * J,
        "alternating": np.array([[1.0, -lr], [lr, 1.0 - lr * lr]]),
        "extragradient": eye - lr * J + lr * lr * J @ J,
    }
    out = {}
    for name, M in maps.items():
        z = np.empty((steps + 1, 2))
        z[0] = (1.0, 0.0)
        for t in range(steps):
            z[t + 1] = M @ z[t]
        out[name] = z
    z = np.empty((steps + 1, 2))
    z[0] = (1.0, 0.0)
    z[1] = (eye - lr * J) @ z[0]
    A, B = eye - 2 * lr * J, lr * J
    for t in range(1, steps):
        z[t + 1] = A @ z[t] + B @ z[t - 1]
    out["optimistic"] = z
    return {m: out[m] for m in MINMAX_METHODS}
