"""The plotly template and the renderer that works on the static site."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from companion import theme


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_template_palette_and_transparency():
    theme.register(make_default=False)
    t = pio.templates[theme.TEMPLATE_NAME]
    assert list(t.layout.colorway) == list(theme.OKABE_ITO)
    assert t.layout.paper_bgcolor == "rgba(0,0,0,0)"
    # Neither near-black nor near-white: each colour must be visible on both page themes.
    for c in theme.OKABE_ITO:
        assert 0.15 < _luminance(c) < 0.9, c


def test_renderer_emits_html_without_cdn_or_inlined_plotly(monkeypatch):
    monkeypatch.setenv("GF_FIGURE_MODE", "live")
    theme.register(make_default=False)
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    bundle = pio.renderers[theme.RENDERER_NAME].to_mimebundle(fig.to_plotly_json())
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    assert "cdn" not in html.lower() and "require(" not in html
    assert len(html) < 20_000, "plotly.js must not be inlined per figure"
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["type"] == "scatter"
    assert not re.search(r"<script[^>]+src=", html)


def test_register_bad_input():
    with pytest.raises(TypeError, match="make_default"):
        theme.register(make_default="yes")


def test_renderer_in_the_book_build_is_html_only(monkeypatch):
    monkeypatch.setenv("GF_FIGURE_MODE", "static")
    theme.register(make_default=False)
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    bundle = pio.renderers[theme.RENDERER_NAME].to_mimebundle(fig.to_plotly_json())
    assert set(bundle) == {"text/html"}
