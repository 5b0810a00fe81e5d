"""Policies, rewards and the score function: the companion of the chapter of the same name.

* **Markov decision processes** — :class:`TabularMDP` holds the transition tensor
  ``P[s, a, s'] = P(s' | s, a)`` (each row a probability vector), the expected rewards
  ``R[s, a]``, the discount ``γ ∈ [0, 1)`` and the start distribution. :func:`evaluate_policy`
  solves the Bellman expectation equation as one linear system (eq-rl-policy-evaluation);
  :func:`value_iteration` iterates the Bellman optimality operator, a ``γ``-contraction
  (eq-rl-bellman-optimality). :func:`grid_world` builds the chapter's cliff world.
* **Policy gradients** — :func:`rollouts` samples episodes of a tabular policy, all at once;
  :func:`reinforce_gradient` turns them into REINFORCE estimates (eq-rl-reinforce), with reward
  to go and an optional baseline, one estimate per episode so that the variance can be measured;
  :func:`exact_policy_gradient` is the policy-gradient theorem (eq-rl-pg-theorem) computed in
  closed form.
* **KL-regularised objectives** — :func:`tilted_optimum` is the exact maximiser
  ``π* ∝ π_ref exp(r / β)`` (eq-rl-tilted) of :func:`kl_objective` (eq-rl-kl-objective), and
  :func:`finetune` raises a reward of an autoregressive model from :mod:`companion.zoo`
  (a :class:`~companion.zoo.DiscreteAutoregressive`) by REINFORCE with a KL penalty.

Conventions: logarithms are natural (nats); a policy is a tensor ``(S, A)`` whose rows are the
probability vectors ``π(· | s)``; a *tabular softmax policy* has logits ``θ`` of the same shape,
``π(a | s) = softmax(θ[s])[a]``; returns are discounted sums ``Σ_t γ^t r_t``; the objective of a
policy is ``J(π) = Σ_s μ₀(s) V^π(s)``. Random numbers come from a private generator seeded by
``seed``, so calling these functions leaves the global random stream untouched.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._validate import (
    check_finite,
    check_int,
    check_iterations,
    check_probability,
    check_real,
    check_same_device,
    check_tensor,
)
from .device import resolve_device
from .divergences import kl_discrete
from .models import check_fit_args, train
from .progress import progress as progress_bar

__all__ = [
    "TabularMDP",
    "grid_world",
    "GRID_ACTIONS",
    "policy_matrices",
    "evaluate_policy",
    "objective",
    "action_values",
    "bellman_optimality",
    "greedy_policy",
    "value_iteration",
    "ValueIteration",
    "rollouts",
    "Rollouts",
    "reinforce_gradient",
    "PolicyGradient",
    "exact_policy_gradient",
    "tilted_optimum",
    "optimal_kl_value",
    "kl_objective",
    "KLObjective",
    "all_sequences",
    "finetune",
    "FinetuneResult",
]

#: Moves of :func:`grid_world`, in action order: (row change, column change) and a symbol.
GRID_ACTIONS = (((-1, 0), "↑"), ((0, 1), "→"), ((1, 0), "↓"), ((0, -1), "←"))
_MAX_SEQUENCES = 1_000_000
#: Largest grid-world side: the dense (S, A, S) transition tensor grows as side⁴.
_MAX_GRID_SIDE = 64


# == Markov decision processes =====================================================================
class TabularMDP:
    """A finite Markov decision process ``(S, A, P, R, γ, μ₀)``.

    Parameters
    ----------
    transitions
        Floating tensor ``(S, A, S)``; ``transitions[s, a]`` is the probability vector of the
        next state after action ``a`` in state ``s`` (non-negative, summing to one).
    rewards
        Floating tensor ``(S, A)``: the expected reward ``R(s, a)`` of taking ``a`` in ``s``.
    gamma
        The discount ``γ``, in ``[0, 1)`` (so every value is finite).
    start
        The start distribution ``μ₀`` ``(S,)``; uniform if omitted.

    All tensors must share a device; :meth:`to` moves the process.
    """

    def __init__(self, transitions: Tensor, rewards: Tensor, gamma: float, start=None):
        p = check_probability(transitions, "transitions")
        if p.ndim != 3 or p.shape[0] != p.shape[2]:
            raise ValueError(f"transitions must have shape (S, A, S); got {tuple(p.shape)}")
        s, a = p.shape[0], p.shape[1]
        r = check_tensor(rewards, "rewards", ndim=2)
        if r.shape != (s, a):
            raise ValueError(f"rewards must have shape (S, A) = ({s}, {a}); got {tuple(r.shape)}")
        g = check_real(gamma, "gamma")
        if not 0 <= g < 1:
            raise ValueError(f"gamma must lie in [0, 1) so that returns are finite; got {g}")
        if start is None:
            start = torch.full((s,), 1.0 / s, dtype=p.dtype, device=p.device)
        mu = check_probability(start, "start")
        if mu.shape != (s,):
            raise ValueError(f"start must have shape (S,) = ({s},); got {tuple(mu.shape)}")
        check_same_device({"transitions": p, "rewards": r, "start": mu})
        self.transitions, self.rewards, self.gamma, self.start = p, r.to(p.dtype), g, mu.to(p.dtype)

    @property
    def n_states(self) -> int:
        return self.transitions.shape[0]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[1]

    @property
    def device(self) -> torch.device:
        return self.transitions.device

    def to(self, device=None) -> TabularMDP:
        """The same process with its tensors on ``device``."""
        dev = resolve_device(device)
        return TabularMDP(
            self.transitions.to(dev), self.rewards.to(dev), self.gamma, self.start.to(dev)
        )

    def with_gamma(self, gamma: float) -> TabularMDP:
        """The same process with another discount."""
        return TabularMDP(self.transitions, self.rewards, gamma, self.start)


def _grid_cells(height: int, width: int) -> tuple[set, tuple, tuple]:
    """The cliff cells, the start and the goal of :func:`grid_world`."""
    start, goal = (height - 1, 0), (height - 1, width - 1)
    return {(height - 1, c) for c in range(1, width - 1)}, start, goal


def grid_world(
    height: int = 4,
    width: int = 6,
    *,
    gamma: float = 0.9,
    slip: float = 0.1,
    goal_reward: float = 1.0,
    cliff_reward: float = -1.0,
    dtype=torch.float64,
    device=None,
) -> TabularMDP:
    """The chapter's cliff world: a ``height × width`` grid, start in the bottom-left corner,
    goal in the bottom-right corner, and between them along the bottom row a cliff.

    The four actions (:data:`GRID_ACTIONS`: up, right, down, left) move one cell; with
    probability ``slip`` the move is replaced by one of the four drawn uniformly. Bumping into a
    wall leaves the agent in place. Entering the goal pays ``goal_reward``, falling off the cliff
    ``cliff_reward``; both are absorbing (every later step pays 0). States are numbered
    row-major, ``s = row · width + column``; the start distribution is the start cell.
    """
    h = check_int(height, "height", minimum=2, maximum=_MAX_GRID_SIDE)
    w = check_int(width, "width", minimum=3, maximum=_MAX_GRID_SIDE)
    slip = check_real(slip, "slip", low=0, high=1)
    rewards_in = (check_real(goal_reward, "goal_reward"), check_real(cliff_reward, "cliff_reward"))
    cliff, start, goal = _grid_cells(h, w)
    n = h * w
    p = torch.zeros(n, 4, n, dtype=torch.float64)
    r = torch.zeros(n, 4, dtype=torch.float64)
    for row in range(h):
        for col in range(w):
            s = row * w + col
            if (row, col) == goal or (row, col) in cliff:
                p[s, :, s] = 1.0
                continue
            for a in range(4):
                for b, ((dr, dc), _) in enumerate(GRID_ACTIONS):
                    prob = (1 - slip) * (a == b) + slip / 4
                    nr, nc = min(max(row + dr, 0), h - 1), min(max(col + dc, 0), w - 1)
                    p[s, a, nr * w + nc] += prob
                    if (nr, nc) == goal:
                        r[s, a] += prob * rewards_in[0]
                    elif (nr, nc) in cliff:
                        r[s, a] += prob * rewards_in[1]
    mu = torch.zeros(n, dtype=torch.float64)
    mu[start[0] * w + start[1]] = 1.0
    dev = resolve_device(device) if device is not None else torch.device("cpu")
    return TabularMDP(p.to(dtype), r.to(dtype), gamma, mu.to(dtype)).to(dev)


def _check_policy(mdp: TabularMDP, policy: object) -> Tensor:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP; got {type(mdp).__name__}")
    pi = check_probability(policy, "policy")
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"policy must have shape (S, A) = ({mdp.n_states}, {mdp.n_actions}); "
            f"got {tuple(pi.shape)}"
        )
    check_same_device({"policy": pi, "mdp": mdp.transitions})
    return pi.to(mdp.transitions.dtype)


def policy_matrices(mdp: TabularMDP, policy: Tensor) -> tuple[Tensor, Tensor]:
    """``P_π[s, s'] = Σ_a π(a|s) P(s'|s, a)`` and ``r_π[s] = Σ_a π(a|s) R(s, a)``."""
    pi = _check_policy(mdp, policy)
    return torch.einsum("sa,sat->st", pi, mdp.transitions), (pi * mdp.rewards).sum(1)


def evaluate_policy(mdp: TabularMDP, policy: Tensor) -> Tensor:
    """``V^π = (I − γ P_π)⁻¹ r_π`` (eq-rl-policy-evaluation), by one linear solve.

    Differentiable with respect to ``policy`` (and the process's tensors): autograd goes through
    the solve, which is how the chapter checks the policy-gradient theorem.
    """
    p_pi, r_pi = policy_matrices(mdp, policy)
    eye = torch.eye(mdp.n_states, dtype=p_pi.dtype, device=p_pi.device)
    return torch.linalg.solve(eye - mdp.gamma * p_pi, r_pi)


def objective(mdp: TabularMDP, policy: Tensor) -> Tensor:
    """``J(π) = Σ_s μ₀(s) V^π(s)``, the expected discounted return from the start distribution."""
    return mdp.start @ evaluate_policy(mdp, policy)


def _check_values(mdp: TabularMDP, v: object) -> Tensor:
    v = check_tensor(v, "values", ndim=1)
    if v.shape != (mdp.n_states,):
        raise ValueError(f"values must have shape (S,) = ({mdp.n_states},); got {tuple(v.shape)}")
    return v.to(device=mdp.device, dtype=mdp.transitions.dtype)


def action_values(mdp: TabularMDP, values: Tensor) -> Tensor:
    """``Q(s, a) = R(s, a) + γ Σ_s' P(s'|s, a) V(s')``, shape ``(S, A)``."""
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP; got {type(mdp).__name__}")
    return mdp.rewards + mdp.gamma * mdp.transitions @ _check_values(mdp, values)


def bellman_optimality(mdp: TabularMDP, values: Tensor) -> Tensor:
    """The Bellman optimality operator ``(T V)(s) = max_a Q(s, a)`` (eq-rl-bellman-optimality)."""
    return action_values(mdp, values).amax(dim=1)


def greedy_policy(mdp: TabularMDP, values: Tensor) -> Tensor:
    """The deterministic policy ``π(s) = argmax_a Q(s, a)`` as one-hot rows ``(S, A)`` (ties go
    to the first action)."""
    q = action_values(mdp, values)
    return torch.nn.functional.one_hot(q.argmax(dim=1), mdp.n_actions).to(q.dtype)


@dataclass
class ValueIteration:
    """Result of :func:`value_iteration`: the values, their greedy policy, the number of sweeps
    and (if asked for) every iterate ``V_0, V_1, …`` as rows of ``iterates``."""

    values: Tensor
    policy: Tensor
    n_iter: int
    iterates: Tensor | None = None


def value_iteration(
    mdp: TabularMDP,
    *,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    initial: Tensor | None = None,
    keep_iterates: bool = False,
) -> ValueIteration:
    """``V_{k+1} = T V_k`` from ``V_0 = initial`` (zeros by default) until
    ``γ/(1 − γ) ‖V_{k+1} − V_k‖_∞ <= tol``, which guarantees ``‖V_{k+1} − V*‖_∞ <= tol``.

    ``T`` is a ``γ``-contraction in the sup norm, so ``‖V_k − V*‖_∞ <= γ^k ‖V_0 − V*‖_∞``.
    Raises ``RuntimeError`` if ``max_iter`` sweeps do not reach ``tol``.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP; got {type(mdp).__name__}")
    tol = check_real(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter")
    v = mdp.rewards.new_zeros(mdp.n_states) if initial is None else _check_values(mdp, initial)
    factor = mdp.gamma / (1 - mdp.gamma)
    kept = [v]
    p, r, g = mdp.transitions, mdp.rewards, mdp.gamma
    for k in range(1, max_iter + 1):
        new = (r + g * p @ v).amax(dim=1)  # bellman_optimality without re-checking its input
        step = float((new - v).abs().max())
        v = new
        if keep_iterates:
            kept.append(v)
        if factor * step <= tol:
            its = torch.stack(kept) if keep_iterates else None
            return ValueIteration(v, greedy_policy(mdp, v), k, its)
    raise RuntimeError(
        f"value iteration did not reach tol={tol:g} in {max_iter} sweeps (γ = {mdp.gamma}); "
        "raise max_iter or tol"
    )


# == policy gradients ==============================================================================
@dataclass
class Rollouts:
    """Episodes of a tabular policy: ``states``, ``actions`` (int64) and ``rewards``, each
    ``(N, T)`` for ``N`` episodes of ``T`` steps (``rewards[n, t] = R(s_t, a_t)``)."""

    states: Tensor
    actions: Tensor
    rewards: Tensor


def _draw(probs: Tensor, gen: torch.Generator) -> Tensor:
    """One index per row of ``probs`` by the inverse CDF (uniforms from the CPU ``gen``)."""
    u = torch.rand(probs.shape[0], 1, generator=gen, dtype=probs.dtype).to(probs.device)
    idx = torch.searchsorted(torch.cumsum(probs, dim=1), u)[:, 0]
    return idx.clamp(max=probs.shape[1] - 1)


def rollouts(
    mdp: TabularMDP, policy: Tensor, n_episodes: int, horizon: int, *, generator=None
) -> Rollouts:
    """``n_episodes`` episodes of ``horizon`` steps of ``policy``, simulated side by side.

    Episodes start from ``μ₀``. Truncating the infinite discounted return at ``T = horizon``
    leaves out at most ``γ^T max|R| / (1 − γ)``. ``generator`` is a CPU ``torch.Generator``
    (a fresh one seeded with 0 if omitted).
    """
    pi = _check_policy(mdp, policy).detach()
    n, horizon = check_int(n_episodes, "n_episodes"), check_int(horizon, "horizon")
    if n * horizon > 50_000_000:
        raise ValueError(f"{n} episodes × {horizon} steps is too many to hold at once")
    gen = torch.Generator().manual_seed(0) if generator is None else generator
    s = _draw(mdp.start.expand(n, -1), gen)
    states, actions, rewards = [], [], []
    for _ in range(horizon):
        a = _draw(pi[s], gen)
        states.append(s)
        actions.append(a)
        rewards.append(mdp.rewards[s, a])
        s = _draw(mdp.transitions[s, a], gen)
    return Rollouts(torch.stack(states, 1), torch.stack(actions, 1), torch.stack(rewards, 1))


@dataclass
class PolicyGradient:
    """REINFORCE estimates: one per episode (``per_episode``, ``(N, S, A)``), their ``mean``
    (the estimate from all ``N``), its ``stderr`` and the per-episode ``variance``."""

    per_episode: Tensor
    mean: Tensor = field(init=False)
    stderr: Tensor = field(init=False)
    variance: Tensor = field(init=False)

    def __post_init__(self) -> None:
        g = self.per_episode
        self.mean = g.mean(0)
        self.variance = g.var(0) if g.shape[0] > 1 else torch.zeros_like(self.mean)
        self.stderr = (self.variance / g.shape[0]).sqrt()


def _returns(rewards: Tensor, gamma: float, reward_to_go: bool) -> Tensor:
    """``Σ_{k>=t} γ^k r_k`` per step (reward to go) or ``Σ_k γ^k r_k`` at every step."""
    disc = gamma ** torch.arange(rewards.shape[1], dtype=rewards.dtype, device=rewards.device)
    weighted = rewards * disc
    if reward_to_go:
        return weighted.flip(1).cumsum(1).flip(1)
    return weighted.sum(1, keepdim=True).expand_as(weighted)


def _baseline(mdp: TabularMDP, pi: Tensor, baseline: object) -> Tensor | None:
    if baseline is None:
        return None
    if isinstance(baseline, str):
        if baseline != "value":
            raise ValueError(
                f"baseline must be None, 'value', a number or a tensor (S,); got {baseline!r}"
            )
        return evaluate_policy(mdp, pi).detach()
    if isinstance(baseline, Tensor):
        return _check_values(mdp, baseline).detach()
    return torch.full_like(pi[:, 0], check_real(baseline, "baseline"))


def reinforce_gradient(
    mdp: TabularMDP,
    logits: Tensor,
    n_episodes: int,
    horizon: int,
    *,
    baseline: object = None,
    reward_to_go: bool = True,
    seed: int = 0,
    chunk: int = 4096,
    progress: bool = False,
) -> PolicyGradient:
    """REINFORCE estimates of ``∇_θ J`` for the tabular softmax policy ``softmax(logits)``
    (eq-rl-reinforce), one per episode.

    Episode ``n`` contributes ``Σ_t ∇_θ log π(a_t | s_t) (G_t − γ^t b(s_t))`` where ``G_t`` is
    ``Σ_{k>=t} γ^k r_k`` (``reward_to_go=True``) or the whole return ``Σ_k γ^k r_k``. For the
    softmax, ``∂ log π(a_t|s_t) / ∂θ[s, a] = 1[s = s_t] (1[a = a_t] − π(a | s_t))``.
    ``baseline`` is ``None``, a number, a tensor ``b`` of shape ``(S,)``, or ``"value"`` for the
    exact ``V^π`` (:func:`evaluate_policy`). Episodes are simulated ``chunk`` at a time behind a
    ``tqdm.auto`` bar (``progress=True``), with a private generator seeded by ``seed``.
    """
    logits = check_tensor(logits, "logits", ndim=2)
    pi = torch.softmax(logits.detach().to(mdp.transitions.dtype), dim=1)
    _check_policy(mdp, pi)
    n = check_iterations(n_episodes, "n_episodes")
    horizon = check_iterations(horizon, "horizon")
    if not isinstance(reward_to_go, bool):
        raise TypeError(f"reward_to_go must be True or False; got {reward_to_go!r}")
    b = _baseline(mdp, pi, baseline)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    chunk = check_int(chunk, "chunk")
    disc = mdp.gamma ** torch.arange(horizon, dtype=pi.dtype, device=pi.device)
    out = []
    for start in progress_bar(range(0, n, chunk), desc="REINFORCE", enabled=progress):
        ep = rollouts(mdp, pi, min(chunk, n - start), horizon, generator=gen)
        weight = _returns(ep.rewards, mdp.gamma, reward_to_go)
        if b is not None:
            weight = weight - disc * b[ep.states]
        onehot_s = torch.nn.functional.one_hot(ep.states, mdp.n_states).to(pi.dtype)
        score_a = (
            torch.nn.functional.one_hot(ep.actions, mdp.n_actions).to(pi.dtype) - pi[ep.states]
        )
        out.append(torch.einsum("nt,nts,nta->nsa", weight, onehot_s, score_a))
    return PolicyGradient(torch.cat(out))


def exact_policy_gradient(mdp: TabularMDP, logits: Tensor) -> Tensor:
    """The policy-gradient theorem (eq-rl-pg-theorem) for the tabular softmax policy:
    ``∂J/∂θ[s, a] = d^π(s) π(a|s) (Q^π(s, a) − V^π(s))`` with the discounted visitation
    ``d^π = μ₀ᵀ (I − γ P_π)⁻¹``."""
    logits = check_tensor(logits, "logits", ndim=2)
    pi = torch.softmax(logits.detach().to(mdp.transitions.dtype), dim=1)
    p_pi, _ = policy_matrices(mdp, pi)
    eye = torch.eye(mdp.n_states, dtype=pi.dtype, device=pi.device)
    visits = torch.linalg.solve((eye - mdp.gamma * p_pi).T, mdp.start)
    v = evaluate_policy(mdp, pi)
    return visits[:, None] * pi * (action_values(mdp, v) - v[:, None])


# == KL-regularised objectives =====================================================================
def _check_tilt(ref: object, rewards: object, beta: object) -> tuple[Tensor, Tensor, float]:
    ref = check_probability(ref, "ref")
    rewards = check_tensor(rewards, "rewards")
    if rewards.shape != ref.shape:
        raise ValueError(
            f"rewards (shape {tuple(rewards.shape)}) must have ref's shape {tuple(ref.shape)}"
        )
    beta = check_real(beta, "beta")
    if beta <= 0:
        raise ValueError(f"beta must be > 0 (β → 0 is the unregularised limit); got {beta}")
    check_same_device({"ref": ref, "rewards": rewards})
    return ref, rewards.to(ref.dtype), beta


def tilted_optimum(ref: Tensor, rewards: Tensor, beta: float) -> Tensor:
    """``π* ∝ π_ref · exp(r / β)`` (eq-rl-tilted), the maximiser of :func:`kl_objective`, computed
    in log space (outcomes with ``π_ref = 0`` keep probability 0). ``ref`` and ``rewards`` have
    the outcomes along their last dimension."""
    ref, r, beta = _check_tilt(ref, rewards, beta)
    return torch.softmax(torch.log(ref) + r / beta, dim=-1)


def optimal_kl_value(ref: Tensor, rewards: Tensor, beta: float) -> Tensor:
    """The maximum of :func:`kl_objective`: ``β log Σ_x π_ref(x) exp(r(x) / β)``."""
    ref, r, beta = _check_tilt(ref, rewards, beta)
    return beta * torch.logsumexp(torch.log(ref) + r / beta, dim=-1)


@dataclass
class KLObjective:
    """``value = reward − β · kl`` with ``reward = E_π[r]`` and ``kl = KL(π ‖ π_ref)`` (nats)."""

    value: Tensor
    reward: Tensor
    kl: Tensor


def kl_objective(probs: Tensor, ref: Tensor, rewards: Tensor, beta: float) -> KLObjective:
    """``E_π[r] − β KL(π ‖ π_ref)`` (eq-rl-kl-objective) for discrete ``π = probs``; ``β = 0``
    gives the plain expected reward."""
    beta_ = check_real(beta, "beta", low=0)
    ref, r, _ = _check_tilt(ref, rewards, 1.0)
    probs = check_probability(probs, "probs")
    if probs.shape != ref.shape:
        raise ValueError(
            f"probs (shape {tuple(probs.shape)}) must have ref's shape {tuple(ref.shape)}"
        )
    reward = (probs * r).sum(-1)
    kl = kl_discrete(probs, ref)
    return KLObjective(reward - beta_ * kl, reward, kl)


def all_sequences(length: int, vocab: int, *, device=None) -> Tensor:
    """Every sequence of ``length`` tokens from ``{0, …, vocab − 1}``: int64 ``(vocab^length,
    length)`` in lexicographic order (refused above a million)."""
    length, vocab = check_int(length, "length"), check_int(vocab, "vocab", minimum=2)
    if length * math.log(vocab) > math.log(_MAX_SEQUENCES) + 1e-9 or vocab**length > _MAX_SEQUENCES:
        raise ValueError(f"{vocab}^{length} sequences are too many to enumerate")
    grid = torch.cartesian_prod(*[torch.arange(vocab)] * length).reshape(-1, length)
    return grid.to(resolve_device(device) if device is not None else "cpu")


@dataclass
class FinetuneResult:
    """What :func:`finetune` returns: the fine-tuned ``policy``, the frozen ``reference``, the
    training ``history`` (batch averages every 10 steps) and, if sequences were tracked, their
    log-probabilities under the policy ``tracked[k]`` after ``tracked_steps[k]`` updates."""

    policy: torch.nn.Module
    reference: torch.nn.Module
    history: list
    tracked_steps: list
    tracked: Tensor | None

    def tracked_probs(self) -> Tensor:
        """The tracked sequences' probabilities, each snapshot renormalised to sum to one (the
        tracked set is meant to be every sequence; renormalising removes float32 rounding)."""
        if self.tracked is None:
            raise ValueError("this run tracked no sequences; pass finetune(..., track=sequences)")
        p = self.tracked.exp()
        return p / p.sum(1, keepdim=True)


def _check_reward(reward: object, x: Tensor) -> Tensor:
    r = reward(x)
    if not isinstance(r, Tensor) or r.shape != (x.shape[0],) or not r.is_floating_point():
        raise TypeError(
            "reward(x) must return a floating tensor of shape (N,) for x of shape (N, D)"
        )
    return check_finite(r, "reward(x)")


def _reinforce_update(policy, reference, reward, opt, beta, batch_size, baseline, seed):
    """One REINFORCE step of :func:`finetune` as a closure (its own generator)."""
    gen = torch.Generator().manual_seed(seed)

    def update() -> dict:
        x = policy.sample(batch_size, generator=gen)
        logp = policy.log_prob(x)
        with torch.no_grad():
            log_ratio = logp.detach() - reference.log_prob(x)
            r = _check_reward(reward, x).to(logp)
            shaped = r - beta * log_ratio
            b = (shaped.sum() - shaped) / (batch_size - 1) if baseline else 0.0
        loss = -((shaped - b) * logp).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"reward": r.mean(), "kl": log_ratio.mean(), "objective": shaped.mean()}

    return update


def finetune(
    model: torch.nn.Module,
    reward: Callable[[Tensor], Tensor],
    *,
    beta: float = 0.1,
    steps: int | None = None,
    batch_size: int = 256,
    lr: float = 1e-2,
    baseline: bool = True,
    seed: int = 0,
    device=None,
    progress: bool = True,
    track: Tensor | None = None,
    track_every: int = 10,
) -> FinetuneResult:
    """Raise ``E_π[reward] − β KL(π ‖ π_ref)`` of an autoregressive model by REINFORCE.

    ``model`` (e.g. a :class:`companion.zoo.DiscreteAutoregressive`; anything with
    ``sample(n, generator=...)`` and ``log_prob(x)``) is copied: the copy is the policy ``π_θ``,
    the original, frozen, is ``π_ref``. Each step samples ``batch_size`` sequences ``x ~ π_θ``
    (a private generator seeded with ``seed``) and follows the score-function gradient of
    eq-rl-kl-objective, ``E[(r(x) − β log(π_θ(x)/π_ref(x)) − b) ∇ log π_θ(x)]``, with Adam. With
    ``baseline`` the ``b`` of each sample is the mean of the other samples' shaped rewards
    (leave-one-out, so the estimate stays unbiased). ``beta = 0`` is the unregularised fine-tune.
    """
    steps = check_iterations(check_fit_args(steps, seed, progress, default_steps=200), "steps")
    beta = check_real(beta, "beta", low=0)
    batch_size = check_int(batch_size, "batch_size", minimum=2)
    if not isinstance(baseline, bool):
        raise TypeError(f"baseline must be True or False; got {baseline!r}")
    if not callable(reward):
        raise TypeError("reward must be a function of an int64 tensor (N, D) of sequences")
    dev = resolve_device(device)
    reference = copy.deepcopy(model).to(dev).eval().requires_grad_(False)
    policy = copy.deepcopy(model).to(dev).train().requires_grad_(True)
    opt = torch.optim.Adam(policy.parameters(), lr=check_real(lr, "lr", positive=True))
    track_every = check_int(track_every, "track_every")
    tracked, tracked_steps = [], []
    update = _reinforce_update(policy, reference, reward, opt, beta, batch_size, baseline, seed)

    def record(i: int) -> None:
        if track is not None:
            with torch.no_grad():
                tracked.append(policy.log_prob(track.to(dev)).detach().cpu().double())
            tracked_steps.append(i)

    def step(i: int) -> dict:
        if i % track_every == 0:
            record(i)
        return update()

    history = train(step, steps, progress=progress, desc="REINFORCE fine-tune")
    record(steps)
    stacked = torch.stack(tracked) if tracked else None
    return FinetuneResult(policy.eval(), reference, history, tracked_steps, stacked)


# == moved from explore/rl.py ==


def greedy_grid_route(
    actions: list[int], height: int, width: int, max_moves: int = 30
) -> list[tuple[int, int]]:
    """The route from the start cell of :func:`grid_world` when every move goes where the
    greedy ``actions`` (one per state, indices into :data:`GRID_ACTIONS`) point — no slips —
    until it enters the cliff or the goal (both end an episode) or after ``max_moves`` moves.
    Cells are ``(row, column)``; the first is the start."""
    h, w = check_int(height, "height", minimum=2), check_int(width, "width", minimum=3)
    if len(actions) != h * w:
        raise ValueError(f"need one action per state ({h * w}); got {len(actions)}")
    max_moves = check_iterations(max_moves, "max_moves", minimum=0)
    cell, route = (h - 1, 0), [(h - 1, 0)]
    stop = {(h - 1, c) for c in range(1, w)}  # the cliff and the goal end an episode
    while cell not in stop and len(route) <= max_moves:
        (dr, dc), _ = GRID_ACTIONS[actions[cell[0] * w + cell[1]]]
        cell = (min(max(cell[0] + dr, 0), h - 1), min(max(cell[1] + dc, 0), w - 1))
        route.append(cell)
    return route


def group_means(per_episode: Tensor, n: int) -> Tensor:
    """Estimates from disjoint groups of ``n`` consecutive episodes: the means of
    ``per_episode (pool, ...)`` over groups, shape ``(pool // n, ...)`` (a last partial group is
    dropped)."""
    x = check_tensor(per_episode, "per_episode", min_ndim=1)
    n = check_int(n, "n", minimum=1)
    groups = x.shape[0] // n
    if groups == 0:
        raise ValueError(f"n = {n} is larger than the pool of {x.shape[0]} episodes")
    return x[: groups * n].reshape(groups, n, *x.shape[1:]).mean(1)


__all__ += ["greedy_grid_route", "group_means"]
