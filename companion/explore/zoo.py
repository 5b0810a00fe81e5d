"""Figures of the chapter "The generative model zoo".

The models, samplers and the experiments the figures show are in :mod:`companion.zoo` (the
figures' computations in :mod:`companion.zoo.experiments`); these functions only draw them.
Figures redrawn on every slider move are built with :func:`._plot.figure` (no plotly
validation); the tests rebuild them with validation.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import torch

from .. import zoo
from .._validate import check_real
from ..figures import Slider, interactive
from ..theme import side_by_side
from ._plot import figure

__all__ = [
    "RING",
    "ring_density_grid",
    "ring_radial_moments",
    "langevin_run",
    "langevin_figure",
    "langevin_explorer",
    "temperature_figure",
    "temperature_explorer",
    "flow_figure",
    "flow_explorer",
]

F64 = torch.float64
#: The ring energy of the chapter: radius and width.
RING = {"radius": 2.0, "width": 0.25}
_LIM = 3.2


@functools.lru_cache(maxsize=1)
def ring_density_grid(n: int = 81) -> tuple[list, list]:
    """Axis values and the normalised ring density ``e^{−E} / Z`` on an ``n × n`` grid, rounded
    for the page (:func:`companion.zoo.ring_density_grid`)."""
    c, dens = zoo.ring_density_grid(_LIM, n, **RING)
    return c.numpy().round(3).tolist(), dens.numpy().round(4).tolist()


@functools.lru_cache(maxsize=1)
def ring_radial_moments() -> tuple[float, float]:
    """Mean and standard deviation of ``‖x‖`` under the chapter's ring density."""
    return zoo.ring_radial_moments(**RING)


def langevin_run(step: float, n: int = 400, n_steps: int = 100, seed: int = 0) -> torch.Tensor:
    """Unadjusted Langevin on the chapter's ring energy from a blob at (2, 0) (std 0.15)."""
    return zoo.langevin_ring(step, n, n_steps, seed, **RING)


def langevin_figure(log10_step: float, n_steps: int = 100) -> go.Figure:
    """Where 400 Langevin chains are after ``n_steps`` steps of size η, over the true density.

    The title compares the radial spread with the exact one and counts the chains that reached
    the left half-plane (half of them would, at stationarity)."""
    eta = 10 ** check_real(log10_step, "log10_step")
    x = langevin_run(eta, n_steps=n_steps)
    radius = torch.linalg.vector_norm(x, dim=1)
    finite = torch.isfinite(radius)
    xs = x[finite].clamp(-50, 50)
    mean_r, std_r = ring_radial_moments()
    left = float((x[finite, 0] < 0).double().mean()) if finite.any() else float("nan")
    axis, dens = ring_density_grid()
    traces = [
        dict(
            type="contour",
            x=axis,
            y=axis,
            z=dens,
            showscale=False,
            ncontours=8,
            contours=dict(coloring="lines"),
            name="p(x)",
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=xs[:, 0].numpy().round(3).tolist(),
            y=xs[:, 1].numpy().round(3).tolist(),
            mode="markers",
            marker=dict(size=4),
            name="Langevin chains",
        ),
    ]
    spread = float(radius[finite].std()) if finite.sum() > 1 else float("nan")
    layout = dict(
        title=dict(
            text=f"η = {eta:.2g}, {n_steps} steps: std of ‖x‖ = {spread:.3f} (exact "
            f"{std_r:.3f})<br>left half-plane {100 * left:.0f}% (stationary: 50%)"
        ),
        margin=dict(t=100),
        xaxis=dict(range=[-_LIM, _LIM], scaleanchor="y", title="x₁"),
        yaxis=dict(range=[-_LIM, _LIM], title="x₂"),
    )
    return figure(traces, layout)


def langevin_explorer(mode: str | None = None):
    """Step-size slider for unadjusted Langevin on the ring energy."""
    return interactive(
        langevin_figure,
        Slider("log10_step", -3.0, -1.0, value=-2.0, steps=21, label="log₁₀ η"),
        mode=mode,
    )


