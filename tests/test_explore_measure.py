"""σ-algebra helpers and the figures of the measure-theory chapter."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from companion import sampling as smp
from companion.explore import measure as ex


def test_lebesgue_title_and_bad_input():
    title = ex.lebesgue_figure(5).layout.title.text
    assert f"{smp.simple_function_integral(5):.5f}" in title
    # The Riemann lower sum in the title against a direct numpy minimum over fine cells.
    cells = np.linspace(0, 1, 33)
    lows = [
        min(4 * x * (1 - x) for x in np.linspace(a, b, 201))
        for a, b in zip(cells[:-1], cells[1:], strict=True)
    ]
    assert f"lower sum {np.mean(lows):.5f}" in title
    with pytest.raises(ValueError):
        ex.lebesgue_figure(11)


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
