"""The checks of the linear-algebra chapter's exercises accept right answers and name wrong ones."""

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import linear_algebra as ex


def good_pca(X, k):
    Xc = X - X.mean(0)
    _, s, Vh = torch.linalg.svd(Xc, full_matrices=False)
    return Vh[:k], s[:k] ** 2 / (X.shape[0] - 1)


def test_pca_accepts_the_right_answer(capsys):
    assert ex.check_pca(good_pca)
    assert capsys.readouterr().out.startswith("Correct")


def uncentred(X, k):
    _, s, Vh = torch.linalg.svd(X, full_matrices=False)
    return Vh[:k], s[:k] ** 2 / (X.shape[0] - 1)


def divide_by_n(X, k):
    Vh, var = good_pca(X, k)
    return Vh, var * (X.shape[0] - 1) / X.shape[0]


def transposed(X, k):
    Vh, var = good_pca(X, k)
    return Vh.T, var


def sign_flipped(X, k):
    Vh, var = good_pca(X, k)
    return -Vh, var


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (uncentred, "centre"),
        (divide_by_n, "n - 1"),
        (transposed, "transpose"),
        (lambda X, k: 1, "pair"),
    ],
)
def test_pca_names_the_slip(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        ex.check_pca(wrong)


def test_pca_signs_are_free():
    assert ex.check_pca(sign_flipped)


def good_logdet(A):
    return 2 * torch.log(torch.diagonal(torch.linalg.cholesky(A))).sum()


def test_logdet_accepts_the_right_answer(capsys):
    assert ex.check_logdet_cholesky(good_logdet)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda A: torch.log(torch.diagonal(torch.linalg.cholesky(A))).sum(), "factor 2"),
        (lambda A: torch.log(torch.diagonal(A)).sum(), "diagonal"),
        (
            lambda A: torch.log(torch.diagonal(torch.linalg.cholesky(A)).prod() ** 2),
            "overflow",
        ),
    ],
)
def test_logdet_names_the_slip(wrong, match):
    with pytest.raises((CheckFailed, ValueError), match=match):
        ex.check_logdet_cholesky(wrong)
