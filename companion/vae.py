"""Variational autoencoders: the chapter "Variational autoencoders" in code.

Conventions (the book's, stated once here):

* Every log-density is in **nats**; every σ is a **standard deviation**.
* The prior is p(z) = N(0, I_d); the encoder is q_φ(z | x) = N(μ_φ(x), diag σ_φ(x)²).
* The decoder gives either a Gaussian likelihood p_θ(x | z) = N(m_θ(z), diag σ_x²) (one learned
  or fixed standard deviation per coordinate) or a Bernoulli likelihood for **binary** data
  x ∈ {0, 1}^D (grey levels are refused: for them the Bernoulli formula is not a normalised
  log-likelihood).
* :meth:`VAE.elbo` is the *true* ELBO (eq-vae-elbo): every constant included
  (−½ log 2πσ_x² per coordinate for the Gaussian), the KL to the prior in
  closed form (eq-vae-kl-prior), the reconstruction term by Monte Carlo. β only changes the
  *training* objective (eq-vae-beta), never what :meth:`VAE.elbo` reports.

:class:`LinearGaussian` is probabilistic PCA, the one latent-variable model where
log p(x), the posterior and the ELBO of any Gaussian q are all closed form; the
chapter uses it to verify the identity log p(x) = ELBO + KL(q ‖ p(z|x)) (eq-vae-identity) exactly.

Variational inference beyond the VAE: :func:`normal_gamma_posterior` (the exact posterior and
evidence of a Gaussian with unknown mean and precision under its conjugate prior) and
:func:`cavi_normal_gamma` (mean-field coordinate-ascent VI on the same model, eq-vae-cavi), and,
for a trained VAE, :func:`elbo_of_q` (the ELBO of any diagonal Gaussian q, not only the
encoder's) and :func:`refine_q` (non-amortised VI started from the encoder's output, which
measures the amortisation gap).

The family contract (see :mod:`companion.models`)::

    model = vae.fit(data, steps=None, seed=0, device=None, progress=True, **hyper)
    model.sample(n)                       # a tensor on the model's device
    vae.fit(images, labels=y, ...)        # a conditional VAE (one-hot label into both networks)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.distributions import MultivariateNormal

from ._validate import (
    check_broadcastable,
    check_int,
    check_interval,
    check_iterations,
    check_real,
    check_same_shape,
    check_spd,
    check_tensor,
)
from .device import single_thread
from .models import (
    LOG_2PI,
    FitRun,
    GenerativeModel,
    batch_indices,
    check_labels,
    check_lr,
    fit_run,
    gaussian_log_prob,
    merge_hyper,
    seeded,
    train,
)

__all__ = [
    "kl_to_standard_normal",
    "gaussian_log_likelihood",
    "bernoulli_log_likelihood",
    "LinearGaussian",
    "VAE",
    "fit",
    "DEFAULTS",
    "PRETRAINED",
    "BETAS",
    "binarized_digits",
    "LOG_2PI",
    "normal_gamma_posterior",
    "cavi_normal_gamma",
    "elbo_of_q",
    "refine_q",
]

_LOG_SIGMA_RANGE = (-9.0, 4.0)


# -- closed forms ----------------------------------------------------------------------------------
def kl_to_standard_normal(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) in nats, summed over the last dimension (eq-vae-kl-prior):
    ½ Σ_j (μ_j² + σ_j² − 1 − 2 log σ_j). ``sigma`` is a standard deviation (> 0)."""
    mu = check_tensor(mu, "mu", min_ndim=1)
    sigma = check_tensor(sigma, "sigma", min_ndim=1)
    if mu.shape != sigma.shape:
        raise ValueError(
            f"mu and sigma must have the same shape; got {tuple(mu.shape)} and {tuple(sigma.shape)}"
        )
    if (sigma.detach() <= 0).any():
        raise ValueError("sigma is a standard deviation and must be > 0 everywhere")
    return _kl_std(mu, sigma)


def _kl_std(mu: Tensor, sigma: Tensor) -> Tensor:
    """:func:`kl_to_standard_normal` without the checks (the training loss uses it)."""
    return 0.5 * (mu**2 + sigma**2 - 1.0 - 2.0 * torch.log(sigma)).sum(-1)


def gaussian_log_likelihood(x: Tensor, mean: Tensor, log_sigma: Tensor) -> Tensor:
    """log N(x; mean, diag σ²) summed over the last dimension, with σ = exp(log_sigma):
    Σ_j [−½ log 2π − log σ_j − (x_j − m_j)² / 2σ_j²]. The three tensors broadcast."""
    x = check_tensor(x, "x", min_ndim=1)
    mean, log_sigma = check_tensor(mean, "mean"), check_tensor(log_sigma, "log_sigma")
    check_broadcastable(x, mean, "x", "mean")
    check_broadcastable(x, log_sigma, "x", "log_sigma")
    return _gaussian_ll(x, mean, log_sigma)


