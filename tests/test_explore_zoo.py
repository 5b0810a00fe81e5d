"""Figures of the zoo chapter: both modes, every slider extreme, printed numbers checked."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer

from companion import zoo
from companion.explore import zoo as ez

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    transition = torch.full((3, 3, 3), 1 / 3, dtype=torch.float64)
    return zoo.TinyTransformer(3, 8, 8), transition, zoo.VelocityNet(hidden=8)


def _factories(models):
    gpt, transition, velocity = models
    data = torch.randn(100, 2)
    return [
        lambda mode: ez.temperature_explorer(gpt, transition, mode=mode),
        lambda mode: ez.flow_explorer(velocity, data, mode=mode),
    ]


@pytest.mark.parametrize("which", [0, 1])
def test_both_modes_build_at_every_extreme(models, which):
    check_explorer(_factories(models)[which])


def test_figures_are_valid_plotly(models):
    gpt, transition, velocity = models
    paths = zoo.flow_paths(velocity, n=50, n_steps=4)
    for fig in (
        ez.langevin_figure(-2.0),
        ez.temperature_figure(gpt, transition, 0.7, length=10),
        ez.flow_figure(paths, torch.randn(20, 2), 0.5),
    ):
        go.Figure(fig.to_plotly_json())


def test_langevin_title_matches_its_samples():
    title = ez.langevin_figure(-1.5).layout.title.text
    spread = float(re.search(r"std of ‖x‖ = (\d+\.\d+)", title).group(1))
    left = float(re.search(r"left half-plane (\d+)%", title).group(1))
    x = ez.langevin_run(10**-1.5)
    assert spread == pytest.approx(torch.linalg.vector_norm(x, dim=1).std().item(), abs=1e-3)
    assert left == pytest.approx(100 * (x[:, 0] < 0).double().mean().item(), abs=0.6)
    # A large step widens the ring (ULA bias); a tiny one leaves the chains where they started.
    wide_title = ez.langevin_figure(-1.0).layout.title.text
    wide = float(re.search(r"std of ‖x‖ = (\d+\.\d+)", wide_title).group(1))
    assert wide > 1.5 * ez.ring_radial_moments()[1]
    assert "left half-plane 0%" in ez.langevin_figure(-3.0).layout.title.text


def test_temperature_figure_draws_the_topic_probabilities(models):
    gpt, transition, _ = models
    fig = ez.temperature_figure(gpt, transition, 2.0, length=6)
    bars = np.array([fig.data[c].y for c in range(3)]).T  # (contexts, symbols)
    np.testing.assert_allclose(bars, zoo.next_symbol_probs(gpt, 3, 2.0).numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="temperature"):
        ez.temperature_figure(gpt, transition, 0.0)


def test_flow_figure_bad_time(models):
    _, _, velocity = models
    paths = zoo.flow_paths(velocity, n=10, n_steps=2)
    with pytest.raises(ValueError, match="t must lie"):
        ez.flow_figure(paths, torch.randn(5, 2), 1.5)
