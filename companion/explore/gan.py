"""Figures of the chapter "Generative adversarial networks".

Every number a figure prints says how it was obtained. The one-dimensional theory figures work
on a fine grid in float64 with every density kept as a *log*-density (the optimal discriminator
of two far-apart Gaussians is 0 or 1 to machine precision, and its logarithm is only finite when
computed from the logit); the training figures read the snapshots stored in a trained
:class:`companion.gan.GAN` and score them with :func:`companion.data.mode_coverage`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch
from torch.nn import functional as F

from .. import gan
from .._validate import check_real
from ..data import grid_centers, mode_coverage, ring_centers
from ..device import single_thread
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side

__all__ = [
    "GRID",
    "log_normal",
    "criterion_values",
    "criterion_figure",
    "criterion_explorer",
    "gradient_figure",
    "dstar_experiment",
    "dstar_figure",
    "centers_for",
    "snapshot_metrics",
    "training_figure",
    "training_explorer",
    "critic_experiment",
    "critic_figure",
    "penalty_of_linear_critic",
    "digits_figure",
    "gda_paths",
    "gda_figure",
]

F64 = torch.float64
#: The quadrature grid of the 1-D figures: [−30, 30] with spacing 0.005 (wide enough that the
#: mass outside it, at most ~1e-20 for the figures' Gaussians, is invisible).
GRID = torch.linspace(-30.0, 30.0, 12001, dtype=F64)
_DX = float(GRID[1] - GRID[0])
_PLOT = slice(4000, 8001, 40)  # x in [−10, 10], every 0.2
LOG4 = math.log(4.0)


def log_normal(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """log N(x; μ, σ²) (σ a standard deviation), computed directly in log space."""
    mu, sigma = check_real(mu, "mu"), check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma is a standard deviation and must be > 0; got {sigma}")
    return -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)


# -- C(G) = −log 4 + 2 JS ------------------------------------------------------------------------
def criterion_values(mu: float, sigma: float) -> dict[str, float]:
    """For p_data = N(0, 1) and p_g = N(μ, σ²): C(G) by quadrature with D* in log space
    (:func:`companion.gan.virtual_criterion`), JS(p_data ‖ p_g) by quadrature of its definition
    through the mixture m = (p_data + p_g)/2 (a log-sum-exp), and −log 4 + 2 JS."""
    lp, lq = log_normal(GRID, 0.0, 1.0), log_normal(GRID, mu, sigma)
    c_g = float(gan.virtual_criterion(lp, lq, _DX))
    lm = torch.logaddexp(lp, lq) - math.log(2.0)
    js = 0.5 * float((lp.exp() * (lp - lm) + lq.exp() * (lq - lm)).sum() * _DX)
    return {"C(G)": c_g, "JS": js, "-log4+2JS": -LOG4 + 2 * js}


#: The C(G)-against-μ curve sums over every 4th point of GRID (spacing 0.02): the integrands are
#: smooth Gaussians, so the sum agrees with the full grid's to about 1e-15 (checked in
#: ``tests/test_explore_gan.py`` over σ's range), at a quarter of the cost of a live σ move.
_CURVE_STRIDE = 4


@functools.lru_cache(maxsize=32)
def _criterion_curve(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """C(G) at 61 values of μ for this σ: :func:`companion.gan.virtual_criterion`'s quadrature,
    one row per μ in a single batch."""
    mus = np.linspace(-6.0, 6.0, 61)
    x = GRID[::_CURVE_STRIDE]
    lp = log_normal(x, 0.0, 1.0)
    mu = torch.tensor(mus, dtype=F64).unsqueeze(-1)
    lq = -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    logit = gan.optimal_discriminator_logit(lp, lq)
    both = torch.isfinite(logit)
    safe = torch.where(both, logit, torch.zeros_like(logit))
    terms = lp.exp() * -F.softplus(-safe, threshold=40) + lq.exp() * -F.softplus(safe, threshold=40)
    terms = torch.where(both, terms, torch.zeros_like(terms))
    return mus, (terms.sum(-1) * (_DX * _CURVE_STRIDE)).numpy()


def criterion_figure(mu: float, sigma: float) -> go.Figure:
    """Left: p_data, p_g and D*; right: C(G) as p_g slides, with the current value marked."""
    v = criterion_values(mu, sigma)
    x = GRID[_PLOT]
    lp, lq = log_normal(x, 0.0, 1.0), log_normal(x, mu, sigma)
    d_star = torch.sigmoid(gan.optimal_discriminator_logit(lp, lq))
    mus, curve = _criterion_curve(sigma)
    right = dict(xaxis="x2", yaxis="y2")
    xs = np.round(x.numpy(), 4).tolist()

    def r4(t) -> list[float]:  # 4 decimals are plenty on screen and keep the page light
        return np.round(np.asarray(t), 4).tolist()

    traces = [
        dict(type="scatter", x=xs, y=r4(lp.exp()), name="p_data = N(0, 1)"),
        dict(type="scatter", x=xs, y=r4(lq.exp()), name="p_g = N(μ, σ²)"),
        dict(type="scatter", x=xs, y=r4(d_star), name="D*(x)", line=dict(dash="dash")),
        dict(type="scatter", x=mus.tolist(), y=r4(curve), name="C(G) against μ", **right),
        dict(
            type="scatter",
            x=[mu],
            y=[v["C(G)"]],
            mode="markers",
            marker=dict(size=11, color=OKABE_ITO[5]),
            showlegend=False,
            **right,
        ),
    ]
    layout = side_by_side(("densities and the optimal discriminator", "C(G) for this σ"))
    layout.update(
        title=dict(
            text=(
                f"C(G) = {v['C(G)']:.6f},  −log 4 + 2 JS = {v['-log4+2JS']:.6f}  "
                f"(JS = {v['JS']:.4f} nats)"
            )
        ),
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", range=[-8, 8], title="x"),
        yaxis=dict(anchor="x", range=[0, 1.25]),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="μ"),
        yaxis2=dict(anchor="x2", range=[-LOG4 - 0.05, 0.05]),
        legend=dict(x=0.01, y=0.98, bgcolor="rgba(128,128,128,0.1)"),
        hovermode=False,
        shapes=[
            dict(
                type="line",
                x0=-6,
                x1=6,
                y0=-LOG4,
                y1=-LOG4,
                xref="x2",
                yref="y2",
                line=dict(dash="dot", color="#7F7F7F"),
            )
        ],
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def criterion_explorer(mode: str | None = None):
    """Move p_g = N(μ, σ²) against p_data = N(0, 1) and watch C(G) = −log 4 + 2 JS."""
    return interactive(
        criterion_figure,
        Slider("mu", -6.0, 6.0, value=2.0, steps=25, label="μ"),
        Slider("sigma", 0.25, 2.5, value=1.0, steps=10, label="σ"),
        mode=mode,
        height=460,
    )


# -- saturating vs non-saturating -----------------------------------------------------------------
def gradient_figure() -> go.Figure:
    """|∂loss/∂logit| of the two generator losses against D(G(z)) (eq-gan-grad)."""
    d = torch.logspace(-6, 0, 241, dtype=F64).clamp(max=1 - 1e-9)
    sat = gan.generator_logit_gradient(d, "minimax").abs()
    ns = gan.generator_logit_gradient(d, "nonsaturating").abs()
    fig = go.Figure(
        [
            go.Scatter(x=d.tolist(), y=sat.tolist(), name="saturating: log(1 − D)  →  |·| = D"),
            go.Scatter(x=d.tolist(), y=ns.tolist(), name="non-saturating: −log D  →  |·| = 1 − D"),
        ]
    )
    fig.update_layout(
        title="How hard the generator is pushed, against how well it fools D",
        xaxis=dict(type="log", title="D(G(z))  (0: the discriminator sees through the fake)"),
        yaxis=dict(type="log", title="|∂ loss / ∂ logit|", range=[-6.2, 0.3]),
        legend=dict(x=0.02, y=0.05, yanchor="bottom", bgcolor="rgba(128,128,128,0.1)"),
        hovermode=False,
    )
    return fig


# -- the optimal discriminator, trained ----------------------------------------------------------
#: The fixed 1-D pair of the D* experiment: p_data a two-bump mixture, p_g a single Gaussian.
DATA_MIX = ((0.5, -1.5, 0.4), (0.5, 1.5, 0.6))
GEN = (0.5, 1.0)


def _log_mix(x: torch.Tensor) -> torch.Tensor:
    parts = [math.log(w) + log_normal(x, m, s) for w, m, s in DATA_MIX]
    return torch.logsumexp(torch.stack(parts), dim=0)


def dstar_experiment(steps: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """Train a discriminator against the fixed generator N(0.5, 1) on data from the two-bump
    mixture ``DATA_MIX``; return the grid, the trained D and D* from eq-gan-dstar."""
    gen = torch.Generator().manual_seed(seed)

    def real(n):
        which = torch.multinomial(torch.tensor([w for w, _, _ in DATA_MIX]), n, True, generator=gen)
        mean = torch.tensor([m for _, m, _ in DATA_MIX])[which]
        std = torch.tensor([s for _, _, s in DATA_MIX])[which]
        return (mean + std * torch.randn(n, generator=gen)).unsqueeze(1)

    def fake(n):
        return (GEN[0] + GEN[1] * torch.randn(n, generator=gen)).unsqueeze(1)

    with single_thread():
        net = gan.train_discriminator(real, fake, steps=steps, seed=seed, device="cpu")
        x = torch.linspace(-4.0, 5.0, 181)
        trained = torch.sigmoid(net(x.unsqueeze(1)).squeeze(1)).double()
    x64 = x.double()
    formula = torch.sigmoid(gan.optimal_discriminator_logit(_log_mix(x64), log_normal(x64, *GEN)))
    return {
        "x": x64.numpy(),
        "trained": trained.numpy(),
        "formula": formula.numpy(),
        "p_data": _log_mix(x64).exp().numpy(),
        "p_g": log_normal(x64, *GEN).exp().numpy(),
    }


def dstar_figure(result: dict[str, np.ndarray]) -> go.Figure:
    """The trained discriminator on top of the formula D* = p_data / (p_data + p_g)."""
    fig = go.Figure(
        [
            go.Scatter(x=result["x"], y=result["p_data"], name="p_data", fill="tozeroy"),
            go.Scatter(x=result["x"], y=result["p_g"], name="p_g (fixed generator)"),
            go.Scatter(
                x=result["x"],
                y=result["formula"],
                name="D* = p_data/(p_data + p_g)",
                line=dict(width=5, color="rgba(128,128,128,0.6)"),
            ),
            go.Scatter(
                x=result["x"],
                y=result["trained"],
                name="trained D",
                line=dict(dash="dash", color=OKABE_ITO[5]),
            ),
        ]
    )
    fig.update_layout(
        title="A discriminator trained against a fixed generator lands on D*",
        xaxis_title="x",
        yaxis=dict(range=[0, 1.05]),
        legend=dict(x=0.01, y=0.98, bgcolor="rgba(128,128,128,0.1)"),
        hovermode=False,
    )
    return fig


# -- training dynamics ----------------------------------------------------------------------------
def centers_for(name: str) -> torch.Tensor:
    """The mixture means of the ``"ring"`` (8 modes, radius 2) or ``"grid"`` (5×5, spacing 2)."""
    if name == "ring":
        return ring_centers()
    if name == "grid":
        return grid_centers()
    raise ValueError(f"data set must be 'ring' or 'grid'; got {name!r}")


def snapshot_metrics(model: gan.GAN, dataset: str, std: float = 0.02) -> np.ndarray:
    """(modes covered, high-quality share) of every stored snapshot; shape (n_snapshots, 2)."""
    centers = centers_for(dataset)
    return np.array([mode_coverage(s, centers, std) for s in model.snapshots.cpu()], dtype=float)


def training_figure(runs: dict, run: str, k: float) -> go.Figure:
    """Snapshot ``k`` of training run ``run``. ``runs`` maps a run name to
    ``(model, dataset, metrics)`` where metrics comes from :func:`snapshot_metrics`."""
    model, dataset, metrics = runs[run]
    k = int(round(k))
    pts = model.snapshots[k].cpu().numpy()
    centers = centers_for(dataset).numpy()
    steps = model.snapshot_steps.cpu().numpy()
    n_modes = len(centers)
    right = dict(xaxis="x2", yaxis="y2")
    lim = 3.0 if dataset == "ring" else 5.5
    traces = [
        dict(
            type="scatter",
            x=pts[:, 0].round(3).tolist(),
            y=pts[:, 1].round(3).tolist(),
            mode="markers",
            marker=dict(size=4, opacity=0.6, color=OKABE_ITO[0]),
            name="G(z)",
        ),
        dict(
            type="scatter",
            x=centers[:, 0].tolist(),
            y=centers[:, 1].tolist(),
            mode="markers",
            marker=dict(symbol="x", size=9, color=OKABE_ITO[5]),
            name="modes",
        ),
        dict(
            type="scatter",
            x=steps.tolist(),
            y=(metrics[:, 0] / n_modes).tolist(),
            name="share of modes covered",
            **right,
        ),
        dict(
            type="scatter",
            x=steps.tolist(),
            y=metrics[:, 1].tolist(),
            name="high-quality share",
            **right,
        ),
        dict(
            type="scatter",
            x=[int(steps[k])] * 2,
            y=[metrics[k, 0] / n_modes, metrics[k, 1]],
            mode="markers",
            marker=dict(size=10, color=OKABE_ITO[5]),
            showlegend=False,
            **right,
        ),
    ]
    layout = side_by_side((f"{pts.shape[0]} samples from fixed latents", "scores"), split=0.45)
    layout.update(
        title=dict(
            text=(
                f"{run}, step {int(steps[k])}:  modes covered {int(metrics[k, 0])}/{n_modes},  "
                f"high quality {100 * metrics[k, 1]:.1f} %"
            )
        ),
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", range=[-lim, lim]),
        yaxis=dict(anchor="x", range=[-lim, lim], scaleanchor="x"),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="training step"),
        yaxis2=dict(anchor="x2", range=[-0.02, 1.02]),
        legend=dict(x=0.5, y=-0.2, orientation="h", xanchor="center", yanchor="top"),
        hovermode=False,
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def training_explorer(runs: dict, mode: str | None = None):
    """Slide through the stored snapshots of several training runs."""
    names = list(runs)
    n = min(int(runs[r][0].snapshots.shape[0]) for r in names)
    return interactive(
        functools.partial(training_figure, runs),
        Choice("run", names, value=names[0], label="run"),
        Slider("k", 0, n - 1, value=n - 1, steps=n, label="snapshot", fmt=".0f"),
        mode=mode,
        height=520,
    )


# -- the Wasserstein critic -----------------------------------------------------------------------
#: The 1-D pair of the critic experiment: N(0, 1) against N(3, 0.5²).
CRITIC_PAIR = ((0.0, 1.0), (3.0, 0.5))


def critic_experiment(steps: int = 400, seed: int = 0) -> dict[str, object]:
    """Train two critics between the fixed pair ``CRITIC_PAIR`` — weight clipping (c = 0.01) and
    gradient penalty (λ = 10) — and evaluate each one's dual estimate E_p f − E_q f on 20 000
    fresh samples of each side; return the curves (centred at x = 0) and the estimates."""
    (m1, s1), (m2, s2) = CRITIC_PAIR
    gen = torch.Generator().manual_seed(seed)

    def real(n):
        return (m1 + s1 * torch.randn(n, 1, generator=gen)).float()

    def fake(n):
        return (m2 + s2 * torch.randn(n, 1, generator=gen)).float()

    x = torch.linspace(-4.0, 6.0, 201).unsqueeze(1)
    out: dict[str, object] = {"x": x.squeeze(1).numpy()}
    with single_thread():
        test_p, test_q = real(20_000), fake(20_000)
        for name, loss in (("clip", "wgan"), ("gp", "wgan-gp")):
            net = gan.train_discriminator(
                real, fake, loss=loss, steps=steps, seed=seed, device="cpu", lr=1e-3
            )
            f = net(x).squeeze(1)
            out[name] = (f - net(torch.zeros(1, 1)).squeeze()).numpy()
            out[f"{name}_estimate"] = float(net(test_p).mean() - net(test_q).mean())
    return out


def critic_figure(result: dict) -> go.Figure:
    """The two learned critics, with an optimal 1-Lipschitz one, f*(x) = −x."""
    x = result["x"]
    fig = go.Figure(
        [
            go.Scatter(x=x, y=-x, name="f*(x) = −x (an optimal critic)", line=dict(dash="dot")),
            go.Scatter(
                x=x,
                y=result["gp"],
                name=f"gradient penalty: E_p f − E_q f = {result['gp_estimate']:.3f}",
            ),
            go.Scatter(
                x=x,
                y=result["clip"],
                name=f"weight clipping: E_p f − E_q f = {result['clip_estimate']:.3f}",
            ),
        ]
    )
    fig.update_layout(
        title="Two WGAN critics for p = N(0, 1), q = N(3, 0.5²) (f shifted so that f(0) = 0)",
        xaxis_title="x",
        yaxis_title="f(x) − f(0)",
        legend=dict(x=0.01, y=0.02, yanchor="bottom", bgcolor="rgba(128,128,128,0.1)"),
        hovermode=False,
    )
    return fig


def penalty_of_linear_critic(w: torch.Tensor, b: float, real: torch.Tensor, fake: torch.Tensor):
    """WGAN-GP's penalty for the linear critic f(x) = w·x + b, as computed by
    :func:`companion.gan.gradient_penalty` (autograd through random interpolates)."""

    def critic(x):
        return x @ w + b

    return gan.gradient_penalty(critic, real, fake)


# -- conditional GAN on digits ------------------------------------------------------------------
def digits_figure(model: gan.GAN, per_class: int = 10, seed: int = 0) -> go.Figure:
    """One row per class: ``per_class`` samples of the conditional GAN, as one grey image."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(model.n_classes).repeat_interleave(per_class)
    with torch.no_grad():
        imgs = model.sample(labels.shape[0], labels, generator=gen).cpu().reshape(-1, 8, 8)
    pad = 1
    rows = []
    for c in range(model.n_classes):
        row = [
            F.pad(imgs[c * per_class + j], (0, pad, 0, pad), value=1.0) for j in range(per_class)
        ]
        rows.append(torch.cat(row, dim=1))
    mosaic = torch.cat(rows, dim=0).numpy()
    height, width = mosaic.shape
    # Thin lines between the class rows (one scatter trace, segments separated by None).
    xs: list[float | None] = []
    ys: list[float | None] = []
    for c in range(1, model.n_classes):
        y = c * (8 + pad)  # the padding row between two classes (the image is flipped)
        xs += [-0.5, width - 0.5, None]
        ys += [y, y, None]
    fig = go.Figure(
        [
            go.Heatmap(
                z=mosaic[::-1].round(3),
                colorscale="Greys",
                zmin=0,
                zmax=1,
                showscale=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line=dict(color="rgba(213,94,0,0.6)", width=1),
                hoverinfo="skip",
                showlegend=False,
            ),
        ]
    )
    fig.update_layout(
        title="Conditional GAN on the 8×8 digits: row c holds samples G(z, c)",
        xaxis=dict(visible=False),
        yaxis=dict(
            tickvals=[(model.n_classes - 1 - c) * 9 + 4.5 for c in range(model.n_classes)],
            ticktext=[str(c) for c in range(model.n_classes)],
            scaleanchor="x",
            showgrid=False,
        ),
        height=520,
    )
    return fig


