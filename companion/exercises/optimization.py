"""Checks for the computational exercises of the chapter "Optimization".

The references are PyTorch's own implementations (``torch.optim.Adagrad`` and
``torch.nn.utils.clip_grad_norm_``), never the reader's code; when an answer is wrong, the
check also runs a few typical slips and names the one the answer matches.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import CheckFailed, as_float64, call_reader, compare, passed

__all__ = ["check_adagrad_step", "check_clip_by_global_norm"]

F64 = torch.float64


def _beale_grad(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    c = (1.5, 2.25, 2.625)
    r = [ci - x + x * y ** (i + 1) for i, ci in enumerate(c)]
    gx = sum(2 * ri * (y ** (i + 1) - 1) for i, ri in enumerate(r))
    gy = sum(2 * ri * (i + 1) * x * y**i for i, ri in enumerate(r))
    return torch.stack([gx, gy])


def _run(step: Callable, steps: int, lr: float, eps: float) -> torch.Tensor:
    x, s = torch.tensor([1.0, 1.5], dtype=F64), torch.zeros(2, dtype=F64)
    out = [x]
    for _ in range(steps):
        result = call_reader(
            step, x.clone(), _beale_grad(x), s.clone(), lr, eps, name="adagrad_step"
        )
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CheckFailed("adagrad_step must return a pair (new_x, new_sum_of_squares)")
        x, s = (as_float64(v, "adagrad_step") for v in result)
        out.append(x)
    return torch.stack(out)


def _torch_adagrad(steps: int, lr: float, eps: float) -> torch.Tensor:
    p = torch.nn.Parameter(torch.tensor([1.0, 1.5], dtype=F64))
    opt = torch.optim.Adagrad([p], lr=lr, eps=eps)
    out = [p.detach().clone()]
    for _ in range(steps):
        p.grad = _beale_grad(p.detach().clone())
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)


_ADAGRAD_SLIPS = {
    "you divided by the current |g_t| only: Adagrad divides by the root of the *sum* of all "
    "squared gradients so far": lambda x, g, s, lr, eps: (x - lr * g / (g.abs() + eps), s + g * g),
    "ε belongs outside the square root, sqrt(s_t) + ε (PyTorch's convention)": (
        lambda x, g, s, lr, eps: (x - lr * g / torch.sqrt(s + g * g + eps), s + g * g)
    ),
    "the square root is missing: divide by sqrt(s_t) + ε, not s_t + ε": (
        lambda x, g, s, lr, eps: (x - lr * g / (s + g * g + eps), s + g * g)
    ),
    "update the sum of squares first, then divide by it (you used s_{t-1})": (
        lambda x, g, s, lr, eps: (x - lr * g / (s.sqrt() + eps), s + g * g)
    ),
}


def check_adagrad_step(adagrad_step: Callable) -> bool:
    """Check ``adagrad_step(x, g, s, lr, eps) -> (new_x, new_s)`` against ``torch.optim.Adagrad``
    over 200 steps on Beale's function (ε = 1e-3 so that its place matters)."""
    if not callable(adagrad_step):
        raise CheckFailed("pass your function itself: check_adagrad_step(adagrad_step)")
    lr, eps, steps = 0.1, 1e-3, 200
    ref = _torch_adagrad(steps, lr, eps)
    with torch.no_grad():
        got = _run(adagrad_step, steps, lr, eps)
    try:
        compare("trajectory", got, ref, atol=1e-8)
    except CheckFailed as err:
        for slip, rule in _ADAGRAD_SLIPS.items():
            if torch.allclose(_run(rule, 20, lr, eps), got[:21], atol=1e-10, equal_nan=True):
                raise CheckFailed(f"Not yet: {slip}.") from None
        raise err
    return passed("your Adagrad reproduces torch.optim.Adagrad over 200 steps.")


def _torch_clip(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params]


def check_clip_by_global_norm(clip: Callable) -> bool:
    """Check ``clip(grads, max_norm) -> list of tensors`` against
    ``torch.nn.utils.clip_grad_norm_`` on gradients above and below the threshold."""
    if not callable(clip):
        raise CheckFailed("pass your function itself: check_clip_by_global_norm(clip)")
    gen = torch.Generator().manual_seed(0)
    grads = [
        torch.randn(4, 3, generator=gen, dtype=F64),
        5 * torch.randn(3, generator=gen, dtype=F64),
    ]
    for max_norm in (1.0, 1e3):
        got = call_reader(clip, [g.clone() for g in grads], max_norm, name="clip")
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise CheckFailed("clip must return a list with one tensor per gradient")
        ref = _torch_clip(grads, max_norm)
        for i, (c, r) in enumerate(zip(got, ref, strict=True)):
            try:
                compare(f"gradient {i} (max_norm={max_norm:g})", c, r, atol=1e-5)
            except CheckFailed as err:
                per_tensor = [g * min(1.0, max_norm / g.norm().item()) for g in grads]
                if torch.allclose(torch.as_tensor(c, dtype=F64), per_tensor[i], atol=1e-5):
                    raise CheckFailed(
                        "Not yet: you clipped each tensor by its own norm. Clip by the norm of "
                        "all gradients together, so that the direction of the full gradient "
                        "is kept."
                    ) from None
                total = torch.cat([g.flatten() for g in grads]).norm().item()
                scaled = grads[i] * max_norm / total
                if max_norm > total and torch.allclose(torch.as_tensor(c, dtype=F64), scaled):
                    raise CheckFailed(
                        "Not yet: the gradient norm is below max_norm here, and clipping must "
                        "then leave the gradients unchanged (scale by min(1, max_norm/‖g‖))."
                    ) from None
                raise err
    return passed("your clipping agrees with torch.nn.utils.clip_grad_norm_.")
