"""The checks of the computational exercises in "Manifolds and latent spaces"."""

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises.manifolds import check_latent_length, check_roll_metric


def test_roll_metric_accepts_the_right_answer(capsys):
    assert check_roll_metric(lambda t, h: torch.tensor([[1 + t * t, 0.0], [0.0, 1.0]]))
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda t, h: torch.tensor([[t * t, 0.0], [0.0, 1.0]]), "drop the 1"),
        (lambda t, h: torch.eye(3), "J Jᵀ"),
        (lambda t, h: torch.tensor([[1 + t, 0.0], [0.0, 1.0]]), "off by"),
        (lambda t, h: [[float("nan"), 0.0], [0.0, 1.0]], "NaN"),
    ],
)
def test_roll_metric_rejects_typical_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        check_roll_metric(wrong)


def _polygon(decoder, path):
    pts = torch.stack([decoder(z) for z in path])
    return pts.diff(dim=0).norm(dim=1).sum().item()


def test_latent_length_accepts_polygon_and_metric_answers():
    from companion import manifolds as mf

    assert check_latent_length(_polygon)
    assert check_latent_length(mf.curve_length)


def test_latent_length_rejects_latent_euclidean_length_and_non_functions():
    with pytest.raises(CheckFailed, match="latent coordinates"):
        check_latent_length(lambda dec, path: path.diff(dim=0).norm(dim=1).sum().item())
    with pytest.raises(CheckFailed, match="off by"):
        check_latent_length(lambda dec, path: 0.9 * _polygon(dec, path))
    with pytest.raises(CheckFailed, match="function itself"):
        check_latent_length(3.0)
    with pytest.raises(CheckFailed, match="function itself"):
        check_roll_metric(None)
