"""The checks of the GAN chapter's computational exercises accept right answers and explain
typical wrong ones."""

import math

import pytest
import torch
import torch.nn.functional as F

from companion.exercises import CheckFailed
from companion.exercises import gan as checks


def naive_d_loss(a_real, a_fake):
    d_real, d_fake = torch.sigmoid(a_real), torch.sigmoid(a_fake)
    return -(d_real.log().mean() + (1 - d_fake).log().mean())


def good_d_loss(a_real, a_fake):
    return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()


def test_discriminator_loss_accepts_the_logit_form(capsys):
    assert checks.check_discriminator_loss(good_d_loss)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(), "swapped"),
        (lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), "summed"),
        (naive_d_loss, "NaN"),
        (lambda r, f: "loss", "single number"),
        (lambda r, f: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_discriminator_loss_explains_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        checks.check_discriminator_loss(wrong)


def good_penalty(critic, real, fake, eps):
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def test_gradient_penalty_accepts_autograd_solution():
    assert checks.check_gradient_penalty(good_penalty)


def _squared(critic, real, fake, eps):
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return ((grad.pow(2).sum(1) - 1) ** 2).mean()


def _swapped(critic, real, fake, eps):
    return good_penalty(critic, real, fake, 1 - eps)


def test_gradient_penalty_explains_mistakes():
    with pytest.raises(CheckFailed, match="squared norm"):
        checks.check_gradient_penalty(_squared)
    with pytest.raises(CheckFailed, match="swapped"):
        checks.check_gradient_penalty(_swapped)
    with pytest.raises(CheckFailed, match="linear critic"):
        checks.check_gradient_penalty(lambda c, r, f, e: torch.tensor(0.0))


def good_js(mu, sigma, n, generator):
    p, q = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(mu, sigma)
    xp = torch.randn(n, generator=generator, dtype=torch.float64)
    xq = mu + sigma * torch.randn(n, generator=generator, dtype=torch.float64)

    def log_m(x):
        return torch.logaddexp(p.log_prob(x), q.log_prob(x)) - math.log(2)

    return 0.5 * ((p.log_prob(xp) - log_m(xp)).mean() + (q.log_prob(xq) - log_m(xq)).mean())


def test_js_estimator_accepts_monte_carlo():
    assert checks.check_js_estimator(good_js)


def test_js_estimator_explains_bits_and_factor_two():
    with pytest.raises(CheckFailed, match="bits"):
        checks.check_js_estimator(lambda *a: good_js(*a) / math.log(2))
    with pytest.raises(CheckFailed, match="twice"):
        checks.check_js_estimator(lambda *a: 2 * good_js(*a))
    with pytest.raises(CheckFailed, match="pass your function itself"):
        checks.check_js_estimator(0.3)
