"""Generative adversarial networks: the chapter "Generative adversarial networks" in code.

Conventions (the book's, stated once here):

* The discriminator returns a **logit** :math:`a(x) \\in \\mathbb R`; its probability of "real" is
  :math:`D(x) = \\sigma(a(x))`. Every loss is written in terms of logits with ``softplus``, so
  nothing is ever computed as ``log(sigmoid(·))`` (which underflows to −∞).
* Logarithms are natural (nats); :math:`\\log 4 = 2 \\log 2`.
* The generator maps a latent :math:`z \\sim \\mathcal N(0, I_d)` to :math:`x = G(z)`.
* A WGAN's "discriminator" is a *critic* :math:`f(x) \\in \\mathbb R` (no sigmoid).

Losses (``loss=`` of :func:`fit`; each is minimised by the player named):

=================  ===========================================  ================================
``loss``           discriminator / critic                       generator
=================  ===========================================  ================================
``"minimax"``      :math:`-\\log D(x) - \\log(1 - D(G(z)))`       :math:`\\log(1 - D(G(z)))`
``"nonsaturating"`` same                                        :math:`-\\log D(G(z))`
``"wgan"``         :math:`f(G(z)) - f(x)`, weights clipped       :math:`-f(G(z))`
``"wgan-gp"``      same + :math:`\\lambda(\\lVert\\nabla f(\\hat x)\\rVert - 1)^2`  :math:`-f(G(z))`
``"kl"`` etc.      :math:`-T(x) + f^*(T(G(z)))`                   :math:`-f^*(T(G(z)))`
=================  ===========================================  ================================

The f-GANs (``"kl"``, ``"reverse-kl"``, ``"pearson"``; :data:`F_DIVERGENCES`) play the game of
the variational bound eq-gan-fgan-bound, :math:`D_f(p_{data} \\| p_g) \\ge \\mathbb E_{p_{data}} T
- \\mathbb E_{p_g} f^*(T)`, with :math:`T = g_f(v)` the network's output :math:`v` sent into the
domain of :math:`f^*` (:func:`fgan_terms`): the discriminator maximises the bound, the generator
minimises it (its only term, :math:`-\\mathbb E f^*(T(G(z)))`). The original GAN is the
Jensen–Shannon member (``"minimax"``; thm-gan-fgan-js).

(eq-gan-value, eq-gan-ns, eq-gan-wgan, eq-gan-gp in the chapter.) The closed forms the chapter
verifies — the optimal discriminator (eq-gan-dstar), the value C(G) = −log 4 + 2 JS
(eq-gan-cg) and the generator's gradient magnitudes (eq-gan-grad) — are
:func:`optimal_discriminator_logit`, :func:`virtual_criterion` and
:func:`generator_logit_gradient`.

The family contract (see :mod:`companion.models`)::

    model = gan.fit(data, steps=None, seed=0, device=None, progress=True, **hyper)
    model.sample(n)                        # from the averaged (EMA) generator
    gan.fit(images, labels=y, ...)         # a conditional GAN (one-hot label into both nets)
"""

from __future__ import annotations

import copy
import json
import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import get_ema_multi_avg_fn

from ._validate import (
    check_broadcastable,
    check_choice,
    check_int,
    check_real,
    check_rows,
    check_tensor,
)
from .device import resolve_device
from .models import (
    FitRun,
    GenerativeModel,
    batch_indices,
    check_fit_args,
    check_labels,
    check_lr,
    fit_run,
    merge_hyper,
    seeded,
    train,
)

__all__ = [
    "LOSSES",
    "F_DIVERGENCES",
    "fgan_terms",
    "lipschitz_estimate",
    "STABILISERS",
    "STABILISER_LABELS",
    "fit_stabiliser",
    "save_stabilisers",
    "load_stabilisers",
    "stabiliser_results",
    "summarise_stabilisers",
    "stabiliser_samples",
    "discriminator_loss",
    "generator_loss",
    "gradient_penalty",
    "r1_penalty",
    "optimal_discriminator_logit",
    "virtual_criterion",
    "generator_logit_gradient",
    "train_discriminator",
    "GAN",
    "fit",
    "DEFAULTS",
    "PRETRAINED",
    "CRITERION_GRID",
    "DSTAR_MIX",
    "DSTAR_GENERATOR",
    "CRITIC_PAIR",
    "log_normal",
    "criterion_values",
    "criterion_curve",
    "dstar_experiment",
    "critic_experiment",
    "penalty_of_linear_critic",
    "centers_for",
    "snapshot_metrics",
    "gda_paths",
]

#: The f-GAN losses: f-divergences D_f(p_data ‖ p_g) = E_{p_g} f(p_data / p_g) of the
#: divergences chapter, each with f, its convex conjugate f* and the output activation g_f that
#: maps the network's output v into the domain of f* (Nowozin et al. 2016, table 2).
F_DIVERGENCES = {
    "kl": "KL(p_data ‖ p_g): f(u) = u log u, f*(t) = exp(t − 1), T = v",
    "reverse-kl": "KL(p_g ‖ p_data): f(u) = −log u, f*(t) = −1 − log(−t), T = −exp(−v)",
    "pearson": "Pearson χ²: f(u) = (u − 1)², f*(t) = t²/4 + t (t ≥ −2; −1 below), T = v",
}
LOSSES = ("minimax", "nonsaturating", "wgan", "wgan-gp", *F_DIVERGENCES)
LOG4 = math.log(4.0)


def _check_loss(loss: object) -> str:
    check_choice(loss, "loss", LOSSES)
    return loss  # type: ignore[return-value]


# -- losses ----------------------------------------------------------------------------------------
def discriminator_loss(real: Tensor, fake: Tensor, loss: str = "nonsaturating") -> Tensor:
    """The discriminator's (critic's) loss from its outputs on a real and a generated batch.

    For ``"minimax"`` and ``"nonsaturating"`` the outputs are logits and the loss is the binary
    cross-entropy :math:`-\\overline{\\log D(x)} - \\overline{\\log(1 - D(G(z)))}` (the negated
    value function eq-gan-value), written ``softplus(-a_real) + softplus(a_fake)``. For the WGANs
    it is :math:`\\overline{f(G(z))} - \\overline{f(x)}` (eq-gan-wgan); the penalty is separate
    (:func:`gradient_penalty`). For an f-GAN (``"kl"``, ``"reverse-kl"``, ``"pearson"``) it is
    the negated variational bound :math:`-\\overline{T(x)} + \\overline{f^*(T(G(z)))}`
    (eq-gan-fgan-bound) with :math:`T` from :func:`fgan_terms`."""
    loss = _check_loss(loss)
    real = check_tensor(real, "real", min_ndim=1)
    fake = check_tensor(fake, "fake", min_ndim=1)
    if loss in ("wgan", "wgan-gp"):
        return fake.mean() - real.mean()
    if loss in F_DIVERGENCES:
        return fgan_terms(fake, loss)[1].mean() - fgan_terms(real, loss)[0].mean()
    return F.softplus(-real, threshold=40).mean() + F.softplus(fake, threshold=40).mean()


