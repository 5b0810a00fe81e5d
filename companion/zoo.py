"""The generative model zoo: small, exact versions of the families beyond the big four.

Each part belongs to one section of the chapter "The generative model zoo":

* **Autoregressive models** — :class:`DiscreteAutoregressive`, a masked autoencoder (MADE) for
  ``D`` discrete variables with ``K`` values each, whose likelihood
  ``p(x) = prod_i p(x_i | x_<i)`` is exact; :func:`discretize` turns 2-D points into bin indices.
* **Energy-based models** — the ring energy, its partition function in closed form and on a
  grid, and unadjusted Langevin sampling (:func:`langevin`), with the exact stationary variance
  of Langevin on a Gaussian (:func:`ula_gaussian_variance`) to show its step-size bias.
* **Score-based models** — :class:`ScoreNet`, a noise-conditional score network trained by
  denoising score matching (:func:`dsm_loss`, :func:`fit_score`), the exact score of a noised
  Gaussian mixture, and annealed Langevin sampling.
* **Neural ODEs / continuous flows** — :class:`VelocityNet` trained by flow matching
  (:func:`fit_ode_flow`); :func:`ode_log_prob` evaluates the exact likelihood through the
  instantaneous change of variables ``d log p(x_t)/dt = −tr(∂v/∂x)``.
* **Transformers** — :class:`TinyTransformer`, one causal self-attention block (attention and
  layer norm from :mod:`companion.components`), trained on sequences of a second-order Markov
  chain whose entropy rate (:func:`markov_entropy_rate`) is the best achievable loss.
* **Sparse latent models** — :func:`ista` solves ``min_z ½‖x − D z‖² + λ‖z‖₁``.

Conventions: logarithms are natural (nats); ``step`` in Langevin is the η of
``x ← x + η ∇log p(x) + sqrt(2η) ξ``; ``sigma`` is a standard deviation; continuous flows map
noise at ``t = 0`` to data at ``t = 1``. Every ``fit_*`` follows the family contract of
:mod:`companion.models` (``steps``, ``seed``, ``device``, ``progress`` keywords).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ._validate import check_int, check_real, check_tensor
from .components import layer_norm, scaled_dot_product_attention
from .device import resolve_device
from .models import GenerativeModel, batches, check_fit_args, prepare_data, train

__all__ = [
    "discretize",
    "DiscreteAutoregressive",
    "fit_autoregressive",
    "ring_energy",
    "ring_score",
    "ring_log_partition",
    "grid_log_partition",
    "langevin",
    "ula_gaussian_variance",
    "mixture_score",
    "ScoreNet",
    "dsm_loss",
    "fit_score",
    "annealed_langevin",
    "VelocityNet",
    "fit_ode_flow",
    "rk4",
    "ode_log_prob",
    "markov_sequences",
    "markov_entropy_rate",
    "TinyTransformer",
    "fit_transformer",
    "soft_threshold",
    "ista",
    "PRETRAINED",
]

#: No zoo model needs a shipped checkpoint: all train within the chapter's budget.
PRETRAINED: dict = {}


def _positive(value: object, name: str) -> float:
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def _generator(seed: int) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def _adam_fit(model, loss_fn, steps: int, lr: float, progress: bool, desc: str, name: str):
    """Adam on ``loss_fn()`` (which draws its own mini-batch) for ``steps`` steps; logs ``name``."""
    opt = torch.optim.Adam(model.parameters(), lr=_positive(lr, "lr"))

    def step(_):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {name: loss.detach()}

    train(step, steps, model=model, progress=progress, desc=desc)
    return model.eval()


# == autoregressive ================================================================================
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


def fit_autoregressive(
    data: Tensor,
    *,
    categories: int,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    hidden: int = 128,
    lr: float = 3e-3,
    batch_size: int = 256,
) -> DiscreteAutoregressive:
    """Maximum likelihood for :class:`DiscreteAutoregressive` on int64 ``data`` ``(N, D)``."""
    steps = check_fit_args(steps, seed, progress, default_steps=800)
    if not isinstance(data, Tensor) or data.dtype != torch.int64 or data.ndim != 2:
        raise TypeError("data must be an int64 tensor of shape (N, D) (use discretize)")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model = DiscreteAutoregressive(data.shape[1], categories, hidden).to(dev)
    model._check_x(data)
    data = data.to(dev)
    it = batches(data.float(), batch_size, _generator(seed))

    def loss_fn():
        return -model.log_prob(next(it).long()).mean()

    return _adam_fit(model, loss_fn, steps, lr, progress, "autoregressive", "nll")


# == energy-based models ===========================================================================
def ring_energy(x: Tensor, radius: float = 2.0, width: float = 0.25) -> Tensor:
    """``E(x) = (‖x‖ − r)² / (2 w²)``: low energy on the circle of radius ``r``."""
    x = check_tensor(x, "x", min_ndim=1)
    r, w = _positive(radius, "radius"), _positive(width, "width")
    return (torch.linalg.vector_norm(x, dim=-1) - r) ** 2 / (2 * w**2)


def ring_score(x: Tensor, radius: float = 2.0, width: float = 0.25) -> Tensor:
    """``−∇E(x) = −(‖x‖ − r) / w² · x / ‖x‖`` (the score of ``p ∝ e^{−E}``)."""
    x = check_tensor(x, "x", min_ndim=1)
    r, w = _positive(radius, "radius"), _positive(width, "width")
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp(min=1e-12)
    return -(norm - r) / w**2 * x / norm


def ring_log_partition(radius: float = 2.0, width: float = 0.25) -> float:
    """``log Z`` of the ring energy in closed form (eq-zoo-ring-z):
    ``Z = 2π [w² e^{−r²/2w²} + r w sqrt(2π) Φ(r/w)]``."""
    r, w = _positive(radius, "radius"), _positive(width, "width")
    phi = 0.5 * math.erfc(-r / (w * math.sqrt(2)))
    z = 2 * math.pi * (w**2 * math.exp(-(r**2) / (2 * w**2)) + r * w * math.sqrt(2 * math.pi) * phi)
    return math.log(z)


def grid_log_partition(energy: Callable[[Tensor], Tensor], limit: float, n: int = 401) -> float:
    """``log Z`` of a 2-D energy by the midpoint rule on ``[−limit, limit]²`` with ``n²`` cells
    (in float64, with a log-sum-exp so large energies do not underflow)."""
    limit = _positive(limit, "limit")
    n = check_int(n, "n", minimum=2)
    h = 2 * limit / n
    c = -limit + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(c, c, indexing="ij")
    e = energy(torch.stack([xx, yy], dim=-1))
    return float(torch.logsumexp(-e.flatten(), dim=0) + 2 * math.log(h))


def langevin(
    score: Callable[[Tensor], Tensor],
    x0: Tensor,
    step: float,
    n_steps: int,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Unadjusted Langevin: ``x ← x + η s(x) + sqrt(2η) ξ``, ``ξ ~ N(0, I)`` (eq-zoo-langevin).

    ``score(x)`` is ``∇ log p(x) = −∇E(x)``. As ``η → 0`` and the number of steps grows the
    samples approach ``p``; a finite ``η`` leaves a bias (see :func:`ula_gaussian_variance`).
    The noise is drawn on the CPU with ``generator`` and moved to ``x0``'s device.
    """
    x = check_tensor(x0, "x0", min_ndim=1).clone()
    eta = _positive(step, "step")
    n_steps = check_int(n_steps, "n_steps", minimum=0)
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = x + eta * score(x) + math.sqrt(2 * eta) * noise
    return x


