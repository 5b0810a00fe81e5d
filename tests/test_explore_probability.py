"""Figures of the probability chapter: printed numbers against SciPy, every slider extreme."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import integrate, stats

from companion.explore import probability as ex


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text)]


@pytest.mark.parametrize("family", sorted(ex.GALLERY))
@pytest.mark.parametrize(("s1", "s2"), [(0.0, 0.0), (1.0, 1.0), (0.4, 0.8)])
def test_gallery_mean_variance_and_mgf_moments(family, s1, s2):
    params = ex.gallery_params(family, s1, s2)
    ref = ex._scipy(family, params)
    title = ex.gallery_figure(family, s1, s2).layout.title.text
    head, tail = title.split("<br>")
    mean, var = numbers(head.split(":")[-1])[:2]
    m1, v1 = numbers(tail)[:2]
    assert mean == pytest.approx(ref.mean(), abs=1e-3)
    assert var == pytest.approx(ref.var(), abs=1e-3)
    assert m1 == pytest.approx(ref.mean(), abs=1e-3)
    assert v1 == pytest.approx(ref.var(), abs=1e-3)


def test_gallery_params_bad_input():
    with pytest.raises(ValueError, match="family"):
        ex.gallery_params("cauchy", 0.5, 0.5)
    with pytest.raises(ValueError, match="s1"):
        ex.gallery_params("normal", 1.5, 0.5)


@pytest.mark.parametrize(
    ("a", "b", "h", "t"), [(1.0, 1.0, 0, 0), (3.0, 5.0, 20, 0), (0.5, 2.0, 4, 9)]
)
def test_grid_posterior_is_the_conjugate_beta(a, b, h, t):
    theta, post = ex.grid_posterior(a, b, h, t)
    ref = stats.beta.pdf(theta, a + h, b + t)
    inner = (theta > 0.01) & (theta < 0.99)
    np.testing.assert_allclose(post[inner], ref[inner], rtol=2e-3, atol=1e-6)
    title = ex.bayes_figure(a, b, h, t).layout.title.text
    mean, grid_mean = numbers(title.split("<br>")[1])[:2]
    assert mean == pytest.approx((a + h) / (a + b + h + t), abs=1e-4)
    assert grid_mean == pytest.approx(mean, abs=2e-4)
    with pytest.raises(ValueError):
        ex.grid_posterior(0.0, 1.0, 1, 1)


@pytest.mark.parametrize(("mu", "sigma"), [(4.5, 1.0), (3.0, 2.0), (0.0, 1.0), (6.0, 0.8)])
def test_is_second_moment_against_quadrature(mu, sigma):
    m2 = integrate.quad(
        lambda x: stats.norm.pdf(x) ** 2 / stats.norm.pdf(x, mu, sigma),
        4,
        30,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    assert ex.is_second_moment(mu, sigma) == pytest.approx(m2, rel=1e-8)


def test_is_second_moment_infinite_for_light_tailed_proposals():
    assert math.isinf(ex.is_second_moment(4.0, 0.7))
    assert math.isfinite(ex.is_second_moment(4.0, 0.71))
    # Just below sigma^2 = 1/2 the integrand grows like exp(+eps x^2): infinite.
    assert math.isinf(ex.is_second_moment(4.0, math.sqrt(0.5 * (1 - 1e-9))))


@pytest.mark.parametrize("mu", [4.0, 1.0, 0.3])
@pytest.mark.parametrize("rel_gap", [0.0, 1e-9, 1e-6])
def test_is_second_moment_at_the_boundary_sigma2_half(mu, rel_gap):
    """At sigma^2 = 1/2 the moment is finite when mu > 0 (integrand exp(mu^2 - 2 mu x))."""
    sigma = math.sqrt(0.5 * (1 + rel_gap))
    m2 = integrate.quad(
        lambda x: math.exp(2 * stats.norm.logpdf(x) - stats.norm.logpdf(x, mu, sigma)),
        4,
        math.inf,
        epsabs=0,
        epsrel=1e-10,
        limit=200,
    )[0]
    assert ex.is_second_moment(mu, sigma) == pytest.approx(m2, rel=1e-5)


@pytest.mark.parametrize("mu", [0.0, -2.0])
def test_is_second_moment_at_the_boundary_infinite_for_nonpositive_mu(mu):
    assert math.isinf(ex.is_second_moment(mu, math.sqrt(0.5)))
    assert "true relative standard error ∞" in ex.is_figure(4.0, 0.4).layout.title.text
    with pytest.raises(ValueError, match="sigma"):
        ex.is_second_moment(1.0, 0.0)


@pytest.mark.parametrize(("log2n", "k"), [(0, 1.25), (3, 2.0), (6, 4.0)])
def test_clt_title_exact_tail_and_chebyshev(log2n, k):
    n = 2**log2n
    title = ex.clt_figure(log2n, k).layout.title.text
    exact, sim, normal, cheb = numbers(title.split(":", 1)[1])[1:5]
    g = stats.gamma(n, scale=1 / n)
    ref = g.cdf(1 - k / math.sqrt(n)) + g.sf(1 + k / math.sqrt(n))
    assert exact == pytest.approx(ref, abs=1e-4)
    assert normal == pytest.approx(2 * stats.norm.sf(k), abs=1e-4)
    assert cheb == pytest.approx(1 / k**2, abs=1e-4) and exact <= cheb
    assert abs(sim - ref) < 4 * math.sqrt(ref * (1 - ref) / 20_000) + 1e-4


def test_mvn_title_formula_and_slab():
    title = ex.mvn_figure(-0.6, 1.5, -1.0).layout.title.text
    m = re.search(
        r"E = (-?\d+\.\d+), sd = (\d+\.\d+);(?:\s|<br>)+(\d+) slab samples: mean (-?\d+\.\d+)",
        title,
    )
    cm, csd, cnt, smean = (float(v) for v in m.groups())
    # mu_2 + rho sigma2 (a - mu_1) and sigma2 sqrt(1 - rho^2), by hand.
    assert cm == pytest.approx(1.0 + (-0.6) * 1.5 * (-1.0), abs=1e-3)
    assert csd == pytest.approx(1.5 * math.sqrt(1 - 0.36), abs=1e-3)
    assert abs(smean - cm) < 4 * csd / math.sqrt(cnt) + 0.01
    with pytest.raises(ValueError, match="rho"):
        ex.mvn_figure(1.0, 1.0, 0.0)


def test_gradient_variance_table_unbiased():
    tab = ex.gradient_variance_table(mu=0.5, sigma=1.0, ns=(20, 200), repeats=200)
    for k, n in enumerate(tab["n"]):
        # Exact per-sample variances at mu = 0.5, sigma = 1 (see the chapter).
        v_score = (0.5**4 + 18 * 0.25 + 15) - 4 * 0.25
        for key, v in (("score", v_score), ("reparam", 4.0)):
            assert abs(tab[key + "_mean"][k] - 1.0) < 4 * math.sqrt(v / n / 200)
            assert abs(tab[key][k] - v / n) < 4 * tab[key + "_var_se"][k]


def test_mc_error_slope():
    fig = ex.mc_error_figure(repeats=100)
    ns, rmse = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    assert abs(np.polyfit(np.log(ns), np.log(rmse), 1)[0] + 0.5) < 0.1


FACTORIES = [
    ex.distribution_gallery,
    ex.bayes_explorer,
    ex.importance_explorer,
    ex.clt_explorer,
    ex.mvn_explorer,
]


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (ex.gallery_figure, ("binomial", 0.2, 0.9)),
        (ex.gallery_figure, ("beta", 0.0, 1.0)),
        (ex.bayes_figure, (2.0, 3.0, 4, 8)),
        (ex.is_figure, (4.5, 1.0)),
        (ex.clt_figure, (3, 2.0)),
        (ex.mvn_figure, (0.3, 1.5, 1.0)),
    ],
)
def test_unvalidated_figures_are_valid_plotly(fn, args):
    go.Figure(fn(*args).to_plotly_json())  # raises ValueError on any invalid property
