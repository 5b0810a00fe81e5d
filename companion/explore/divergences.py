"""Figures of the chapter "Divergences and distances".

One-dimensional distributions here are Gaussian mixtures ``[(weight, mean, std), ...]``; every
value a figure prints says how it was obtained: *closed form*, *quadrature* (a fine grid, in the
log domain where logarithms appear) or *samples*. The mathematics
(the mixtures, their divergence table, MMD² in batches, the exact OT cost) is in
:mod:`companion.divergences`; this module draws it.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import divergences as dv
from .._validate import check_int, check_real
from ..divergences import Mixture, disjoint_values, divergence_table
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, legend

__all__ = [
    "FAMILIES",
    "explorer_figure",
    "divergence_explorer",
    "disjoint_figure",
    "disjoint_supports",
    "sinkhorn_clouds",
    "sinkhorn_figure",
    "sinkhorn_explorer",
    "mmd_draws",
    "mmd_figure",
    "mmd_explorer",
    "mahalanobis_figure",
    "mahalanobis_explorer",
    "w1_cdf_figure",
]

F64 = torch.float64
_PLOT_X = np.linspace(-7.0, 7.0, 281)
_HI, _BLUE, _ORANGE, _GREY7 = OKABE_ITO[5], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[7]
# The chapter reads these under their explore names.


#: The reference distributions p of the explorer.
FAMILIES = {
    "gauss": ("p = N(0, 1)", Mixture([(1.0, 0.0, 1.0)])),
    "mix": ("p = ½N(−2, 0.5²) + ½N(2, 0.5²)", Mixture([(0.5, -2.0, 0.5), (0.5, 2.0, 0.5)])),
}


def explorer_figure(family: str, mu: float, sigma: float) -> go.Figure:
    """Reference p (a family) against q = N(μ, σ²), with every divergence in an annotation."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    label, p = FAMILIES[family]
    q = Mixture([(1.0, check_real(mu, "mu"), check_real(sigma, "sigma"))])
    table = divergence_table(p, q)
    x = torch.from_numpy(_PLOT_X)
    fig = go.Figure(
        [
            go.Scatter(
                x=_PLOT_X,
                y=torch.exp(p.log_pdf(x)).numpy().astype("float32"),
                name="p",
                fill="tozeroy",
            ),
            go.Scatter(
                x=_PLOT_X,
                y=torch.exp(q.log_pdf(x)).numpy().astype("float32"),
                name="q = N(μ, σ²)",
                fill="tozeroy",
            ),
        ]
    )
    lines = [f"{name:<10} {val:8.4f}  <i>{how}</i>" for name, (val, how) in table.items()]
    fig.add_annotation(
        text="<br>".join(lines),
        x=1.0,
        y=1.0,
        xref="paper",
        yref="paper",
        xanchor="right",
        yanchor="top",
        align="left",
        showarrow=False,
        font=dict(family="monospace", size=12),
        bgcolor="rgba(128,128,128,0.12)",
    )
    fig.update_layout(
        title=f"{label},  q = N({mu:.2f}, {sigma:.2f}²)",
        xaxis=dict(title="x", range=[-7, 7]),
        yaxis=dict(title="density", range=[0, 1.7]),
        legend=dict(x=0.0, y=1.0),
        hovermode=False,
    )
    return fig


def divergence_explorer(mode: str | None = None):
    """The divergence explorer: p from a family, q = N(μ, σ²); all divergences update together."""
    return interactive(
        explorer_figure,
        Choice("family", [("p Gaussian", "gauss"), ("p two-mode mixture", "mix")], label="p"),
        Slider("mu", -3.0, 3.0, value=1.0, steps=13, label="μ of q"),
        Slider("sigma", 0.25, 3.0, value=1.0, steps=12, label="σ of q"),
        mode=mode,
        height=480,
    )


# --- disjoint supports -----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _disjoint_curves():
    thetas = np.linspace(0.0, 3.0, 61)
    vals = [disjoint_values(float(t)) for t in thetas]
    return thetas, np.array([v["JS"] for v in vals]), np.array([v["W1"] for v in vals])


def _disjoint_traces(theta: float, v: dict) -> list:
    thetas, js, w1 = _disjoint_curves()
    right = dict(xaxis="x2", yaxis="y2")
    return [
        go.Scatter(
            x=[-0.5, 0, 0, 1, 1, 4.5], y=[0, 0, 1, 1, 0, 0], name="p = U[0, 1]", fill="tozeroy"
        ),
        go.Scatter(
            x=[-0.5, theta, theta, theta + 1, theta + 1, 4.5],
            y=[0, 0, 1, 1, 0, 0],
            name="q = U[θ, θ+1]",
            fill="tozeroy",
            opacity=0.8,
        ),
        go.Scatter(x=thetas, y=js, name="JS(p‖q)", **right),
        go.Scatter(x=thetas, y=w1, name="W₁(p, q)", **right),
        go.Scatter(
            x=[theta, theta],
            y=[v["JS"], v["W1"]],
            mode="markers",
            marker=dict(size=11, color=_HI),
            showlegend=False,
            **right,
        ),
    ]


