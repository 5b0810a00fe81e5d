"""The Adam loop the zoo's fits share."""

from __future__ import annotations

import torch

from ..models import FitRun, check_lr, train


def _adam_fit(model, loss_fn, run: FitRun, lr: float, desc: str, name: str):
    """Adam on ``loss_fn()`` (which draws its own mini-batch) for ``run.steps`` steps; logs
    ``name``; returns the model in eval mode."""
    opt = torch.optim.Adam(model.parameters(), lr=check_lr(lr))

    def step(_):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {name: loss.detach()}

    train(step, run.steps, model=model, progress=run.progress, desc=desc)
    return model.eval()
