"""The checks of the probability chapter's computational exercises accept a right answer and
reject typical wrong ones with a message that names the mistake."""

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import probability as chk


def tables(joint):
    p_x, p_y = joint.sum(1), joint.sum(0)
    return p_x, p_y, joint / p_x[:, None]


def affine(mu, cov, a, b):
    return a @ mu + b, a @ cov @ a.T


def test_right_answers_pass(capsys):
    assert chk.check_marginals_conditional(tables)
    assert chk.check_affine_moments(affine)
    assert capsys.readouterr().out.count("Correct") == 2


def test_swapped_axes_are_named():
    with pytest.raises(CheckFailed, match="along each row"):
        chk.check_marginals_conditional(lambda j: (j.sum(0), j.sum(1), j / j.sum(1)[:, None]))


def test_unnormalised_conditional_is_named():
    with pytest.raises(CheckFailed, match="joint table itself"):
        chk.check_marginals_conditional(lambda j: (j.sum(1), j.sum(0), j))


def test_p_x_given_y_is_named():
    with pytest.raises(CheckFailed, match="P\\(X = i \\| Y = j\\)"):
        chk.check_marginals_conditional(lambda j: (j.sum(1), j.sum(0), j / j.sum(0)[None, :]))


def test_wrong_covariances_are_named():
    with pytest.raises(CheckFailed, match="depends on b"):
        chk.check_affine_moments(
            lambda mu, cov, a, b: (a @ mu + b, a @ cov @ a.T + torch.outer(b, b))
        )
    with pytest.raises(CheckFailed, match="A Σ Aᵀ"):
        chk.check_affine_moments(lambda mu, cov, a, b: (a @ mu + b, a.T @ cov @ a))
    with pytest.raises(CheckFailed, match="A μ \\+ b"):
        chk.check_affine_moments(lambda mu, cov, a, b: (a @ mu, a @ cov @ a.T))


def test_bad_returns_are_explained():
    with pytest.raises(CheckFailed, match="return a tuple"):
        chk.check_affine_moments(lambda mu, cov, a, b: a @ cov @ a.T)
    with pytest.raises(CheckFailed, match="pass your function itself"):
        chk.check_marginals_conditional(torch.ones(2, 2))
    with pytest.raises(CheckFailed, match="raised"):
        chk.check_marginals_conditional(lambda j: j.foo)
