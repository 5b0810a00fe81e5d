"""Figures of the appendix "Network components and losses".

The mathematics is in :mod:`companion.components`; these functions only draw it. Figures that
are redrawn on every slider move are built with ``go.Figure(dict, _validate=False)`` (plotly's
validation costs more than the computation); the tests rebuild them with validation.
"""

from __future__ import annotations

import functools
import math

import plotly.graph_objects as go
import torch

from .. import components as cp
from .._validate import check_real
from ..components import focal_batch
from ..figures import Choice, Slider, interactive
from ..theme import side_by_side
from ._plot import figure

__all__ = [
    "activation_figure",
    "activation_explorer",
    "softmax_figure",
    "softmax_explorer",
    "focal_figure",
    "focal_explorer",
    "recurrent_figure",
    "recurrent_explorer",
]

F64 = torch.float64
_X = torch.linspace(-4, 4, 161, dtype=F64)


# -- activations -----------------------------------------------------------------------------------
def activation_figure(name: str) -> go.Figure:
    """An activation ``f`` and its derivative ``f'`` (hand-written formula) on [−4, 4]."""
    f, df = cp.activation(name, _X), cp.activation_derivative(name, _X)
    x = _X.numpy().round(3).tolist()
    traces = [
        dict(type="scatter", x=x, y=f.numpy().round(4).tolist(), name="f(x)", mode="lines"),
        dict(
            type="scatter",
            x=x,
            y=df.numpy().round(4).tolist(),
            name="f′(x)",
            mode="lines",
            line=dict(dash="dash"),
        ),
    ]
    grad_at = {
        v: float(cp.activation_derivative(name, torch.tensor([v], dtype=F64)))
        for v in (-3.0, 0.0, 3.0)
    }
    layout = dict(
        title=dict(
            text=f"{name}: f′(−3) = {grad_at[-3.0]:.3f}, f′(0) = {grad_at[0.0]:.3f}, "
            f"f′(3) = {grad_at[3.0]:.3f}"
        ),
        xaxis=dict(title="x"),
        yaxis=dict(range=[-1.5, 4.1]),
    )
    return figure(traces, layout)


def activation_explorer(mode: str | None = None):
    """Choose an activation; see it and its derivative (where gradients vanish)."""
    return interactive(
        activation_figure,
        Choice("name", list(cp.ACTIVATIONS), value="relu", label="activation"),
        mode=mode,
    )


# -- softmax temperature ---------------------------------------------------------------------------
_LOGITS = torch.tensor([2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0], dtype=F64)


def softmax_figure(log10_temperature: float) -> go.Figure:
    """``softmax(z / T)`` of fixed logits ``z``, with its entropy against the limits."""
    t = 10 ** check_real(log10_temperature, "log10_temperature")
    p = cp.softmax(_LOGITS, temperature=t)
    h = float(cp.softmax_entropy(_LOGITS, temperature=t))
    traces = [
        dict(
            type="bar",
            x=[f"z={v:g}" for v in _LOGITS.tolist()],
            y=p.numpy().round(5).tolist(),
            name="softmax(z/T)",
        )
    ]
    layout = dict(
        title=dict(
            text=f"T = {t:.3g}: entropy {h:.3f} nats<br>(0 at T → 0, log 7 = {math.log(7):.3f} "
            "at T → ∞)"
        ),
        margin=dict(t=100),
        yaxis=dict(range=[0, 1], title="probability"),
    )
    return figure(traces, layout)


def softmax_explorer(mode: str | None = None):
    return interactive(
        softmax_figure,
        Slider("log10_temperature", -1.5, 1.5, value=0.0, steps=25, label="log₁₀ T"),
        mode=mode,
    )


# -- focal loss ------------------------------------------------------------------------------------
_PT = torch.linspace(0.01, 0.99, 99, dtype=F64)