def generator_loss(fake: Tensor, loss: str = "nonsaturating") -> Tensor:
    """The generator's loss from the discriminator's logits (or critic values) on ``G(z)``.

    ``"minimax"``: :math:`\\overline{\\log(1 - D(G(z)))} = -\\overline{\\mathrm{softplus}(a)}`
    (saturating: flat where D rejects the fakes); ``"nonsaturating"``:
    :math:`-\\overline{\\log D(G(z))} = \\overline{\\mathrm{softplus}(-a)}`; WGANs:
    :math:`-\\overline{f(G(z))}`; f-GANs: the generator's part of the bound,
    :math:`-\\overline{f^*(T(G(z)))}` (the saddle-point game, which minimises D_f itself)."""
    loss = _check_loss(loss)
    fake = check_tensor(fake, "fake", min_ndim=1)
    if loss == "minimax":
        return -F.softplus(fake, threshold=40).mean()
    if loss == "nonsaturating":
        return F.softplus(-fake, threshold=40).mean()
    if loss in F_DIVERGENCES:
        return -fgan_terms(fake, loss)[1].mean()
    return -fake.mean()


def fgan_terms(v: Tensor, loss: str) -> tuple[Tensor, Tensor]:
    """``(T, f*(T))`` of an f-GAN for network outputs ``v`` (see :data:`F_DIVERGENCES`):
    :math:`T = g_f(v)` lies in the domain of the conjugate and :math:`f^*(T)` is written in terms
    of ``v`` where that is more stable (reverse KL: :math:`f^*(-e^{-v}) = v - 1`)."""
    check_choice(loss, "loss", tuple(F_DIVERGENCES))
    v = check_tensor(v, "v", min_ndim=1)
    if loss == "kl":
        return v, torch.exp(v - 1)
    if loss == "reverse-kl":
        return -torch.exp(-v), v - 1
    # sup over u > 0 of (u t − (u − 1)²): at u = 1 + t/2 when t ≥ −2, else at u → 0.
    return v, torch.where(v >= -2, v * v / 4 + v, -torch.ones_like(v))


def _output_gradient(out: Tensor, x: Tensor) -> Tensor:
    """∇_x of each row's output, flattened to ``(n, features)``; ``out`` was computed from ``x``."""
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1)


def _input_gradient(net, x: Tensor, *extra) -> Tensor:
    x = x.detach().requires_grad_(True)
    return _output_gradient(net(x, *extra), x)


def _r1_from(out: Tensor, x: Tensor) -> Tensor:
    """E‖∇_x a(x)‖² from discriminator outputs ``out`` already computed on ``x``."""
    return _output_gradient(out, x).pow(2).sum(dim=1).mean()


def gradient_penalty(
    critic, real: Tensor, fake: Tensor, *extra, generator: torch.Generator | None = None
) -> Tensor:
    """WGAN-GP's penalty :math:`\\mathbb E (\\lVert \\nabla_x f(\\hat x) \\rVert_2 - 1)^2` at
    :math:`\\hat x = \\epsilon x + (1 - \\epsilon) G(z)`, :math:`\\epsilon \\sim U[0, 1]` per row
    (eq-gan-gp; multiply by λ yourself). ``extra`` is passed on to ``critic`` (the one-hot labels
    of a conditional critic). Differentiable with respect to the critic's parameters."""
    real = check_tensor(real, "real", min_ndim=2)
    fake = check_tensor(fake, "fake", min_ndim=2)
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake must have the same shape; got {tuple(real.shape)} and "
            f"{tuple(fake.shape)}"
        )
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(shape, generator=generator, dtype=real.dtype).to(real.device)
    mixed = eps * real.detach() + (1 - eps) * fake.detach()
    norms = _input_gradient(critic, mixed, *extra).norm(dim=1)
    return (norms - 1).pow(2).mean()


def r1_penalty(discriminator, real: Tensor, *extra) -> Tensor:
    """The R1 penalty :math:`\\mathbb E_{p_{data}} \\lVert \\nabla_x a(x) \\rVert_2^2` on real data
    (eq-gan-r1; multiply by γ/2 yourself): it flattens the discriminator where the data are, so
    the generator is not pushed past them and training settles instead of circling."""
    real = check_tensor(real, "real", min_ndim=2).detach().requires_grad_(True)
    return _r1_from(discriminator(real, *extra), real)


# -- closed forms of the theory -------------------------------------------------------------------
def optimal_discriminator_logit(log_p_data: Tensor, log_p_g: Tensor) -> Tensor:
    """The logit of the optimal discriminator D* = p_data / (p_data + p_g) (eq-gan-dstar),
    from the two log-densities: :math:`\\log p_{data} - \\log p_g`. Working with logits keeps
    :math:`\\log D^* = -\\mathrm{softplus}(-\\text{logit})` and
    :math:`\\log(1 - D^*) = -\\mathrm{softplus}(\\text{logit})` finite where a density underflows.
    Where both densities are zero (−∞) D* is not defined and the result is NaN."""
    log_p_data = check_tensor(log_p_data, "log_p_data", allow_inf=True)
    log_p_g = check_tensor(log_p_g, "log_p_g", allow_inf=True)
    if (log_p_data.detach() == math.inf).any() or (log_p_g.detach() == math.inf).any():
        raise ValueError("log-densities must be < +inf")
    check_broadcastable(log_p_data, log_p_g, "log_p_data", "log_p_g")
    return log_p_data - log_p_g


def virtual_criterion(log_p_data: Tensor, log_p_g: Tensor, dx: float) -> Tensor:
    """C(G) = max_D V(D, G) (eq-gan-cg's left side) by quadrature on an even grid of spacing
    ``dx``: :math:`\\sum_i [p_{data}(x_i) \\log D^*(x_i) + p_g(x_i) \\log(1 - D^*(x_i))]\\,dx`,
    with D* in log space (:func:`optimal_discriminator_logit`). Points where a density is zero
    contribute nothing."""
    dx = check_real(dx, "dx", positive=True)
    logit = optimal_discriminator_logit(log_p_data, log_p_g)
    if logit.shape != log_p_data.shape or logit.shape != log_p_g.shape:
        raise ValueError("log_p_data and log_p_g must have the same shape")
    both = torch.isfinite(logit)
    safe = torch.where(both, logit, torch.zeros_like(logit))
    # Where only one density is positive, D* is 1 (or 0) there and its own term is log 1 = 0.
    term_data = torch.where(
        both, log_p_data.exp() * -F.softplus(-safe, threshold=40), torch.zeros_like(safe)
    )
    term_g = torch.where(
        both, log_p_g.exp() * -F.softplus(safe, threshold=40), torch.zeros_like(safe)
    )
    return (term_data + term_g).sum() * dx


def generator_logit_gradient(d: Tensor, loss: str) -> Tensor:
    """The derivative of the per-sample generator loss with respect to the discriminator's logit
    :math:`a`, as a function of :math:`d = D(G(z)) = \\sigma(a)` (eq-gan-grad):
    ``"minimax"`` (loss log(1 − D)): :math:`-d`; ``"nonsaturating"`` (loss −log D): :math:`d - 1`.
    Everything the generator learns flows through this factor (chain rule)."""
    d = check_tensor(d, "d")
    if ((d < 0) | (d > 1)).any():
        raise ValueError("d = D(G(z)) is a probability and must lie in [0, 1]")
    if loss == "minimax":
        return -d
    if loss == "nonsaturating":
        return d - 1
    raise ValueError(f"loss must be 'minimax' or 'nonsaturating'; got {loss!r}")


