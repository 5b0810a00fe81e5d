"""Figures of the chapter "Policies, rewards and the score function".

Everything is computed by :mod:`companion.rl`; these functions arrange and draw it. Expensive
inputs (episode pools, fine-tuning runs, the β frontier) are computed once and passed in or
cached, so that a slider move only looks results up or does a few vector operations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import torch

from .. import rl
from .._validate import check_int, check_real
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ._plot import figure, line
from ._plot import points as dots

__all__ = [
    "GRID",
    "grid_summary",
    "grid_figure",
    "grid_explorer",
    "variance_table",
    "variance_figure",
    "variance_explorer",
    "TokenWorld",
    "token_world",
    "frontier",
    "frontier_figure",
    "frontier_explorer",
    "finetune_figure",
    "finetune_explorer",
]

#: The chapter's cliff world: 4 rows, 6 columns.
GRID = {"height": 4, "width": 6}


_BLUE, _ORANGE, _GREEN, _PINK, _RED = (OKABE_ITO[i] for i in (0, 1, 2, 3, 5))


# -- the grid world --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _world(slip: float) -> rl.TabularMDP:
    return rl.grid_world(**GRID, gamma=0.5, slip=slip)


def grid_summary(gamma: float, slip: float = 0.1) -> dict:
    """Value iteration on the cliff world: values, greedy actions and the greedy route from the
    start when every move goes where it is meant to (at most 30 moves)."""
    g = check_real(gamma, "gamma")
    mdp = _world(check_real(slip, "slip")).with_gamma(g)
    vi = rl.value_iteration(mdp, tol=1e-8)
    h, w = GRID["height"], GRID["width"]
    actions = vi.policy.argmax(1).tolist()
    route = rl.greedy_grid_route(actions, h, w, max_moves=30)
    return {"values": vi.values, "actions": actions, "n_iter": vi.n_iter, "route": route}


def _grid_text(actions: list) -> tuple[list, list, list]:
    """Cell coordinates and what to write in each: the greedy arrow, "G", or "cliff"."""
    h, w = GRID["height"], GRID["width"]
    xs, ys, text = [], [], []
    for r in range(h):
        for c in range(w):
            xs.append(c)
            ys.append(r)
            if r == h - 1 and c == w - 1:
                text.append("G")
            elif r == h - 1 and c > 0:
                text.append("cliff" if c == w // 2 else "")
            else:
                text.append(rl.GRID_ACTIONS[actions[r * w + c]][1])
    return xs, ys, text


def grid_figure(gamma: float, slip: float = 0.1) -> go.Figure:
    """Heat map of ``V*``, the greedy action in every cell and the greedy route from S."""
    out = grid_summary(gamma, slip)
    h, w = GRID["height"], GRID["width"]
    v = out["values"].reshape(h, w).numpy()
    route = out["route"]
    verdict = "reaches the goal" if route[-1] == (h - 1, w - 1) else "does not reach the goal"
    edge = sum(1 for r, c in route if r == h - 2 and 0 < c < w - 1)
    xs, ys, text = _grid_text(out["actions"])
    traces = [
        dict(
            type="heatmap",
            z=v.round(4).tolist(),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            colorbar=dict(title="V*(s)"),
            hovertemplate="row %{y}, column %{x}: V* = %{z:.3f}<extra></extra>",
        ),
        line(
            [c for _, c in route],
            [r for r, _ in route],
            _ORANGE,
            "greedy route",
            line=dict(width=5),
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=xs,
            y=ys,
            name="greedy action",
            mode="text",
            text=text,
            textfont=dict(size=20, color="#222"),
            hoverinfo="skip",
        ),
    ]
    layout = dict(
        title=dict(
            text=f"γ = {float(gamma):.2f}, slip = {slip:.2f}: V*(S) = {float(v[h - 1, 0]):.3f}, "
            f"{out['n_iter']} sweeps of value iteration<br>greedy route: {len(route) - 1} moves, "
            f"{edge} of them along the cliff edge; it {verdict}"
        ),
        xaxis=dict(title="column", dtick=1, showgrid=False),
        yaxis=dict(title="row", autorange="reversed", dtick=1, scaleanchor="x", showgrid=False),
        margin=dict(t=100),
        showlegend=False,
        hovermode="closest",
    )
    return figure(traces, layout)


def grid_explorer(mode: str | None = None):
    """Discount slider (and slip buttons) for value iteration on the cliff world."""
    return interactive(
        grid_figure,
        Slider("gamma", 0.0, 0.99, value=0.9, steps=34, label="γ"),
        Choice("slip", [("slip 0", 0.0), ("slip 0.1", 0.1), ("slip 0.2", 0.2)], value=0.1),
        mode=mode,
    )


# -- REINFORCE variance ----------------------------------------------------------------------------
ESTIMATORS = (
    ("whole return", {"reward_to_go": False, "baseline": None}),
    ("reward to go", {"reward_to_go": True, "baseline": None}),
    ("reward to go − V(s)", {"reward_to_go": True, "baseline": "value"}),
)


def variance_table(
    logits: torch.Tensor | None = None,
    *,
    pool: int = 8000,
    horizon: int = 80,
    gamma: float = 0.9,
    seed: int = 0,
) -> dict:
    """Per-episode REINFORCE gradients on the cliff world (slip 0.1) for the three estimators of
    :data:`ESTIMATORS`, all from the same ``pool`` episodes (one seed), and the exact gradient.

    ``logits`` default: every action has logit 0 except "→" (1) and "↑" (0.5)."""
    if logits is None:
        logits = torch.zeros(GRID["height"] * GRID["width"], 4, dtype=torch.float64)
        logits[:, 1], logits[:, 0] = 1.0, 0.5
    mdp = _world(0.1).with_gamma(check_real(gamma, "gamma"))
    exact = rl.exact_policy_gradient(mdp, logits)
    per = {
        name: rl.reinforce_gradient(mdp, logits, pool, horizon, seed=seed, **kw).per_episode
        for name, kw in ESTIMATORS
    }
    start = int(mdp.start.argmax())
    comp = (start, int(exact[start].abs().argmax()))
    return {"exact": exact, "per_episode": per, "component": comp, "horizon": horizon}


_CURVE_NS = (1, 2, 5, 10, 20, 50, 100)
_HIST_MAX = 400  # estimates drawn in the histogram (the variances use every group)


def _variance_curves(table: dict) -> dict:
    """Total variance of the estimate at each N of ``_CURVE_NS`` (computed once per table)."""
    if "curves" not in table:
        table["curves"] = {
            name: [float(rl.group_means(g, n).var(0).sum()) for n in _CURVE_NS]
            for name, g in table["per_episode"].items()
        }
    return table["curves"]


_COLOURS = (_RED, _BLUE, _GREEN)


def _histogram(values: torch.Tensor, name: str, colour: str) -> dict:
    return dict(
        type="histogram",
        x=values.numpy().round(4).tolist(),
        name=name,
        marker=dict(color=colour),
        opacity=0.55,
        histnorm="probability density",
        nbinsx=40,
        xaxis="x2",
        yaxis="y2",
        showlegend=False,
    )


def variance_figure(table: dict, log10_n: float) -> go.Figure:
    """Left: the total variance (summed over the parameters) of the REINFORCE estimate against
    the number of episodes ``N`` per estimate. Right: the estimates of one parameter's gradient
    from disjoint groups of ``N`` episodes, with the exact gradient."""
    n = max(1, round(10 ** check_real(log10_n, "log10_n")))
    curves = _variance_curves(table)
    s, a = table["component"]
    exact = float(table["exact"][s, a])
    traces = [
        dict(line(list(_CURVE_NS), [round(v, 6) for v in curves[name]], colour, name),
             mode="lines+markers", showlegend=True)
        for name, colour in zip(table["per_episode"], _COLOURS, strict=True)
    ]  # fmt: skip
    parts = []
    for (name, g), colour in zip(table["per_episode"].items(), _COLOURS, strict=True):
        est = rl.group_means(g, n)
        parts.append(f"{name}: {float(est.var(0).sum()):.3g}")
        traces.append(_histogram(est[:_HIST_MAX, s, a], name, colour))
    rings = dict(size=11, symbol="circle-open", color=list(_COLOURS))
    traces.append(dots([n] * 3, [curves[k][0] / n for k in curves], rings, f"N = {n}"))
    return figure(traces, _variance_layout(rl.GRID_ACTIONS[a][1], n, parts, exact))


def _variance_layout(arrow: str, n: int, parts: list, exact: float) -> dict:
    dashed = dict(
        type="line",
        xref="x2",
        yref="paper",
        x0=exact,
        x1=exact,
        y0=0,
        y1=1,
        line=dict(dash="dash", color="#444"),
    )
    layout = dict(
        **side_by_side(
            ("total variance against N", f"estimates of ∂J/∂θ[S, {arrow}] from N episodes"),
            split=0.45,
        ),
        title=dict(
            text=f"N = {n} episodes per estimate; exact ∂J/∂θ[S, {arrow}] = {exact:.4f} (dashed)"
            + "<br>Σ variance: "
            + ", ".join(parts[:2])
            + ",<br>"
            + ", ".join(parts[2:])
        ),
        barmode="overlay",
        margin=dict(t=130),
        hovermode="closest",
        shapes=[dashed],
        legend=dict(x=0.02, y=0.02, xanchor="left", yanchor="bottom"),
    )
    layout["xaxis"].update(type="log", title="episodes per estimate N")
    layout["yaxis"].update(type="log", title="Σ variance of the estimate")
    layout["xaxis2"].update(title="estimate")
    layout["yaxis2"].update(title="density")
    return layout


def variance_explorer(table: dict, mode: str | None = None):
    """Slider over the number of episodes per REINFORCE estimate."""
    return interactive(
        lambda log10_n: variance_figure(table, log10_n),
        Slider("log10_n", 0.0, 2.0, value=1.0, steps=21, label="log₁₀ N"),
        mode=mode,
    )


# -- generation as a policy, the tilted optimum ----------------------------------------------------
@dataclass
class TokenWorld:
    """Every sequence of the chapter's token space with its reward and reference probability."""

    sequences: torch.Tensor
    rewards: torch.Tensor
    ref: torch.Tensor
    cache: dict = field(default_factory=dict, repr=False)

    def probs(self, model) -> torch.Tensor:
        """A model's probability of every sequence (renormalised against rounding)."""
        with torch.no_grad():
            p = model.log_prob(self.sequences.to(model.device)).double().exp().cpu()
        return p / p.sum()


