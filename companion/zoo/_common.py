"""Helpers shared by the zoo's families (argument checks, generators, the Adam loop)."""

from __future__ import annotations

import torch

from .._validate import check_real
from ..models import FitRun, train


def _positive(value: object, name: str) -> float:
    """``value`` as a float > 0 (the one check lives in :func:`companion._validate.check_real`)."""
    return check_real(value, name, positive=True)


def _generator(seed: int) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def _adam_fit(model, loss_fn, run: FitRun, lr: float, desc: str, name: str):
    """Adam on ``loss_fn()`` (which draws its own mini-batch) for ``run.steps`` steps; logs
    ``name``; returns the model in eval mode."""
    opt = torch.optim.Adam(model.parameters(), lr=_positive(lr, "lr"))

    def step(_):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {name: loss.detach()}

    train(step, run.steps, model=model, progress=run.progress, desc=desc)
    return model.eval()
