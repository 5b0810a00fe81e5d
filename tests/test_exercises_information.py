"""The checks of the information chapter's computational exercises accept a right answer and
reject typical wrong ones with a message that names the mistake."""

import math

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import information as chk


def entropy_bits(p):
    return -torch.xlogy(p, p).sum() / math.log(2)


def mutual_information(joint):
    prod = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    ratio = torch.where(joint > 0, joint / prod, torch.ones_like(joint))
    return (joint * torch.log(ratio)).sum()


def test_right_answers_pass(capsys):
    assert chk.check_entropy_bits(entropy_bits)
    assert chk.check_mutual_information(mutual_information)
    assert capsys.readouterr().out.count("Correct") == 2


def test_zero_log_zero_is_named():
    with pytest.raises(CheckFailed, match="0 \\* log 0"):
        chk.check_entropy_bits(lambda p: -(p * torch.log2(p)).sum())
    with pytest.raises(CheckFailed, match="0 \\* log 0"):
        chk.check_mutual_information(
            lambda j: (j * torch.log(j / (j.sum(1, keepdim=True) * j.sum(0)))).sum()
        )


def test_units_and_sign_are_named():
    with pytest.raises(CheckFailed, match="in nats"):
        chk.check_entropy_bits(lambda p: -torch.xlogy(p, p).sum())
    with pytest.raises(CheckFailed, match="sign is wrong"):
        chk.check_entropy_bits(lambda p: torch.xlogy(p, p).sum() / math.log(2))
    with pytest.raises(CheckFailed, match="in bits"):
        chk.check_mutual_information(lambda j: mutual_information(j) / math.log(2))


def test_joint_entropy_is_named():
    with pytest.raises(CheckFailed, match="joint entropy"):
        chk.check_mutual_information(lambda j: -torch.xlogy(j, j).sum())


def test_bad_inputs_are_explained():
    with pytest.raises(CheckFailed, match="pass your function itself"):
        chk.check_entropy_bits(0.5)
    with pytest.raises(CheckFailed, match="one number"):
        chk.check_entropy_bits(lambda p: p)
    with pytest.raises(CheckFailed, match="raised"):
        chk.check_mutual_information(lambda j: j.nope())
