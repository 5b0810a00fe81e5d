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
from ..figures import Choice, Slider, interactive
from ..gan import (
    centers_for,
    criterion_values,
    gda_paths,
    log_normal,
)
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, legend, line, points

__all__ = [
    "GRID",
    "criterion_figure",
    "criterion_explorer",
    "gradient_figure",
    "dstar_figure",
    "training_figure",
    "training_explorer",
    "stabiliser_figure",
    "stabiliser_explorer",
    "critic_figure",
    "digits_figure",
    "gda_figure",
]

# The experiments and quadratures live in companion.gan; these names stay here for the chapter.
GRID = gan.CRITERION_GRID
DATA_MIX = gan.DSTAR_MIX
GEN = gan.DSTAR_GENERATOR
CRITIC_PAIR = gan.CRITIC_PAIR
_PLOT = slice(4000, 8001, 40)  # x in [−10, 10], every 0.2
LOG4 = math.log(4.0)
_MUS = np.linspace(-6.0, 6.0, 61)


@functools.lru_cache(maxsize=32)
def _criterion_curve(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """C(G) at 61 values of μ for this σ (:func:`companion.gan.criterion_curve`), cached: a live
    μ move reuses it."""
    return _MUS, gan.criterion_curve(_MUS, sigma).numpy()


def _r4(t) -> list[float]:
    """4 decimals are plenty on screen and keep the page light."""
    return np.round(np.asarray(t), 4).tolist()


def _criterion_traces(mu: float, sigma: float, c_g: float) -> list[dict]:
    x = GRID[_PLOT]
    lp, lq = log_normal(x, 0.0, 1.0), log_normal(x, mu, sigma)
    d_star = torch.sigmoid(gan.optimal_discriminator_logit(lp, lq))
    mus, curve = _criterion_curve(sigma)
    xs = np.round(x.numpy(), 4).tolist()
    return [
        dict(type="scatter", x=xs, y=_r4(lp.exp()), name="p_data = N(0, 1)"),
        dict(type="scatter", x=xs, y=_r4(lq.exp()), name="p_g = N(μ, σ²)"),
        dict(type="scatter", x=xs, y=_r4(d_star), name="D*(x)", line=dict(dash="dash")),
        dict(
            type="scatter",
            x=mus.tolist(),
            y=_r4(curve),
            name="C(G) against μ",
            xaxis="x2",
            yaxis="y2",
        ),
        points([mu], [c_g], dict(size=11, color=OKABE_ITO[5]), "", right=True),
    ]


def criterion_figure(mu: float, sigma: float) -> go.Figure:
    """Left: p_data, p_g and D*; right: C(G) as p_g slides, with the current value marked."""
    v = criterion_values(mu, sigma)
    layout = side_by_side(("densities and the optimal discriminator", "C(G) for this σ"))
    floor = dict(type="line", x0=-6, x1=6, y0=-LOG4, y1=-LOG4, xref="x2", yref="y2")
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
        legend=legend(0.01, 0.98),
        hovermode=False,
        shapes=[dict(floor, line=dict(dash="dot", color=OKABE_ITO[7]))],
    )
    return figure(_criterion_traces(mu, sigma, v["C(G)"]), layout)


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
    d = torch.logspace(-6, 0, 241, dtype=torch.float64).clamp(max=1 - 1e-9)
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
        legend=legend(0.02, 0.05, yanchor="bottom"),
        hovermode=False,
    )
    return fig


