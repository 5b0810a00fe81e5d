"""The shared machinery of the exercise checks."""

import pytest
import torch

from companion.exercises import CheckFailed, compare, passed


def test_compare_accepts_close_values(capsys):
    compare("x", [1.0, 2.0 + 1e-9], torch.tensor([1.0, 2.0]), atol=1e-6)
    assert passed("fine") is True
    assert capsys.readouterr().out.startswith("Correct: fine")


@pytest.mark.parametrize(
    ("got", "match"),
    [([1.0, 2.5], "off by"), ([1.0], "shape"), ([1.0, float("nan")], "NaN"), ("ab", "number")],
)
def test_compare_explains_what_is_wrong(got, match):
    with pytest.raises(CheckFailed, match=match):
        compare("x", got, [1.0, 2.0], atol=1e-6, hint="Look again.")
