"""The checks of the measure chapter's computational exercises accept a right answer and
reject typical wrong ones with a message that names the mistake."""

import pytest
import torch
from torch.distributions import Normal

from companion.exercises import CheckFailed
from companion.exercises import measure as chk

STD = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))


def affine_density(y, a, b):
    return torch.exp(STD.log_prob((y - b) / a)) / abs(a)


def change_of_measure(x, log_p, log_q, lo, hi):
    inside = ((x > lo) & (x < hi)).double()
    return (inside * torch.exp(log_p(x) - log_q(x))).mean()


def test_right_answers_pass(capsys):
    assert chk.check_affine_pushforward(affine_density)
    assert chk.check_change_of_measure(change_of_measure)
    assert capsys.readouterr().out.count("Correct") == 2


def test_missing_absolute_value_is_named():
    with pytest.raises(CheckFailed, match="absolute"):
        chk.check_affine_pushforward(lambda y, a, b: torch.exp(STD.log_prob((y - b) / a)) / a)


def test_multiplying_by_a_is_named():
    with pytest.raises(CheckFailed, match="instead of dividing"):
        chk.check_affine_pushforward(lambda y, a, b: torch.exp(STD.log_prob((y - b) / a)) * abs(a))


def test_unweighted_and_inverted_weights_are_named():
    with pytest.raises(CheckFailed, match="Q\\(A\\)"):
        chk.check_change_of_measure(lambda x, lp, lq, lo, hi: ((x > lo) & (x < hi)).double().mean())
    with pytest.raises(CheckFailed, match="upside down"):
        chk.check_change_of_measure(
            lambda x, lp, lq, lo, hi: (((x > lo) & (x < hi)) * torch.exp(lq(x) - lp(x))).mean()
        )


def test_self_normalised_is_named():
    def self_normalised(x, log_p, log_q, lo, hi):
        w = torch.exp(log_p(x) - log_q(x))
        return (((x > lo) & (x < hi)) * w).sum() / w.sum()

    with pytest.raises(CheckFailed, match="self-normalised"):
        chk.check_change_of_measure(self_normalised)


def test_bad_answers_are_explained():
    with pytest.raises(CheckFailed, match="pass your function itself"):
        chk.check_affine_pushforward("density")
    with pytest.raises(CheckFailed, match="return one number"):
        chk.check_change_of_measure(lambda x, lp, lq, lo, hi: x)
    with pytest.raises(CheckFailed, match="shape"):
        chk.check_affine_pushforward(lambda y, a, b: y[:3])
