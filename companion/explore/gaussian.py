"""The introduction's Gaussian explorer.

``gaussian_explorer`` draws N(μ, σ²) (σ is the standard deviation) against the standard normal and
prints, in the figure's title, its differential entropy (eq-gauss-entropy in the introduction) and
its KL divergence to N(0, 1) (eq-gauss-kl), both in nats.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from torch.distributions import Normal

from ..divergences import kl_gaussian
from ..figures import Slider, interactive
from ..information import gaussian_entropy
from ..theme import OKABE_ITO

__all__ = ["gaussian_values", "gaussian_figure", "gaussian_explorer"]

_X = torch.linspace(-8.0, 8.0, 321, dtype=torch.float64)
_F64 = torch.float64
_STD_PDF = Normal(torch.tensor(0.0, dtype=_F64), torch.tensor(1.0, dtype=_F64)).log_prob(_X).exp()


def gaussian_values(mu: float, sigma: float) -> dict[str, float]:
    """Entropy of N(μ, σ²) and KL(N(μ, σ²) ‖ N(0, 1)), in nats, as Python floats."""
    mu_t = torch.as_tensor(mu, dtype=torch.float64)
    sigma_t = torch.as_tensor(sigma, dtype=torch.float64)
    one = torch.ones((), dtype=torch.float64)
    return {
        "entropy": float(gaussian_entropy(sigma_t)),
        "kl": float(kl_gaussian(mu_t, sigma_t, 0 * one, one)),
    }


def gaussian_figure(mu: float, sigma: float) -> go.Figure:
    """The density of N(μ, σ²) beside N(0, 1), with entropy and KL in the title."""
    vals = gaussian_values(mu, sigma)  # validates sigma > 0 and finiteness
    pdf = Normal(torch.tensor(mu, dtype=_F64), torch.tensor(sigma, dtype=_F64)).log_prob(_X).exp()
    fig = go.Figure(
        [
            go.Scatter(
                x=_X.numpy(), y=pdf.numpy().astype("float32"), name="N(μ, σ²)", fill="tozeroy"
            ),
            go.Scatter(
                x=_X.numpy(),
                y=_STD_PDF.numpy(),
                name="N(0, 1)",
                line=dict(dash="dash", color=OKABE_ITO[7]),
            ),
        ]
    )
    fig.update_layout(
        title=dict(
            text=(
                f"H[N(μ, σ²)] = {vals['entropy']:.6f} nats   ·   "
                f"KL(N(μ, σ²) ‖ N(0, 1)) = {vals['kl']:.6f} nats"
            ),
            font=dict(size=14),
        ),
        xaxis=dict(title="x", range=[-8, 8]),
        yaxis=dict(title="density", range=[0, 1.65]),
        legend=dict(x=0.01, y=0.98),
        hovermode=False,
    )
    return fig


def gaussian_explorer(mode: str | None = None, *, mu_steps: int = 13, sigma_steps: int = 12):
    """The introduction's interactive figure: μ on [-3, 3], σ on [0.25, 3]."""
    return interactive(
        gaussian_figure,
        Slider("mu", -3.0, 3.0, value=0.0, steps=mu_steps, label="μ"),
        Slider("sigma", 0.25, 3.0, value=1.0, steps=sigma_steps, label="σ"),
        mode=mode,
    )
