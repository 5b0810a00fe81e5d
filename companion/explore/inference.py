"""Figures of the chapter "Likelihood, EM and Markov chain Monte Carlo".

Everything computed here comes from :mod:`companion.inference`; this module only chooses the
examples (a Poisson rate, a three-cluster data set, two small Markov chains, a bimodal target)
and draws them.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import divergences as dv
from .. import inference as inf
from .._validate import check_real
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ._plot import GREY, figure, line, points
from ._plot import title as _title

__all__ = [
    "CR_FAMILIES",
    "cramer_rao_stats",
    "cramer_rao_figure",
    "cramer_rao_explorer",
    "em_data",
    "em_start",
    "EM_STARTS",
    "em_run",
    "em_figure",
    "em_explorer",
    "CHAINS",
    "markov_figure",
    "markov_explorer",
    "bimodal_log_prob",
    "bimodal_density",
    "mh_run",
    "mh_figure",
    "mh_explorer",
    "gibbs_run",
    "gibbs_figure",
    "gibbs_explorer",
]

F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _PINK, _SKY, _RED = OKABE_ITO[:6]


# == Cramér–Rao ==================================================================================

#: family -> (label, θ, name of θ)
CR_FAMILIES = {
    "poisson": ("Poisson, λ = 3", 3.0, "λ"),
    "gaussian_sigma": ("Gaussian, σ = 1 (mean unknown)", 1.0, "σ"),
}
_CR_REPS = 4000


def _cr_family(family: str) -> tuple[str, float, str]:
    if family not in CR_FAMILIES:
        raise ValueError(f"family must be one of {sorted(CR_FAMILIES)}; got {family!r}")
    return CR_FAMILIES[family]


def cramer_rao_stats(family: str, n: int) -> dict:
    """4 000 MLEs from samples of size ``n`` and what the figure prints: their mean, their
    variance with its standard error, and the Cramér–Rao bound ``1/(n I(θ))``."""
    _, theta, _ = _cr_family(family)
    n = round(check_real(n, "n"))
    est = inf.simulate_mle(family, theta, n, _CR_REPS, seed=n)
    sq = (est - est.mean()) ** 2
    return dict(
        estimates=est,
        mean=float(est.mean()),
        var=float(sq.mean()),
        var_se=float(sq.std() / math.sqrt(_CR_REPS)),
        bound=float(1 / (n * inf.fisher_information(family, theta))),
    )


def cramer_rao_figure(family: str, n: float) -> go.Figure:
    """Histogram of the MLE over 4 000 repeated samples of size ``n`` against the asymptotic
    normal law ``N(θ, 1/(n I(θ)))``; the title prints both variances."""
    label, theta, sym = _cr_family(family)
    n = round(check_real(n, "n"))
    s = cramer_rao_stats(family, n)
    sd = math.sqrt(1 / float(n * inf.fisher_information(family, theta)))
    width = 4.5 * math.sqrt(theta / 4 if family == "poisson" else 1 / 8)
    lo, hi = theta - width, theta + width
    if family == "poisson":  # λ̂ lives on the lattice k/n: bins of whole lattice steps
        step = max(1, round(0.15 * n)) / n
        first = math.floor((lo - theta) / step) * step + theta - 0.5 / n
        bins = np.arange(first, hi + step, step)
    else:
        bins = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(s["estimates"].numpy(), bins)
    dens = counts / (_CR_REPS * np.diff(bins))
    grid = np.linspace(lo, hi, 201)
    law = torch.distributions.Normal(torch.tensor(theta, dtype=F64), torch.tensor(sd, dtype=F64))
    normal = law.log_prob(torch.from_numpy(grid)).exp().numpy()
    traces = [
        dict(
            type="bar",
            x=(bins[:-1] + bins[1:]) / 2,
            y=dens,
            name=f"MLE {sym}̂ (4 000 samples)",
            marker=dict(color=_SKY),
            width=float(bins[1] - bins[0]),
        ),
        dict(
            type="scatter",
            x=grid,
            y=normal,
            name=f"N({sym}, 1/(n I({sym})))",
            line=dict(color=_RED),
        ),
    ]
    text = (
        f"{label}, n = {n}: mean {sym}̂ = {s['mean']:.3f}<br>Var({sym}̂) = {s['var']:.4f} "
        f"± {s['var_se']:.4f} (simulated),  Cramér–Rao 1/(n I) = {s['bound']:.4f}"
    )
    layout = dict(
        title=_title(text),
        xaxis=dict(title=dict(text=f"estimate of {sym}"), range=[lo, hi]),
        yaxis=dict(title=dict(text="density"), range=[0, 1.35 / (sd * math.sqrt(2 * math.pi))]),
        bargap=0,
        hovermode=False,
        legend=dict(x=0.99, y=0.99, xanchor="right"),
    )
    return figure(traces, layout)


def cramer_rao_explorer(mode: str | None = None):
    return interactive(
        cramer_rao_figure,
        Choice("family", [(v[0], k) for k, v in CR_FAMILIES.items()], label="model"),
        Slider("n", 4, 100, value=10, steps=17, label="sample size n", fmt=".0f"),
        mode=mode,
        height=440,
    )


# == EM ==========================================================================================

#: start -> (label, means); every start uses equal weights and covariances 0.5 I.
EM_STARTS = {
    "good": ("spread-out", [[-1.0, 1.0], [0.0, -1.0], [1.0, 0.5]]),
    "bad": ("two-in-one-cluster", [[-3.5, 1.0], [-3.5, -1.0], [1.5, 0.2]]),
}
_EM_STEPS = 40
_COMP = np.array([[0, 114, 178], [230, 159, 0], [0, 158, 115]], dtype=float)  # blue, orange, green
_COMP_HEX = (_BLUE, _ORANGE, _GREEN)


@functools.lru_cache(maxsize=1)
def em_data() -> torch.Tensor:
    """300 points in the plane from three elongated clusters (seeded)."""
    gen = torch.Generator().manual_seed(3)
    centres = torch.tensor([[-3.5, 0.0], [0.5, 2.0], [2.5, -1.5]], dtype=F64)
    scales = torch.tensor([[0.6, 1.0], [0.8, 0.5], [0.7, 0.7]], dtype=F64)
    z = torch.randn(3, 100, 2, generator=gen, dtype=F64)
    return (centres[:, None] + scales[:, None] * z).reshape(300, 2)


def em_start(start: str) -> inf.GMMParams:
    if start not in EM_STARTS:
        raise ValueError(f"start must be one of {sorted(EM_STARTS)}; got {start!r}")
    means = torch.tensor(EM_STARTS[start][1], dtype=F64)
    return inf.GMMParams(
        torch.full((3,), 1 / 3, dtype=F64), means, 0.5 * torch.eye(2, dtype=F64).repeat(3, 1, 1)
    )


@functools.lru_cache(maxsize=2)
def em_run(start: str) -> inf.GMMFit:
    """40 EM iterations on :func:`em_data` from one of :data:`EM_STARTS`."""
    return inf.gmm_em(em_data(), 3, init=em_start(start), steps=_EM_STEPS)


def _ellipse(mean: torch.Tensor, cov: torch.Tensor, radius: float = 2.0) -> tuple:
    ang = torch.linspace(0, 2 * math.pi, 61, dtype=F64)
    circle = torch.stack([ang.cos(), ang.sin()])
    pts = mean[:, None] + radius * torch.linalg.cholesky(cov) @ circle
    return pts[0].numpy(), pts[1].numpy()


def em_figure(t: float, start: str) -> go.Figure:
    """Data coloured by responsibilities (a mix of the three component colours), the
    components' 2σ ellipses after ``t`` iterations, and the log-likelihood curve."""
    t = round(check_real(t, "t"))
    if not 0 <= t <= _EM_STEPS:
        raise ValueError(f"t must lie in [0, {_EM_STEPS}]; got {t}")
    fit = em_run(start)
    x = em_data()
    params = fit.history[t]
    rgb = inf.gmm_responsibilities(x, params).numpy() @ _COMP
    colours = [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in rgb]
    dots = dict(color=colours, size=6, line=dict(width=0))
    traces = [points(x[:, 0].numpy(), x[:, 1].numpy(), dots, "data")]
    for k in range(3):
        ex, ey = _ellipse(params.means[k], params.covs[k])
        traces.append(line(ex, ey, _COMP_HEX[k], f"component {k + 1}", line=dict(width=2.5)))
    crosses = dict(symbol="x", size=11, color="black")
    means = params.means.numpy()
    ll = fit.log_likelihood.numpy()
    traces += [
        points(means[:, 0], means[:, 1], crosses, "means"),
        line(np.arange(len(ll)), ll, GREY, "log-likelihood", right=True),
        points([t], [ll[t]], dict(color=_RED, size=10), "now", right=True),
    ]
    layout = side_by_side(("", "average log-likelihood"), split=0.6)
    x_title = "x₁   (colour: responsibilities, ellipses: 2σ contours)"
    layout["xaxis"].update(range=[-6, 5.5], title=dict(text=x_title))
    layout["yaxis"].update(range=[-4.5, 4.5], title=dict(text="x₂"))
    layout["xaxis2"].update(range=[-1, _EM_STEPS + 1], title=dict(text="iteration"))
    layout["yaxis2"].update(range=[-8.2, -2.8], title=dict(text="nats per point"))
    title = (
        f"{EM_STARTS[start][0]} start, iteration {t}: log-likelihood {ll[t]:.4f} nats/point "
        f"(after {_EM_STEPS}: {ll[-1]:.4f})"
    )
    layout.update(title=_title(title), hovermode=False)
    return figure(traces, layout)


