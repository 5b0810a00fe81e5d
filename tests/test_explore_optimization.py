"""Figures of the optimization chapter: printed numbers against independent computations."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from helpers import check_explorer

from companion import optimization as op
from companion.explore import optimization as ex

GD_STEPS = 60  # gd_quadratic_figure runs companion.optimization.gd_quadratic_run's default


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def test_gd_title_shows_the_measured_rate():
    # The run itself is checked against numpy in test_optimization; here the title must show
    # its rate over the second half of the steps.
    kappa, ratio = 10.0, 0.5
    lr = 2 * ratio
    gaps = np.asarray(op.gd_quadratic_run(1.0, ratio, GD_STEPS)["gaps"])
    measured = (gaps[-1] / gaps[GD_STEPS // 2]) ** (1 / (GD_STEPS - GD_STEPS // 2))
    title = ex.gd_quadratic_figure(1.0, ratio).layout.title.text
    shown = float(re.search(r"measured rate (\d\.\d+)", title).group(1))
    assert shown == pytest.approx(measured, abs=1e-4)
    bound = float(re.search(r"bound (\d\.\d+)", title).group(1))
    assert bound == pytest.approx(1 - 2 * (1 / kappa) * lr * (1 - lr / 2), abs=1e-4)
    assert "diverges" in ex.gd_quadratic_figure(1.0, 1.1).layout.title.text


def test_sgd_title_matches_runs():
    run = ex.sgd_runs(16, "1/t")
    title = ex.sgd_figure(16, "1/t").layout.title.text
    it, avg = numbers(title.split(":", 1)[1])[-2:]
    assert it == pytest.approx(run["excess"][500:].mean(), rel=1e-2)
    assert avg == pytest.approx(run["excess_avg"][500:].mean(), rel=1e-2)
    # The excess loss is F(w) - F(w*) recomputed from the data with numpy.
    X, w_star = run["X"].numpy(), run["w_star"].numpy()
    y = X @ np.array([1.0, -1.0])  # only differences of F matter: F(w)-F(w*) is quadratic
    w = run["trajectory"][-1].numpy()
    H = X.T @ X / len(X)
    assert run["excess"][-1] == pytest.approx(0.5 * (w - w_star) @ H @ (w - w_star), rel=1e-10)
    assert y.shape == (512,)
    with pytest.raises(ValueError, match="batch_size"):
        ex.sgd_figure(3, "1/t")


def test_optimizer_grid_equals_single_run():
    grid = ex.optimizer_run("beale", "adam", 1.0, 0.65)  # from the cached batch
    single = ex._batch_run("beale", "adam", [(1.0, 0.65000001)])[:, 0]
    np.testing.assert_allclose(grid["trajectory"], single, atol=1e-5)
    off_grid = ex.optimizer_run("beale", "adam", 0.5, 0.7)
    assert np.isfinite(off_grid["trajectory"]).all()
    with pytest.raises(ValueError, match="optimizer"):
        ex.optimizer_run("beale", "sgd", 0.0, 0.5)
    with pytest.raises(ValueError, match="objective"):
        ex.optimizer_run("himmelblau", "adam", 0.0, 0.5)


def test_minmax_title_against_closed_form():
    lr = 0.3
    title = ex.minmax_figure(lr).layout.title.text
    vals = dict(
        re.findall(r"(simultaneous|alternating|extragradient|optimistic) ([\d.e+-]+)", title)
    )
    k = ex._GAME_STEPS
    assert float(vals["simultaneous"]) == pytest.approx((1 + lr**2) ** (k / 2), rel=5e-3)
    assert float(vals["extragradient"]) == pytest.approx((1 - lr**2 + lr**4) ** (k / 2), rel=5e-3)


FACTORIES = [  # the others need no input and are checked by test_explorer_contract.py
    lambda mode: ex.optimizer_explorer("rosenbrock", mode=mode),
    lambda mode: ex.optimizer_explorer("beale", mode=mode),
    lambda mode: ex.optimizer_explorer("quadratic", mode=mode),
    lambda mode: ex.adaptive_explorer("beale", mode=mode),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_both_modes_build(factory):
    check_explorer(factory, max_frames=300, max_bytes=2_000_000, validate=True)


@pytest.mark.parametrize("name", ["rmsprop", "adam"])
def test_adaptive_runs_equal_torch_optim(name):
    """The second-moment/ε figure's trajectories are torch.optim's, on and off its grid."""
    obj = op.OBJECTIVES["rosenbrock"]()
    lr = ex.BASE_LR["rosenbrock"][name]
    for decay, log_eps in ((0.9, -8.0), (0.999, -3.0), (0.95, -2.5)):
        traj = ex.adaptive_run("rosenbrock", name, decay, log_eps)["trajectory"]
        p = torch.tensor(obj.start, dtype=torch.float64, requires_grad=True)
        if name == "adam":
            opt = torch.optim.Adam([p], lr=lr, betas=(0.9, decay), eps=10**log_eps)
        else:
            opt = torch.optim.RMSprop([p], lr=lr, alpha=decay, eps=10**log_eps)
        for k in range(1, 101):
            opt.zero_grad()
            obj.value(p).backward()
            opt.step()
            assert torch.allclose(p.detach(), torch.from_numpy(traj[k]), atol=1e-9), (k, decay)


def test_bad_input():
    with pytest.raises(ValueError, match="optimizer"):
        ex.adaptive_run("beale", "momentum", 0.9, -8.0)
    with pytest.raises(ValueError, match="decay2"):
        ex.adaptive_run("beale", "adam", 1.0, -8.0)
    with pytest.raises(TypeError, match="log10_eps"):
        ex.adaptive_run("beale", "adam", 0.9, "small")
    with pytest.raises(ValueError, match="objective"):
        ex.optimizer_explorer("himmelblau")


def test_level_sets_lie_on_their_levels():
    from companion import optimization as op

    fig = ex.gd_quadratic_figure(1.5, 0.5)
    xs = np.array([v if v is not None else np.nan for v in fig.data[0].x], dtype=float)
    ys = np.array([v if v is not None else np.nan for v in fig.data[0].y], dtype=float)
    pts = np.stack([xs, ys], -1)
    pts = pts[np.isfinite(pts).all(1)]
    obj = op.quadratic(kappa=10**1.5, L=1.0)
    vals = obj.value(torch.as_tensor(pts)).numpy()
    levels = np.array([0.02, 0.2, 0.6, 1.5])
    assert np.all(np.min(np.abs(vals[:, None] - levels[None]), axis=1) < 1e-3)


@pytest.mark.parametrize("name", ["rmsprop", "adam"])
def test_adaptive_eps_sweep_equals_single_runs(name):
    """Live ε positions come from one batch (ε a tensor) and equal runs on their own, bit for bit;
    off the live steps a run is made alone."""
    for decay, log_eps in ((0.999, -7.36), (0.5, -1.01), (0.9, -3.25), (0.99, -4.1234)):
        run = ex.adaptive_run("beale", name, decay, log_eps)["trajectory"]
        rule = op.adaptive_rule(name, ex.BASE_LR["beale"][name], decay, 10.0**log_eps)
        alone = op.batched_paths("beale", rule, 1, ex._OPT_STEPS)[:, 0]
        np.testing.assert_array_equal(run, alone)
    # the static grid too: every grid setting equals its run made alone
    for decay in ex._DECAY2_GRID:
        for log_eps in ex._LOG10_EPS_GRID:
            run = ex.adaptive_run("beale", name, decay, log_eps)["trajectory"]
            rule = op.adaptive_rule(name, ex.BASE_LR["beale"][name], decay, 10.0**log_eps)
            np.testing.assert_array_equal(
                run, op.batched_paths("beale", rule, 1, ex._OPT_STEPS)[:, 0]
            )
    with pytest.raises(ValueError, match="eps"):
        op.Adam(0.1, eps=torch.tensor([[1e-8], [-1.0]], dtype=torch.float64))


@pytest.mark.parametrize("optimizer", ex.OPTIMIZERS)
def test_optimizer_sweeps_equal_single_runs(optimizer):
    """A live slider's positions come from one batch once the reader moves it; they equal the
    runs made alone (bit for bit), and the explorer starts a sweep only for the moved slider."""
    live = ex.optimizer_explorer("beale", mode="live")
    live.update(optimizer=optimizer)
    ex._SWEEPS.clear()
    live.update(log2_lr=0.37)
    live.update(log2_lr=-1.25)
    assert ("beale", optimizer, "lr", 0.8) in ex._SWEEPS
    live.update(beta=0.731)
    live.update(beta=0.612)
    assert ("beale", optimizer, "beta", -1.25) in ex._SWEEPS
    for a, b in ((0.37, 0.8), (-2.0, 0.8), (2.0, 0.8), (-1.25, 0.5), (-1.25, 0.95), (-1.25, 0.6)):
        run = ex.optimizer_run("beale", optimizer, a, b)["trajectory"]
        alone = ex._batch_run("beale", optimizer, [(a, b)])[:, 0]
        np.testing.assert_array_equal(run, alone)


@pytest.mark.parametrize("mean", [1.25, 2.0, 3.5, 4.5, 5.75])
def test_maxent_title_against_scipy_root_finding(mean):
    from scipy.optimize import brentq
    from scipy.stats import entropy

    faces = np.arange(1.0, 7.0)

    def gibbs(lam):
        w = np.exp(lam * (faces - faces.max()))
        return w / w.sum()

    lam = brentq(lambda t: gibbs(t) @ faces - mean, -50, 50, xtol=1e-14)
    title = ex.maxent_figure(mean).layout.title.text
    shown_lam, shown_h = numbers(title.split(":", 1)[1])[:2]
    assert shown_lam == pytest.approx(lam, abs=6e-4)
    assert shown_h == pytest.approx(entropy(gibbs(lam)), abs=6e-5)
    fig = ex.maxent_figure(mean)
    assert np.allclose(fig.data[0].y, gibbs(lam), atol=1e-8)
    # Right panel: log p is the line λx − log Z through the points.
    assert np.allclose(np.log(fig.data[0].y), fig.data[2].y)
    if mean == 3.5:
        assert "λ = +0.000" in title


def test_maxent_figure_rejects_impossible_means():
    with pytest.raises(ValueError, match="strictly between"):
        ex.maxent_figure(6.0)
