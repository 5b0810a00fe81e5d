"""Figures of the chapter "Diffusion models".

Each ``*_explorer`` precomputes what it shows (noised clouds, a recorded reverse chain, the
learned score on a grid) once, so that a slider move only slices arrays: live updates stay far
below 30 ms, and the static site stores one frame per grid value. Time is 1-indexed (t = 1..T,
t = 0 the data), as everywhere in :mod:`companion.diffusion`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import torch
from torch import Tensor

from .. import diffusion as df
from .._validate import check_int, check_tensor
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, scatter_xy

__all__ = [
    "ForwardClouds",
    "forward_clouds",
    "forward_figure",
    "forward_explorer",
    "schedule_figure",
    "reverse_figure",
    "reverse_explorer",
    "sampler_figure",
    "sampler_explorer",
    "score_field",
    "score_figure",
    "score_explorer",
]

_RANGE = [-3.2, 3.2]


def _square(axis: dict, lim=_RANGE) -> dict:
    return dict(axis, range=lim, zeroline=False)


# -- the forward process ------------------------------------------------------------------------
class ForwardClouds:
    """Noised copies of one data sample under both schedules: the closed form (one draw of
    q(x_t | x_0) per t) and the chain simulated step by step (every x_t recorded)."""

    def __init__(self, x0: Tensor, T: int, seed: int):
        self.T = T
        self.x0 = x0.double()
        gen = torch.Generator().manual_seed(seed)
        self.noise = torch.randn(self.x0.shape, generator=gen, dtype=torch.float64)
        self.schedules = {k: df.NoiseSchedule(k, T) for k in ("linear", "cosine")}
        self.chain = {
            kind: df.forward_chain(self.x0, s, seed + 1).numpy().astype(np.float32)
            for kind, s in self.schedules.items()
        }

    def closed_form(self, kind: str, t: int) -> np.ndarray:
        if t == 0:
            return self.x0.numpy()
        return self.schedules[kind].q_sample(self.x0, t, self.noise).numpy()


def forward_clouds(x0: Tensor, T: int = 1000, seed: int = 0) -> ForwardClouds:
    """Precompute :class:`ForwardClouds` for ``x0`` (a few hundred 2-D points, standardised)."""
    x0 = check_tensor(x0, "x0", ndim=2)
    if x0.shape[1] != 2:
        raise ValueError(f"x0 must hold 2-D points; got shape {tuple(x0.shape)}")
    return ForwardClouds(x0.detach().cpu(), check_int(T, "T", minimum=1), seed)


def forward_figure(clouds: ForwardClouds, t: float, schedule: str = "linear") -> go.Figure:
    """Left: a draw of q(x_t | x_0) from the closed form; right: the chain run for t steps."""
    if schedule not in clouds.schedules:
        raise ValueError(f"schedule must be 'linear' or 'cosine'; got {schedule!r}")
    t = int(round(min(max(t, 0), clouds.T)))
    s = clouds.schedules[schedule]
    ab = float(s.alpha_bar(t))
    left = clouds.closed_form(schedule, t)
    right = clouds.chain[schedule][t]
    layout = side_by_side(("closed form √ᾱ_t x₀ + √(1−ᾱ_t) ε", f"the chain, {t} steps"))
    layout.update(
        title=dict(
            text=f"t = {t}: ᾱ_t = {ab:.4f}, log-SNR = "
            + ("∞" if t == 0 else f"{float(s.log_snr(t)):.2f}")
            + f" ({schedule} schedule)"
        ),
        showlegend=False,
        xaxis=_square(layout["xaxis"]),
        yaxis=_square(layout["yaxis"], [-3.2, 3.2]) | dict(scaleanchor="x"),
        xaxis2=_square(layout["xaxis2"]),
        yaxis2=_square(layout["yaxis2"]) | dict(scaleanchor="x2"),
        margin=dict(t=80),
    )
    data = [
        scatter_xy(left, OKABE_ITO[0], "closed form"),
        scatter_xy(right, OKABE_ITO[1], "chain", "2"),
    ]
    return figure(data, layout)


def forward_explorer(clouds: ForwardClouds, mode: str | None = None):
    """The forward process with a t slider (0 = data .. T) and a schedule choice."""
    return interactive(
        lambda t, schedule: forward_figure(clouds, t, schedule),
        Slider("t", 0, clouds.T, value=0, steps=21, label="t", fmt=".0f"),
        Choice("schedule", [("linear", "linear"), ("cosine", "cosine")]),
        mode=mode,
    )


# -- the schedules ------------------------------------------------------------------------------
def schedule_figure(T: int = 1000) -> go.Figure:
    """ᾱ_t (left) and log-SNR (right) against t/T for the linear and cosine schedules."""
    T = check_int(T, "T", minimum=2)
    t = torch.arange(1, T + 1)
    u = (t / T).tolist()
    layout = side_by_side(("ᾱ_t", "log SNR = log ᾱ_t / (1 − ᾱ_t)"), gap=0.12)
    layout.update(
        title=dict(text=f"Noise schedules, T = {T}"),
        xaxis=dict(layout["xaxis"], title="t / T"),
        xaxis2=dict(layout["xaxis2"], title="t / T"),
        legend=dict(x=0.3, y=0.95),
    )
    data = []
    for i, kind in enumerate(("linear", "cosine")):
        s = df.NoiseSchedule(kind, T)
        color = OKABE_ITO[i]
        data.append(
            dict(
                type="scatter",
                x=u,
                y=s.alpha_bar(t).tolist(),
                name=kind,
                line=dict(color=color),
                legendgroup=kind,
            )
        )
        data.append(
            dict(
                type="scatter",
                x=u,
                y=s.log_snr(t).tolist(),
                name=kind,
                showlegend=False,
                line=dict(color=color),
                xaxis="x2",
                yaxis="y2",
                legendgroup=kind,
            )
        )
    return go.Figure(dict(data=data, layout=layout))


# -- the reverse process ------------------------------------------------------------------------
def _as_numpy_path(path: Mapping[int, Tensor]) -> dict[int, np.ndarray]:
    if not isinstance(path, Mapping) or not path:
        raise ValueError("path must be a non-empty dict {t: points}")
    return {int(t): v.detach().cpu().numpy() for t, v in path.items()}


def reverse_figure(path: Mapping[int, np.ndarray], data: np.ndarray, t: float) -> go.Figure:
    """The samples x_t of a recorded reverse chain at time t (nearest recorded t), over the data."""
    times = np.array(sorted(path))
    t = int(times[np.argmin(np.abs(times - t))])
    x = path[t]
    layout = dict(
        title=dict(text=f"reverse chain at t = {t} ({'samples' if t == 0 else 'denoising'})"),
        xaxis=dict(range=[-3.2, 3.2], zeroline=False),
        yaxis=dict(range=[-3.2, 3.2], zeroline=False, scaleanchor="x"),
        showlegend=True,
        legend=dict(x=0.01, y=0.99),
    )
    traces = [
        scatter_xy(data, "rgba(128,128,128,0.35)", "data"),
        scatter_xy(x, OKABE_ITO[2], "x_t"),
    ]
    return figure(traces, layout)


def reverse_explorer(path: Mapping[int, Tensor], data: Tensor, T: int, mode: str | None = None):
    """A slider over the reverse chain, from t = T (noise) to t = 0 (samples)."""
    arrays = _as_numpy_path(path)
    ref = check_tensor(data, "data", ndim=2).detach().cpu().numpy()
    return interactive(
        lambda t: reverse_figure(arrays, ref, t),
        Slider("t", 0, check_int(T, "T"), value=T, steps=21, label="t", fmt=".0f"),
        mode=mode,
    )


# -- samplers compared --------------------------------------------------------------------------
def sampler_figure(
    samples: Mapping[str, np.ndarray], scores: Mapping[str, float], data: np.ndarray, name: str
) -> go.Figure:
    """One sampler's output over the data, its sliced Wasserstein distance in the title."""
    if name not in samples:
        raise ValueError(f"unknown sampler {name!r}; have {list(samples)}")
    layout = dict(
        title=dict(text=f"{name}: SW₂ to fresh data = {scores[name]:.3f}"),
        xaxis=dict(range=[-3.2, 3.2], zeroline=False),
        yaxis=dict(range=[-3.2, 3.2], zeroline=False, scaleanchor="x"),
        legend=dict(x=0.01, y=0.99),
    )
    traces = [
        scatter_xy(data, "rgba(128,128,128,0.35)", "data"),
        scatter_xy(samples[name], OKABE_ITO[3], "samples"),
    ]
    return figure(traces, layout)


