"""Figures of the chapter "Divergences and distances".

One-dimensional distributions here are Gaussian mixtures ``[(weight, mean, std), ...]``; every
value a figure prints says how it was obtained: *closed form*, *quadrature* (a fine grid, in the
log domain where logarithms appear) or *samples*. The mathematics is in
:mod:`companion.divergences`; this module evaluates it for the figures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from scipy.optimize import linear_sum_assignment

from .. import divergences as dv
from .._validate import check_int, check_real
from ..figures import Choice, Slider, interactive
from ..theme import side_by_side

__all__ = [
    "Mixture",
    "FAMILIES",
    "divergence_table",
    "explorer_figure",
    "divergence_explorer",
    "disjoint_values",
    "disjoint_figure",
    "disjoint_supports",
    "sinkhorn_clouds",
    "sinkhorn_figure",
    "sinkhorn_explorer",
    "mmd_draws",
    "mmd_batch",
    "mmd_figure",
    "mmd_explorer",
    "mahalanobis_figure",
    "mahalanobis_explorer",
    "w1_cdf_figure",
]

F64 = torch.float64
_GRID = torch.linspace(-30.0, 30.0, 6001, dtype=F64)
_U = (torch.arange(2000, dtype=F64) + 0.5) / 2000
_DX = float(_GRID[1] - _GRID[0])
_PLOT_X = np.linspace(-7.0, 7.0, 281)


class Mixture:
    """A one-dimensional Gaussian mixture ``sum_k w_k N(mu_k, sigma_k^2)`` (σ = std)."""

    def __init__(self, components: Sequence[tuple[float, float, float]]):
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

    def log_pdf(self, x: torch.Tensor) -> torch.Tensor:
        terms = [
            math.log(w) - math.log(s * math.sqrt(2 * math.pi)) - 0.5 * ((x - m) / s) ** 2
            for w, m, s in self.components
        ]
        return torch.logsumexp(torch.stack(terms), dim=0)

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        return sum(
            w * 0.5 * torch.erfc(-(x - m) / (s * math.sqrt(2))) for w, m, s in self.components
        )

    def mean(self) -> float:
        return sum(w * m for w, m, _ in self.components)

    def variance(self) -> float:
        mu = self.mean()
        return sum(w * (s**2 + (m - mu) ** 2) for w, m, s in self.components)


#: The reference distributions p of the explorer.
FAMILIES = {
    "gauss": ("p = N(0, 1)", Mixture([(1.0, 0.0, 1.0)])),
    "mix": ("p = ½N(−2, 0.5²) + ½N(2, 0.5²)", Mixture([(0.5, -2.0, 0.5), (0.5, 2.0, 0.5)])),
}


@functools.lru_cache(maxsize=256)
def _on_grid(d: Mixture) -> dict[str, torch.Tensor]:
    """A distribution evaluated once on the quadrature grid.

    Gives the log-density, the cell probabilities (renormalised; for the book's distributions the
    mass beyond ±30 is below 1e-15), the CDF, and the quantiles at the midpoints ``_U`` (by
    monotone interpolation of the CDF)."""
    lp = d.log_pdf(_GRID)
    m = torch.exp(lp) * _DX
    cdf = d.cdf(_GRID)
    quant = torch.from_numpy(np.interp(_U.numpy(), cdf.numpy(), _GRID.numpy()))
    return {"log_pdf": lp, "mass": m / m.sum(), "cdf": cdf, "quantile": quant}


def _kl_quadrature(p: dict, q: dict) -> float:
    lp, lq = p["log_pdf"], q["log_pdf"]
    return float(torch.sum(torch.exp(lp) * (lp - lq)) * _DX)


def _rbf_mean(a: Mixture, b: Mixture, h: float) -> float:
    """E k(X, Y) for independent X ~ a, Y ~ b and k(x, y) = exp(-(x-y)^2 / (2h^2)) (exact)."""
    total = 0.0
    for wa, ma, sa in a.components:
        for wb, mb, sb in b.components:
            v = h**2 + sa**2 + sb**2
            total += wa * wb * h / math.sqrt(v) * math.exp(-((ma - mb) ** 2) / (2 * v))
    return total


def divergence_table(p: Mixture, q: Mixture, bandwidth: float = 1.0) -> dict[str, tuple]:
    """Every divergence between two 1-D mixtures, as ``name -> (value, how)``.

    ``how`` is "closed form" or "quadrature". KL, JS in nats; W₁, W₂ distances (not powers);
    MMD² with the RBF kernel of the given bandwidth (exact for mixtures of Gaussians).
    """
    if not isinstance(p, Mixture) or not isinstance(q, Mixture):
        raise TypeError("p and q must be Mixture objects")
    out: dict[str, tuple] = {}
    both_gauss = p.is_gaussian and q.is_gaussian
    gp, gq = _on_grid(p), _on_grid(q)
    if both_gauss:
        (_, m1, s1), (_, m2, s2) = p.components[0], q.components[0]
        out["KL(p‖q)"] = (float(dv.kl_gaussian(m1, s1, m2, s2)), "closed form")
        out["KL(q‖p)"] = (float(dv.kl_gaussian(m2, s2, m1, s1)), "closed form")
    else:
        out["KL(p‖q)"] = (_kl_quadrature(gp, gq), "quadrature")
        out["KL(q‖p)"] = (_kl_quadrature(gq, gp), "quadrature")
    mp, mq = gp["mass"], gq["mass"]
    out["JS(p‖q)"] = (float(dv.js_discrete(mp, mq)), "quadrature")
    out["TV(p, q)"] = (float(dv.total_variation(mp, mq)), "quadrature")
    out["Hellinger"] = (float(dv.hellinger(mp, mq)), "quadrature")
    # W1 in one dimension is the area between the two CDFs.
    out["W₁"] = (float(torch.sum(torch.abs(gp["cdf"] - gq["cdf"])) * _DX), "quadrature")
    if both_gauss:
        mu1 = torch.tensor([m1], dtype=F64)
        mu2 = torch.tensor([m2], dtype=F64)
        c1 = torch.tensor([[s1**2]], dtype=F64)
        c2 = torch.tensor([[s2**2]], dtype=F64)
        out["W₂"] = (float(dv.wasserstein_gaussian(mu1, c1, mu2, c2)), "closed form")
    else:
        w2sq = torch.mean((gp["quantile"] - gq["quantile"]) ** 2)
        out["W₂"] = (float(torch.sqrt(w2sq)), "quadrature")
    mmd = _rbf_mean(p, p, bandwidth) + _rbf_mean(q, q, bandwidth) - 2 * _rbf_mean(p, q, bandwidth)
    out["MMD² (h=1)" if bandwidth == 1.0 else f"MMD² (h={bandwidth:g})"] = (
        max(mmd, 0.0),
        "closed form",
    )
    return out


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

_DISJOINT_N = 2000


def disjoint_values(theta: float) -> dict[str, float]:
    """p = U[0, 1], q = U[θ, θ + 1]: KL(p‖q), JS(p‖q) and W₁, from the companion's functions.

    JS and KL use the two distributions discretised on a common grid of cells of width
    1/2000 (exact for θ on that grid); W₁ uses 2000 quantile points of each.
    """
    theta = check_real(theta, "theta")
    if theta < 0:
        raise ValueError(f"theta must be >= 0, got {theta}")
    k = round(theta * _DISJOINT_N)
    n_cells = _DISJOINT_N + k
    p = torch.zeros(n_cells, dtype=F64)
    q = torch.zeros(n_cells, dtype=F64)
    p[:_DISJOINT_N] = 1.0 / _DISJOINT_N
    q[k : k + _DISJOINT_N] = 1.0 / _DISJOINT_N
    u = (torch.arange(_DISJOINT_N, dtype=F64) + 0.5) / _DISJOINT_N
    return {
        "KL": float(dv.kl_discrete(p, q)),
        "JS": float(dv.js_discrete(p, q)),
        "W1": float(dv.wasserstein_1d(u, u + theta)),
    }


@functools.lru_cache(maxsize=1)
def _disjoint_curves():
    thetas = np.linspace(0.0, 3.0, 61)
    vals = [disjoint_values(float(t)) for t in thetas]
    return thetas, np.array([v["JS"] for v in vals]), np.array([v["W1"] for v in vals])


def disjoint_figure(theta: float) -> go.Figure:
    """Two unit-width uniforms θ apart; KL, JS and W₁ against θ with the current θ marked."""
    v = disjoint_values(theta)
    thetas, js, w1 = _disjoint_curves()
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
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
                marker=dict(size=11, color="#D55E00"),
                showlegend=False,
                **right,
            ),
        ]
    )
    kl = "∞" if math.isinf(v["KL"]) else f"{v['KL']:.4f}"
    layout = side_by_side(("densities", "divergence against θ"), gap=0.12)
    layout["annotations"].append(
        dict(
            text="log 2",
            x=3.0,
            y=math.log(2),
            xref="x2",
            yref="y2",
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
        )
    )
    fig.update_layout(
        **layout,
        shapes=[
            dict(
                type="line",
                x0=0,
                x1=3,
                y0=math.log(2),
                y1=math.log(2),
                xref="x2",
                yref="y2",
                line=dict(dash="dot", color="#7F7F7F"),
            )
        ],
        title=(
            f"θ = {theta:.2f}:  KL(p‖q) = {kl}   JS(p‖q) = {v['JS']:.4f} nats   W₁ = {v['W1']:.4f}"
        ),
        legend=dict(x=0.57, y=0.98, xanchor="left", yanchor="top", bgcolor="rgba(128,128,128,0.1)"),
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


def _exact_ot(x: torch.Tensor, y: torch.Tensor) -> float:
    """Exact OT cost with squared Euclidean cost for equal-size uniform clouds (an assignment)."""
    c = torch.cdist(x, y) ** 2
    rows, cols = linear_sum_assignment(c.numpy())
    return float(c[rows, cols].mean())


@functools.lru_cache(maxsize=64)
def _plan(log10_eps: float):
    x, y = sinkhorn_clouds()
    eps = 10.0**log10_eps
    plan, cost = dv.sinkhorn_plan(x, y, eps, p=2, max_iter=200_000, tol=1e-7)
    return plan, float(cost)


def sinkhorn_figure(log10_eps: float) -> go.Figure:
    """The entropic plan at ε = 10^log10_eps: strong couplings as segments, the plan as a
    heatmap, and the transport cost against the exact OT cost."""
    log10_eps = check_real(log10_eps, "log10_eps")
    x, y = sinkhorn_clouds()
    plan, cost = _plan(round(log10_eps, 6))
    exact = _exact_ot(x, y)
    n = x.shape[0]
    # Draw each coupling carrying at least a tenth of a point's mass.
    ii, jj = torch.nonzero(plan * n >= 0.1, as_tuple=True)
    sx, sy = [], []
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        sx += [float(x[i, 0]), float(y[j, 0]), None]
        sy += [float(x[i, 1]), float(y[j, 1]), None]
    order_x = torch.argsort(x[:, 0])
    order_y = torch.argsort(torch.atan2(y[:, 1] + 0.3, y[:, 0] - 1.5))
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
            go.Scatter(
                x=sx,
                y=sy,
                mode="lines",
                line=dict(width=1, color="#7F7F7F"),
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
                z=(plan[order_x][:, order_y] * n).numpy().astype("float32"),
                zmin=0,
                zmax=1,
                colorscale="Viridis",
                showscale=False,
                **right,
            ),
        ]
    )
    fig.update_layout(
        **side_by_side(("couplings with P_ij ≥ 0.1/n", "n·P (rows, columns sorted)"), split=0.58),
        title=(
            f"ε = {10**log10_eps:.4f}:  ⟨P, C⟩ = {cost:.4f},  exact OT = {exact:.4f},  "
            f"bias = {cost - exact:.4f}"
        ),
        hovermode=False,
        legend=dict(
            x=0.56, y=0.02, xanchor="right", yanchor="bottom", bgcolor="rgba(128,128,128,0.1)"
        ),
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


def _mmd_population(shift: float, h: float, d: int = 2) -> float:
    """Exact MMD² between N(0, I_d) and N(shift·e₁, I_d) for the RBF kernel of bandwidth h."""
    v = h**2 + 2.0
    scale = (h**2 / v) ** (d / 2)
    return 2 * scale * (1 - math.exp(-(shift**2) / (2 * v)))


def mmd_batch(x: torch.Tensor, y: torch.Tensor, bandwidth: float, unbiased: bool = True):
    """:func:`companion.divergences.mmd2` for a batch of sample pairs ``(R, n, d)``, ``(R, m, d)``.

    Same estimators, vectorised over the leading dimension so that the MMD figure's 200
    repetitions cost one call (the chapter checks it against ``mmd2`` repetition by repetition).
    """
    if x.dim() != 3 or y.dim() != 3 or x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
        raise ValueError(
            f"need x (R, n, d) and y (R, m, d), got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    h = check_real(bandwidth, "bandwidth")
    if h <= 0:
        raise ValueError(f"bandwidth must be > 0, got {h}")
    both = _mmd_both(x, y, h)
    return both[0] if unbiased else both[1]


def _sqdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched squared distances; torch.cdist is slow on many small batches."""
    d2 = a.square().sum(-1)[:, :, None] + b.square().sum(-1)[:, None, :] - 2 * a @ b.mT
    return d2.clamp_min(0)


