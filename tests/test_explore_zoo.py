"""Figures of the zoo chapter: both modes, every slider extreme, printed numbers checked."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer
from scipy import integrate

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
    paths = ez.flow_paths(velocity, n=50, n_steps=4)
    for fig in (
        ez.langevin_figure(-2.0),
        ez.temperature_figure(gpt, transition, 0.7, length=10),
        ez.flow_figure(paths, torch.randn(20, 2), 0.5),
    ):
        go.Figure(fig.to_plotly_json())


def test_ring_radial_moments_by_scipy():
    r, w = ez.RING["radius"], ez.RING["width"]

    def dens(rho):
        return rho * math.exp(-((rho - r) ** 2) / (2 * w**2))

    z = integrate.quad(dens, 0, np.inf)[0]
    mean = integrate.quad(lambda u: u * dens(u), 0, np.inf)[0] / z
    var = integrate.quad(lambda u: (u - mean) ** 2 * dens(u), 0, np.inf)[0] / z
    m, s = ez.ring_radial_moments()
    assert m == pytest.approx(mean, abs=1e-8) and s == pytest.approx(math.sqrt(var), abs=1e-8)


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


def test_temperature_figure_probabilities(models):
    gpt, transition, _ = models
    fig = ez.temperature_figure(gpt, transition, 2.0, length=6)
    bars = np.array([fig.data[c].y for c in range(3)]).T  # (contexts, symbols)
    ctx = torch.tensor([[a, b] for a in range(3) for b in range(3)])
    with torch.no_grad():
        ref = torch.softmax(gpt(ctx)[:, -1].double() / 2.0, -1).numpy()
    np.testing.assert_allclose(bars, ref, atol=1e-4)
    with pytest.raises(ValueError, match="temperature"):
        ez.temperature_figure(gpt, transition, 0.0)


def test_flow_figure_bad_time(models):
    _, _, velocity = models
    paths = ez.flow_paths(velocity, n=10, n_steps=2)
    with pytest.raises(ValueError, match="t must lie"):
        ez.flow_figure(paths, torch.randn(5, 2), 1.5)
