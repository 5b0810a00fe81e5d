"""The checks of the computational exercises in "Variational autoencoders"."""

import math

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises.vae import check_iwae_from_log_weights, check_kl_to_prior


def test_kl_check_accepts_the_formula(capsys):
    assert check_kl_to_prior(lambda m, s: 0.5 * (m**2 + s**2 - 1 - 2 * torch.log(s)).sum(-1))
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda m, s: 0.5 * (m**2 + s - 1 - torch.log(s)).sum(-1), "variance"),
        (lambda m, s: (m**2 + s**2 - 1 - 2 * torch.log(s)).sum(-1), "factor ½"),
        (lambda m, s: 0.5 * (m**2 + s**2 - 1 - 2 * torch.log(s)), "Sum over"),
        (lambda m, s: 1 / 0, "ZeroDivisionError"),
        (None, "function itself"),
    ],
)
def test_kl_check_rejects_typical_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        check_kl_to_prior(wrong)


def test_iwae_check_accepts_logsumexp():
    assert check_iwae_from_log_weights(lambda lw: torch.logsumexp(lw, 0) - math.log(lw.shape[0]))


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda lw: torch.log(torch.exp(lw).mean(0)), "underflows"),
        (lambda lw: lw.mean(0), "ELBO"),
        (lambda lw: torch.logsumexp(lw, 0), "1/K"),
        (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "shape|dimension 0"),
    ],
)
def test_iwae_check_rejects_typical_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        check_iwae_from_log_weights(wrong)
