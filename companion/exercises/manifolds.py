"""Checks for the computational exercises of "Manifolds and latent spaces".

* :func:`check_roll_metric`: the metric G(t, h) = J(t, h)ᵀ J(t, h) that the swiss roll's
  parametrisation (eq-man-roll) induces on its (t, h) coordinates, against an autograd Jacobian.
* :func:`check_latent_length`: the length of a latent path measured through a decoder
  (eq-man-length), against closed-form arc lengths of two explicit maps.
"""

from __future__ import annotations

import math

import torch

from . import CheckFailed, as_float64, call_reader, compare, passed, scalar_or_none

__all__ = ["check_roll_metric", "check_latent_length"]

_F64 = torch.float64


def _roll(v: torch.Tensor) -> torch.Tensor:
    t, h = v[0], v[1]
    return torch.stack([t * torch.cos(t), h, t * torch.sin(t)])


def check_roll_metric(roll_metric) -> bool:
    """``roll_metric(t, h)`` (two Python floats) must return the 2 × 2 matrix G(t, h)."""
    if not callable(roll_metric):
        raise CheckFailed("pass your function itself, e.g. check_roll_metric(roll_metric)")
    for t, h in [(5.0, 3.0), (1.5 * math.pi, 0.0), (11.0, 20.0)]:
        got = as_float64(call_reader(roll_metric, t, h, name="roll_metric"), "roll_metric")
        if got.shape == (3, 3):
            raise CheckFailed(
                "G(t, h) must be 2 × 2 (one row per latent coordinate); a 3 × 3 answer is "
                "J Jᵀ, the projection onto the tangent plane in R³, not Jᵀ J."
            )
        jac = torch.autograd.functional.jacobian(_roll, torch.tensor([t, h], dtype=_F64))
        expected = jac.T @ jac
        hint = ""
        if got.shape == (2, 2) and abs(float(got[0, 0]) - t * t) < 1e-6:
            hint = "‖∂f/∂t‖² = (cos t − t sin t)² + (sin t + t cos t)²: did you drop the 1?"
        compare(f"G({t:.3g}, {h:.3g})", got, expected, atol=1e-8, rtol=1e-8, hint=hint)
    return passed("G(t, h) = diag(1 + t², 1) = Jᵀ J (autograd), three points.")


def _polar(v: torch.Tensor) -> torch.Tensor:
    return torch.stack([v[0] * torch.cos(v[1]), v[0] * torch.sin(v[1])])


def check_latent_length(latent_length) -> bool:
    """``latent_length(decoder, path)`` must return the length of the decoded path (a float),
    where ``decoder`` maps a 1-D latent tensor to a 1-D data tensor and ``path`` is (n, k)."""
    if not callable(latent_length):
        raise CheckFailed("pass your function itself, e.g. check_latent_length(latent_length)")
    n = 2001
    # 1. Polar coordinates: the latent segment r = 2, θ ∈ [0, π] is half a circle of radius 2.
    theta = torch.linspace(0.0, math.pi, n, dtype=_F64)
    arc = torch.stack([torch.full_like(theta, 2.0), theta], dim=1)
    got = scalar_or_none(call_reader(latent_length, _polar, arc, name="latent_length"))
    if got is None:
        raise CheckFailed("latent_length must return the length as one number (a float)")
    euclid = math.pi  # the straight latent segment's own length
    if abs(got - euclid) < 1e-3:
        raise CheckFailed(
            "you measured the path in latent coordinates (length π); measure the decoded "
            "curve instead, through G(z) = J(z)ᵀ J(z) or the decoded points."
        )
    compare("length of r = 2, θ ∈ [0, π] under the polar map", got, 2 * math.pi, atol=1e-3)
    # 2. The swiss roll at fixed h: the spiral's arc length ∫ sqrt(1 + t²) dt in closed form.
    t = torch.linspace(1.5 * math.pi, 4.5 * math.pi, n, dtype=_F64)
    spiral = torch.stack([t, torch.full_like(t, 7.0)], dim=1)

    def prim(s: float) -> float:
        return 0.5 * (s * math.sqrt(1 + s * s) + math.asinh(s))

    exact = prim(4.5 * math.pi) - prim(1.5 * math.pi)
    got = call_reader(latent_length, _roll, spiral, name="latent_length")
    compare("length of the swiss roll's spiral", got, exact, atol=1e-2)
    return passed(f"half circle 2π and spiral {exact:.4f}, through the decoder.")
