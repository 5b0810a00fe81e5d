"""Small helpers shared by the test modules."""

from __future__ import annotations

import contextlib
import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import settings

ATOL = 1e-8
LOG2 = math.log(2.0)
FAST = settings(max_examples=50, deadline=None, derandomize=True)


def t64(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def random_simplex(rng: np.random.Generator, shape, zeros: bool = False) -> np.ndarray:
    """Probability vectors along the last axis (optionally with some exact zeros)."""
    w = rng.gamma(0.7, size=shape)
    if zeros:
        w[rng.random(shape) < 0.3] = 0.0
        w[..., 0] += 1e-3  # at least one positive entry per vector
    return w / w.sum(axis=-1, keepdims=True)


def check_explorer(
    factory,
    *,
    max_bytes: int = 2_500_000,
    max_frames: int | None = None,
    validate: bool = False,
):
    """The contract every interactive figure keeps; returns its ``(static, live)`` versions.

    Static: one frame per combination of control values, a page weight under ``max_bytes``
    (and at most ``max_frames`` frames if given; ``validate`` rebuilds the figure through
    plotly's validators). Live: the same controls; at the starting values (when they lie on the
    static grid) the same title as the static base frame; every slider at its minimum and
    maximum and every choice at each option redraws with a title and no NaN in it.
    """
    import plotly.graph_objects as go

    from companion.figures import LiveFigure, Slider, StaticFigure

    static = factory(mode="static")
    assert isinstance(static, StaticFigure)
    n_frames = math.prod(len(c.grid()) for c in static.controls)
    assert len(static.payload["frames"]) == n_frames
    if max_frames is not None:
        assert n_frames <= max_frames, f"{n_frames} frames; keep the static grid modest"
    assert len(static.to_html()) < max_bytes, "keep each figure's page weight modest"
    if validate:
        go.Figure(static.figure.to_plotly_json())
    live = factory(mode="live")
    assert isinstance(live, LiveFigure)
    assert [c.name for c in live.specs] == [c.name for c in static.controls]
    if all(c.value == c.grid()[c.grid_index()] for c in live.specs):
        assert static.figure.layout.title.text == live.figure.layout.title.text
    for c in live.specs:
        start = live.values()[c.name]
        for v in (c.min, c.max) if isinstance(c, Slider) else c.grid():
            live.update(**{c.name: v})
            title = live.figure.layout.title.text
            assert title, f"{c.name}={v!r}: the figure lost its title"
            assert "nan" not in title.lower().replace(",", " ").split(), f"{c.name}={v!r}: {title}"
        live.update(**{c.name: start})
    return static, live


# -- the device checks (tests/test_cuda.py; the `target` fixture of conftest.py) ------------------
R64, A64 = 1e-10, 1e-12  # "same computation on the target and on the CPU", float64
R32, A32 = 1e-5, 1e-5  # and float32


def gen(seed: int = 0) -> torch.Generator:
    """A seeded CPU generator (the companion draws on the CPU and moves, so draws agree)."""
    return torch.Generator().manual_seed(seed)


def randn64(*shape: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def spd(d: int, seed: int = 0) -> torch.Tensor:
    """A well-conditioned symmetric positive-definite ``d x d`` matrix (float64)."""
    b = randn64(d, d, seed=seed)
    return b @ b.T + d * torch.eye(d, dtype=torch.float64)


class Target:
    """Runs computations on the device under test and compares them with the CPU.

    ``agree(fn, *args)`` calls ``fn`` with every tensor argument (and module: a copy) moved to
    the target and to the CPU, checks that the target's outputs live on the target, are finite
    and match the CPU's within ``rtol``/``atol``, and returns the target's result.
    """

    def __init__(self, device: torch.device):
        self.dev = torch.device(device)
        self.name = str(self.dev)
        self.cpu = torch.device("cpu")

    def move(self, obj, dev: torch.device | None = None):
        """``obj`` with every tensor (in tuples, lists, dicts) on ``dev`` (default: the target);
        modules are copied."""
        dev = self.dev if dev is None else dev
        if isinstance(obj, torch.Tensor):
            return obj.to(dev)
        if isinstance(obj, torch.nn.Module):
            return copy.deepcopy(obj).to(dev)
        if isinstance(obj, (tuple, list)):
            return type(obj)(self.move(o, dev) for o in obj)
        if isinstance(obj, dict):
            return {k: self.move(v, dev) for k, v in obj.items()}
        return obj

    def on(self, *tensors: torch.Tensor) -> None:
        """Every tensor lives on the target (type and, if given, index)."""
        for t in tensors:
            assert isinstance(t, torch.Tensor), f"expected a tensor, got {type(t).__name__}"
            assert t.device.type == self.dev.type, f"tensor on {t.device}, expected {self.dev}"
            if self.dev.index is not None:
                assert t.device.index == self.dev.index, f"tensor on {t.device}, not {self.dev}"

    @staticmethod
    def finite(*tensors: torch.Tensor) -> None:
        for t in tensors:
            assert torch.isfinite(t).all(), "non-finite values"

    def ok(self, *tensors: torch.Tensor) -> None:
        """Every tensor lives on the target and holds finite values only."""
        self.on(*tensors)
        self.finite(*tensors)

    def params_on(self, model: torch.nn.Module) -> None:
        self.on(*model.parameters(), *model.buffers())

    def fit(self, fit, data, steps: int = 20, **kwargs):
        """``fit(data, ...)`` for a few steps on the target, with no progress bar; the model's
        parameters and buffers must live there."""
        model = fit(data, steps=steps, progress=False, device=self.name, **kwargs)
        self.params_on(model)
        return model

    def same(self, out, ref, rtol=R64, atol=A64, *, allow_inf: bool = False) -> None:
        """``out`` (computed on the target) lives there, is finite and matches ``ref`` (CPU)."""
        if isinstance(out, torch.Tensor):
            self.on(out)
            if not allow_inf and out.is_floating_point():
                self.finite(out)
            torch.testing.assert_close(out.cpu(), ref.cpu(), rtol=rtol, atol=atol)
        elif isinstance(out, (tuple, list)):
            assert len(out) == len(ref)
            for o, r in zip(out, ref, strict=True):
                self.same(o, r, rtol, atol, allow_inf=allow_inf)
        elif isinstance(out, dict):
            assert out.keys() == ref.keys()
            for k in out:
                self.same(out[k], ref[k], rtol, atol, allow_inf=allow_inf)
        elif isinstance(out, float):
            assert math.isclose(out, ref, rel_tol=rtol, abs_tol=atol), (out, ref)
        else:
            assert out == ref, (out, ref)

    def agree(self, fn, *args, rtol=R64, atol=A64, allow_inf: bool = False, **kwargs):
        """``fn`` on the target and on the CPU; compared; the target's result returned."""
        out = fn(*self.move(args), **self.move(kwargs))
        ref = fn(*self.move(args, self.cpu), **self.move(kwargs, self.cpu))
        self.same(out, ref, rtol, atol, allow_inf=allow_inf)
        return out


@contextlib.contextmanager
def known_device_bug(where: str):
    """Turn a device-mismatch error into a failure that names the code at fault."""
    try:
        yield
    except (RuntimeError, TypeError) as exc:
        text = str(exc).lower()
        if "device" in text or "cuda" in text or "numpy" in text:
            pytest.fail(f"device bug in {where}: {exc}")
        raise