def token_world(model, reward, length: int, vocab: int) -> TokenWorld:
    """Enumerate the ``vocab^length`` sequences, score them with ``reward`` and ``model``."""
    seqs = rl.all_sequences(check_int(length, "length"), check_int(vocab, "vocab", minimum=2))
    world = TokenWorld(seqs, reward(seqs).double(), torch.empty(0))
    world.ref = world.probs(model)
    return world


def _reward_histogram(world: TokenWorld, probs: torch.Tensor) -> list[float]:
    levels = torch.unique(world.rewards)
    return [round(float(probs[world.rewards == v].sum()), 5) for v in levels]


def frontier(world: TokenWorld) -> dict:
    """``(KL(π*_β ‖ π_ref), E_{π*_β}[r])`` for 121 values of β from 10^-1.5 to 10^1.5 (computed
    once per world)."""
    if world.cache.get("frontier") is not None:
        return world.cache["frontier"]
    betas = np.logspace(-1.5, 1.5, 121)
    rows = [
        rl.kl_objective(rl.tilted_optimum(world.ref, world.rewards, b), world.ref, world.rewards, b)
        for b in betas
    ]
    world.cache["frontier"] = {
        "beta": betas,
        "kl": [round(float(o.kl), 5) for o in rows],
        "reward": [round(float(o.reward), 5) for o in rows],
    }
    return world.cache["frontier"]