# -- the networks ----------------------------------------------------------------------------------
class _MLP(nn.Module):
    """An MLP whose input is ``x`` with an optional one-hot label appended.

    With ``minibatch_std`` the last layer also sees one number per batch: the standard deviation
    of each last-hidden feature across the batch, averaged over the features (Karras et al.
    2018), so a discriminator can tell a batch of near-copies from a varied one."""

    def __init__(
        self,
        sizes: list[int],
        *,
        spectral: bool = False,
        out: str = "identity",
        minibatch_std: bool = False,
    ):
        super().__init__()
        self.minibatch_std = minibatch_std
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            last = i == len(sizes) - 2
            lin = nn.Linear(a + int(last and minibatch_std), b)
            layers.append(nn.utils.parametrizations.spectral_norm(lin) if spectral else lin)
            if not last:
                layers.append(nn.ReLU())
        if out == "sigmoid":
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    @staticmethod
    def _joined(x: Tensor, onehot: Tensor | None) -> Tensor:
        return x if onehot is None else torch.cat([x, onehot], dim=1)

    def features(self, x: Tensor, onehot: Tensor | None = None) -> Tensor:
        """The last hidden layer's activations (what feature matching compares)."""
        return self.net[:-1](self._joined(x, onehot))

    def forward(self, x: Tensor, onehot: Tensor | None = None) -> Tensor:
        if not self.minibatch_std:
            return self.net(self._joined(x, onehot))
        h = self.features(x, onehot)
        # √(var + 1e-8): a feature that is constant over the batch (a dead ReLU) has std 0,
        # where the square root's derivative is infinite.
        spread = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return self.net[-1](torch.cat([h, spread.expand(h.shape[0], 1)], dim=1))


