"""Figures of the VAE chapter: printed numbers against independent references."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer
from scipy import stats
from torch.distributions import Normal, kl_divergence

from companion import models, vae
from companion.explore import vae as ex


def title_numbers(fig) -> list[float]:
    return [float(v) for v in re.findall(r"= (-?\d+\.\d+)", fig.layout.title.text)]


@pytest.mark.parametrize(("shift", "ratio"), [(0.0, 1.0), (-1.5, 0.25), (1.5, 1.75), (0.5, 0.5)])
def test_ppca_figure_title_against_scipy_and_torch(shift, ratio):
    fig = ex.ppca_figure(shift, ratio)
    go.Figure(fig.to_plotly_json())
    log_px, elbo, gap, kl = title_numbers(fig)
    model, x = ex.ppca_model()
    ref = stats.multivariate_normal(model.b.numpy(), model.marginal_cov().numpy()).logpdf(x)
    assert log_px == pytest.approx(ref, abs=1e-6)
    v = ex.ppca_values(shift, ratio)
    q = Normal(torch.tensor(v["m"], dtype=torch.float64), torch.tensor(v["s"], dtype=torch.float64))
    post = Normal(
        torch.tensor(v["m_star"], dtype=torch.float64),
        torch.tensor(v["s_star"], dtype=torch.float64),
    )
    assert kl == pytest.approx(kl_divergence(q, post).item(), abs=1e-6)
    assert gap == pytest.approx(kl, abs=2e-6) and elbo <= log_px + 1e-6
    if shift == 0.0 and ratio == 1.0:
        assert abs(v["elbo"] - v["log_px"]) < 1e-8


def test_ppca_posterior_against_scipy_conditioning():
    # p(z | x) from Bayes' rule on a fine grid with SciPy densities.
    model, x = ex.ppca_model()
    v = ex.ppca_values(0.0, 1.0)
    z = np.linspace(-4, 5, 20001)
    w, b, s = model.W[:, 0].numpy(), model.b.numpy(), model.s
    log_joint = stats.norm.logpdf(z) + stats.norm.logpdf(
        x.numpy()[None, :], b + z[:, None] * w, s
    ).sum(1)
    p = np.exp(log_joint - log_joint.max())
    p /= np.trapezoid(p, z)
    mean = np.trapezoid(z * p, z)
    sd = math.sqrt(np.trapezoid((z - mean) ** 2 * p, z))
    assert mean == pytest.approx(v["m_star"], abs=1e-6)
    assert sd == pytest.approx(v["s_star"], abs=1e-6)


def test_elbo_curve_matches_the_closed_form_class():
    shifts, curve = ex._elbo_curve(0.6)
    for i in (0, 17, 60):
        assert curve[i] == pytest.approx(ex.ppca_values(float(shifts[i]), 0.6)["elbo"], abs=1e-10)


def test_tile_places_images():
    imgs = torch.arange(3 * 4, dtype=torch.float32).reshape(3, 4) / 12
    grid = ex.tile(imgs, cols=2, side=2, gap=1)
    assert grid.shape == (5, 5)
    assert np.allclose(grid[:2, :2], imgs[0].reshape(2, 2).numpy())
    assert np.allclose(grid[3:, :2], imgs[2].reshape(2, 2).numpy())
    assert np.isnan(grid[2]).all() and np.isnan(grid[3:, 3:]).all()
    with pytest.raises(ValueError, match="columns"):
        ex.tile(imgs, cols=2, side=3)


@pytest.fixture(scope="module")
def digits_model():
    return models.load_pretrained("vae_digits", vae.VAE, device="cpu")


def test_traversal_decodes_the_point(digits_model):
    images, labels = vae.binarized_digits()
    view, _ = check_explorer(
        lambda mode: ex.latent_traversal(digits_model, images[:200], labels[:200], mode=mode)
    )
    assert len(view.payload["frames"]) == 13 * 13
    fig = ex.traversal_figure(digits_model, 1.0, -0.5, np.zeros((3, 2)), np.arange(3))
    go.Figure(fig.to_plotly_json())
    with torch.no_grad():
        img = digits_model.decode(torch.tensor([[1.0, -0.5]]))[0].reshape(8, 8).numpy()
    shown = np.array(fig.data[2].z, dtype=float)[::-1]
    assert np.allclose(shown, img, atol=1e-3)


def test_beta_explorer_and_table():
    betas = {
        b: models.load_pretrained(f"vae_beta_{n}", vae.VAE, device="cpu")
        for n, b in vae.BETAS.items()
    }
    images, _ = vae.binarized_digits()
    table = vae.rate_distortion_table(betas, images[:400])
    rates = [table[b]["rate"] for b in sorted(table)]
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    for row in table.values():
        assert row["elbo"] == pytest.approx(-(row["rate"] + row["distortion"]))
    view, _ = check_explorer(lambda mode: ex.beta_explorer(betas, images[:400], mode=mode))
    assert len(view.payload["frames"]) == len(betas)
    fig = ex.beta_figure(1.0, table, {b: np.zeros((8, 8)) for b in table})
    go.Figure(fig.to_plotly_json())
    assert fig.layout.title.text.startswith("β = 1:")
    assert title_numbers(fig)[0] == pytest.approx(table[1.0]["rate"], abs=0.005)
    with pytest.raises(ValueError, match="beta must be"):
        ex.beta_figure(2.0, table, {})


def test_iwae_figure_draws_the_curve():
    curve = {"k": np.array([1, 10]), "mean": np.array([-30.0, -29.0]), "se": np.array([0.1, 0.2])}
    fig = ex.iwae_figure(dict(curve, elbo=-31.0))
    assert list(fig.data[0].y) == [-30.0, -29.0] and list(fig.data[1].y) == [-31.0, -31.0]


def test_bad_input():
    with pytest.raises(ValueError, match="ratio"):
        ex.ppca_values(0.0, 0.0)
    with pytest.raises(TypeError, match="VAE"):
        ex.latent_traversal("model", torch.zeros(2, 64), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="latent_dim=2"):
        ex.latent_traversal(
            vae.VAE(64, latent_dim=3), torch.zeros(2, 64), torch.zeros(2, dtype=torch.int64)
        )
    with pytest.raises(ValueError, match="non-empty"):
        vae.rate_distortion_table({}, torch.zeros(2, 64))


def test_cavi_figure_against_the_exact_posterior_and_slider_extremes():
    cav = ex.cavi_example()
    fig = ex.cavi_figure(float(ex.CAVI_SWEEPS))
    go.Figure(fig.to_plotly_json())
    gap = float(re.findall(r"gap (-?\d+\.\d+)", fig.layout.title.text)[0])
    assert gap == pytest.approx(
        cav["exact"]["log_evidence"] - cav["fits"][-1]["elbo"][-1], abs=1e-4
    )
    assert gap > 0
    # The exact contour is the Normal–Gamma density, by scipy at one grid point.
    post = np.asarray(fig.data[0].z)
    mu, tau = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    e = cav["exact"]
    ref = stats.gamma.pdf(tau[40], e["a"], scale=1 / e["b"]) * stats.norm.pdf(
        mu[30], e["m"], 1 / math.sqrt(e["kappa"] * tau[40])
    )
    assert post[40, 30] == pytest.approx(ref, abs=1e-6)
    with pytest.raises(ValueError, match="sweeps"):
        ex.cavi_figure(0.0)
