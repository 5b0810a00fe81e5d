"""The figures of the inference chapter: their printed numbers against independent
references, both modes, every slider extreme."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from scipy import stats
from torch.distributions import Categorical, MixtureSameFamily, Normal

from companion.explore import inference as ex


def test_bimodal_log_prob_against_torch_distributions():
    mix = MixtureSameFamily(
        Categorical(probs=torch.tensor([0.5, 0.5], dtype=torch.float64)),
        Normal(torch.tensor([-1.5, 1.5], dtype=torch.float64), 0.7),
    )
    z = torch.linspace(-5, 5, 101, dtype=torch.float64)[:, None]
    torch.testing.assert_close(ex.bimodal_log_prob(z), mix.log_prob(z[:, 0]))


@pytest.mark.parametrize("n", [4, 10, 40, 100])
def test_cramer_rao_variances_match_exact_sampling_variance(n):
    # Poisson: Var(mean) = λ/n exactly. Gaussian σ̂ = σ √(χ²_{n−1}/n): scipy's chi law.
    s = ex.cramer_rao_stats("poisson", n)
    assert abs(s["var"] - 3.0 / n) < 4 * s["var_se"]
    assert s["bound"] == pytest.approx(3.0 / n)
    s = ex.cramer_rao_stats("gaussian_sigma", n)
    exact = stats.chi(n - 1).var() / n
    assert abs(s["var"] - exact) < 4 * s["var_se"]
    assert s["bound"] == pytest.approx(1 / (2 * n))
    title = ex.cramer_rao_figure("gaussian_sigma", n).layout.title.text
    assert f"{s['var']:.4f}" in title and f"{s['bound']:.4f}" in title


def test_em_runs_bad_start_ends_lower():
    good, bad = ex.em_run("good"), ex.em_run("bad")
    for fit in (good, bad):
        assert (fit.log_likelihood.diff() >= -1e-12).all()
    assert bad.log_likelihood[-1] < good.log_likelihood[-1] - 0.2
    assert f"{good.log_likelihood[7].item():.4f}" in ex.em_figure(7, "good").layout.title.text


def test_markov_figure_numbers():
    dists, pi, tv, gap = ex._markov("blocks")
    p = ex.CHAINS["blocks"][1].numpy()
    ev = np.sort(np.abs(np.linalg.eigvals(p)))[::-1]
    assert gap == pytest.approx(1 - ev[1], abs=1e-12)
    np.testing.assert_allclose(dists[10], np.linalg.matrix_power(p, 10)[0], atol=1e-14)
    # Two blocks linked with probability ε = 0.02: the vector (1, 1, 1, −1, −1, −1) is an
    # eigenvector with eigenvalue 1 − 2ε, the others are 0 or ±ε, so the gap is 2ε.
    assert gap == pytest.approx(0.04, abs=1e-12)
    assert tv[40] > 0.5 * tv[0] * (1 - gap) ** 40
    assert ex._markov("mixing")[3] > 5 * gap


def test_mh_sweet_spot_beats_both_extremes():
    ess = {s: ex.mh_run(s)["ess"] for s in (-1.5, 0.5, 1.5)}
    acc = {s: ex.mh_run(s)["acceptance"] for s in (-1.5, 0.5, 1.5)}
    assert ess[0.5] > 5 * ess[-1.5] and ess[0.5] > 2 * ess[1.5]
    assert acc[-1.5] > 0.9 and acc[1.5] < 0.15


@pytest.mark.parametrize("rho", [0.0, 0.45, 0.9])
def test_gibbs_autocorrelation_matches_rho_squared(rho):
    r = ex.gibbs_run(rho)
    n_eff = r["ess"] * 8
    assert abs(r["acf"][1] - rho**2) < 4 / math.sqrt(n_eff)
    exact = r["sweeps"] * (1 - rho**2) / (1 + rho**2)
    assert abs(r["ess"] - exact) < 0.25 * exact


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (ex.cramer_rao_figure, ("poisson", 20)),
        (ex.em_figure, (3, "bad")),
        (ex.markov_figure, (5, "mixing")),
        (ex.mh_figure, (0.0,)),
        (ex.gibbs_figure, (0.5,)),
    ],
)
def test_unvalidated_figures_are_valid_plotly(fn, args):
    go.Figure(fn(*args).to_plotly_json())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ex.cramer_rao_figure("cauchy", 10), "family"),
        (lambda: ex.em_figure(41, "good"), "t must"),
        (lambda: ex.em_figure(1, "awful"), "start"),
        (lambda: ex.markov_figure(1, "nope"), "chain"),
        (lambda: ex.gibbs_run(1.0), "rho"),
        (lambda: ex.mh_figure(float("nan")), "finite"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
