"""Figures of the diffusion chapter: what they show against independent computations."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer

from companion import data
from companion import diffusion as df
from companion.explore import diffusion as ex


@pytest.fixture(scope="module")
def clouds():
    return ex.forward_clouds(data.ring(200, seed=0) / 2, T=100, seed=0)


@pytest.fixture(scope="module")
def model():
    return df.fit(data.ring(256, seed=0), steps=5, progress=False, device="cpu", T=100, hidden=8)


def test_forward_title_and_points(clouds):
    fig = ex.forward_figure(clouds, 40, "cosine")
    ab = float(df.NoiseSchedule("cosine", 100).alpha_bar(40))
    assert f"ᾱ_t = {ab:.4f}" in fig.layout.title.text
    assert "t = 40" in fig.layout.title.text
    # the closed-form panel is √ᾱ x0 + √(1−ᾱ) ε with the stored noise (computed here directly)
    expected = math.sqrt(ab) * clouds.x0 + math.sqrt(1 - ab) * clouds.noise
    assert np.allclose(fig.data[0].x, expected[:, 0].numpy(), atol=1e-3)
    assert "∞" in ex.forward_figure(clouds, 0).layout.title.text


def test_schedule_figure_values():
    fig = ex.schedule_figure(50)
    assert len(fig.data) == 4
    s = df.NoiseSchedule("cosine", 50)
    assert np.allclose(fig.data[2].y, s.alpha_bar(torch.arange(1, 51)).numpy())


def test_reverse_and_sampler_figures():
    path = {0: torch.zeros(5, 2), 50: torch.ones(5, 2), 100: 2 * torch.ones(5, 2)}
    ref = torch.zeros(7, 2)
    fig = ex.reverse_figure(ex._as_numpy_path(path), ref.numpy(), 60)
    assert "t = 50" in fig.layout.title.text and fig.data[1].x[0] == 1.0
    fig = ex.sampler_figure({"a": np.zeros((3, 2))}, {"a": 0.1234}, ref.numpy(), "a")
    assert "0.123" in fig.layout.title.text
    with pytest.raises(ValueError, match="unknown sampler"):
        ex.sampler_figure({"a": np.zeros((3, 2))}, {"a": 0.1}, ref.numpy(), "b")
    with pytest.raises(ValueError, match="same keys"):
        ex.sampler_explorer({"a": torch.zeros(3, 2)}, {"b": 0.1}, ref)


def test_score_field_is_the_topic_score_on_grid(model):
    pts, s = ex.score_field(model, 30, grid=5)
    ref_pts, ref_s = df.score_on_grid(model, 30, grid=5)
    assert np.array_equal(pts, ref_pts.numpy()) and np.array_equal(s, ref_s.numpy())


def test_figures_are_valid_plotly(clouds, model):
    """The figures skip plotly's validation for speed; rebuilding them validated must pass."""
    ref = data.ring(50, seed=1)
    figs = [
        ex.forward_figure(clouds, 10),
        ex.reverse_figure({0: np.zeros((3, 2))}, ref.numpy(), 0),
        ex.sampler_figure({"a": np.zeros((3, 2))}, {"a": 0.1}, ref.numpy(), "a"),
        ex.score_figure(model, model.standardize(ref), torch.zeros(50, 2), 20),
    ]
    for fig in figs:
        go.Figure(fig.to_plotly_json())


def test_both_modes_build_and_live_extremes(clouds, model):
    ref = data.ring(100, seed=2)
    factories = [
        lambda mode: ex.forward_explorer(clouds, mode=mode),
        lambda mode: ex.reverse_explorer({0: ref, 100: ref * 0}, ref, T=100, mode=mode),
        lambda mode: ex.sampler_explorer(
            {"x": ref, "y": ref}, {"x": 0.1, "y": 0.2}, ref, mode=mode
        ),
        lambda mode: ex.score_explorer(model, ref, mode=mode),
    ]
    for factory in factories:
        check_explorer(factory, max_frames=300)


def test_bad_input(model):
    with pytest.raises(ValueError, match="2-D"):
        ex.forward_clouds(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="schedule"):
        ex.forward_figure(ex.forward_clouds(torch.zeros(3, 2), T=5), 1, "quadratic")
    with pytest.raises(ValueError, match="non-empty"):
        ex.reverse_explorer({}, torch.zeros(3, 2), T=10)
    with pytest.raises(TypeError, match="DiffusionModel"):
        ex.score_explorer("model", torch.zeros(3, 2))
    with pytest.raises(ValueError):
        ex.schedule_figure(1)
