"""Figures and demo computations of the chapter *Information theory* (``book/information.md``).

What lives here
---------------
The computations are in :mod:`companion.information`: the two-mode mixture
``p = 0.4·N(-s/2, 1) + 0.6·N(s/2, 1)``, the forward and reverse KL to a Gaussian
(``eq-info-forward``, ``eq-info-reverse``), their L-BFGS fits ``fit_gaussian_kl``, and
``bsc_mutual_information``, ``gaussian_mi_quantised`` and ``js_gaussian_shift``. This module
draws:

* The chapter's four interactive figures, each a pair ``*_figure(param) -> go.Figure`` (one
  frame, numbers in the title) and ``*_explorer(mode=None)`` (the dual-mode figure of
  :func:`companion.figures.interactive`):

  - :func:`bernoulli_entropy_explorer`: H_b(p) against p (``eq-binary-entropy``);
  - :func:`kl_fit_explorer`: forward and reverse KL fits against the mode separation;
  - :func:`gaussian_mi_explorer`: a bivariate normal and I(X; Y) = -½ log(1 - ρ²)
    (``eq-gauss-mi``);
  - :func:`bsc_explorer`: the binary symmetric channel's I(X; Y) and capacity
    (``eq-bsc-capacity``).
* the plain figure :func:`js_kl_shift_figure`.

Conventions are the book's: nats (natural logarithm) unless a value is labelled bits;
``KL(p‖q) = E_p[log p/q]``; JS is the divergence, not its square root; σ is a standard
deviation.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch.distributions import Normal

from ..device import single_thread
from ..figures import Slider, interactive
from ..information import (
    MAX_SEPARATION,
    MIXTURE_WEIGHTS,
    GaussianFit,
    _real_in,
    binary_entropy,
    bsc_capacity,
    bsc_mutual_information,
    fit_gaussian_kl,
    gaussian_mutual_information,
    js_gaussian_shift,
    mixture_log_density,
)
from ..theme import OKABE_ITO
from ._plot import f32, figure, num

__all__ = [
    "MIXTURE_WEIGHTS",
    "MAX_SEPARATION",
    "bernoulli_entropy_figure",
    "bernoulli_entropy_explorer",
    "kl_fit_figure",
    "kl_fit_explorer",
    "gaussian_mi_figure",
    "gaussian_mi_explorer",
    "bsc_figure",
    "bsc_explorer",
    "js_kl_shift_figure",
]

LOG2 = math.log(2.0)
_F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _PURPLE, _SKY, _RED, _YELLOW, _GREY = OKABE_ITO

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
        dict(
            type="scatter",
            x=_P.numpy().astype(np.float32),
            y=_HB_CURVE,
            name="H_b(p)",
            line=dict(color=_BLUE),
        ),
        dict(
            type="scatter",
            x=[0.0, 1.0],
            y=[LOG2, LOG2],
            name="log 2 nats = 1 bit",
            mode="lines",
            line=dict(color=_GREY, dash="dash", width=1.5),
        ),
        dict(
            type="scatter",
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
    data.append(dict(type="scatter", x=[0.0], y=[0.0], yaxis="y2", showlegend=False, opacity=0))
    return figure(data, layout)


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
    return f32(Normal(torch.tensor(mu, dtype=_F64), sigma).log_prob(x).exp())


def _fit_curve(fit: GaussianFit, what: str, colour: str, dash: str = "solid") -> dict:
    """The Gaussian of one fit on the plotting grid, its parameters in the legend entry."""
    return dict(
        type="scatter",
        x=f32(_XK),
        y=_normal_pdf(_XK, fit.mu, fit.sigma),
        name=f"{what}: N({num(fit.mu, 2)}, {num(fit.sigma, 2)}²)",
        line=dict(color=colour, dash=dash),
    )


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
    data = [
        dict(
            type="scatter",
            x=f32(_XK),
            y=f32(mixture_log_density(_XK, s).exp()),
            name="p = 0.4·N(−s/2, 1) + 0.6·N(s/2, 1)",
            fill="tozeroy",
            line=dict(color=_GREY, width=1.5),
            fillcolor="rgba(127,127,127,0.25)",
        ),
        _fit_curve(fwd, "forward KL fit", _BLUE),
        _fit_curve(left, "reverse KL fit, left start", _ORANGE, "dash"),
        _fit_curve(right, "reverse KL fit, right start", _GREEN, "dot"),
    ]
    if abs(left.mu - right.mu) < 1e-3 and abs(left.sigma - right.sigma) < 1e-3:
        rev = f"KL(q‖p) = {num(right.kl, 4)} nats (both starts agree)"
    else:
        rev = (
            f"KL(q‖p) = {num(right.kl, 4)} nats (right start), "
            f"KL(q‖p) = {num(left.kl, 4)} nats (left start)"
        )
    layout = dict(
        title=dict(
            text=f"s = {s:.2f}   forward: KL(p‖q) = {num(fwd.kl, 4)} nats<br>reverse: {rev}",
            font=dict(size=14),
        ),
        xaxis=dict(title=dict(text="x"), range=[-9, 9]),
        yaxis=dict(title=dict(text="density"), range=[0, 0.68]),
        legend=dict(x=0.01, y=0.99, font=dict(size=12)),
        hovermode=False,
    )
    return figure(data, layout)


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
        dict(
            type="scatter",
            x=x.numpy().astype(np.float32),
            y=y.numpy().astype(np.float32),
            mode="markers",
            name="draws",
            marker=dict(size=5, color=_BLUE, opacity=0.55),
        ),
        dict(
            type="scatter",
            x=np.concatenate([e1x, [np.nan], e2x]).astype(np.float32),
            y=np.concatenate([e1y, [np.nan], e2y]).astype(np.float32),
            mode="lines",
            name="contours holding 39% and 86% of the mass",
            line=dict(color=_ORANGE, width=2),
        ),
        dict(
            type="scatter",
            x=_RHO_CURVE.numpy().astype(np.float32),
            y=_MI_CURVE,
            mode="lines",
            name="−½ log(1 − ρ²)",
            line=dict(color=_GREEN),
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
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
    return figure(data, layout)


def gaussian_mi_explorer(mode: str | None = None, *, steps: int = 23):
    """The chapter's mutual-information figure: ρ on [-0.99, 0.99] (23 steps include 0)."""
    return interactive(
        gaussian_mi_figure,
        Slider("rho", -_RHO_MAX, _RHO_MAX, value=0.81, steps=steps, label="ρ"),
        mode=mode,
        height=500,
    )


