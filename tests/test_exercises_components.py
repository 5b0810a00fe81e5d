"""The checks of the components appendix's computational exercises accept right answers and
explain typical wrong ones."""

import math

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import components as checks


def good_lse(z):
    m = z.max(-1, keepdim=True).values
    return (m + (z - m).exp().sum(-1, keepdim=True).log()).squeeze(-1)


def test_logsumexp(capsys):
    assert checks.check_logsumexp(good_lse)
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="NaN or inf"):
        checks.check_logsumexp(lambda z: z.exp().sum(-1).log())
    with pytest.raises(CheckFailed, match="max z"):
        checks.check_logsumexp(lambda z: z.max(-1).values)
    with pytest.raises(CheckFailed, match="shape"):
        checks.check_logsumexp(lambda z: z.sum())


def good_attention(q, k, v):
    n, d_k = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-1) @ v


def test_causal_attention():
    assert checks.check_causal_attention(good_attention)


def _unscaled(q, k, v):
    return good_attention(q * math.sqrt(q.shape[-1]), k, v)


def _unmasked(q, k, v):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v


def _transposed(q, k, v):
    n = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.ones(n, n, dtype=torch.bool).triu()
    return scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v


@pytest.mark.parametrize(
    ("wrong", "match"),
    [(_unscaled, "√d_k"), (_unmasked, "no mask"), (_transposed, "transposed"), (1, "function")],
)
def test_causal_attention_mistakes(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        checks.check_causal_attention(wrong)
