"""Figures of the flows chapter: their numbers against independent references, both modes."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer
from scipy import integrate, stats

from companion import flows as fl
from companion.device import single_thread
from companion.explore import flows as ex


def test_monotone_figure_title_numbers():
    eps, delta = 0.5, 0.6
    title = ex.monotone_figure(eps, delta).layout.title.text
    formula, share, slip = map(float, re.findall(r"(\d+\.\d{3})", title)[-3:])
    fa, fb = (fl.sinh_arcsinh(np.array([v]), eps, delta)[0][0] for v in (-5.0, 5.0))
    assert formula == pytest.approx(stats.norm.cdf(fb) - stats.norm.cdf(fa), abs=1.5e-3)
    draws = fl.sinh_arcsinh(
        np.random.default_rng(0).standard_normal(20_000), eps, delta, reverse=True
    )[0]
    assert share == pytest.approx(np.mean(np.abs(draws) <= 5), abs=1e-3)
    ref_slip = integrate.quad(lambda t: ex.monotone_density(t, eps, delta, slip=True), -5, 5)[0]
    assert slip == pytest.approx(ref_slip, abs=2e-3)
    assert abs(slip - 1) > 0.05  # the reciprocal factor is not a density here


def test_monotone_figure_is_valid_plotly():
    fig = ex.monotone_figure(-1.0, 1.5)
    go.Figure(fig.to_plotly_json())
    assert [t.type for t in fig.data] == ["bar", "scatter", "scatter"]


def test_monotone_bad_input():
    with pytest.raises(ValueError, match="delta"):
        ex.monotone_figure(0.0, 0.0)
    with pytest.raises(TypeError, match="eps"):
        fl.sinh_arcsinh(np.zeros(2), "a", 1.0)


@pytest.fixture(scope="module")
def prepared():
    models, data = {}, {}
    for name in ("moons", "ring"):
        d = fl.training_data(name, 600, seed=0)
        with single_thread():
            models[name] = fl.fit(d, steps=20, layers=2, hidden=16, progress=False, device="cpu")
        data[name] = d
    with single_thread():
        return ex.prepare(models, data, n_points=200, grid=120, heat=30), models, data


def test_prepare_contents(prepared):
    prep, models, data = prepared
    entry = prep["moons"]
    model = models["moons"]
    assert len(entry["stages"]) == len(model.layers) + 1 == len(entry["labels"])
    assert entry["labels"][0] == "data x"
    z, ldj = model(data["moons"][:200])
    assert np.allclose(entry["stages"][-1], z.detach().numpy(), atol=1e-3)
    assert entry["ldj"][-1] == pytest.approx(ldj.mean().item(), abs=1e-4)
    # The stored integral is the midpoint rule of exp(log_prob) (computed here independently).
    (lo, hi), n = ex.BOXES["moons"], entry["grid"]
    xs = np.linspace(lo[0], hi[0], n + 1)
    ys = np.linspace(lo[1], hi[1], n + 1)
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    pts = torch.tensor(np.stack(np.meshgrid(cx, cy), -1).reshape(-1, 2))
    with torch.no_grad():
        dens = model.double().log_prob(pts).exp().sum().item()
    model.float()
    assert entry["mass"] == pytest.approx(dens * (xs[1] - xs[0]) * (ys[1] - ys[0]), rel=1e-9)


def test_layers_and_density_figures(prepared):
    prep, _, _ = prepared
    last = len(prep["moons"]["stages"]) - 1
    for k in (0, last):
        fig = ex.layers_figure(prep, "moons", k)
        go.Figure(fig.to_plotly_json())
        pts = prep["moons"]["stages"][k]
        shown = float(re.search(r"mean ‖·‖² = (\d+\.\d+)", fig.layout.title.text).group(1))
        assert shown == pytest.approx((pts.astype(float) ** 2).sum(1).mean(), abs=0.01)
    fig = ex.density_figure(prep, "ring")
    go.Figure(fig.to_plotly_json())
    shown = float(re.search(r"= (\d+\.\d+)$", fig.layout.title.text).group(1))
    assert shown == pytest.approx(prep["ring"]["mass"], abs=1e-5)


def test_figure_bad_input(prepared):
    prep, models, data = prepared
    with pytest.raises(ValueError, match="stage"):
        ex.layers_figure(prep, "moons", 99)
    with pytest.raises(ValueError, match="name"):
        ex.layers_figure(prep, "spiral", 0)
    with pytest.raises(ValueError, match="name"):
        ex.density_figure(prep, "spiral")
    with pytest.raises(ValueError, match="same names"):
        ex.prepare({"moons": models["moons"]}, {"ring": data["ring"]})
    with pytest.raises(TypeError, match="dicts"):
        ex.prepare([models["moons"]], data)
    with pytest.raises(TypeError, match="2-D Flow"):
        ex.prepare({"moons": torch.nn.Linear(2, 2)}, {"moons": data["moons"]})


@pytest.mark.parametrize("which", ["layers", "density"])
def test_both_modes_build(which, prepared):
    prep = prepared[0]
    factory = {
        "layers": lambda mode: ex.layers_explorer(prep, mode=mode),
        "density": lambda mode: ex.density_explorer(prep, mode=mode),
    }[which]
    check_explorer(factory, max_frames=300)
