"""Check functions for the book's computational exercises.

Each chapter's checks live in ``companion.exercises.<chapter>``. A check takes what the reader
wrote (a function or a value), runs it on inputs whose answers are computed independently of
the reader's code, and either prints one line starting with "Correct" or raises
:class:`CheckFailed` with a message that says what was wrong and, where it can, why.

The book's solutions call the same checks, so a wrong solution fails the book build.
"""

from __future__ import annotations

import torch

__all__ = ["CheckFailed", "passed", "compare", "call_reader", "as_float64", "scalar_or_none"]


class CheckFailed(AssertionError):
    """Raised by an exercise check when the reader's answer is not right yet."""


def passed(message: str) -> bool:
    """Print the success line of a check and return ``True``."""
    print(f"Correct: {message}")
    return True


def compare(
    name: str, got: object, expected: object, *, atol: float, rtol: float = 0.0, hint: str = ""
) -> None:
    """Raise :class:`CheckFailed` unless ``got`` is finite and close to ``expected``.

    ``got`` may be a Python number, a NumPy array or a tensor; it is compared in float64
    elementwise with ``|got - expected| <= atol + rtol * |expected|``.
    """
    try:
        g = torch.as_tensor(got, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(
            f"{name}: expected a number or an array of numbers, got {type(got).__name__}"
        ) from None
    e = torch.as_tensor(expected, dtype=torch.float64).detach().cpu()
    if g.shape != e.shape:
        raise CheckFailed(f"{name}: expected shape {tuple(e.shape)}, got {tuple(g.shape)}")
    if not bool(torch.isfinite(g).all()):
        raise CheckFailed(f"{name}: the answer contains NaN or inf. {hint}".rstrip())
    err = (g - e).abs()
    bound = atol + rtol * e.abs()
    if bool((err > bound).any()):
        worst = float((err - bound).max())
        shown = g.flatten()[:4].tolist() if g.numel() > 1 else float(g)
        wanted = e.flatten()[:4].tolist() if e.numel() > 1 else float(e)
        raise CheckFailed(
            f"{name}: got {shown}, expected {wanted} (off by {worst + float(bound.max()):.3g}; "
            f"tolerance {atol:g}). {hint}".rstrip()
        )


def call_reader(fn: object, *args: object, name: str = "your function") -> object:
    """Run the reader's function on ``args``; a failure inside it becomes a :class:`CheckFailed`
    that names it and keeps its message (instead of a long traceback from the check)."""
    if not callable(fn):
        raise CheckFailed(f"pass your function itself (not its result); got {type(fn).__name__}")
    try:
        return fn(*args)
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}") from exc


def scalar_or_none(value: object) -> float | None:
    """``value`` as a Python float if it is a single number, else ``None``: for the hints a
    check computes from an answer that already failed (which may be anything)."""
    try:
        t = torch.as_tensor(value, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError):
        return None
    return float(t) if t.numel() == 1 else None


def as_float64(out: object, name: str = "your function", what: str = "a tensor or a number"):
    """``out`` as a detached float64 tensor, or a :class:`CheckFailed` saying what was expected."""
    try:
        return torch.as_tensor(out, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(f"{name} should return {what}; got {type(out).__name__}") from None
