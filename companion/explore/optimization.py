"""Figures of the chapter "Optimization".

The update rules and games are in :mod:`companion.optimization`; this module runs them and draws
trajectories beside their loss curves. Every number a title prints is computed from the run drawn.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import optimization as op
from .._validate import check_real
from ..figures import Choice, Slider, interactive
from ..optimization import OPTIMIZERS, SCHEDULES, bilinear_paths, gd_quadratic_run, make_rule
from ..theme import OKABE_ITO, side_by_side
from ._plot import f32, figure, line, title

__all__ = [
    "gd_quadratic_figure",
    "gd_explorer",
    "sgd_runs",
    "sgd_figure",
    "sgd_explorer",
    "BASE_LR",
    "optimizer_run",
    "optimizer_figure",
    "optimizer_explorer",
    "minmax_figure",
    "minmax_explorer",
    "maxent_figure",
    "maxent_explorer",
]

F64 = torch.float64
_LOG_FLOOR = 1e-14


def _log_indices(n: int, k: int = 70) -> np.ndarray:
    """About ``k`` indices in ``[0, n]`` spaced evenly on a log scale (0 and n included)."""
    idx = np.unique(np.round(np.geomspace(1, n + 1, k)).astype(int) - 1)
    return np.union1d(idx, [0, n])


# --- gradient descent on a quadratic -----------------------------------------------------------


def _ellipses(h: np.ndarray, levels, centre=(0.0, 0.0)) -> tuple[list, list]:
    """Level sets ``½ (x - c)ᵀ H (x - c) = level`` of a quadratic, as one polyline with gaps."""
    lam, vec = np.linalg.eigh(h)
    t = np.linspace(0, 2 * np.pi, 41)
    xs, ys = [], []
    for c in levels:
        pts = np.asarray(centre) + np.sqrt(2 * c) * (
            np.outer(np.cos(t) / np.sqrt(lam[0]), vec[:, 0])
            + np.outer(np.sin(t) / np.sqrt(lam[1]), vec[:, 1])
        )
        xs += [*np.round(pts[:, 0], 4).tolist(), None]
        ys += [*np.round(pts[:, 1], 4).tolist(), None]
    return xs, ys


def _level_sets(xy: tuple[list, list]) -> dict:
    """The level sets of a quadratic (from :func:`_ellipses`) as thin grey lines."""
    return line(
        *xy,
        "rgba(128,128,128,0.6)",
        "level sets",
        hoverinfo="skip",
        showlegend=True,
        line=dict(width=1),
    )


def _verdict(run: dict, ratio: float) -> str:
    obj = run["objective"]
    if ratio < 1:
        rho = op.pl_rate(obj.strong_convexity, obj.smoothness, run["lr"])
        return f"measured rate {run['measured']:.4f} ≤ bound {rho:.4f}"
    if ratio == 1:
        return "η = 2/L: the steep direction oscillates forever"
    return f"η > 2/L: diverges (gap ×{run['measured']:.3g} per step)"


def gd_quadratic_figure(log10_kappa: float, ratio: float) -> go.Figure:
    """Left: the zig-zag on the level sets; right: ``f(x_k) - f*`` against the PL bound."""
    run = gd_quadratic_run(log10_kappa, ratio)
    obj, traj, gaps, bound = run["objective"], run["trajectory"].numpy(), run["gaps"], run["bound"]
    h = obj.grad(torch.eye(2, dtype=F64)).numpy()  # rows H e_i: the (symmetric) Hessian
    k = np.arange(len(gaps))
    traces = [
        _level_sets(_ellipses(h, [0.02, 0.2, 0.6, 1.5])),
        dict(
            type="scatter",
            x=f32(traj[:, 0]),
            y=f32(traj[:, 1]),
            mode="lines+markers",
            marker=dict(size=4),
            name="gradient descent",
            line=dict(color=OKABE_ITO[0]),
        ),
        line(k, f32(np.clip(gaps, _LOG_FLOOR, 1e8)), OKABE_ITO[0], "f(x_k) − f*", right=True),
        line(
            k if bound is not None else [],
            f32(np.clip(bound, _LOG_FLOOR, None)) if bound is not None else [],
            OKABE_ITO[5],
            "PL bound (1 − 2mη(1 − Lη/2))ᵏ",
            right=True,
            showlegend=True,
            line=dict(dash="dash"),
        ),
    ]
    layout = side_by_side(("iterates on the level sets", "f(x_k) − f*  (log scale)"), gap=0.1)
    layout["xaxis"].update(range=list(obj.xrange), title=dict(text="x₁"))
    layout["yaxis"].update(range=list(obj.yrange), title=dict(text="x₂"), scaleanchor="x")
    layout["xaxis2"].update(title=dict(text="step k"), range=[0, len(gaps) - 1])
    layout["yaxis2"].update(type="log", range=[-14, 3], exponentformat="power")
    lr, kappa = run["lr"], run["kappa"]
    layout.update(
        title=dict(
            text=f"κ = {kappa:.3g}, η = {lr:.3g} = {ratio:.2f}·(2/L): {_verdict(run, ratio)}"
        ),
        legend=dict(x=0.56, y=0.02, yanchor="bottom"),
        hovermode=False,
    )
    return figure(traces, layout)


def gd_explorer(mode: str | None = None):
    """Gradient descent on a quadratic: condition number and step size as sliders."""
    return interactive(
        gd_quadratic_figure,
        Slider("log10_kappa", 0.0, 2.0, value=1.0, steps=5, label="log₁₀ κ", fmt=".1f"),
        Slider("ratio", 0.1, 1.1, value=0.9, steps=11, label="η · L/2", fmt=".1f"),
        mode=mode,
        height=470,
    )


# --- SGD ---------------------------------------------------------------------------------------

_SGD_STEPS = 1000
BATCHES = (1, 4, 16, 64, 256)


@functools.lru_cache(maxsize=32)
def sgd_runs(batch_size: int, schedule: str) -> dict:
    """Mini-batch SGD on the chapter's least-squares problem (seeded, so reruns agree): the
    cached :func:`companion.optimization.sgd_least_squares_run` over 1000 steps."""
    return op.sgd_least_squares_run(batch_size, schedule, _SGD_STEPS)


def _sgd_traces(run: dict) -> list[dict]:
    traj, avg = run["trajectory"].numpy(), run["average"].numpy()
    ws = run["w_star"].numpy()
    idx = np.unique(np.r_[np.arange(0, 60), np.linspace(60, _SGD_STEPS, 120).astype(int)])
    li = _log_indices(_SGD_STEPS, 90)
    floor = _LOG_FLOOR
    return [
        _level_sets(_ellipses(run["H"].numpy(), (0.01, 0.05, 0.2, 0.6, 1.5), centre=ws)),
        line(
            f32(traj[idx, 0]),
            f32(traj[idx, 1]),
            OKABE_ITO[0],
            "SGD iterate w_t",
            showlegend=True,
            line=dict(width=1),
        ),
        line(
            f32(avg[idx, 0]), f32(avg[idx, 1]), OKABE_ITO[5], "Polyak average w̄_t", showlegend=True
        ),
        dict(
            type="scatter",
            x=[ws[0]],
            y=[ws[1]],
            mode="markers",
            name="minimiser w*",
            marker=dict(symbol="x", size=11, color=OKABE_ITO[7]),
        ),
        line(
            li + 1,
            f32(np.maximum(run["excess"][li], floor)),
            OKABE_ITO[0],
            "",
            right=True,
            line=dict(width=1.5),
        ),
        line(li + 1, f32(np.maximum(run["excess_avg"][li], floor)), OKABE_ITO[5], "", right=True),
    ]


def sgd_figure(batch_size: int, schedule: str) -> go.Figure:
    """SGD iterates and their Polyak average on the loss's level sets, with both excess losses."""
    if batch_size not in BATCHES:
        raise ValueError(f"batch_size must be one of {BATCHES}, got {batch_size!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    run = sgd_runs(batch_size, schedule)
    tail = slice(_SGD_STEPS // 2, None)
    layout = side_by_side(("iterates", "F(w) − F(w*)  (log–log)"), gap=0.1)
    layout["xaxis"].update(range=[-1.8, 1.8], title=dict(text="w₁"))
    layout["yaxis"].update(range=[-2.2, 1.8], title=dict(text="w₂"), scaleanchor="x")
    layout["xaxis2"].update(type="log", title=dict(text="step t"))
    layout["yaxis2"].update(type="log", range=[-7, 1], exponentformat="power")
    layout.update(
        title=dict(
            text=f"B = {batch_size}, η_t {schedule}: mean excess loss over the last 500 steps "
            f"{run['excess'][tail].mean():.2e} (iterate), {run['excess_avg'][tail].mean():.2e}"
            " (average)"
        ),
        legend=dict(x=0.0, y=0.0, yanchor="bottom"),
        hovermode=False,
    )
    return figure(_sgd_traces(run), layout)


def sgd_explorer(mode: str | None = None):
    """SGD on least squares: batch size and step-size schedule as controls."""
    return interactive(
        sgd_figure,
        Choice("batch_size", list(BATCHES), value=4, label="batch size B"),
        Choice(
            "schedule",
            [("constant", "constant"), ("∝ 1/t", "1/t"), ("∝ 1/√t", "1/sqrt(t)")],
            label="step size η_t",
        ),
        mode=mode,
        height=480,
    )


# --- optimisers on test functions --------------------------------------------------------------

#: The base learning rate of each optimiser on each test function (the figure's slider multiplies
#: it by a power of two).
BASE_LR = {
    "rosenbrock": {"momentum": 1e-3, "nesterov": 1e-3, "rmsprop": 1e-2, "adam": 5e-2},
    "beale": {"momentum": 1e-2, "nesterov": 1e-2, "rmsprop": 1e-2, "adam": 5e-2},
    "quadratic": {"momentum": 0.5, "nesterov": 0.5, "rmsprop": 2e-2, "adam": 5e-2},
}
_OPT_STEPS = 300


_LR_GRID = (-2.0, -1.0, 0.0, 1.0, 2.0)
_BETA_GRID = (0.5, 0.65, 0.8, 0.95)


def _batch_run(objective: str, optimizer: str, settings: list[tuple[float, float]]) -> np.ndarray:
    """Trajectories ``(steps + 1, n, 2)`` for ``n`` settings ``(log2_lr, beta)`` in one batch."""
    base = BASE_LR[objective][optimizer]
    lr = torch.tensor([[base * 2.0**a] for a, _ in settings], dtype=F64)
    beta = torch.tensor([[b] for _, b in settings], dtype=F64)
    return op.batched_paths(objective, make_rule(optimizer, lr, beta), len(settings), _OPT_STEPS)


@functools.lru_cache(maxsize=16)
def _grid_runs(objective: str, optimizer: str) -> dict:
    settings = [(a, b) for a in _LR_GRID for b in _BETA_GRID]
    traj = _batch_run(objective, optimizer, settings)
    return {(round(a, 9), round(b, 9)): traj[:, i] for i, (a, b) in enumerate(settings)}


@functools.lru_cache(maxsize=4)
def _gd_run(objective: str) -> np.ndarray:
    obj = op.OBJECTIVES[objective]()
    x0 = torch.tensor(obj.start, dtype=F64)
    return op.optimize(
        op.GradientDescent(BASE_LR[objective]["momentum"]), obj, x0, _OPT_STEPS
    ).numpy()


def _gaps(objective: str, traj: np.ndarray) -> dict:
    obj = op.OBJECTIVES[objective]()
    gd = _gd_run(objective)
    with np.errstate(all="ignore"):
        gap = obj.value(torch.from_numpy(traj)).numpy() - obj.minimum
        gap_gd = obj.value(torch.from_numpy(gd)).numpy() - obj.minimum
    return {"objective": obj, "trajectory": traj, "gd": gd, "gap": gap, "gap_gd": gap_gd}


def _live_index(value: float, start: float, step: float, n: int) -> int | None:
    """The position of ``value`` among ``start + k · step`` (k < n), or None off those points."""
    k = round((value - start) / step)
    return k if 0 <= k < n and abs(start + k * step - value) < 1e-9 else None


#: The live sliders move in steps of 0.01 (log₂ η) and 0.001 (β); see :func:`_sweep`.
_LR_LIVE_STEP, _BETA_LIVE_STEP = 0.01, 0.001
_LR_LIVE = tuple(
    round(_LR_GRID[0] + k * _LR_LIVE_STEP, 9)
    for k in range(round((_LR_GRID[-1] - _LR_GRID[0]) / _LR_LIVE_STEP) + 1)
)
_BETA_LIVE = tuple(
    round(_BETA_GRID[0] + k * _BETA_LIVE_STEP, 9)
    for k in range(round((_BETA_GRID[-1] - _BETA_GRID[0]) / _BETA_LIVE_STEP) + 1)
)
_SWEEPS: dict[tuple, np.ndarray] = {}


def _sweep(objective: str, optimizer: str, along: str, fixed: float) -> np.ndarray:
    """Every live position of one slider (``along`` = "lr" or "beta") with the other slider at
    ``fixed``, in one batch like the static grid's: ``(steps + 1, positions, 2)``. Computed when a
    reader starts moving that slider (see :func:`optimizer_explorer`) and kept (a few)."""
    key = (objective, optimizer, along, fixed)
    if key not in _SWEEPS:
        if along == "lr":
            settings = [(a, fixed) for a in _LR_LIVE]
        else:
            settings = [(fixed, b) for b in _BETA_LIVE]
        while len(_SWEEPS) >= 8:
            _SWEEPS.pop(next(iter(_SWEEPS)))
        _SWEEPS[key] = _batch_run(objective, optimizer, settings)
    return _SWEEPS[key]


def optimizer_run(objective: str, optimizer: str, log2_lr: float, beta: float) -> dict:
    """One optimiser (and plain GD at the momentum's base rate) on one test function.

    The learning rate is ``BASE_LR[objective][optimizer] · 2^log2_lr``. Settings on the static
    figure's grid come from one batched run per optimiser (cached), settings along a live
    slider's sweep (:func:`_sweep`) from that batch; others are run alone.
    """
    if objective not in BASE_LR:
        raise ValueError(f"objective must be one of {sorted(BASE_LR)}, got {objective!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    key = (round(check_real(log2_lr, "log2_lr"), 9), round(check_real(beta, "beta"), 9))
    grid = _grid_runs(objective, optimizer)
    i = _live_index(key[0], _LR_LIVE[0], _LR_LIVE_STEP, len(_LR_LIVE))
    j = _live_index(key[1], _BETA_LIVE[0], _BETA_LIVE_STEP, len(_BETA_LIVE))
    if key in grid:
        traj = grid[key]
    elif i is not None and (objective, optimizer, "lr", key[1]) in _SWEEPS:
        traj = _SWEEPS[objective, optimizer, "lr", key[1]][:, i]
    elif j is not None and (objective, optimizer, "beta", key[0]) in _SWEEPS:
        traj = _SWEEPS[objective, optimizer, "beta", key[0]][:, j]
    else:
        traj = _batch_run(objective, optimizer, [key])[:, 0]
    return _gaps(objective, traj) | {"lr": BASE_LR[objective][optimizer] * 2 ** key[0]}


@functools.lru_cache(maxsize=4)
def _contours(objective: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obj = op.OBJECTIVES[objective]()
    x = np.linspace(*obj.xrange, 70)
    y = np.linspace(*obj.yrange, 60)
    grid = torch.tensor(np.stack(np.meshgrid(x, y), -1), dtype=F64)
    z = np.log10(obj.value(grid).numpy() - obj.minimum + 1e-3)
    return f32(x), f32(y), f32(z)


def optimizer_figure(objective: str, optimizer: str, log2_lr: float, beta: float) -> go.Figure:
    """One optimiser's path on a test function (plain GD in grey) and both loss curves."""
    run = optimizer_run(objective, optimizer, log2_lr, beta)
    bname = {"momentum": "β", "nesterov": "β", "rmsprop": "α", "adam": "β₁"}[optimizer]
    return _path_figure(objective, optimizer, run, f"η = {run['lr']:.3g}, {bname} = {beta:.2f}")


_LABELS = {"momentum": "momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop", "adam": "Adam"}


def _path_traces(objective: str, optimizer: str, run: dict) -> list[dict]:
    obj, traj, gd = run["objective"], run["trajectory"], run["gd"]
    x, y, z = _contours(objective)
    idx = np.unique(np.r_[np.arange(0, 100), np.linspace(100, _OPT_STEPS, 60).astype(int)])
    k = np.arange(_OPT_STEPS + 1)[idx]
    colour = OKABE_ITO[OPTIMIZERS.index(optimizer) + 1]
    grey = OKABE_ITO[7]
    contour = dict(contours=dict(coloring="lines"), hoverinfo="skip", ncontours=18)
    return [
        dict(
            type="contour",
            x=x,
            y=y,
            z=z,
            showscale=False,
            colorscale="Greys",
            reversescale=True,
            opacity=0.45,
            **contour,
        ),
        line(f32(gd[idx, 0]), f32(gd[idx, 1]), grey, "GD", showlegend=True, line=dict(width=2)),
        dict(
            type="scatter",
            x=f32(traj[idx, 0]),
            y=f32(traj[idx, 1]),
            mode="lines+markers",
            marker=dict(size=3),
            line=dict(color=colour),
            name=_LABELS[optimizer],
        ),
        dict(
            type="scatter",
            x=[obj.minimizer[0]],
            y=[obj.minimizer[1]],
            mode="markers",
            marker=dict(symbol="star", size=13, color=OKABE_ITO[6]),
            name="minimum",
        ),
        line(
            k,
            f32(np.clip(run["gap_gd"][idx], _LOG_FLOOR, 1e9)),
            grey,
            "",
            right=True,
            line=dict(width=2),
        ),
        line(k, f32(np.clip(run["gap"][idx], _LOG_FLOOR, 1e9)), colour, "", right=True),
    ]


def _path_figure(objective: str, optimizer: str, run: dict, settings: str) -> go.Figure:
    obj, final = run["objective"], run["gap"][-1]
    end = "diverged" if not np.isfinite(final) else f"f − f* after {_OPT_STEPS} steps = {final:.2e}"
    layout = side_by_side(("", "f(x_k) − f*  (log scale)"), split=0.55, gap=0.1)
    layout["xaxis"].update(range=list(obj.xrange), title=dict(text="x"))
    layout["yaxis"].update(range=list(obj.yrange), title=dict(text="y"))
    layout["xaxis2"].update(title=dict(text="step k"), range=[0, _OPT_STEPS])
    layout["yaxis2"].update(type="log", range=[-14, 4], exponentformat="power")
    layout.update(
        title=title(f"{obj.name}, {_LABELS[optimizer]}: {settings} — {end}"),
        legend=dict(x=0.0, y=0.0, yanchor="bottom"),
        hovermode=False,
    )
    return figure(_path_traces(objective, optimizer, run), layout)


def _warm_sweep(objective: str, optimizer: str, last: dict, a: float, b: float) -> None:
    """A reader who moves one slider will move it further: batch that slider's positions."""
    if last.get("optimizer") != optimizer or (a, b) in _grid_runs(objective, optimizer):
        return
    lr_live = _live_index(a, _LR_LIVE[0], _LR_LIVE_STEP, len(_LR_LIVE)) is not None
    beta_live = _live_index(b, _BETA_LIVE[0], _BETA_LIVE_STEP, len(_BETA_LIVE)) is not None
    if last["b"] == b and last["a"] != a and lr_live:
        _sweep(objective, optimizer, "lr", b)
    elif last["a"] == a and last["b"] != b and beta_live:
        _sweep(objective, optimizer, "beta", a)


def optimizer_explorer(objective: str, mode: str | None = None):
    """Four optimisers on one test function; learning rate and decay parameter as sliders."""
    if objective not in BASE_LR:
        raise ValueError(f"objective must be one of {sorted(BASE_LR)}, got {objective!r}")

    last: dict[str, object] = {}

    def make(optimizer, log2_lr, beta):
        a, b = round(log2_lr, 9), round(beta, 9)
        _warm_sweep(objective, optimizer, last, a, b)
        last.update(optimizer=optimizer, a=a, b=b)
        return optimizer_figure(objective, optimizer, log2_lr, beta)

    choices = [(_LABELS[o], o) for o in OPTIMIZERS]
    return interactive(
        make,
        Choice("optimizer", choices, label="optimizer"),
        Slider(
            "log2_lr",
            _LR_GRID[0],
            _LR_GRID[-1],
            value=0.0,
            steps=len(_LR_GRID),
            live_steps=len(_LR_LIVE) - 1,
            label="log₂(η / base η)",
            fmt=".0f",
        ),
        Slider(
            "beta",
            _BETA_GRID[0],
            _BETA_GRID[-1],
            value=0.8,
            steps=len(_BETA_GRID),
            live_steps=len(_BETA_LIVE) - 1,
            label="β, α or β₁",
            fmt=".2f",
        ),
        mode=mode,
        height=480,
    )


# --- the adaptive methods' other knobs: second-moment decay and ε ---------------------------------
_DECAY2_GRID = (0.5, 0.9, 0.99, 0.999)
_LOG10_EPS_GRID = tuple(float(e) for e in range(-8, 0))  # ε = 1e-8 … 1e-1


@functools.lru_cache(maxsize=8)
def _adaptive_runs(objective: str, optimizer: str) -> dict:
    """The static grid: for each decay one batched run over ε (decay and η scalars, as in a run
    on its own, so every grid trajectory equals the single run bit for bit — a tensor decay
    rounds differently, and these paths amplify rounding); Adam's β₁ = 0.9."""
    eps = torch.tensor([[10.0**e] for e in _LOG10_EPS_GRID], dtype=F64)
    out = {}
    for d in _DECAY2_GRID:
        rule = op.adaptive_rule(optimizer, BASE_LR[objective][optimizer], d, eps)
        traj = op.batched_paths(objective, rule, len(_LOG10_EPS_GRID), _OPT_STEPS)
        out |= {(d, e): traj[:, i] for i, e in enumerate(_LOG10_EPS_GRID)}
    return out


#: The live ε slider moves in steps of 0.01 in log₁₀ ε (``live_steps`` below); its first move off
#: the static grid runs every position of the slider in one batch (ε a tensor, α/β₂ and η scalars,
#: so each row is computed exactly as a run on its own), and later moves only look their run up.
_EPS_LIVE_STEP = 0.01
_EPS_LIVE = tuple(
    round(_LOG10_EPS_GRID[0] + k * _EPS_LIVE_STEP, 9)
    for k in range(round((_LOG10_EPS_GRID[-1] - _LOG10_EPS_GRID[0]) / _EPS_LIVE_STEP) + 1)
)


@functools.lru_cache(maxsize=8)
def _eps_sweep(objective: str, optimizer: str, decay2: float) -> np.ndarray:
    """Trajectories ``(steps + 1, len(_EPS_LIVE), 2)``, one per live position of the ε slider."""
    eps = torch.tensor([[10.0**e] for e in _EPS_LIVE], dtype=F64)
    rule = op.adaptive_rule(optimizer, BASE_LR[objective][optimizer], decay2, eps)
    return op.batched_paths(objective, rule, len(_EPS_LIVE), _OPT_STEPS)


def adaptive_run(objective: str, optimizer: str, decay2: float, log10_eps: float) -> dict:
    """RMSprop (``decay2`` = α) or Adam (``decay2`` = β₂, β₁ = 0.9) at the base learning rate with
    ε = 10^``log10_eps``; grid settings come from a cached batch, the live slider's other positions
    from a cached batch over ε (:func:`_eps_sweep`), others are run alone."""
    if objective not in BASE_LR:
        raise ValueError(f"objective must be one of {sorted(BASE_LR)}, got {objective!r}")
    decay2, log10_eps = check_real(decay2, "decay2"), check_real(log10_eps, "log10_eps")
    if not 0 <= decay2 < 1:
        raise ValueError(f"decay2 must lie in [0, 1), got {decay2}")
    key = (round(decay2, 9), round(log10_eps, 9))
    if optimizer not in ("rmsprop", "adam"):
        raise ValueError(f"optimizer must be 'rmsprop' or 'adam', got {optimizer!r}")
    grid = _adaptive_runs(objective, optimizer)
    live = _live_index(key[1], _EPS_LIVE[0], _EPS_LIVE_STEP, len(_EPS_LIVE))
    if key in grid:
        traj = grid[key]
    elif live is not None:
        traj = _eps_sweep(objective, optimizer, key[0])[:, live]
    else:
        lr = BASE_LR[objective][optimizer]
        rule = op.adaptive_rule(optimizer, lr, decay2, 10.0**log10_eps)
        traj = op.batched_paths(objective, rule, 1, _OPT_STEPS)[:, 0]
    return _gaps(objective, traj) | {"lr": BASE_LR[objective][optimizer]}


def adaptive_figure(objective: str, optimizer: str, decay2: float, log10_eps: float) -> go.Figure:
    """RMSprop's or Adam's path as the second-moment decay and ε change (plain GD in grey)."""
    run = adaptive_run(objective, optimizer, decay2, log10_eps)
    name = "α" if optimizer == "rmsprop" else "β₂"
    return _path_figure(
        objective,
        optimizer,
        run,
        f"η = {run['lr']:.3g}, {name} = {decay2:g}, ε = 1e{log10_eps:.0f}",
    )


def adaptive_explorer(objective: str, mode: str | None = None):
    """RMSprop and Adam with their remaining hyper-parameters as sliders: the decay of the
    squared-gradient average (α or β₂) and ε, at the base learning rate."""
    if objective not in BASE_LR:
        raise ValueError(f"objective must be one of {sorted(BASE_LR)}, got {objective!r}")
    return interactive(
        lambda optimizer, decay2, log10_eps: adaptive_figure(
            objective, optimizer, decay2, log10_eps
        ),
        Choice("optimizer", [("RMSprop", "rmsprop"), ("Adam", "adam")], value="adam"),
        Choice("decay2", [(f"{d:g}", d) for d in _DECAY2_GRID], value=0.999, label="α or β₂"),
        Slider(
            "log10_eps",
            _LOG10_EPS_GRID[0],
            _LOG10_EPS_GRID[-1],
            value=-8.0,
            steps=len(_LOG10_EPS_GRID),
            live_steps=len(_EPS_LIVE) - 1,
            label="log₁₀ ε",
            fmt=".0f",
        ),
        mode=mode,
        height=480,
    )


# --- games -------------------------------------------------------------------------------------

_GAME_STEPS = 150


def minmax_figure(lr: float) -> go.Figure:
    """The four update schemes on ``min_x max_y x·y`` from ``(1, 0)``, step size ``lr``."""
    lr = check_real(lr, "lr")
    t = np.linspace(0, 2 * np.pi, 121)
    traces = [
        dict(
            type="scatter",
            x=np.cos(t),
            y=np.sin(t),
            mode="lines",
            hoverinfo="skip",
            line=dict(width=1, dash="dot", color="rgba(128,128,128,0.7)"),
            name="start radius",
        )
    ]
    radii = {}
    paths = bilinear_paths(lr, _GAME_STEPS)
    for j, method in enumerate(op.MINMAX_METHODS):
        tr = paths[method]
        radii[method] = float(np.hypot(*tr[-1]))
        shown = np.clip(tr, -50, 50)
        traces.append(
            dict(
                type="scatter",
                x=f32(shown[:, 0]),
                y=f32(shown[:, 1]),
                mode="lines",
                line=dict(color=OKABE_ITO[j], width=1.8),
                name=method,
            )
        )
    traces.append(
        dict(
            type="scatter",
            x=[0],
            y=[0],
            mode="markers",
            name="equilibrium (0, 0)",
            marker=dict(symbol="x", size=11, color=OKABE_ITO[7]),
        )
    )
    summary = ", ".join(f"{m} {r:.3g}" for m, r in radii.items())
    layout = dict(
        title=dict(
            text=f"η = {lr:.2f}; distance from (0, 0) after {_GAME_STEPS} steps: {summary}",
            font=dict(size=12),
        ),
        xaxis=dict(range=[-2.5, 2.5], title=dict(text="x (minimises)")),
        yaxis=dict(range=[-2, 2], title=dict(text="y (maximises)"), scaleanchor="x"),
        hovermode=False,
    )
    return figure(traces, layout)


def minmax_explorer(mode: str | None = None):
    """Gradient descent–ascent and its repairs on the bilinear game; step size as a slider."""
    return interactive(
        minmax_figure,
        Slider("lr", 0.05, 0.5, value=0.2, steps=10, label="step size η", fmt=".2f"),
        mode=mode,
        height=520,
    )


# --- maximum entropy on a die -----------------------------------------------------------------

_FACES = torch.arange(1.0, 7.0, dtype=F64)


def maxent_figure(mean: float) -> go.Figure:
    """The maximum-entropy distribution on the faces 1…6 with ``E X = mean``
    (:func:`companion.optimization.max_entropy`): the probabilities, and ``log p`` against the
    face, a straight line of slope λ (the Gibbs form)."""
    res = op.max_entropy(_FACES, check_real(mean, "mean"))
    p, lam = res["p"].numpy(), res["lam"]
    faces = _FACES.numpy()
    log_z = float(torch.logsumexp(lam * _FACES, 0))
    line_x = np.array([0.8, 6.2])
    shown = lam if abs(lam) >= 5e-4 else 0.0  # no "-0.000" at the uniform mean
    traces = [
        dict(type="bar", x=faces, y=p, marker=dict(color=OKABE_ITO[5]), name="maximum-entropy p"),
        dict(
            type="scatter",
            x=[0.5, 6.5],
            y=[1 / 6, 1 / 6],
            mode="lines",
            line=dict(color=OKABE_ITO[7], dash="dot"),
            name="uniform 1/6",
        ),
        dict(
            type="scatter",
            x=faces,
            y=np.log(p),
            mode="markers",
            marker=dict(size=9, color=OKABE_ITO[5]),
            xaxis="x2",
            yaxis="y2",
            showlegend=False,
        ),
        dict(
            type="scatter",
            x=line_x,
            y=lam * line_x - log_z,
            mode="lines",
            line=dict(color=OKABE_ITO[3]),
            xaxis="x2",
            yaxis="y2",
            name="λx − log Z(λ)",
        ),
    ]
    layout = side_by_side(("probabilities p_i", "log p_i against the face x_i"))
    layout["xaxis"].update(title=dict(text="face x"), dtick=1)
    layout["yaxis"].update(range=[0, 1], title=dict(text="p"))
    layout["xaxis2"].update(title=dict(text="face x"), dtick=1)
    layout["yaxis2"].update(range=[-9, 0.5], title=dict(text="log p"))
    layout.update(
        title=dict(
            text=f"E X = {mean:.2f}: λ = {shown:+.3f}, entropy {res['entropy'].item():.4f} nats "
            f"(uniform: log 6 = {math.log(6):.4f})",
            font=dict(size=13),
        ),
        legend=dict(x=0.0, y=1.0),
        hovermode=False,
    )
    return figure(traces, layout)


def maxent_explorer(mode: str | None = None):
    """Jaynes' die: the maximum-entropy distribution for a prescribed mean, as a slider."""
    return interactive(
        maxent_figure,
        Slider("mean", 1.25, 5.75, value=4.5, steps=19, label="E X", fmt=".2f"),
        mode=mode,
        height=440,
    )