def ula_gaussian_variance(sigma: float, step: float) -> float:
    """Stationary variance of unadjusted Langevin on ``N(0, σ²)``: ``σ² / (1 − η / (2σ²))``
    (eq-zoo-ula-bias); ``inf`` when ``η >= 2σ²`` (the chain diverges)."""
    s, eta = _positive(sigma, "sigma"), _positive(step, "step")
    if eta >= 2 * s**2:
        return math.inf
    return s**2 / (1 - eta / (2 * s**2))


# == score-based models ============================================================================
def mixture_score(x: Tensor, centers: Tensor, std: float, sigma: float = 0.0) -> Tensor:
    """Score ``∇ log p_σ(x)`` of an equal-weight mixture of ``N(c_k, std² I)`` convolved with
    ``N(0, σ² I)`` (so each component has variance ``std² + σ²``)."""
    x = check_tensor(x, "x", ndim=2)
    centers = check_tensor(centers, "centers", ndim=2)
    var = _positive(std, "std") ** 2 + check_real(sigma, "sigma") ** 2
    diff = centers[None, :, :].to(x) - x[:, None, :]  # (N, K, d)
    logw = torch.log_softmax(-(diff**2).sum(-1) / (2 * var), dim=1)  # responsibilities
    return (torch.exp(logw)[:, :, None] * diff).sum(1) / var


