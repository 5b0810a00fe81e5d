"""Figures of the chapter "Normalizing flows".

Direction, as everywhere in the book: a flow maps data to noise, ``z = f(x)``, and samples with
``x = f⁻¹(z)``. The 1-D figure uses the sinh–arcsinh map

    f(x) = sinh(δ · arcsinh(x) − ε),        f⁻¹(z) = sinh((arcsinh(z) + ε) / δ),

which is smooth and strictly increasing for every ε and every δ > 0, with
``f'(x) = δ cosh(δ arcsinh(x) − ε) / sqrt(1 + x²)``; ε skews the density and δ < 1 (> 1) gives
heavier (lighter) tails than the Gaussian.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import torch

from .. import flows as fl
from .._validate import check_int, check_real, check_tensor
from ..figures import Choice, Slider, interactive
from ..flows import Flow, density_on_grid, monotone_density, sinh_arcsinh
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, legend

__all__ = [
    "monotone_figure",
    "monotone_explorer",
    "BOXES",
    "prepare",
    "layers_figure",
    "layers_explorer",
    "density_figure",
    "density_explorer",
]

_WINDOW = (-5.0, 5.0)
_X = np.linspace(*_WINDOW, 301)
_BINS = np.linspace(*_WINDOW, 61)


@functools.lru_cache(maxsize=1)
def _noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(20_000)


def monotone_figure(eps: float, delta: float) -> go.Figure:
    """The density of ``f⁻¹(Z)`` from the change of variables, a histogram of 20 000 transformed
    standard-normal draws, and the reciprocal-determinant slip; the masses in the window are in
    the title."""
    samples = sinh_arcsinh(_noise(), eps, delta, reverse=True)[0]
    counts, _ = np.histogram(samples, bins=_BINS)
    width = _BINS[1] - _BINS[0]
    heights = counts / (len(samples) * width)  # share of *all* samples per unit length
    good = monotone_density(_X, eps, delta)
    bad = monotone_density(_X, eps, delta, slip=True)
    mass = fl.monotone_mass(eps, delta, *_WINDOW)
    mass_bad = fl.monotone_mass(eps, delta, *_WINDOW, slip=True)
    share = counts.sum() / len(samples)
    top = max(float(good.max()), float(heights.max())) * 1.15
    traces = [
        dict(
            type="bar",
            x=((_BINS[:-1] + _BINS[1:]) / 2).round(4),
            y=heights.round(5),
            width=width,
            name="histogram of x = f⁻¹(z)",
            marker=dict(color=OKABE_ITO[4], opacity=0.55),
        ),
        dict(
            type="scatter",
            x=_X,
            y=good.round(5),
            name="p_Z(f(x)) · |f′(x)|",
            line=dict(color=OKABE_ITO[0]),
        ),
        dict(
            type="scatter",
            x=_X,
            y=np.minimum(bad, 5 * top).round(5),
            name="slip: p_Z(f(x)) / |f′(x)|",
            line=dict(color=OKABE_ITO[5], dash="dash"),
        ),
    ]
    layout = dict(
        title=dict(
            text=(
                f"ε = {eps:.2f}, δ = {delta:.2f}.  Mass in [−5, 5]: formula {mass:.3f}, "
                f"samples {share:.3f};<br>the reciprocal slip integrates to {mass_bad:.3f}"
            )
        ),
        xaxis=dict(title=dict(text="x"), range=list(_WINDOW)),
        yaxis=dict(title=dict(text="density"), range=[0, top]),
        bargap=0,
        hovermode=False,
        margin=dict(t=90),
        legend=legend(0.99, 0.98, xanchor="right", yanchor="auto"),
    )
    return figure(traces, layout)


def monotone_explorer(mode: str | None = None):
    """Sliders ε (skew) and δ (tails) of the sinh–arcsinh flow."""
    return interactive(
        monotone_figure,
        Slider("eps", -1.5, 1.5, value=0.5, steps=13, label="ε"),
        Slider("delta", 0.6, 2.0, value=1.0, steps=8, label="δ"),
        mode=mode,
        height=460,
    )


# --- trained 2-D flows -----------------------------------------------------------------------
#: Boxes ``(lo, hi)`` holding (nearly) all the probability of the chapter's three fitted flows.
BOXES = {
    "moons": ((-3.0, -2.5), (4.0, 3.0)),
    "ring": ((-4.5, -4.5), (4.5, 4.5)),
    "swissroll": ((-4.5, -4.5), (5.0, 5.0)),
}
_NAMES = {"moons": "two moons", "ring": "ring of 8", "swissroll": "swiss roll (x, z)/4"}


def prepare(
    models: Mapping[str, Flow],
    data: Mapping[str, torch.Tensor],
    *,
    n_points: int = 600,
    grid: int = 300,
    heat: int = 90,
    seed: int = 0,
) -> dict[str, dict]:
    """Everything the two figures show, computed once per data set.

    For each name: the first ``n_points`` data points after every layer (``stages``), the layer
    ``labels``, the mean log-determinant accumulated up to every stage, the density on a
    ``grid × grid`` float64 midpoint grid over :data:`BOXES` and its integral ``mass``, a coarser
    ``heat × heat`` copy for drawing, and ``n_points`` samples of the model.
    """
    if not isinstance(models, Mapping) or not isinstance(data, Mapping):
        raise TypeError("models and data must be dicts name -> Flow / tensor")
    if set(models) != set(data) or not set(models) <= set(BOXES):
        raise ValueError(f"models and data need the same names, among {sorted(BOXES)}")
    n_points = check_int(n_points, "n_points", minimum=2)
    out: dict[str, dict] = {}
    for name, model in models.items():
        if not isinstance(model, Flow) or model.dim != 2:
            raise TypeError(f"models[{name!r}] must be a 2-D Flow")
        x = check_tensor(data[name], f"data[{name!r}]", ndim=2)[:n_points]
        x = x.to(model.device, dtype=torch.float32)
        model.eval()
        stages, ldj = fl.stage_log_dets(model, x)
        lo, hi = BOXES[name]
        _, _, _, mass = density_on_grid(model, lo, hi, n=grid)
        xs, ys, dens, _ = density_on_grid(model, lo, hi, n=heat)
        samples = fl.sample_seeded(model, n_points, seed)
        angle = torch.atan2(x[:, 1] - x[:, 1].mean(), x[:, 0] - x[:, 0].mean())
        out[name] = dict(
            stages=[s.cpu().numpy().round(3) for s in stages],
            labels=["data x"] + model.labels(),
            ldj=ldj,
            mass=mass,
            grid=grid,
            xs=xs.numpy().round(4),
            ys=ys.numpy().round(4),
            density=dens.numpy().astype(np.float32).round(4),
            samples=samples.cpu().numpy().round(3),
            data=x.cpu().numpy().round(3),
            color=angle.cpu().numpy().round(2),
        )
    return out


def _entry(prepared: Mapping[str, dict], name: object) -> dict:
    if not isinstance(prepared, Mapping) or name not in prepared:
        raise ValueError(f"name must be one of {sorted(prepared)}; got {name!r}")
    return prepared[name]


_THETA = np.linspace(0, 2 * np.pi, 121)


def layers_figure(prepared: Mapping[str, dict], name: str, stage: float) -> go.Figure:
    """The data after ``stage`` layers of the flow (stage 0: the data, last stage: z = f(x)),
    with the circles of radius 1 and 2 of the base N(0, I) for reference."""
    entry = _entry(prepared, name)
    stage = check_real(stage, "stage")
    k = int(round(stage))
    last = len(entry["stages"]) - 1
    if not 0 <= k <= last:
        raise ValueError(f"stage must lie in [0, {last}]; got {stage}")
    pts = entry["stages"][k]
    sq = float((pts.astype(np.float64) ** 2).sum(1).mean())
    circles = np.concatenate([np.cos(_THETA), [np.nan], 2 * np.cos(_THETA)]).round(4)
    circles_y = np.concatenate([np.sin(_THETA), [np.nan], 2 * np.sin(_THETA)]).round(4)
    traces = [
        dict(
            type="scatter",
            x=circles,
            y=circles_y,
            mode="lines",
            name="N(0, I): radius 1 and 2",
            line=dict(color="rgba(128,128,128,0.7)", dash="dot", width=1.5),
        ),
        dict(
            type="scatter",
            x=pts[:, 0],
            y=pts[:, 1],
            mode="markers",
            name="points",
            showlegend=False,
            marker=dict(size=5, color=entry["color"], colorscale="Twilight", cmin=-3.15, cmax=3.15),
        ),
    ]
    what = "the data x" if k == 0 else f"after layer {k} of {last}: {entry['labels'][k]}"
    layout = dict(
        title=dict(
            text=(
                f"{_NAMES.get(name, name)} — {what}<br>mean ‖·‖² = {sq:.2f} (2 under N(0, I)); "
                f"mean Σ log|det J| so far = {entry['ldj'][k]:+.2f}"
            )
        ),
        xaxis=dict(range=[-4.5, 4.5], title=dict(text="coordinate 1")),
        yaxis=dict(
            range=[-4.5, 4.5], scaleanchor="x", scaleratio=1, title=dict(text="coordinate 2")
        ),
        hovermode=False,
        margin=dict(t=125),
        legend=legend(0.99, 0.01, xanchor="right", yanchor="bottom"),
    )
    return figure(traces, layout)


def layers_explorer(prepared: Mapping[str, dict], mode: str | None = None):
    """A data-set choice and a slider over the layers (data → noise)."""
    names = list(prepared)
    last = len(prepared[names[0]]["stages"]) - 1
    if any(len(prepared[n]["stages"]) - 1 != last for n in names):
        raise ValueError("every flow in the layers explorer needs the same number of layers")
    return interactive(
        functools.partial(layers_figure, prepared),
        Choice("name", [(_NAMES[n], n) for n in names], label="data"),
        Slider("stage", 0, last, value=0, steps=last + 1, label="layers applied", fmt=".0f"),
        mode=mode,
        height=560,
    )


def density_figure(prepared: Mapping[str, dict], name: str) -> go.Figure:
    """Left: the fitted density on a grid (its integral over the box in the title). Right:
    samples x = f⁻¹(z) of the flow over the training data."""
    entry = _entry(prepared, name)
    layout = side_by_side(("learned density p_X(x)", "data (grey) and samples x = f⁻¹(z)"))
    lo, hi = BOXES[name]
    layout["xaxis"].update(range=[lo[0], hi[0]])
    layout["yaxis"].update(range=[lo[1], hi[1]], scaleanchor="x", scaleratio=1)
    layout["xaxis2"].update(range=[lo[0], hi[0]])
    layout["yaxis2"].update(range=[lo[1], hi[1]], scaleanchor="x2", scaleratio=1)
    layout["annotations"] = []  # the panel titles go into the figure's title (room for buttons)
    traces = [
        dict(
            type="heatmap",
            x=entry["xs"],
            y=entry["ys"],
            z=entry["density"],
            colorscale="Viridis",
            showscale=False,
        ),
        dict(
            type="scatter",
            x=entry["data"][:, 0],
            y=entry["data"][:, 1],
            mode="markers",
            name="data",
            marker=dict(size=4, color="rgba(128,128,128,0.5)"),
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
            x=entry["samples"][:, 0],
            y=entry["samples"][:, 1],
            mode="markers",
            name="flow samples",
            marker=dict(size=4, color=OKABE_ITO[1]),
            xaxis="x2",
            yaxis="y2",
        ),
    ]
    layout.update(
        title=dict(
            text=(
                "left: the learned density p_X(x); right: data (grey) and samples x = f⁻¹(z)<br>"
                f"{_NAMES.get(name, name)}: ∫ p_X over the box ({entry['grid']}×{entry['grid']} "
                f"midpoint rule, float64) = {entry['mass']:.5f}"
            )
        ),
        hovermode=False,
        margin=dict(t=125),
        legend=dict(x=1.0, y=0.0, xanchor="right", yanchor="bottom"),
    )
    return figure(traces, layout)


def density_explorer(prepared: Mapping[str, dict], mode: str | None = None):
    """A data-set choice over :func:`density_figure`."""
    names = list(prepared)
    return interactive(
        functools.partial(density_figure, prepared),
        Choice("name", [(_NAMES[n], n) for n in names], label="data"),
        mode=mode,
        height=460,
    )
