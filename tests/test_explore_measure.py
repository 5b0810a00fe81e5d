"""σ-algebra helpers and the figures of the measure-theory chapter."""

from __future__ import annotations

import itertools
import math

import numpy as np
import plotly.graph_objects as go
import pytest
from helpers import FAST
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from companion.explore import measure as ex


def brute_force_sigma_algebra(omega, sets):
    """Smallest family containing `sets`, closed under complement and union, by iteration."""
    omega = frozenset(omega)
    fam = {frozenset(), omega} | {frozenset(s) for s in sets}
    while True:
        new = fam | {omega - a for a in fam} | {a | b for a in fam for b in fam}
        if new == fam:
            return fam
        fam = new


@FAST
@given(st.lists(st.sets(st.integers(0, 5)), max_size=3))
def test_generated_sigma_algebra_matches_brute_force(sets):
    omega = set(range(6))
    got = ex.generated_sigma_algebra(omega, sets)
    assert got == brute_force_sigma_algebra(omega, sets)
    assert ex.is_sigma_algebra(omega, got)
    # Its size is a power of two (2^atoms).
    assert len(got) & (len(got) - 1) == 0


def test_partition_generates_unions_of_blocks():
    blocks = [{1, 2}, {3}, {4, 5, 6}]
    got = ex.generated_sigma_algebra(range(1, 7), blocks)
    expected = {
        frozenset().union(*c)
        for r in range(4)
        for c in itertools.combinations(map(frozenset, blocks), r)
    }
    assert got == expected and len(got) == 8


def test_is_sigma_algebra_rejects():
    omega = {1, 2, 3}
    assert not ex.is_sigma_algebra(omega, [set(), {1}, {1, 2, 3}])  # no complement {2, 3}
    assert not ex.is_sigma_algebra(omega, [set(), {1}, {2}, {2, 3}, {1, 3}, {1, 2, 3}])  # no {1,2}
    assert not ex.is_sigma_algebra(omega, [set(), {1}])  # omega missing
    assert ex.is_sigma_algebra(omega, [set(), omega])


def test_is_measurable_coin_and_bad_input():
    x = {"H": 1.0, "T": 0.0}
    assert ex.is_measurable(x, {"H", "T"}, [set(), {"H"}, {"T"}, {"H", "T"}])
    assert not ex.is_measurable(x, {"H", "T"}, [set(), {"H", "T"}])
    with pytest.raises(ValueError, match="σ-algebra"):
        ex.is_measurable(x, {"H", "T"}, [set(), {"H"}])
    with pytest.raises(TypeError):
        ex.generated_sigma_algebra({1, 2}, "ab")
    with pytest.raises(ValueError, match="subset"):
        ex.generated_sigma_algebra({1, 2}, [{3}])
    with pytest.raises(ValueError, match="non-empty"):
        ex.generated_sigma_algebra(set(), [])


@pytest.mark.parametrize("n", [0, 1, 2, 4, 6])
def test_simple_function_integral_against_quadrature(n):
    def step(x):
        return math.floor(2**n * 4 * x * (1 - x)) / 2**n

    breaks = [
        v
        for k in range(1, 2**n)
        for v in ((1 - math.sqrt(1 - k / 2**n)) / 2, (1 + math.sqrt(1 - k / 2**n)) / 2)
    ]
    quad = integrate.quad(step, 0, 1, points=breaks or None, limit=500)[0]
    assert ex.simple_function_integral(n) == pytest.approx(quad, abs=1e-9)
    assert ex.simple_function_integral(n) <= 2 / 3


def test_lebesgue_title_and_bad_input():
    title = ex.lebesgue_figure(5).layout.title.text
    assert f"{ex.simple_function_integral(5):.5f}" in title
    with pytest.raises(ValueError):
        ex.lebesgue_figure(11)


def test_relu_cdf_against_samples():
    rng = np.random.default_rng(3)
    y = np.maximum(0, rng.normal(0.3, 1.0, 100_000))
    assert (
        stats.kstest(
            y[y > 0], lambda v: (ex.relu_cdf(v, 0.3) - stats.norm.cdf(-0.3)) / stats.norm.sf(-0.3)
        ).pvalue
        > 1e-3
    )
    p0 = stats.norm.cdf(-0.3)
    assert abs(np.mean(y == 0) - p0) < 4 * math.sqrt(p0 * (1 - p0) / len(y))
    assert ex.relu_cdf(np.array([-1e-12]), 0.3)[0] == 0.0
    assert ex.relu_cdf(np.array([0.0]), 0.3)[0] == pytest.approx(p0)


def test_circle_kl_grows_like_log_one_over_h():
    kls = [ex.circle_kl(h) for h in (0.25, 0.125, 0.0625)]
    assert kls[0] < kls[1] < kls[2]
    assert abs((kls[2] - kls[1]) - math.log(2)) < 0.15
    with pytest.raises(ValueError):
        ex.circle_kl(0.0)


def test_transform_bad_input():
    with pytest.raises(ValueError, match="transform"):
        ex.transform("log", 0.5)
    with pytest.raises(ValueError, match="t must"):
        ex.transform("exp", 1.5)


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (ex.lebesgue_figure, (3,)),
        (ex.pushforward_figure, ("square", 0.5)),
        (ex.mixed_cdf_figure, (0.5,)),
    ],
)
def test_unvalidated_figures_are_valid_plotly(fn, args):
    go.Figure(fn(*args).to_plotly_json())
