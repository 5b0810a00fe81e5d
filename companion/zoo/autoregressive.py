"""Autoregressive models: a masked autoencoder (MADE) over discrete variables."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validate import check_int, check_real, check_rows, check_tensor
from ..models import GenerativeModel, batches, fit_run, merge_hyper
from ._common import _adam_fit


def discretize(points: Tensor, bins: int, low: float, high: float) -> Tensor:
    """Integer bin indices ``(N, D)`` of ``points`` on ``bins`` equal bins per axis of
    ``[low, high]`` (values outside are clipped into the end bins)."""
    points = check_tensor(points, "points", ndim=2)
    bins = check_int(bins, "bins", minimum=2)
    low, high = check_real(low, "low"), check_real(high, "high")
    if not low < high:
        raise ValueError(f"need low < high; got {low}, {high}")
    idx = torch.floor((points - low) / (high - low) * bins).long()
    return idx.clamp(0, bins - 1)


class _MaskedLinear(nn.Linear):
    def __init__(self, n_in: int, n_out: int, mask: Tensor):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.float())

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class DiscreteAutoregressive(GenerativeModel):
    """MADE for ``dims`` categorical variables with ``categories`` values (eq-zoo-chain-rule).

    Inputs are one-hot codes; masks give every hidden unit a *degree* ``m ∈ {1..D−1}`` and let it
    see only variables ``j <= m``; the logits of variable ``i`` see only hidden units with
    ``m < i``. So ``p(x_i | ·)`` depends on ``x_<i`` alone and the product of the conditionals is
    a normalised distribution over all ``K^D`` configurations.
    """

    family = "zoo-autoregressive"

    def __init__(self, dims: int = 2, categories: int = 24, hidden: int = 128):
        super().__init__(dims=dims, categories=categories, hidden=hidden)
        d = check_int(dims, "dims", minimum=2)
        k = check_int(categories, "categories", minimum=2)
        h = check_int(hidden, "hidden", minimum=1)
        in_deg = torch.arange(1, d + 1).repeat_interleave(k)  # degree of each input unit
        hid_deg = torch.arange(h) % (d - 1) + 1
        out_deg = torch.arange(1, d + 1).repeat_interleave(k)
        self.first = _MaskedLinear(d * k, h, hid_deg[:, None] >= in_deg[None, :])
        self.second = _MaskedLinear(h, h, hid_deg[:, None] >= hid_deg[None, :])
        self.out = _MaskedLinear(h, d * k, out_deg[:, None] > hid_deg[None, :])
        self.dims, self.categories = d, k

    def _check_x(self, x: object) -> Tensor:
        if not isinstance(x, Tensor) or x.dtype != torch.int64:
            raise TypeError("x must be an int64 tensor of category indices, shape (N, dims)")
        if x.ndim != 2 or x.shape[1] != self.dims:
            raise ValueError(f"x must have shape (N, {self.dims}); got {tuple(x.shape)}")
        if ((x < 0) | (x >= self.categories)).any():
            raise ValueError(f"category indices must lie in [0, {self.categories - 1}]")
        return x

    def logits_from_onehot(self, onehot: Tensor) -> Tensor:
        """Conditional logits ``(N, D, K)`` from one-hot inputs ``(N, D·K)``."""
        onehot = check_rows(onehot, "onehot", self.dims * self.categories, finite=False)
        h = torch.relu(self.first(onehot))
        h = torch.relu(self.second(h))
        return self.out(h).view(-1, self.dims, self.categories)

    def logits(self, x: Tensor) -> Tensor:
        x = self._check_x(x).to(self.device)
        onehot = nn.functional.one_hot(x, self.categories).float().flatten(1)
        return self.logits_from_onehot(onehot)

    def log_prob(self, x: Tensor) -> Tensor:
        """``log p(x) = sum_i log p(x_i | x_<i)`` in nats, exact; shape ``(N,)``."""
        lp = torch.log_softmax(self.logits(x), dim=-1)
        return lp.gather(2, x.to(self.device)[:, :, None])[:, :, 0].sum(dim=1)

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Ancestral sampling, one variable at a time: ``(n, D)`` int64 indices."""
        n = check_int(n, "n")
        x = torch.zeros(n, self.dims, dtype=torch.int64, device=self.device)
        for i in range(self.dims):
            probs = torch.softmax(self.logits(x)[:, i], dim=-1).cpu()
            x[:, i] = torch.multinomial(probs, 1, generator=generator)[:, 0].to(self.device)
        return x


#: Every default of :func:`fit_autoregressive` (``categories`` has none: it is required).
DEFAULTS: dict[str, object] = {
    # number of Adam steps
    "steps": 800,
    # hidden units of the masked MLP
    "hidden": 128,
    # Adam's learning rate (constant)
    "lr": 3e-3,
    # sequences per mini-batch (capped at the number of rows)
    "batch_size": 256,
}


def fit_autoregressive(
    data: Tensor,
    *,
    categories: int,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> DiscreteAutoregressive:
    """Maximum likelihood for :class:`DiscreteAutoregressive` on int64 ``data`` ``(N, D)``;
    hyper-parameters ``hidden``, ``lr``, ``batch_size`` (defaults in :data:`DEFAULTS`)."""
    h = merge_hyper(DEFAULTS, hyper)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"], tokens=True) as run:
        model = DiscreteAutoregressive(run.data.shape[1], categories, h["hidden"]).to(run.device)
        model._check_x(run.data)
        it = batches(run.data, h["batch_size"], run.generator)

        def loss_fn():
            return -model.log_prob(next(it)).mean()

        return _adam_fit(model, loss_fn, run, h["lr"], "autoregressive", "nll")
