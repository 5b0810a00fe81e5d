"""Figures and demo computations of the chapter *Information theory* (``book/information.md``).

What lives here
---------------
* **Forward vs reverse KL** (the chapter's ``eq-info-forward`` and ``eq-info-reverse``): a
  two-component Gaussian mixture ``p = 0.4·N(-s/2, 1) + 0.6·N(s/2, 1)`` (``s`` the separation of
  the modes, σ = 1 the components' standard deviation), the two KL divergences between ``p`` and a
  single Gaussian ``q = N(μ, σ²)`` computed by quadrature on a fine grid, and
  :func:`fit_gaussian_kl`, which minimises either one over ``(μ, log σ)`` with PyTorch's L-BFGS
  (a quasi-Newton form of gradient descent). Fits are cached, so a slider that revisits a
  separation costs nothing.
* The chapter's four interactive figures, each a pair ``*_figure(param) -> go.Figure`` (one
  frame, numbers in the title) and ``*_explorer(mode=None)`` (the dual-mode figure of
  :func:`companion.figures.interactive`):

  - :func:`bernoulli_entropy_explorer`: H_b(p) against p (``eq-binary-entropy``);
  - :func:`kl_fit_explorer`: forward and reverse KL fits against the mode separation;
  - :func:`gaussian_mi_explorer`: a bivariate normal and I(X; Y) = -½ log(1 - ρ²)
    (``eq-gauss-mi``);
  - :func:`bsc_explorer`: the binary symmetric channel's I(X; Y) and capacity
    (``eq-bsc-capacity``).
* Small computations the chapter shows: :func:`bsc_mutual_information` (from the joint table),
  :func:`gaussian_mi_quantised` (the mutual information of a binned bivariate normal),
  :func:`js_gaussian_shift` (Jensen–Shannon between N(0, 1) and N(δ, 1) by quadrature) and the
  plain figure :func:`js_kl_shift_figure`.

Conventions are the book's: nats (natural logarithm) unless a value is labelled bits;
``KL(p‖q) = E_p[log p/q]``; JS is the divergence, not its square root; σ is a standard
deviation.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .._validate import check_int, check_real
from ..device import single_thread
from ..figures import Slider, interactive
from ..information import (
    binary_entropy,
    bsc_capacity,
    gaussian_mutual_information,
    mutual_information,
)
from ..theme import OKABE_ITO

__all__ = [
    "MIXTURE_WEIGHTS",
    "MAX_SEPARATION",
    "mixture_log_density",
    "kl_forward",
    "kl_reverse",
    "GaussianFit",
    "fit_gaussian_kl",
    "bernoulli_entropy_figure",
    "bernoulli_entropy_explorer",
    "kl_fit_figure",
    "kl_fit_explorer",
    "gaussian_mi_figure",
    "gaussian_mi_explorer",
    "gaussian_mi_quantised",
    "bsc_mutual_information",
    "bsc_figure",
    "bsc_explorer",
    "js_gaussian_shift",
    "js_kl_shift_figure",
]

LOG2 = math.log(2.0)
_F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _PURPLE, _SKY, _RED, _YELLOW, _GREY = OKABE_ITO

# ----------------------------------------------------------------------------------------------
# argument checks


def _real_in(value: object, name: str, low: float, high: float, *, closed: bool = True) -> float:
    """``value`` as a float, checked to be a finite real number in [low, high] (or (low, high))."""
    x = check_real(value, name)
    inside = low <= x <= high if closed else low < x < high
    if not inside:
        interval = f"[{low:g}, {high:g}]" if closed else f"({low:g}, {high:g})"
        raise ValueError(f"{name} must lie in {interval}; got {x:g}")
    return x


def _num(x: float, digits: int) -> str:
    """``x`` rounded for display, without a stray minus sign on zero (-0.0000 -> 0.0000)."""
    v = round(x, digits)
    return f"{(0.0 if v == 0 else v):.{digits}f}"


def _scatter(**trace) -> dict:
    """A scatter trace as a plain dict (the figures skip plotly's slow validation; the tests
    validate them)."""
    return dict(type="scatter", **trace)


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """``go.Figure`` without property validation: several times faster, which keeps a live
    slider update within budget. Every figure here is validated in the tests instead."""
    return go.Figure(dict(data=data, layout=layout), _validate=False)


def _choice(value: object, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


# ----------------------------------------------------------------------------------------------
# the two-mode mixture and the two KL objectives

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
_U_W = torch.exp(-0.5 * _U**2) / math.sqrt(2 * math.pi) * (_U[1] - _U[0])


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
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    return _log_mix(x.to(_F64), s)


def _expect_under_p(f, separation: float) -> torch.Tensor:
    """E_p[f(x)] under the mixture: one trapezoidal rule per (unit-variance) component."""
    nodes = _means(separation).unsqueeze(-1) + _U  # (2, K)
    values = f(nodes)  # (2, K)
    return (_LOG_W.exp() * (values * _U_W).sum(-1)).sum()


def _log_normal(x: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    return -0.5 * ((x - mu) * torch.exp(-log_sigma)) ** 2 - log_sigma - _LOG_SQRT_2PI


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
    iterations = int(opt.state[opt._params[0]].get("n_iter", 0))
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


# ----------------------------------------------------------------------------------------------
# figure 1: Bernoulli entropy

_P = torch.linspace(0.0, 1.0, 201, dtype=_F64)
_HB_CURVE = binary_entropy(_P).numpy().astype(np.float32)


@single_thread()
def bernoulli_entropy_figure(p: float) -> go.Figure:
    """H_b(p) against p, the current p marked; the title gives H_b(p) in nats and in bits."""
    p = _real_in(p, "p", 0.0, 1.0)
    h = float(binary_entropy(p))
    data = [
        _scatter(
            x=_P.numpy().astype(np.float32),
            y=_HB_CURVE,
            name="H_b(p)",
            line=dict(color=_BLUE),
        ),
        _scatter(
            x=[0.0, 1.0],
            y=[LOG2, LOG2],
            name="log 2 nats = 1 bit",
            mode="lines",
            line=dict(color=_GREY, dash="dash", width=1.5),
        ),
        _scatter(
            x=[p, p],
            y=[0.0, h],
            name="current p",
            mode="lines+markers",
            marker=dict(size=[0, 11], color=_ORANGE),
            line=dict(color=_ORANGE, width=1.5, dash="dot"),
        ),
    ]
    top = 0.75
    layout = dict(
        title=dict(
            text=f"p = {p:.3f}:  H_b(p) = {h:.6f} nats = {h / LOG2:.6f} bits",
            font=dict(size=14),
        ),
        xaxis=dict(title=dict(text="p = P(X = 1)"), range=[-0.02, 1.02]),
        yaxis=dict(title=dict(text="entropy (nats)"), range=[0, top]),
        yaxis2=dict(
            title=dict(text="entropy (bits)"),
            range=[0, top / LOG2],
            overlaying="y",
            side="right",
            showgrid=False,
            tickmode="linear",
            tick0=0,
            dtick=0.2,
        ),
        legend=dict(x=0.5, xanchor="center", y=0.02, yanchor="bottom"),
        hovermode=False,
        margin=dict(r=60),
    )
    # An invisible trace on the right axis, so plotly draws the bits scale.
    data.append(_scatter(x=[0.0], y=[0.0], yaxis="y2", showlegend=False, opacity=0))
    return _figure(data, layout)


def bernoulli_entropy_explorer(mode: str | None = None, *, steps: int = 41):
    """The chapter's Bernoulli-entropy figure: a slider on p over [0, 1] (ends included)."""
    return interactive(
        bernoulli_entropy_figure,
        Slider("p", 0.0, 1.0, value=0.3, steps=steps, label="p", fmt=".3f"),
        mode=mode,
    )