# -- the optimal discriminator, trained ----------------------------------------------------------
def dstar_figure(result: dict[str, np.ndarray]) -> go.Figure:
    """The trained discriminator (:func:`companion.gan.dstar_experiment`) on top of the formula
    D* = p_data / (p_data + p_g)."""
    x = result["x"]
    fig = go.Figure(
        [
            go.Scatter(x=x, y=result["p_data"], name="p_data", fill="tozeroy"),
            go.Scatter(x=x, y=result["p_g"], name="p_g (fixed generator)"),
            go.Scatter(
                x=x,
                y=result["formula"],
                name="D* = p_data/(p_data + p_g)",
                line=dict(width=5, color="rgba(128,128,128,0.6)"),
            ),
            go.Scatter(
                x=x,
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
        legend=legend(0.01, 0.98),
        hovermode=False,
    )
    return fig


# -- training dynamics ----------------------------------------------------------------------------
def _samples_and_modes(pts, centers, name: str, size: int, opacity: float) -> list[dict]:
    """Generated points and the mixture's means as crosses."""
    return [
        points(
            pts[:, 0].round(3).tolist(),
            pts[:, 1].round(3).tolist(),
            dict(size=size, opacity=opacity, color=OKABE_ITO[0]),
            name,
            showlegend=True,
        ),
        points(
            centers[:, 0].tolist(),
            centers[:, 1].tolist(),
            dict(symbol="x", size=9, color=OKABE_ITO[5]),
            "modes",
            showlegend=True,
        ),
    ]


def _training_traces(pts, centers, steps, metrics, k: int) -> list[dict]:
    n_modes = len(centers)
    s = steps.tolist()
    return [
        *_samples_and_modes(pts, centers, "G(z)", 4, 0.6),
        dict(
            type="scatter",
            x=s,
            y=(metrics[:, 0] / n_modes).tolist(),
            name="share of modes covered",
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
            x=s,
            y=metrics[:, 1].tolist(),
            name="high-quality share",
            xaxis="x2",
            yaxis="y2",
        ),
        points(
            [int(steps[k])] * 2,
            [metrics[k, 0] / n_modes, metrics[k, 1]],
            dict(size=10, color=OKABE_ITO[5]),
            "",
            right=True,
        ),
    ]


def training_figure(runs: dict, run: str, k: float) -> go.Figure:
    """Snapshot ``k`` of training run ``run``. ``runs`` maps a run name to
    ``(model, dataset, metrics)`` where metrics comes from :func:`snapshot_metrics`."""
    model, dataset, metrics = runs[run]
    k = int(round(k))
    pts = model.snapshots[k].cpu().numpy()
    centers = centers_for(dataset).numpy()
    steps = model.snapshot_steps.cpu().numpy()
    lim = 3.0 if dataset == "ring" else 5.5
    layout = side_by_side((f"{pts.shape[0]} samples from fixed latents", "scores"), split=0.45)
    layout.update(
        title=dict(
            text=(
                f"{run}, step {int(steps[k])}:  modes covered {int(metrics[k, 0])}/{len(centers)},"
                f"  high quality {100 * metrics[k, 1]:.1f} %"
            )
        ),
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", range=[-lim, lim]),
        yaxis=dict(anchor="x", range=[-lim, lim], scaleanchor="x"),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="training step"),
        yaxis2=dict(anchor="x2", range=[-0.02, 1.02]),
        legend=dict(x=0.5, y=-0.2, orientation="h", xanchor="center", yanchor="top"),
        hovermode=False,
    )
    return figure(_training_traces(pts, centers, steps, metrics, k), layout)


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


# -- the stabiliser comparison --------------------------------------------------------------------
#: Button labels of the stabiliser figure (nine must fit in one row) → variant names.
BUTTONS = {
    "base": "base",
    "KL": "kl",
    "rev. KL": "reverse-kl",
    "χ²": "pearson",
    "JS": "js",
    "feat. match": "feature-matching",
    "mb std": "minibatch-std",
    "spec. norm": "spectral-norm",
    "TTUR": "ttur",
}


def stabiliser_figure(samples: dict, summary: dict, variant: str, dataset: str) -> go.Figure:
    """Samples of the seed-0 model of one variant (:func:`companion.gan.stabiliser_samples`)
    with the modes, titled with that variant's scores over seeds
    (:func:`companion.gan.summarise_stabilisers`)."""
    variant = BUTTONS.get(variant, variant)  # a button label or a variant name
    pts = np.asarray(samples[(variant, dataset)])
    centers = centers_for(dataset).numpy()
    s = summary[(variant, dataset)]
    lim = 3.0 if dataset == "ring" else 5.5
    traces = _samples_and_modes(pts, centers, "G(z), seed 0", 3, 0.5)
    title = (
        f"{gan.STABILISER_LABELS[variant]}: modes {s['modes']:.1f}/{len(centers)}, "
        f"high quality {100 * s['quality']:.1f} % (mean of {s['seeds']} seeds)"
    )
    layout = dict(
        title=dict(text=title, font=dict(size=14)),
        # equal scales by shrinking the plotting area (constrain="domain"), not by widening a
        # range, so every frame keeps exactly the ranges it was drawn with
        xaxis=dict(range=[-lim, lim], title="x₁", constrain="domain"),
        yaxis=dict(range=[-lim, lim], scaleanchor="x", title="x₂", constrain="domain"),
        legend=legend(x=1.0, y=1.0, xanchor="right"),
        hovermode=False,
    )
    return figure(traces, layout)


def stabiliser_explorer(samples: dict, summary: dict, mode: str | None = None):
    """Choose a variant and a data set; see its seed-0 samples and its scores over seeds."""
    present = {v for v, _ in samples}
    buttons = [b for b, v in BUTTONS.items() if v in present]
    buttons += [v for v in dict.fromkeys(v for v, _ in samples) if v not in BUTTONS.values()]
    return interactive(
        functools.partial(stabiliser_figure, samples, summary),
        Choice("variant", buttons, value=buttons[0], label="variant"),
        Choice("dataset", ["ring", "grid"], value="ring", label="data set"),
        mode=mode,
        height=560,
    )


# -- the Wasserstein critic -----------------------------------------------------------------------
def critic_figure(result: dict) -> go.Figure:
    """The two learned critics (:func:`companion.gan.critic_experiment`), with an optimal
    1-Lipschitz one, f*(x) = −x."""
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
        legend=legend(0.01, 0.02, yanchor="bottom"),
        hovermode=False,
    )
    return fig


