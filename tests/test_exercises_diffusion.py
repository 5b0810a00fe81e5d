"""The checks of the diffusion chapter's computational exercises accept right answers and
explain typical wrong ones."""

import math

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import diffusion as checks


def good_q_sample(x0, t, eps, betas):
    ab = torch.prod(1 - betas[:t])
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def test_q_sample_accepts_the_closed_form(capsys):
    assert checks.check_q_sample(good_q_sample)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda x0, t, e, b: good_q_sample(x0, t - 1, e, b) if t > 1 else x0, "ᾱ_\\{t−1\\}"),
        (lambda x0, t, e, b: good_q_sample(x0, min(t + 1, 1000), e, b), "ᾱ_\\{t\\+1\\}|off by"),
        (
            lambda x0, t, e, b: torch.prod(1 - b[:t]) * x0 + (1 - torch.prod(1 - b[:t])) * e,
            "square roots|off by",
        ),
        (lambda x0, t, e, b: x0[:1], "shape"),
        ("not a function", "pass your function itself"),
    ],
)
def test_q_sample_explains_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        checks.check_q_sample(wrong)


def good_ddim(xt, eps_hat, ab_t, ab_s, zeta, z):
    x0_hat = (xt - math.sqrt(1 - ab_t) * eps_hat) / math.sqrt(ab_t)
    sigma2 = zeta**2 * (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
    return math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s - sigma2) * eps_hat + math.sqrt(sigma2) * z


def test_ddim_step_accepts_the_update():
    assert checks.check_ddim_step(good_ddim)


def _zeta_not_squared(xt, eps_hat, ab_t, ab_s, zeta, z):
    return good_ddim(xt, eps_hat, ab_t, ab_s, math.sqrt(zeta), z)


def _no_sigma_in_middle(xt, eps_hat, ab_t, ab_s, zeta, z):
    x0_hat = (xt - math.sqrt(1 - ab_t) * eps_hat) / math.sqrt(ab_t)
    sigma2 = zeta**2 * (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
    return math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s) * eps_hat + math.sqrt(sigma2) * z


def test_ddim_step_explains_mistakes():
    with pytest.raises(CheckFailed, match="ζ²|σ² at ζ = 1"):
        checks.check_ddim_step(_zeta_not_squared)
    with pytest.raises(CheckFailed, match="√\\(1 − ᾱ_s − σ²\\)"):
        checks.check_ddim_step(_no_sigma_in_middle)
    with pytest.raises(CheckFailed, match="ζ = 0"):
        checks.check_ddim_step(lambda xt, e, a, b, zeta, z: xt + z)
