"""Figures of the chapter "Probability".

Reference values (pdfs, cdfs, means, variances) come from :mod:`scipy.stats`; the quantities the
chapter teaches (MGF moments, Monte Carlo and importance-sampling estimates and runs, gradient
estimators, Gaussian conditioning, the grid posterior) come from :mod:`companion.sampling`.
Figures redrawn on every slider move are assembled as plain dictionaries and built without
plotly's validation (the tests rebuild each one with validation on).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch
from scipy import stats

from .. import sampling as smp
from .._validate import check_real
from ..figures import Choice, Slider, interactive
from ..sampling import grid_posterior, is_second_moment
from ..theme import OKABE_ITO, side_by_side
from ._plot import f32, figure, legend

__all__ = [
    "GALLERY",
    "gallery_params",
    "gallery_figure",
    "distribution_gallery",
    "bayes_figure",
    "bayes_explorer",
    "mc_error_figure",
    "is_figure",
    "importance_explorer",
    "gradient_variance_figure",
    "clt_figure",
    "clt_explorer",
    "mvn_figure",
    "mvn_explorer",
]

F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _PURPLE, _SKY, _RED = OKABE_ITO[:6]


def _check_unit(v: float, name: str) -> float:
    v = check_real(v, name)
    if not 0 <= v <= 1:
        raise ValueError(f"{name} must lie in [0, 1]; got {v}")
    return v


# --- the distribution gallery ------------------------------------------------------------------

#: family -> (label, MGF formula shown in the figure, discrete?)
GALLERY = {
    "normal": ("Gaussian N(μ, σ²)", "exp(μt + σ²t²/2)", False),
    "bernoulli": ("Bernoulli(p)", "1 − p + p eᵗ", True),
    "binomial": ("Binomial(n, p)", "(1 − p + p eᵗ)ⁿ", True),
    "poisson": ("Poisson(λ)", "exp(λ(eᵗ − 1))", True),
    "uniform": ("Uniform(a, b)", "(e^{bt} − e^{at}) / ((b − a)t)", False),
    "gamma": ("Gamma(α, rate β)", "(β / (β − t))^α  for t < β", False),
    "beta": ("Beta(α, β)", "₁F₁(α; α + β; t)", False),
}


def gallery_params(family: str, s1: float, s2: float) -> dict[str, float]:
    """Map the gallery's two generic sliders ``s1, s2 ∈ [0, 1]`` to a family's parameters
    (named as in :func:`companion.sampling.mgf`, i.e. as in :mod:`torch.distributions`)."""
    if family not in GALLERY:
        raise ValueError(f"family must be one of {sorted(GALLERY)}; got {family!r}")
    s1, s2 = _check_unit(s1, "s1"), _check_unit(s2, "s2")
    if family == "normal":
        return {"loc": -2 + 4 * s1, "scale": 0.5 + 1.5 * s2}
    if family == "bernoulli":
        return {"probs": 0.05 + 0.9 * s1}
    if family == "binomial":
        return {"total_count": float(2 + round(18 * s2)), "probs": 0.05 + 0.9 * s1}
    if family == "poisson":
        return {"rate": 0.5 + 9.5 * s1}
    if family == "uniform":
        low = -2 + 2 * s1
        return {"low": low, "high": low + 0.5 + 3.5 * s2}
    if family == "gamma":
        return {"concentration": 0.5 + 5.5 * s1, "rate": 0.5 + 2.5 * s2}
    return {"concentration1": 0.5 + 4.5 * s1, "concentration0": 0.5 + 4.5 * s2}


def _scipy(family: str, p: dict[str, float]):
    """The same distribution frozen in SciPy (the independent reference)."""
    if family == "normal":
        return stats.norm(p["loc"], p["scale"])
    if family == "bernoulli":
        return stats.bernoulli(p["probs"])
    if family == "binomial":
        return stats.binom(int(p["total_count"]), p["probs"])
    if family == "poisson":
        return stats.poisson(p["rate"])
    if family == "uniform":
        return stats.uniform(p["low"], p["high"] - p["low"])
    if family == "gamma":
        return stats.gamma(p["concentration"], scale=1 / p["rate"])
    return stats.beta(p["concentration1"], p["concentration0"])


def _describe(family: str, p: dict[str, float]) -> str:
    f = {
        "normal": "N({loc:.2f}, {scale:.2f}²)",
        "bernoulli": "Bernoulli({probs:.2f})",
        "binomial": "Binomial({total_count:.0f}, {probs:.2f})",
        "poisson": "Poisson({rate:.2f})",
        "uniform": "Uniform({low:.2f}, {high:.2f})",
        "gamma": "Gamma(α={concentration:.2f}, β={rate:.2f})",
        "beta": "Beta({concentration1:.2f}, {concentration0:.2f})",
    }[family]
    return f.format(**p)


_X_RANGES = {
    "normal": (-6.0, 6.0),
    "bernoulli": (-0.5, 1.5),
    "binomial": (-0.5, 20.5),
    "poisson": (-0.5, 22.5),
    "uniform": (-2.5, 2.5),
    "gamma": (0.0, 15.0),
    "beta": (0.0, 1.0),
}


def _gallery_discrete(dist, lo: float, hi: float) -> tuple[dict, dict, dict, float]:
    """Stems and dots of a pmf, and its step cdf, on the integers of [lo, hi]."""
    k = np.arange(math.ceil(lo), math.floor(hi) + 1)
    pm = dist.pmf(k)
    stem_x = np.repeat(k, 3).astype(object)
    stem_y = np.column_stack([np.zeros_like(pm), pm, np.full_like(pm, np.nan)]).ravel()
    stem_x[2::3] = None
    stem_y = [None if np.isnan(v) else float(v) for v in stem_y]
    dens = dict(x=list(stem_x), y=stem_y, mode="lines")
    dots = dict(x=f32(k), y=f32(pm), mode="markers")
    xc = np.linspace(lo, hi, 2 * int(hi - lo) + 1)
    cdf = dict(x=f32(xc), y=f32(dist.cdf(np.floor(xc))), line=dict(shape="hv"))
    return dens, dots, cdf, float(pm.max())


def _gallery_continuous(dist, lo: float, hi: float) -> tuple[dict, dict, dict, float]:
    x = np.linspace(lo, hi, 161)
    pdf = dist.pdf(x)
    dens = dict(x=f32(x), y=f32(pdf), mode="lines")
    dots = dict(x=[], y=[], mode="markers")
    cdf = dict(x=f32(x), y=f32(dist.cdf(x)), line=dict(shape="linear"))
    return dens, dots, cdf, float(np.nanmax(pdf[np.isfinite(pdf)]))


def _gallery_layout(lo: float, hi: float, ymax: float, mgf_text: str, text: str) -> dict:
    layout = side_by_side(("pmf / pdf", "cdf  F(x) = P(X ≤ x)"), gap=0.1)
    layout["annotations"].append(
        dict(
            text=f"MGF  M(t) = {mgf_text}",
            x=0.0,
            y=-0.2,
            xref="paper",
            yref="paper",
            xanchor="left",
            showarrow=False,
        )
    )
    layout.update(title=dict(text=text), showlegend=False, hovermode=False, margin=dict(t=90, b=80))
    layout["xaxis"].update(range=[lo, hi], title=dict(text="x"))
    layout["yaxis"].update(range=[0, ymax])
    layout["xaxis2"].update(range=[lo, hi], title=dict(text="x"))
    layout["yaxis2"].update(range=[0, 1.05])
    return layout


def gallery_figure(family: str, s1: float, s2: float) -> go.Figure:
    """pmf/pdf (left) and cdf (right) of one family, with mean and variance from SciPy and from
    the derivatives of the MGF at 0 (:func:`companion.sampling.moments_from_mgf`) in the title."""
    params = gallery_params(family, s1, s2)
    dist = _scipy(family, params)
    _, mgf_text, discrete = GALLERY[family]
    lo, hi = _X_RANGES[family]
    mean, var = (float(v) for v in dist.stats(moments="mv"))
    m1, m2 = smp.moments_from_mgf(family, 2, **params)
    dens, dots, cdf, top = (_gallery_discrete if discrete else _gallery_continuous)(dist, lo, hi)
    ymax = min(1.15 * top, 4.0)
    sd = math.sqrt(var)
    traces = [
        dict(type="scatter", name="pmf / pdf", line=dict(color=_BLUE), **dens),
        dict(type="scatter", name="pmf", marker=dict(color=_BLUE, size=7), **dots),
        dict(type="scatter", name="cdf", xaxis="x2", yaxis="y2", mode="lines", **cdf),
        dict(
            type="scatter",
            name="mean ± sd",
            x=[mean - sd, mean, mean + sd],
            y=[0.5 * ymax] * 3,
            mode="lines+markers",
            marker=dict(color=_RED, size=[6, 11, 6]),
            line=dict(color=_RED, dash="dot"),
        ),
    ]
    text = (
        f"{_describe(family, params)}:  mean {mean:.3f}, variance {var:.3f}<br>"
        f"from the MGF:  M′(0) = {m1:.3f},  M″(0) − M′(0)² = {m2 - m1**2:.3f}"
    )
    return figure(traces, _gallery_layout(lo, hi, ymax, mgf_text, text))


def distribution_gallery(mode: str | None = None):
    """Seven families, two generic sliders (their meaning per family is in the title)."""
    return interactive(
        gallery_figure,
        Choice("family", [(GALLERY[k][0], k) for k in GALLERY], label="family"),
        Slider("s1", 0.0, 1.0, value=0.4, steps=6, label="first parameter (low → high)"),
        Slider("s2", 0.0, 1.0, value=0.4, steps=6, label="second parameter (low → high)"),
        mode=mode,
        height=520,
    )


# --- Bayes: beta-binomial ---------------------------------------------------------------------


def _curve(x, y, name: str, colour: str, **kw) -> dict:
    """A line trace of float32 values, in the legend."""
    return dict(type="scatter", x=f32(x), y=f32(y), name=name, line=dict(color=colour, **kw))


def bayes_figure(a: float, b: float, heads: float, tails: float) -> go.Figure:
    """Prior, (normalised) likelihood and posterior of a coin's bias θ; the grid posterior is
    :func:`companion.sampling.grid_posterior`."""
    heads, tails = round(check_real(heads, "heads")), round(check_real(tails, "tails"))
    theta, post_grid = grid_posterior(a, b, heads, tails)
    th = theta[::20]
    lik = stats.beta.pdf(th, heads + 1, tails + 1)  # the likelihood, scaled to integrate to 1
    post = stats.beta(a + heads, b + tails)
    lo, hi = post.ppf([0.025, 0.975])
    grid_mean = float(np.mean(theta * post_grid))
    traces = [
        _curve(th, stats.beta.pdf(th, a, b), "prior Beta(a, b)", _SKY, dash="dash"),
        _curve(th, lik, "likelihood (scaled)", _ORANGE, dash="dot"),
        _curve(th, post.pdf(th), "posterior (closed form)", _BLUE, width=3),
        dict(
            type="scatter",
            x=f32(th[::4]),
            y=f32(post_grid[::20][::4]),
            mode="markers",
            name="posterior (grid Bayes)",
            marker=dict(color=_RED, size=6),
        ),
    ]
    layout = dict(
        title=dict(
            text=(
                f"prior Beta({a:.1f}, {b:.1f}), data {heads} heads / {tails} tails → "
                f"posterior Beta({a + heads:.1f}, {b + tails:.1f})<br>posterior mean "
                f"{post.mean():.4f} (grid: {grid_mean:.4f}),  95% interval "
                f"[{lo:.3f}, {hi:.3f}]"
            )
        ),
        xaxis=dict(title=dict(text="θ = P(heads)"), range=[0, 1]),
        yaxis=dict(title=dict(text="density"), range=[0, 8]),
        hovermode=False,
        margin=dict(t=90),
        legend=legend(0.01, 0.99),
    )
    return figure(traces, layout)


def bayes_explorer(mode: str | None = None):
    return interactive(
        bayes_figure,
        Slider("a", 1.0, 5.0, value=2.0, steps=3, label="prior a", fmt=".0f"),
        Slider("b", 1.0, 5.0, value=2.0, steps=3, label="prior b", fmt=".0f"),
        Slider("heads", 0, 20, value=5, steps=5, label="heads", fmt=".0f"),
        Slider("tails", 0, 20, value=0, steps=5, label="tails", fmt=".0f"),
        mode=mode,
        height=560,
    )


# --- Monte Carlo error -------------------------------------------------------------------------


def mc_error_figure(repeats: int = 200, seed: int = 0) -> go.Figure:
    """Monte Carlo estimates of E[X²] = 1 for X ~ N(0, 1) (:func:`companion.sampling.
    monte_carlo_error`): the root-mean-square error over ``repeats`` runs against N on log–log
    axes, next to √(Var f / N) = √(2/N)."""
    run = smp.monte_carlo_error(repeats, seed)
    ns = run["n"]
    fig = go.Figure(
        [
            go.Scatter(
                x=ns, y=run["rmse"], mode="markers+lines", name=f"RMS error over {repeats} runs"
            ),
            go.Scatter(
                x=ns, y=np.sqrt(2 / ns), name="√(Var[X²]/N) = √(2/N)", line=dict(dash="dash")
            ),
            go.Scatter(
                x=ns,
                y=np.abs(run["single"]),
                mode="markers",
                name="|error| of one run",
                marker=dict(symbol="x", size=7),
            ),
        ]
    )
    fig.update_layout(
        title="Monte Carlo estimate of E[X²] = 1, X ~ N(0, 1): error against N",
        xaxis=dict(type="log", title="N (samples)"),
        yaxis=dict(type="log", title="error"),
        hovermode=False,
    )
    return fig


# --- importance sampling -----------------------------------------------------------------------

IS_THRESHOLD = 4.0
IS_SAMPLES = 2000


def _is_traces(mu: float, sigma: float, terms: torch.Tensor, exact: float) -> list[dict]:
    xs = np.linspace(-4, 9, 261)
    n = torch.arange(1, IS_SAMPLES + 1, dtype=F64)
    running = (torch.cumsum(terms, 0) / n).numpy()
    keep = np.unique(np.r_[np.geomspace(1, IS_SAMPLES, 150).astype(int) - 1])
    right = dict(xaxis="x2", yaxis="y2")
    return [
        _curve(xs, stats.norm.pdf(xs), "p = N(0, 1)", _BLUE),
        dict(_curve(xs, stats.norm.pdf(xs, mu, sigma), "proposal q", _ORANGE), fill="tozeroy"),
        dict(
            type="scatter",
            x=[IS_THRESHOLD, IS_THRESHOLD],
            y=[0, 1],
            name="x = 4",
            mode="lines",
            line=dict(color=_RED, dash="dot"),
        ),
        dict(_curve(keep + 1, running[keep] / exact, "running estimate / exact", _GREEN), **right),
        dict(
            type="scatter",
            x=[1, IS_SAMPLES],
            y=[1, 1],
            mode="lines",
            name="exact",
            line=dict(color=_PURPLE, dash="dash"),
            **right,
        ),
    ]


def is_figure(mu: float, sigma: float) -> go.Figure:
    """Estimating P(X > 4) for X ~ N(0, 1) with the proposal N(μ, σ²)
    (:func:`companion.sampling.rare_event_importance_run`)."""
    mu, sigma = check_real(mu, "mu"), check_real(sigma, "sigma")
    exact = float(stats.norm.sf(IS_THRESHOLD))
    est, _, terms = smp.rare_event_importance_run(mu, sigma, IS_THRESHOLD, IS_SAMPLES)
    var = is_second_moment(mu, sigma, IS_THRESHOLD) - exact**2
    rel = "∞" if math.isinf(var) else f"{math.sqrt(var / IS_SAMPLES) / exact:.3g}"
    hits = terms[terms > 0]  # Kish's ESS of the nonzero terms w·f
    ess_f = float(smp.effective_sample_size(hits.log())) if len(hits) else 0.0
    layout = side_by_side(("target and proposal", "estimate / exact against n"), gap=0.12)
    layout.update(
        title=dict(
            text=(
                f"q = N({mu:.1f}, {sigma:.2f}²), n = {IS_SAMPLES}:  estimate "
                f"{float(est.estimate):.3e} ± {float(est.std_error):.1e}"
                f"<br>exact {exact:.3e};  ESS of the weights {est.ess:.1f}, "
                f"of the terms w·f {ess_f:.1f};<br>true relative standard error {rel}"
            )
        ),
        hovermode=False,
        margin=dict(t=115),
        legend=legend(0.0, 0.98),
    )
    layout["xaxis"].update(range=[-4, 9], title=dict(text="x"))
    layout["yaxis"].update(range=[0, 1.0])
    layout["xaxis2"].update(type="log", title=dict(text="n"))
    layout["yaxis2"].update(range=[0, 3])
    return figure(_is_traces(mu, sigma, terms, exact), layout)


def importance_explorer(mode: str | None = None):
    return interactive(
        is_figure,
        Slider("mu", 0.0, 6.0, value=4.5, steps=13, label="proposal mean μ"),
        Slider("sigma", 0.4, 2.0, value=1.0, steps=9, label="proposal σ"),
        mode=mode,
        height=500,
    )


# --- gradient estimators ---------------------------------------------------------------------

#: The measured variances of the two gradient estimators (in :mod:`companion.sampling`).


def gradient_variance_figure(table: dict[str, np.ndarray], mu: float, sigma: float) -> go.Figure:
    """Measured estimator variances (markers) against the exact per-sample variances over n."""
    ns = table["n"]
    v_score = (mu**4 + 18 * mu**2 * sigma**2 + 15 * sigma**4) / sigma**2 - 4 * mu**2
    v_rep = 4 * sigma**2
    fine = np.geomspace(ns[0], ns[-1], 50)

    def measured(key: str, name: str, colour: str) -> go.Scatter:
        marker = dict(size=10, color=colour)
        return go.Scatter(x=ns, y=table[key], mode="markers", name=name, marker=marker)

    def exact(v: float, colour: str) -> go.Scatter:
        return go.Scatter(
            x=fine, y=v / fine, name=f"{v:.0f} / n", line=dict(color=colour, dash="dash")
        )

    fig = go.Figure(
        [
            measured("score", "score function (measured)", _ORANGE),
            exact(v_score, _ORANGE),
            measured("reparam", "reparameterisation (measured)", _BLUE),
            exact(v_rep, _BLUE),
        ]
    )
    fig.update_layout(
        title=f"Variance of two unbiased estimators of ∂/∂μ E[Z²], Z ~ N({mu:g}, {sigma:g}²)",
        xaxis=dict(type="log", title="n (samples per estimate)"),
        yaxis=dict(type="log", title="variance of the estimate"),
        hovermode=False,
    )
    return fig


# --- LLN, CLT and Chebyshev --------------------------------------------------------------------

_CLT_REPEATS = 20000
_CLT_MAX_N = 64


@functools.lru_cache(maxsize=1)
def _clt_cumsum() -> torch.Tensor:
    """Running sums of Exp(1) draws (:func:`companion.sampling.exponential_running_sums`)."""
    return smp.exponential_running_sums(_CLT_REPEATS, _CLT_MAX_N, seed=0)


def _clt_traces(mids, dens, width: float, xs, exact, se: float) -> list[dict]:
    return [
        dict(
            type="bar",
            x=f32(mids),
            y=f32(dens),
            name="sample means (simulated)",
            marker=dict(color=_SKY),
            opacity=0.6,
            width=width,
        ),
        _curve(xs, exact.pdf(xs), "exact: Gamma(n, rate n)", _BLUE),
        _curve(xs, stats.norm.pdf(xs, 1, se), "CLT: N(1, 1/n)", _RED, dash="dash"),
    ]


def _tail_shapes(cuts: tuple[tuple[float, float], ...]) -> list[dict]:
    """Shaded bands over the two tails beyond k standard errors."""
    band = dict(type="rect", y0=0, y1=1, xref="x", yref="paper", line=dict(width=0))
    return [
        dict(band, x0=x0, x1=x1, fillcolor="rgba(204,121,167,0.18)", layer="below")
        for x0, x1 in cuts
    ]


def clt_figure(log2n: float, k: float) -> go.Figure:
    """The sample mean of n Exp(1) variables (mean 1, sd 1): histogram of 20 000 repetitions,
    the normal approximation N(1, 1/n), the exact Gamma(n, rate n) density, and the
    two-sided tail beyond k standard errors against Chebyshev's bound 1/k²."""
    n = 2 ** round(check_real(log2n, "log2n"))
    if not 1 <= n <= _CLT_MAX_N:
        raise ValueError(f"log2n must lie in [0, 6]; got {log2n}")
    k = check_real(k, "k")
    if k <= 0:
        raise ValueError(f"k must be > 0; got {k}")
    means = (_clt_cumsum()[:, n - 1] / n).numpy()
    se = 1 / math.sqrt(n)
    lo, hi = max(0.0, 1 - 4.5 * se), 1 + 6 * se
    edges = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(means, edges)
    dens = counts / (len(means) * np.diff(edges))
    xs = np.linspace(lo, hi, 201)
    exact = stats.gamma(n, scale=1 / n)
    tail_sim = float(np.mean(np.abs(means - 1) >= k * se))
    tail_exact = float(exact.cdf(1 - k * se) + exact.sf(1 + k * se))
    top = 1.25 * max(dens.max(), float(exact.pdf(xs).max()) if n > 1 else 1.0)
    mids = 0.5 * (edges[1:] + edges[:-1])
    traces = _clt_traces(mids, dens, float(edges[1] - edges[0]), xs, exact, se)
    layout = dict(
        title=dict(
            text=(
                f"n = {n}:  P(|X̄ − 1| ≥ {k:.2f}·σ/√n) = {tail_exact:.4f} exact, "
                f"{tail_sim:.4f} simulated,<br>{2 * stats.norm.sf(k):.4f} by the normal "
                f"approximation;  Chebyshev's bound 1/k² = {min(1.0, 1 / k**2):.4f}"
            )
        ),
        shapes=_tail_shapes(((lo - 10, 1 - k * se), (1 + k * se, hi + 10))),
        xaxis=dict(title=dict(text="sample mean X̄ of n Exp(1) draws"), range=[lo, hi]),
        yaxis=dict(title=dict(text="density"), range=[0, top]),
        bargap=0,
        hovermode=False,
        margin=dict(t=90),
        legend=legend(0.99, 0.99, xanchor="right"),
    )
    return figure(traces, layout)