# -- conditional GAN on digits ------------------------------------------------------------------
def _digit_mosaic(model: gan.GAN, per_class: int, seed: int, pad: int) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(model.n_classes).repeat_interleave(per_class)
    with torch.no_grad():
        imgs = model.sample(labels.shape[0], labels, generator=gen).cpu().reshape(-1, 8, 8)
    rows = []
    for c in range(model.n_classes):
        row = [
            F.pad(imgs[c * per_class + j], (0, pad, 0, pad), value=1.0) for j in range(per_class)
        ]
        rows.append(torch.cat(row, dim=1))
    return torch.cat(rows, dim=0).numpy()


def digits_figure(model: gan.GAN, per_class: int = 10, seed: int = 0) -> go.Figure:
    """One row per class: ``per_class`` samples of the conditional GAN, as one grey image."""
    pad = 1
    mosaic = _digit_mosaic(model, per_class, seed, pad)
    width = mosaic.shape[1]
    # Thin lines between the class rows (one scatter trace, segments separated by None).
    xs: list[float | None] = []
    ys: list[float | None] = []
    for c in range(1, model.n_classes):
        y = c * (8 + pad)  # the padding row between two classes (the image is flipped)
        xs += [-0.5, width - 0.5, None]
        ys += [y, y, None]
    heat = dict(z=mosaic[::-1].round(3), colorscale="Greys", zmin=0, zmax=1, showscale=False)
    fig = go.Figure([go.Heatmap(**heat, hoverinfo="skip")])
    fig.add_trace(line(xs, ys, "rgba(213,94,0,0.6)", "", hoverinfo="skip", line=dict(width=1)))
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
def gda_figure(eta: float = 0.2, steps: int = 60) -> go.Figure:
    """The two GDA paths (:func:`companion.gan.gda_paths`) on the bilinear game; its only
    equilibrium is (0, 0)."""
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
