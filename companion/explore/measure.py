"""Figures of the chapter "Measure theory".

The computations (finite σ-algebras, the simple-function integral, the push-forward maps and
densities, the ReLU cdf, the KL of a discretised singular pair) are in
:mod:`companion.sampling`; SciPy provides the reference cdfs some figures draw.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import torch
from scipy import stats
from torch.distributions import Normal

from .. import sampling as smp
from .._validate import check_real
from ..figures import Choice, Slider, interactive
from ..sampling import (
    PUSHFORWARD_MAPS,
    relu_cdf,
    simple_function_integral,
)
from ..sampling import pushforward_map as transform
from ..theme import OKABE_ITO, side_by_side
from ._plot import f32, figure, legend

__all__ = [
    "lebesgue_figure",
    "lebesgue_explorer",
    "TRANSFORMS",
    "pushforward_figure",
    "pushforward_explorer",
    "mixed_cdf_figure",
    "mixed_cdf_explorer",
]

TRANSFORMS = PUSHFORWARD_MAPS

F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _SKY, _RED = (OKABE_ITO[i] for i in (0, 1, 2, 4, 5))

# --- the Lebesgue integral ---------------------------------------------------------------------


_LX = np.linspace(0, 1, 1601)
_LF = 4 * _LX * (1 - _LX)


def _lebesgue_traces(n: int) -> list[dict]:
    phi = np.floor(_LF * 2**n) / 2**n
    edges = np.linspace(0, 1, 2**n + 1)
    lows = smp.riemann_lower_heights(n)
    levels_y = [v for k in range(1, 2**n) for v in (k / 2**n, k / 2**n, None)]
    levels_x = [v for _ in range(1, 2**n) for v in (0.0, 1.0, None)]
    return [
        dict(
            type="scatter",
            x=levels_x,
            y=levels_y,
            mode="lines",
            name="levels k/2ⁿ",
            line=dict(color="rgba(128,128,128,0.35)", width=1),
        ),
        dict(
            type="scatter",
            x=f32(_LX),
            y=f32(phi),
            name="simple function φₙ",
            fill="tozeroy",
            line=dict(color=_BLUE, width=1.5, shape="hv"),
        ),
        dict(
            type="scatter",
            x=f32(np.repeat(edges, 2)[1:-1]),
            y=f32(np.repeat(lows, 2)),
            name="Riemann lower sum",
            line=dict(color=_ORANGE, dash="dot", width=1.5),
        ),
        dict(
            type="scatter",
            x=f32(_LX),
            y=f32(_LF),
            name="f(x) = 4x(1 − x)",
            line=dict(color=_RED, width=2.5),
        ),
    ]


def lebesgue_figure(n: float) -> go.Figure:
    """f(x) = 4x(1 − x), its simple-function approximation from below with 2ⁿ levels, and the
    Riemann lower sum with 2ⁿ equal pieces of the domain, each with its integral."""
    n = round(check_real(n, "n"))
    if not 0 <= n <= 10:
        raise ValueError(f"n must lie in [0, 10]; got {n}")
    riemann = float(np.sum(smp.riemann_lower_heights(n)) / 2**n)
    layout = dict(
        title=dict(
            text=(
                f"2ⁿ = {2**n} levels:  ∫φₙ dλ = {simple_function_integral(n):.5f},<br>Riemann "
                f"lower sum {riemann:.5f},  ∫f = 2/3 = {2 / 3:.5f}"
            )
        ),
        xaxis=dict(title=dict(text="x"), range=[0, 1]),
        yaxis=dict(title=dict(text="value"), range=[0, 1.05]),
        hovermode=False,
        legend=dict(x=0.5, y=-0.15, xanchor="center", yanchor="top", orientation="h"),
        margin=dict(t=90, b=100),
    )
    return figure(_lebesgue_traces(n), layout)


def lebesgue_explorer(mode: str | None = None):
    return interactive(
        lebesgue_figure,
        Slider("n", 0, 7, value=2, steps=8, label="n (2ⁿ levels)", fmt=".0f"),
        mode=mode,
        height=480,
    )


# --- push-forward and change of variables ------------------------------------------------------

_PF_SAMPLES = 20_000


@functools.lru_cache(maxsize=1)
def _pf_noise() -> torch.Tensor:
    return torch.randn(_PF_SAMPLES, generator=torch.Generator().manual_seed(0), dtype=F64)


def _pushforward_traces(f, grid, dens, ys_sample, lo: float, hi: float) -> tuple[list, float]:
    """The map, the histogram of the samples and the change-of-variables density; and the
    height the right panel needs."""
    edges = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(ys_sample.numpy(), edges)
    hist = counts / (_PF_SAMPLES * np.diff(edges))
    xs = torch.linspace(-3.5, 3.5, 141, dtype=F64)
    fx = f(xs)
    dn = dens.numpy()
    top = float(max(hist.max(), np.nanmax(np.where(np.isfinite(dn), dn, np.nan))))
    right = dict(xaxis="x2", yaxis="y2")
    traces = [
        dict(
            type="scatter",
            x=f32(xs),
            y=f32(fx),
            name="y = f_t(x)",
            line=dict(color=_BLUE),
        ),
        dict(
            type="bar",
            x=f32(0.5 * (edges[1:] + edges[:-1])),
            y=f32(hist),
            width=float(edges[1] - edges[0]),
            marker=dict(color=_SKY),
            opacity=0.6,
            name="histogram of f_t(X)",
            **right,
        ),
        dict(
            type="scatter",
            x=f32(grid),
            y=f32(dens.clamp(max=10)),
            name="p_Y by the change-of-variables formula",
            line=dict(color=_RED),
            **right,
        ),
    ]
    return traces, top


def pushforward_figure(name: str, t: float) -> go.Figure:
    """X ~ N(0, 1) and Y = f_t(X): the map (left); a histogram of 20 000 values of f_t(X)
    against the change-of-variables density (right)."""
    f = transform(name, t)
    base = Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    ys_sample = f(_pf_noise())
    lo, hi = (float(v) for v in torch.quantile(ys_sample, torch.tensor([0.003, 0.997], dtype=F64)))
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    grid = torch.linspace(lo, hi, 241, dtype=F64)
    dens = smp.pushforward_density(f, base.log_prob, grid, support=(-9.0, 9.0), grid=1201)
    preimages = smp.count_preimages(f, grid, support=(-9.0, 9.0))
    traces, top = _pushforward_traces(f, grid, dens, ys_sample, lo, hi)
    layout = side_by_side(
        ("the map x ↦ y = f_t(x)", "density of Y = f_t(X), X ~ N(0, 1)"), split=0.4, gap=0.1
    )
    layout.update(
        title=dict(
            text=(
                f"f_t(x) = {TRANSFORMS[name][0]},  t = {t:.2f}:  up to {preimages} "
                f"preimage{'s' if preimages > 1 else ''} per y"
                + ("  (p_Y is infinite where f′ = 0)" if preimages > 1 else "")
            )
        ),
        bargap=0,
        hovermode=False,
        legend=dict(orientation="h", x=0.0, y=-0.18, yanchor="top"),
        margin=dict(b=100),
    )
    layout["xaxis"].update(range=[-3.5, 3.5], title=dict(text="x"))
    layout["yaxis"].update(range=[-4, 8], title=dict(text="y"))
    layout["xaxis2"].update(range=[lo, hi], title=dict(text="y"))
    layout["yaxis2"].update(range=[0, min(1.15 * top, 2.5)])
    return figure(traces, layout)


def pushforward_explorer(mode: str | None = None):
    return interactive(
        pushforward_figure,
        Choice("name", [(TRANSFORMS[k][0], k) for k in TRANSFORMS], label="f_t"),
        Slider("t", 0.0, 1.0, value=0.6, steps=11, label="t (0 = identity)"),
        mode=mode,
        height=520,
    )


# --- a distribution with no density -----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _relu_noise() -> np.ndarray:
    return np.sort(np.random.default_rng(0).normal(size=3000))


def mixed_cdf_figure(mu: float) -> go.Figure:
    """The cdf of ReLU(X), X ~ N(μ, 1): exact (with its jump) against the empirical cdf of 3000
    samples."""
    mu = check_real(mu, "mu")
    ys = np.linspace(-2, 4, 241)
    ys = np.sort(np.r_[ys, -1e-9, 0.0])
    sample = np.maximum(0.0, _relu_noise() + mu)  # sorted, since max(0, ·) is monotone
    ecdf = np.arange(1, len(sample) + 1) / len(sample)
    atom = float(stats.norm.cdf(-mu))
    frac0 = float(np.mean(sample == 0))
    keep = np.unique(np.r_[np.linspace(0, len(sample) - 1, 300).astype(int)])
    traces = [
        dict(
            type="scatter",
            x=f32(ys),
            y=f32(relu_cdf(ys, mu)),
            name="cdf of max(0, X)",
            line=dict(color=_BLUE, width=3),
        ),
        dict(
            type="scatter",
            x=f32(sample[keep]),
            y=f32(ecdf[keep]),
            name="empirical cdf (3000 samples)",
            line=dict(color=_ORANGE, shape="hv", dash="dot"),
        ),
        dict(
            type="scatter",
            x=[0.0, 0.0],
            y=[0.0, atom],
            mode="lines+markers",
            name="jump = P(Y = 0)",
            line=dict(color=_RED, dash="dash"),
            marker=dict(size=[7, 10], symbol=["circle-open", "circle"]),
        ),
    ]
    layout = dict(
        title=dict(
            text=(
                f"μ = {mu:.2f}:  P(Y = 0) = Φ(−μ) = {atom:.4f} (samples: {frac0:.4f}).<br>"
                "No density exists: it cannot put mass on a single point"
            )
        ),
        xaxis=dict(title=dict(text="y"), range=[-2, 4]),
        yaxis=dict(title=dict(text="F(y) = P(Y ≤ y)"), range=[-0.02, 1.02]),
        hovermode=False,
        legend=legend(0.98, 0.02, xanchor="right", yanchor="bottom"),
        margin=dict(t=90),
    )
    return figure(traces, layout)


def mixed_cdf_explorer(mode: str | None = None):
    return interactive(
        mixed_cdf_figure,
        Slider("mu", -2.0, 2.0, value=0.0, steps=9, label="μ"),
        mode=mode,
        height=440,
    )