def _mmd_from_sqdist(dxx: torch.Tensor, dyy: torch.Tensor, dxy: torch.Tensor, h: float):
    """(unbiased, biased) batched MMD² from the three squared-distance matrices."""
    n, m = dxx.shape[1], dyy.shape[1]
    kxx, kyy = torch.exp(-dxx / (2 * h * h)), torch.exp(-dyy / (2 * h * h))
    cross = 2 * torch.exp(-dxy / (2 * h * h)).mean((1, 2))
    sum_xx, sum_yy = kxx.sum((1, 2)), kyy.sum((1, 2))
    # exp(0) = 1 on the diagonals, so removing them subtracts n and m.
    unbiased = (sum_xx - n) / (n * (n - 1)) + (sum_yy - m) / (m * (m - 1)) - cross
    biased = sum_xx / n**2 + sum_yy / m**2 - cross
    return unbiased, biased


def _mmd_both(x: torch.Tensor, y: torch.Tensor, h: float):
    """(unbiased, biased) batched MMD² of sample pairs x (R, n, d), y (R, m, d)."""
    return _mmd_from_sqdist(_sqdist(x, x), _sqdist(y, y), _sqdist(x, y), h)


@functools.lru_cache(maxsize=1)
def _mmd_sqdists():
    """Squared distances of the figure's fixed draws; only the bandwidth changes with the slider."""
    x, y0, y1 = mmd_draws()
    dxx = _sqdist(x, x)
    return {
        "same": (dxx, _sqdist(y0, y0), _sqdist(x, y0)),
        "shifted": (dxx, _sqdist(y1, y1), _sqdist(x, y1)),
    }


