"""Figures of the RL chapter: both modes, every slider extreme, the printed numbers checked."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from helpers import check_explorer

from companion import rl, zoo
from companion.explore import rl as er

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = zoo.DiscreteAutoregressive(3, 3, 16)

    def reward(x):
        return (x[:, 1:] == x[:, :-1]).sum(1).double()

    world = er.token_world(model, reward, 3, 3)
    runs = {
        "free": (
            0.0,
            rl.finetune(
                model,
                reward,
                beta=0.0,
                steps=20,
                progress=False,
                track=world.sequences,
                track_every=5,
            ),
        ),
        "kl": (
            0.5,
            rl.finetune(
                model,
                reward,
                beta=0.5,
                steps=20,
                progress=False,
                track=world.sequences,
                track_every=5,
            ),
        ),
    }
    table = er.variance_table(pool=400, horizon=30)
    return world, runs, table


def _factories(setup):
    world, runs, table = setup
    return [
        lambda mode: er.variance_explorer(table, mode=mode),
        lambda mode: er.frontier_explorer(world, {"a point": (0.5, 1.0)}, mode=mode),
        lambda mode: er.finetune_explorer(world, runs, mode=mode),
    ]


@pytest.mark.parametrize("which", range(3))
def test_both_modes_build_at_every_extreme(setup, which):
    factory = _factories(setup)[which]
    static, _ = check_explorer(factory)
    # The figure moves on the static site: some trace or the title changes between frames.
    assert static.payload["keys"] or "title" in static.payload["frames"][0]["layout"]


def test_figures_are_valid_plotly(setup):
    world, runs, table = setup
    for fig in (
        er.grid_figure(0.5, 0.1),
        er.variance_figure(table, 1.0),
        er.frontier_figure(world, 0.0, {"p": (0.1, 0.2)}),
        er.finetune_figure(world, runs, 10),
    ):
        go.Figure(fig.to_plotly_json())


def test_grid_figure_numbers():
    fig = er.grid_figure(0.9, 0.1)
    mdp = rl.grid_world(4, 6, gamma=0.9, slip=0.1)
    v = rl.value_iteration(mdp).values
    shown = float(re.search(r"V\*\(S\) = (-?\d+\.\d+)", fig.layout.title.text).group(1))
    assert shown == pytest.approx(v[18].item(), abs=1e-3)
    np.testing.assert_allclose(np.array(fig.data[0].z), v.reshape(4, 6).numpy(), atol=1e-4)
    # A patient agent detours; at γ = 0.75 the route follows the cliff edge (7 moves).
    assert "9 moves, 0 of them along the cliff edge" in fig.layout.title.text
    assert "7 moves, 4 of them" in er.grid_figure(0.75, 0.1).layout.title.text
    assert "does not reach" in er.grid_figure(0.0, 0.1).layout.title.text
    with pytest.raises(ValueError, match="gamma"):
        er.grid_figure(1.0)


def test_variance_figure_numbers(setup):
    _, _, table = setup
    fig = er.variance_figure(table, math.log10(4))
    title = fig.layout.title.text
    per = table["per_episode"]["reward to go − V(s)"]
    groups = per[: (len(per) // 4) * 4].reshape(-1, 4, *per.shape[1:]).mean(1)
    shown = float(re.search(r"reward to go − V\(s\): ([\d.e-]+)", title).group(1))
    assert shown == pytest.approx(groups.var(0).sum().item(), rel=2e-3)
    s, a = table["component"]
    exact = rl.exact_policy_gradient(rl.grid_world(4, 6, gamma=0.9, slip=0.1), _logits())
    assert f"{exact[s, a].item():.4f}" in title


def _logits():
    logits = torch.zeros(24, 4, dtype=torch.float64)
    logits[:, 1], logits[:, 0] = 1.0, 0.5
    return logits


def test_frontier_figure_numbers(setup):
    world, _, _ = setup
    fig = er.frontier_figure(world, math.log10(0.7))
    nums = [float(x) for x in re.findall(r"= (-?\d+\.\d+)", fig.layout.title.text)][1:]
    star = world.ref * torch.exp(world.rewards / 0.7)
    star = star / star.sum()
    reward = (star * world.rewards).sum().item()
    kl = (star * (star / world.ref).log()).sum().item()
    assert nums[0] == pytest.approx(reward, abs=1e-3) and nums[1] == pytest.approx(kl, abs=1e-3)
    z = math.log((world.ref * torch.exp(world.rewards / 0.7)).sum().item())
    assert nums[2] == pytest.approx(0.7 * z, abs=1e-4) and nums[3] == pytest.approx(
        0.7 * z, abs=1e-4
    )
    # The frontier rises with KL (smaller β, more reward).
    f = er.frontier(world)
    assert np.all(np.diff(f["reward"]) <= 1e-9) and np.all(np.diff(f["kl"]) <= 1e-9)


def test_finetune_figure_numbers(setup):
    world, runs, _ = setup
    fig = er.finetune_figure(world, runs, 20)
    res = runs["kl"][1]
    p = res.policy.log_prob(world.sequences).detach().double().exp()
    p = p / p.sum()
    reward = (p * world.rewards).sum().item()
    assert f"kl: E[r] = {reward:.2f}" in fig.layout.title.text
    with pytest.raises(ValueError, match="track"):
        bare = rl.finetune(
            zoo.DiscreteAutoregressive(3, 3, 8), lambda x: x[:, 0].double(), steps=1, progress=False
        )
        er.finetune_figure(world, {"bare": (0.0, bare)}, 0)
