"""Figures of the GAN chapter: printed numbers against independent references, every slider
extreme, plotly validity and the live-update budget."""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer

from companion import gan
from companion.device import single_thread
from companion.explore import gan as ex


def test_criterion_title_shows_the_values():
    fig = ex.criterion_figure(2.0, 1.0)
    v = gan.criterion_values(2.0, 1.0)
    assert f"{v['C(G)']:.6f}" in fig.layout.title.text
    go.Figure(fig.to_plotly_json())  # built without validation; must pass it


def test_gradient_figure_curves():
    fig = ex.gradient_figure()
    d = np.asarray(fig.data[0].x)
    assert np.allclose(fig.data[0].y, d) and np.allclose(fig.data[1].y, 1 - d)


def test_dstar_and_critic_figures_draw_the_results():
    x = np.linspace(-4, 5, 7)
    fig = ex.dstar_figure(dict(x=x, p_data=x, p_g=x, formula=x / 10, trained=x / 9))
    assert len(fig.data) == 4 and np.allclose(fig.data[3].y, x / 9)
    res = dict(x=x, gp=2 * x, clip=x / 100, gp_estimate=3.25, clip_estimate=0.0125)
    fig = ex.critic_figure(res)
    assert len(fig.data) == 3 and "3.250" in fig.data[1].name and "0.013" in fig.data[2].name


def _fake_runs():
    torch.manual_seed(0)
    model = gan.GAN(2, hidden=[8], n_snapshots=3, snapshot_size=40)
    centers = gan.centers_for("ring")
    # snapshot 0: all on mode 0; 1: spread over all modes; 2: far from every mode
    model.snapshots[0] = centers[0] + 0.01 * torch.randn(40, 2)
    model.snapshots[1] = centers[torch.arange(40) % 8] + 0.01 * torch.randn(40, 2)
    model.snapshots[2] = 10.0 + torch.randn(40, 2)
    model.snapshot_steps.copy_(torch.tensor([0, 50, 100]))
    return {"fake": (model, "ring", gan.snapshot_metrics(model, "ring"))}


def test_training_figure_title_and_validity():
    runs = _fake_runs()
    fig = ex.training_figure(runs, "fake", 1)
    assert "step 50" in fig.layout.title.text and "8/8" in fig.layout.title.text
    go.Figure(fig.to_plotly_json())
    with pytest.raises(ValueError, match="ring"):
        gan.centers_for("moons")


def test_digits_figure_shape():
    model = gan.GAN(64, latent_dim=4, hidden=[8], n_classes=10, output="sigmoid")
    fig = ex.digits_figure(model, per_class=3)
    assert np.asarray(fig.data[0].z).shape == (90, 27)
    assert fig.data[1].y[0] == 9  # the first line between two classes
    go.Figure(fig.to_plotly_json())


def test_training_explorer_keeps_the_contract():
    runs = _fake_runs()
    check_explorer(
        lambda mode: ex.training_explorer(runs, mode=mode), max_frames=300, max_bytes=3_000_000
    )


def _fake_stabilisers():
    models = {
        (v, d): gan.GAN(2, latent_dim=2, hidden=[8])
        for v in ("base", "kl")
        for d in ("ring", "grid")
    }
    rows = [
        {"variant": v, "dataset": d, "seed": s, "modes": 8 - s, "quality": 0.5 + 0.1 * s}
        for (v, d) in models
        for s in range(3)
    ]
    return gan.stabiliser_samples(models, n=50), gan.summarise_stabilisers(rows)


def test_stabiliser_figure_title_and_summary():
    samples, summary = _fake_stabilisers()
    assert summary[("kl", "grid")]["modes"] == pytest.approx(7.0)
    assert summary[("kl", "grid")]["quality_max"] == pytest.approx(0.7)
    fig = ex.stabiliser_figure(samples, summary, "kl", "grid")
    assert "modes 7.0/25" in fig.layout.title.text and "60.0 %" in fig.layout.title.text
    assert len(fig.data[0].x) == 50
    go.Figure(fig.to_plotly_json())


def test_stabiliser_explorer_keeps_the_contract():
    samples, summary = _fake_stabilisers()
    check_explorer(
        lambda mode: ex.stabiliser_explorer(samples, summary, mode=mode),
        max_frames=100,
        max_bytes=3_000_000,
    )


def test_live_update_budget():
    """≤ 30 ms per redraw of the C(G) explorer (the median of a few, one thread)."""
    ex.criterion_figure(1.0, 1.0)  # warm the cache for this σ
    times = []
    with single_thread():
        for mu in (1.0, 1.5, 2.0, 2.5, 3.0):
            start = time.perf_counter()
            ex.criterion_figure(mu, 1.0)
            times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.03 * 3, times  # 3x slack for a busy shared machine


@pytest.mark.parametrize("sigma", [0.25, 0.7, 1.0, 1.735, 2.5])
def test_criterion_curve_equals_criterion_values(sigma):
    """The batched C(G)-against-μ curve (every 4th grid point) is criterion_values' quadrature."""
    mus, curve = ex._criterion_curve(sigma)
    ref = np.array([gan.criterion_values(float(m), sigma)["C(G)"] for m in mus])
    np.testing.assert_allclose(curve, ref, rtol=0, atol=1e-12)