def _log2_guide(layout: dict) -> dict:
    """The line y = log 2 (the ceiling of JS) on the right panel, labelled."""
    on_right = dict(xref="x2", yref="y2")
    label = dict(text="log 2", x=3.0, y=math.log(2), xanchor="right", yanchor="bottom")
    layout["annotations"].append(dict(label, showarrow=False, **on_right))
    guide = dict(type="line", x0=0, x1=3, y0=math.log(2), y1=math.log(2), **on_right)
    return dict(guide, line=dict(dash="dot", color=_GREY7))


def disjoint_figure(theta: float) -> go.Figure:
    """Two unit-width uniforms θ apart; KL, JS and W₁ against θ with the current θ marked."""
    v = disjoint_values(theta)
    fig = go.Figure(_disjoint_traces(theta, v))
    kl = "∞" if math.isinf(v["KL"]) else f"{v['KL']:.4f}"
    layout = side_by_side(("densities", "divergence against θ"), gap=0.12)
    shapes = [_log2_guide(layout)]
    fig.update_layout(
        **layout,
        shapes=shapes,
        title=(
            f"θ = {theta:.2f}:  KL(p‖q) = {kl}   JS(p‖q) = {v['JS']:.4f} nats   W₁ = {v['W1']:.4f}"
        ),
        legend=legend(0.57, 0.98),
        hovermode=False,
    )
    fig.update_layout(
        yaxis=dict(range=[0, 1.25], title="density"),
        xaxis=dict(range=[-0.5, 4.5], title="x"),
        xaxis2=dict(title="θ"),
        yaxis2=dict(range=[0, 3.1]),
    )
    return fig


def disjoint_supports(mode: str | None = None):
    """The disjoint-supports demo: slide q away from p."""
    return interactive(
        disjoint_figure,
        Slider("theta", 0.0, 3.0, value=0.5, steps=31, label="θ"),
        mode=mode,
        height=440,
    )


# --- entropic optimal transport --------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def sinkhorn_clouds(n: int = 30, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two small 2-D point clouds: a tilted Gaussian blob and an arc."""
    n = check_int(n, "n", minimum=2)
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    x = torch.randn(n, 2, generator=g, dtype=F64) @ torch.tensor(
        [[0.5, 0.2], [0.0, 0.3]], dtype=F64
    )
    t = torch.rand(n, generator=g, dtype=F64) * math.pi
    y = torch.stack([1.5 + torch.cos(t), 0.8 * torch.sin(t) - 0.3], dim=1)
    y = y + 0.05 * torch.randn(n, 2, generator=g, dtype=F64)
    return x, y


@functools.lru_cache(maxsize=64)
def _plan(log10_eps: float):
    x, y = sinkhorn_clouds()
    eps = 10.0**log10_eps
    plan, cost = dv.sinkhorn_plan(x, y, eps, p=2, max_iter=200_000, tol=1e-7)
    return plan, float(cost)


@functools.lru_cache(maxsize=1)
def _exact_cost() -> float:
    return dv.ot_assignment_cost(*sinkhorn_clouds())


def _coupling_segments(x: torch.Tensor, y: torch.Tensor, plan: torch.Tensor) -> tuple:
    """Segments x_i → y_j (None-separated) for each coupling carrying at least a tenth of a
    point's mass."""
    ii, jj = torch.nonzero(plan * x.shape[0] >= 0.1, as_tuple=True)
    sx, sy = [], []
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        sx += [float(x[i, 0]), float(y[j, 0]), None]
        sy += [float(x[i, 1]), float(y[j, 1]), None]
    return sx, sy


def _sinkhorn_traces(x: torch.Tensor, y: torch.Tensor, plan: torch.Tensor) -> list:
    sx, sy = _coupling_segments(x, y, plan)
    order_x = torch.argsort(x[:, 0])
    order_y = torch.argsort(torch.atan2(y[:, 1] + 0.3, y[:, 0] - 1.5))
    heat = (plan[order_x][:, order_y] * x.shape[0]).numpy().astype("float32")
    return [
        go.Scatter(
            x=sx,
            y=sy,
            mode="lines",
            line=dict(width=1, color=_GREY7),
            name="coupling",
            hoverinfo="skip",
        ),
        go.Scatter(
            x=x[:, 0].numpy(), y=x[:, 1].numpy(), mode="markers", name="x", marker=dict(size=8)
        ),
        go.Scatter(
            x=y[:, 0].numpy(),
            y=y[:, 1].numpy(),
            mode="markers",
            name="y",
            marker=dict(size=8, symbol="diamond"),
        ),
        go.Heatmap(
            z=heat, zmin=0, zmax=1, colorscale="Viridis", showscale=False, xaxis="x2", yaxis="y2"
        ),
    ]


