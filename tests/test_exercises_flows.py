"""The checks of the computational exercises in "Normalizing flows"."""

import pytest
import torch
from torch.distributions import Normal

from companion.exercises import CheckFailed
from companion.exercises.flows import check_planar_log_density, check_planar_sampler

STD = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))


def right_density(x, a):
    return STD.log_prob(x + a * torch.tanh(x)) + torch.log(1 + a * (1 - torch.tanh(x) ** 2))


def right_sampler(z, a):
    lo, hi = z - abs(a) - 1e-9, z + abs(a) + 1e-9
    for _ in range(70):
        mid = (lo + hi) / 2
        big = mid + a * torch.tanh(mid) > z
        hi, lo = torch.where(big, mid, hi), torch.where(big, lo, mid)
    return (lo + hi) / 2


def test_density_check_accepts_the_change_of_variables(capsys):
    assert check_planar_log_density(right_density)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (
            lambda x, a: (
                STD.log_prob(x + a * torch.tanh(x)) - torch.log(1 + a * (1 - torch.tanh(x) ** 2))
            ),
            "divided by",
        ),
        (lambda x, a: STD.log_prob(x + a * torch.tanh(x)), "missing"),
        (lambda x, a: right_density(x, a) + 0.1, "off by"),
        (lambda x, a: right_density(x, a)[:-1], "shape"),
        ("not a function", "function itself"),
    ],
)
def test_density_check_rejects_typical_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        check_planar_log_density(wrong)


def test_sampler_check_accepts_bisection():
    assert check_planar_sampler(right_sampler)


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda z, a: z + a * torch.tanh(z), "applied f to z"),
        (lambda z, a: z, "off by"),
        (lambda z, a: z[:10], "one x per z"),
        (lambda z, a: z / 0 * 0, "NaN"),
        (lambda z, a: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_sampler_check_rejects_typical_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        check_planar_sampler(wrong)
