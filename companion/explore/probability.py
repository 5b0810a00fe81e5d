"""Figures of the chapter "Probability".

Reference values (pdfs, cdfs, means, variances) come from :mod:`scipy.stats`; the quantities the
chapter teaches (MGF moments, Monte Carlo and importance-sampling estimates, gradient
estimators, Gaussian conditioning) come from :mod:`companion.sampling`. Figures redrawn on every
slider move are assembled as plain dictionaries and built without plotly's validation (the tests
rebuild each one with validation on).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch
from scipy import special, stats
from torch.distributions import Normal

from .. import sampling as smp
from .._validate import check_int, check_real
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side

__all__ = [
    "GALLERY",
    "gallery_params",
    "gallery_figure",
    "distribution_gallery",
    "grid_posterior",
    "bayes_figure",
    "bayes_explorer",
    "mc_error_figure",
    "is_second_moment",
    "is_figure",
    "importance_explorer",
    "gradient_variance_table",
    "gradient_variance_figure",
    "clt_figure",
    "clt_explorer",
    "mvn_figure",
    "mvn_explorer",
]

F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _PURPLE, _SKY, _RED = OKABE_ITO[:6]


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


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


def gallery_figure(family: str, s1: float, s2: float) -> go.Figure:
    """pmf/pdf (left) and cdf (right) of one family, with mean and variance from SciPy and from
    the derivatives of the MGF at 0 (:func:`companion.sampling.moments_from_mgf`) in the title."""
    params = gallery_params(family, s1, s2)
    dist = _scipy(family, params)
    label, mgf_text, discrete = GALLERY[family]
    lo, hi = _X_RANGES[family]
    mean, var = (float(v) for v in dist.stats(moments="mv"))
    m1, m2 = smp.moments_from_mgf(family, 2, **params)
    if discrete:
        k = np.arange(math.ceil(lo), math.floor(hi) + 1)
        pm = dist.pmf(k)
        stem_x = np.repeat(k, 3).astype(object)
        stem_y = np.column_stack([np.zeros_like(pm), pm, np.full_like(pm, np.nan)]).ravel()
        stem_x[2::3] = None
        stem_y = [None if np.isnan(v) else float(v) for v in stem_y]
        dens = dict(x=list(stem_x), y=stem_y, mode="lines")
        dots = dict(x=_f32(k), y=_f32(pm), mode="markers")
        xc = np.linspace(lo, hi, 2 * int(hi - lo) + 1)
        cdf = dict(x=_f32(xc), y=_f32(dist.cdf(np.floor(xc))), line=dict(shape="hv"))
        top = float(pm.max())
    else:
        x = np.linspace(lo, hi, 161)
        pdf = dist.pdf(x)
        dens = dict(x=_f32(x), y=_f32(pdf), mode="lines")
        dots = dict(x=[], y=[], mode="markers")
        cdf = dict(x=_f32(x), y=_f32(dist.cdf(x)), line=dict(shape="linear"))
        top = float(np.nanmax(pdf[np.isfinite(pdf)]))
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
    layout.update(
        title=dict(
            text=(
                f"{_describe(family, params)}:  mean {mean:.3f}, variance {var:.3f}<br>"
                f"from the MGF:  M′(0) = {m1:.3f},  M″(0) − M′(0)² = {m2 - m1**2:.3f}"
            )
        ),
        showlegend=False,
        hovermode=False,
        margin=dict(t=90, b=80),
    )
    layout["xaxis"].update(range=[lo, hi], title=dict(text="x"))
    layout["yaxis"].update(range=[0, ymax])
    layout["xaxis2"].update(range=[lo, hi], title=dict(text="x"))
    layout["yaxis2"].update(range=[0, 1.05])
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


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

_THETA = (np.arange(2000) + 0.5) / 2000  # midpoints of 2000 cells of [0, 1]


def grid_posterior(a: float, b: float, heads: int, tails: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior density of a coin's θ by Bayes' theorem on a grid ({eq}`eq-prob-bayes`):
    prior ``Beta(a, b)`` times the binomial likelihood, divided by their integral (midpoint
    rule on 2000 cells). The chapter compares it with the conjugate ``Beta(a + h, b + t)``."""
    a, b = check_real(a, "a"), check_real(b, "b")
    if a <= 0 or b <= 0:
        raise ValueError(f"a and b must be > 0; got {a}, {b}")
    heads, tails = check_int(heads, "heads", minimum=0), check_int(tails, "tails", minimum=0)
    log_prior = stats.beta.logpdf(_THETA, a, b)
    log_lik = heads * np.log(_THETA) + tails * np.log1p(-_THETA)
    log_post = log_prior + log_lik
    post = np.exp(log_post - log_post.max())
    return _THETA, post / (post.sum() / len(_THETA))


