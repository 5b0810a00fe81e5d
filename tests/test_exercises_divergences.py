"""The checks of the divergences chapter's computational exercises accept a right answer and
reject typical wrong ones with a message that names the mistake."""

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import divergences as chk


def w1_sorted(x, y):
    return (torch.sort(x).values - torch.sort(y).values).abs().mean()


def mmd2_unbiased(x, y, h):
    def k(a, b):
        return torch.exp(-(torch.cdist(a, b) ** 2) / (2 * h**2))

    n, m = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * k(x, y).mean()


def mmd2_biased(x, y, h):
    def k(a, b):
        return torch.exp(-(torch.cdist(a, b) ** 2) / (2 * h**2))

    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def test_right_answers_pass(capsys):
    assert chk.check_wasserstein_1d(w1_sorted)
    assert chk.check_mmd2_unbiased(mmd2_unbiased)
    assert capsys.readouterr().out.count("Correct") == 2


def test_unsorted_w1_is_named():
    with pytest.raises(CheckFailed, match="sort both"):
        chk.check_wasserstein_1d(lambda x, y: (x - y).abs().mean())


def test_w1_squared_is_rejected():
    with pytest.raises(CheckFailed, match="W1 with n"):
        chk.check_wasserstein_1d(lambda x, y: w1_sorted(x, y) ** 2)


def test_biased_mmd_is_named():
    with pytest.raises(CheckFailed, match="biased \\(V-statistic\\)"):
        chk.check_mmd2_unbiased(mmd2_biased)


def test_wrong_bandwidth_convention_is_rejected():
    with pytest.raises(CheckFailed, match="MMD²"):
        chk.check_mmd2_unbiased(lambda x, y, h: mmd2_unbiased(x, y, h * 2**0.5))


def test_not_a_function_and_a_crash_are_explained():
    with pytest.raises(CheckFailed, match="pass your function itself"):
        chk.check_wasserstein_1d(1.0)
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError"):
        chk.check_mmd2_unbiased(lambda x, y, h: 1 / 0)
    with pytest.raises(CheckFailed, match="NaN"):
        chk.check_wasserstein_1d(lambda x, y: float("nan"))