def clt_explorer(mode: str | None = None):
    return interactive(
        clt_figure,
        Slider("log2n", 0, 6, value=2, steps=7, label="log₂ n", fmt=".0f"),
        Slider("k", 1.25, 4.0, value=2.0, steps=12, label="k (standard errors)"),
        mode=mode,
        height=500,
    )


# --- the multivariate Gaussian ---------------------------------------------------------------

_MVN_MEAN = torch.tensor([0.0, 1.0], dtype=F64)
_SLAB = 0.05


@functools.lru_cache(maxsize=1)
def _mvn_noise() -> torch.Tensor:
    return torch.randn(100_000, 2, generator=torch.Generator().manual_seed(0), dtype=F64)


def _mvn_cov(rho: float, sigma2: float) -> torch.Tensor:
    return torch.tensor([[1.0, rho * sigma2], [rho * sigma2, sigma2**2]], dtype=F64)


def _mvn_left(pts: torch.Tensor, chol: torch.Tensor, a: float, cm: float, csd: float) -> list:
    """Samples, the Mahalanobis ellipses 1, 2, 3 (one trace, NaN gaps) and E[x₂ | x₁ = a]."""
    t = torch.linspace(0, 2 * math.pi, 61, dtype=F64)
    circle = torch.stack([torch.cos(t), torch.sin(t)])
    gap = torch.full((2, 1), math.nan, dtype=F64)
    ell = torch.cat(
        [torch.cat([_MVN_MEAN[:, None] + r * chol @ circle, gap], 1) for r in (1, 2, 3)], 1
    )
    show = pts[:200].numpy()
    return [
        dict(
            type="scatter",
            x=f32(show[:, 0]),
            y=f32(show[:, 1]),
            mode="markers",
            name="samples",
            marker=dict(size=3, color=_SKY, opacity=0.5),
        ),
        _curve(ell[0], ell[1], "Mahalanobis distance 1, 2, 3", _BLUE, width=1.5),
        dict(
            type="scatter",
            x=[a, a, a],
            y=[cm - 2 * csd, cm, cm + 2 * csd],
            mode="lines+markers",
            name="E[x₂ | x₁ = a] ± 2 sd",
            line=dict(color=_RED, width=4),
            marker=dict(size=[6, 11, 6]),
        ),
    ]