class GAN(GenerativeModel):
    """A GAN with MLP generator and discriminator (critic).

    Parameters
    ----------
    data_dim, latent_dim
        D and d (the generator maps R^d → R^D).
    hidden
        Widths of the hidden layers, the same for both networks (ReLU between layers).
    n_classes
        0 for an unconditional GAN; otherwise a label 0..n_classes−1 enters both networks one-hot
        (a conditional GAN) and :meth:`sample` needs ``labels``.
    output
        ``"identity"`` (real-valued data) or ``"sigmoid"`` (data in [0, 1], such as grey levels).
    spectral_norm
        Spectral normalisation of every discriminator layer.
    minibatch_std
        The discriminator's last layer also sees the batch's spread (see :class:`_MLP`); its
        output for a row then depends on the rest of the batch.
    n_snapshots, snapshot_size
        Room for snapshots of the generator's samples during training (the chapter's iteration
        slider): ``snapshots[k]`` holds ``snapshot_size`` samples from a fixed batch of latents
        after ``snapshot_steps[k]`` steps. They are buffers, so they travel with the checkpoint.

    :meth:`sample` draws from ``generator_ema``, the exponential moving average of the
    generator's weights kept by :func:`fit` (equal to the generator when ``ema=0``).
    """

    family = "gan"

    def __init__(
        self,
        data_dim: int,
        latent_dim: int = 16,
        hidden: list[int] | tuple[int, ...] = (128, 128, 128),
        n_classes: int = 0,
        output: str = "identity",
        spectral_norm: bool = False,
        n_snapshots: int = 0,
        snapshot_size: int = 0,
        minibatch_std: bool = False,
    ) -> None:
        data_dim = check_int(data_dim, "data_dim", minimum=1)
        latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (list, tuple)):
            raise TypeError(f"hidden must be a list of layer widths; got {hidden!r}")
        hidden = [check_int(h, "hidden width", minimum=1) for h in hidden]
        n_classes = check_int(n_classes, "n_classes", minimum=0)
        check_choice(output, "output", ("identity", "sigmoid"))
        for name, flag in (("spectral_norm", spectral_norm), ("minibatch_std", minibatch_std)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False; got {flag!r}")
        n_snapshots = check_int(n_snapshots, "n_snapshots", minimum=0)
        snapshot_size = check_int(snapshot_size, "snapshot_size", minimum=0)
        super().__init__(
            data_dim=data_dim,
            latent_dim=latent_dim,
            hidden=hidden,
            n_classes=n_classes,
            output=output,
            spectral_norm=spectral_norm,
            n_snapshots=n_snapshots,
            snapshot_size=snapshot_size,
            # stored only when set, so a model without it saves the same config as before the
            # option existed (and its checkpoint the same bytes)
            **({"minibatch_std": True} if minibatch_std else {}),
        )
        self.data_dim, self.latent_dim, self.n_classes = data_dim, latent_dim, n_classes
        self.generator = _MLP([latent_dim + n_classes, *hidden, data_dim], out=output)
        self.discriminator = _MLP(
            [data_dim + n_classes, *hidden, 1], spectral=spectral_norm, minibatch_std=minibatch_std
        )
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        # The networks work in standardised coordinates u = (x − shift) / scale; fit sets the
        # two from the data (the identity for a model built by hand).
        self.register_buffer("shift", torch.zeros(data_dim))
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("snapshots", torch.zeros(n_snapshots, snapshot_size, data_dim))
        self.register_buffer("snapshot_steps", torch.zeros(n_snapshots, dtype=torch.int64))

    def onehot(self, labels: Tensor | None, n: int) -> Tensor | None:
        """One-hot rows for ``labels`` (None for an unconditional GAN), checked."""
        if self.n_classes == 0:
            if labels is not None:
                raise ValueError("this GAN is unconditional; do not pass labels")
            return None
        if labels is None:
            raise ValueError(f"this GAN is conditional ({self.n_classes} classes): pass labels")
        if not isinstance(labels, Tensor) or labels.dtype != torch.int64 or labels.ndim != 1:
            raise TypeError("labels must be a 1-D int64 tensor")
        if labels.shape[0] != n:
            raise ValueError(f"labels must have {n} entries; got {labels.shape[0]}")
        if ((labels < 0) | (labels >= self.n_classes)).any():
            raise ValueError(f"labels must lie in 0..{self.n_classes - 1}")
        return F.one_hot(labels.to(self.device), self.n_classes).float()

    def generate(self, z: Tensor, labels: Tensor | None = None, *, averaged: bool = True) -> Tensor:
        """G(z) for given latents (rows of ``z``), from the averaged generator by default."""
        z = check_tensor(z, "z", ndim=2)
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} columns; got {z.shape[1]}")
        net = self.generator_ema if averaged else self.generator
        return self._to_data(net(z.to(self.device), self.onehot(labels, z.shape[0])))

    def _to_data(self, u: Tensor) -> Tensor:
        return u if self.config["output"] == "sigmoid" else u * self.scale + self.shift

    def _to_unit(self, x: Tensor) -> Tensor:
        return x if self.config["output"] == "sigmoid" else (x - self.shift) / self.scale

    @torch.no_grad()
    def sample(
        self,
        n: int,
        labels: Tensor | None = None,
        *,
        averaged: bool = True,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``n`` samples G(z), z ~ N(0, I) (drawn on the CPU with ``generator`` if given)."""
        n = check_int(n, "n", minimum=1)
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.generate(z, labels, averaged=averaged)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """The discriminator's logit (a WGAN critic's value) for each row of ``x``; shape (n,)."""
        x = check_tensor(x, "x", ndim=2)
        if x.shape[1] != self.data_dim:
            raise ValueError(f"x must have {self.data_dim} columns; got {x.shape[1]}")
        u = self._to_unit(x.to(self.device))
        return self.discriminator(u, self.onehot(labels, x.shape[0])).squeeze(1)


# -- training --------------------------------------------------------------------------------------
#: Every default of :func:`fit`: the configuration that worked best on the 2-D sets in
#: ``benchmarks/bench_gan.py`` and ``benchmarks/bench_stabilisers.py`` (the KL f-GAN game, which
#: beat the non-saturating one on both sets, R1 on real data with γ going from 0.1 to
#: 0.001, Adam with β1 = 0, linear learning-rate decay, EMA of the generator's weights; a 2-D
#: latent, 8000 steps on batches of 256; data standardised and the generator's initial output
#: spread set to 1). Batches of 256 rather than 64 cost about 1.9 times as much per step and
#: raised the grid's high-quality share from about 69 % to 88 % and its modes covered from 20–22
#: to 25 of 25 (seeds 0–2); more steps at 64 or 128 helped less for the same time, and a larger
#: EMA decay, a smaller learning rate, β1 = 0.5, a deeper network, an 8-D latent or a different
#: R1 schedule did not help. :data:`LOSS_DEFAULTS` says what another ``loss`` changes.
DEFAULTS: dict[str, object] = {
    # number of steps (each: n_critic discriminator updates, then one generator update)
    "steps": 8000,
    # the game: "kl" (the f-GAN of KL(p_data ‖ p_g), which measured best on the ring and the
    # grid in benchmarks/bench_stabilisers.py), "nonsaturating", "minimax", "wgan", "wgan-gp",
    # "reverse-kl" or "pearson" (see LOSSES and the module docstring)
    "loss": "kl",
    # dimension d of the latent z ~ N(0, I_d)
    "latent_dim": 2,
    # widths of the hidden layers of both networks (ReLU between layers)
    "hidden": (128, 128, 128),
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 256,
    # learning rate of both optimisers (decayed linearly to 0 over the run when decay=True)
    "lr": 1e-3,
    # Adam's (β1, β2)
    "betas": (0.0, 0.99),
    # "adam" or "rmsprop"
    "optimizer": "adam",
    # lower the learning rate linearly to zero over the run
    "decay": True,
    # discriminator (critic) updates per generator update
    "n_critic": 1,
    # γ of the R1 penalty γ/2·E‖∇a(x)‖² on real data (0: off)
    "r1": 0.1,
    # γ moves geometrically from r1 to r1_end over the run (None: constant γ)
    "r1_end": 0.001,
    # apply R1 on every k-th discriminator step only, with γ·k (saves the double backward)
    "r1_every": 1,
    # λ of WGAN-GP's gradient penalty
    "gp": 10.0,
    # the original WGAN's clipping bound c (critic weights kept in [−c, c])
    "clip": 0.01,
    # decay of the moving average of the generator's weights that sample() uses (0: none)
    "ema": 0.99,
    # spectral normalisation of every discriminator layer
    "spectral_norm": False,
    # the discriminator's last layer also sees the batch's feature spread (minibatch std)
    "minibatch_std": False,
    # the generator minimises ‖mean φ(x) − mean φ(G(z))‖² over the discriminator's last hidden
    # features φ instead of its loss (feature matching)
    "feature_matching": False,
    # the discriminator's learning rate (None: lr); another value gives two time scales (TTUR)
    "lr_d": None,
    # "identity" (real-valued data, standardised) or "sigmoid" (data in [0, 1])
    "output": "identity",
    # number of stored snapshots of the generator's samples during training (0: none)
    "n_snapshots": 0,
    # samples per snapshot
    "snapshot_size": 500,
}

#: What changes when another loss is asked for (the settings of the papers that introduced them:
#: the original GAN with Adam and no regulariser; WGAN with RMSProp, lr 5e-5, 5 critic steps and
#: clipping at 0.01; WGAN-GP with Adam(1e-4, β = (0.5, 0.9)), 5 critic steps and λ = 10).
LOSS_DEFAULTS: dict[str, dict[str, object]] = {
    "minimax": {
        "r1": 0.0,
        "r1_end": None,
        "ema": 0.0,
        "decay": False,
        "lr": 2e-4,
        "betas": (0.5, 0.999),
    },
    "nonsaturating": {},
    "wgan": {
        "r1": 0.0,
        "r1_end": None,
        "optimizer": "rmsprop",
        "lr": 5e-5,
        "n_critic": 5,
        "decay": False,
        "ema": 0.0,
    },
    "wgan-gp": {"r1": 0.0, "r1_end": None, "lr": 1e-4, "betas": (0.5, 0.9), "n_critic": 5},
    # the f-GANs keep the non-saturating GAN's training recipe: only the game changes
    "kl": {},
    "reverse-kl": {},
    "pearson": {},
}


def _hyper(hyper: dict) -> dict:
    loss = _check_loss(hyper.get("loss", DEFAULTS["loss"]))
    h = merge_hyper({**DEFAULTS, **LOSS_DEFAULTS[loss]}, hyper)
    h["lr"] = check_lr(h["lr"])
    h["lr_d"] = h["lr"] if h["lr_d"] is None else check_lr(h["lr_d"])
    for key in ("minibatch_std", "feature_matching", "decay"):
        if not isinstance(h[key], bool):
            raise TypeError(f"{key} must be True or False; got {h[key]!r}")
    for key in ("r1", "gp", "clip"):
        h[key] = check_real(h[key], key, low=0)
    h["ema"] = check_real(h["ema"], "ema", low=0, high=1, high_open=True)
    if h["r1_end"] is not None:
        h["r1_end"] = check_real(h["r1_end"], "r1_end (None for a constant γ)", positive=True)
    betas = h["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair of numbers; got {betas!r}")
    h["betas"] = tuple(check_real(b, "betas entry", low=0, high=1, high_open=True) for b in betas)
    check_choice(h["optimizer"], "optimizer", ("adam", "rmsprop"))
    for key in ("batch_size", "n_critic", "r1_every"):
        h[key] = check_int(h[key], key, minimum=1)
    h["n_snapshots"] = check_int(h["n_snapshots"], "n_snapshots", minimum=0)
    h["snapshot_size"] = check_int(h["snapshot_size"], "snapshot_size", minimum=1)
    return h


def _optimizer(params, h: dict, lr: float) -> torch.optim.Optimizer:
    if h["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=h["betas"])


def _linear_decay(steps: int, decay: bool = True):
    """The learning-rate factor of step ``i`` for ``LambdaLR``: 1 − i / steps (1 when not
    ``decay``). (``LinearLR`` gives the same schedule, but by a recursive product whose rounding
    differs in the last bits, which would change the shipped checkpoints.)"""

    def factor(i: int) -> float:
        return 1 - i / steps if decay else 1.0

    return factor


def _build(x: Tensor, h: dict, n_classes: int, device: torch.device) -> GAN:
    """The GAN of :func:`fit` for data ``x``; for real-valued data the data's shift and scale
    are stored and the generator's initial output spread is set to 1 in those units."""
    n_snap = h["n_snapshots"]
    model = GAN(
        x.shape[1],
        latent_dim=h["latent_dim"],
        hidden=list(h["hidden"]),
        n_classes=n_classes,
        output=h["output"],
        spectral_norm=h["spectral_norm"],
        minibatch_std=h["minibatch_std"],
        n_snapshots=n_snap,
        snapshot_size=h["snapshot_size"] if n_snap else 0,
    ).to(device)
    if h["output"] == "identity":
        _standardise(model, x, device)
    return model


