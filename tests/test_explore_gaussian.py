"""The introduction's Gaussian explorer: the numbers it prints equal torch.distributions'."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from companion.explore import gaussian
from companion.figures import LiveFigure

STD = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))


def printed(title: str) -> tuple[float, float]:
    h, kl = re.findall(r"= (-?\d+\.\d+) nats", title)
    return float(h), float(kl)


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (-3.0, 0.25), (3.0, 3.0), (1.3, 0.7)])
def test_title_values_match_torch_distributions(mu, sigma):
    fig = gaussian.gaussian_figure(mu, sigma)
    h, kl = printed(fig.layout.title.text)
    p = Normal(torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64))
    assert h == pytest.approx(p.entropy().item(), abs=1e-6)
    assert kl == pytest.approx(kl_divergence(p, STD).item(), abs=1e-6)
    # The drawn curve is the N(mu, sigma^2) density.
    x = np.asarray(fig.data[0].x)
    np.testing.assert_allclose(
        np.asarray(fig.data[0].y, dtype=float),
        p.log_prob(torch.as_tensor(x)).exp().numpy(),
        rtol=1e-6,
        atol=1e-7,
    )


def test_live_explorer_between_grid_points():
    fig = gaussian.gaussian_explorer(mode="live")
    assert isinstance(fig, LiveFigure)
    fig.update(mu=0.123, sigma=0.321)  # not on the website's grid
    h, kl = printed(fig.figure.layout.title.text)
    p = Normal(torch.tensor(0.123, dtype=torch.float64), torch.tensor(0.321, dtype=torch.float64))
    assert h == pytest.approx(p.entropy().item(), abs=1e-6)
    assert kl == pytest.approx(kl_divergence(p, STD).item(), abs=1e-6)


def test_bad_sigma_is_a_clear_error():
    with pytest.raises(ValueError, match="sigma"):
        gaussian.gaussian_figure(0.0, 0.0)
