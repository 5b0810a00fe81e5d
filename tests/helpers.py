"""Small helpers shared by the test modules."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import settings

ATOL = 1e-8
LOG2 = math.log(2.0)
FAST = settings(max_examples=50, deadline=None, derandomize=True)


def t64(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def random_simplex(rng: np.random.Generator, shape, zeros: bool = False) -> np.ndarray:
    """Probability vectors along the last axis (optionally with some exact zeros)."""
    w = rng.gamma(0.7, size=shape)
    if zeros:
        w[rng.random(shape) < 0.3] = 0.0
        w[..., 0] += 1e-3  # at least one positive entry per vector
    return w / w.sum(axis=-1, keepdims=True)


def check_slider_extremes(live) -> None:
    """Move every slider of a live figure to its minimum and its maximum; each redraw must
    succeed and keep a title (the figures put their key numbers there)."""
    for c in live._specs:
        if hasattr(c, "min"):
            for v in (c.min, c.max):
                live.update(**{c.name: v})
                assert live.figure.layout.title.text