# ----------------------------------------------------------------------------------------------
# figure 4: the binary symmetric channel


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
        dict(type="scatter", x=f32(_A), y=curve, name="I(X; Y)", line=dict(color=_BLUE)),
        dict(
            type="scatter",
            x=[0.5],
            y=[cap],
            mode="markers",
            name="maximum = capacity C",
            marker=dict(size=11, color=_RED),
        ),
        dict(
            type="scatter",
            x=_EPS_CURVE.numpy().astype(np.float32),
            y=_CAP_CURVE,
            name="C(ε) = 1 − H_b(ε) bits",
            line=dict(color=_GREEN),
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
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
    return figure(data, layout)


def bsc_explorer(mode: str | None = None, *, steps: int = 41):
    """The chapter's channel figure: a slider on the crossover probability ε over [0, 1]."""
    return interactive(
        bsc_figure,
        Slider("eps", 0.0, 1.0, value=0.1, steps=steps, label="ε", fmt=".3f"),
        mode=mode,
    )


# ----------------------------------------------------------------------------------------------
# Jensen–Shannon vs KL for two shifted Gaussians (a plain figure)


@single_thread()
def js_kl_shift_figure() -> go.Figure:
    """KL and JS between N(0, 1) and N(δ, 1) against δ: KL = δ²/2 grows, JS levels off at log 2."""
    delta = torch.linspace(0.0, 8.0, 161, dtype=_F64)
    js = js_gaussian_shift(delta).numpy().astype(np.float32)
    kl = (0.5 * delta**2).numpy().astype(np.float32)
    d = delta.numpy().astype(np.float32)
    data = [
        dict(type="scatter", x=d, y=kl, name="KL(p‖q) = δ²/2", line=dict(color=_ORANGE)),
        dict(type="scatter", x=d, y=js, name="JS(p‖q)", line=dict(color=_BLUE)),
        dict(
            type="scatter",
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
    return figure(data, layout)
