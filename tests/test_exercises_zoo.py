"""The checks of the zoo chapter's computational exercises accept right answers and explain
typical wrong ones."""

import math

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import zoo as checks


def good_soft(u, tau):
    return torch.sign(u) * (u.abs() - tau).clamp(min=0)


def test_soft_threshold(capsys):
    assert checks.check_soft_threshold(good_soft)
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="hard thresholding"):
        checks.check_soft_threshold(lambda u, tau: u * (u.abs() > tau))
    with pytest.raises(CheckFailed, match="sign"):
        checks.check_soft_threshold(lambda u, tau: (u.abs() - tau).clamp(min=0))
    with pytest.raises(CheckFailed, match="shape"):
        checks.check_soft_threshold(lambda u, tau: u[:2])


def good_fm(velocity, x, z, t):
    y = (1 - t) * z + t * x
    return ((velocity(y, t) - (x - z)) ** 2).sum(1).mean()


def test_flow_matching_loss():
    assert checks.check_flow_matching_loss(good_fm)


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda v, x, z, t: good_fm_target(v, x, z, t), "z − x"),
        (lambda v, x, z, t: swapped_path(v, x, z, t), "noise at t = 0"),
        (lambda v, x, z, t: good_fm(v, x, z, t) * x.shape[0], "summed"),
        (lambda v, x, z, t: good_fm(v, x, z, t) / 2, "coordinates"),
        (lambda v, x, z, t: "loss", "should return a tensor"),
    ],
)
def test_flow_matching_loss_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        checks.check_flow_matching_loss(wrong)


def good_fm_target(velocity, x, z, t):
    y = (1 - t) * z + t * x
    return ((velocity(y, t) - (z - x)) ** 2).sum(1).mean()


def swapped_path(velocity, x, z, t):
    y = (1 - t) * x + t * z
    return ((velocity(y, t) - (x - z)) ** 2).sum(1).mean()


def good_rate(P):
    vals, vecs = torch.linalg.eig(P.T)
    pi = vecs[:, (vals - 1).abs().argmin()].real
    pi = pi / pi.sum()
    return -(pi[:, None] * P * P.log()).sum()


def test_entropy_rate():
    assert checks.check_entropy_rate(good_rate)
    with pytest.raises(CheckFailed, match="stationary"):
        checks.check_entropy_rate(lambda P: -(P * P.log()).sum(1).mean())
    with pytest.raises(CheckFailed, match="bits"):
        checks.check_entropy_rate(lambda P: good_rate(P) / math.log(2))