def em_explorer(mode: str | None = None):
    return interactive(
        em_figure,
        Slider("t", 0, _EM_STEPS, value=0, steps=_EM_STEPS + 1, label="iteration", fmt=".0f"),
        Choice("start", [(v[0] + " start", k) for k, v in EM_STARTS.items()], label="start"),
        mode=mode,
        height=460,
    )


# == Markov chains ===============================================================================


def _blocks() -> torch.Tensor:
    eps = 0.02
    p = torch.zeros(6, 6, dtype=F64)
    for block in (range(3), range(3, 6)):
        for i in block:
            for j in block:
                p[i, j] = (1 - eps) / 3
    for i in range(3):
        p[i, 3 + i] = eps
        p[3 + i, i] = eps
    return p


#: name -> (label, transition matrix)
CHAINS = {
    "mixing": (
        "well connected",
        torch.tensor(
            [
                [0.1, 0.4, 0.1, 0.2, 0.2, 0.0],
                [0.3, 0.1, 0.3, 0.0, 0.1, 0.2],
                [0.2, 0.2, 0.1, 0.3, 0.0, 0.2],
                [0.0, 0.3, 0.2, 0.1, 0.3, 0.1],
                [0.2, 0.0, 0.3, 0.2, 0.1, 0.2],
                [0.3, 0.1, 0.1, 0.1, 0.3, 0.1],
            ],
            dtype=F64,
        ),
    ),
    "blocks": ("two weakly linked blocks", _blocks()),
}
_MC_STEPS = 40