def _reward_bars(world: TokenWorld, probs: torch.Tensor, name: str, colour: str) -> dict:
    levels = [float(v) for v in torch.unique(world.rewards)]
    return dict(
        type="bar",
        x=levels,
        y=_reward_histogram(world, probs),
        name=name,
        marker=dict(color=colour),
        xaxis="x2",
        yaxis="y2",
        showlegend=False,
    )


def _right_panel(layout: dict, left_x: str, left_y: str) -> dict:
    layout["xaxis"].update(title=left_x)
    layout["yaxis"].update(title=left_y)
    layout["xaxis2"].update(title="reward k", dtick=1)
    layout["yaxis2"].update(title="probability", range=[0, 1])
    return layout


def frontier_figure(world: TokenWorld, log10_beta: float, points: dict | None = None) -> go.Figure:
    """Left: the reward–KL frontier traced by the tilted optimum, the current β on it, and
    ``points`` (name → (KL, reward)) such as fine-tuned models. Right: the distribution of the
    reward under ``π_ref`` and under ``π*_β``."""
    beta = 10 ** check_real(log10_beta, "log10_beta")
    front = frontier(world)
    star = rl.tilted_optimum(world.ref, world.rewards, beta)
    obj = rl.kl_objective(star, world.ref, world.rewards, beta)
    best = float(rl.optimal_kl_value(world.ref, world.rewards, beta))
    ref_reward = round(float((world.ref * world.rewards).sum()), 4)
    shown = dict(showlegend=True)
    traces = [
        line(list(front["kl"]), list(front["reward"]), _BLUE, "π*_β, all β", **shown),
        dots([round(float(obj.kl), 4)], [round(float(obj.reward), 4)],
               dict(size=13, color=_RED), "π*_β at this β", **shown),
        dots([0.0], [ref_reward], dict(size=11, symbol="square", color="#444"), "π_ref",
               **shown),
    ]  # fmt: skip
    for (name, (kl, rew)), sym in zip(
        (points or {}).items(), ("diamond", "x", "cross"), strict=False
    ):
        traces.append(dots([round(kl, 4)], [round(rew, 4)], dict(size=12, symbol=sym), name,
                             **shown))  # fmt: skip
    traces.append(_reward_bars(world, world.ref, "π_ref", "#999"))
    traces.append(_reward_bars(world, star, "π*_β", _RED))
    layout = dict(
        **side_by_side(("expected reward against KL(π ‖ π_ref)", "P(r(x) = k)"), split=0.55),
        title=dict(
            text=f"β = {beta:.3g}: E[r] = {float(obj.reward):.3f}, KL(π*‖π_ref) = "
            f"{float(obj.kl):.3f} nats<br>objective E[r] − β KL = {float(obj.value):.4f} "
            f"= β log Z = {best:.4f}"
        ),
        margin=dict(t=100),
        hovermode="closest",
        barmode="group",
        legend=dict(x=0.53, y=0.02, xanchor="right", yanchor="bottom"),
    )
    return figure(traces, _right_panel(layout, "KL(π ‖ π_ref) (nats)", "E_π[r]"))


