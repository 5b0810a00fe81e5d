"""Normalizing flows: invertible layers with exact log-determinants, and a flow that fits data.

Direction (the book's convention, chapter "Normalizing flows", eq-flows-cov-nd)
-------------------------------------------------------------------------------
A flow maps **data to noise**: ``z = f(x)``, with ``f = f_K ∘ … ∘ f_1`` and a standard normal
base distribution for ``z``. Then

    log p_X(x) = log p_Z(f(x)) + Σ_k log |det J_{f_k}(x_{k-1})|,      x_0 = x, x_k = f_k(x_{k-1}),

and sampling runs the other way, ``x = f⁻¹(z)`` with ``z ~ N(0, I)``.

Every layer has one method for both directions::

    y, ldj = layer(x)                # y = f_k(x),      ldj = log|det ∂y/∂x|  (one value per row)
    x, ldj_inv = layer(y, reverse=True)  # x = f_k⁻¹(y), ldj_inv = log|det ∂x/∂y| = -ldj

so the log-determinant returned always belongs to the map that was actually applied; the two
are reciprocal determinants, i.e. negatives of each other in the log domain.

Layers
------
:class:`AffineCoupling`  RealNVP's affine coupling, log-scale bounded by ``bound·tanh(s/bound)``
:class:`ActNorm`         per-coordinate affine map, initialised from the first batch (Glow)
:class:`LULinear`        ``x ↦ W x`` with ``W = P L U`` (Glow's 1×1 convolution for vectors)
:class:`Permutation`     a fixed reordering of the coordinates (log-det 0)

:class:`Flow` composes them over ``N(0, I)``; :func:`fit` trains one by maximum likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._validate import MAX_LAYERS, check_array, check_choice, check_int, check_real, check_tensor
from ._validate import check_rows as _check_rows
from .models import (
    GenerativeModel,
    batches,
    check_lr,
    fit_run,
    gaussian_log_prob,
    load_pretrained,
    merge_hyper,
    train,
)

__all__ = [
    "FlowLayer",
    "AffineCoupling",
    "ActNorm",
    "LULinear",
    "Permutation",
    "Flow",
    "KINDS",
    "fit",
    "DEFAULTS",
    "nll",
    "density_on_grid",
    "training_data",
    "PRETRAINED",
    "pretrained",
]

#: Architectures :class:`Flow` can build: couplings only (RealNVP), or Glow's step
#: (ActNorm → LU linear → coupling).
KINDS = ("realnvp", "glow")


def _check_reverse(reverse: object) -> bool:
    if not isinstance(reverse, bool):
        raise TypeError(f"reverse must be True or False; got {reverse!r}")
    return reverse


class FlowLayer(nn.Module):
    """An invertible map of ``R^dim`` with a tractable log-|det Jacobian|.

    ``layer(x)`` applies ``f`` (data → noise) and ``layer(y, reverse=True)`` applies ``f⁻¹``;
    both return ``(output, log|det ∂output/∂input|)`` with one log-determinant per row.
    """

    dim: int

    def forward(self, x: Tensor, reverse: bool = False) -> tuple[Tensor, Tensor]:
        _check_reverse(reverse)
        _check_rows(x, "x", self.dim)
        return self._inverse(x) if reverse else self._forward(x)

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def label(self) -> str:
        return type(self).__name__


def _mlp(n_in: int, n_out: int, hidden: int, depth: int) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` with ReLU; the last layer starts at zero so
    that a fresh coupling is the identity."""
    sizes = [n_in] + [hidden] * depth
    mods: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        mods += [nn.Linear(a, b), nn.ReLU()]
    last = nn.Linear(sizes[-1], n_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    mods.append(last)
    return nn.Sequential(*mods)


class AffineCoupling(FlowLayer):
    """RealNVP's affine coupling layer (Dinh, Sohl-Dickstein and Bengio, 2017).

    ``mask[i] = 1`` marks the coordinates ``x_a`` that pass through unchanged and condition the
    others; the rest, ``x_b``, are scaled and shifted:

        y_a = x_a,   y_b = x_b ⊙ exp(s(x_a)) + t(x_a),   log|det J| = Σ s(x_a),

    with ``s = bound · tanh(ŝ / bound)`` so the log-scale stays in ``(-bound, bound)``. ``(ŝ, t)``
    come from one MLP (``depth`` hidden layers of ``hidden`` units, ReLU), started at zero.
    """

    def __init__(
        self, mask: Sequence[int], hidden: int = 64, depth: int = 2, bound: float = 3.0
    ) -> None:
        super().__init__()
        if isinstance(mask, Tensor):
            mask = mask.tolist()
        if not isinstance(mask, (list, tuple)) or not all(m in (0, 1) for m in mask):
            raise ValueError(f"mask must be a list of 0s and 1s; got {mask!r}")
        mask = [int(m) for m in mask]
        if sum(mask) == 0 or sum(mask) == len(mask):
            raise ValueError(f"mask needs at least one 0 and one 1; got {mask}")
        self.dim = len(mask)
        hidden = check_int(hidden, "hidden", minimum=1)
        depth = check_int(depth, "depth", minimum=1, maximum=MAX_LAYERS)
        bound = check_real(bound, "bound", positive=True)
        self.bound = bound
        idx_a = [i for i, m in enumerate(mask) if m == 1]
        idx_b = [i for i, m in enumerate(mask) if m == 0]
        order = idx_a + idx_b
        self.register_buffer("idx_a", torch.tensor(idx_a), persistent=False)
        self.register_buffer("idx_b", torch.tensor(idx_b), persistent=False)
        # merged[:, undo] puts cat([a, b]) back into the original coordinate order.
        undo = sorted(range(self.dim), key=order.__getitem__)
        self.register_buffer("undo", torch.tensor(undo), persistent=False)
        self.mask = mask
        self.net = _mlp(len(idx_a), 2 * len(idx_b), hidden, depth)

    def scale_shift(self, x_a: Tensor) -> tuple[Tensor, Tensor]:
        """The bounded log-scale ``s`` and shift ``t`` for the conditioning part ``x_a``."""
        x_a = _check_rows(x_a, "x_a", len(self.idx_a), finite=False)
        raw, shift = self.net(x_a).chunk(2, dim=-1)
        return self.bound * torch.tanh(raw / self.bound), shift

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x_a, x_b = x.index_select(1, self.idx_a), x.index_select(1, self.idx_b)
        s, t = self.scale_shift(x_a)
        y_b = x_b * torch.exp(s) + t
        return torch.cat([x_a, y_b], 1).index_select(1, self.undo), s.sum(1)

    def _inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        y_a, y_b = y.index_select(1, self.idx_a), y.index_select(1, self.idx_b)
        s, t = self.scale_shift(y_a)
        x_b = (y_b - t) * torch.exp(-s)
        return torch.cat([y_a, x_b], 1).index_select(1, self.undo), -s.sum(1)

    def label(self) -> str:
        kept = "".join("xy"[i] if self.dim == 2 else str(i) for i in self.idx_a.tolist())
        return f"coupling (keeps {kept})"


class ActNorm(FlowLayer):
    """Glow's activation normalisation (Kingma and Dhariwal, 2018): ``y = x ⊙ exp(ℓ) + b``,
    ``log|det J| = Σ ℓ``.

    On the first call in the data direction (in training mode, with at least two rows) ``ℓ`` and
    ``b`` are set from that batch so that its output has mean 0 and standard deviation 1 in
    every coordinate — a data-dependent initialisation. ``initialized`` (a saved buffer) records
    that it happened; :meth:`initialize` does it explicitly.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.log_scale = nn.Parameter(torch.zeros(self.dim))
        self.shift = nn.Parameter(torch.zeros(self.dim))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Set ``ℓ = -log std(x)`` and ``b = -mean(x)·exp(ℓ)`` (per coordinate) from a batch."""
        x = _check_rows(x, "x", self.dim)
        if x.shape[0] < 2:
            raise ValueError("ActNorm needs at least 2 rows to initialise from data")
        std = x.std(0).clamp_min(1e-6)
        self.log_scale.copy_(-torch.log(std))
        self.shift.copy_(-x.mean(0) / std)
        self.initialized.fill_(True)

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.training and not bool(self.initialized) and x.shape[0] >= 2:
            self.initialize(x.detach())
        ldj = self.log_scale.sum().expand(x.shape[0])
        return x * torch.exp(self.log_scale) + self.shift, ldj

    def _inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        ldj = -self.log_scale.sum().expand(y.shape[0])
        return (y - self.shift) * torch.exp(-self.log_scale), ldj

    def label(self) -> str:
        return "ActNorm"


class LULinear(FlowLayer):
    """An invertible linear map ``y = W x`` with ``W = P L U`` (Glow, Kingma and Dhariwal, 2018).

    ``P`` is a fixed permutation, ``L`` unit lower triangular and ``U`` upper triangular with
    diagonal ``sign ⊙ exp(u)``, so ``log|det W| = Σ u`` costs O(dim) and the inverse is two
    triangular solves. It starts as a random rotation (``seed`` fixes which). Applied to the
    channel vector at every pixel of an h×w image it is Glow's invertible 1×1 convolution, whose
    log-determinant is ``h·w·log|det W|``.
    """

    def __init__(self, dim: int, seed: int = 0) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        seed = check_int(seed, "seed", minimum=0)
        gen = torch.Generator().manual_seed(seed)
        q, r = torch.linalg.qr(torch.randn(self.dim, self.dim, generator=gen, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))  # a Haar-random orthogonal matrix
        p, lower, upper = torch.linalg.lu(q)
        diag = torch.diagonal(upper)
        self.register_buffer("perm", p.float())
        self.register_buffer("sign", torch.sign(diag).float())
        self.lower = nn.Parameter(torch.tril(lower, -1).float())
        self.upper = nn.Parameter(torch.triu(upper, 1).float())
        self.log_diag = nn.Parameter(torch.log(diag.abs()).float())
        ones = torch.ones(self.dim, self.dim)
        self.register_buffer("lower_mask", torch.tril(ones, -1), persistent=False)
        self.register_buffer("upper_mask", torch.triu(ones, 1), persistent=False)

    def factors(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(P, L, U)`` with ``W = P @ L @ U``."""
        eye = torch.eye(self.dim, dtype=self.lower.dtype, device=self.lower.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.upper_mask + torch.diag(self.sign * torch.exp(self.log_diag))
        return self.perm, lower, upper

    def weight(self) -> Tensor:
        """The matrix ``W``."""
        p, lower, upper = self.factors()
        return p @ lower @ upper

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x @ self.weight().mT, self.log_diag.sum().expand(x.shape[0])

    def _inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        p, lower, upper = self.factors()
        # Rows: x = W^{-1} y  <=>  x^T = y^T P L^{-T} U^{-T}   (P^{-1} = P^T).
        a = torch.linalg.solve_triangular(
            lower.mT, y @ p, upper=True, left=False, unitriangular=True
        )
        x = torch.linalg.solve_triangular(upper.mT, a, upper=False, left=False)
        return x, -self.log_diag.sum().expand(y.shape[0])

    def label(self) -> str:
        return "LU linear"


class Permutation(FlowLayer):
    """``y = x[:, perm]``: reorders the coordinates; ``|det J| = 1``."""

    def __init__(self, perm: Sequence[int]) -> None:
        super().__init__()
        if isinstance(perm, Tensor):
            perm = perm.tolist()
        if not isinstance(perm, (list, tuple)) or sorted(perm) != list(range(len(perm))):
            raise ValueError(f"perm must be a permutation of 0..n-1; got {perm!r}")
        self.dim = len(perm)
        self.register_buffer("perm", torch.tensor(list(perm)), persistent=False)
        self.register_buffer("undo", torch.argsort(self.perm), persistent=False)

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x.index_select(1, self.perm), x.new_zeros(x.shape[0])

    def _inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        return y.index_select(1, self.undo), y.new_zeros(y.shape[0])

    def label(self) -> str:
        return "permutation"


def _half_mask(dim: int, flip: bool) -> list[int]:
    """Alternating (checkerboard) mask: 1 at even indices (odd ones when ``flip``)."""
    return [int(i % 2 == int(flip)) for i in range(dim)]


class Flow(GenerativeModel):
    """A normalizing flow ``z = f(x) = f_K ∘ … ∘ f_1(x)`` over the base ``N(0, I_dim)``.

    Parameters
    ----------
    dim
        Dimension of the data.
    layers
        Number of steps ``K``. ``kind="realnvp"``: ``K`` affine couplings whose masks alternate
        (the arrangement of zuko's ``RealNVP``). ``kind="glow"``: ``K`` Glow steps, each
        ActNorm → LU linear → affine coupling.
    hidden, depth
        Width and number of hidden layers of each coupling's MLP.
    bound
        Bound on each coupling's log-scale.
    seed
        Fixes the random rotations the LU layers start from.
    """

    family = "flow"

    def __init__(
        self,
        dim: int = 2,
        layers: int = 4,
        hidden: int = 64,
        depth: int = 2,
        bound: float = 3.0,
        kind: str = "glow",
        seed: int = 0,
    ) -> None:
        super().__init__(
            dim=dim, layers=layers, hidden=hidden, depth=depth, bound=bound, kind=kind, seed=seed
        )
        self.dim = check_int(dim, "dim", minimum=2)
        layers = check_int(layers, "layers", minimum=1, maximum=MAX_LAYERS)
        seed = check_int(seed, "seed", minimum=0)
        check_choice(kind, "kind", KINDS)
        steps: list[FlowLayer] = []
        for k in range(layers):
            flip = k % 2 == 1
            if kind == "glow":
                steps += [ActNorm(dim), LULinear(dim, seed=seed * 1000 + k)]
            steps.append(AffineCoupling(_half_mask(dim, flip), hidden, depth, bound))
        self.layers = nn.ModuleList(steps)

    # -- the two directions --------------------------------------------------------------------
    def _to_noise(self, x: Tensor) -> tuple[Tensor, Tensor]:
        total = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ldj = layer._forward(x)
            total = total + ldj
        return x, total

    def _to_data(self, z: Tensor) -> tuple[Tensor, Tensor]:
        total = z.new_zeros(z.shape[0])
        for layer in reversed(self.layers):
            z, ldj = layer._inverse(z)
            total = total + ldj
        return z, total

    def forward(self, x: Tensor, reverse: bool = False) -> tuple[Tensor, Tensor]:
        """``(f(x), log|det J_f(x)|)``; with ``reverse=True``, ``(f⁻¹(z), log|det J_{f⁻¹}(z)|)``."""
        _check_reverse(reverse)
        x = _check_rows(x, "z" if reverse else "x", self.dim)
        return self._to_data(x) if reverse else self._to_noise(x)

    def base_log_prob(self, z: Tensor) -> Tensor:
        """``log N(z; 0, I)``, one value per row."""
        return gaussian_log_prob(_check_rows(z, "z", self.dim))

    def _log_prob(self, x: Tensor) -> Tensor:
        z, ldj = self._to_noise(x)
        return gaussian_log_prob(z) + ldj

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p_X(x) = log N(f(x); 0, I) + log|det J_f(x)|`` (nats), one per row."""
        return self._log_prob(_check_rows(x, "x", self.dim))

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """``n`` draws ``x = f⁻¹(z)``, ``z ~ N(0, I)``, on the model's device."""
        n = check_int(n, "n", minimum=1)
        ref = next(self.parameters())
        z = torch.randn(n, self.dim, device=ref.device, dtype=ref.dtype)
        return self._to_data(z)[0]

    # -- every intermediate stage (for the figures) --------------------------------------------
    def labels(self) -> list[str]:
        """Names of the layers, in the data → noise order."""
        return [layer.label() for layer in self.layers]

    @torch.no_grad()
    def stages(self, x: Tensor) -> list[Tensor]:
        """``[x_0 = x, x_1 = f_1(x_0), …, x_K = z]``: the points after every layer."""
        x = _check_rows(x, "x", self.dim)
        out = [x]
        for layer in self.layers:
            x = layer._forward(x)[0]
            out.append(x)
        return out

    @torch.no_grad()
    def inverse_stages(self, z: Tensor) -> list[Tensor]:
        """``[z, f_K⁻¹(z), …, x = f⁻¹(z)]``: the points after every inverse layer."""
        z = _check_rows(z, "z", self.dim)
        out = [z]
        for layer in reversed(self.layers):
            z = layer._inverse(z)[0]
            out.append(z)
        return out


def nll(model: Flow, x: Tensor) -> Tensor:
    """Mean negative log-likelihood ``-mean log p_X(x)`` in nats (differentiable)."""
    if not isinstance(model, Flow):
        raise TypeError(f"model must be a Flow; got {type(model).__name__}")
    return -model.log_prob(x).mean()


#: Every default of :func:`fit`. On the chapter's two moons (8 000 points, test NLL on 20 000
#: fresh ones) these reach a lower NLL than zuko's RealNVP at its usual configuration, with a
#: spread over seeds of a few thousandths of a nat (``benchmarks/bench_quality.py --parts flows``).
DEFAULTS: dict[str, object] = {
    # number of Adam steps (mini-batches)
    "steps": 4000,
    # "realnvp" (couplings only) or "glow" (ActNorm → LU linear → coupling per step); on 2-D
    # data the couplings alone train faster and more reliably across seeds
    "kind": "realnvp",
    # number of flow steps K (couplings, alternating the coordinates they keep)
    "layers": 8,
    # width of each coupling's MLP
    "hidden": 64,
    # hidden layers of each coupling's MLP
    "depth": 2,
    # bound on each coupling's log-scale
    "bound": 3.0,
    # Adam's learning rate, decayed along a cosine to 1% of it over the run
    "lr": 2e-3,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 256,
}


def fit(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> Flow:
    """Train a :class:`Flow` on ``data`` (rows are examples) by exact maximum likelihood.

    By default a RealNVP of 8 affine couplings (two hidden layers of 64 units each), trained by
    Adam with learning rate ``lr``, decayed along a cosine to 1% of it over ``steps`` (default
    ``DEFAULTS["steps"]``, 4000) mini-batches of ``batch_size``. Every hyper-parameter (``kind``,
    ``layers``, ``hidden``, ``depth``, ``bound``, ``lr``, ``batch_size``) and its default is in
    :data:`DEFAULTS`. ActNorm layers initialise themselves from the first batch. Returns the
    model in evaluation mode, its ``history`` holding the training NLL; the caller's global
    random state is left unchanged.
    """
    h = merge_hyper(DEFAULTS, hyper)
    lr = check_lr(h["lr"])
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        model = Flow(
            dim=run.data.shape[1],
            layers=h["layers"],
            hidden=h["hidden"],
            depth=h["depth"],
            bound=h["bound"],
            kind=h["kind"],
            seed=seed,
        ).to(run.device)
        stream = batches(run.data, h["batch_size"], run.generator)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, run.steps, eta_min=lr / 100)
        model.train()

        def step(_: int) -> dict[str, Tensor]:
            loss = -model._log_prob(next(stream)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            return {"nll": loss.detach()}

        train(step, run.steps, model=model, progress=progress, desc="flow")
    return model.eval()


@torch.no_grad()
def density_on_grid(
    model: Flow, lo: Sequence[float], hi: Sequence[float], n: int = 400
) -> tuple[Tensor, Tensor, Tensor, float]:
    """A 2-D flow's density on an ``n × n`` midpoint grid over the box ``[lo, hi]``.

    Evaluated in float64 on a copy of the model. Returns ``(xs, ys, density, mass)`` where
    ``density[i, j] = p(xs[j], ys[i])`` and ``mass`` is the midpoint-rule integral over the box,
    which is close to 1 when the box holds (nearly) all of the probability.
    """
    if not isinstance(model, Flow):
        raise TypeError(f"model must be a Flow; got {type(model).__name__}")
    if model.dim != 2:
        raise ValueError(f"density_on_grid needs a 2-D flow; got dim={model.dim}")
    n = check_int(n, "n", minimum=2)
    if len(lo) != 2 or len(hi) != 2:
        raise ValueError("lo and hi must be pairs (x, y)")
    lo = [check_real(v, "lo") for v in lo]
    hi = [check_real(v, "hi") for v in hi]
    if not (lo[0] < hi[0] and lo[1] < hi[1]):
        raise ValueError(f"need lo < hi in both coordinates; got {lo}, {hi}")
    import copy

    m64 = copy.deepcopy(model).to(device="cpu", dtype=torch.float64).eval()
    hx, hy = (hi[0] - lo[0]) / n, (hi[1] - lo[1]) / n
    xs = lo[0] + hx * (torch.arange(n, dtype=torch.float64) + 0.5)
    ys = lo[1] + hy * (torch.arange(n, dtype=torch.float64) + 0.5)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    dens = torch.cat([m64._log_prob(chunk).exp() for chunk in pts.split(65536)]).reshape(n, n)
    return xs, ys, dens, float(dens.sum() * hx * hy)


# -- shipped checkpoints --------------------------------------------------------------------------
def _swiss_2d(n: int, seed: int) -> Tensor:
    from .data import swiss_roll

    pts, _ = swiss_roll(n, noise=0.3, seed=seed, device="cpu")
    return pts[:, [0, 2]] / 4.0


def training_data(name: str, n: int = 4000, seed: int = 0) -> Tensor:
    """The chapter's three 2-D training sets: ``"moons"`` (noise 0.05), ``"ring"`` (8 modes,
    radius 2, std 0.2) and ``"swissroll"`` (the (x, z) projection of the swiss roll with noise
    0.3, divided by 4); CPU float32."""
    from .data import moons, ring

    n = check_int(n, "n", minimum=2)
    if name == "moons":
        return moons(n, noise=0.05, seed=seed, device="cpu")
    if name == "ring":
        return ring(n, std=0.2, seed=seed, device="cpu")
    if name == "swissroll":
        return _swiss_2d(n, seed)
    raise ValueError(f"name must be 'moons', 'ring' or 'swissroll'; got {name!r}")


def _pretrain(name: str) -> Flow:
    """The chapter's flow for ``name``: the default :func:`fit` (seed 0) on 8 000 points."""
    return fit(training_data(name, 8000, seed=1), seed=0, device="cpu", progress=False)


#: Checkpoints shipped with the book (``python -m companion.pretrain flow_moons`` retrains one).
PRETRAINED = {
    "flow_moons": lambda: _pretrain("moons"),
    "flow_ring": lambda: _pretrain("ring"),
    "flow_swissroll": lambda: _pretrain("swissroll"),
}


def pretrained(name: str, *, device=None) -> Flow:
    """Load the shipped flow for ``"moons"``, ``"ring"`` or ``"swissroll"`` (hash-checked)."""
    check_choice(name, "name", ("moons", "ring", "swissroll"))
    return load_pretrained(f"flow_{name}", Flow, device=device)


# == moved from explore/flows.py ==
# The chapter's one-dimensional sinh–arcsinh flow (its density and the reciprocal-determinant
# slip), and what the figures of the trained 2-D flows show: the points after every layer with
# the accumulated log-determinant, and seeded samples.


def _check_delta(delta: object) -> float:
    delta = check_real(delta, "delta", positive=True)
    return delta


def sinh_arcsinh(x, eps: float, delta: float, *, reverse: bool = False):
    """``(f(x), log f'(x))`` for the sinh–arcsinh flow ``f(x) = sinh(δ arcsinh(x) − ε)``
    (``reverse=True``: ``f⁻¹`` and ``log (f⁻¹)'``). Works on NumPy arrays and on torch tensors."""
    import numpy as np

    eps, delta = check_real(eps, "eps"), _check_delta(delta)
    x = (
        check_tensor(x, "x", allow_empty=True)
        if isinstance(x, torch.Tensor)
        else check_array(x, "x")
    )
    lib = torch if isinstance(x, torch.Tensor) else np
    if reverse:
        inner = (lib.arcsinh(x) + eps) / delta
        return lib.sinh(inner), lib.log(lib.cosh(inner) / delta) - 0.5 * lib.log1p(x * x)
    inner = delta * lib.arcsinh(x) - eps
    return lib.sinh(inner), math.log(delta) + lib.log(lib.cosh(inner)) - 0.5 * lib.log1p(x * x)


def monotone_density(x, eps: float, delta: float, *, slip: bool = False):
    """The density of ``X = f⁻¹(Z)``, ``Z ~ N(0, 1)``, for the sinh–arcsinh ``f``:
    ``p_X(x) = φ(f(x)) · f'(x)`` (the change of variables, written out: it is what the chapter's
    figure teaches).

    With ``slip=True`` it returns the wrong formula ``φ(f(x)) / f'(x)`` (the determinant of
    the other direction), which is not a density in general.
    """
    import numpy as np

    z, log_slope = sinh_arcsinh(x, eps, delta)
    lib = torch if isinstance(x, torch.Tensor) else np
    log_phi = -0.5 * z * z - 0.5 * math.log(2 * math.pi)
    return lib.exp(log_phi - log_slope if slip else log_phi + log_slope)


def monotone_mass(eps: float, delta: float, lo: float, hi: float, *, n: int = 4001,
                  slip: bool = False) -> float:  # fmt: skip
    """∫ :func:`monotone_density` over ``[lo, hi]`` by the trapezoidal rule on ``n`` points."""
    import numpy as np

    lo, hi = check_real(lo, "lo"), check_real(hi, "hi")
    if not lo < hi:
        raise ValueError(f"need lo < hi; got {lo}, {hi}")
    grid = np.linspace(lo, hi, check_int(n, "n", minimum=2))
    return float(np.trapezoid(monotone_density(grid, eps, delta, slip=slip), grid))


@torch.no_grad()
def stage_log_dets(model: Flow, x: Tensor) -> tuple[list[Tensor], list[float]]:
    """The points after every layer (:meth:`Flow.stages`) and the mean over the rows of the
    log-determinant accumulated up to each stage (0 for the data, ``mean log|det J_f|`` last)."""
    if not isinstance(model, Flow):
        raise TypeError(f"model must be a Flow; got {type(model).__name__}")
    stages = model.stages(x)
    ldj = [torch.zeros(x.shape[0], device=x.device)]
    for layer, before in zip(model.layers, stages[:-1], strict=True):
        ldj.append(ldj[-1] + layer._forward(before)[1])
    return stages, [float(v.mean()) for v in ldj]


@torch.no_grad()
def sample_seeded(model: Flow, n: int, seed: int = 0) -> Tensor:
    """``n`` draws of the flow from noise drawn with a private CPU generator seeded with
    ``seed`` (the same noise on every device; the caller's random state is left alone)."""
    if not isinstance(model, Flow):
        raise TypeError(f"model must be a Flow; got {type(model).__name__}")
    n = check_int(n, "n", minimum=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    ref = next(model.parameters())
    z = torch.randn(n, model.dim, generator=gen, dtype=ref.dtype).to(ref.device)
    return model._to_data(z)[0]


__all__ += ["sinh_arcsinh", "monotone_density", "monotone_mass", "stage_log_dets", "sample_seeded"]