def sinkhorn_figure(log10_eps: float) -> go.Figure:
    """The entropic plan at ε = 10^log10_eps: strong couplings as segments, the plan as a
    heatmap, and the transport cost against the exact OT cost."""
    log10_eps = check_real(log10_eps, "log10_eps")
    x, y = sinkhorn_clouds()
    plan, cost = _plan(round(log10_eps, 6))
    exact = _exact_cost()
    fig = go.Figure(_sinkhorn_traces(x, y, plan))
    fig.update_layout(
        **side_by_side(("couplings with P_ij ≥ 0.1/n", "n·P (rows, columns sorted)"), split=0.58),
        title=(
            f"ε = {10**log10_eps:.4f}:  ⟨P, C⟩ = {cost:.4f},  exact OT = {exact:.4f},  "
            f"bias = {cost - exact:.4f}"
        ),
        hovermode=False,
        legend=legend(0.56, 0.02, xanchor="right", yanchor="bottom"),
    )
    fig.update_layout(
        xaxis=dict(scaleanchor="y"),
        xaxis2=dict(showticklabels=False),
        yaxis2=dict(showticklabels=False, autorange="reversed"),
    )
    return fig


def sinkhorn_explorer(mode: str | None = None):
    return interactive(
        sinkhorn_figure,
        Slider("log10_eps", -2.0, 0.5, value=-0.5, steps=11, label="log₁₀ ε"),
        mode=mode,
        height=460,
    )


# --- MMD estimators ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def mmd_draws(repeats: int = 200, n: int = 30, shift: float = 0.6, seed: int = 0):
    """Repeated samples for the MMD figure: (x, y_same, y_shifted), each (repeats, n, 2)."""
    repeats = check_int(repeats, "repeats", minimum=2)
    n = check_int(n, "n", minimum=2)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(repeats, n, 2, generator=g, dtype=F64)
    y0 = torch.randn(repeats, n, 2, generator=g, dtype=F64)
    y1 = torch.randn(repeats, n, 2, generator=g, dtype=F64) + torch.tensor([shift, 0.0], dtype=F64)
    return x, y0, y1


@functools.lru_cache(maxsize=1)
def _mmd_sqdists():
    """Squared distances of the figure's fixed draws; only the bandwidth changes with the slider."""
    x, y0, y1 = mmd_draws()
    dxx = dv.batch_sqdist(x, x)
    return {
        "same": (dxx, dv.batch_sqdist(y0, y0), dv.batch_sqdist(x, y0)),
        "shifted": (dxx, dv.batch_sqdist(y1, y1), dv.batch_sqdist(x, y1)),
    }


@functools.lru_cache(maxsize=64)
def _mmd_estimates(log10_h: float):
    h = 10.0**log10_h
    out = {}
    for case, (dxx, dyy, dxy) in _mmd_sqdists().items():
        unbiased, biased = dv.mmd2_from_sqdist(dxx, dyy, dxy, h)
        out[case, True], out[case, False] = unbiased.numpy(), biased.numpy()
    return out


def _mmd_histograms(est: dict) -> list:
    return [
        dict(
            type="histogram",
            x=est[case, unbiased],
            name=name,
            nbinsx=30,
            opacity=0.65,
            showlegend=case == "same",
            marker=dict(color=_BLUE if unbiased else _ORANGE),
            **panel,
        )
        for panel, case in ((dict(), "same"), (dict(xaxis="x2", yaxis="y2"), "shifted"))
        for unbiased, name in ((True, "unbiased"), (False, "biased"))
    ]


def mmd_figure(log10_h: float) -> go.Figure:
    """Sampling distributions of the biased and unbiased MMD² estimators at bandwidth h."""
    log10_h = check_real(log10_h, "log10_h")
    h = 10.0**log10_h
    est = _mmd_estimates(round(log10_h, 6))
    pop = dv.mmd2_gaussian_shift(0.6, h)
    means = {k: v.mean() for k, v in est.items()}
    layout = side_by_side(("p = q", "q shifted by 0.6"))
    layout["xaxis"]["title"] = dict(text="MMD² estimate")
    layout["xaxis2"]["title"] = dict(text="MMD² estimate")
    guide = dict(type="line", y0=0, y1=1, yref="paper", line=dict(color=_HI, dash="dash"))
    layout.update(
        barmode="overlay",
        shapes=[dict(guide, x0=x0, x1=x0, xref=xr) for x0, xr in ((0.0, "x"), (pop, "x2"))],
        title=dict(
            text=(
                f"h = {h:.3f}.  Means when p = q: unbiased {means['same', True]:+.4f}, "
                f"biased {means['same', False]:.4f}<br>population MMD² of the shifted pair = "
                f"{pop:.4f}"
            )
        ),
        hovermode=False,
        margin=dict(t=105),
        legend=legend(0.44, 0.98, xanchor="right"),
    )
    return figure(_mmd_histograms(est), layout)