@functools.lru_cache(maxsize=64)
def _mmd_estimates(log10_h: float):
    h = 10.0**log10_h
    out = {}
    for case, (dxx, dyy, dxy) in _mmd_sqdists().items():
        unbiased, biased = _mmd_from_sqdist(dxx, dyy, dxy, h)
        out[case, True], out[case, False] = unbiased.numpy(), biased.numpy()
    return out


def mmd_figure(log10_h: float) -> go.Figure:
    """Sampling distributions of the biased and unbiased MMD² estimators at bandwidth h.

    The figure is assembled as plain dictionaries and built without plotly's property
    validation (``tests/test_explore_divergences.py`` rebuilds it with validation on): plotly's
    checks of four 200-value histograms cost more than the statistics themselves.
    """
    log10_h = check_real(log10_h, "log10_h")
    h = 10.0**log10_h
    est = _mmd_estimates(round(log10_h, 6))
    pop = _mmd_population(0.6, h)
    traces = [
        dict(
            type="histogram",
            x=est[case, unbiased],
            name=name,
            nbinsx=30,
            opacity=0.65,
            showlegend=case == "same",
            marker=dict(color="#0072B2" if unbiased else "#E69F00"),
            **panel,
        )
        for panel, case in ((dict(), "same"), (dict(xaxis="x2", yaxis="y2"), "shifted"))
        for unbiased, name in ((True, "unbiased"), (False, "biased"))
    ]
    means = {k: v.mean() for k, v in est.items()}
    layout = side_by_side(("p = q", "q shifted by 0.6"))
    layout["xaxis"]["title"] = dict(text="MMD² estimate")
    layout["xaxis2"]["title"] = dict(text="MMD² estimate")
    layout.update(
        barmode="overlay",
        shapes=[
            dict(
                type="line",
                x0=x0,
                x1=x0,
                y0=0,
                y1=1,
                xref=xr,
                yref="paper",
                line=dict(color="#D55E00", dash="dash"),
            )
            for x0, xr in ((0.0, "x"), (pop, "x2"))
        ],
        title=dict(
            text=(
                f"h = {h:.3f}.  Means when p = q: unbiased {means['same', True]:+.4f}, "
                f"biased {means['same', False]:.4f}<br>population MMD² of the shifted pair = "
                f"{pop:.4f}"
            )
        ),
        hovermode=False,
        margin=dict(t=105),
        legend=dict(
            x=0.44, y=0.98, xanchor="right", yanchor="top", bgcolor="rgba(128,128,128,0.1)"
        ),
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


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
                line=dict(color="#0072B2", width=3.5 - k),
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
            line=dict(color="#D55E00", dash="dot"),
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
