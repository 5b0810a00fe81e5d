"""Figures of the chapter "Linear algebra and matrix calculus".

The helpers (and the PCA point cloud) are in :mod:`companion.linalg`; this module draws what a
2×2 matrix does to the unit circle and PCA of a point cloud as an SVD. Every number a title
prints comes from the drawing.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import linalg as la
from .._validate import check_real
from ..figures import Slider, interactive
from ..linalg import pca_cloud
from ..theme import OKABE_ITO
from ._plot import figure

__all__ = ["matrix_figure", "matrix_explorer", "pca_figure", "pca_explorer"]

F64 = torch.float64


def _r(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), 4).tolist()


def _arrow(start, end, colour: str, name: str, dash: str = "solid", legend: bool = True) -> dict:
    return dict(
        type="scatter",
        x=_r([start[0], end[0]]),
        y=_r([start[1], end[1]]),
        mode="lines+markers",
        marker=dict(symbol="arrow", angleref="previous", size=[0, 12], color=colour),
        line=dict(color=colour, width=3, dash=dash),
        name=name,
        showlegend=legend,
    )


def _fmt_complex(z: complex) -> str:
    if abs(z.imag) < 1e-12:
        return f"{z.real:.3g}"
    return f"{z.real:.3g} {'+' if z.imag > 0 else '−'} {abs(z.imag):.3g}i"


def _matrix_traces(A: torch.Tensor, U, S, Vh) -> list[dict]:
    """Circle and image ellipse, singular vectors and their images, eigenvector directions."""
    circle, image = la.circle_image(A, n=73)
    traces = [
        dict(
            type="scatter",
            x=_r(circle[:, 0]),
            y=_r(circle[:, 1]),
            mode="lines",
            line=dict(color="rgba(128,128,128,0.8)", width=1.5, dash="dot"),
            name="unit circle",
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=_r(image[:, 0]),
            y=_r(image[:, 1]),
            mode="lines",
            line=dict(color=OKABE_ITO[0], width=2.5),
            fill="toself",
            fillcolor="rgba(0,114,178,0.08)",
            name="image A·(circle)",
            hoverinfo="skip",
        ),
    ]
    for i in range(2):
        v, av = Vh[i].numpy(), (S[i] * U[:, i]).numpy()
        traces.append(
            _arrow((0, 0), v, OKABE_ITO[2], "right singular vectors v₁, v₂", legend=i == 0)
        )
        traces.append(_arrow((0, 0), av, OKABE_ITO[5], "A v_i = σ_i u_i", legend=i == 0))
    return traces + _eigen_lines(A)


def _eigen_lines(A: torch.Tensor) -> list[dict]:
    """Real eigenvector directions as dashed lines through 0, scaled by their eigenvalues
    (empty traces for a complex pair)."""
    vals, vecs = la.eigen_2x2(A)
    out = []
    for i in range(2):
        xs, ys = [], []
        if vecs is not None:
            e = vecs[:, i].numpy()
            reach = max(abs(float(vals[i].real)), 0.15) + 0.4
            xs, ys = _r([-reach * e[0], reach * e[0]]), _r([-reach * e[1], reach * e[1]])
        line = dict(color=OKABE_ITO[3], width=2, dash="dash")
        out.append(
            dict(
                type="scatter",
                x=xs,
                y=ys,
                mode="lines",
                line=line,
                name="eigenvector directions",
                showlegend=i == 0,
            )
        )
    return out


def matrix_figure(a: float, b: float, c: float, d: float) -> go.Figure:
    """``A = [[a, b], [c, d]]`` acting on the unit circle.

    Drawn: the circle and its image ellipse; the right singular vectors ``v₁, v₂`` on the
    circle and their images ``A v_i = σ_i u_i`` (the ellipse's semi-axes); real eigenvector
    directions as dashed lines through the origin, scaled by their eigenvalues.
    """
    A = torch.tensor(
        [[check_real(a, "a"), check_real(b, "b")], [check_real(c, "c"), check_real(d, "d")]],
        dtype=F64,
    )
    U, S, Vh = torch.linalg.svd(A)
    vals, vecs = la.eigen_2x2(A)
    det = float(torch.linalg.det(A))
    kappa = float(S[0] / S[1]) if float(S[1]) > 1e-12 else math.inf
    eig = ", ".join(_fmt_complex(complex(z)) for z in vals.tolist())
    kind = "complex pair: no real eigenvector" if vecs is None else "real"
    layout = dict(
        title=dict(
            text=(
                f"A = [[{a:g}, {b:g}], [{c:g}, {d:g}]]: λ = {eig} ({kind}); σ = {S[0]:.3g}, "
                f"{S[1]:.3g}; det = {det:.3g}; κ = {kappa:.3g}"
            ),
            font=dict(size=12),
        ),
        xaxis=dict(range=[-4.2, 4.2], zeroline=True, title=dict(text="x₁")),
        yaxis=dict(range=[-3.2, 3.2], scaleanchor="x", zeroline=True, title=dict(text="x₂")),
        legend=dict(x=0.0, y=1.0),
        hovermode=False,
    )
    return figure(_matrix_traces(A, U, S, Vh), layout)


def matrix_explorer(mode: str | None = None):
    """A 2×2 matrix, one slider per entry (values −1, 0, 1, 2 on the static site)."""
    grid = dict(steps=4, fmt=".2f")
    return interactive(
        matrix_figure,
        Slider("a", -1.0, 2.0, value=2.0, label="a = A₁₁", **grid),
        Slider("b", -1.0, 2.0, value=1.0, label="b = A₁₂", **grid),
        Slider("c", -1.0, 2.0, value=0.0, label="c = A₂₁", **grid),
        Slider("d", -1.0, 2.0, value=1.0, label="d = A₂₂", **grid),
        mode=mode,
        height=560,
    )


# --- PCA --------------------------------------------------------------------------------------


def pca_figure(angle_deg: float, ratio: float) -> go.Figure:
    """A 2-D cloud, its principal axes from the SVD (length 2√variance) and the true axes."""
    X = pca_cloud(angle_deg, ratio)
    res = la.pca(X, 2)
    m = res["mean"].numpy()
    traces = [
        dict(
            type="scatter",
            x=_r(X[:, 0]),
            y=_r(X[:, 1]),
            mode="markers",
            marker=dict(size=5, color=OKABE_ITO[4], opacity=0.7),
            name="data",
        )
    ]
    for i in range(2):
        v = res["components"][i].numpy() * 2 * math.sqrt(float(res["variance"][i]))
        traces.append(_arrow(m, m + v, OKABE_ITO[5], "principal axes (SVD)", legend=i == 0))
    th = math.radians(angle_deg)
    true = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
    lengths = (4.0, 4.0 * ratio)
    for i in range(2):
        traces.append(
            _arrow(
                (0, 0),
                true[i] * lengths[i],
                OKABE_ITO[7],
                "true axes (2σ)",
                dash="dot",
                legend=i == 0,
            )
        )
    first = res["components"][0].numpy()
    err = math.degrees(math.acos(min(1.0, abs(float(first @ true[0])))))
    var = res["variance"].numpy()
    explained = var[0] / var.sum()
    layout = dict(
        title=dict(
            text=(
                f"sample variances along the axes {var[0]:.2f}, {var[1]:.2f} (true 4, "
                f"{4 * ratio**2:.2f}); first axis off by {err:.1f}°; PC1 explains "
                f"{100 * explained:.1f}%"
            ),
            font=dict(size=12),
        ),
        xaxis=dict(range=[-7, 7], title=dict(text="x₁")),
        yaxis=dict(range=[-5.5, 5.5], scaleanchor="x", title=dict(text="x₂")),
        legend=dict(x=0.0, y=1.0),
        hovermode=False,
    )
    return figure(traces, layout)


def pca_explorer(mode: str | None = None):
    """PCA of a 2-D Gaussian cloud: its orientation and elongation as sliders."""
    return interactive(
        pca_figure,
        Slider(
            "angle_deg", 0.0, 165.0, value=30.0, steps=12, label="rotation (degrees)", fmt=".0f"
        ),
        Slider("ratio", 0.1, 1.0, value=0.4, steps=10, label="σ₂ / σ₁", fmt=".1f"),
        mode=mode,
        height=520,
    )
