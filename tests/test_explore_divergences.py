"""Figures of the divergences chapter: their printed numbers against independent references."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch.distributions import Normal, kl_divergence

from companion.explore import divergences as ex


def t64(x):
    return torch.tensor(x, dtype=torch.float64)


def table_from_annotation(fig) -> dict[str, float]:
    text = fig.layout.annotations[0].text
    out = {}
    for line in text.split("<br>"):
        m = re.match(r"(.+?)\s+(-?\d+\.\d+)\s+<i>", line)
        out[m.group(1).strip()] = float(m.group(2))
    return out


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (-3.0, 0.25), (3.0, 3.0), (1.0, 0.5)])
def test_explorer_gaussian_values(mu, sigma):
    shown = table_from_annotation(ex.explorer_figure("gauss", mu, sigma))
    p, q = Normal(t64(0.0), t64(1.0)), Normal(t64(mu), t64(sigma))
    assert shown["KL(p‖q)"] == pytest.approx(kl_divergence(p, q).item(), abs=1e-4)
    assert shown["KL(q‖p)"] == pytest.approx(kl_divergence(q, p).item(), abs=1e-4)
    assert shown["W₂"] == pytest.approx(math.hypot(mu, sigma - 1), abs=1e-4)
    # W1 between Gaussians by quadrature of |F - G| with scipy.
    w1 = integrate.quad(
        lambda x: abs(stats.norm.cdf(x) - stats.norm.cdf(x, mu, sigma)), -40, 40, limit=200
    )[0]
    assert shown["W₁"] == pytest.approx(w1, abs=1e-4)

    # MMD² with h = 1 between N(0,1) and N(mu, sigma²) in closed form (1-D).
    def ek(s1, s2, dm):
        v = 1 + s1**2 + s2**2
        return math.exp(-(dm**2) / (2 * v)) / math.sqrt(v)

    mmd = ek(1, 1, 0) + ek(sigma, sigma, 0) - 2 * ek(1, sigma, mu)
    assert shown["MMD² (h=1)"] == pytest.approx(mmd, abs=1e-4)


def test_explorer_mixture_kl_by_scipy_quadrature():
    p = ex.FAMILIES["mix"][1]
    table = ex.divergence_table(p, ex.Mixture([(1.0, 0.5, 1.5)]))

    def fp(x):
        return 0.5 * stats.norm.pdf(x, -2, 0.5) + 0.5 * stats.norm.pdf(x, 2, 0.5)

    def fq(x):
        return stats.norm.pdf(x, 0.5, 1.5)

    kl = integrate.quad(
        lambda x: fp(x) * math.log(fp(x) / fq(x)), -12, 12, points=[-2, 2], limit=200
    )[0]
    assert table["KL(p‖q)"] == (pytest.approx(kl, abs=1e-7), "quadrature")


def test_mixture_moments_and_validation():
    m = ex.FAMILIES["mix"][1]
    assert m.mean() == 0.0 and m.variance() == pytest.approx(4.25)
    assert not m.is_gaussian and ex.FAMILIES["gauss"][1].is_gaussian
    with pytest.raises(ValueError, match="sum to 1"):
        ex.Mixture([(0.5, 0.0, 1.0)])
    with pytest.raises(ValueError, match="std > 0"):
        ex.Mixture([(1.0, 0.0, 0.0)])
    with pytest.raises(ValueError, match="non-empty"):
        ex.Mixture([])
    with pytest.raises(ValueError, match="family"):
        ex.explorer_figure("cauchy", 0.0, 1.0)
    with pytest.raises(TypeError, match="Mixture"):
        ex.divergence_table("p", "q")


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0, 2.5, 3.0])
def test_disjoint_values_closed_form(theta):
    v = ex.disjoint_values(theta)
    assert v["W1"] == pytest.approx(theta, abs=1e-12)
    assert v["JS"] == pytest.approx(min(theta, 1.0) * math.log(2), abs=1e-12)
    assert v["KL"] == (math.inf if theta > 0 else 0.0)
    title = ex.disjoint_figure(theta).layout.title.text
    assert ("KL(p‖q) = ∞" in title) == (theta > 0)


def test_disjoint_bad_input():
    with pytest.raises(ValueError, match="theta"):
        ex.disjoint_values(-0.1)


def test_sinkhorn_figure_reports_cost_above_exact():
    from scipy.optimize import linear_sum_assignment

    x, y = ex.sinkhorn_clouds()
    c = (torch.cdist(x, y) ** 2).numpy()
    r, cols = linear_sum_assignment(c)
    exact = c[r, cols].mean()
    for log_eps in (-2.0, -0.5, 0.5):
        title = ex.sinkhorn_figure(log_eps).layout.title.text
        cost, shown_exact = map(float, re.findall(r"= (-?\d+\.\d+)", title)[1:3])
        assert shown_exact == pytest.approx(exact, abs=1e-4)
        assert exact - 1e-4 <= cost <= exact + 10**log_eps * math.log(len(x)) + 1e-4


def test_mmd_population_formula_against_monte_carlo():
    rng = np.random.default_rng(1)
    n = 200_000
    a, a2 = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    b, b2 = rng.normal(size=(n, 2)) + [0.6, 0], rng.normal(size=(n, 2)) + [0.6, 0]
    for h in (0.3, 1.0, 3.0):

        def k(u, v, h=h):
            return np.exp(-np.sum((u - v) ** 2, axis=1) / (2 * h**2))

        terms = k(a, a2) + k(b, b2) - k(a, b2) - k(a2, b)
        se = terms.std() / math.sqrt(n)
        assert abs(ex._mmd_population(0.6, h) - terms.mean()) < 4 * se


@pytest.mark.parametrize("unbiased", [True, False])
def test_mmd_batch_equals_companion_mmd2(unbiased):
    from companion.divergences import mmd2

    x, _, y = ex.mmd_draws()
    batched = ex.mmd_batch(x[:10], y[:10], 0.4, unbiased=unbiased)
    looped = torch.stack(
        [mmd2(a, b, bandwidth=0.4, unbiased=unbiased) for a, b in zip(x[:10], y[:10], strict=True)]
    )
    torch.testing.assert_close(batched, looped, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        ex.mmd_batch(x[:2], y[:2], 0.0)
    with pytest.raises(ValueError, match="need x"):
        ex.mmd_batch(x[0], y[0], 1.0)


def test_mahalanobis_title_against_scipy():
    from scipy.spatial import distance

    title = ex.mahalanobis_figure(1.5, 0.5, -0.45).layout.title.text
    d_m = float(re.search(r"D_M\(x, 0\) = (\d+\.\d+)", title).group(1))
    cov = np.array([[2.25, -0.45 * 0.75], [-0.45 * 0.75, 0.25]])
    ref = distance.mahalanobis([1.5, 1.0], [0, 0], np.linalg.inv(cov))
    assert d_m == pytest.approx(ref, abs=1e-3)
    with pytest.raises(ValueError, match="rho"):
        ex.mahalanobis_figure(1.0, 1.0, 1.0)


def test_mmd_figure_is_valid_plotly():
    """mmd_figure skips plotly's validation for speed; rebuilding it with validation must pass."""
    import plotly.graph_objects as go

    fig = ex.mmd_figure(0.3)
    go.Figure(fig.to_plotly_json())  # raises ValueError on any invalid property
    assert [t.type for t in fig.data] == ["histogram"] * 4
