"""The shared argument checks of ``companion._validate`` and the bad-input cases of issue #21
(item 6) that the walk in ``tests/test_bad_input.py`` found, each pinned by a direct test.

Expected values come from independent references (``torch.distributions``, NumPy, closed forms),
never from the function under test.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from companion import _validate as v
from companion import diffusion, linalg, optimization, vae, zoo

F64 = torch.float64


# -- the helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({"positive": True}, -1.0, "sigma must be > 0; got -1"),
        ({"positive": True}, 0.0, "sigma must be > 0; got 0"),
        ({"low": 0}, -0.5, "sigma must be >= 0; got -0.5"),
        ({"high": 1, "high_open": True}, 1.0, "sigma must be < 1; got 1"),
        ({"low": 0, "high": 1}, 1.5, r"sigma must lie in \[0, 1\]; got 1.5"),
        ({"low": 0, "high": 1, "high_open": True}, 1.0, r"sigma must lie in \[0, 1\); got 1"),
        ({"low": 0, "high": 1, "low_open": True}, 0.0, r"sigma must lie in \(0, 1\]; got 0"),
    ],
)
def test_check_real_bounds_name_the_allowed_range(kwargs, value, message):
    with pytest.raises(ValueError, match=message):
        v.check_real(value, "sigma", **kwargs)


def test_check_real_accepts_the_boundary_it_includes_and_numpy_scalars():
    assert v.check_real(0.0, "x", low=0) == 0.0
    assert v.check_real(1, "x", low=0, high=1) == 1.0
    assert v.check_real(np.float32(0.5), "x", positive=True) == 0.5
    with pytest.raises(TypeError, match="x must be a real number"):
        v.check_real(True, "x")
    with pytest.raises(ValueError, match="x must be finite"):
        v.check_real(math.nan, "x", low=0)


def test_check_int_minimum_and_maximum():
    assert v.check_int(np.int64(3), "n", minimum=1, maximum=3) == 3
    with pytest.raises(ValueError, match="n must be <= 3; got 4"):
        v.check_int(4, "n", maximum=3)
    with pytest.raises(ValueError, match="n must be >= 1; got 0"):
        v.check_int(0, "n")
    assert v.check_int(-5, "n", minimum=None) == -5
    with pytest.raises(TypeError, match="n must be an integer"):
        v.check_int(2.0, "n")


def test_check_iterations_refuses_more_than_max_iterations_at_once():
    assert v.check_iterations(v.MAX_ITERATIONS, "steps") == v.MAX_ITERATIONS
    with pytest.raises(ValueError, match="MAX_ITERATIONS"):
        v.check_iterations(v.MAX_ITERATIONS + 1, "steps")
    assert v.check_iterations(0, "steps", minimum=0) == 0


def test_check_choice_compares_values_of_the_options_type_only():
    assert v.check_choice("sum", "reduction", ("mean", "sum")) == "sum"
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum'\); got 'max'"):
        v.check_choice("max", "reduction", ("mean", "sum"))
    with pytest.raises(ValueError):
        v.check_choice(True, "k", (1, 2))  # True == 1, but a bool is not an option here
    with pytest.raises(ValueError):
        v.check_choice(np.array(["sum"]), "reduction", ("mean", "sum"))


def test_check_values_and_check_dim():
    x = torch.tensor([0.5, 2.0], dtype=F64)
    assert v.check_values(x, "x", positive=True) is x
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\] everywhere; got 2"):
        v.check_values(x, "x", low=0, high=1)
    assert v.check_dim(-1, torch.zeros(2, 3)) == -1
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        v.check_dim(2, torch.zeros(2, 3))
    with pytest.raises(TypeError, match="dim must be an integer"):
        v.check_dim(0.0, torch.zeros(2, 3))


def test_check_probability_pair_and_same_shape():
    p = torch.tensor([0.5, 0.5], dtype=F64)
    with pytest.raises(ValueError, match="same number of outcomes"):
        v.check_probability_pair(p, torch.tensor([0.2, 0.3, 0.5], dtype=F64))
    with pytest.raises(ValueError, match="dim=1 is out of range"):
        v.check_probability_pair(p, p, dim=1)
    with pytest.raises(ValueError, match="must have the same shape"):
        v.check_same_shape(torch.zeros(2), torch.zeros(3), "a", "b")


def test_check_rows_skips_the_value_check_only_when_asked():
    x = torch.tensor([[math.nan, 0.0]])
    assert v.check_rows(x, "x", 2, finite=False) is x
    with pytest.raises(ValueError, match="x contains NaN"):
        v.check_rows(x, "x", 2)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 3\)"):
        v.check_rows(torch.zeros(4, 2), "x", 3)


# -- the cases of issue #21, item 6 --------------------------------------------------------------


def test_gaussian_kl_matches_torch_distributions_and_refuses_negative_variances():
    m1, m2 = torch.tensor([[0.3, -1.0]], dtype=F64), torch.tensor([[1.0, 0.5]], dtype=F64)
    v1, v2 = torch.tensor([0.5], dtype=F64), torch.tensor([2.0], dtype=F64)
    ref = kl_divergence(Normal(m1, v1.sqrt()), Normal(m2, v2.sqrt())).sum(-1)
    torch.testing.assert_close(diffusion.gaussian_kl(m1, v1, m2, v2), ref)
    with pytest.raises(ValueError, match="var1 must be > 0"):
        diffusion.gaussian_kl(m1, -v1, m2, v2)
    with pytest.raises(TypeError, match="mean1 must be a torch.Tensor"):
        diffusion.gaussian_kl(m1.numpy(), v1, m2, v2)


def test_dsm_loss_takes_one_sigma_per_row_in_either_shape_and_refuses_sigma_le_0():
    gen = torch.Generator().manual_seed(0)
    model = zoo.ScoreNet(hidden=8)
    x, noise = torch.randn(6, 2, generator=gen), torch.randn(6, 2, generator=gen)
    sigma = torch.linspace(0.1, 1.0, 6)
    column = zoo.dsm_loss(model, x, sigma[:, None], noise)
    # the definition, written out: mean over rows of ‖σ s(x + σ ε, σ) + ε‖²
    s = sigma[:, None]
    ref = ((s * model(x + s * noise, s) + noise) ** 2).sum(1).mean()
    torch.testing.assert_close(column, ref)
    torch.testing.assert_close(zoo.dsm_loss(model, x, sigma, noise), ref)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        zoo.dsm_loss(model, x, torch.zeros(6), noise)
    with pytest.raises(ValueError, match="one level or one per row"):
        zoo.dsm_loss(model, x, torch.ones(5), noise)


def test_vae_log_likelihoods_refuse_nan_and_numpy():
    x = torch.tensor([[0.0, 1.0]], dtype=F64)
    mean, log_sigma = torch.tensor([[0.2, 0.7]], dtype=F64), torch.tensor([0.1, -0.3], dtype=F64)
    ref = Normal(mean, log_sigma.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(vae.gaussian_log_likelihood(x, mean, log_sigma), ref)
    with pytest.raises(ValueError, match="x contains NaN"):
        vae.gaussian_log_likelihood(torch.full_like(x, math.nan), mean, log_sigma)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        vae.bernoulli_log_likelihood(x.numpy(), mean)
    with pytest.raises(ValueError, match="logits contains NaN"):
        vae.bernoulli_log_likelihood(x, torch.full_like(x, math.nan))


@pytest.mark.parametrize("rule", [optimization.GradientDescent(0.1), optimization.Adam()])
def test_optimizer_step_checks_point_and_gradient(rule):
    x = torch.tensor([1.0, 2.0], dtype=F64)
    rule.reset()
    torch.testing.assert_close(
        optimization.GradientDescent(0.1).step(x, x), x - 0.1 * x
    )  # x_t = x - η g
    with pytest.raises(ValueError, match="g contains NaN"):
        rule.step(x, torch.tensor([math.nan, 0.0], dtype=F64))
    with pytest.raises(ValueError, match="same shape"):
        rule.step(x, torch.zeros(3, dtype=F64))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        rule.step([1.0, 2.0], x)


def test_optimize_still_draws_a_diverging_run():
    # GD with lr = 3 on f = x²/2 multiplies x by -2 each step: it overflows to inf, then nan;
    # the trajectory shows that (the chapter draws it) instead of stopping with an error.
    path = optimization.optimize(
        optimization.GradientDescent(3.0), lambda x: x, torch.ones(1, dtype=F64), 1100
    )
    assert torch.isfinite(path[:10]).all()
    assert not torch.isfinite(path[-1]).all()


def test_epsilon_mlp_refuses_bad_sizes():
    with pytest.raises(ValueError, match="dim must be >= 1; got -1"):
        diffusion.EpsilonMLP(dim=-1)
    with pytest.raises(ValueError, match="layers must be <="):
        diffusion.EpsilonMLP(layers=10**9)


def test_condition_number_of_a_singular_matrix_is_inf():
    assert linalg.condition_number(torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=F64)) == math.inf
    assert linalg.condition_number(torch.zeros(2, 2, dtype=F64)) == math.inf
    a = torch.tensor([[3.0, 0.0], [0.0, 0.5]], dtype=F64)
    assert float(linalg.condition_number(a)) == pytest.approx(6.0)


def test_transformer_nll_refuses_skip_out_of_range():
    model = zoo.TinyTransformer(3, 8, 8)
    x = torch.tensor([[0, 1, 2, 0]])
    assert torch.isfinite(model.nll(x, skip=3))
    for skip in (0, 4, 10):
        with pytest.raises(ValueError, match="skip must be"):
            model.nll(x, skip=skip)


def test_ista_refuses_a_zero_dictionary():
    with pytest.raises(ValueError, match="dictionary is all zeros"):
        zoo.ista(torch.zeros(3, 4, dtype=F64), torch.ones(3, dtype=F64), 0.1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: zoo.ista(torch.eye(2, dtype=F64), torch.ones(2, dtype=F64), 0.1, n_iter=10**12),
        lambda: zoo.langevin(lambda x: -x, torch.zeros(2, 2), 0.1, 10**12),
        lambda: zoo.rk4(lambda x, t: -x, torch.zeros(2, 2), 0.0, 1.0, 10**12),
        lambda: zoo.VelocityNet(hidden=4).sample(2, n_steps=10**12),
        lambda: diffusion.annealed_langevin(
            lambda x, t: x, diffusion.NoiseSchedule(T=10), torch.zeros(2, 2), steps_per_level=10**12
        ),
        lambda: vae.cavi_normal_gamma(torch.ones(3, dtype=F64), iters=10**12),
    ],
)
def test_huge_iteration_counts_are_refused_at_once(call):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="MAX_ITERATIONS"):
        call()
    assert time.perf_counter() - start < 1.0