def mmd_explorer(mode: str | None = None):
    return interactive(
        mmd_figure,
        Slider("log10_h", -1.0, 1.0, value=0.0, steps=11, label="log₁₀ h"),
        mode=mode,
        height=440,
    )


# --- Mahalanobis -----------------------------------------------------------------------------

_POINT = torch.tensor([1.5, 1.0], dtype=F64)


def mahalanobis_figure(sigma1: float, sigma2: float, rho: float) -> go.Figure:
    """Ellipses of Mahalanobis distance 1, 2, 3 around 0 for Σ = [[σ₁², ρσ₁σ₂], [ρσ₁σ₂, σ₂²]]."""
    s1, s2, r = (
        check_real(v, n) for v, n in ((sigma1, "sigma1"), (sigma2, "sigma2"), (rho, "rho"))
    )
    if s1 <= 0 or s2 <= 0 or not -1 < r < 1:
        raise ValueError(f"need sigma1, sigma2 > 0 and -1 < rho < 1; got {s1}, {s2}, {r}")
    cov = torch.tensor([[s1**2, r * s1 * s2], [r * s1 * s2, s2**2]], dtype=F64)
    chol = torch.linalg.cholesky(cov)
    t = torch.linspace(0, 2 * math.pi, 121, dtype=F64)
    circle = torch.stack([torch.cos(t), torch.sin(t)])
    fig = go.Figure()
    for k in (1, 2, 3):
        pts = k * chol @ circle
        fig.add_trace(
            go.Scatter(
                x=pts[0].numpy().astype("float32"),
                y=pts[1].numpy().astype("float32"),
                mode="lines",
                name=f"D_M = {k}",
                line=dict(color=_BLUE, width=3.5 - k),
            )
        )
    zero = torch.zeros(2, dtype=F64)
    d_m = float(dv.mahalanobis(_POINT, zero, cov))
    d_e = float(torch.linalg.norm(_POINT))
    fig.add_trace(
        go.Scatter(
            x=[0, 1.5],
            y=[0, 1.0],
            mode="lines+markers",
            name="x = (1.5, 1)",
            line=dict(color=_HI, dash="dot"),
            marker=dict(size=[6, 11]),
        )
    )
    fig.update_layout(
        title=(
            f"Σ = [[{s1**2:.2f}, {r * s1 * s2:.2f}], [{r * s1 * s2:.2f}, {s2**2:.2f}]]:  "
            f"D_M(x, 0) = {d_m:.3f},  ‖x‖ = {d_e:.3f}"
        ),
        xaxis=dict(range=[-6, 6], scaleanchor="y", title="x₁"),
        yaxis=dict(range=[-4.5, 4.5], title="x₂"),
        hovermode=False,
    )
    return fig


def mahalanobis_explorer(mode: str | None = None):
    return interactive(
        mahalanobis_figure,
        Slider("sigma1", 0.5, 2.0, value=1.5, steps=4, label="σ₁"),
        Slider("sigma2", 0.5, 2.0, value=0.5, steps=4, label="σ₂"),
        Slider("rho", -0.9, 0.9, value=0.3, steps=7, label="ρ"),
        mode=mode,
        height=480,
    )


# --- W1 as the area between CDFs ---------------------------------------------------------------


def w1_cdf_figure(p: Mixture, q: Mixture) -> go.Figure:
    """The two CDFs with the area between them (= W₁ in one dimension) shaded."""
    x = torch.linspace(-6, 6, 601, dtype=F64)
    fp, fq = p.cdf(x).numpy(), q.cdf(x).numpy()
    w1 = divergence_table(p, q)["W₁"][0]
    fig = go.Figure(
        [
            go.Scatter(x=x.numpy(), y=fp, name="F_p"),
            go.Scatter(
                x=x.numpy(), y=fq, name="F_q", fill="tonexty", fillcolor="rgba(204,121,167,0.3)"
            ),
        ]
    )
    fig.update_layout(
        title=f"shaded area = W₁(p, q) = {w1:.4f}",
        xaxis_title="x",
        yaxis_title="CDF",
        hovermode=False,
    )
    return fig