def frontier_explorer(world: TokenWorld, points: dict | None = None, mode: str | None = None):
    """β slider for the tilted optimum and its place on the reward–KL frontier."""
    return interactive(
        lambda log10_beta: frontier_figure(world, log10_beta, points),
        Slider("log10_beta", -1.5, 1.5, value=-0.3, steps=31, label="log₁₀ β"),
        mode=mode,
    )


def _run_traces(world: TokenWorld, name: str, beta: float, res, step: float, colour: str):
    """The curves, the bars at the nearest recorded step and the title line of one run."""
    probs = res.tracked_probs()
    k = min(range(len(res.tracked_steps)), key=lambda i: abs(res.tracked_steps[i] - step))
    stats = _run_stats(world, beta, res, probs)
    steps = list(res.tracked_steps)
    curves = [
        line(steps, [round(float(o.reward), 4) for o in stats], colour, f"{name}: E[r]",
             showlegend=True),
        line(steps, [round(float(o.kl), 4) for o in stats], colour, f"{name}: KL",
             line=dict(dash="dot"), showlegend=True),
    ]  # fmt: skip
    text = (
        f"{name}: E[r] = {float(stats[k].reward):.2f}, KL = {float(stats[k].kl):.2f}, "
        f"top sequence {100 * float(probs[k].max()):.0f}%"
    )
    return curves, _reward_bars(world, probs[k], name, colour), text, res.tracked_steps[k]