def focal_figure(gamma: float) -> go.Figure:
    """Focal loss against ``p_t`` (left) and the share of an imbalanced batch's loss due to its
    few hard examples (right), for a given γ; γ = 0 is the cross-entropy."""
    gamma = check_real(gamma, "gamma")
    logit = torch.log(_PT / (1 - _PT))  # target 1, so p_t = σ(ℓ)
    ones = torch.ones_like(_PT)
    ce = cp.binary_cross_entropy_with_logits(logit, ones, reduction="none")
    fl = cp.focal_loss(logit, ones, gamma=gamma, reduction="none")
    logits, target = focal_batch()
    share = cp.positive_loss_share(logits, target, gamma)
    share_ce = cp.positive_loss_share(logits, target, 0.0)
    x = _PT.numpy().round(3).tolist()
    traces = [
        dict(
            type="scatter",
            x=x,
            y=ce.numpy().round(4).tolist(),
            name="CE (γ = 0)",
            line=dict(dash="dot"),
        ),
        dict(type="scatter", x=x, y=fl.numpy().round(4).tolist(), name="focal"),
        dict(
            type="bar",
            x=["easy (990)", "hard (10)"],
            y=[1 - share, share],
            name="share of batch loss",
            xaxis="x2",
            yaxis="y2",
        ),
    ]
    layout = dict(
        **side_by_side(("loss against p_t", "who the loss comes from"), split=0.6),
        title=dict(
            text=f"γ = {gamma:.2f}: at p_t = 0.9 focal/CE = {0.1**gamma:.3g}<br>hard examples "
            f"carry {100 * share:.1f}% of the loss (CE: {100 * share_ce:.1f}%)"
        ),
        margin=dict(t=100),
    )
    layout["xaxis"].update(title="p_t")
    layout["yaxis"].update(range=[0, 4.7], title="loss (nats)")
    layout["yaxis2"].update(range=[0, 1])
    return figure(traces, layout)


def focal_explorer(mode: str | None = None):
    return interactive(
        focal_figure, Slider("gamma", 0.0, 5.0, value=2.0, steps=21, label="γ"), mode=mode
    )


# -- recurrent gradients ---------------------------------------------------------------------------
#: The recurrent figure's fixed setup (:func:`companion.components.recurrent_setup`), cached.
recurrent_setup = functools.lru_cache(maxsize=1)(cp.recurrent_setup)


def recurrent_figure(spectral_norm: float) -> go.Figure:
    """``‖∂h_t/∂h_0‖₂`` against ``t`` for ``W = s Q``: linear RNN (exactly ``s^t``) and tanh RNN."""
    s = check_real(spectral_norm, "spectral_norm")
    q, h0, inputs = recurrent_setup()
    w = s * q
    lin = cp.recurrent_jacobian_norms(w, h0, inputs, "linear")
    tanh = cp.recurrent_jacobian_norms(w, h0, inputs, "tanh")
    t = list(range(1, inputs.shape[0] + 1))
    floor = 1e-30
    traces = [
        dict(type="scatter", x=t, y=lin.clamp(min=floor).numpy().tolist(), name="linear: s^t"),
        dict(type="scatter", x=t, y=tanh.clamp(min=floor).numpy().tolist(), name="tanh RNN"),
    ]
    layout = dict(
        title=dict(
            text=f"σ_max(W) = {s:.2f}: after {t[-1]} steps<br>‖∂h_T/∂h_0‖ = {float(lin[-1]):.2e} "
            f"(linear), {float(tanh[-1]):.2e} (tanh)"
        ),
        margin=dict(t=100),
        xaxis=dict(title="t"),
        yaxis=dict(type="log", range=[-12, 12], title="‖∂h_t/∂h_0‖₂", exponentformat="power"),
    )
    return figure(traces, layout)


def recurrent_explorer(mode: str | None = None):
    return interactive(
        recurrent_figure,
        Slider("spectral_norm", 0.5, 1.6, value=1.0, steps=23, label="σ_max(W)"),
        mode=mode,
    )