def _gaussian_ll(x: Tensor, mean: Tensor, log_sigma: Tensor) -> Tensor:
    return gaussian_log_prob(x, mean, log_sigma)


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    """log Bernoulli(x; sigmoid(logits)) summed over the last dimension, for binary ``x``:
    Σ_j [x_j log p_j + (1 − x_j) log(1 − p_j)], computed stably from the logits. ``x`` and
    ``logits`` have the same shape; ``x`` lies in [0, 1]."""
    x, logits = check_tensor(x, "x", min_ndim=1), check_tensor(logits, "logits", min_ndim=1)
    check_same_shape(x, logits, "x", "logits")
    check_interval(x, "x", 0.0, 1.0)
    return _bernoulli_ll(x, logits)


def _bernoulli_ll(x: Tensor, logits: Tensor) -> Tensor:
    return -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


# -- probabilistic PCA -----------------------------------------------------------------------------
class LinearGaussian:
    """Probabilistic PCA: z ~ N(0, I_d), x | z ~ N(W z + b, s² I_D) (s a standard deviation).

    Everything the VAE chapter needs is closed form here (float64 throughout):

    * :meth:`log_marginal`: x ~ N(b, W Wᵀ + s² I) (eq-vae-ppca-marginal);
    * :meth:`posterior`: z | x ~ N(M⁻¹ Wᵀ (x − b) / s², M⁻¹) with M = I + WᵀW / s²
      (eq-vae-ppca-posterior);
    * :meth:`elbo`: the ELBO of any Gaussian q = N(m, C), exactly (no sampling):
      E_q log p(x|z) − KL(q ‖ p(z)), where
      E_q log p(x|z) = −D/2 log 2πs² − (‖x − b − W m‖² + tr(W C Wᵀ)) / 2s².
    """

    def __init__(self, W: Tensor, b: Tensor, s: float):
        W = check_tensor(W, "W", ndim=2)
        b = check_tensor(b, "b", ndim=1)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"b must have {W.shape[0]} entries (the rows of W); got {b.shape[0]}")
        s = check_real(s, "s")
        if s <= 0:
            raise ValueError(f"s is a standard deviation and must be > 0; got {s}")
        self.W = W.detach().double()
        self.b = b.detach().double().to(self.W.device)
        self.s = s

    @property
    def data_dim(self) -> int:
        return self.W.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    def _x(self, x: object) -> Tensor:
        x = check_tensor(x, "x", ndim=(1, 2))
        if x.shape[-1] != self.data_dim:
            raise ValueError(f"x must have {self.data_dim} columns; got shape {tuple(x.shape)}")
        return x.double().to(self.W.device)

    def marginal_cov(self) -> Tensor:
        return self.W @ self.W.T + self.s**2 * torch.eye(
            self.data_dim, dtype=self.W.dtype, device=self.W.device
        )

    def log_marginal(self, x: Tensor) -> Tensor:
        """log p(x) in nats (per row of ``x``)."""
        x = self._x(x)
        chol = torch.linalg.cholesky(self.marginal_cov())
        return MultivariateNormal(self.b, scale_tril=chol).log_prob(x)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean(s) and covariance of p(z | x)."""
        x = self._x(x)
        eye = torch.eye(self.latent_dim, dtype=self.W.dtype, device=self.W.device)
        cov = torch.linalg.inv(eye + self.W.T @ self.W / self.s**2)
        cov = 0.5 * (cov + cov.T)
        mean = (x - self.b) @ self.W @ cov / self.s**2
        return mean, cov

    def elbo(self, x: Tensor, m: Tensor, C: Tensor) -> Tensor:
        """The exact ELBO of q = N(m, C) for one data point ``x`` (C a covariance matrix)."""
        x = self._x(x)
        m = check_tensor(m, "m", ndim=1).double()
        if m.shape[0] != self.latent_dim:
            raise ValueError(f"m must have {self.latent_dim} entries; got {m.shape[0]}")
        C = C.double() if isinstance(C, Tensor) else C
        chol = check_spd(C, "C")
        if C.shape[-1] != self.latent_dim:
            raise ValueError(f"C must be {self.latent_dim}×{self.latent_dim}")
        D, d = self.data_dim, self.latent_dim
        resid = x - self.b - self.W @ m
        expected_loglik = -0.5 * D * math.log(2 * math.pi * self.s**2) - (
            (resid**2).sum() + torch.trace(self.W @ C @ self.W.T)
        ) / (2 * self.s**2)
        logdet_c = 2 * torch.log(torch.diagonal(chol)).sum()
        kl_prior = 0.5 * (torch.trace(C) + m @ m - d - logdet_c)
        return expected_loglik - kl_prior

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        n = check_int(n, "n", minimum=1)
        z = torch.randn(n, self.latent_dim, dtype=torch.float64, generator=generator)
        noise = torch.randn(n, self.data_dim, dtype=torch.float64, generator=generator)
        # drawn on the CPU, so a seed gives the same sample on every device
        z, noise = z.to(self.W.device), noise.to(self.W.device)
        return z @ self.W.T + self.b + self.s * noise


# -- the VAE ---------------------------------------------------------------------------------------
def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class VAE(GenerativeModel):
    """A VAE with MLP encoder and decoder (no hidden layer at all when ``hidden=[]``: then
    both maps are affine and a Gaussian VAE contains probabilistic PCA).

    Parameters
    ----------
    data_dim, latent_dim
        D and d.
    hidden
        Widths of the hidden layers of the encoder (the decoder mirrors them).
    likelihood
        ``"gaussian"`` or ``"bernoulli"`` (binary data only).
    beta
        Weight of the KL term in the *training* objective (β-VAE; 1 is the ELBO).
    obs_std
        Initial (or fixed) standard deviation σ_x of the Gaussian likelihood.
    learn_std
        Whether σ_x (one per coordinate) is learned.
    n_classes
        0 for an unconditional VAE; otherwise labels 0..n_classes−1 enter both networks one-hot
        (a conditional VAE) and every method needs ``labels``.
    """

    family = "vae"

    def __init__(
        self,
        data_dim: int,
        latent_dim: int = 2,
        hidden: Sequence[int] = (128, 128),
        likelihood: str = "gaussian",
        beta: float = 1.0,
        obs_std: float = 0.1,
        learn_std: bool = True,
        n_classes: int = 0,
    ) -> None:
        data_dim = check_int(data_dim, "data_dim", minimum=1)
        latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be a list of layer widths; got {hidden!r}")
        hidden = [check_int(h, "hidden width", minimum=1) for h in hidden]
        if likelihood not in ("gaussian", "bernoulli"):
            raise ValueError(f"likelihood must be 'gaussian' or 'bernoulli'; got {likelihood!r}")
        beta = check_real(beta, "beta", low=0)
        obs_std = check_real(obs_std, "obs_std")
        if obs_std <= 0:
            raise ValueError(f"obs_std is a standard deviation and must be > 0; got {obs_std}")
        if not isinstance(learn_std, bool):
            raise TypeError(f"learn_std must be True or False; got {learn_std!r}")
        n_classes = check_int(n_classes, "n_classes", minimum=0)
        super().__init__(
            data_dim=data_dim,
            latent_dim=latent_dim,
            hidden=hidden,
            likelihood=likelihood,
            beta=beta,
            obs_std=obs_std,
            learn_std=learn_std,
            n_classes=n_classes,
        )
        self.data_dim, self.latent_dim, self.n_classes = data_dim, latent_dim, n_classes
        self.likelihood, self.beta = likelihood, beta
        self.encoder = _mlp([data_dim + n_classes, *hidden, 2 * latent_dim])
        self.decoder = _mlp([latent_dim + n_classes, *hidden[::-1], data_dim])
        log_std = torch.full((data_dim,), math.log(obs_std))
        if learn_std:
            self.log_obs_std = nn.Parameter(log_std)
        else:
            self.register_buffer("log_obs_std", log_std)

    # -- inputs ------------------------------------------------------------------------------
    def _check_x(self, x: object) -> Tensor:
        x = check_tensor(x, "x", ndim=2)
        if x.shape[1] != self.data_dim:
            raise ValueError(f"x must have {self.data_dim} columns; got shape {tuple(x.shape)}")
        if self.likelihood == "bernoulli" and ((x.detach() != 0) & (x.detach() != 1)).any():
            raise ValueError(
                "a Bernoulli VAE models binary data: x must hold only 0s and 1s (binarise grey "
                "levels first, e.g. (x > 0.5).float()); for grey levels use likelihood='gaussian'"
            )
        return x.to(self.device, next(self.parameters()).dtype)

    def _onehot(self, labels: object, n: int) -> Tensor | None:
        if self.n_classes == 0:
            if labels is not None:
                raise ValueError("this VAE is unconditional (n_classes=0); do not pass labels")
            return None
        if labels is None:
            raise ValueError(f"this is a conditional VAE ({self.n_classes} classes): pass labels")
        if isinstance(labels, int) and not isinstance(labels, bool):
            labels = torch.full((n,), labels, dtype=torch.int64)
        if not isinstance(labels, Tensor) or labels.dtype != torch.int64 or labels.ndim != 1:
            raise TypeError("labels must be an int or a 1-D int64 tensor")
        if labels.shape[0] != n:
            raise ValueError(f"labels must have {n} entries; got {labels.shape[0]}")
        if ((labels < 0) | (labels >= self.n_classes)).any():
            raise ValueError(f"labels must lie in 0..{self.n_classes - 1}")
        onehot = nn.functional.one_hot(labels.to(self.device), self.n_classes)
        return onehot.to(next(self.parameters()).dtype)

    @staticmethod
    def _join(a: Tensor, onehot: Tensor | None) -> Tensor:
        return a if onehot is None else torch.cat([a, onehot], dim=-1)

    # -- the two networks --------------------------------------------------------------------
    def _encode(self, x: Tensor, onehot: Tensor | None) -> tuple[Tensor, Tensor]:
        out = self.encoder(self._join(x, onehot))
        mu, log_sigma = out.chunk(2, dim=-1)
        return mu, log_sigma.clamp(*_LOG_SIGMA_RANGE).exp()

    def encode(self, x: Tensor, labels=None) -> tuple[Tensor, Tensor]:
        """q(z|x) = N(μ, diag σ²): returns (μ, σ), σ a standard deviation, each (n, d)."""
        x = self._check_x(x)
        return self._encode(x, self._onehot(labels, x.shape[0]))

    def _decode(self, z: Tensor, onehot: Tensor | None) -> Tensor:
        return self.decoder(self._join(z, onehot))

    def decode(self, z: Tensor, labels=None) -> Tensor:
        """The mean of p(x|z): m_θ(z) (Gaussian) or the pixel probabilities (Bernoulli)."""
        z = check_tensor(z, "z", ndim=2)
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} columns; got shape {tuple(z.shape)}")
        z = z.to(self.device, next(self.parameters()).dtype)
        out = self._decode(z, self._onehot(labels, z.shape[0]))
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def _log_lik(self, x: Tensor, out: Tensor) -> Tensor:
        if self.likelihood == "bernoulli":
            return _bernoulli_ll(x, out)
        return _gaussian_ll(x, out, self.log_obs_std)

    @property
    def obs_std(self) -> Tensor:
        """σ_x of the Gaussian likelihood, one per coordinate."""
        return self.log_obs_std.detach().exp()

    # -- the bounds --------------------------------------------------------------------------
    def _terms(self, x: Tensor, onehot: Tensor | None, samples: int) -> tuple[Tensor, Tensor]:
        """(Monte Carlo E_q log p(x|z) with ``samples`` draws, closed-form KL(q ‖ p(z)))."""
        mu, sigma = self._encode(x, onehot)
        eps = torch.randn((samples, *mu.shape), device=mu.device, dtype=mu.dtype)
        z = mu + sigma * eps  # the reparameterisation (eq-vae-reparam)
        oh = None if onehot is None else onehot.expand(samples, *onehot.shape)
        out = self._decode(z, oh)
        recon = self._log_lik(x.expand(samples, *x.shape), out).mean(0)
        kl = _kl_std(mu, sigma)
        return recon, kl

    def elbo(self, x: Tensor, labels=None, *, samples: int = 1) -> Tensor:
        """The ELBO of each row of ``x`` in nats (eq-vae-elbo), an unbiased estimate whose
        reconstruction term averages ``samples`` reparameterised draws; β is not applied."""
        x = self._check_x(x)
        samples = check_int(samples, "samples", minimum=1)
        recon, kl = self._terms(x, self._onehot(labels, x.shape[0]), samples)
        return recon - kl

    def rate_distortion(self, x: Tensor, labels=None, *, samples: int = 1) -> tuple[Tensor, Tensor]:
        """Per-sample rate KL(q(z|x) ‖ p(z)) and distortion −E_q log p(x|z), in nats."""
        x = self._check_x(x)
        samples = check_int(samples, "samples", minimum=1)
        recon, kl = self._terms(x, self._onehot(labels, x.shape[0]), samples)
        return kl, -recon

    def iwae(self, x: Tensor, k: int, labels=None) -> Tensor:
        """The importance-weighted bound with ``k`` samples (eq-vae-iwae), per row, in nats:
        log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z|x). k = 1 is a one-sample ELBO."""
        x = self._check_x(x)
        k = check_int(k, "k", minimum=1)
        onehot = self._onehot(labels, x.shape[0])
        mu, sigma = self._encode(x, onehot)
        eps = torch.randn((k, *mu.shape), device=mu.device, dtype=mu.dtype)
        z = mu + sigma * eps
        oh = None if onehot is None else onehot.expand(k, *onehot.shape)
        log_lik = self._log_lik(x.expand(k, *x.shape), self._decode(z, oh))
        log_prior = gaussian_log_prob(z, standardized=True)
        log_q = gaussian_log_prob(eps, log_sigma=torch.log(sigma), standardized=True)
        return torch.logsumexp(log_lik + log_prior - log_q, dim=0) - math.log(k)

    def loss(self, x: Tensor, labels=None) -> dict[str, Tensor]:
        """The training objective, averaged over the batch: distortion + β · rate (eq-vae-beta)."""
        x = self._check_x(x)
        recon, kl = self._terms(x, self._onehot(labels, x.shape[0]), 1)
        distortion, rate = -recon.mean(), kl.mean()
        return {"loss": distortion + self.beta * rate, "rate": rate, "distortion": distortion}

    @torch.no_grad()
    def sample(self, n: int, labels=None, *, mean: bool = False, generator=None) -> Tensor:
        """``n`` draws from the model: z ~ N(0, I), then x ~ p(x|z). With ``mean=True`` return
        the decoder's mean m_θ(z) (pixel probabilities for the Bernoulli) instead of a draw."""
        n = check_int(n, "n", minimum=1)
        dtype = next(self.parameters()).dtype
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=dtype)
        z = z.to(self.device)
        out = self._decode(z, self._onehot(labels, n))
        if self.likelihood == "bernoulli":
            p = torch.sigmoid(out)
            return p if mean else torch.bernoulli(p)
        if mean:
            return out
        noise = torch.randn(out.shape, generator=generator, dtype=dtype).to(self.device)
        return out + self.log_obs_std.exp() * noise