@functools.lru_cache(maxsize=2)
def _markov(chain: str) -> tuple:
    if chain not in CHAINS:
        raise ValueError(f"chain must be one of {sorted(CHAINS)}; got {chain!r}")
    p = CHAINS[chain][1]
    p0 = torch.zeros(6, dtype=F64)
    p0[0] = 1.0
    dists = inf.evolve(p, p0, _MC_STEPS)
    pi = inf.stationary_distribution(p)
    tv = dv.total_variation(dists, pi.expand_as(dists))
    return dists.numpy(), pi.numpy(), tv.numpy(), float(inf.spectral_gap(p))


def markov_figure(t: float, chain: str) -> go.Figure:
    """The law of ``X_t`` started at state 0 against the stationary ``π`` (left), and the total
    variation distance against ``t`` with the rate ``|λ₂|^t`` (right)."""
    t = round(check_real(t, "t"))
    if not 0 <= t <= _MC_STEPS:
        raise ValueError(f"t must lie in [0, {_MC_STEPS}]; got {t}")
    dists, pi, tv, gap = _markov(chain)
    steps = np.arange(_MC_STEPS + 1)
    states = [str(i) for i in range(6)]
    bar_marker = dict(color=_RED, size=12, symbol="line-ew-open", line=dict(width=3))
    tv_floor = np.maximum(tv, 1e-16)  # exact zeros cannot be drawn on a log axis
    traces = [
        dict(type="bar", x=states, y=dists[t], name="P(X_t = i)", marker=dict(color=_SKY)),
        points(states, pi, bar_marker, "π", showlegend=True),
        line(steps, tv_floor, _BLUE, "TV(p_t, π)", right=True, showlegend=True),
        line(
            steps,
            tv[0] * (1 - gap) ** steps,
            GREY,
            "|λ₂|ᵗ",
            right=True,
            showlegend=True,
            line=dict(dash="dash"),
        ),
        points([t], [tv_floor[t]], dict(color=_RED, size=10), "now", right=True),
    ]
    layout = side_by_side(("", "TV distance to π"), split=0.5)
    layout["yaxis"].update(range=[0, 1.02], title=dict(text="probability"))
    layout["xaxis"].update(title=dict(text="state i (the chain starts at X₀ = 0)"))
    layout["xaxis2"].update(title=dict(text="t"), range=[-1, _MC_STEPS + 1])
    layout["yaxis2"].update(type="log", range=[-8, 0.2], exponentformat="power")
    title = (
        f"{CHAINS[chain][0]}: t = {t}, TV(p_t, π) = {tv[t]:.2e}, spectral gap 1 − |λ₂| = {gap:.3f}"
    )
    layout.update(
        title=_title(title),
        hovermode=False,
        legend=dict(x=0.99, y=0.02, xanchor="right", yanchor="bottom"),  # empty lower right
    )
    return figure(traces, layout)


