"""The book's plotly look and the renderer that makes plain figures work on the static site.

* ``TEMPLATE_NAME`` ("generative") is a plotly template with the Okabe–Ito colour-blind-safe
  palette, transparent backgrounds and semi-transparent grey grid lines, so a figure reads in both
  the light and the dark theme of the website (the site's ``gf-figures.js`` switches the text
  colour when the reader toggles dark mode).
* ``RENDERER_NAME`` ("generative") is a plotly renderer whose output carries two MIME types:
  ``text/html`` that draws with the page's own copy of plotly.js (loaded once per page, never
  inlined, no require.js, no CDN), and plotly's JSON type that JupyterLab renders natively.
"""

from __future__ import annotations

import copy

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

from ._mode import resolve_mode

__all__ = [
    "OKABE_ITO",
    "TEMPLATE_NAME",
    "RENDERER_NAME",
    "register",
    "figure_html",
    "side_by_side",
]

#: Okabe & Ito (2008) palette, safe for the common colour-vision deficiencies.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#7F7F7F",  # grey (instead of black, which vanishes on a dark background)
)

TEMPLATE_NAME = "generative"
RENDERER_NAME = "generative"

_GRID = "rgba(128,128,128,0.25)"
_LINE = "rgba(128,128,128,0.6)"


def _template() -> go.layout.Template:
    axis = dict(
        gridcolor=_GRID,
        zerolinecolor=_LINE,
        linecolor=_LINE,
        showline=True,
        ticks="outside",
        tickcolor=_LINE,
        automargin=True,
    )
    return go.layout.Template(
        layout=dict(
            colorway=list(OKABE_ITO),
            font=dict(
                family="system-ui, -apple-system, 'Segoe UI', sans-serif", size=13, color="#3b3b3b"
            ),
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="rgba(0,0,0,0)",
            xaxis=axis,
            yaxis=axis,
            legend=dict(bgcolor="rgba(0,0,0,0)"),
            margin=dict(l=60, r=20, t=60, b=50),
            hovermode="x unified",
            colorscale=dict(sequential="Viridis", sequentialminus="Viridis", diverging="RdBu"),
        ),
        data=dict(scatter=[go.Scatter(line=dict(width=2.5))]),
    )


def side_by_side(titles: tuple[str, str], split: float = 0.5, gap: float = 0.1) -> dict:
    """Layout entries for two panels side by side (axes x/y on the left, x2/y2 on the right).

    A cheap stand-in for ``plotly.subplots.make_subplots(rows=1, cols=2)``, which costs tens of
    milliseconds per call — too slow inside a figure that is redrawn on every slider move. Put a
    trace in the right panel with ``xaxis="x2", yaxis="y2"``.
    """
    if not 0.1 <= split <= 0.9 or not 0 <= gap < 0.5:
        raise ValueError(f"need 0.1 <= split <= 0.9 and 0 <= gap < 0.5, got {split}, {gap}")
    left = [0.0, split - gap / 2]
    right = [split + gap / 2, 1.0]
    heads = [
        dict(
            text=t,
            x=(d[0] + d[1]) / 2,
            y=1.0,
            xref="paper",
            yref="paper",
            xanchor="center",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=13),
        )
        for t, d in zip(titles, (left, right), strict=True)
    ]
    return dict(
        xaxis=dict(domain=left, anchor="y"),
        yaxis=dict(anchor="x"),
        xaxis2=dict(domain=right, anchor="y2"),
        yaxis2=dict(anchor="x2"),
        annotations=heads,
    )


def figure_html(fig: go.Figure, div_id: str | None = None) -> str:
    """HTML for ``fig`` that expects plotly.js to be on the page already (no CDN, no require.js)."""
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        div_id=div_id,
        config={"responsive": True, "displaylogo": False},
    )


class _BookRenderer(MimetypeRenderer):
    """Plotly renderer emitting page-level-plotly.js HTML, plus plotly's own JSON MIME type for
    JupyterLab except in the book build (which has no use for it and would warn about it)."""

    def to_mimebundle(self, fig_dict):
        fig = go.Figure(fig_dict)
        bundle = {"text/html": figure_html(fig)}
        if resolve_mode() == "live":
            bundle["application/vnd.plotly.v1+json"] = copy.deepcopy(fig.to_plotly_json())
        return bundle


def register(make_default: bool = True) -> None:
    """Register the book's template and renderer with plotly (idempotent).

    With ``make_default`` (the default) they also become plotly's defaults, so that every figure a
    chapter draws with plain plotly looks like the book's and renders on the static site.
    """
    if not isinstance(make_default, bool):
        raise TypeError(f"make_default must be True or False, got {make_default!r}")
    pio.templates[TEMPLATE_NAME] = _template()
    pio.renderers[RENDERER_NAME] = _BookRenderer()
    if make_default:
        pio.templates.default = TEMPLATE_NAME
        pio.renderers.default = RENDERER_NAME
