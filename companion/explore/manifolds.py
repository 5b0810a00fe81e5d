"""Figures of the chapter "Manifolds and latent spaces".

* :func:`embedding_explorer`: PCA, Isomap, LLE and t-SNE of the swiss roll side by side (all from
  scikit-learn), a slider over the neighbourhood size, and each method's unrolling score.
* :func:`norm_explorer`: where Gaussian latent vectors live: the density of ‖z‖ for
  z ~ N(0, I_d) (a χ distribution, exact) and the norm along linear and spherical paths between
  two draws, with a slider over the dimension d.
* :func:`spectrum_figure`: cumulative PCA spectra.
* :func:`magnification_figure`: a decoder's magnification factor sqrt(det G(z)) over its 2-D
  latent plane, with the encoded data and latent paths on top.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import manifolds as mf
from .._validate import check_int, check_real
from ..figures import Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, legend, title

__all__ = [
    "NEIGHBOURS",
    "roll_points",
    "embeddings",
    "embedding_figure",
    "embedding_explorer",
    "norm_paths",
    "norm_figure",
    "norm_explorer",
    "spectrum_figure",
    "magnification_figure",
]

#: The neighbourhood sizes of the embedding explorer (Isomap/LLE neighbours, t-SNE perplexity).
NEIGHBOURS = (5, 8, 12, 16, 24)
_TITLES = {"pca": "PCA", "isomap": "Isomap", "lle": "LLE", "tsne": "t-SNE"}


@functools.lru_cache(maxsize=2)
def roll_points(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the swiss roll (noise 0.05) and their roll parameter t, as NumPy arrays."""
    from ..data import swiss_roll

    x, t = swiss_roll(check_int(n, "n", minimum=10), noise=0.05, seed=seed, dtype=torch.float64)
    return x.numpy(), t.numpy()


@functools.lru_cache(maxsize=len(NEIGHBOURS) + 2)
def embeddings(n_neighbors: int, n: int = 600) -> dict[str, tuple[np.ndarray, float]]:
    """Every method's 2-D embedding of :func:`roll_points` (standardised per axis) and its
    :func:`companion.manifolds.unrolling_score`."""
    x, t = roll_points(n)
    out = {}
    for method in mf.METHODS:
        emb = mf.embed(torch.from_numpy(x), method, n_neighbors)
        emb = (emb - emb.mean(0)) / emb.std(0)
        out[method] = (emb.astype(np.float32), mf.unrolling_score(emb, t))
    return out


def _quad_layout() -> dict:
    """Four panels in a 2 × 2 grid (axes x/y, x2/y2, x3/y3, x4/y4)."""
    cols, rows = ([0.0, 0.46], [0.54, 1.0]), ([0.55, 1.0], [0.0, 0.43])
    layout: dict = {}
    for i in range(4):
        r, c = divmod(i, 2)
        sfx = "" if i == 0 else str(i + 1)
        layout[f"xaxis{sfx}"] = dict(
            domain=cols[c], anchor=f"y{sfx}", showticklabels=False, range=[-3.2, 3.2]
        )
        layout[f"yaxis{sfx}"] = dict(
            domain=rows[r], anchor=f"x{sfx}", showticklabels=False, range=[-3.2, 3.2]
        )
    return layout


def embedding_figure(n_neighbors: int) -> go.Figure:
    """The four embeddings at one neighbourhood size, coloured by the position along the roll."""
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=2)
    table = embeddings(n_neighbors)
    _, t = roll_points()
    layout = _quad_layout()
    data, heads = [], []
    for i, method in enumerate(mf.METHODS):
        sfx = "" if i == 0 else str(i + 1)
        emb, score = table[method]
        data.append(
            dict(
                type="scatter",
                x=np.round(emb[:, 0], 3),
                y=np.round(emb[:, 1], 3),
                mode="markers",
                marker=dict(
                    size=4,
                    color=np.round(t, 2),
                    colorscale="Viridis",
                    showscale=i == 0,
                    colorbar=dict(title="t", len=0.5, thickness=10, x=1.02),
                ),
                xaxis=f"x{sfx}",
                yaxis=f"y{sfx}",
                showlegend=False,
                hoverinfo="skip",
            )
        )
        dom_x = layout[f"xaxis{sfx}"]["domain"]
        dom_y = layout[f"yaxis{sfx}"]["domain"]
        heads.append(
            dict(
                text=f"<b>{_TITLES[method]}</b>  unrolling |ρ| = {score:.3f}",
                x=(dom_x[0] + dom_x[1]) / 2,
                y=dom_y[1],
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12),
            )
        )
    layout.update(
        annotations=heads,
        title=title(f"{n_neighbors} neighbours (t-SNE perplexity {n_neighbors})"),
        hovermode=False,
        margin=dict(t=70),
    )
    return figure(data, layout)


def embedding_explorer(mode: str | None = None):
    """One slider over :data:`NEIGHBOURS` (by index; every value is computed once and cached)."""
    for k in NEIGHBOURS:  # computed up front, so that live slider moves only redraw
        embeddings(k)

    def make(index: float) -> go.Figure:
        return embedding_figure(NEIGHBOURS[int(round(index))])

    return interactive(
        make,
        Slider(
            "index",
            0,
            len(NEIGHBOURS) - 1,
            value=1,
            steps=len(NEIGHBOURS),
            label="neighbourhood index (5, 8, 12, 16, 24)",
            fmt=".0f",
        ),
        mode=mode,
        height=620,
    )