# -- min-max optimisation -------------------------------------------------------------------------
def gda_paths(eta: float = 0.2, steps: int = 60, start=(1.0, 1.0)) -> dict[str, np.ndarray]:
    """Gradient descent–ascent on f(x, y) = x·y (x minimises, y maximises), from ``start``:
    simultaneous updates and alternating ones (x first, then y with the new x)."""
    eta = check_real(eta, "eta")
    x, y = start
    sim = [(x, y)]
    for _ in range(steps):
        x, y = x - eta * y, y + eta * x
        sim.append((x, y))
    x, y = start
    alt = [(x, y)]
    for _ in range(steps):
        x = x - eta * y
        y = y + eta * x
        alt.append((x, y))
    return {"simultaneous": np.array(sim), "alternating": np.array(alt)}


def gda_figure(eta: float = 0.2, steps: int = 60) -> go.Figure:
    """The two GDA paths on the bilinear game; its only equilibrium is (0, 0)."""
    paths = gda_paths(eta, steps)
    fig = go.Figure(
        [
            go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", marker=dict(size=4), name=n)
            for n, p in paths.items()
        ]
        + [
            go.Scatter(
                x=[0], y=[0], mode="markers", marker=dict(symbol="x", size=12), name="equilibrium"
            )
        ]
    )
    fig.update_layout(
        title=f"Gradient descent–ascent on f(x, y) = xy, step η = {eta}",
        xaxis_title="x (minimises)",
        yaxis=dict(title="y (maximises)", scaleanchor="x"),
        hovermode=False,
    )
    return fig
