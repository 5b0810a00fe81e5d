"""The checks of the optimization chapter's exercises accept right answers and name wrong ones."""

import pytest
import torch

from companion.exercises import CheckFailed
from companion.exercises import optimization as ex


def good_adagrad(x, g, s, lr, eps):
    s = s + g * g
    return x - lr * g / (s.sqrt() + eps), s


def test_adagrad_accepts_the_right_rule(capsys):
    assert ex.check_adagrad_step(good_adagrad)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "match"),
    [
        (lambda x, g, s, lr, eps: (x - lr * g / (g.abs() + eps), s + g * g), "sum"),
        (lambda x, g, s, lr, eps: (x - lr * g / (s + g * g).add(eps).sqrt(), s + g * g), "outside"),
        (lambda x, g, s, lr, eps: (x - lr * g / (s + g * g + eps), s + g * g), "square root"),
        (lambda x, g, s, lr, eps: (x - lr * g / (s.sqrt() + eps), s + g * g), "first"),
        (
            lambda x, g, s, lr, eps: (x - 2 * lr * g / ((s + g * g).sqrt() + eps), s + g * g),
            "off by",
        ),
        (lambda x, g, s, lr, eps: x, "pair"),
    ],
)
def test_adagrad_names_the_slip(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        ex.check_adagrad_step(wrong)


def good_clip(grads, max_norm):
    total = torch.cat([g.flatten() for g in grads]).norm()
    return [g * min(1.0, max_norm / (total.item() + 1e-6)) for g in grads]


def test_clip_accepts_the_right_rule(capsys):
    assert ex.check_clip_by_global_norm(good_clip)
    assert capsys.readouterr().out.startswith("Correct")


def per_tensor(grads, max_norm):
    return [g * min(1.0, max_norm / g.norm().item()) for g in grads]


def always_rescale(grads, max_norm):
    total = torch.cat([g.flatten() for g in grads]).norm()
    return [g * max_norm / total for g in grads]


@pytest.mark.parametrize(
    ("wrong", "match"),
    [(per_tensor, "each tensor"), (always_rescale, "unchanged"), (lambda g, m: g[0], "list")],
)
def test_clip_names_the_slip(wrong, match):
    with pytest.raises(CheckFailed, match=match):
        ex.check_clip_by_global_norm(wrong)


def test_checks_want_a_function():
    with pytest.raises(CheckFailed, match="function itself"):
        ex.check_adagrad_step(good_adagrad(torch.zeros(2), torch.ones(2), torch.zeros(2), 0.1, 0))
    with pytest.raises(CheckFailed, match="function itself"):
        ex.check_clip_by_global_norm(None)
