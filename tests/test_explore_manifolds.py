"""Figures of the manifolds chapter: printed numbers against independent references."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import stats

from companion.explore import manifolds as ex


@pytest.mark.parametrize("log2_d", [0.0, 3.0, 9.0])
def test_norm_figure_title_against_scipy(log2_d):
    d = int(round(2**log2_d))
    fig = ex.norm_figure(log2_d)
    go.Figure(fig.to_plotly_json())  # built without validation; must validate
    mean, root = map(float, re.findall(r"= (\d+\.\d+)", fig.layout.title.text)[:2])
    assert mean == pytest.approx(stats.chi(d).mean(), abs=1e-3)
    assert root == pytest.approx(math.sqrt(d), abs=1e-3)
    # The plotted density integrates to one over [0, 2] (up to the tail beyond 2√d).
    r, dens = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    mass = np.trapezoid(dens, r)
    assert mass == pytest.approx(stats.chi(d).cdf(2 * math.sqrt(d)), abs=2e-3)


def test_embedding_figure_scores_and_validity():
    fig = ex.embedding_figure(8)
    go.Figure(fig.to_plotly_json())
    heads = [a.text for a in fig.layout.annotations]
    scores = {h.split("</b>")[0][3:]: float(h.rsplit("= ", 1)[1]) for h in heads}
    assert scores["Isomap"] > 0.9 and scores["PCA"] < 0.5


def test_spectrum_figure_and_bad_input():
    import torch

    fig = ex.spectrum_figure({"a": torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)})
    assert list(fig.data[0].y) == pytest.approx([0.5, 0.8, 1.0])
    with pytest.raises(ValueError, match="non-empty"):
        ex.spectrum_figure({})
    with pytest.raises(ValueError, match="log2_d"):
        ex.norm_figure(13.0)


def test_magnification_figure_draws_log_volume_and_refuses_mismatched_grids():
    axis = np.linspace(-1, 1, 3)
    vol = np.array([[1.0, 10.0, 100.0]] * 3)
    codes, labels = np.zeros((4, 2)), np.arange(4)
    fig = ex.magnification_figure(axis, vol, codes, labels, paths={"p": np.zeros((2, 2))})
    go.Figure(fig.to_plotly_json())
    assert np.allclose(np.asarray(fig.data[0].z)[0], [0.0, 1.0, 2.0])
    assert [t.name for t in fig.data[1:]] == ["encoded digits", "p"]
    with pytest.raises(ValueError, match="shape"):
        ex.magnification_figure(axis, vol[:2], codes, labels)
