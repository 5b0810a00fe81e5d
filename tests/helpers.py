"""Small helpers shared by the test modules."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import settings

ATOL = 1e-8
LOG2 = math.log(2.0)
FAST = settings(max_examples=50, deadline=None, derandomize=True)


def t64(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def random_simplex(rng: np.random.Generator, shape, zeros: bool = False) -> np.ndarray:
    """Probability vectors along the last axis (optionally with some exact zeros)."""
    w = rng.gamma(0.7, size=shape)
    if zeros:
        w[rng.random(shape) < 0.3] = 0.0
        w[..., 0] += 1e-3  # at least one positive entry per vector
    return w / w.sum(axis=-1, keepdims=True)


def check_explorer(
    factory,
    *,
    max_bytes: int = 2_500_000,
    max_frames: int | None = None,
    validate: bool = False,
):
    """The contract every interactive figure keeps; returns its ``(static, live)`` versions.

    Static: one frame per combination of control values, a page weight under ``max_bytes``
    (and at most ``max_frames`` frames if given; ``validate`` rebuilds the figure through
    plotly's validators). Live: the same controls; at the starting values (when they lie on the
    static grid) the same title as the static base frame; every slider at its minimum and
    maximum and every choice at each option redraws with a title and no NaN in it.
    """
    import plotly.graph_objects as go

    from companion.figures import LiveFigure, Slider, StaticFigure

    static = factory(mode="static")
    assert isinstance(static, StaticFigure)
    n_frames = math.prod(len(c.grid()) for c in static.controls)
    assert len(static.payload["frames"]) == n_frames
    if max_frames is not None:
        assert n_frames <= max_frames, f"{n_frames} frames; keep the static grid modest"
    assert len(static.to_html()) < max_bytes, "keep each figure's page weight modest"
    if validate:
        go.Figure(static.figure.to_plotly_json())
    live = factory(mode="live")
    assert isinstance(live, LiveFigure)
    assert [c.name for c in live.specs] == [c.name for c in static.controls]
    if all(c.value == c.grid()[c.grid_index()] for c in live.specs):
        assert static.figure.layout.title.text == live.figure.layout.title.text
    for c in live.specs:
        start = live.values()[c.name]
        for v in (c.min, c.max) if isinstance(c, Slider) else c.grid():
            live.update(**{c.name: v})
            title = live.figure.layout.title.text
            assert title, f"{c.name}={v!r}: the figure lost its title"
            assert "nan" not in title.lower().replace(",", " ").split(), f"{c.name}={v!r}: {title}"
        live.update(**{c.name: start})
    return static, live