def markov_explorer(mode: str | None = None):
    return interactive(
        markov_figure,
        Slider("t", 0, _MC_STEPS, value=0, steps=_MC_STEPS + 1, label="steps t", fmt=".0f"),
        Choice("chain", [(v[0], k) for k, v in CHAINS.items()], label="chain"),
        mode=mode,
        height=430,
    )


# == Metropolis–Hastings =========================================================================

_MODES, _MODE_SD = 1.5, 0.7
_CENTRES = torch.tensor([-_MODES, _MODES], dtype=F64)


def bimodal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log π`` of the equal mixture of ``N(±1.5, 0.7²)`` on the first coordinate of
    ``z (chains, 1)``."""
    return inf.mixture_1d_log_prob(z, _CENTRES, _MODE_SD)


def bimodal_density(x: np.ndarray) -> np.ndarray:
    return np.exp(bimodal_log_prob(torch.as_tensor(x, dtype=F64)[:, None]).numpy())


_MH_CHAINS, _MH_STEPS, _MH_BURN, _MH_LAGS = 32, 400, 50, 40


@functools.lru_cache(maxsize=64)
def mh_run(log10_scale: float) -> dict:
    """32 random-walk chains of 400 steps on the bimodal target with proposal σ =
    10^log10_scale: the samples, acceptance, autocorrelation and ESS (first 50 steps dropped)."""
    scale = 10 ** check_real(log10_scale, "log10_scale")
    x0 = 2 * torch.randn(_MH_CHAINS, 1, generator=torch.Generator().manual_seed(1), dtype=F64)
    out = inf.metropolis_hastings(bimodal_log_prob, x0, steps=_MH_STEPS, scale=scale, seed=2)
    diag = inf.chain_diagnostics(out.samples[:, :, 0], _MH_BURN, _MH_LAGS)
    return dict(
        samples=out.samples[:, :, 0].numpy(),
        acceptance=float(out.acceptance.mean()),
        acf=diag["acf"].numpy(),
        ess=diag["ess"],
        draws=diag["draws"],
        scale=scale,
    )


def _mh_layout(r: dict) -> dict:
    heads = [
        (f"trace of chain 1 ({_MH_STEPS} steps)", 0.5, 1.0),
        ("autocorrelation ρ_k", 0.22, 0.4),
        ("all chains vs target π", 0.78, 0.4),
    ]
    annotations = [
        dict(
            text=t,
            x=x,
            y=y,
            xref="paper",
            yref="paper",
            showarrow=False,
            xanchor="center",
            yanchor="bottom",
        )
        for t, x, y in heads
    ]
    title = (
        f"proposal σ = {r['scale']:.3g}: acceptance {100 * r['acceptance']:.0f}%, "
        f"ESS {r['ess']:.0f} of {r['draws']} draws ({100 * r['ess'] / r['draws']:.1f}%)"
    )
    return dict(
        xaxis=dict(domain=[0, 1], anchor="y", title=dict(text="step")),
        yaxis=dict(domain=[0.58, 1], anchor="x", range=[-4.5, 4.5]),
        xaxis2=dict(domain=[0, 0.44], anchor="y2", title=dict(text="lag k")),
        yaxis2=dict(domain=[0, 0.4], anchor="x2", range=[-0.2, 1.05]),
        xaxis3=dict(domain=[0.56, 1], anchor="y3", range=[-4.5, 4.5]),
        yaxis3=dict(domain=[0, 0.4], anchor="x3", range=[0, 0.75]),
        annotations=annotations,
        title=_title(title),
        bargap=0,
        hovermode=False,
    )


def mh_figure(log10_scale: float) -> go.Figure:
    """Trace of one chain (top), the autocorrelation (bottom left) and the histogram of all
    chains against the target (bottom right); acceptance and ESS in the title."""
    r = mh_run(round(check_real(log10_scale, "log10_scale"), 4))
    grid = np.linspace(-4.5, 4.5, 181)
    bins = np.linspace(-4.5, 4.5, 46)
    counts, _ = np.histogram(r["samples"][_MH_BURN:].ravel(), bins)
    dens = counts / (r["draws"] * np.diff(bins))
    third = dict(xaxis="x3", yaxis="y3")
    traces = [
        line(
            np.arange(_MH_STEPS),
            np.float32(r["samples"][:, 0]),
            _BLUE,
            "chain 1",
            line=dict(width=1.2),
        ),
        dict(
            type="bar",
            x=np.arange(_MH_LAGS + 1),
            y=r["acf"],
            xaxis="x2",
            yaxis="y2",
            marker=dict(color=_ORANGE),
            showlegend=False,
            name="ACF",
        ),
        dict(
            type="bar",
            x=(bins[:-1] + bins[1:]) / 2,
            y=dens,
            marker=dict(color=_SKY),
            showlegend=False,
            name="samples",
            width=0.2,
            **third,
        ),
        line(grid, bimodal_density(grid), _RED, "target", **third),
    ]
    return figure(traces, _mh_layout(r))


def mh_explorer(mode: str | None = None):
    return interactive(
        mh_figure,
        Slider("log10_scale", -1.5, 1.5, value=-1.0, steps=13, label="log₁₀ proposal σ"),
        mode=mode,
        height=560,
    )


# == Gibbs =======================================================================================

_GIBBS_CHAINS, _GIBBS_STEPS, _GIBBS_BURN = 16, 400, 20


@functools.lru_cache(maxsize=64)
def gibbs_run(rho: float) -> dict:
    """16 Gibbs chains of 400 sweeps on ``N(0, [[1, ρ], [ρ, 1]])`` started at (−2.5, 2.5), with
    the autocorrelation and the pooled ESS of the first coordinate (first 20 sweeps dropped)."""
    rho = check_real(rho, "rho")
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1); got {rho}")
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=F64)
    x0 = torch.tensor([[-2.5, 2.5]], dtype=F64).repeat(_GIBBS_CHAINS, 1)
    out = inf.gibbs_gaussian(torch.zeros(2, dtype=F64), cov, x0, steps=_GIBBS_STEPS, seed=3)
    diag = inf.chain_diagnostics(out.samples[:, :, 0], _GIBBS_BURN, 40)
    return dict(
        path=torch.cat([x0[:1], out.samples[:, 0]]).numpy(),
        acf=diag["acf"].numpy(),
        ess=diag["ess"],
        sweeps=diag["draws"],
    )


def gibbs_figure(rho: float) -> go.Figure:
    """The first 20 Gibbs sweeps of one chain over the target's 1σ/2σ ellipses (left), and the
    autocorrelation of x₁ against the exact ``ρ^{2k}`` (right)."""
    rho = check_real(rho, "rho")
    r = gibbs_run(round(rho, 6))
    path = r["path"][:21]
    zig = np.empty((2 * len(path) - 1, 2))  # x₁ moves first, then x₂
    zig[0::2] = path
    zig[1::2, 0], zig[1::2, 1] = path[1:, 0], path[:-1, 1]
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=F64)
    exact_ess = r["sweeps"] * (1 - rho**2) / (1 + rho**2)
    traces = []
    for radius in (1.0, 2.0):
        ex, ey = _ellipse(torch.zeros(2, dtype=F64), cov, radius)
        traces.append(line(ex, ey, GREY, f"{radius:.0f}σ", line=dict(width=1.5)))
    lags = np.arange(41)
    path_trace = line(zig[:, 0], zig[:, 1], _BLUE, "Gibbs path", line=dict(width=1.5))
    path_trace.update(mode="lines+markers", marker=dict(size=4))
    traces += [
        path_trace,
        dict(
            type="bar",
            x=lags,
            y=r["acf"],
            xaxis="x2",
            yaxis="y2",
            name="estimated ρ_k",
            marker=dict(color=_ORANGE),
        ),
        line(lags, rho ** (2 * lags), _RED, "exact ρ^(2k)", right=True, showlegend=True),
    ]
    layout = side_by_side(("first 20 sweeps", "autocorrelation of x₁"), split=0.5)
    layout["xaxis"].update(range=[-3.2, 3.2], title=dict(text="x₁"))
    layout["yaxis"].update(range=[-3.2, 3.2], title=dict(text="x₂"), scaleanchor="x")
    layout["xaxis2"].update(title=dict(text="lag k (sweeps)"))
    layout["yaxis2"].update(range=[-0.2, 1.05])
    title = (
        f"ρ = {rho:.2f}: ESS of x₁ {r['ess']:.0f} from {r['sweeps']} draws "
        f"(exact {exact_ess:.0f}); lag-1 autocorrelation {r['acf'][1]:.3f} "
        f"(exact ρ² = {rho**2:.3f})"
    )
    layout.update(
        title=_title(title),
        hovermode=False,
        bargap=0,
        legend=dict(x=0.99, y=0.99, xanchor="right"),
    )
    return figure(traces, layout)


def gibbs_explorer(mode: str | None = None):
    return interactive(
        gibbs_figure,
        Slider("rho", 0.0, 0.99, value=0.45, steps=12, label="correlation ρ"),
        mode=mode,
        height=430,
    )