# -- temperature -----------------------------------------------------------------------------------
def _temperature_traces(probs: torch.Tensor, transition: torch.Tensor) -> list:
    """Bars of the model's next-symbol distributions, ticks at the true chain's."""
    v = transition.shape[0]
    labels = [f"{a}{b}→" for a in range(v) for b in range(v)]
    true = transition.reshape(v * v, v).double()
    bars = [
        dict(type="bar", x=labels, y=probs[:, c].numpy().round(4).tolist(), name=f"model: {c}",
             offsetgroup=str(c))
        for c in range(v)
    ]  # fmt: skip
    ticks = [
        dict(type="scatter", x=labels, y=true[:, c].numpy().round(4).tolist(), mode="markers",
             marker=dict(symbol="line-ew-open", size=14), name=f"true: {c}", showlegend=c == 0)
        for c in range(v)
    ]  # fmt: skip
    return bars + ticks


def temperature_figure(
    model: zoo.TinyTransformer, transition: torch.Tensor, temperature: float, length: int = 48
) -> go.Figure:
    """Next-symbol distributions of a trained :class:`~companion.zoo.TinyTransformer` at
    temperature ``T`` for every two-symbol context, next to the true chain's, and a sequence
    sampled with fixed uniforms (the same random numbers for every ``T``)."""
    t = check_real(temperature, "temperature")
    if t <= 0:
        raise ValueError(f"temperature must be > 0; got {t}")
    probs = zoo.next_symbol_probs(model, transition.shape[0], t)
    # One sequence with common random numbers: fixed uniforms, inverse CDF at each step, each
    # symbol drawn from the bars (the model's distribution given the last two symbols).
    seq = zoo.sample_by_uniforms(probs, np.random.default_rng(0).random(length))
    h = -(probs * torch.log(probs.clamp(min=1e-300))).sum(1).mean()
    layout = dict(
        title=dict(
            text=f"T = {t:.2f}: mean next-symbol entropy {float(h):.3f} nats<br>"
            f"<span style='font-family:monospace'>{''.join(map(str, seq))}</span>"
        ),
        barmode="group",
        yaxis=dict(range=[0, 1], title="P(next symbol | context)"),
        xaxis=dict(title="context (last two symbols)"),
        margin=dict(t=90),
    )
    return figure(_temperature_traces(probs, transition), layout)


def temperature_explorer(model: zoo.TinyTransformer, transition: torch.Tensor, mode=None):
    """Sampling-temperature slider for the chapter's tiny transformer."""
    return interactive(
        lambda temperature: temperature_figure(model, transition, temperature),
        Slider("temperature", 0.1, 3.0, value=1.0, steps=30, label="T"),
        mode=mode,
    )


# -- a continuous flow in motion -------------------------------------------------------------------
flow_paths = zoo.flow_paths


def flow_figure(paths: torch.Tensor, data: torch.Tensor, t: float) -> go.Figure:
    """The particles of :func:`flow_paths` at time ``t`` next to the data."""
    t = check_real(t, "t")
    if not 0 <= t <= 1:
        raise ValueError(f"t must lie in [0, 1]; got {t}")
    k = round(t * (paths.shape[0] - 1))
    pts = paths[k]
    d = data[:600]
    traces = [
        dict(
            type="scatter",
            x=d[:, 0].numpy().round(3).tolist(),
            y=d[:, 1].numpy().round(3).tolist(),
            mode="markers",
            name="data",
            marker=dict(size=3, opacity=0.3),
            xaxis="x2",
            yaxis="y2",
        ),
        dict(
            type="scatter",
            x=pts[:, 0].numpy().round(3).tolist(),
            y=pts[:, 1].numpy().round(3).tolist(),
            mode="markers",
            name="y_t",
            marker=dict(size=3),
        ),
    ]
    layout = dict(
        **side_by_side((f"y_t at t = {k / (paths.shape[0] - 1):.2f}", "data"), split=0.5),
        title=dict(text=f"dy/dt = v(y, t), t = {t:.2f}<br>noise at t = 0, model samples at t = 1"),
        margin=dict(t=100),
    )
    for ax in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        layout[ax].update(range=[-3.5, 3.5])
    return figure(traces, layout)


def flow_explorer(model: zoo.VelocityNet, data: torch.Tensor, mode=None):
    """Time slider: watch the ODE flow carry noise onto the data."""
    paths = flow_paths(model)
    return interactive(
        lambda t: flow_figure(paths, data, t),
        Slider("t", 0.0, 1.0, value=1.0, steps=21, label="t"),
        mode=mode,
    )
