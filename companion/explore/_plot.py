"""Small plotting helpers shared by the explore modules (plain plotly dicts, no computation).

Figures are built from plain ``dict`` traces and ``go.Figure(..., _validate=False)``: skipping
plotly's property validation makes a figure several times faster to build, which keeps a live
slider update within its budget; the explorer contract test validates every figure instead.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "LEGEND_BOX",
    "GREY",
    "figure",
    "line",
    "points",
    "scatter_xy",
    "title",
    "legend",
    "num",
    "f32",
]

#: A translucent legend background that reads on light and dark page themes.
LEGEND_BOX = dict(bgcolor="rgba(128,128,128,0.1)")
#: Neutral grey for reference lines and guides.
GREY = "rgba(120,120,120,0.6)"


def figure(traces: list, layout: dict) -> go.Figure:
    """``go.Figure`` from plain trace and layout dicts, without plotly's (slow) validation."""
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def line(x, y, color: str, name: str, right: bool = False, **kw) -> dict:
    """A line trace (``right=True``: in the second panel, axes ``x2``/``y2``); hidden from the
    legend unless ``showlegend=True`` is passed."""
    axes = dict(xaxis="x2", yaxis="y2") if right else {}
    kw.setdefault("showlegend", False)
    style = dict(color=color, **kw.pop("line", {}))
    return dict(type="scatter", x=x, y=y, mode="lines", name=name, line=style, **axes, **kw)


def points(x, y, marker: dict, name: str, right: bool = False, **kw) -> dict:
    """A marker trace, the markers styled by ``marker`` (see :func:`line` for ``right``)."""
    axes = dict(xaxis="x2", yaxis="y2") if right else {}
    kw.setdefault("showlegend", False)
    return dict(type="scatter", x=x, y=y, mode="markers", marker=marker, name=name, **axes, **kw)


def scatter_xy(xy: np.ndarray, color: str, name: str, axis: str = "", **marker) -> dict:
    """A point cloud ``xy`` of shape ``(n, 2)`` as markers, coordinates rounded to 3 digits
    (keeps the static page light); ``axis="2"`` draws it in the second panel."""
    xy = np.asarray(xy)
    marker = dict(dict(size=3, opacity=0.55), color=color, **marker)
    return dict(
        type="scatter",
        mode="markers",
        x=np.round(xy[:, 0], 3).tolist(),
        y=np.round(xy[:, 1], 3).tolist(),
        marker=marker,
        name=name,
        xaxis="x" + axis,
        yaxis="y" + axis,
        hoverinfo="skip",
    )


def title(text: str, size: int = 13) -> dict:
    """A figure title in a small font, so that a line of numbers fits the text column."""
    return dict(text=text, font=dict(size=size))


def legend(x: float, y: float, xanchor: str = "left", yanchor: str = "top", **kw) -> dict:
    """A legend anchored at paper coordinates ``(x, y)`` on the translucent box."""
    return dict(x=x, y=y, xanchor=xanchor, yanchor=yanchor, **LEGEND_BOX, **kw)


def num(x: float, digits: int) -> str:
    """``x`` rounded for display, without a stray minus sign on zero (-0.00 -> 0.00)."""
    v = round(x, digits)
    return f"{(0.0 if v == 0 else v):.{digits}f}"


def f32(values) -> np.ndarray:
    """Values as a float32 array (plotly writes it as a typed array: half the bytes of float64
    in the static page)."""
    return np.asarray(values, dtype=np.float32)