def bayes_figure(a: float, b: float, heads: float, tails: float) -> go.Figure:
    """Prior, (normalised) likelihood and posterior of a coin's bias θ."""
    heads, tails = round(check_real(heads, "heads")), round(check_real(tails, "tails"))
    theta, post_grid = grid_posterior(a, b, heads, tails)
    th = theta[::20]
    prior = stats.beta.pdf(th, a, b)
    lik = stats.beta.pdf(th, heads + 1, tails + 1)  # the likelihood, scaled to integrate to 1
    post = stats.beta(a + heads, b + tails)
    lo, hi = post.ppf([0.025, 0.975])
    grid_mean = float(np.mean(theta * post_grid))
    traces = [
        dict(
            type="scatter",
            x=_f32(th),
            y=_f32(prior),
            name="prior Beta(a, b)",
            line=dict(color=_SKY, dash="dash"),
        ),
        dict(
            type="scatter",
            x=_f32(th),
            y=_f32(lik),
            name="likelihood (scaled)",
            line=dict(color=_ORANGE, dash="dot"),
        ),
        dict(
            type="scatter",
            x=_f32(th),
            y=_f32(post.pdf(th)),
            name="posterior (closed form)",
            line=dict(color=_BLUE, width=3),
        ),
        dict(
            type="scatter",
            x=_f32(th[::4]),
            y=_f32(post_grid[::20][::4]),
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
        legend=dict(x=0.01, y=0.99, bgcolor="rgba(128,128,128,0.1)"),
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


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
    """Monte Carlo estimates of E[X²] = 1 for X ~ N(0, 1): the root-mean-square error over
    ``repeats`` runs against N on log–log axes, next to √(Var f / N) = √(2/N)."""
    repeats = check_int(repeats, "repeats", minimum=2)
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    ns = np.unique(np.logspace(1, 4.5, 15).astype(int))
    x = torch.randn(repeats, int(ns[-1]), generator=g, dtype=F64) ** 2
    csum = torch.cumsum(x, 1)
    rmse = [float(torch.sqrt(torch.mean((csum[:, n - 1] / n - 1.0) ** 2))) for n in ns]
    single = (csum[0, ns - 1] / torch.as_tensor(ns)).numpy()
    fig = go.Figure(
        [
            go.Scatter(x=ns, y=rmse, mode="markers+lines", name=f"RMS error over {repeats} runs"),
            go.Scatter(
                x=ns, y=np.sqrt(2 / ns), name="√(Var[X²]/N) = √(2/N)", line=dict(dash="dash")
            ),
            go.Scatter(
                x=ns,
                y=np.abs(single - 1),
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


def is_second_moment(mu: float, sigma: float, c: float = IS_THRESHOLD) -> float:
    """``E_q[(w(X) 1{X > c})²] = ∫_c^∞ p(x)² / q(x) dx`` for ``p = N(0, 1)``, ``q = N(μ, σ²)``.

    Finite iff ``σ² > 1/2``, or ``σ² = 1/2`` and ``μ > 0``. For ``σ² > 1/2``, with
    ``a = 1 − 1/(2σ²)`` and ``m = μ / (2aσ²)``,
    ``p²/q = σ/√(2π) · exp(−a(x + m)² + a m² + μ²/(2σ²))``, whose integral over ``(c, ∞)``
    is a Gaussian tail: ``½√(π/a) erfc(√a (c + m))`` times the constants. At ``σ² = 1/2``
    the integrand is ``σ/√(2π) · exp(μ² − 2μx)``, integrable on ``(c, ∞)`` only when ``μ > 0``,
    with integral ``σ/√(2π) · exp(μ² − 2μc) / (2μ)`` (both checked against quadrature in the
    tests). Returns ``inf`` where the moment diverges.
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
    log_erfc = math.log(2.0) + float(special.log_ndtr(-math.sqrt(2 * a) * (c + m)))
    log_tail = math.log(0.5 * math.sqrt(math.pi / a)) + log_erfc
    return sigma / math.sqrt(2 * math.pi) * math.exp(const + log_tail)


def _is_run(mu: float, sigma: float):
    """One seeded run of the rare-event estimator (the same noise for every proposal)."""
    p = Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    q = Normal(torch.tensor(mu, dtype=F64), torch.tensor(sigma, dtype=F64))

    def f(x):
        return (x > IS_THRESHOLD).to(F64)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        est = smp.importance_sampling(f, p, q, IS_SAMPLES)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        x = q.sample((IS_SAMPLES,))
    terms = torch.exp(p.log_prob(x) - q.log_prob(x)) * f(x)
    return est, x, terms


def is_figure(mu: float, sigma: float) -> go.Figure:
    """Estimating P(X > 4) for X ~ N(0, 1) with the proposal N(μ, σ²)."""
    mu, sigma = check_real(mu, "mu"), check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    exact = float(stats.norm.sf(IS_THRESHOLD))
    est, x, terms = _is_run(mu, sigma)
    m2 = is_second_moment(mu, sigma)
    var = m2 - exact**2
    rel = "∞" if math.isinf(var) else f"{math.sqrt(var / IS_SAMPLES) / exact:.3g}"
    hits = terms[terms > 0]
    ess_f = float(hits.sum() ** 2 / (hits**2).sum()) if len(hits) else 0.0
    xs = np.linspace(-4, 9, 261)
    n = torch.arange(1, IS_SAMPLES + 1, dtype=F64)
    running = (torch.cumsum(terms, 0) / n).numpy()
    keep = np.unique(np.r_[np.geomspace(1, IS_SAMPLES, 150).astype(int) - 1])
    right = dict(xaxis="x2", yaxis="y2")
    traces = [
        dict(
            type="scatter",
            x=_f32(xs),
            y=_f32(stats.norm.pdf(xs)),
            name="p = N(0, 1)",
            line=dict(color=_BLUE),
        ),
        dict(
            type="scatter",
            x=_f32(xs),
            y=_f32(stats.norm.pdf(xs, mu, sigma)),
            name="proposal q",
            line=dict(color=_ORANGE),
            fill="tozeroy",
        ),
        dict(
            type="scatter",
            x=[IS_THRESHOLD, IS_THRESHOLD],
            y=[0, 1],
            name="x = 4",
            mode="lines",
            line=dict(color=_RED, dash="dot"),
        ),
        dict(
            type="scatter",
            x=_f32(keep + 1),
            y=_f32(running[keep] / exact),
            name="running estimate / exact",
            line=dict(color=_GREEN),
            **right,
        ),
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
        legend=dict(x=0.0, y=0.98, bgcolor="rgba(128,128,128,0.1)"),
    )
    layout["xaxis"].update(range=[-4, 9], title=dict(text="x"))
    layout["yaxis"].update(range=[0, 1.0])
    layout["xaxis2"].update(type="log", title=dict(text="n"))
    layout["yaxis2"].update(range=[0, 3])
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def importance_explorer(mode: str | None = None):
    return interactive(
        is_figure,
        Slider("mu", 0.0, 6.0, value=4.5, steps=13, label="proposal mean μ"),
        Slider("sigma", 0.4, 2.0, value=1.0, steps=9, label="proposal σ"),
        mode=mode,
        height=500,
    )


# --- gradient estimators ---------------------------------------------------------------------


def gradient_variance_table(
    mu: float = 1.0, sigma: float = 1.0, ns=(10, 100, 1000), repeats: int = 300, seed: int = 0
) -> dict[str, np.ndarray]:
    """Measured variance of the two estimators of ``∂/∂μ E[Z²]`` (``Z ~ N(μ, σ²)``, true value
    2μ) over ``repeats`` independent runs at each sample size in ``ns``: the variances, the means,
    and the standard errors of the variances (``*_var_se``)."""
    repeats = check_int(repeats, "repeats", minimum=2)
    loc = torch.tensor(check_real(mu, "mu"), dtype=F64)
    scale = torch.tensor(check_real(sigma, "sigma"), dtype=F64)
    ns = np.asarray([check_int(int(n), "n", minimum=2) for n in ns])

    def f(z):
        return z**2

    out = {k: [] for k in ("score", "reparam", "score_mean", "reparam_mean")}
    out.update(n=ns, score_var_se=[], reparam_var_se=[])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed", minimum=0))
        for n in ns:
            # One call with n·repeats samples; its per-sample terms, cut into `repeats` groups of
            # n, are `repeats` independent n-sample estimates.
            for key, fn in (
                ("score", smp.score_function_gradient),
                ("reparam", smp.reparameterization_gradient),
            ):
                terms = fn(f, Normal, (loc, scale), int(n) * repeats).per_sample[0]
                est = terms.reshape(repeats, int(n)).mean(1)
                out[key].append(float(est.var()))
                # Standard error of that sample variance, from the fourth central moment.
                m4 = float(((est - est.mean()) ** 4).mean())
                out[key + "_var_se"].append(math.sqrt(max(m4 - float(est.var()) ** 2, 0) / repeats))
                out[key + "_mean"].append(float(est.mean()))
    return {k: np.asarray(v) for k, v in out.items()}


def gradient_variance_figure(table: dict[str, np.ndarray], mu: float, sigma: float) -> go.Figure:
    """Measured estimator variances (markers) against the exact per-sample variances over n."""
    ns = table["n"]
    v_score = (mu**4 + 18 * mu**2 * sigma**2 + 15 * sigma**4) / sigma**2 - 4 * mu**2
    v_rep = 4 * sigma**2
    fine = np.geomspace(ns[0], ns[-1], 50)
    fig = go.Figure(
        [
            go.Scatter(
                x=ns,
                y=table["score"],
                mode="markers",
                name="score function (measured)",
                marker=dict(size=10, color=_ORANGE),
            ),
            go.Scatter(
                x=fine,
                y=v_score / fine,
                name=f"{v_score:.0f} / n",
                line=dict(color=_ORANGE, dash="dash"),
            ),
            go.Scatter(
                x=ns,
                y=table["reparam"],
                mode="markers",
                name="reparameterisation (measured)",
                marker=dict(size=10, color=_BLUE),
            ),
            go.Scatter(
                x=fine, y=v_rep / fine, name=f"{v_rep:.0f} / n", line=dict(color=_BLUE, dash="dash")
            ),
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
    g = torch.Generator().manual_seed(0)
    x = -torch.log(torch.rand(_CLT_REPEATS, _CLT_MAX_N, generator=g, dtype=F64))  # Exp(1)
    return torch.cumsum(x, 1)


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
    mids = 0.5 * (edges[1:] + edges[:-1])
    xs = np.linspace(lo, hi, 201)
    exact = stats.gamma(n, scale=1 / n)
    tail_sim = float(np.mean(np.abs(means - 1) >= k * se))
    tail_exact = float(exact.cdf(1 - k * se) + exact.sf(1 + k * se))
    cheb = min(1.0, 1 / k**2)
    top = 1.25 * max(dens.max(), float(exact.pdf(xs).max()) if n > 1 else 1.0)
    traces = [
        dict(
            type="bar",
            x=_f32(mids),
            y=_f32(dens),
            name="sample means (simulated)",
            marker=dict(color=_SKY),
            opacity=0.6,
            width=float(edges[1] - edges[0]),
        ),
        dict(
            type="scatter",
            x=_f32(xs),
            y=_f32(exact.pdf(xs)),
            name="exact: Gamma(n, rate n)",
            line=dict(color=_BLUE),
        ),
        dict(
            type="scatter",
            x=_f32(xs),
            y=_f32(stats.norm.pdf(xs, 1, se)),
            name="CLT: N(1, 1/n)",
            line=dict(color=_RED, dash="dash"),
        ),
    ]
    shapes = [
        dict(
            type="rect",
            x0=x0,
            x1=x1,
            y0=0,
            y1=1,
            xref="x",
            yref="paper",
            fillcolor="rgba(204,121,167,0.18)",
            line=dict(width=0),
            layer="below",
        )
        for x0, x1 in ((lo - 10, 1 - k * se), (1 + k * se, hi + 10))
    ]
    layout = dict(
        title=dict(
            text=(
                f"n = {n}:  P(|X̄ − 1| ≥ {k:.2f}·σ/√n) = {tail_exact:.4f} exact, "
                f"{tail_sim:.4f} simulated,<br>{2 * stats.norm.sf(k):.4f} by the normal "
                f"approximation;  Chebyshev's bound 1/k² = {cheb:.4f}"
            )
        ),
        shapes=shapes,
        xaxis=dict(title=dict(text="sample mean X̄ of n Exp(1) draws"), range=[lo, hi]),
        yaxis=dict(title=dict(text="density"), range=[0, top]),
        bargap=0,
        hovermode=False,
        margin=dict(t=90),
        legend=dict(x=0.99, y=0.99, xanchor="right", bgcolor="rgba(128,128,128,0.1)"),
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


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
    t = torch.linspace(0, 2 * math.pi, 61, dtype=F64)
    circle = torch.stack([torch.cos(t), torch.sin(t)])
    gap = torch.full((2, 1), math.nan, dtype=F64)
    # The three ellipses in one trace, separated by NaN gaps.
    ell = torch.cat(
        [torch.cat([_MVN_MEAN[:, None] + r * chol @ circle, gap], 1) for r in (1, 2, 3)], 1
    )
    ex, ey = _f32(ell[0]), _f32(ell[1])
    show = pts[:200].numpy()
    ys = np.linspace(-7, 9, 161)
    edges = np.linspace(-7, 9, 65)
    counts, _ = np.histogram(slab.numpy(), edges)
    dens = counts / max(1, len(slab)) / np.diff(edges)
    right = dict(xaxis="x2", yaxis="y2")
    traces = [
        dict(
            type="scatter",
            x=_f32(show[:, 0]),
            y=_f32(show[:, 1]),
            mode="markers",
            name="samples",
            marker=dict(size=3, color=_SKY, opacity=0.5),
        ),
        dict(
            type="scatter",
            x=ex,
            y=ey,
            mode="lines",
            name="Mahalanobis distance 1, 2, 3",
            line=dict(color=_BLUE, width=1.5),
        ),
        dict(
            type="scatter",
            x=[a, a, a],
            y=[cm - 2 * csd, cm, cm + 2 * csd],
            mode="lines+markers",
            name="E[x₂ | x₁ = a] ± 2 sd",
            line=dict(color=_RED, width=4),
            marker=dict(size=[6, 11, 6]),
        ),
        dict(
            type="bar",
            x=_f32(0.5 * (edges[1:] + edges[:-1])),
            y=_f32(dens),
            name=f"samples with |x₁ − a| < {_SLAB}",
            marker=dict(color=_SKY),
            opacity=0.6,
            width=float(edges[1] - edges[0]),
            **right,
        ),
        dict(
            type="scatter",
            x=_f32(ys),
            y=_f32(stats.norm.pdf(ys, cm, csd)),
            name="p(x₂ | x₁ = a), Schur complement",
            line=dict(color=_RED),
            **right,
        ),
        dict(
            type="scatter",
            x=_f32(ys),
            y=_f32(stats.norm.pdf(ys, 1.0, sigma2)),
            name="marginal p(x₂) = N(1, σ₂²)",
            line=dict(color=_GREEN, dash="dash"),
            **right,
        ),
    ]
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
        legend=dict(
            x=1.0,
            y=1.0,
            xanchor="right",
            yanchor="top",
            font=dict(size=10),
            bgcolor="rgba(128,128,128,0.1)",
        ),
        margin=dict(t=90, b=110),
    )
    layout["xaxis"].update(range=[-4, 4], title=dict(text="x₁"))
    layout["yaxis"].update(range=[-7, 9], title=dict(text="x₂"))
    layout["xaxis2"].update(range=[-7, 9], title=dict(text="x₂"))
    layout["yaxis2"].update(range=[0, 1.6])
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def mvn_explorer(mode: str | None = None):
    return interactive(
        mvn_figure,
        Slider("rho", -0.9, 0.9, value=0.6, steps=7, label="ρ"),
        Slider("sigma2", 1.0, 2.0, value=2.0, steps=3, label="σ₂", fmt=".1f"),
        Slider("a", -2.0, 2.0, value=1.0, steps=5, label="condition on x₁ = a", fmt=".1f"),
        mode=mode,
        height=580,
    )