# -- training --------------------------------------------------------------------------------------
#: Every default of :func:`fit` (they fit a 2-D toy set in a few seconds of CPU).
DEFAULTS: dict[str, object] = {
    # number of Adam steps
    "steps": 3000,
    # dimension d of the latent z
    "latent_dim": 2,
    # widths of the encoder's hidden layers (the decoder mirrors them; () for affine maps)
    "hidden": (64, 64),
    # "gaussian" or "bernoulli" (binary data only)
    "likelihood": "gaussian",
    # weight β of the KL term in the training objective (1: the ELBO)
    "beta": 1.0,
    # initial (or fixed) standard deviation σ_x of the Gaussian likelihood
    "obs_std": 0.1,
    # learn σ_x (one per coordinate)
    "learn_std": True,
    # Adam's learning rate, decayed to zero along a cosine
    "lr": 2e-3,
    # examples per mini-batch (capped at the number of rows)
    "batch_size": 256,
    # the KL weight rises linearly from 0 to β over this share of the steps (a common guard
    # against posterior collapse; 0 turns it off)
    "warmup": 0.2,
}


def _build(x: Tensor, h: dict, n_classes: int, device: torch.device) -> VAE:
    model = VAE(
        x.shape[1],
        latent_dim=h["latent_dim"],
        hidden=list(h["hidden"]),
        likelihood=h["likelihood"],
        beta=h["beta"],
        obs_std=h["obs_std"],
        learn_std=h["learn_std"],
        n_classes=n_classes,
    ).to(device)
    model._check_x(x)  # a Bernoulli model refuses grey levels before training starts
    return model


