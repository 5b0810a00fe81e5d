"""companion.rl against independent references: NumPy/SciPy linear algebra, linear programming,
brute force over deterministic policies, autograd, and closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import optimize, special

from companion import rl, zoo

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _random_mdp(seed: int, s: int = 3, a: int = 2, gamma: float = 0.8) -> rl.TabularMDP:
    rng = np.random.default_rng(seed)
    p = rng.gamma(0.7, size=(s, a, s))
    p /= p.sum(-1, keepdims=True)
    mu = rng.dirichlet(np.ones(s))
    return rl.TabularMDP(
        torch.tensor(p), torch.tensor(rng.normal(size=(s, a))), gamma, torch.tensor(mu)
    )


def _np_evaluate(mdp: rl.TabularMDP, pi: np.ndarray) -> np.ndarray:
    p, r = mdp.transitions.numpy(), mdp.rewards.numpy()
    s, a = r.shape
    p_pi, r_pi = np.zeros((s, s)), np.zeros(s)
    for i in range(s):
        for j in range(a):
            p_pi[i] += pi[i, j] * p[i, j]
            r_pi[i] += pi[i, j] * r[i, j]
    return np.linalg.solve(np.eye(s) - mdp.gamma * p_pi, r_pi)


# -- policy evaluation and value iteration ---------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_policy_evaluation_is_the_linear_solve(seed):
    mdp = _random_mdp(seed, s=5, a=3, gamma=0.95)
    pi = np.random.default_rng(seed + 10).dirichlet(np.ones(3), size=5)
    v = rl.evaluate_policy(mdp, torch.tensor(pi))
    np.testing.assert_allclose(v.numpy(), _np_evaluate(mdp, pi), atol=1e-10, rtol=0)
    # Monte Carlo agrees too: mean discounted return of simulated episodes from each state.
    assert rl.objective(mdp, torch.tensor(pi)).item() == pytest.approx(
        float(mdp.start.numpy() @ _np_evaluate(mdp, pi)), abs=1e-10
    )


def test_rollouts_returns_match_values_by_monte_carlo():
    mdp = _random_mdp(1)
    pi = torch.tensor([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    ep = rl.rollouts(mdp, pi, 20000, 120, generator=torch.Generator().manual_seed(0))
    returns = (ep.rewards * 0.8 ** torch.arange(120, dtype=torch.float64)).sum(1)
    se = returns.std() / math.sqrt(len(returns))
    assert abs(returns.mean() - rl.objective(mdp, pi)) < 4 * se


@pytest.mark.parametrize("seed", range(4))
def test_value_iteration_reaches_the_optimum_at_rate_gamma_k(seed):
    mdp = _random_mdp(seed, s=4, a=3, gamma=0.9)
    vi = rl.value_iteration(mdp, tol=1e-12, keep_iterates=True)
    # Independent V*: the best of all 3^4 deterministic policies, each by a NumPy linear solve.
    best = np.max(
        [
            _np_evaluate(mdp, np.eye(3)[list(choice)])
            for choice in itertools.product(range(3), repeat=4)
        ],
        axis=0,
    )
    np.testing.assert_allclose(vi.values.numpy(), best, atol=1e-10)
    # ... and by linear programming.
    p, r = mdp.transitions.numpy(), mdp.rewards.numpy()
    a_ub = np.concatenate([0.9 * p[:, a, :] - np.eye(4) for a in range(3)])
    lp = optimize.linprog(np.ones(4), A_ub=a_ub, b_ub=-r.T.reshape(-1), bounds=[(None, None)] * 4)
    np.testing.assert_allclose(lp.x, best, atol=1e-7)
    err = (vi.iterates - vi.values).abs().amax(1)
    assert all(err[k] <= 0.9**k * err[0] + 1e-12 for k in range(len(err)))
    # The greedy policy of V* is optimal.
    assert (rl.evaluate_policy(mdp, vi.policy) - vi.values).abs().max() < 1e-10


def test_value_iteration_rate_is_tight_for_one_state():
    mdp = rl.TabularMDP(
        torch.ones(1, 1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64), 0.7
    )
    vi = rl.value_iteration(mdp, tol=1e-13, keep_iterates=True)
    err = (vi.iterates - 1 / 0.3).abs()[:, 0]
    ks = torch.arange(len(err), dtype=torch.float64)
    torch.testing.assert_close(err, 0.7**ks / 0.3, atol=1e-12, rtol=1e-9)
    assert abs(vi.values.item() - 1 / 0.3) <= 1e-13


def test_grid_world_rows_and_rewards():
    mdp = rl.grid_world(4, 6, gamma=0.9, slip=0.2)
    torch.testing.assert_close(mdp.transitions.sum(-1), torch.ones(24, 4, dtype=torch.float64))
    # Next to the goal (row 2, column 5), "down" pays 0.8 + 0.2/4 (a slip that also goes down).
    assert mdp.rewards[2 * 6 + 5, 2].item() == pytest.approx(0.85)
    # From the start, "right" falls into the cliff unless it slips elsewhere: 0.8 + 0.05.
    assert mdp.rewards[18, 1].item() == pytest.approx(-0.85)
    assert mdp.start[18] == 1


# -- policy gradients ------------------------------------------------------------------------------
def _exact_by_autograd(mdp, logits):
    theta = logits.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(rl.objective(mdp, torch.softmax(theta, 1)), theta)
    return g


@pytest.mark.parametrize("seed", range(3))
def test_policy_gradient_theorem_equals_autograd(seed):
    mdp = _random_mdp(seed, s=5, a=3, gamma=0.9)
    logits = torch.tensor(np.random.default_rng(seed).normal(size=(5, 3)))
    torch.testing.assert_close(
        rl.exact_policy_gradient(mdp, logits), _exact_by_autograd(mdp, logits), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("baseline", [None, "value", 0.3])
def test_reinforce_is_unbiased_and_the_baseline_cuts_variance(baseline):
    mdp = _random_mdp(7, gamma=0.8)
    logits = torch.tensor([[0.5, -0.5], [0.0, 1.0], [-1.0, 0.2]], dtype=torch.float64)
    exact = _exact_by_autograd(mdp, logits)
    g = rl.reinforce_gradient(mdp, logits, 20000, 120, baseline=baseline, seed=3)
    assert ((g.mean - exact).abs() <= 4 * g.stderr).all(), (g.mean, exact, g.stderr)
    plain = rl.reinforce_gradient(mdp, logits, 20000, 120, seed=3)
    if baseline == "value":
        assert g.variance.sum() < 0.8 * plain.variance.sum()


def test_reward_to_go_and_whole_return_agree_in_mean():
    mdp = _random_mdp(2, gamma=0.7)
    logits = torch.zeros(3, 2, dtype=torch.float64)
    exact = _exact_by_autograd(mdp, logits)
    whole = rl.reinforce_gradient(mdp, logits, 20000, 100, reward_to_go=False, seed=1)
    assert ((whole.mean - exact).abs() <= 4 * whole.stderr).all()


def test_per_episode_score_equals_autograd_of_the_surrogate():
    mdp = _random_mdp(4, gamma=0.9)
    logits = torch.tensor(np.random.default_rng(0).normal(size=(3, 2)))
    g = rl.reinforce_gradient(mdp, logits, 3, 6, baseline="value", seed=5)
    ep = rl.rollouts(
        mdp, torch.softmax(logits, 1), 3, 6, generator=torch.Generator().manual_seed(5)
    )
    v = rl.evaluate_policy(mdp, torch.softmax(logits, 1))
    disc = 0.9 ** torch.arange(6, dtype=torch.float64)
    rtg = (ep.rewards * disc).flip(1).cumsum(1).flip(1) - disc * v[ep.states]
    for n in range(3):
        theta = logits.clone().requires_grad_(True)
        logp = torch.log_softmax(theta, 1)[ep.states[n], ep.actions[n]]
        (auto,) = torch.autograd.grad((logp * rtg[n]).sum(), theta)
        torch.testing.assert_close(g.per_episode[n], auto, atol=1e-12, rtol=0)


# -- KL-regularised objective ----------------------------------------------------------------------
def test_tilted_optimum_beats_every_perturbation():
    rng = np.random.default_rng(0)
    ref = torch.tensor(rng.dirichlet(np.ones(12)))
    r = torch.tensor(rng.normal(size=12))
    for beta in (0.05, 0.5, 5.0):
        star = rl.tilted_optimum(ref, r, beta)
        best = rl.kl_objective(star, ref, r, beta).value
        z = special.logsumexp(np.log(ref.numpy()) + r.numpy() / beta)
        assert best.item() == pytest.approx(beta * z, abs=1e-12)
        assert rl.optimal_kl_value(ref, r, beta).item() == pytest.approx(beta * z, abs=1e-12)
        gen = torch.Generator().manual_seed(1)
        for scale in (1e-4, 1e-2, 1.0, 10.0):
            for _ in range(50):
                noise = scale * torch.randn(12, generator=gen, dtype=torch.float64)
                q = torch.softmax(star.log() + noise, 0)
                assert rl.kl_objective(q, ref, r, beta).value <= best + 1e-12
        # A general-purpose optimiser over the logits finds no better point.
        res = optimize.minimize(
            lambda th, beta=beta: (
                -rl.kl_objective(torch.softmax(torch.tensor(th), 0), ref, r, beta).value.item()
            ),
            np.zeros(12),
            method="BFGS",
        )
        assert -res.fun <= best.item() + 1e-9
        assert -res.fun == pytest.approx(best.item(), abs=1e-5)


def test_tilted_optimum_keeps_zeros_and_handles_large_rewards():
    ref = torch.tensor([0.5, 0.0, 0.5], dtype=torch.float64)
    r = torch.tensor([1000.0, 5000.0, 999.0], dtype=torch.float64)
    star = rl.tilted_optimum(ref, r, 1.0)
    assert star[1] == 0 and torch.isfinite(star).all()
    assert star[0].item() == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-12)


@pytest.fixture(scope="module")
def token_setup():
    torch.manual_seed(0)
    chain = torch.full((3, 3), 0.2, dtype=torch.float64)
    chain.fill_diagonal_(0.6)
    data = zoo.markov_sequences(chain.expand(3, 3, 3).clone(), 2000, 4, seed=0)
    ref = zoo.fit_autoregressive(data, categories=3, steps=150, hidden=32, progress=False)
    space = rl.all_sequences(4, 3)

    def reward(x):
        return ((x[:, 1:] - x[:, :-1]) % 3 == 1).sum(1).double()

    return ref, reward, space


def _probs(model, space):
    with torch.no_grad():
        p = model.log_prob(space).double().exp()
    return p / p.sum()


def test_finetune_approaches_the_tilted_optimum(token_setup):
    ref, reward, space = token_setup
    beta = 0.5
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    res = rl.finetune(
        ref, reward, beta=beta, steps=120, batch_size=256, lr=1e-2, progress=False, track=space
    )
    # The global random stream is untouched.
    assert torch.equal(torch.rand(1), before)
    p_ref, r = _probs(ref, space), reward(space)
    star = rl.optimal_kl_value(p_ref, r, beta).item()
    start = rl.kl_objective(p_ref, p_ref, r, beta).value.item()
    end = rl.kl_objective(_probs(res.policy, space), p_ref, r, beta).value.item()
    assert end <= star + 1e-9
    assert star - end < 0.05 * (star - start)
    # The reference is left as it was and the tracked log-probs are the policy's.
    torch.testing.assert_close(_probs(res.reference, space), p_ref)
    torch.testing.assert_close(res.tracked[-1], res.policy.log_prob(space).detach().double())
    assert res.tracked_steps[0] == 0 and res.tracked_steps[-1] == 120


def test_finetune_without_penalty_collapses(token_setup):
    ref, reward, space = token_setup
    res = rl.finetune(ref, reward, beta=0.0, steps=150, progress=False)
    p = _probs(res.policy, space)
    assert p.max() > 0.5 and reward(space)[p.argmax()] == 3


def test_functions_leave_the_global_stream_alone():
    mdp = _random_mdp(0)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    rl.reinforce_gradient(mdp, torch.zeros(3, 2, dtype=torch.float64), 50, 10, seed=2)
    rl.rollouts(mdp, torch.full((3, 2), 0.5, dtype=torch.float64), 10, 5)
    assert torch.equal(torch.rand(3), expected)


def test_reinforce_is_reproducible_and_seeded():
    mdp = _random_mdp(0)
    z = torch.zeros(3, 2, dtype=torch.float64)
    a = rl.reinforce_gradient(mdp, z, 100, 10, seed=2).per_episode
    b = rl.reinforce_gradient(mdp, z, 100, 10, seed=2).per_episode
    c = rl.reinforce_gradient(mdp, z, 100, 10, seed=3).per_episode
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


# -- bad input ------------------------------------------------------------------------------------
def test_mdp_validation():
    p = torch.full((2, 1, 2), 0.5, dtype=torch.float64)
    r = torch.zeros(2, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="sum to 1"):
        rl.TabularMDP(p * 1.1, r, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        rl.TabularMDP(p, r, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        rl.TabularMDP(p, r, -0.1)
    with pytest.raises(ValueError, match="finite"):
        rl.TabularMDP(p, r, math.nan)
    with pytest.raises(ValueError, match="NaN"):
        rl.TabularMDP(p, r + math.nan, 0.5)
    with pytest.raises(ValueError, match="infinite"):
        rl.TabularMDP(p, r + math.inf, 0.5)
    with pytest.raises(TypeError, match="floating"):
        rl.TabularMDP(p.long(), r, 0.5)
    with pytest.raises(TypeError, match="torch.Tensor"):
        rl.TabularMDP(p.tolist(), r, 0.5)
    with pytest.raises(ValueError, match="shape"):
        rl.TabularMDP(torch.full((2, 1, 3), 1 / 3, dtype=torch.float64), r, 0.5)
    with pytest.raises(ValueError, match="rewards"):
        rl.TabularMDP(p, torch.zeros(2, 2, dtype=torch.float64), 0.5)
    with pytest.raises(ValueError, match="start"):
        rl.TabularMDP(p, r, 0.5, torch.tensor([0.7, 0.7], dtype=torch.float64))
    with pytest.raises(ValueError, match="empty"):
        rl.TabularMDP(torch.zeros(0, 1, 0, dtype=torch.float64), torch.zeros(0, 1), 0.5)


def test_policy_and_argument_validation():
    mdp = _random_mdp(0)
    with pytest.raises(ValueError, match="shape"):
        rl.evaluate_policy(mdp, torch.full((3, 3), 1 / 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="sum to 1"):
        rl.evaluate_policy(mdp, torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="TabularMDP"):
        rl.evaluate_policy("mdp", torch.ones(3, 2) / 2)
    with pytest.raises(ValueError, match="tol"):
        rl.value_iteration(mdp, tol=0.0)
    with pytest.raises(RuntimeError, match="did not reach"):
        rl.value_iteration(mdp, tol=1e-12, max_iter=2)
    with pytest.raises(ValueError, match="n_episodes"):
        rl.reinforce_gradient(mdp, torch.zeros(3, 2, dtype=torch.float64), 0, 10)
    with pytest.raises(TypeError, match="floating"):
        rl.reinforce_gradient(mdp, torch.zeros(3, 2, dtype=torch.int64), 10, 10)
    with pytest.raises(ValueError, match="baseline"):
        rl.reinforce_gradient(mdp, torch.zeros(3, 2, dtype=torch.float64), 10, 10, baseline="mean")
    with pytest.raises(ValueError, match="too many"):
        rl.rollouts(mdp, torch.full((3, 2), 0.5, dtype=torch.float64), 10**8, 10)
    with pytest.raises(ValueError, match="slip"):
        rl.grid_world(slip=1.5)
    ref = torch.tensor([0.5, 0.5], dtype=torch.float64)
    with pytest.raises(ValueError, match="beta"):
        rl.tilted_optimum(ref, torch.zeros(2, dtype=torch.float64), 0.0)
    with pytest.raises(ValueError, match="shape"):
        rl.tilted_optimum(ref, torch.zeros(3, dtype=torch.float64), 1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        rl.kl_objective(
            torch.tensor([0.9, 0.9], dtype=torch.float64),
            ref,
            torch.zeros(2, dtype=torch.float64),
            1.0,
        )
    with pytest.raises(ValueError, match="too many"):
        rl.all_sequences(20, 4)


def test_finetune_validation(token_setup):
    ref, reward, _ = token_setup
    with pytest.raises(ValueError, match="beta"):
        rl.finetune(ref, reward, beta=-1.0, steps=1, progress=False)
    with pytest.raises(TypeError, match="reward"):
        rl.finetune(ref, lambda x: x.sum(1), steps=1, progress=False)  # an integer tensor
    with pytest.raises(TypeError, match="reward"):
        rl.finetune(ref, "reward", steps=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        rl.finetune(ref, reward, steps=0, progress=False)


def test_device_argument():
    mdp = _random_mdp(0).to("cpu")
    assert mdp.device.type == "cpu"
    with pytest.raises((ValueError, TypeError)):
        mdp.to(3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_on_gpu_matches_cpu():
    mdp = _random_mdp(0)
    logits = torch.zeros(3, 2, dtype=torch.float64)
    cpu = rl.reinforce_gradient(mdp, logits, 500, 20, seed=1, baseline="value").mean
    gpu = rl.reinforce_gradient(
        mdp.to("cuda"), logits.to("cuda"), 500, 20, seed=1, baseline="value"
    ).mean
    torch.testing.assert_close(gpu.cpu(), cpu)


# -- the chapter's exercise checks -----------------------------------------------------------------
def test_exercise_checks_accept_right_and_reject_wrong_answers(capsys):
    from companion.exercises import CheckFailed
    from companion.exercises import rl as ex

    def evaluate(p, r, gamma, policy):
        mdp = rl.TabularMDP(p, r, gamma)
        return rl.evaluate_policy(mdp, policy)

    assert ex.check_policy_evaluation(evaluate) is True

    def too_few_sweeps(p, r, gamma, policy):  # 300 sweeps are enough at γ = 0.9, not at 0.99
        v = torch.zeros(p.shape[0], dtype=p.dtype)
        for _ in range(300):
            v = (policy * (r + gamma * p @ v)).sum(1)
        return v

    with pytest.raises(CheckFailed, match="γ=0.99"):
        ex.check_policy_evaluation(too_few_sweeps)
    with pytest.raises(CheckFailed, match="raised"):
        ex.check_policy_evaluation(lambda *a: 1 / 0)
    assert ex.check_tilted_optimum(rl.tilted_optimum) is True

    def naive(ref, r, beta):  # overflows for r / β near 1000
        w = ref * torch.exp(r / beta)
        return w / w.sum()

    with pytest.raises(CheckFailed, match="case 3"):
        ex.check_tilted_optimum(naive)
    with pytest.raises(CheckFailed, match="function itself"):
        ex.check_tilted_optimum(3)
    assert "Correct" in capsys.readouterr().out


# == moved from explore/rl.py ==


def test_greedy_grid_route_by_hand():
    h, w = 4, 6
    up, right, down, left = 0, 1, 2, 3
    # Up the left column, along the top row, down the right column into the goal.
    actions = [up] * (h * w)
    actions[0 : w - 1] = [right] * (w - 1)
    for r in range(h):
        actions[r * w + w - 1] = down
    route = rl.greedy_grid_route(actions, h, w)
    expected = [(3, 0), (2, 0), (1, 0), (0, 0)] + [(0, c) for c in range(1, 6)]
    expected += [(1, 5), (2, 5), (3, 5)]
    assert route == expected
    # Straight right from the start: the first move falls off the cliff.
    assert rl.greedy_grid_route([right] * 24, h, w) == [(3, 0), (3, 1)]
    # Bumping into the wall for ever: stopped after max_moves moves.
    assert rl.greedy_grid_route([left] * 24, h, w, max_moves=5) == [(3, 0)] * 6
    with pytest.raises(ValueError, match="one action per state"):
        rl.greedy_grid_route([0] * 5, h, w)


def test_group_means_against_numpy():
    x = torch.arange(2 * 3 * 23, dtype=torch.float64).reshape(23, 2, 3) ** 1.5
    got = rl.group_means(x, 5)
    ref = np.stack([x.numpy()[5 * i : 5 * i + 5].mean(0) for i in range(4)])
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-14)
    with pytest.raises(ValueError, match="larger than the pool"):
        rl.group_means(x, 24)
