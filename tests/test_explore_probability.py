"""Figures of the probability chapter: printed numbers against SciPy, every slider extreme."""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go
import pytest
from scipy import stats

from companion import sampling as smp
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
def test_bayes_title_shows_the_conjugate_mean(a, b, h, t):
    # The grid posterior itself is checked against SciPy's Beta in test_sampling.
    title = ex.bayes_figure(a, b, h, t).layout.title.text
    mean, grid_mean = numbers(title.split("<br>")[1])[:2]
    assert mean == pytest.approx((a + h) / (a + b + h + t), abs=1e-4)
    assert grid_mean == pytest.approx(mean, abs=2e-4)


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


def test_is_title_shows_the_infinite_variance():
    assert "true relative standard error ∞" in ex.is_figure(4.0, 0.4).layout.title.text
    title = ex.is_figure(4.5, 1.0).layout.title.text
    assert f"exact {stats.norm.sf(4.0):.3e}" in title


def test_is_title_ess_of_the_terms():

    terms = smp.rare_event_importance_run(4.5, 1.0, n=ex.IS_SAMPLES)[2].numpy()
    hits = terms[terms > 0]
    ref = hits.sum() ** 2 / (hits**2).sum()
    title = ex.is_figure(4.5, 1.0).layout.title.text
    assert f"of the terms w·f {ref:.1f}" in title
