"""Restricted Boltzmann machines: a binary RBM, its Gibbs sampler and contrastive divergence.

A binary RBM has visible units ``v ∈ {0,1}^D``, hidden units ``h ∈ {0,1}^H`` and the energy

    E(v, h) = −b·v − c·h − hᵀ W v          (eq-zoo-rbm-energy)

with ``W`` of shape ``(H, D)``. Summing ``e^{−E}`` over ``h`` gives the *free energy*

    F(v) = −b·v − Σ_j softplus(c_j + W_j·v)          (eq-zoo-rbm-free-energy)

so that ``p(v) = e^{−F(v)} / Z``. Both conditionals factorise into Bernoullis:
``p(h_j = 1 | v) = σ(c_j + W_j·v)`` and ``p(v_i = 1 | h) = σ(b_i + (Wᵀh)_i)`` — the block
Gibbs sampler alternates them. :func:`fit_rbm` trains by contrastive divergence (CD-k,
Hinton 2002): the log-likelihood gradient ``E_data[−∂F/∂θ] − E_model[−∂F/∂θ]`` with the model
expectation replaced by the end of a ``k``-step Gibbs chain started at the data.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validate import check_int, check_interval, check_iterations, check_real, check_tensor
from ..models import GenerativeModel, batches, check_lr, fit_run, merge_hyper, train

__all__ = ["RBM", "cd_gradient", "fit_rbm"]

#: Largest layer :meth:`RBM.log_partition` enumerates (2**20 states).
MAX_ENUMERATE = 20


def _binary(v: object, name: str, size: int) -> Tensor:
    """A floating ``(N, size)`` tensor of zeros and ones."""
    v = check_tensor(v, name, ndim=2)
    if v.shape[1] != size:
        raise ValueError(f"{name} must have {size} columns; got shape {tuple(v.shape)}")
    if ((v != 0) & (v != 1)).any():
        raise ValueError(f"{name} must hold only 0s and 1s (binary units)")
    return v


def _bernoulli(p: Tensor, generator: torch.Generator | None) -> Tensor:
    """Draw ``Bernoulli(p)`` with uniforms from ``generator`` on the CPU (same draws on any
    device)."""
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device)
    return (u < p).to(p.dtype)


class RBM(GenerativeModel):
    """A binary restricted Boltzmann machine with ``visible`` and ``hidden`` units.

    Parameters: ``W`` ``(hidden, visible)``, visible bias ``b`` and hidden bias ``c``. The
    weights start as ``N(0, init_std²)`` draws from the global generator (like every
    ``nn.Module``; :func:`fit_rbm` shields the caller's stream), the biases at zero.
    """

    family = "zoo-rbm"

    def __init__(self, visible: int = 64, hidden: int = 64, init_std: float = 0.01):
        super().__init__(visible=visible, hidden=hidden, init_std=init_std)
        d = check_int(visible, "visible")
        k = check_int(hidden, "hidden")
        std = check_real(init_std, "init_std")
        if std < 0:
            raise ValueError(f"init_std must be >= 0; got {std}")
        self.W = nn.Parameter(std * torch.randn(k, d))
        self.b = nn.Parameter(torch.zeros(d))
        self.c = nn.Parameter(torch.zeros(k))

    @property
    def visible(self) -> int:
        return self.W.shape[1]

    @property
    def hidden(self) -> int:
        return self.W.shape[0]

    # -- the energy and the free energy ----------------------------------------------------------
    def energy(self, v: Tensor, h: Tensor) -> Tensor:
        """``E(v, h) = −b·v − c·h − hᵀWv`` for each row pair (eq-zoo-rbm-energy)."""
        v = _binary(v, "v", self.visible).to(self.W)
        h = _binary(h, "h", self.hidden).to(self.W)
        if v.shape[0] != h.shape[0]:
            raise ValueError(f"v and h need as many rows; got {v.shape[0]} and {h.shape[0]}")
        return -(v @ self.b) - (h @ self.c) - ((h @ self.W) * v).sum(1)

    def free_energy(self, v: Tensor) -> Tensor:
        """``F(v) = −b·v − Σ_j softplus(c_j + W_j·v) = −log Σ_h e^{−E(v,h)}``."""
        v = _binary(v, "v", self.visible).to(self.W)
        return -(v @ self.b) - nn.functional.softplus(v @ self.W.T + self.c).sum(1)

    # -- conditionals and Gibbs sampling ---------------------------------------------------------
    def p_h_given_v(self, v: Tensor) -> Tensor:
        """``p(h_j = 1 | v) = σ(c_j + W_j·v)``, one row per row of ``v``."""
        return self._ph(_binary(v, "v", self.visible).to(self.W))

    def p_v_given_h(self, h: Tensor) -> Tensor:
        """``p(v_i = 1 | h) = σ(b_i + (Wᵀh)_i)``, one row per row of ``h``."""
        return self._pv(_binary(h, "h", self.hidden).to(self.W))

    def _ph(self, v: Tensor) -> Tensor:
        return torch.sigmoid(v @ self.W.T + self.c)

    def _pv(self, h: Tensor) -> Tensor:
        return torch.sigmoid(h @ self.W + self.b)

    @torch.no_grad()
    def gibbs_step(self, v: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One block Gibbs sweep ``v → h ~ p(h|v) → v' ~ p(v|h)``; returns ``v'``."""
        return self.gibbs(v, 1, generator)

    @torch.no_grad()
    def gibbs(self, v: Tensor, steps: int, generator: torch.Generator | None = None) -> Tensor:
        """``steps`` Gibbs sweeps from ``v`` (``steps = 0`` returns a copy of ``v``)."""
        v = _binary(v, "v", self.visible).to(self.W)
        for _ in range(check_iterations(steps, "steps", minimum=0)):
            h = _bernoulli(self._ph(v), generator)
            v = _bernoulli(self._pv(h), generator)
        return v.clone()

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        steps: int = 1000,
        init: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``n`` states after ``steps`` Gibbs sweeps from uniform random bits (or ``init``)."""
        n = check_int(n, "n")
        if init is None:
            p = torch.full((n, self.visible), 0.5, dtype=self.W.dtype, device=self.W.device)
            init = _bernoulli(p, generator)
        elif init.shape[0] != n:
            raise ValueError(f"init must have n = {n} rows; got shape {tuple(init.shape)}")
        return self.gibbs(init, steps, generator)

    # -- exact quantities for small models -------------------------------------------------------
    @torch.no_grad()
    def log_partition(self) -> Tensor:
        """``log Z`` by enumerating the smaller layer (at most 2**20 states), summing the other
        layer out in closed form."""
        small = min(self.visible, self.hidden)
        if small > MAX_ENUMERATE:
            raise ValueError(
                f"log Z enumerates 2**{small} states; only layers of <= {MAX_ENUMERATE} units"
            )
        states = _all_states(small, self.W)
        if self.hidden <= self.visible:  # Σ_h e^{c·h + Σ_i softplus(b_i + (Wᵀh)_i)}
            terms = states @ self.c + nn.functional.softplus(states @ self.W + self.b).sum(1)
        else:
            terms = -self.free_energy(states)
        return torch.logsumexp(terms, 0)

    @torch.no_grad()
    def log_prob(self, v: Tensor) -> Tensor:
        """Exact ``log p(v) = −F(v) − log Z`` (small models only, see :meth:`log_partition`)."""
        return -self.free_energy(v) - self.log_partition()


def _all_states(n: int, like: Tensor) -> Tensor:
    """All ``2**n`` binary vectors of length ``n`` as rows, in ``like``'s dtype and device."""
    codes = torch.arange(2**n, device=like.device)
    bits = (codes[:, None] >> torch.arange(n - 1, -1, -1, device=like.device)) & 1
    return bits.to(like.dtype)


def _statistics(model: RBM, v: Tensor, weights: Tensor) -> dict[str, Tensor]:
    """Weighted averages of ``−∂F/∂θ``: ``σ(c + Wv) vᵀ``, ``v`` and ``σ(c + Wv)``."""
    ph = model._ph(v)
    return {"W": (weights[:, None] * ph).T @ v, "b": weights @ v, "c": weights @ ph}


@torch.no_grad()
def cd_gradient(
    model: RBM, v_data: Tensor, v_model: Tensor, model_weights: Tensor | None = None
) -> dict[str, Tensor]:
    """The estimate ``E_data[−∂F/∂θ] − E_model[−∂F/∂θ]`` of ``∇ mean log p(v_data)``.

    ``v_model`` are the negative-phase states (the ends of Gibbs chains for CD-k) averaged
    uniformly, or with ``model_weights`` (a probability vector) — e.g. every state with its
    exact probability, which gives the exact gradient (CD-∞). Returns ``{"W", "b", "c"}``.
    """
    if not isinstance(model, RBM):
        raise TypeError(f"model must be a companion.zoo.RBM; got {type(model).__name__}")
    v_data = _binary(v_data, "v_data", model.visible).to(model.W)
    v_model = _binary(v_model, "v_model", model.visible).to(model.W)
    n = v_model.shape[0]
    if model_weights is None:
        model_weights = torch.full((n,), 1.0 / n, dtype=model.W.dtype, device=model.W.device)
    else:
        model_weights = check_tensor(model_weights, "model_weights", ndim=1)
        if model_weights.shape[0] != n:
            raise ValueError(f"model_weights needs one weight per row of v_model ({n})")
        check_interval(model_weights, "model_weights", 0.0, 1.0)
        if abs(float(model_weights.sum()) - 1) > 1e-6:
            raise ValueError("model_weights must sum to 1")
        model_weights = model_weights.to(model.W)
    m = v_data.shape[0]
    pos = _statistics(model, v_data, torch.full_like(v_data[:, 0], 1.0 / m))
    neg = _statistics(model, v_model, model_weights)
    return {k: pos[k] - neg[k] for k in pos}


#: Every default of :func:`fit_rbm`.
DEFAULTS: dict[str, object] = {
    # number of CD updates
    "steps": 2000,
    # number of hidden units
    "hidden": 64,
    # Gibbs sweeps per negative sample (CD-k)
    "k": 1,
    # learning rate of the momentum update
    "lr": 0.05,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 64,
    # classical momentum, in [0, 1)
    "momentum": 0.5,
}


def fit_rbm(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> RBM:
    """Train a binary :class:`RBM` on the rows of ``data`` (zeros and ones) by CD-``k``.

    Each step takes a mini-batch, runs ``k`` Gibbs sweeps from it and moves the parameters by
    ``lr`` times :func:`cd_gradient` (with classical ``momentum``). The visible biases start at
    the log-odds of the data's pixel means. Logs the reconstruction error ``mean (v − v_k)²``.
    The caller's global random stream is left untouched. Hyper-parameters ``hidden``, ``k``,
    ``lr``, ``batch_size``, ``momentum`` (defaults in :data:`DEFAULTS`).
    """
    h = merge_hyper(DEFAULTS, hyper)
    k, lr = check_int(h["k"], "k"), check_lr(h["lr"])
    momentum = check_real(h["momentum"], "momentum")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum}")
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        data = run.data
        _binary(data, "data", data.shape[1])
        model = RBM(data.shape[1], check_int(h["hidden"], "hidden")).to(run.device)
        with torch.no_grad():
            mean = data.mean(0).clamp(1e-3, 1 - 1e-3)
            model.b.copy_(torch.log(mean) - torch.log1p(-mean))
        gen = run.generator
        it = batches(data, h["batch_size"], gen)
        velocity = {name: torch.zeros_like(p) for name, p in model.named_parameters()}

        def step(_):
            v0 = next(it)
            vk = model.gibbs(v0, k, gen)
            grads = cd_gradient(model, v0, vk)
            with torch.no_grad():
                for name, p in model.named_parameters():
                    velocity[name].mul_(momentum).add_(grads[name], alpha=lr)
                    p.add_(velocity[name])
            return {"recon": ((v0 - vk) ** 2).mean()}

        train(step, run.steps, model=model, progress=run.progress, desc=f"CD-{k}")
    return model.eval()