def _mvn_right(slab: torch.Tensor, cm: float, csd: float, sigma2: float) -> list:
    """A histogram of the slab samples' x₂, the conditional density and the marginal of x₂."""
    ys = np.linspace(-7, 9, 161)
    edges = np.linspace(-7, 9, 65)
    counts, _ = np.histogram(slab.numpy(), edges)
    dens = counts / max(1, len(slab)) / np.diff(edges)
    right = dict(xaxis="x2", yaxis="y2")
    return [
        dict(
            type="bar",
            x=f32(0.5 * (edges[1:] + edges[:-1])),
            y=f32(dens),
            name=f"samples with |x₁ − a| < {_SLAB}",
            marker=dict(color=_SKY),
            opacity=0.6,
            width=float(edges[1] - edges[0]),
            **right,
        ),
        dict(
            _curve(ys, stats.norm.pdf(ys, cm, csd), "p(x₂ | x₁ = a), Schur complement", _RED),
            **right,
        ),
        dict(
            _curve(
                ys,
                stats.norm.pdf(ys, 1.0, sigma2),
                "marginal p(x₂) = N(1, σ₂²)",
                _GREEN,
                dash="dash",
            ),
            **right,
        ),
    ]


def mvn_figure(rho: float, sigma2: float, a: float) -> go.Figure:
    """N(μ, Σ) with μ = (0, 1), Σ = [[1, ρσ₂], [ρσ₂, σ₂²]]: Mahalanobis ellipses 1, 2, 3 and
    samples (left); the conditional density of x₂ given x₁ = a by the Schur-complement formula,
    a histogram of the samples with |x₁ − a| < 0.05, and the marginal of x₂ (right)."""
    rho, sigma2, a = check_real(rho, "rho"), check_real(sigma2, "sigma2"), check_real(a, "a")
    if not -1 < rho < 1 or sigma2 <= 0:
        raise ValueError(f"need -1 < rho < 1 and sigma2 > 0; got {rho}, {sigma2}")
    cov = _mvn_cov(rho, sigma2)
    chol = torch.linalg.cholesky(cov)
    pts = _MVN_MEAN + _mvn_noise() @ chol.mT
    cm, cc = smp.condition_gaussian(_MVN_MEAN, cov, torch.tensor([a], dtype=F64), 1)
    cm, csd = float(cm[0]), math.sqrt(float(cc[0, 0]))
    slab = pts[(pts[:, 0] - a).abs() < _SLAB, 1]
    layout = side_by_side(("density ellipses and samples", "x₂ given x₁ = a"), gap=0.1)
    layout.update(
        title=dict(
            text=(
                f"ρ = {rho:.2f}, σ₂ = {sigma2:.1f}, a = {a:.1f}:  formula E = {cm:.3f}, "
                f"sd = {csd:.3f};<br>{len(slab)} slab samples: mean {float(slab.mean()):.3f}, "
                f"sd {float(slab.std()):.3f}"
            )
        ),
        hovermode=False,
        bargap=0,
        # Inside the right panel, above the tallest conditional density (its y-range is
        # [0, 1.6]; the density peaks below 1), clear of the sliders under the plot.
        legend=legend(1.0, 1.0, xanchor="right", font=dict(size=10)),
        margin=dict(t=90, b=110),
    )
    layout["xaxis"].update(range=[-4, 4], title=dict(text="x₁"))
    layout["yaxis"].update(range=[-7, 9], title=dict(text="x₂"))
    layout["xaxis2"].update(range=[-7, 9], title=dict(text="x₂"))
    layout["yaxis2"].update(range=[0, 1.6])
    traces = _mvn_left(pts, chol, a, cm, csd) + _mvn_right(slab, cm, csd, sigma2)
    return figure(traces, layout)


def mvn_explorer(mode: str | None = None):
    return interactive(
        mvn_figure,
        Slider("rho", -0.9, 0.9, value=0.6, steps=7, label="ρ"),
        Slider("sigma2", 1.0, 2.0, value=2.0, steps=3, label="σ₂", fmt=".1f"),
        Slider("a", -2.0, 2.0, value=1.0, steps=5, label="condition on x₁ = a", fmt=".1f"),
        mode=mode,
        height=580,
    )