class ScoreNet(GenerativeModel):
    """A noise-conditional score network ``s(x, σ)`` for 2-D data (input ``[x, log σ]``)."""

    family = "zoo-score"

    def __init__(
        self,
        dim: int = 2,
        hidden: int = 128,
        sigma_min: float = 0.05,
        sigma_max: float = 2.0,
        levels: int = 10,
    ):
        super().__init__(
            dim=dim, hidden=hidden, sigma_min=sigma_min, sigma_max=sigma_max, levels=levels
        )
        d, h = check_int(dim, "dim"), check_int(hidden, "hidden")
        self.net = nn.Sequential(
            nn.Linear(d + 1, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, d)
        )
        lo, hi = _positive(sigma_min, "sigma_min"), _positive(sigma_max, "sigma_max")
        if not lo < hi:
            raise ValueError(f"need sigma_min < sigma_max; got {lo}, {hi}")
        levels = check_int(levels, "levels", minimum=2)
        self.register_buffer(
            "sigmas", torch.exp(torch.linspace(math.log(hi), math.log(lo), levels))
        )

    def forward(self, x: Tensor, sigma: Tensor) -> Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1)
        sigma = sigma.expand(x.shape[0], 1)
        # Output scaled by 1/σ: the true score of the noised data has that size.
        return self.net(torch.cat([x, torch.log(sigma)], dim=1)) / sigma

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        steps_per_level: int = 60,
        step_scale: float = 0.1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Annealed Langevin from ``N(0, σ_max² I)`` down the noise levels."""
        return annealed_langevin(
            self,
            check_int(n, "n"),
            steps_per_level=steps_per_level,
            step_scale=step_scale,
            generator=generator,
        )


def dsm_loss(model: ScoreNet, x: Tensor, sigma: Tensor, noise: Tensor) -> Tensor:
    """Denoising score matching (eq-zoo-dsm), weighted by σ² so every level counts alike:
    ``mean ‖σ s(x + σ ε, σ) + ε‖²``. The minimiser is the score of the noised data density."""
    x_noisy = x + sigma * noise
    return ((sigma * model(x_noisy, sigma) + noise) ** 2).sum(dim=1).mean()


def fit_score(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    hidden: int = 128,
    sigma_min: float = 0.05,
    sigma_max: float = 2.0,
    levels: int = 10,
    lr: float = 2e-3,
    batch_size: int = 256,
) -> ScoreNet:
    """Train a :class:`ScoreNet` by denoising score matching on every noise level."""
    steps = check_fit_args(steps, seed, progress, default_steps=1500)
    dev = resolve_device(device)
    data = prepare_data(data, device=dev)
    torch.manual_seed(seed)
    model = ScoreNet(data.shape[1], hidden, sigma_min, sigma_max, levels).to(dev)
    gen = _generator(seed)
    it = batches(data, batch_size, gen)

    def loss_fn():
        x = next(it)
        k = torch.randint(len(model.sigmas), (x.shape[0],), generator=gen).to(dev)
        noise = torch.randn(x.shape, generator=gen).to(dev)
        return dsm_loss(model, x, model.sigmas[k][:, None], noise)

    return _adam_fit(model, loss_fn, steps, lr, progress, "score matching", "dsm")


@torch.no_grad()
def annealed_langevin(
    score: Callable[[Tensor, Tensor], Tensor] | ScoreNet,
    n: int,
    *,
    sigmas: Tensor | None = None,
    dim: int = 2,
    steps_per_level: int = 60,
    step_scale: float = 0.1,
    generator: torch.Generator | None = None,
    device=None,
) -> Tensor:
    """Annealed Langevin dynamics (Song & Ermon): Langevin at each noise level σ_k with step
    ``η_k = step_scale · σ_k²``, from the largest σ to the smallest, starting at ``N(0, σ_1² I)``.

    ``score(x, sigma)`` may be a :class:`ScoreNet` (its ``sigmas`` are used) or any callable, in
    which case ``sigmas`` (decreasing) is required.
    """
    if isinstance(score, ScoreNet):
        sigmas = score.sigmas if sigmas is None else sigmas
        device = score.device if device is None else device
    if sigmas is None:
        raise ValueError("pass the noise levels `sigmas` for a plain score function")
    sigmas = check_tensor(sigmas, "sigmas", ndim=1)
    dev = resolve_device(device)
    n = check_int(n, "n")
    scale = _positive(step_scale, "step_scale")
    x = float(sigmas[0]) * torch.randn(n, dim, generator=generator).to(dev)
    for s in sigmas:
        s_t = torch.full((n, 1), float(s), device=dev)
        x = langevin(
            lambda y, s_t=s_t: score(y, s_t),
            x,
            scale * float(s) ** 2,
            steps_per_level,
            generator=generator,
        )
    return x


# == neural ODEs and continuous flows ==============================================================
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
    x = check_tensor(x0, "x0", min_ndim=1)
    t0, t1 = check_real(t0, "t0"), check_real(t1, "t1")
    n_steps = check_int(n_steps, "n_steps")
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
    x = check_tensor(x, "x", ndim=2)
    n_steps = check_int(n_steps, "n_steps")
    d = x.shape[1]

    def aug(state: Tensor, t: float) -> Tensor:
        vel, div = _divergence(v, state[:, :d], t)
        return torch.cat([vel, div[:, None]], dim=1)

    state = torch.cat([x.detach(), torch.zeros_like(x[:, :1])], dim=1)
    end = rk4(aug, state, 1.0, 0.0, n_steps)  # integral of div from 1 to 0 = −∫_0^1 div dt
    z, neg_int = end[:, :d], end[:, d]
    log_pz = -0.5 * (z**2).sum(1) - 0.5 * d * math.log(2 * math.pi)
    return log_pz + neg_int, z


def fit_ode_flow(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    hidden: int = 128,
    lr: float = 2e-3,
    batch_size: int = 256,
) -> VelocityNet:
    """Train a :class:`VelocityNet` by conditional flow matching (eq-zoo-flow-matching):
    regress ``v(y_t, t)`` on ``x − z`` along straight paths ``y_t = (1 − t) z + t x`` with
    noise ``z ~ N(0, I)`` and ``x`` a data point."""
    steps = check_fit_args(steps, seed, progress, default_steps=2000)
    dev = resolve_device(device)
    data = prepare_data(data, device=dev)
    torch.manual_seed(seed)
    model = VelocityNet(data.shape[1], hidden).to(dev)
    gen = _generator(seed)
    it = batches(data, batch_size, gen)

    def loss_fn():
        x = next(it)
        z = torch.randn(x.shape, generator=gen).to(dev)
        t = torch.rand(x.shape[0], 1, generator=gen).to(dev)
        return ((model(z + t * (x - z), t) - (x - z)) ** 2).sum(1).mean()

    return _adam_fit(model, loss_fn, steps, lr, progress, "flow matching", "fm")


# == transformers ==================================================================================
def _check_transition(p: object) -> Tensor:
    p = check_tensor(p, "transition", ndim=3)
    v = p.shape[0]
    if p.shape != (v, v, v):
        raise ValueError(f"transition must have shape (V, V, V); got {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(-1), torch.ones_like(p[..., 0]), atol=1e-6):
        raise ValueError("transition[a, b] must be a probability vector for every (a, b)")
    return p


def markov_sequences(transition: Tensor, n: int, length: int, seed: int = 0) -> Tensor:
    """``n`` int64 sequences of a second-order Markov chain, ``P(x_t = c | x_{t−2} = a,
    x_{t−1} = b) = transition[a, b, c]``, the first two symbols uniform; shape ``(n, length)``."""
    p = _check_transition(transition).double().cpu()  # drawn with a CPU generator
    n, length = check_int(n, "n"), check_int(length, "length", minimum=3)
    gen = _generator(check_int(seed, "seed", minimum=0))
    v = p.shape[0]
    x = torch.zeros(n, length, dtype=torch.int64)
    x[:, :2] = torch.randint(v, (n, 2), generator=gen)
    for t in range(2, length):
        probs = p[x[:, t - 2], x[:, t - 1]]
        x[:, t] = torch.multinomial(probs, 1, generator=gen)[:, 0]
    return x


def markov_entropy_rate(transition: Tensor) -> float:
    """Entropy rate (nats per symbol) of the second-order chain (eq-zoo-entropy-rate):
    ``sum_{a,b} π(a, b) H(transition[a, b])`` with ``π`` the stationary law of the pair chain
    ``(a, b) → (b, c)``."""
    p = _check_transition(transition).double().cpu()  # a small table: eigenvectors on the CPU
    v = p.shape[0]
    pair = torch.zeros(v * v, v * v, dtype=torch.float64)
    for a in range(v):
        for b in range(v):
            for c in range(v):
                pair[a * v + b, b * v + c] = p[a, b, c]
    evals, evecs = torch.linalg.eig(pair.T)
    k = int(torch.argmin((evals - 1).abs()))
    pi = evecs[:, k].real
    pi = pi / pi.sum()
    h = -(p * torch.log(p.clamp(min=1e-300))).sum(-1).flatten()
    return float((pi * h).sum())


class TinyTransformer(GenerativeModel):
    """One-block causal transformer language model (pre-norm, one head), written with
    :func:`companion.components.scaled_dot_product_attention` and
    :func:`companion.components.layer_norm`."""

    family = "zoo-transformer"

    def __init__(self, vocab: int = 3, context: int = 32, width: int = 32):
        super().__init__(vocab=vocab, context=context, width=width)
        v, c, w = (
            check_int(vocab, "vocab", minimum=2),
            check_int(context, "context"),
            check_int(width, "width"),
        )
        self.tok = nn.Embedding(v, w)
        self.pos = nn.Embedding(c, w)
        self.qkv = nn.Linear(w, 3 * w)
        self.proj = nn.Linear(w, w)
        self.mlp = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, w))
        self.ln = nn.ParameterList([nn.Parameter(torch.ones(w)) for _ in range(3)])
        self.ln_b = nn.ParameterList([nn.Parameter(torch.zeros(w)) for _ in range(3)])
        self.head = nn.Linear(w, v)
        self.vocab, self.context = v, c

    def forward(self, x: Tensor) -> Tensor:
        """Next-symbol logits ``(N, L, V)`` for int64 tokens ``(N, L)``, ``L <= context``."""
        if not isinstance(x, Tensor) or x.dtype != torch.int64 or x.ndim != 2:
            raise TypeError("x must be an int64 tensor of tokens, shape (N, L)")
        if x.shape[1] > self.context:
            raise ValueError(f"sequence length {x.shape[1]} exceeds the context {self.context}")
        if ((x < 0) | (x >= self.vocab)).any():
            raise ValueError(f"tokens must lie in [0, {self.vocab - 1}]")
        x = x.to(self.device)
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        q, k, v = self.qkv(layer_norm(h, 1, self.ln[0], self.ln_b[0])).chunk(3, dim=-1)
        h = h + self.proj(scaled_dot_product_attention(q, k, v, causal=True)[0])
        h = h + self.mlp(layer_norm(h, 1, self.ln[1], self.ln_b[1]))
        return self.head(layer_norm(h, 1, self.ln[2], self.ln_b[2]))

    def nll(self, x: Tensor, skip: int = 2) -> Tensor:
        """Mean next-symbol negative log-likelihood (nats) over positions ``>= skip``."""
        logits = self(x[:, :-1])
        target = x[:, 1:].to(self.device)
        lp = torch.log_softmax(logits, dim=-1).gather(2, target[:, :, None])[:, :, 0]
        return -lp[:, skip - 1 :].mean()

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        length: int | None = None,
        temperature: float = 1.0,
        prompt: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Sample ``n`` sequences, each token from ``softmax(logits / temperature)``."""
        n = check_int(n, "n")
        length = self.context if length is None else check_int(length, "length")
        t = _positive(temperature, "temperature")
        if prompt is None:
            x = torch.randint(self.vocab, (n, 1), generator=generator)
        else:
            x = prompt.expand(n, -1).clone().cpu()  # tokens are drawn on the CPU (generator)
        while x.shape[1] < length:
            logits = self(x[:, -self.context :].to(self.device))[:, -1].cpu() / t
            nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
            x = torch.cat([x, nxt], dim=1)
        return x.to(self.device)