@torch.no_grad()
def _standardise(model: GAN, x: Tensor, device: torch.device) -> None:
    # One scale for all coordinates, so shapes are kept; a generator that starts as a tiny blob
    # at the centre of the ring sits where the discriminator's gradient vanishes by symmetry.
    G = model.generator
    model.shift.copy_(x.mean(0))
    model.scale.copy_(x.std().clamp(min=1e-8))
    last = [m for m in G.modules() if isinstance(m, nn.Linear)][-1]
    probe = torch.randn(1024, model.latent_dim, device=device)
    probe_y = torch.zeros(1024, dtype=torch.int64, device=device) if model.n_classes else None
    spread = G(probe, model.onehot(probe_y, 1024)).std()
    last.weight.div_(spread)
    last.bias.zero_()
    model.generator_ema.load_state_dict(G.state_dict())


class _Training:
    """The state of one :func:`fit` run (standardised data ``u``, optimisers, schedules, EMA,
    snapshot latents) and its named steps; :meth:`step` is one training step."""

    def __init__(self, model: GAN, u: Tensor, y: Tensor | None, h: dict, run: FitRun):
        self.model, self.u, self.y, self.h, self.steps = model, u, y, h, run.steps
        self.device = run.device
        self.rows = batch_indices(u.shape[0], h["batch_size"], run.generator, run.device)
        G, D = model.generator, model.discriminator
        self.opt_g = _optimizer(G.parameters(), h, h["lr"])
        self.opt_d = _optimizer(D.parameters(), h, h["lr_d"])
        factor = _linear_decay(run.steps, h["decay"])
        self.schedules = [LambdaLR(o, factor) for o in (self.opt_g, self.opt_d)]
        self.ema = get_ema_multi_avg_fn(h["ema"])
        self.ema_params = list(model.generator_ema.parameters())
        n_snap = h["n_snapshots"]
        self.snap_at = {round(k * run.steps / max(n_snap - 1, 1)): k for k in range(n_snap)}
        # The snapshot latents have their own generator, so that taking snapshots leaves
        # training unchanged.
        snap_gen = torch.Generator().manual_seed(run.seed + 1)
        self.z_snap = torch.randn(h["snapshot_size"], model.latent_dim, generator=snap_gen)
        self.z_snap = self.z_snap.to(run.device)
        self.y_snap = None
        if model.n_classes:
            self.y_snap = torch.arange(h["snapshot_size"], device=run.device) % model.n_classes

    def draw(self) -> tuple[Tensor, Tensor | None, Tensor]:
        """A mini-batch of standardised data, its one-hot labels (or None) and fresh latents."""
        rows = next(self.rows)
        onehot = None if self.y is None else F.one_hot(self.y[rows], self.model.n_classes).float()
        z = torch.randn(rows.shape[0], self.model.latent_dim, device=self.device)
        return self.u[rows], onehot, z

    @torch.no_grad()
    def snapshot(self, i: int) -> None:
        """Store the raw generator's samples of the fixed latents if step ``i`` is a snapshot."""
        if i in self.snap_at:
            model, k = self.model, self.snap_at[i]
            onehot = model.onehot(self.y_snap, len(self.z_snap))
            model.snapshots[k] = model._to_data(model.generator(self.z_snap, onehot))
            model.snapshot_steps[k] = i

    def r1_gamma(self, i: int) -> float:
        """γ of the R1 penalty at step ``i`` (geometric from r1 to r1_end over the run)."""
        gamma = self.h["r1"]
        if self.h["r1_end"] is not None:
            gamma = gamma * (self.h["r1_end"] / gamma) ** (i / self.steps)
        return gamma

    def discriminator_step(self, i: int) -> Tensor:
        """One update of the discriminator (critic) on a fresh batch; returns its loss."""
        h, loss, G, D = self.h, self.h["loss"], self.model.generator, self.model.discriminator
        real, onehot, z = self.draw()
        with torch.no_grad():
            fake = G(z, onehot)
        # R1 every r1_every-th step, with γ scaled up to match ("lazy" regularisation)
        penalise = h["r1"] > 0 and i % h["r1_every"] == 0
        if penalise:  # the R1 penalty reuses the forward pass on the real batch
            real.requires_grad_(True)
        a_real = D(real, onehot)
        d_loss = discriminator_loss(a_real, D(fake, onehot), loss)
        total = d_loss
        if loss == "wgan-gp":
            total = total + h["gp"] * gradient_penalty(D, real, fake, onehot)
        if penalise:  # r1_penalty(D, real, onehot), without a second forward pass
            gamma = self.r1_gamma(i) * h["r1_every"]
            total = total + gamma / 2 * _r1_from(a_real, real)
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d.step()
        if loss == "wgan":
            _clip_weights(D, h["clip"])
        return d_loss

    def generator_step(self) -> Tensor:
        """One update of the generator on fresh latents; returns its loss."""
        G, D = self.model.generator, self.model.discriminator
        real, onehot, z = self.draw()
        if self.h["feature_matching"]:
            with torch.no_grad():
                target = D.features(real, onehot).mean(0)
            g_loss = (D.features(G(z, onehot), onehot).mean(0) - target).pow(2).sum()
        else:
            g_loss = generator_loss(D(G(z, onehot), onehot), self.h["loss"])
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return g_loss

    def update_ema(self) -> None:
        """Move the averaged generator towards the generator (``torch.optim.swa_utils``' EMA)."""
        self.ema(self.ema_params, list(self.model.generator.parameters()), None)

    def step(self, i: int) -> dict[str, Tensor]:
        self.snapshot(i)
        for _ in range(self.h["n_critic"]):
            d_loss = self.discriminator_step(i)
        g_loss = self.generator_step()
        for schedule in self.schedules:
            schedule.step()
        self.update_ema()
        return {"D": d_loss.detach(), "G": g_loss.detach()}


@torch.no_grad()
def _clip_weights(net: nn.Module, clip: float) -> None:
    for p in net.parameters():
        p.clamp_(-clip, clip)


def fit(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    labels: Tensor | None = None,
    **hyper,
) -> GAN:
    """Train a :class:`GAN` on the rows of ``data`` and return it (in eval mode).

    One *step* is ``n_critic`` discriminator (critic) updates followed by one generator update,
    each on a fresh batch; the progress bar shows both losses (``D``, ``G``). ``steps`` defaults
    to ``DEFAULTS["steps"]`` (8000). Every hyper-parameter and its default is in
    :data:`DEFAULTS` (documented there); :data:`LOSS_DEFAULTS` says what each ``loss`` changes.
    ``loss`` is an f-GAN (``"kl"``, the default, ``"reverse-kl"``, ``"pearson"``; see the module
    docstring), ``"nonsaturating"``, ``"minimax"``, ``"wgan"`` or ``"wgan-gp"``;
    ``r1``/``r1_end``/``r1_every`` set the R1 penalty's γ and how often it is applied, ``gp``
    WGAN-GP's λ, ``clip`` the WGAN's bound; the stabilisers ``feature_matching``,
    ``minibatch_std``, ``spectral_norm`` and ``lr_d`` (two time scales) are off by default;
    ``ema`` the decay of the averaged generator :meth:`GAN.sample` uses; ``n_snapshots``
    snapshots of ``snapshot_size`` samples (fixed latents, raw generator) are stored at evenly
    spaced steps, the first before training.

    With ``labels`` (int64, one per row) the GAN is conditional. The caller's global random
    state is left unchanged (see :func:`companion.models.fit_run`).
    """
    h = _hyper(hyper)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        y, n_classes = check_labels(labels, run.data.shape[0], run.device)
        model = _build(run.data, h, n_classes, run.device)
        training = _Training(model, model._to_unit(run.data), y, h, run)
        model.train()
        train(training.step, run.steps, model=model, progress=progress, desc=f"GAN ({h['loss']})")
        training.snapshot(run.steps)
    return model.eval()


