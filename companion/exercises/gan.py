"""Checks for the computational exercises of the chapter "Generative adversarial networks".

Each check calls the reader's function on fixed inputs and compares with a reference computed
here independently of the companion's GAN code: torch's binary cross-entropy for the
discriminator loss, closed-form gradients of linear and quadratic critics for the gradient
penalty, and SciPy's adaptive quadrature for the Jensen–Shannon divergence.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate, stats

from companion._validate import check_int
from companion.exercises import CheckFailed, call_reader, compare, passed

__all__ = ["check_discriminator_loss", "check_gradient_penalty", "check_js_estimator"]

F64 = torch.float64


_call = call_reader


def _as_float(value: object, name: str) -> float:
    try:
        out = float(torch.as_tensor(value, dtype=F64).detach())
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(f"{name}: expected a single number, got {type(value).__name__}") from None
    return out


def check_discriminator_loss(loss_fn: Callable) -> bool:
    """Check ``loss_fn(a_real, a_fake)``: the discriminator's loss −V of eq-gan-value from logits,
    averaged over each batch (mean over the real batch plus mean over the fake batch)."""
    gen = torch.Generator().manual_seed(0)
    a_real = 2 * torch.randn(7, generator=gen, dtype=F64)
    a_fake = 2 * torch.randn(5, generator=gen, dtype=F64)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    want = bce(a_real, torch.ones_like(a_real)) + bce(a_fake, torch.zeros_like(a_fake))
    got = _as_float(_call(loss_fn, a_real, a_fake), "loss")
    swapped = bce(a_real, torch.zeros_like(a_real)) + bce(a_fake, torch.ones_like(a_fake))
    summed = bce(a_real, torch.ones_like(a_real), reduction="sum") + bce(
        a_fake, torch.zeros_like(a_fake), reduction="sum"
    )
    if math.isfinite(got) and abs(got - float(swapped)) < 1e-9:
        raise CheckFailed("the labels are swapped: real samples should be labelled 1, fakes 0.")
    if math.isfinite(got) and abs(got - float(summed)) < 1e-9:
        raise CheckFailed("you summed over each batch; take the mean over each batch instead.")
    if math.isfinite(got) and abs(got - float(want) / 2) < 1e-9:
        raise CheckFailed("you averaged the two terms; V adds the two means.")
    compare("loss on random logits", got, want, atol=1e-9)
    # A confident discriminator: logits of ±800 round sigmoid to exactly 0 or 1 in float64.
    big = torch.tensor([800.0], dtype=F64)
    extreme = _as_float(_call(loss_fn, -big, big), "loss")
    compare(
        "loss at logits a_real = −800, a_fake = +800",
        extreme,
        1600.0,
        atol=1e-6,
        hint="Work with logits: log σ(a) = −softplus(−a) never takes the log of 0.",
    )
    return passed("the loss is right, and stable at ±800.")


def _linear_and_quadratic_critics():
    w = torch.tensor([0.6, -1.7, 0.4], dtype=F64)
    b = torch.tensor([1.0, 0.5, -2.0], dtype=F64)

    def linear(x):
        return x @ w + 0.3

    def quadratic(x):  # f(x) = ½‖x‖² + b·x, gradient x + b
        return 0.5 * (x**2).sum(-1) + x @ b

    return w, b, linear, quadratic


def check_gradient_penalty(penalty_fn: Callable) -> bool:
    """Check ``penalty_fn(critic, real, fake, eps)`` for eq-gan-gp: the mean over the batch of
    (‖∇f(x̂)‖ − 1)² at x̂ = eps·real + (1 − eps)·fake, with ``eps`` of shape (n, 1) given."""
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(16, 3, generator=gen, dtype=F64)
    fake = torch.randn(16, 3, generator=gen, dtype=F64) + 2.0
    eps = torch.rand(16, 1, generator=gen, dtype=F64)
    w, b, linear, quadratic = _linear_and_quadratic_critics()
    got_lin = _as_float(_call(penalty_fn, linear, real, fake, eps), "penalty")
    got = _as_float(_call(penalty_fn, quadratic, real, fake, eps), "penalty")
    x_hat = eps * real + (1 - eps) * fake
    grad = x_hat + b  # closed-form gradient of the quadratic critic
    want = ((grad.norm(dim=1) - 1) ** 2).mean()
    if abs(got_lin - (float(w.norm()) ** 2 - 1) ** 2) < 1e-9:
        raise CheckFailed("you used the squared norm ‖∇f‖²; the penalty uses the norm ‖∇f‖.")
    wrong_mix = (1 - eps) * real + eps * fake + b
    if abs(got - float(((wrong_mix.norm(dim=1) - 1) ** 2).mean())) < 1e-9:
        raise CheckFailed("x̂ should be eps·real + (1 − eps)·fake; you swapped eps and 1 − eps.")
    if abs(got - float(((grad.norm(dim=1) - 1) ** 2).sum())) < 1e-9:
        raise CheckFailed("you summed over the batch; the penalty is a mean.")
    compare(
        "penalty of a linear critic f(x) = w·x + c",
        got_lin,
        (float(w.norm()) - 1) ** 2,
        atol=1e-9,
        hint="For a linear critic the gradient is w everywhere: the penalty is (‖w‖ − 1)².",
    )
    compare("penalty of a quadratic critic", got, want, atol=1e-9)
    return passed("the penalty matches two closed forms.")


def _js_reference(mu: float, sigma: float) -> float:
    def integrand(x: float) -> float:
        lp, lq = stats.norm.logpdf(x), stats.norm.logpdf(x, mu, sigma)
        lm = np.logaddexp(lp, lq) - math.log(2)
        return 0.5 * (math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm))

    return integrate.quad(integrand, -40, 40, points=[0.0, mu], limit=500)[0]


def check_js_estimator(estimator: Callable, n: int = 100_000) -> bool:
    """Check ``estimator(mu, sigma, n, generator)``: a Monte Carlo estimate, in nats, of
    JS(N(0, 1) ‖ N(mu, sigma²)) from ``n`` samples of each distribution."""
    n = check_int(n, "n", minimum=1000, maximum=10**7)
    for mu, sigma in ((0.0, 1.0), (1.0, 1.0), (2.0, 0.5), (6.0, 1.0)):
        gen = torch.Generator().manual_seed(2)
        got = _as_float(_call(estimator, mu, sigma, n, gen), "estimate")
        want = _js_reference(mu, sigma)
        # Each sample term is a log-ratio bounded by log 2 in absolute value: the standard error
        # of the mean of n of them is at most log 2 / (2 sqrt n) per half; 5 of those, plus slack.
        tol = 5 * math.log(2) / math.sqrt(n) + 1e-9
        if want > 0.05 and abs(got - want / math.log(2)) < tol:
            raise CheckFailed("your estimate is in bits; the book works in nats (natural log).")
        if want > 0.05 and abs(got - 2 * want) < 2 * tol:
            raise CheckFailed("your estimate is twice JS: JS averages the two KL terms (½ each).")
        compare(
            f"JS(N(0,1) ‖ N({mu}, {sigma}²))",
            got,
            want,
            atol=tol,
            hint="Average log(p/m) over samples of p and log(q/m) over samples of q, "
            "with m = (p + q)/2, and take half the sum.",
        )
    return passed("your JS agrees with quadrature at four pairs.")
