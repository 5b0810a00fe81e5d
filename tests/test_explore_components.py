"""Figures of the components appendix: the numbers they print against independent formulas."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from companion.explore import components as ex

pytestmark = pytest.mark.usefixtures("one_torch_thread")


FIGURES = [
    (ex.activation_figure, ("gelu",)),
    (ex.softmax_figure, (0.5,)),
    (ex.focal_figure, (2.0,)),
    (ex.recurrent_figure, (1.2,)),
]


@pytest.mark.parametrize(("make", "args"), FIGURES)
def test_figures_are_valid_plotly(make, args):
    fig = make(*args)
    go.Figure(fig.to_plotly_json())  # raises on any invalid property


def test_focal_title_against_direct_formula():
    for gamma in (0.0, 1.0, 2.0, 4.5):
        title = ex.focal_figure(gamma).layout.title.text
        share, share_ce = map(float, re.findall(r"(\d+\.\d)%", title))
        # 990 easy negatives at p_t = 0.95, 10 hard positives at p_t = 0.3.
        easy = -((0.05) ** gamma) * math.log(0.95)
        hard = -((0.7) ** gamma) * math.log(0.3)
        assert share == pytest.approx(100 * 10 * hard / (10 * hard + 990 * easy), abs=0.06)
        assert share_ce == pytest.approx(
            100 * 10 * math.log(0.3) / (10 * math.log(0.3) + 990 * math.log(0.95)), abs=0.06
        )
        ratio = float(re.search(r"focal/CE = ([\d.e+-]+)", title).group(1))
        assert ratio == pytest.approx(0.1**gamma, rel=1e-2)


def test_recurrent_title_linear_norm_is_power():
    for s in (0.5, 1.0, 1.6):
        title = ex.recurrent_figure(s).layout.title.text
        lin = float(re.search(r"= ([\d.e+-]+) \(linear\)", title).group(1))
        assert lin == pytest.approx(s**60, rel=1e-2)


def test_softmax_title_entropy():
    title = ex.softmax_figure(0.0).layout.title.text
    z = np.array([2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0])
    p = np.exp(z) / np.exp(z).sum()
    h = float(re.search(r"entropy (\d+\.\d+)", title).group(1))
    assert h == pytest.approx(-(p * np.log(p)).sum(), abs=1e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown activation"):
        ex.activation_figure("nope")
    with pytest.raises(TypeError, match="gamma"):
        ex.focal_figure("2")