def fit_transformer(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    vocab: int | None = None,
    width: int = 32,
    lr: float = 3e-3,
    batch_size: int = 64,
) -> TinyTransformer:
    """Train a :class:`TinyTransformer` on int64 sequences ``(N, L + 1)`` by next-symbol
    cross-entropy (teacher forcing); ``vocab`` defaults to the largest token + 1."""
    steps = check_fit_args(steps, seed, progress, default_steps=400)
    if not isinstance(data, Tensor) or data.dtype != torch.int64 or data.ndim != 2:
        raise TypeError("data must be an int64 tensor of shape (N, L + 1)")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    vocab = int(data.max()) + 1 if vocab is None else check_int(vocab, "vocab", minimum=2)
    model = TinyTransformer(vocab, data.shape[1] - 1, width).to(dev)
    it = batches(data.to(dev).float(), batch_size, _generator(seed))

    def loss_fn():
        return model.nll(next(it).long(), skip=1)

    return _adam_fit(model, loss_fn, steps, lr, progress, "transformer", "nll")


# == sparse latent models ==========================================================================
def soft_threshold(z: Tensor, lam: float) -> Tensor:
    """``sign(z) max(|z| − λ, 0)``: the proximal operator of ``λ‖·‖₁``."""
    z = check_tensor(z, "z")
    lam = check_real(lam, "lam")
    if lam < 0:
        raise ValueError(f"lam must be >= 0; got {lam}")
    return torch.sign(z) * (z.abs() - lam).clamp(min=0)