def finetune_figure(world: TokenWorld, runs: dict, step: float) -> go.Figure:
    """Fine-tuning runs (name → (β, :class:`~companion.rl.FinetuneResult` with every sequence
    tracked)) after ``step`` updates: left, the exact ``E_π[r]`` and ``KL(π ‖ π_ref)`` over
    training; right, the reward distribution of each run now and of the tilted optimum of the
    first run with ``β > 0``."""
    step = check_real(step, "step")
    traces, bars, lines = [], [], []
    for (name, (beta, res)), colour in zip(runs.items(), (_RED, _GREEN, _PINK), strict=False):
        curves, bar, text, shown = _run_traces(world, name, beta, res, step, colour)
        traces += curves
        bars.append(bar)
        lines.append(text)
    top = 1.05 * max(max(t["y"]) for t in traces)
    traces.append(line([shown, shown], [0, top], "#444", "now", line=dict(dash="dash"),
                       hoverinfo="skip"))  # fmt: skip
    beta_star = next((b for b, _ in runs.values() if b > 0), None)
    if beta_star is not None:
        star = rl.tilted_optimum(world.ref, world.rewards, beta_star)
        ticks = dict(symbol="line-ew-open", size=22, color=_BLUE)
        bars.append(dots(list(bars[0]["x"]), _reward_histogram(world, star), ticks,
                           f"π* (β = {beta_star:g})", right=True, showlegend=True))  # fmt: skip
    layout = dict(
        **side_by_side(("exact E[r] (solid) and KL (dotted)", "P(r(x) = k) now"), split=0.5),
        title=dict(text=f"after {shown} updates<br>" + "<br>".join(lines)),
        margin=dict(t=150),
        hovermode="closest",
        barmode="group",
        legend=dict(x=0.53, y=0.98, xanchor="left", yanchor="top"),
    )
    layout["yaxis"].update(range=[0, top])
    return figure(traces + bars, _right_panel(layout, "REINFORCE updates", "reward / nats"))


def _run_stats(world: TokenWorld, beta: float, res, probs: torch.Tensor) -> list:
    """Exact objective, reward and KL of every tracked snapshot of a run (computed once)."""
    key = ("run", id(res), beta)
    if key not in world.cache:  # the run is kept with its statistics, so its id stays its own
        stats = [rl.kl_objective(p, world.ref, world.rewards, beta) for p in probs]
        world.cache[key] = (res, stats)
    return world.cache[key][1]


def finetune_explorer(world: TokenWorld, runs: dict, mode: str | None = None):
    """Training-step slider over precomputed fine-tuning runs."""
    steps = next(iter(runs.values()))[1].tracked_steps
    return interactive(
        lambda step: finetune_figure(world, runs, step),
        Slider(
            "step",
            0.0,
            float(steps[-1]),
            value=float(steps[-1]),
            steps=len(steps),
            label="updates",
            fmt=".0f",
        ),
        mode=mode,
    )