# --- norms of Gaussian vectors ---------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def norm_paths(d: int, seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`companion.manifolds.norm_along_paths` at 41 values of t (cached per d)."""
    return mf.norm_along_paths(d, seed)


def _norm_traces(d: int, paths: dict) -> list:
    root = math.sqrt(d)
    r = np.linspace(0.0, 2.0, 201)
    dens = mf.gaussian_norm_pdf(d, r * root) * root  # density of ‖z‖/√d
    right = dict(xaxis="x2", yaxis="y2")
    lo, hi = paths["q01"] / root, paths["q99"] / root
    band = dict(type="scatter", x=[0, 1, 1, 0, 0], y=[lo, lo, hi, hi, lo], fill="toself",
                mode="lines", line=dict(width=0), fillcolor="rgba(0,158,115,0.2)",
                name="98 % of draws", **right)  # fmt: skip
    return [
        dict(type="scatter", x=r, y=np.round(dens, 5), name="density of ‖z‖/√k", fill="tozeroy"),
        band,
        dict(type="scatter", x=paths["t"], y=np.round(paths["lerp"] / root, 4),
             name="linear path", **right),
        dict(type="scatter", x=paths["t"], y=np.round(paths["slerp"] / root, 4),
             name="spherical path", **right),
    ]  # fmt: skip


def norm_figure(log2_d: float) -> go.Figure:
    """Left: the density of ‖z‖/√d (exact χ_d, rescaled). Right: ‖path(t)‖/√d along lerp and
    slerp between two draws, with the central 98 % band of ‖z‖/√d shaded."""
    log2_d = check_real(log2_d, "log2_d")
    if not 0 <= log2_d <= 12:
        raise ValueError(f"log2_d must lie in [0, 12]; got {log2_d}")
    d = int(round(2**log2_d))
    root = math.sqrt(d)
    paths = norm_paths(d)
    layout = side_by_side(("where N(0, I_k) puts its mass", "norm along a path z0 → z1"), gap=0.12)
    layout.update(
        title=title(
            f"k = {d}:  E‖z‖ = {mf.gaussian_norm_mean(d):.3f},  √k = {root:.3f};  "
            f"lerp midpoint ‖z‖/√k = {paths['lerp'][20] / root:.3f}"
        ),
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", title="‖z‖ / √k", range=[0, 2]),
        yaxis=dict(anchor="x", title="density", range=[0, 14]),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="t"),
        yaxis2=dict(anchor="x2", title="‖z(t)‖ / √k", range=[0, 2]),
        legend=legend(0.01, 0.99, font=dict(size=11)),
        hovermode=False,
    )
    return figure(_norm_traces(d, paths), layout)


def norm_explorer(mode: str | None = None):
    """Slider over log₂ d from 0 to 9 (d = 1, 2, 4, …, 512)."""
    return interactive(
        norm_figure,
        Slider("log2_d", 0.0, 9.0, value=1.0, steps=10, label="log₂ k", fmt=".0f"),
        mode=mode,
        height=440,
    )


def spectrum_figure(spectra: dict[str, torch.Tensor], max_components: int = 20) -> go.Figure:
    """Cumulative explained variance of several data sets against the number of components."""
    if not isinstance(spectra, dict) or not spectra:
        raise ValueError("spectra must be a non-empty dict {name: pca_spectrum(...)}")
    max_components = check_int(max_components, "max_components", minimum=1)
    fig = go.Figure()
    for name, spec in spectra.items():
        cum = np.cumsum(spec.numpy())[:max_components]
        fig.add_trace(
            go.Scatter(x=np.arange(1, len(cum) + 1), y=cum, mode="lines+markers", name=name)
        )
    fig.add_hline(y=0.9, line=dict(dash="dot", color=OKABE_ITO[7]))
    fig.update_layout(
        xaxis=dict(title="number of principal components"),
        yaxis=dict(title="share of variance explained", range=[0, 1.02]),
        height=360,
        hovermode="x unified",
    )
    return fig


def magnification_figure(
    axis: np.ndarray,
    volume: np.ndarray,
    codes: np.ndarray,
    labels: np.ndarray,
    paths: dict[str, np.ndarray] | None = None,
) -> go.Figure:
    """Heat map of log10 sqrt(det G) on the square grid ``axis`` × ``axis`` (``volume`` has shape
    (len(axis), len(axis)), rows along the second coordinate), the codes coloured by label, and
    the named latent ``paths`` ((n, 2) arrays) as lines."""
    axis, volume = np.asarray(axis, dtype=float), np.asarray(volume, dtype=float)
    if volume.shape != (axis.size, axis.size):
        raise ValueError(f"volume must have shape {(axis.size, axis.size)}; got {volume.shape}")
    fig = go.Figure(
        go.Heatmap(
            x=axis,
            y=axis,
            z=np.log10(np.maximum(volume, 1e-12)),
            colorscale="Greys",
            colorbar=dict(title="log₁₀ √det G", len=0.8),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=codes[:, 0],
            y=codes[:, 1],
            mode="markers",
            name="encoded digits",
            marker=dict(size=3, color=labels, colorscale="Turbo", opacity=0.4),
            hoverinfo="skip",
        )
    )
    for name, path in (paths or {}).items():
        fig.add_trace(
            go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name=name, line=dict(width=3))
        )
    fig.update_layout(
        height=460,
        hovermode=False,
        xaxis=dict(title="z₁", range=[axis[0], axis[-1]]),
        yaxis=dict(title="z₂", range=[axis[0], axis[-1]], scaleanchor="x"),
        legend=dict(orientation="h", y=-0.15),
        title="magnification factor of the digits decoder",
    )
    return fig