def _training_step(model: VAE, x: Tensor, y: Tensor | None, h: dict, run: FitRun):
    """The step function of :func:`fit`: one Adam step on a mini-batch with the KL weight
    warmed up from 0 to β (returns the batch's −ELBO and rate)."""
    rows_stream = batch_indices(x.shape[0], h["batch_size"], run.generator, run.device)
    opt = torch.optim.Adam(model.parameters(), lr=h["lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=run.steps)
    ramp = max(1, int(h["warmup"] * run.steps))

    def step(i: int) -> dict[str, Tensor]:
        rows = next(rows_stream)
        xb = x[rows]
        onehot = model._onehot(None if y is None else y[rows], xb.shape[0])
        recon, kl = model._terms(xb, onehot, 1)
        weight = model.beta * min(1.0, (i + 1) / ramp) if h["warmup"] > 0 else model.beta
        distortion, rate = -recon.mean(), kl.mean()
        loss = distortion + weight * rate
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"-elbo": (distortion + rate).detach(), "rate": rate.detach()}

    return step


def fit(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    labels: Tensor | None = None,
    **hyper,
) -> VAE:
    """Train a :class:`VAE` on the rows of ``data`` with Adam and return it (in eval mode).

    Every hyper-parameter and its default is in :data:`DEFAULTS` (documented there):
    ``latent_dim``, ``hidden``, ``likelihood``, ``beta``, ``obs_std``, ``learn_std``, ``lr``
    (cosine-decayed to zero), ``batch_size``, ``warmup`` (the KL weight rises linearly from 0 to
    β over this share of the steps; 0 turns it off). ``steps`` defaults to
    ``DEFAULTS["steps"]`` (3000). With ``labels`` (int64, one per row) the model is a
    conditional VAE. The caller's global random state is left unchanged.
    """
    h = merge_hyper(DEFAULTS, hyper)
    h["lr"] = check_lr(h["lr"])
    h["warmup"] = check_real(h["warmup"], "warmup")
    if not 0 <= h["warmup"] <= 1:
        raise ValueError(f"warmup must lie in [0, 1]; got {h['warmup']}")
    h["batch_size"] = check_int(h["batch_size"], "batch_size", minimum=1)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"]) as run:
        y, n_classes = check_labels(labels, run.data.shape[0], run.device)
        model = _build(run.data, h, n_classes, run.device)
        step = _training_step(model, run.data, y, h, run)
        model.train()
        # small networks on the CPU: one thread is faster than several (see device.py)
        threads = single_thread() if run.device.type == "cpu" else contextlib.nullcontext()
        with threads:
            train(step, run.steps, model=model, progress=progress, desc="VAE")
    return model.eval()


# -- shipped checkpoints ---------------------------------------------------------------------------
def binarized_digits() -> tuple[Tensor, Tensor]:
    """scikit-learn's digits thresholded at 0.5 (the data of the chapter's Bernoulli VAEs), and
    their labels."""
    from .data import digits

    images, labels = digits()
    return (images > 0.5).float(), labels


def _pretrain_digits(
    *,
    steps: int = 6000,
    conditional: bool = False,
    beta: float = 1.0,
    latent_dim: int = 2,
    hidden: tuple[int, ...] = (128, 128),
) -> VAE:
    """A Bernoulli VAE of the binarised digits (pixels > 0.5), trained on the CPU from seed 0."""
    images, labels = binarized_digits()
    return fit(
        images,
        labels=labels if conditional else None,
        steps=steps,
        seed=0,
        device="cpu",
        progress=False,
        latent_dim=latent_dim,
        hidden=hidden,
        likelihood="bernoulli",
        beta=beta,
        batch_size=128,
    )


#: The β values of the shipped β-VAE family (checkpoints ``vae_beta_<name>``).
BETAS = {"0p25": 0.25, "1": 1.0, "4": 4.0, "16": 16.0}


def _beta_model(beta: float):
    return lambda: _pretrain_digits(steps=3000, beta=beta, latent_dim=8, hidden=(64, 64))


#: Checkpoints that ship with the book; ``python -m companion.pretrain NAME`` retrains one.
PRETRAINED = {
    "vae_digits": _pretrain_digits,
    "vae_digits_cvae": lambda: _pretrain_digits(conditional=True),
    **{f"vae_beta_{name}": _beta_model(beta) for name, beta in BETAS.items()},
}


# -- variational inference beyond the VAE ---------------------------------------------------------
def _normal_gamma_args(x, mu0, lam0, a0, b0) -> tuple[Tensor, float, float, float, float]:
    x = check_tensor(x, "x", ndim=1).detach().double().cpu()
    mu0 = check_real(mu0, "mu0")
    lam0, a0, b0 = (check_real(v, n) for v, n in ((lam0, "lam0"), (a0, "a0"), (b0, "b0")))
    for value, name in ((lam0, "lam0"), (a0, "a0"), (b0, "b0")):
        if value <= 0:
            raise ValueError(f"{name} must be > 0; got {value}")
    return x, mu0, lam0, a0, b0


def normal_gamma_posterior(
    x: Tensor, mu0: float = 0.0, lam0: float = 1.0, a0: float = 1.0, b0: float = 1.0
) -> dict[str, float]:
    """Exact posterior of x_i ~ N(μ, 1/τ) under μ | τ ~ N(mu0, 1/(lam0 τ)), τ ~ Gamma(a0, b0)
    (shape a0, rate b0): μ | τ, x ~ N(m, 1/(kappa τ)), τ | x ~ Gamma(a, b), and the log evidence
    log p(x) in nats."""
    x, mu0, lam0, a0, b0 = _normal_gamma_args(x, mu0, lam0, a0, b0)
    n, xbar = x.numel(), float(x.mean())
    kappa = lam0 + n
    m = (lam0 * mu0 + n * xbar) / kappa
    a = a0 + n / 2
    b = b0 + 0.5 * float(((x - xbar) ** 2).sum()) + lam0 * n * (xbar - mu0) ** 2 / (2 * kappa)
    log_ev = (
        math.lgamma(a) - math.lgamma(a0) + a0 * math.log(b0) - a * math.log(b)
        + 0.5 * math.log(lam0 / kappa) - 0.5 * n * LOG_2PI
    )  # fmt: skip
    return {"m": m, "kappa": kappa, "a": a, "b": b, "log_evidence": log_ev}


def _normal_gamma_elbo(x, mu0, lam0, a0, b0, m, lam, a, b) -> float:
    """ELBO of q(μ) q(τ) = N(m, 1/lam) Gamma(a, b) for the model of normal_gamma_posterior."""
    n = x.numel()
    e_tau, e_log_tau = a / b, torch.special.digamma(torch.tensor(a)).item() - math.log(b)
    spread = float(((x - m) ** 2).sum()) + n / lam
    prior_mu = (m - mu0) ** 2 + 1 / lam
    return (
        0.5 * n * (e_log_tau - LOG_2PI) - 0.5 * e_tau * spread
        + 0.5 * (math.log(lam0) + e_log_tau - LOG_2PI) - 0.5 * e_tau * lam0 * prior_mu
        + a0 * math.log(b0) - math.lgamma(a0) + (a0 - 1) * e_log_tau - b0 * e_tau
        + 0.5 * (1 + LOG_2PI - math.log(lam))
        + a - math.log(b) + math.lgamma(a) + (1 - a) * (e_log_tau + math.log(b))
    )  # fmt: skip


def cavi_normal_gamma(
    x: Tensor,
    mu0: float = 0.0,
    lam0: float = 1.0,
    a0: float = 1.0,
    b0: float = 1.0,
    *,
    iters: int = 20,
    tau_init: float = 1.0,
) -> dict[str, object]:
    """Mean-field coordinate-ascent VI (eq-vae-cavi) for the model of
    :func:`normal_gamma_posterior`, with q(μ) q(τ) = N(m, 1/lam) Gamma(a, b).

    Starts from E_q[τ] = ``tau_init`` and alternates the two optimal updates ``iters`` times.
    Returns the final m, lam, a, b and ``elbo``, the ELBO in nats after each full sweep."""
    x, mu0, lam0, a0, b0 = _normal_gamma_args(x, mu0, lam0, a0, b0)
    iters = check_iterations(iters, "iters")
    e_tau = check_real(tau_init, "tau_init", positive=True)
    n = x.numel()
    m = (lam0 * mu0 + float(x.sum())) / (lam0 + n)  # the same at every sweep
    a = a0 + (n + 1) / 2
    history = []
    for _ in range(iters):
        lam = (lam0 + n) * e_tau
        b = b0 + 0.5 * (float(((x - m) ** 2).sum()) + n / lam + lam0 * ((m - mu0) ** 2 + 1 / lam))
        e_tau = a / b
        history.append(_normal_gamma_elbo(x, mu0, lam0, a0, b0, m, lam, a, b))
    return {"m": m, "lam": lam, "a": a, "b": b, "elbo": history}


def _q_args(model: object, x: object, mu: object, sigma: object) -> tuple:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a companion.vae.VAE; got {type(model).__name__}")
    if model.n_classes:
        raise ValueError("elbo_of_q and refine_q take an unconditional VAE")
    x = model._check_x(x)
    mu, sigma = check_tensor(mu, "mu", ndim=2), check_tensor(sigma, "sigma", ndim=2)
    if mu.shape != (x.shape[0], model.latent_dim) or sigma.shape != mu.shape:
        raise ValueError(
            f"mu and sigma must both have shape {(x.shape[0], model.latent_dim)}; "
            f"got {tuple(mu.shape)} and {tuple(sigma.shape)}"
        )
    if (sigma.detach() <= 0).any():
        raise ValueError("sigma is a standard deviation and must be > 0 everywhere")
    return x, mu, sigma


def elbo_of_q(
    model: VAE, x: Tensor, mu: Tensor, sigma: Tensor, *, samples: int = 64, generator=None
) -> Tensor:
    """The ELBO of each row of ``x`` (eq-vae-elbo) for the diagonal Gaussian q = N(mu, diag σ²)
    given explicitly (one row per data point) rather than computed by the encoder. The
    reconstruction term averages ``samples`` reparameterised draws (noise from ``generator``)."""
    x, mu, sigma = _q_args(model, x, mu, sigma)
    samples = check_int(samples, "samples", minimum=1)
    eps = torch.randn((samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + sigma * eps.to(mu.device)
    recon = model._log_lik(x.expand(samples, *x.shape), model._decode(z, None)).mean(0)
    return recon - _kl_std(mu, sigma)


def refine_q(
    model: VAE, x: Tensor, *, steps: int = 300, lr: float = 0.05, samples: int = 16, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Non-amortised VI: start from the encoder's q(z|x) and maximise each row's own ELBO over its
    own (μ, log σ) with Adam (the model's weights stay fixed). Returns the refined (μ, σ)."""
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a companion.vae.VAE; got {type(model).__name__}")
    steps, samples = check_iterations(steps, "steps"), check_int(samples, "samples")
    lr = check_real(lr, "lr", positive=True)
    with torch.no_grad():
        mu0, sigma0 = model.encode(x)
    mu, log_sigma = mu0.clone().requires_grad_(True), sigma0.log().clone().requires_grad_(True)
    opt = torch.optim.Adam([mu, log_sigma], lr=lr)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(steps):
            opt.zero_grad()
            loss = -elbo_of_q(model, x, mu, log_sigma.exp(), samples=samples, generator=gen).sum()
            loss.backward()
            opt.step()
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return mu.detach(), log_sigma.detach().exp()


# == moved from explore/vae.py ==
# Evaluations the chapter's figures draw: rate and distortion of a family of β-VAEs, the IWAE
# bounds against k, and the Normal–Gamma densities of the CAVI example.


def rate_distortion_table(
    models: dict[float, VAE], x: Tensor, *, samples: int = 8, seed: int = 0
) -> dict[float, dict[str, float]]:
    """Mean rate, distortion and ELBO (nats per image) of each β-VAE ``{beta: model}`` on
    ``x``, and its number of active latent dimensions (variance of μ_j(x) across the data above
    0.01). The sampling is seeded with ``seed``; the caller's random state is left alone."""
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict {beta: VAE}")
    x = check_tensor(x, "x", ndim=2)
    out = {}
    with seeded(seed, x.device), torch.no_grad():
        for beta, model in sorted(models.items()):
            rate, dist = model.rate_distortion(x, samples=samples)
            mu, _ = model.encode(x)
            out[float(beta)] = {
                "rate": float(rate.mean()),
                "distortion": float(dist.mean()),
                "elbo": float(-(rate + dist).mean()),
                "active": int((mu.var(dim=0) > 0.01).sum()),
            }
    return out


def iwae_curve(
    model: VAE, x: Tensor, ks: Sequence[int], *, repeats: int = 5, seed: int = 0
) -> dict[str, object]:
    """Average IWAE bound over the rows of ``x`` for each k in ``ks`` (mean and standard error
    over ``repeats`` independent evaluations), and the ELBO with 64 samples. Seeded with
    ``seed``; the caller's random state is left alone."""
    import numpy as np

    x = check_tensor(x, "x", ndim=2)
    ks = [check_int(k, "k", minimum=1) for k in ks]
    repeats = check_iterations(repeats, "repeats", minimum=2)
    means, ses = [], []
    with seeded(seed, x.device), torch.no_grad():
        for k in ks:
            vals = torch.stack([model.iwae(x, k).mean() for _ in range(repeats)]).double()
            means.append(float(vals.mean()))
            ses.append(float(vals.std() / math.sqrt(repeats)))
        elbo = float(model.elbo(x, samples=64).mean())
    return {"k": np.array(ks), "mean": np.array(means), "se": np.array(ses), "elbo": elbo}


def _normal_gamma_log_pdf(mu: Tensor, tau: Tensor, m, mu_precision, a, b) -> Tensor:
    """log Gamma(τ; a, rate b) + log N(μ; m, 1/precision), precision a tensor or a number."""
    mu, tau = torch.as_tensor(mu, dtype=torch.float64), torch.as_tensor(tau, dtype=torch.float64)
    gamma = torch.distributions.Gamma(tau.new_tensor(a), tau.new_tensor(b))
    sd = torch.as_tensor(mu_precision, dtype=torch.float64).rsqrt()
    return gamma.log_prob(tau) + torch.distributions.Normal(mu.new_tensor(m), sd).log_prob(mu)


def _check_mu_tau(mu: object, tau: Tensor) -> Tensor:
    mu = check_tensor(torch.as_tensor(mu, dtype=torch.float64), "mu")
    check_broadcastable(mu, tau, "mu", "tau")
    return mu


def normal_gamma_pdf(mu: Tensor, tau: Tensor, post: dict[str, float]) -> Tensor:
    """The density p(μ, τ) = Gamma(τ; a, b) N(μ; m, 1/(kappa τ)) of a Normal–Gamma ``post`` as
    returned by :func:`normal_gamma_posterior`, elementwise (float64)."""
    tau = check_tensor(torch.as_tensor(tau, dtype=torch.float64), "tau")
    if (tau <= 0).any():
        raise ValueError("tau must be > 0")
    mu = _check_mu_tau(mu, tau)
    k = check_real(post["kappa"], "kappa")
    return _normal_gamma_log_pdf(mu, tau, post["m"], k * tau, post["a"], post["b"]).exp()


def mean_field_pdf(mu: Tensor, tau: Tensor, fit: dict[str, object]) -> Tensor:
    """The density q(μ) q(τ) = N(μ; m, 1/lam) Gamma(τ; a, b) of a :func:`cavi_normal_gamma`
    fit, elementwise (float64)."""
    tau = check_tensor(torch.as_tensor(tau, dtype=torch.float64), "tau")
    if (tau <= 0).any():
        raise ValueError("tau must be > 0")
    mu = _check_mu_tau(mu, tau)
    return _normal_gamma_log_pdf(mu, tau, fit["m"], fit["lam"], fit["a"], fit["b"]).exp()


__all__ += ["rate_distortion_table", "iwae_curve", "normal_gamma_pdf", "mean_field_pdf"]