def ista(dictionary: Tensor, x: Tensor, lam: float, n_iter: int = 500) -> Tensor:
    """Sparse code ``argmin_z ½‖x − D z‖² + λ‖z‖₁`` by ISTA (eq-zoo-sparse):
    ``z ← soft_threshold(z + Dᵀ(x − D z)/L, λ/L)``, ``L = ‖D‖₂²``. ``x`` is ``(d,)`` or
    ``(N, d)``; the result has ``D``'s number of columns (atoms) as last dim."""
    dmat = check_tensor(dictionary, "dictionary", ndim=2)
    x = check_tensor(x, "x", ndim=(1, 2))
    if x.shape[-1] != dmat.shape[0]:
        raise ValueError(
            f"x has {x.shape[-1]} features but the dictionary has {dmat.shape[0]} rows"
        )
    lam = check_real(lam, "lam")
    if lam < 0:
        raise ValueError(f"lam must be >= 0; got {lam}")
    n_iter = check_int(n_iter, "n_iter")
    lip = float(torch.linalg.matrix_norm(dmat, ord=2)) ** 2
    z = x.new_zeros(*x.shape[:-1], dmat.shape[1])
    for _ in range(n_iter):
        grad = (z @ dmat.T - x) @ dmat
        z = soft_threshold(z - grad / lip, lam / lip)
    return z
