"""Neural ODEs and continuous flows: flow matching and the instantaneous change of variables."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from .._validate import (
    check_callable,
    check_int,
    check_iterations,
    check_real,
    check_rows,
    check_tensor,
)
from ..models import GenerativeModel, batches, fit_run, gaussian_log_prob, merge_hyper
from ._common import _adam_fit


class VelocityNet(GenerativeModel):
    """A time-dependent velocity field ``v(x, t)`` for a continuous flow (input ``[x, t]``)."""

    family = "zoo-ode-flow"

    def __init__(self, dim: int = 2, hidden: int = 128):
        super().__init__(dim=dim, hidden=hidden)
        d, h = check_int(dim, "dim"), check_int(hidden, "hidden")
        self.net = nn.Sequential(
            nn.Linear(d + 1, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, d)
        )
        self.dim = d

    def forward(self, x: Tensor, t: Tensor | float) -> Tensor:
        x = check_rows(x, "x", self.dim, finite=False)
        if not isinstance(t, Tensor):
            t = check_real(t, "t")
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(x.shape[0], 1)
        return self.net(torch.cat([x, t], dim=1))

    @torch.no_grad()
    def sample(
        self, n: int, *, n_steps: int = 40, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw ``z ~ N(0, I)`` and integrate ``dx/dt = v(x, t)`` from 0 to 1 with RK4."""
        z = torch.randn(check_int(n, "n"), self.dim, generator=generator).to(self.device)
        return rk4(self, z, 0.0, 1.0, n_steps)


def rk4(
    f: Callable[[Tensor, float], Tensor], x0: Tensor, t0: float, t1: float, n_steps: int
) -> Tensor:
    """Classical fourth-order Runge–Kutta for ``dx/dt = f(x, t)`` from ``t0`` to ``t1``."""
    f = check_callable(f, "f")
    x = check_tensor(x0, "x0", min_ndim=1)
    t0, t1 = check_real(t0, "t0"), check_real(t1, "t1")
    n_steps = check_iterations(n_steps, "n_steps")
    h = (t1 - t0) / n_steps
    for i in range(n_steps):
        t = t0 + i * h
        k1 = f(x, t)
        k2 = f(x + 0.5 * h * k1, t + 0.5 * h)
        k3 = f(x + 0.5 * h * k2, t + 0.5 * h)
        k4 = f(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def _divergence(v: Callable[[Tensor, float], Tensor], x: Tensor, t: float) -> tuple:
    """``v(x, t)`` and its exact divergence ``tr ∂v/∂x`` (one backward pass per dimension)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        out = v(x, t)
        div = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for i in range(x.shape[1]):
            (g,) = torch.autograd.grad(out[:, i].sum(), x, retain_graph=i < x.shape[1] - 1)
            div = div + g[:, i]
    return out.detach(), div.detach()


def ode_log_prob(
    v: Callable[[Tensor, float], Tensor], x: Tensor, n_steps: int = 40
) -> tuple[Tensor, Tensor]:
    """Exact log-density of a continuous flow at data points ``x`` (eq-zoo-cnf).

    The path ``dy/dt = v(y, t)`` carries noise ``z ~ N(0, I)`` at ``t = 0`` to data ``x`` at
    ``t = 1``, and along it ``d log p_t(y_t)/dt = −tr(∂v/∂y)``. Integrating the augmented state
    ``(y_t, ℓ_t)`` backwards from ``t = 1`` to ``0`` with RK4 gives ``z = f(x)`` and
    ``log p_1(x) = log N(z; 0, I) − ∫_0^1 tr(∂v/∂y)(y_t, t) dt``. Returns ``(log p(x), z)``.
    """
    v = check_callable(v, "v")
    x = check_tensor(x, "x", ndim=2)
    n_steps = check_iterations(n_steps, "n_steps")
    d = x.shape[1]

    def aug(state: Tensor, t: float) -> Tensor:
        vel, div = _divergence(v, state[:, :d], t)
        return torch.cat([vel, div[:, None]], dim=1)

    state = torch.cat([x.detach(), torch.zeros_like(x[:, :1])], dim=1)
    end = rk4(aug, state, 1.0, 0.0, n_steps)  # integral of div from 1 to 0 = −∫_0^1 div dt
    z, neg_int = end[:, :d], end[:, d]
    return gaussian_log_prob(z) + neg_int, z


#: Every default of :func:`fit_ode_flow`.
DEFAULTS: dict[str, object] = {
    # number of Adam steps
    "steps": 2000,
    # width of the velocity network's two hidden layers
    "hidden": 128,
    # Adam's learning rate (constant)
    "lr": 2e-3,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 256,
}


def fit_ode_flow(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> VelocityNet:
    """Train a :class:`VelocityNet` by conditional flow matching (eq-zoo-flow-matching):
    regress ``v(y_t, t)`` on ``x − z`` along straight paths ``y_t = (1 − t) z + t x`` with
    noise ``z ~ N(0, I)`` and ``x`` a data point. Hyper-parameters ``hidden``, ``lr``,
    ``batch_size`` (defaults in :data:`DEFAULTS`)."""
    h = merge_hyper(DEFAULTS, hyper)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        dev, gen = run.device, run.generator
        model = VelocityNet(run.data.shape[1], h["hidden"]).to(dev)
        it = batches(run.data, h["batch_size"], gen)

        def loss_fn():
            x = next(it)
            z = torch.randn(x.shape, generator=gen).to(dev)
            t = torch.rand(x.shape[0], 1, generator=gen).to(dev)
            return ((model(z + t * (x - z), t) - (x - z)) ** 2).sum(1).mean()

        return _adam_fit(model, loss_fn, run, h["lr"], "flow matching", "fm")