def sampler_explorer(
    samples: Mapping[str, Tensor],
    scores: Mapping[str, float],
    data: Tensor,
    mode: str | None = None,
):
    """Buttons over samplers (e.g. DDPM 1000, DDIM 100/20/5, Langevin)."""
    if set(samples) != set(scores):
        raise ValueError("samples and scores must have the same keys")
    arrays = {k: v.detach().cpu().numpy() for k, v in samples.items()}
    ref = check_tensor(data, "data", ndim=2).detach().cpu().numpy()
    names = list(arrays)
    return interactive(
        lambda sampler: sampler_figure(arrays, scores, ref, sampler),
        Choice("sampler", names),
        mode=mode,
    )


# -- the score view -----------------------------------------------------------------------------
def score_field(model: df.DiffusionModel, t: int, grid: int = 15) -> tuple[np.ndarray, ...]:
    """:func:`companion.diffusion.score_on_grid` as NumPy arrays (lattice points, scores)."""
    pts, s = df.score_on_grid(model, int(t), grid)
    return pts.numpy(), s.numpy()


def score_figure(model: df.DiffusionModel, z0: Tensor, noise: Tensor, t: float) -> go.Figure:
    """Arrows of the learned score at noise level t (t = 0 is read as 1) over a draw of z_t."""
    t = int(min(max(round(t), 1), model.T))
    pts, s = score_field(model, t)
    with torch.no_grad():
        cloud = model.noise.q_sample(z0, t, noise).cpu().numpy()
    norm = np.linalg.norm(s, axis=1, keepdims=True)
    length = 0.35 * np.tanh(norm) / np.maximum(norm, 1e-12)  # arrow lengths capped at 0.35
    ends = pts + length * s
    xs = np.full(3 * len(pts), np.nan)
    ys = np.full(3 * len(pts), np.nan)
    xs[0::3], xs[1::3] = pts[:, 0], ends[:, 0]
    ys[0::3], ys[1::3] = pts[:, 1], ends[:, 1]
    xs, ys = np.round(xs, 3), np.round(ys, 3)
    arrows = dict(
        type="scatter",
        mode="lines",
        x=[None if math.isnan(v) else float(v) for v in xs],
        y=[None if math.isnan(v) else float(v) for v in ys],
        line=dict(color=OKABE_ITO[5], width=1.5),
        name="score direction",
        hoverinfo="skip",
    )
    heads = dict(
        type="scatter",
        mode="markers",
        x=np.round(ends[:, 0], 3).tolist(),
        y=np.round(ends[:, 1], 3).tolist(),
        marker=dict(color=OKABE_ITO[5], size=3),
        showlegend=False,
        hoverinfo="skip",
    )
    layout = dict(
        title=dict(
            text=f"learned score ∇ log q(z_t) at t = {t} (mean |score| = {float(norm.mean()):.2f})"
        ),
        xaxis=dict(range=[-3.3, 3.3], zeroline=False),
        yaxis=dict(range=[-3.3, 3.3], zeroline=False, scaleanchor="x"),
        legend=dict(x=0.01, y=0.99),
    )
    traces = [scatter_xy(cloud, "rgba(128,128,128,0.45)", "z_t ~ q(z_t)"), arrows, heads]
    return figure(traces, layout)


def score_explorer(model: df.DiffusionModel, data: Tensor, mode: str | None = None):
    """The learned score field with a t slider (11 levels on the static site), over noised
    data, in the model's standardised coordinates."""
    if not isinstance(model, df.DiffusionModel):
        raise TypeError("model must be a DiffusionModel")
    data = check_tensor(data, "data", ndim=2)
    z0 = model.standardize(data.to(model.device)).detach()
    noise = torch.randn(z0.shape, generator=torch.Generator().manual_seed(0)).to(z0.device)
    return interactive(
        lambda t: score_figure(model, z0, noise, t),
        Slider("t", 0, model.T, value=model.T // 10, steps=11, fmt=".0f", label="t"),
        mode=mode,
    )