# ----------------------------------------------------------------------------------------------
# figure 2: forward vs reverse KL

_XK = torch.linspace(-9.0, 9.0, 301, dtype=_F64)


def _normal_pdf(x: torch.Tensor, mu: float, sigma: float) -> np.ndarray:
    z = (x - mu) / sigma
    return (torch.exp(-0.5 * z**2) / (sigma * math.sqrt(2 * math.pi))).numpy().astype(np.float32)


@single_thread()
def kl_fit_figure(separation: float) -> go.Figure:
    """The mixture p, its forward-KL Gaussian fit and its reverse-KL fits from both starts.

    The title gives ``KL(p‖q)`` at the forward fit and ``KL(q‖p)`` at each reverse fit (one
    value, marked "both starts agree", when both starts reach the same point), in nats.
    """
    s = _real_in(separation, "separation", 0.0, MAX_SEPARATION)
    fwd = fit_gaussian_kl(s, "forward")
    left = fit_gaussian_kl(s, "reverse", start="left")
    right = fit_gaussian_kl(s, "reverse", start="right")
    one_optimum = abs(left.mu - right.mu) < 1e-3 and abs(left.sigma - right.sigma) < 1e-3
    p_pdf = torch.exp(_log_mix(_XK, s)).numpy().astype(np.float32)
    x = _XK.numpy().astype(np.float32)

    def label(fit: GaussianFit, what: str) -> str:
        return f"{what}: N({_num(fit.mu, 2)}, {_num(fit.sigma, 2)}²)"

    data = [
        _scatter(
            x=x,
            y=p_pdf,
            name="p = 0.4·N(−s/2, 1) + 0.6·N(s/2, 1)",
            fill="tozeroy",
            line=dict(color=_GREY, width=1.5),
            fillcolor="rgba(127,127,127,0.25)",
        ),
        _scatter(
            x=x,
            y=_normal_pdf(_XK, fwd.mu, fwd.sigma),
            name=label(fwd, "forward KL fit"),
            line=dict(color=_BLUE),
        ),
        _scatter(
            x=x,
            y=_normal_pdf(_XK, left.mu, left.sigma),
            name=label(left, "reverse KL fit, left start"),
            line=dict(color=_ORANGE, dash="dash"),
        ),
        _scatter(
            x=x,
            y=_normal_pdf(_XK, right.mu, right.sigma),
            name=label(right, "reverse KL fit, right start"),
            line=dict(color=_GREEN, dash="dot"),
        ),
    ]
    if one_optimum:
        rev = f"KL(q‖p) = {_num(right.kl, 4)} nats (both starts agree)"
    else:
        rev = (
            f"KL(q‖p) = {_num(right.kl, 4)} nats (right start), "
            f"KL(q‖p) = {_num(left.kl, 4)} nats (left start)"
        )
    layout = dict(
        title=dict(
            text=f"s = {s:.2f}   forward: KL(p‖q) = {_num(fwd.kl, 4)} nats<br>reverse: {rev}",
            font=dict(size=14),
        ),
        xaxis=dict(title=dict(text="x"), range=[-9, 9]),
        yaxis=dict(title=dict(text="density"), range=[0, 0.68]),
        legend=dict(x=0.01, y=0.99, font=dict(size=12)),
        hovermode=False,
    )
    return _figure(data, layout)