# -- a discriminator (or critic) between two fixed samplers ---------------------------------------
def train_discriminator(
    sample_real,
    sample_fake,
    *,
    data_dim: int = 1,
    loss: str = "nonsaturating",
    steps: int = 500,
    batch_size: int = 512,
    hidden: tuple[int, ...] = (64, 64),
    lr: float = 2e-3,
    gp: float = 10.0,
    clip: float = 0.01,
    seed: int = 0,
    device=None,
) -> nn.Module:
    """Train a discriminator (or WGAN critic) against a *fixed* generator and return it.

    ``sample_real(n)`` and ``sample_fake(n)`` return ``(n, data_dim)`` tensors. With
    ``loss="minimax"`` or ``"nonsaturating"`` (the same discriminator loss) the result's output is
    the logit of D; with ``"wgan-gp"`` it is a critic trained with the gradient penalty (weight
    λ = ``gp``), with ``"wgan"`` one whose weights are clipped to [−``clip``, ``clip``]. Adam
    with a learning rate decayed linearly to zero; every step draws fresh samples. Runs under
    :func:`companion.models.seeded`: the samplers see torch's global generator seeded with
    ``seed``, and the caller's random state is restored afterwards."""
    if not callable(sample_real) or not callable(sample_fake):
        raise TypeError("sample_real and sample_fake must be callables n -> (n, data_dim) tensor")
    data_dim = check_int(data_dim, "data_dim", minimum=1)
    loss = _check_loss(loss)
    steps = check_fit_args(steps, seed, False, default_steps=500)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    hidden = [check_int(h, "hidden width", minimum=1) for h in hidden]
    lr, gp, clip = check_real(lr, "lr"), check_real(gp, "gp"), check_real(clip, "clip")
    if lr <= 0 or gp < 0 or clip <= 0:
        raise ValueError(f"need lr > 0, gp >= 0, clip > 0; got {lr}, {gp}, {clip}")
    dev = resolve_device(device)
    with seeded(seed, dev):
        net = _MLP([data_dim, *hidden, 1]).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
        sched = LambdaLR(opt, _linear_decay(steps))
        for _ in range(steps):
            real = check_tensor(sample_real(batch_size), "sample_real(n)", ndim=2).to(dev)
            fake = check_tensor(sample_fake(batch_size), "sample_fake(n)", ndim=2).to(dev)
            if real.shape[1] != data_dim or fake.shape[1] != data_dim:
                raise ValueError(f"the samplers must return {data_dim} columns")
            total = discriminator_loss(net(real), net(fake), loss)
            if loss == "wgan-gp":
                total = total + gp * gradient_penalty(net, real, fake)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            sched.step()
            if loss == "wgan":
                _clip_weights(net, clip)
    return net.eval().requires_grad_(False)


@torch.no_grad()
def _weight_norm_product(net: nn.Module) -> float:
    return math.prod(
        float(torch.linalg.matrix_norm(m.weight, ord=2))
        for m in net.modules()
        if isinstance(m, nn.Linear)
    )


def lipschitz_estimate(model: GAN, x: Tensor, labels: Tensor | None = None) -> dict[str, float]:
    """Two bounds on the Lipschitz constant of the discriminator's output (logit or critic
    value) as a function of the data, in data units.

    ``"upper"``: the product of the largest singular values of its weight matrices, divided by
    the data scale the model standardises with (ReLU is 1-Lipschitz, so this bounds every
    difference quotient; spectral normalisation makes each factor about 1). ``"lower"``: the
    largest gradient norm :math:`\\lVert \\nabla_x a(x) \\rVert` at the rows of ``x`` (any
    gradient norm is a lower bound). A discriminator with a minibatch-std layer has no per-row
    Lipschitz constant and is refused."""
    if not isinstance(model, GAN):
        raise TypeError(f"model must be a gan.GAN; got {type(model).__name__}")
    if model.discriminator.minibatch_std:
        raise ValueError("with minibatch_std a row's output depends on the batch; no estimate")
    x = check_tensor(x, "x", ndim=2)
    if x.shape[0] == 0 or x.shape[1] != model.data_dim:
        raise ValueError(f"x must be a non-empty (n, {model.data_dim}) tensor")
    onehot = model.onehot(labels, x.shape[0])
    scale = float(model.scale) if model.config["output"] == "identity" else 1.0
    x = x.to(device=model.device, dtype=model.shift.dtype)  # float64 rows for a float32 model
    u = model._to_unit(x).detach().requires_grad_(True)
    with torch.enable_grad():
        grad = _output_gradient(model.discriminator(u, onehot), u)
    upper = _weight_norm_product(model.discriminator) / scale
    return {"upper": upper, "lower": float(grad.detach().norm(dim=1).max()) / scale}


# -- shipped checkpoints ---------------------------------------------------------------------------
def _mixture_data(dataset: str, seed: int) -> Tensor:
    """The 2 500 training points (std 0.02) of the ``"ring"`` or ``"grid"`` drawn with ``seed``:
    the data of the shipped 2-D GANs and of the stabiliser comparison."""
    from .data import grid, ring

    check_choice(dataset, "dataset", ("ring", "grid"))
    return (ring if dataset == "ring" else grid)(2500, std=0.02, seed=seed)


def _pretrain_2d(dataset: str, loss: str | None = None) -> GAN:
    # The saturating (minimax) run keeps the recipe it was shipped with before the defaults
    # changed (2 500 steps of 256, 16-D latent): the chapter shows how that loss collapses.
    hyper = {} if loss is None else {"loss": loss}
    if loss == "minimax":
        hyper |= {"latent_dim": 16, "batch_size": 256, "r1_end": 0.01, "steps": 2500}
    return fit(
        _mixture_data(dataset, 0),
        seed=0,
        device="cpu",
        progress=False,
        n_snapshots=21,
        snapshot_size=500,
        **hyper,
    )


def _pretrain_digits() -> GAN:
    from .data import digits

    images, labels = digits()
    return fit(
        images,
        labels=labels,
        loss="nonsaturating",  # the recipe it shipped with before the default became "kl"
        steps=6000,
        seed=0,
        device="cpu",
        progress=False,
        latent_dim=32,
        hidden=(200, 200),
        output="sigmoid",
        batch_size=128,
        lr=5e-4,
        betas=(0.5, 0.99),
        r1=1.0,
        r1_end=0.01,
    )


#: Checkpoints that ship with the book (``python -m companion.pretrain NAME``).
PRETRAINED = {
    "gan_ring": lambda: _pretrain_2d("ring"),
    "gan_grid": lambda: _pretrain_2d("grid"),
    "gan_ring_minimax": lambda: _pretrain_2d("ring", "minimax"),
    "gan_digits": _pretrain_digits,
}


