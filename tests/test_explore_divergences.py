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


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0, 3.0])
def test_disjoint_title_closed_form(theta):
    """The title prints KL, JS and W₁ of two unit uniforms θ apart (∞, min(θ, 1) log 2, θ)."""
    title = ex.disjoint_figure(theta).layout.title.text
    assert ("KL(p‖q) = ∞" in title) == (theta > 0)
    js, w1 = map(float, re.findall(r"= (\d+\.\d+)", title)[-2:])
    assert js == pytest.approx(min(theta, 1.0) * math.log(2), abs=1e-4)
    assert w1 == pytest.approx(theta, abs=1e-4)


def test_explorer_family_validation():
    with pytest.raises(ValueError, match="family"):
        ex.explorer_figure("cauchy", 0.0, 1.0)


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


def test_mahalanobis_title_against_scipy():
    from scipy.spatial import distance

    title = ex.mahalanobis_figure(1.5, 0.5, -0.45).layout.title.text
    d_m = float(re.search(r"D_M\(x, 0\) = (\d+\.\d+)", title).group(1))
    cov = np.array([[2.25, -0.45 * 0.75], [-0.45 * 0.75, 0.25]])
    ref = distance.mahalanobis([1.5, 1.0], [0, 0], np.linalg.inv(cov))
    assert d_m == pytest.approx(ref, abs=1e-3)
    with pytest.raises(ValueError, match="rho"):
        ex.mahalanobis_figure(1.0, 1.0, 1.0)


def test_mmd_figure_means_against_direct_estimates():
    """The title's mean unbiased/biased MMD² when p = q, against mmd2 on each repetition."""
    from companion.divergences import mmd2

    x, y, _ = ex.mmd_draws()
    title = ex.mmd_figure(0.0).layout.title.text
    unb, bia = map(float, re.findall(r"(?:unbiased|biased) ([+-]?\d+\.\d+)", title))
    for shown, flag in ((unb, True), (bia, False)):
        ref = torch.stack([mmd2(a, b, 1.0, unbiased=flag) for a, b in zip(x, y, strict=True)])
        assert shown == pytest.approx(ref.mean().item(), abs=1e-4)


def test_mmd_figure_is_valid_plotly():
    """mmd_figure skips plotly's validation for speed; rebuilding it with validation must pass."""
    import plotly.graph_objects as go

    fig = ex.mmd_figure(0.3)
    go.Figure(fig.to_plotly_json())  # raises ValueError on any invalid property
    assert [t.type for t in fig.data] == ["histogram"] * 4