def kl_fit_explorer(mode: str | None = None, *, steps: int = 33):
    """The chapter's forward/reverse KL figure: separation s on [0, 8].

    Live, the slider moves in steps of 0.1 so that each fit is computed once and then cached.
    """
    return interactive(
        kl_fit_figure,
        Slider("separation", 0.0, 8.0, value=6.0, steps=steps, live_steps=80, label="s"),
        mode=mode,
    )


# ----------------------------------------------------------------------------------------------
# figure 3: mutual information of a bivariate normal

_RHO_MAX = 0.99
_gen = torch.Generator().manual_seed(20240)
_Z = torch.randn(2, 300, generator=_gen, dtype=_F64)
_THETA = torch.linspace(0.0, 2.0 * math.pi, 121, dtype=_F64)
_RHO_CURVE = torch.linspace(-_RHO_MAX, _RHO_MAX, 199, dtype=_F64)
_MI_CURVE = gaussian_mutual_information(_RHO_CURVE).numpy().astype(np.float32)


def _ellipse(rho: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The contour {v : vᵀ Σ⁻¹ v = radius²} of N(0, Σ), Σ = [[1, ρ], [ρ, 1]]."""
    u, v = radius * torch.cos(_THETA), radius * torch.sin(_THETA)
    x = u
    y = rho * u + math.sqrt(1.0 - rho**2) * v  # (x, y) = L (u, v) with L the Cholesky factor
    return x.numpy().astype(np.float32), y.numpy().astype(np.float32)


_MI_LAYOUT: dict | None = None


def _mi_layout() -> dict:
    """The two-panel layout, built once (make_subplots is slow; the live figure reuses it)."""
    global _MI_LAYOUT
    if _MI_LAYOUT is None:
        fig = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.5, 0.5],
            horizontal_spacing=0.12,
            subplot_titles=("draws of (X, Y) and two contours", "I(X; Y) = −½ log(1 − ρ²)"),
        )
        fig.update_xaxes(title_text="x", range=[-4, 4], row=1, col=1)
        fig.update_yaxes(title_text="y", range=[-4, 4], scaleanchor="x", scaleratio=1, row=1, col=1)
        fig.update_xaxes(title_text="ρ", range=[-1, 1], row=1, col=2)
        fig.update_yaxes(title_text="I(X; Y) (nats)", range=[0, 2.05], row=1, col=2)
        fig.update_layout(showlegend=False, hovermode=False)
        fig.update_annotations(font_size=13)
        layout = fig.layout.to_plotly_json()
        layout.pop("template", None)
        _MI_LAYOUT = layout
    return copy.deepcopy(_MI_LAYOUT)


@single_thread()
def gaussian_mi_figure(rho: float) -> go.Figure:
    """Draws and contours of N(0, [[1, ρ], [ρ, 1]]) beside the curve I(ρ) = -½ log(1 - ρ²).

    The title gives I(X; Y) in nats and bits for the current ρ (``|ρ| < 1``).
    """
    rho = _real_in(rho, "rho", -1.0, 1.0, closed=False)
    mi = float(gaussian_mutual_information(rho))
    x = _Z[0]
    y = rho * _Z[0] + math.sqrt(1.0 - rho**2) * _Z[1]
    e1x, e1y = _ellipse(rho, 1.0)
    e2x, e2y = _ellipse(rho, 2.0)
    data = [
        _scatter(
            x=x.numpy().astype(np.float32),
            y=y.numpy().astype(np.float32),
            mode="markers",
            name="draws",
            marker=dict(size=5, color=_BLUE, opacity=0.55),
        ),
        _scatter(
            x=np.concatenate([e1x, [np.nan], e2x]).astype(np.float32),
            y=np.concatenate([e1y, [np.nan], e2y]).astype(np.float32),
            mode="lines",
            name="contours holding 39% and 86% of the mass",
            line=dict(color=_ORANGE, width=2),
        ),
        _scatter(
            x=_RHO_CURVE.numpy().astype(np.float32),
            y=_MI_CURVE,
            mode="lines",
            name="−½ log(1 − ρ²)",
            line=dict(color=_GREEN),
            xaxis="x2",
            yaxis="y2",
        ),
        _scatter(
            x=[rho],
            y=[mi],
            mode="markers",
            name="current ρ",
            marker=dict(size=11, color=_RED),
            xaxis="x2",
            yaxis="y2",
        ),
    ]
    layout = dict(
        _mi_layout(),
        title=dict(
            text=(
                f"ρ = {rho:.2f}:  I(X; Y) = −½ log(1 − ρ²) = {mi:.4f} nats = {mi / LOG2:.4f} bits"
            ),
            font=dict(size=14),
        ),
    )
    return _figure(data, layout)


def gaussian_mi_explorer(mode: str | None = None, *, steps: int = 23):
    """The chapter's mutual-information figure: ρ on [-0.99, 0.99] (23 steps include 0)."""
    return interactive(
        gaussian_mi_figure,
        Slider("rho", -_RHO_MAX, _RHO_MAX, value=0.81, steps=steps, label="ρ"),
        mode=mode,
        height=500,
    )


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
    wx = 0.5 * (hi - lo) * w * torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    r = math.sqrt((1.0 - rho) * (1.0 + rho))
    cdf = torch.special.ndtr((y_edges - rho * x.unsqueeze(-1)) / r)  # (bins, nodes, bins + 1)
    joint = (wx.unsqueeze(-1) * (cdf[..., 1:] - cdf[..., :-1])).sum(dim=1)
    joint = joint.clamp_min(0.0)
    return float(mutual_information(joint / joint.sum()))


# ----------------------------------------------------------------------------------------------
# figure 4: the binary symmetric channel


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


_A = torch.linspace(0.0, 1.0, 201, dtype=_F64)
_EPS_CURVE = torch.linspace(0.0, 1.0, 201, dtype=_F64)
_CAP_CURVE = bsc_capacity(_EPS_CURVE).numpy().astype(np.float32)
_BSC_LAYOUT: dict | None = None


def _bsc_layout() -> dict:
    global _BSC_LAYOUT
    if _BSC_LAYOUT is None:
        fig = make_subplots(
            rows=1,
            cols=2,
            horizontal_spacing=0.12,
            subplot_titles=(
                "I(X; Y) against the input; its peak is C",
                "capacity C(ε) = 1 − H_b(ε)",
            ),
        )
        fig.update_xaxes(title_text="P(X = 1)", range=[-0.02, 1.02], row=1, col=1)
        fig.update_yaxes(title_text="bits per use", range=[0, 1.08], row=1, col=1)
        fig.update_xaxes(title_text="crossover probability ε", range=[-0.02, 1.02], row=1, col=2)
        fig.update_yaxes(title_text="bits per use", range=[0, 1.08], row=1, col=2)
        fig.update_layout(showlegend=False, hovermode=False)
        fig.update_annotations(font_size=13)
        layout = fig.layout.to_plotly_json()
        layout.pop("template", None)
        _BSC_LAYOUT = layout
    return copy.deepcopy(_BSC_LAYOUT)


@single_thread()
def bsc_figure(eps: float) -> go.Figure:
    """Binary symmetric channel with crossover ``eps``: I(X; Y) against the input distribution
    (its maximum, at P(X = 1) = ½, is the capacity) and the capacity curve, in bits."""
    eps = _real_in(eps, "eps", 0.0, 1.0)
    curve = bsc_mutual_information(_A, eps).numpy().astype(np.float32)
    cap = float(bsc_capacity(eps))
    data = [
        _scatter(x=_A.numpy().astype(np.float32), y=curve, name="I(X; Y)", line=dict(color=_BLUE)),
        _scatter(
            x=[0.5],
            y=[cap],
            mode="markers",
            name="maximum = capacity C",
            marker=dict(size=11, color=_RED),
        ),
        _scatter(
            x=_EPS_CURVE.numpy().astype(np.float32),
            y=_CAP_CURVE,
            name="C(ε) = 1 − H_b(ε) bits",
            line=dict(color=_GREEN),
            xaxis="x2",
            yaxis="y2",
        ),
        _scatter(
            x=[eps],
            y=[cap],
            mode="markers",
            name="current ε",
            marker=dict(size=11, color=_ORANGE),
            xaxis="x2",
            yaxis="y2",
        ),
    ]
    layout = dict(
        _bsc_layout(),
        title=dict(
            text=(
                f"ε = {eps:.3f}:  C = 1 − H_b(ε) = {cap:.4f} bits per use "
                f"= {cap * LOG2:.4f} nats per use"
            ),
            font=dict(size=14),
        ),
    )
    return _figure(data, layout)


def bsc_explorer(mode: str | None = None, *, steps: int = 41):
    """The chapter's channel figure: a slider on the crossover probability ε over [0, 1]."""
    return interactive(
        bsc_figure,
        Slider("eps", 0.0, 1.0, value=0.1, steps=steps, label="ε", fmt=".3f"),
        mode=mode,
    )


# ----------------------------------------------------------------------------------------------
# Jensen–Shannon vs KL for two shifted Gaussians (a plain figure)

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
    log_p = -0.5 * x**2 - _LOG_SQRT_2PI
    log_q = -0.5 * (x - d[:, None]) ** 2 - _LOG_SQRT_2PI
    log_m = torch.logaddexp(log_p, log_q) - LOG2
    integrand = 0.5 * (log_p.exp() * (log_p - log_m) + log_q.exp() * (log_q - log_m))
    out = torch.trapezoid(integrand, _XJ, dim=-1)
    return out[0] if scalar else out


@single_thread()
def js_kl_shift_figure() -> go.Figure:
    """KL and JS between N(0, 1) and N(δ, 1) against δ: KL = δ²/2 grows, JS levels off at log 2."""
    delta = torch.linspace(0.0, 8.0, 161, dtype=_F64)
    js = js_gaussian_shift(delta).numpy().astype(np.float32)
    kl = (0.5 * delta**2).numpy().astype(np.float32)
    d = delta.numpy().astype(np.float32)
    data = [
        _scatter(x=d, y=kl, name="KL(p‖q) = δ²/2", line=dict(color=_ORANGE)),
        _scatter(x=d, y=js, name="JS(p‖q)", line=dict(color=_BLUE)),
        _scatter(
            x=[0, 8],
            y=[LOG2, LOG2],
            name="log 2",
            mode="lines",
            line=dict(color=_GREY, dash="dash", width=1.5),
        ),
    ]
    layout = dict(
        title=dict(
            text="p = N(0, 1), q = N(δ, 1): KL keeps growing, JS stops at log 2", font=dict(size=14)
        ),
        xaxis=dict(title=dict(text="shift δ"), range=[0, 8]),
        yaxis=dict(title=dict(text="nats"), range=[0, 2.2]),
        legend=dict(x=0.02, y=0.98),
        hovermode=False,
        height=380,
    )
    return _figure(data, layout)