# -- the stabiliser comparison -----------------------------------------------------------------
#: The variants of the chapter's stabiliser table (name → hyper-parameters of :func:`fit`): each
#: is the base recipe — the non-saturating game with every other default (R1, EMA, decay) —
#: with one change. The JS f-GAN is the original minimax game played with that recipe, so that
#: only the game differs. The KL f-GAN did best, and is :func:`fit`'s default.
_BASE = {"loss": "nonsaturating"}
STABILISERS: dict[str, dict[str, object]] = {
    "base": _BASE,
    "kl": {"loss": "kl"},
    "reverse-kl": {"loss": "reverse-kl"},
    "pearson": {"loss": "pearson"},
    "js": {
        "loss": "minimax",
        **{k: DEFAULTS[k] for k in ("r1", "r1_end", "ema", "decay", "lr", "betas")},
    },
    "feature-matching": {**_BASE, "feature_matching": True},
    "minibatch-std": {**_BASE, "minibatch_std": True},
    "spectral-norm": {**_BASE, "spectral_norm": True},
    "ttur": {**_BASE, "lr": 5e-4, "lr_d": 2e-3},
}
#: How the chapter names each variant.
STABILISER_LABELS = {
    "base": "non-saturating + R1 (base)",
    "kl": "f-GAN, KL(data ‖ model) (default)",
    "reverse-kl": "f-GAN, KL(model ‖ data)",
    "pearson": "f-GAN, Pearson χ²",
    "js": "f-GAN, Jensen–Shannon (minimax)",
    "feature-matching": "feature matching",
    "minibatch-std": "minibatch std",
    "spectral-norm": "spectral normalisation",
    "ttur": "two time scales (lr_D = 4 lr_G)",
}
#: Where the seed-0 models of the comparison ship (generators; the discriminators of these
#: variants too, for the Lipschitz estimate).
STABILISER_CHECKPOINT = "gan_stabilisers"
_WITH_DISCRIMINATOR = ("base", "spectral-norm")


def fit_stabiliser(variant: str, dataset: str, seed: int = 0, **kwargs) -> GAN:
    """The comparison's fit: :func:`fit` with :data:`STABILISERS` ``[variant]`` on 2 500 points
    of the ``"ring"`` or ``"grid"`` (std 0.02, drawn with ``seed``), on the CPU."""
    check_choice(variant, "variant", tuple(STABILISERS))
    kwargs = {"device": "cpu", "progress": False, **kwargs}
    return fit(_mixture_data(dataset, seed), seed=seed, **STABILISERS[variant], **kwargs)


def save_stabilisers(models: dict[tuple[str, str], GAN]) -> str:
    """Save ``{(variant, dataset): model}`` as the shipped comparison set and record its hash."""
    from .models import _record, checkpoint_path

    keep = {}
    for (variant, dataset), model in models.items():
        kept = ("generator_ema", "shift", "scale")
        kept += ("discriminator",) if variant in _WITH_DISCRIMINATOR else ()
        state = {
            k: v.detach().cpu() for k, v in model.state_dict().items() if k.split(".")[0] in kept
        }
        keep[f"{variant}/{dataset}"] = {"config": dict(model.config), "state": state}
    path = checkpoint_path(STABILISER_CHECKPOINT)
    torch.save(keep, path)
    return _record(STABILISER_CHECKPOINT, path)


def load_stabilisers(device=None) -> dict[tuple[str, str], GAN]:
    """The shipped seed-0 models of the comparison, ``{(variant, dataset): GAN}`` (hash
    checked). Their averaged generators are trained; the discriminator is trained only for
    ``"base"`` and ``"spectral-norm"``."""
    from .models import _manifest, checkpoint_path, file_sha256

    path = checkpoint_path(STABILISER_CHECKPOINT)
    expected = _manifest().get(STABILISER_CHECKPOINT)
    if expected is None or not path.is_file() or file_sha256(path) != expected:
        raise FileNotFoundError(
            f"{path} is missing or damaged; rebuild it with "
            "`python benchmarks/bench_stabilisers.py --save`"
        )
    dev = resolve_device(device)
    out = {}
    for key, entry in torch.load(path, map_location="cpu", weights_only=True).items():
        model = GAN(**entry["config"])
        model.load_state_dict(entry["state"], strict=False)
        variant, dataset = key.split("/")
        out[(variant, dataset)] = model.to(dev).eval()
    return out


def stabiliser_results() -> list[dict]:
    """The rows of the last ``benchmarks/bench_stabilisers.py --save`` run, shipped next to the
    models: one dict per (variant, data set, seed) with ``modes``, ``quality`` (the
    high-quality share), ``cpu`` (seconds) and, for the seed-0 ring models, ``lipschitz``."""
    from .models import CHECKPOINT_DIR

    path = CHECKPOINT_DIR / f"{STABILISER_CHECKPOINT}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run benchmarks/bench_stabilisers.py --save")
    return json.loads(path.read_text())["rows"]


def summarise_stabilisers(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (variant, data set): mean, min and max over seeds of the modes covered and the
    high-quality share, from the rows ``benchmarks/bench_stabilisers.py`` writes."""
    if not isinstance(rows, list) or not rows:
        raise ValueError("rows must be a non-empty list of benchmark rows")
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if not isinstance(row, dict) or not {"variant", "dataset", "modes", "quality"} <= set(row):
            raise ValueError(f"each row needs variant, dataset, modes and quality; got {row!r}")
        groups.setdefault((row["variant"], row["dataset"]), []).append(row)
    out = {}
    for key, group in groups.items():
        modes = [float(r["modes"]) for r in group]
        hq = [float(r["quality"]) for r in group]
        out[key] = {
            "seeds": len(group),
            "modes": sum(modes) / len(modes),
            "modes_min": min(modes),
            "modes_max": max(modes),
            "quality": sum(hq) / len(hq),
            "quality_min": min(hq),
            "quality_max": max(hq),
        }
    return out


@torch.no_grad()
def stabiliser_samples(
    models: dict[tuple[str, str], GAN], n: int = 1000, seed: int = 1000
) -> dict[tuple[str, str], Tensor]:
    """``n`` samples of each model's averaged generator, all from the same latents."""
    n = check_int(n, "n", minimum=1, maximum=100_000)
    seed = check_int(seed, "seed", minimum=0)
    if not isinstance(models, dict) or not all(isinstance(m, GAN) for m in models.values()):
        raise TypeError("models must map (variant, data set) to gan.GAN models")
    return {
        key: model.sample(n, generator=torch.Generator().manual_seed(seed)).cpu()
        for key, model in models.items()
    }


# == moved from explore/gan.py ==
# The experiments and quadratures behind the chapter's figures (companion.explore.gan draws them).
import numpy as np  # noqa: E402
from torch.distributions import Normal  # noqa: E402

from .data import grid_centers, mode_coverage, ring_centers  # noqa: E402
from .device import single_thread  # noqa: E402
from .optimization import minmax_trajectory  # noqa: E402

#: The quadrature grid of the chapter's 1-D figures: [−30, 30] with spacing 0.005 (wide enough
#: that the mass outside it, at most ~1e-20 for the figures' Gaussians, is invisible).
CRITERION_GRID = torch.linspace(-30.0, 30.0, 12001, dtype=torch.float64)
_CRITERION_DX = float(CRITERION_GRID[1] - CRITERION_GRID[0])
#: The fixed 1-D pair of the D* experiment: p_data a two-bump mixture (weight, mean, std) ...
DSTAR_MIX = ((0.5, -1.5, 0.4), (0.5, 1.5, 0.6))
#: ... and p_g = N(0.5, 1²) (mean, std).
DSTAR_GENERATOR = (0.5, 1.0)
#: The 1-D pair of the critic experiment: N(0, 1) against N(3, 0.5²) (mean, std).
CRITIC_PAIR = ((0.0, 1.0), (3.0, 0.5))


def log_normal(x: Tensor, mu: float, sigma: float) -> Tensor:
    """log N(x; μ, σ²) (σ a standard deviation) in ``x``'s dtype, by ``torch.distributions``."""
    mu, sigma = check_real(mu, "mu"), check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma is a standard deviation and must be > 0; got {sigma}")
    x = check_tensor(x, "x")
    loc, scale = (torch.tensor(v, dtype=x.dtype, device=x.device) for v in (mu, sigma))
    return Normal(loc, scale, validate_args=False).log_prob(x)


def criterion_values(mu: float, sigma: float) -> dict[str, float]:
    """For p_data = N(0, 1) and p_g = N(μ, σ²) on :data:`CRITERION_GRID`: C(G) by quadrature
    with D* in log space (:func:`virtual_criterion`), JS(p_data ‖ p_g) by quadrature of its
    definition through the mixture m = (p_data + p_g)/2 (a log-sum-exp), and −log 4 + 2 JS."""
    grid, dx = CRITERION_GRID, _CRITERION_DX
    lp, lq = log_normal(grid, 0.0, 1.0), log_normal(grid, mu, sigma)
    c_g = float(virtual_criterion(lp, lq, dx))
    lm = torch.logaddexp(lp, lq) - math.log(2.0)
    js = 0.5 * float((lp.exp() * (lp - lm) + lq.exp() * (lq - lm)).sum() * dx)
    return {"C(G)": c_g, "JS": js, "-log4+2JS": -LOG4 + 2 * js}


def criterion_curve(mus, sigma: float, stride: int = 4) -> Tensor:
    """C(G) of :func:`criterion_values` at each mean in ``mus`` for one σ, summing over every
    ``stride``-th point of :data:`CRITERION_GRID` (the integrands are smooth Gaussians, so for
    ``stride=4``, spacing 0.02, the sums agree with the full grid's to about 1e-15)."""
    stride = check_int(stride, "stride", minimum=1)
    x = CRITERION_GRID[::stride]
    lp = log_normal(x, 0.0, 1.0)
    log_normal(x[:1], 0.0, sigma)  # validates sigma
    means = torch.tensor([check_real(m, "mu") for m in mus], dtype=x.dtype).unsqueeze(-1)
    if means.numel() == 0:
        raise ValueError("mus is empty; it needs at least one mean")
    lq = Normal(means, torch.tensor(float(sigma), dtype=x.dtype)).log_prob(x)  # one row per mean
    dx = _CRITERION_DX * stride
    return torch.stack([virtual_criterion(lp, row, dx) for row in lq])


def _dstar_log_mix(x: Tensor) -> Tensor:
    parts = [math.log(w) + log_normal(x, m, s) for w, m, s in DSTAR_MIX]
    return torch.logsumexp(torch.stack(parts), dim=0)


def _dstar_samplers(gen: torch.Generator):
    weights = torch.tensor([w for w, _, _ in DSTAR_MIX])
    means = torch.tensor([m for _, m, _ in DSTAR_MIX])
    stds = torch.tensor([s for _, _, s in DSTAR_MIX])

    def real(n):
        which = torch.multinomial(weights, n, True, generator=gen)
        return (means[which] + stds[which] * torch.randn(n, generator=gen)).unsqueeze(1)

    def fake(n):
        mean, std = DSTAR_GENERATOR
        return (mean + std * torch.randn(n, generator=gen)).unsqueeze(1)

    return real, fake


def dstar_experiment(steps: int = 400, seed: int = 0) -> dict[str, object]:
    """Train a discriminator against the fixed generator :data:`DSTAR_GENERATOR` on data from
    the two-bump mixture :data:`DSTAR_MIX`; return the grid ``x`` on [−4, 5], the trained D and
    D* from eq-gan-dstar (``formula``), and both densities (numpy arrays, float64)."""
    real, fake = _dstar_samplers(torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)))
    with single_thread():
        net = train_discriminator(real, fake, steps=steps, seed=seed, device="cpu")
        x = torch.linspace(-4.0, 5.0, 181)
        trained = torch.sigmoid(net(x.unsqueeze(1)).squeeze(1)).double()
    x64 = x.double()
    log_data, log_g = _dstar_log_mix(x64), log_normal(x64, *DSTAR_GENERATOR)
    formula = torch.sigmoid(optimal_discriminator_logit(log_data, log_g))
    return {
        "x": x64.numpy(),
        "trained": trained.detach().numpy(),
        "formula": formula.numpy(),
        "p_data": log_data.exp().numpy(),
        "p_g": log_g.exp().numpy(),
    }


def critic_experiment(steps: int = 400, seed: int = 0) -> dict[str, object]:
    """Train two critics between the fixed pair :data:`CRITIC_PAIR` — weight clipping
    (c = 0.01) and gradient penalty (λ = 10) — and evaluate each one's dual estimate
    E_p f − E_q f on 20 000 fresh samples of each side; return the critics on [−4, 6] (shifted
    so that f(0) = 0, keys ``"clip"`` and ``"gp"``) and the estimates (``"<name>_estimate"``)."""
    (m1, s1), (m2, s2) = CRITIC_PAIR
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))

    def real(n):
        return (m1 + s1 * torch.randn(n, 1, generator=gen)).float()

    def fake(n):
        return (m2 + s2 * torch.randn(n, 1, generator=gen)).float()

    x = torch.linspace(-4.0, 6.0, 201).unsqueeze(1)
    out: dict[str, object] = {"x": x.squeeze(1).numpy()}
    with single_thread(), torch.no_grad():
        test_p, test_q = real(20_000), fake(20_000)
    for name, loss in (("clip", "wgan"), ("gp", "wgan-gp")):
        with single_thread():
            net = train_discriminator(
                real, fake, loss=loss, steps=steps, seed=seed, device="cpu", lr=1e-3
            )
            with torch.no_grad():
                out[name] = (net(x).squeeze(1) - net(torch.zeros(1, 1)).squeeze()).numpy()
                out[f"{name}_estimate"] = float(net(test_p).mean() - net(test_q).mean())
    return out


def penalty_of_linear_critic(w: Tensor, b: float, real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP's penalty for the linear critic f(x) = w·x + b, as computed by
    :func:`gradient_penalty` (autograd through random interpolates)."""
    w, b = check_tensor(w, "w", ndim=1), check_real(b, "b")
    real = check_rows(real, "real", w.shape[0])

    def critic(x):
        return x @ w + b

    return gradient_penalty(critic, real, fake)


def centers_for(name: str) -> Tensor:
    """The mixture means of the ``"ring"`` (8 modes, radius 2) or ``"grid"`` (5×5, spacing 2)."""
    if name == "ring":
        return ring_centers()
    if name == "grid":
        return grid_centers()
    raise ValueError(f"data set must be 'ring' or 'grid'; got {name!r}")


def snapshot_metrics(model: GAN, dataset: str, std: float = 0.02):
    """(modes covered, high-quality share) of every snapshot stored in ``model`` (scored by
    :func:`companion.data.mode_coverage`); a numpy array of shape ``(n_snapshots, 2)``."""
    centers = centers_for(dataset)
    return np.array([mode_coverage(s, centers, std) for s in model.snapshots.cpu()], dtype=float)


def gda_paths(eta: float = 0.2, steps: int = 60, start=(1.0, 1.0)) -> dict[str, object]:
    """Gradient descent–ascent on f(x, y) = x·y (x minimises, y maximises) from ``start``:
    simultaneous updates and alternating ones (x first, then y with the new x), by
    :func:`companion.optimization.minmax_trajectory`; numpy arrays of shape ``(steps + 1, 2)``."""
    return {
        m: minmax_trajectory(m, eta, steps, start=start).numpy()
        for m in ("simultaneous", "alternating")
    }
