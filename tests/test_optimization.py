"""companion.optimization against torch.optim, autograd, closed forms and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import optimization as op
from tests.helpers import FAST

F64 = torch.float64
STEPS = 500


def torch_optim_trajectory(objective, x0, steps, factory):
    """The reference: a torch.optim optimiser fed the same analytic gradient at every step."""
    p = torch.nn.Parameter(torch.tensor(x0, dtype=F64))
    opt = factory([p])
    out = [p.detach().clone()]
    for _ in range(steps):
        p.grad = objective.grad(p.detach().clone())
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)


# (our rule, torch.optim factory, learning rate per objective)
CASES = {
    "momentum": (
        lambda lr: op.Momentum(lr, momentum=0.9),
        lambda lr: lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9),
    ),
    "nesterov": (
        lambda lr: op.Momentum(lr, momentum=0.85, nesterov=True),
        lambda lr: lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.85, nesterov=True),
    ),
    "rmsprop": (
        lambda lr: op.RMSprop(lr, alpha=0.9, eps=1e-8),
        lambda lr: lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=0.9, eps=1e-8),
    ),
    "rmsprop-default": (
        lambda lr: op.RMSprop(lr),
        lambda lr: lambda ps: torch.optim.RMSprop(ps, lr=lr),
    ),
    "adam": (
        lambda lr: op.Adam(lr, betas=(0.8, 0.99), eps=1e-8),
        lambda lr: lambda ps: torch.optim.Adam(ps, lr=lr, betas=(0.8, 0.99), eps=1e-8),
    ),
    "adam-default": (
        lambda lr: op.Adam(lr),
        lambda lr: lambda ps: torch.optim.Adam(ps, lr=lr),
    ),
}
LRS = {
    "rosenbrock": {"momentum": 1e-3, "nesterov": 1e-3, "rmsprop": 1e-2, "adam": 3e-2},
    "beale": {"momentum": 5e-3, "nesterov": 5e-3, "rmsprop": 1e-2, "adam": 5e-2},
    "quadratic": {"momentum": 0.3, "nesterov": 0.3, "rmsprop": 2e-2, "adam": 5e-2},
}


@pytest.mark.parametrize("name", list(op.OBJECTIVES))
@pytest.mark.parametrize("case", list(CASES))
def test_trajectories_match_torch_optim(name, case):
    obj = op.OBJECTIVES[name]()
    lr = LRS[name][case.split("-")[0]]
    ours, theirs = CASES[case]
    a = op.optimize(ours(lr), obj, torch.tensor(obj.start, dtype=F64), STEPS)
    b = torch_optim_trajectory(obj, obj.start, STEPS, theirs(lr))
    assert a.shape == b.shape == (STEPS + 1, 2)
    assert torch.isfinite(a).all()
    assert (a - b).abs().max().item() < 1e-10
    # The runs really move (a test of a frozen trajectory would pass trivially).
    assert (a[-1] - a[0]).norm() > 0.1


def test_adam_first_step_is_lr_times_sign():
    # With m̂_1 = g_1 and v̂_1 = g_1², the first Adam step is -η g/(|g| + ε) ≈ -η sign(g).
    obj = op.rosenbrock()
    x0 = torch.tensor([-1.0, 0.5], dtype=F64)
    tr = op.optimize(op.Adam(0.1, eps=0.0), obj, x0, 1)
    torch.testing.assert_close(tr[1] - x0, -0.1 * torch.sign(obj.grad(x0)))


def test_momentum_is_heavy_ball():
    # x_{t+1} = x_t - η g_t + μ (x_t - x_{t-1}), the paper form, from the same start.
    obj = op.quadratic(kappa=30.0)
    lr, mu = 0.2, 0.7
    tr = op.optimize(op.Momentum(lr, mu), obj, torch.tensor(obj.start, dtype=F64), 50)
    prev, x = tr[0], tr[0] - lr * obj.grad(tr[0])
    for t in range(1, 50):
        x, prev = x - lr * obj.grad(x) + mu * (x - prev), x
        torch.testing.assert_close(x, tr[t + 1], rtol=0, atol=1e-12)


def test_nesterov_is_sutskever_lookahead():
    # Sutskever et al.: v = μ v - η ∇f(θ + μ v), θ = θ + v.
    # PyTorch's iterate x_t equals θ_t + μ v_t.
    obj = op.beale()
    lr, mu = 5e-3, 0.8
    tr = op.optimize(
        op.Momentum(lr, mu, nesterov=True), obj, torch.tensor(obj.start, dtype=F64), 200
    )
    theta, v = tr[0].clone(), torch.zeros(2, dtype=F64)
    for t in range(200):
        v = mu * v - lr * obj.grad(theta + mu * v)
        theta = theta + v
        torch.testing.assert_close(theta + mu * v, tr[t + 1], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(op.OBJECTIVES))
def test_gradients_match_autograd(name):
    obj = op.OBJECTIVES[name]()
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(20, 2, generator=gen, dtype=F64) * 3 - 1.5).requires_grad_(True)
    (g,) = torch.autograd.grad(obj.value(x).sum(), x)
    torch.testing.assert_close(obj.grad(x.detach()), g, rtol=1e-12, atol=1e-10)
    m = torch.tensor(obj.minimizer, dtype=F64)
    assert obj.value(m).item() == pytest.approx(obj.minimum, abs=1e-14)
    assert obj.grad(m).abs().max().item() < 1e-12


def test_quadratic_constants():
    obj = op.quadratic(kappa=7.0, L=2.0, angle=0.3)
    H = torch.autograd.functional.hessian(
        lambda x: obj.value(x), torch.tensor([0.3, -0.2], dtype=F64)
    )
    ev = torch.linalg.eigvalsh(H)
    assert ev[1].item() == pytest.approx(2.0) and ev[0].item() == pytest.approx(2.0 / 7.0)
    assert obj.smoothness == 2.0 and obj.strong_convexity == pytest.approx(2.0 / 7.0)


@given(
    kappa=st.floats(1.0, 200.0),
    ratio=st.floats(0.02, 0.99),
    angle=st.floats(0.0, math.pi),
)
@FAST
def test_gd_respects_pl_bound(kappa, ratio, angle):
    obj = op.quadratic(kappa=kappa, L=1.0, angle=angle)
    lr = 2 * ratio
    tr = op.optimize(op.GradientDescent(lr), obj, torch.tensor([1.0, -0.7], dtype=F64), 40)
    gaps = obj.value(tr)
    rho = op.pl_rate(1 / kappa, 1.0, lr)
    k = torch.arange(41, dtype=F64)
    assert torch.all(gaps <= gaps[0] * rho**k * (1 + 1e-9) + 1e-300)
    # The exact contraction of the distance for a quadratic.
    q = op.quadratic_rate(1 / kappa, 1.0, lr)
    assert torch.all(tr.norm(dim=1) <= tr[0].norm() * q**k * (1 + 1e-9) + 1e-300)


def test_gd_diverges_beyond_two_over_L():
    obj = op.quadratic(kappa=5.0)
    tr = op.optimize(op.GradientDescent(2.05), obj, torch.tensor([1.0, 1.0], dtype=F64), 200)
    assert tr[-1].norm() > 10 * tr[0].norm()
    tr = op.optimize(op.GradientDescent(1.95), obj, torch.tensor([1.0, 1.0], dtype=F64), 400)
    assert tr[-1].norm() < 1e-3


def test_pl_rate_at_one_over_L():
    assert op.pl_rate(0.1, 1.0, 1.0) == pytest.approx(0.9)
    assert op.pl_rate(0.5, 2.0, 0.5) == pytest.approx(1 - 0.5 / 2.0)


def test_step_sizes_and_robbins_monro_partial_sums():
    n = 200_000
    for kind, p in (("1/t", 1.0), ("1/sqrt(t)", 0.5)):
        a = op.step_sizes(kind, n, lr0=1.0, t0=1.0)
        t = torch.arange(1, n + 1, dtype=F64)
        torch.testing.assert_close(a, (1 / (1 + t)) ** p)
    # Σ 1/t² converges (to π²/6), Σ 1/t diverges like log n: compare with the integrals.
    t = torch.arange(1, n + 1, dtype=F64)
    assert (1 / t**2).sum().item() == pytest.approx(math.pi**2 / 6, abs=1e-5)
    assert (1 / t).sum().item() == pytest.approx(math.log(n) + 0.5772156649, abs=1e-5)
    assert torch.all(op.step_sizes("constant", 5, 0.3) == 0.3)


def test_minibatch_variance_against_monte_carlo():
    X, y, w_star = op.least_squares_problem(n=64, seed=2)
    w = torch.tensor([0.3, -0.4], dtype=F64)
    B = 8
    gen = torch.Generator().manual_seed(5)
    draws = []
    for _ in range(20_000):
        idx = torch.randperm(64, generator=gen)[:B]
        xb, yb = X[idx], y[idx]
        draws.append(xb.T @ (xb @ w - yb) / B)
    draws = torch.stack(draws).numpy()
    emp = np.cov(draws.T)
    theory = op.minibatch_gradient_variance(X, y, w, B).numpy()
    # Relative error of a sample covariance from 2e4 draws is ~ sqrt(2/2e4) = 1%.
    np.testing.assert_allclose(emp, theory, rtol=0.05, atol=0.05 * np.abs(theory).max())
    # Full batch: no noise at all.
    assert op.minibatch_gradient_variance(X, y, w, 64).abs().max().item() < 1e-14


def test_least_squares_minimiser_and_sgd_converges():
    X, y, w_star = op.least_squares_problem()
    np.testing.assert_allclose(
        w_star.numpy(), np.linalg.lstsq(X.numpy(), y.numpy(), rcond=None)[0], atol=1e-12
    )
    lr = op.step_sizes("1/t", 3000, lr0=0.3, t0=20.0)
    gen = torch.Generator().manual_seed(0)
    tr = op.sgd_least_squares(X, y, 8, lr, torch.zeros(2, dtype=F64), generator=gen)
    avg = op.polyak_average(tr)
    assert (avg[-1] - w_star).norm() < 0.05
    # Full-batch "SGD" with a constant step is gradient descent.
    full = op.sgd_least_squares(
        X, y, X.shape[0], torch.full((50,), 0.3, dtype=F64), torch.zeros(2, dtype=F64)
    )
    gd = op.optimize(
        op.GradientDescent(0.3),
        lambda w: X.T @ (X @ w - y) / X.shape[0],
        torch.zeros(2, dtype=F64),
        50,
    )
    torch.testing.assert_close(full, gd)


def test_polyak_average_is_running_mean():
    tr = torch.randn(30, 3, dtype=F64)
    avg = op.polyak_average(tr)
    for t in (1, 7, 29):
        torch.testing.assert_close(avg[t], tr[1 : t + 1].mean(0))
    torch.testing.assert_close(avg[0], tr[0])


@pytest.mark.parametrize("lr", [0.05, 0.2, 0.5])
def test_minmax_closed_forms(lr):
    k = 100
    sim = op.minmax_trajectory("simultaneous", lr, k)
    ext = op.minmax_trajectory("extragradient", lr, k)
    alt = op.minmax_trajectory("alternating", lr, k)
    # Simultaneous GDA multiplies the radius by sqrt(1 + η²) each step.
    r = sim.norm(dim=1)
    torch.testing.assert_close(r, (1 + lr**2) ** (torch.arange(k + 1, dtype=F64) / 2))
    # Extragradient: by sqrt(1 - η² + η⁴) < 1.
    torch.testing.assert_close(
        ext.norm(dim=1), (1 - lr**2 + lr**4) ** (torch.arange(k + 1, dtype=F64) / 2)
    )
    # Alternating: x' = x - η y, y' = y + η x' is linear with determinant 1 and eigenvalues on
    # the unit circle (η < 2): the iterates cycle on an ellipse, neither growing nor converging.
    M = torch.tensor([[1.0, -lr], [lr, 1 - lr**2]], dtype=F64)
    assert torch.linalg.det(M).item() == pytest.approx(1.0)
    assert torch.linalg.eigvals(M).abs().max().item() == pytest.approx(1.0)
    torch.testing.assert_close(alt[1:], alt[:-1] @ M.T)
    assert alt.norm(dim=1).max() < 3 and alt.norm(dim=1)[-20:].min() > 0.3
    # Optimistic GDA: z_{t+1} = (I - 2ηJ) z_t + ηJ z_{t-1} (t >= 1), a linear recursion whose
    # companion matrix has spectral radius < 1: it converges.
    opt = op.minmax_trajectory("optimistic", lr, 400)
    J = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=F64)  # (∂f/∂x, -∂f/∂y) = J z for f = xy
    I2 = torch.eye(2, dtype=F64)
    torch.testing.assert_close(opt[2:], opt[1:-1] @ (I2 - 2 * lr * J).T + opt[:-2] @ (lr * J).T)
    C = torch.cat([torch.cat([I2 - 2 * lr * J, lr * J], 1), torch.cat([I2, 0 * I2], 1)], 0)
    rho = torch.linalg.eigvals(C).abs().max().item()
    assert rho < 1
    measured = (opt[400].norm() / opt[200].norm()).item() ** (1 / 200)
    assert measured == pytest.approx(rho, rel=1e-2)


def test_minmax_generic_grads_quadratic_game():
    # f(x, y) = x²/2 - y²/2 (+ nothing bilinear): GDA converges to (0, 0) for any method.
    def grads(p):
        return p[0], -p[1]

    for m in op.MINMAX_METHODS:
        tr = op.minmax_trajectory(m, 0.1, 300, start=(1.0, 2.0), grads=grads)
        assert tr[-1].norm() < 1e-6


def test_gradient_penalty_linear_critic():
    w = torch.tensor([3.0, 4.0], dtype=F64, requires_grad=True)

    def critic(x):
        return x @ w

    real = torch.randn(50, 2, dtype=F64)
    fake = torch.randn(50, 2, dtype=F64) + 2
    gp = op.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    (g,) = torch.autograd.grad(gp, w)
    torch.testing.assert_close(g, 2 * (5.0 - 1.0) * w.detach() / 5.0)


def test_gradient_penalty_mlp_against_manual_double_backward():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    net = net.double()
    real, fake = torch.randn(16, 2, dtype=F64), torch.randn(16, 2, dtype=F64)
    gen = torch.Generator().manual_seed(3)
    gp = op.gradient_penalty(net, real, fake, generator=gen)
    eps = torch.rand(16, 1, generator=torch.Generator().manual_seed(3), dtype=F64)
    x_hat = eps * real + (1 - eps) * fake
    jac = torch.stack(
        [torch.autograd.functional.jacobian(lambda z: net(z).sum(), xi) for xi in x_hat]
    )
    assert gp.item() == pytest.approx(((jac.norm(dim=1) - 1) ** 2).mean().item(), rel=1e-12)


def test_mlp_backprop_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=gen, dtype=F64)
    y = torch.randn(7, 2, generator=gen, dtype=F64)
    params = {
        "W1": torch.randn(5, 3, generator=gen, dtype=F64),
        "b1": torch.randn(5, generator=gen, dtype=F64),
        "W2": torch.randn(2, 5, generator=gen, dtype=F64),
        "b2": torch.randn(2, generator=gen, dtype=F64),
    }
    loss, grads = op.mlp_forward_backward(x, y, **params)
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    net_out = torch.tanh(x @ leaves["W1"].T + leaves["b1"]) @ leaves["W2"].T + leaves["b2"]
    ref = torch.nn.functional.mse_loss(net_out, y, reduction="sum") / (2 * 7)
    auto = torch.autograd.grad(ref, list(leaves.values()))
    assert loss.item() == pytest.approx(ref.item(), rel=1e-14)
    for (k, g), ga in zip(grads.items(), auto, strict=True):
        torch.testing.assert_close(g, ga, rtol=1e-12, atol=1e-14, msg=k)


def test_batched_hyperparameters_equal_single_runs():
    obj = op.rosenbrock()
    lrs = torch.tensor([[1e-2], [3e-2]], dtype=F64)
    b1 = torch.tensor([[0.8], [0.9]], dtype=F64)
    x0 = torch.tensor(obj.start, dtype=F64).expand(2, 2)
    batch = op.optimize(op.Adam(lrs, betas=(b1, 0.999)), obj, x0, 100)
    for i in range(2):
        single = op.optimize(
            op.Adam(lrs[i, 0].item(), betas=(b1[i, 0].item(), 0.999)), obj, x0[i], 100
        )
        torch.testing.assert_close(batch[:, i], single, rtol=0, atol=1e-12)


def test_stop_above_fills_nan():
    obj = op.quadratic(kappa=2.0)
    tr = op.optimize(
        op.GradientDescent(3.0), obj, torch.tensor([1.0, 1.0], dtype=F64), 100, stop_above=100.0
    )
    assert tr.shape == (101, 2) and torch.isnan(tr[-1]).all()


def test_bad_input():
    obj = op.rosenbrock()
    with pytest.raises(ValueError, match="lr"):
        op.GradientDescent(0.0)
    with pytest.raises(ValueError, match="momentum"):
        op.Momentum(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        op.Momentum(0.1, momentum=0.0, nesterov=True)
    with pytest.raises(TypeError, match="nesterov"):
        op.Momentum(0.1, nesterov="yes")
    with pytest.raises(ValueError, match="alpha"):
        op.RMSprop(0.1, alpha=-0.1)
    with pytest.raises(ValueError, match="eps"):
        op.RMSprop(0.1, eps=-1.0)
    with pytest.raises(TypeError, match="betas"):
        op.Adam(0.1, betas=0.9)
    with pytest.raises(ValueError, match="beta2"):
        op.Adam(0.1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        op.Adam(torch.tensor([[0.1], [-0.1]], dtype=F64))
    with pytest.raises(TypeError, match="UpdateRule"):
        op.optimize("adam", obj, torch.zeros(2, dtype=F64), 3)
    with pytest.raises(TypeError, match="callable"):
        op.optimize(op.Adam(), 3, torch.zeros(2, dtype=F64), 3)
    with pytest.raises(ValueError, match="steps"):
        op.optimize(op.Adam(), obj, torch.zeros(2, dtype=F64), 0)
    with pytest.raises(TypeError):
        op.optimize(op.Adam(), obj, [0.0, 0.0], 3)
    with pytest.raises(ValueError, match="size 2"):
        obj.value(torch.zeros(3, dtype=F64))
    with pytest.raises(TypeError, match="floating"):
        obj.grad(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="kappa"):
        op.quadratic(kappa=0.5)
    with pytest.raises(ValueError, match="b must"):
        op.rosenbrock(b=0.0)
    with pytest.raises(ValueError, match="m <= L"):
        op.pl_rate(2.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="kind"):
        op.step_sizes("exp", 10, 0.1)
    with pytest.raises(ValueError, match="t0"):
        op.step_sizes("1/t", 10, 0.1, t0=0.0)
    X, y, _ = op.least_squares_problem(n=10)
    with pytest.raises(ValueError, match="batch_size"):
        op.minibatch_gradient_variance(X, y, torch.zeros(2, dtype=F64), 11)
    with pytest.raises(ValueError, match="rows"):
        op.sgd_least_squares(X, y[:5], 2, torch.ones(3, dtype=F64), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="step size"):
        op.sgd_least_squares(X, y, 2, -torch.ones(3, dtype=F64), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="method"):
        op.minmax_trajectory("adam", 0.1, 10)
    with pytest.raises(ValueError, match="noise"):
        op.least_squares_problem(noise=-1.0)
    with pytest.raises(TypeError, match="critic"):
        op.gradient_penalty(3, X, X)
    with pytest.raises(ValueError, match="match"):
        op.gradient_penalty(lambda z: z.sum(-1), X, X[:3])
    with pytest.raises(ValueError, match="chain"):
        op.mlp_forward_backward(
            X,
            y[:, None],
            torch.ones(3, 5, dtype=F64),
            torch.ones(3, dtype=F64),
            torch.ones(1, 3, dtype=F64),
            torch.ones(1, dtype=F64),
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_optimize_on_cuda():
    obj = op.rosenbrock()
    x0 = torch.tensor(obj.start, dtype=F64, device="cuda")
    tr = op.optimize(op.Adam(0.05), obj, x0, 50)
    assert tr.device.type == "cuda"
    cpu = op.optimize(op.Adam(0.05), obj, x0.cpu(), 50)
    torch.testing.assert_close(tr.cpu(), cpu)


# --- Adagrad, clipping, maximum entropy, Taylor, random Hessians -------------------------------


@pytest.mark.parametrize(
    ("key", "lr", "lr_decay", "eps"),
    [("beale", 0.1, 0.0, 1e-10), ("rosenbrock", 0.05, 0.01, 1e-10), ("quadratic", 0.5, 0.0, 1e-3)],
)
def test_adagrad_matches_torch_optim(key, lr, lr_decay, eps):
    obj = op.OBJECTIVES[key]()
    ours = op.optimize(
        op.Adagrad(lr, eps=eps, lr_decay=lr_decay), obj, torch.tensor(obj.start, dtype=F64), 300
    )
    ref = torch_optim_trajectory(
        obj,
        obj.start,
        300,
        lambda ps: torch.optim.Adagrad(ps, lr=lr, lr_decay=lr_decay, eps=eps),
    )
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)


def test_adagrad_steps_shrink_like_one_over_sqrt_t():
    # A constant gradient g: s_t = t g², so the step is η / sqrt(t) (ε = 0).
    g = torch.tensor([3.0, -0.5], dtype=F64)
    tr = op.optimize(op.Adagrad(0.2, eps=0.0), lambda x: g, torch.zeros(2, dtype=F64), 100)
    steps = (tr[1:] - tr[:-1]).abs()
    t = torch.arange(1, 101, dtype=F64).unsqueeze(-1)
    torch.testing.assert_close(steps, (0.2 / t.sqrt()).expand(100, 2), rtol=1e-12, atol=0)


@pytest.mark.parametrize("max_norm", [0.01, 1.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    gen = torch.Generator().manual_seed(3)
    grads = [torch.randn(3, 4, generator=gen, dtype=F64), torch.randn(5, generator=gen, dtype=F64)]
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    ref_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipped, norm = op.clip_grad_norm(grads, max_norm)
    torch.testing.assert_close(norm, ref_norm, rtol=1e-14, atol=0)
    for c, p in zip(clipped, params, strict=True):
        torch.testing.assert_close(c, p.grad, rtol=1e-14, atol=0)
    # The global norm is the norm of all entries together, and the direction is kept.
    flat = torch.cat([g.flatten() for g in grads])
    assert abs(norm.item() - np.linalg.norm(flat.numpy())) < 1e-12
    flat_c = torch.cat([c.flatten() for c in clipped])
    assert abs(flat_c.norm().item() - min(norm.item(), max_norm)) < 1e-5 * max_norm
    assert torch.allclose(flat_c / flat_c.norm(), flat / flat.norm(), atol=1e-12)


def _scipy_max_entropy(values, mean=None, at_most=False):
    from scipy import optimize

    v = np.asarray(values, dtype=float)
    cons = [{"type": "eq", "fun": lambda q: q.sum() - 1}]
    if mean is not None:
        kind = "ineq" if at_most else "eq"
        cons.append({"type": kind, "fun": lambda q: (mean - q @ v) if at_most else (q @ v - mean)})
    q0 = np.linspace(1, 2, len(v))
    res = optimize.minimize(
        lambda q: float((q * np.log(q)).sum()),
        q0 / q0.sum(),
        jac=lambda q: np.log(q) + 1,
        constraints=cons,
        bounds=[(1e-12, 1)] * len(v),
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert res.success, res.message
    return res.x


@pytest.mark.parametrize(
    ("values", "mean", "at_most"),
    [
        ([1, 2, 3, 4, 5, 6], None, False),
        ([1, 2, 3, 4, 5, 6], 4.5, False),
        ([1, 2, 3, 4, 5, 6], 2.0, False),
        ([0.0, 0.3, 2.0, 7.0], 1.0, False),
        ([1, 2, 3, 4, 5, 6], 3.0, True),  # active: uniform mean 3.5 > 3
        ([1, 2, 3, 4, 5, 6], 4.0, True),  # inactive: uniform already has mean 3.5 <= 4
    ],
)
def test_max_entropy_against_scipy_slsqp(values, mean, at_most):
    res = op.max_entropy(torch.tensor(values, dtype=F64), mean, at_most=at_most)
    ref = _scipy_max_entropy(values, mean, at_most)
    assert np.abs(res["p"].numpy() - ref).max() < 1e-6
    v = np.asarray(values, dtype=float)
    # Gibbs form: log p is affine in x with slope λ; entropy in nats.
    slope = np.polyfit(v, np.log(res["p"].numpy()), 1)[0]
    assert abs(slope - res["lam"]) < 1e-9
    from scipy.stats import entropy

    assert abs(res["entropy"].item() - entropy(res["p"].numpy())) < 1e-12
    if mean is None or (at_most and v.mean() <= mean):
        assert res["lam"] == 0.0 and np.allclose(res["p"].numpy(), 1 / len(v))
        assert abs(res["entropy"].item() - math.log(len(v))) < 1e-12
    else:
        assert abs(res["p"].numpy() @ v - mean) < 1e-10
        assert (res["lam"] < 0) == (mean < v.mean())


def test_taylor_against_closed_forms_and_quad():
    from scipy import integrate

    x = torch.linspace(-1.0, 2.0, 7, dtype=F64)
    # sin around a = 0.3: derivatives sin, cos, -sin, -cos, ...
    a = 0.3
    ders = torch.tensor([math.sin(a), math.cos(a), -math.sin(a), -math.cos(a)], dtype=F64)
    poly = op.taylor_polynomial(ders, a, x)
    expected = sum(ders[j].item() * (x - a) ** j / math.factorial(j) for j in range(4))
    torch.testing.assert_close(poly, expected, rtol=1e-14, atol=1e-14)
    for xv in (-1.0, 0.9, 2.0):
        R = op.taylor_remainder_integral(torch.sin, a, xv, 3)  # f⁽⁴⁾ = sin
        exact = math.sin(xv) - op.taylor_polynomial(ders, a, torch.tensor(xv, dtype=F64)).item()
        quad = integrate.quad(lambda t, xv=xv: math.sin(t) * (xv - t) ** 3 / 6, a, xv)[0]
        assert abs(R - exact) < 1e-13 and abs(R - quad) < 1e-13


def test_random_hessian_fraction_closed_forms():
    # GOE: P(all eigenvalues > 0) = 1/2, (2 - √2)/4, (π - 2√2)/(4π) for d = 1, 2, 3.
    exact = {1: 0.5, 2: (2 - math.sqrt(2)) / 4, 3: (math.pi - 2 * math.sqrt(2)) / (4 * math.pi)}
    for d, p in exact.items():
        r = op.random_hessian_minimum_fraction(d, 200_000, seed=d)
        assert abs(r["fraction"] - p) < 4 * r["stderr"], (d, r, p)
        assert abs(r["negative_share"] - 0.5) < 0.01


def test_new_functions_leave_the_global_generator_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    op.random_hessian_minimum_fraction(3, 100)
    assert torch.equal(torch.rand(1), expected)


def test_new_functions_bad_input():
    with pytest.raises(ValueError, match="lr"):
        op.Adagrad(0.0)
    with pytest.raises(ValueError, match="lr_decay"):
        op.Adagrad(0.1, lr_decay=-1.0)
    with pytest.raises(ValueError, match="eps"):
        op.Adagrad(0.1, eps=-1.0)
    with pytest.raises(ValueError, match="max_norm"):
        op.clip_grad_norm([torch.ones(2, dtype=F64)], 0.0)
    with pytest.raises(TypeError, match="list"):
        op.clip_grad_norm([], 1.0)
    with pytest.raises(ValueError, match="NaN"):
        op.clip_grad_norm([torch.tensor([1.0, math.nan], dtype=F64)], 1.0)
    with pytest.raises(TypeError, match="floating"):
        op.clip_grad_norm([torch.ones(2, dtype=torch.int64)], 1.0)
    vals = torch.arange(1.0, 7.0, dtype=F64)
    with pytest.raises(ValueError, match="strictly between"):
        op.max_entropy(vals, 6.0)
    with pytest.raises(ValueError, match="finite"):
        op.max_entropy(vals, math.inf)
    with pytest.raises(ValueError, match="distinct"):
        op.max_entropy(torch.ones(3, dtype=F64), 1.0)
    with pytest.raises(ValueError, match="bound"):
        op.max_entropy(vals, at_most=True)
    with pytest.raises(TypeError):
        op.max_entropy([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match="dimension"):
        op.taylor_polynomial(torch.ones(2, 2, dtype=F64), 0.0, vals)
    with pytest.raises(TypeError, match="function"):
        op.taylor_remainder_integral(3.0, 0.0, 1.0, 2)
    with pytest.raises(ValueError, match="k"):
        op.taylor_remainder_integral(torch.exp, 0.0, 1.0, -1)
    with pytest.raises(ValueError, match="too large"):
        op.random_hessian_minimum_fraction(1000, 10**6)
    with pytest.raises(ValueError, match="d"):
        op.random_hessian_minimum_fraction(0)


# == moved from explore/optimization.py ==
# The chapter's runs (now in companion.optimization) against numpy and torch.optim.


def test_gd_quadratic_run_against_numpy():
    # GD on ½xᵀHx in numpy, from scratch: H = R diag(1, 1/κ) Rᵀ, R a rotation by π/6.
    kappa, ratio, steps = 10.0, 0.5, 60
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    R = np.array([[c, -s], [s, c]])
    H = R @ np.diag([1.0, 1 / kappa]) @ R.T
    x = np.array([-1.8, 1.2])
    lr = 2 * ratio
    gaps = []
    for _ in range(steps + 1):
        gaps.append(0.5 * x @ H @ x)
        x = x - lr * H @ x
    run = op.gd_quadratic_run(1.0, ratio, steps)
    np.testing.assert_allclose(run["gaps"], gaps, rtol=1e-10, atol=1e-300)
    measured = (gaps[-1] / gaps[steps // 2]) ** (1 / (steps - steps // 2))
    assert run["measured"] == pytest.approx(measured, rel=1e-9)
    rho = 1 - 2 * (1 / kappa) * lr * (1 - lr / 2)
    np.testing.assert_allclose(run["bound"], gaps[0] * rho ** np.arange(steps + 1), rtol=1e-10)
    assert run["kappa"] == pytest.approx(kappa) and run["lr"] == pytest.approx(lr)
    assert op.gd_quadratic_run(1.0, 1.1)["bound"] is None
    with pytest.raises(ValueError, match="ratio"):
        op.gd_quadratic_run(1.0, 0.0)


def test_sgd_least_squares_run_excess_against_numpy():
    run = op.sgd_least_squares_run(16, "1/t", steps=200)
    X, w_star = run["X"].numpy(), run["w_star"].numpy()
    H = X.T @ X / len(X)
    for t in (0, 57, 200):
        for key, path in (("excess", "trajectory"), ("excess_avg", "average")):
            w = run[path][t].numpy()
            ref = 0.5 * (w - w_star) @ H @ (w - w_star)
            assert run[key][t] == pytest.approx(ref, rel=1e-10, abs=1e-300)
    np.testing.assert_allclose(
        run["average"][1:].numpy(),
        np.cumsum(run["trajectory"][1:].numpy(), 0) / np.arange(1, 201)[:, None],
        rtol=1e-12,
    )
    again = op.sgd_least_squares_run(16, "1/t", steps=200)
    assert torch.equal(again["trajectory"], run["trajectory"])  # its own seeded generator


def test_polyak_average_beats_iterate_with_constant_steps():
    for b in (1, 4):
        run = op.sgd_least_squares_run(b, "constant")
        assert run["excess_avg"][500:].mean() < 0.5 * run["excess"][500:].mean()


def _torch_optim(name: str, p, lr: float, beta: float):
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop([p], lr=lr, alpha=beta)
    return torch.optim.Adam([p], lr=lr, betas=(beta, 0.999))


@pytest.mark.parametrize("name", op.OPTIMIZERS)
def test_batched_paths_of_make_rule_equal_torch_optim(name):
    """Every row of a batch of settings is the run torch.optim makes with that setting."""
    obj = op.OBJECTIVES["beale"]()
    settings = [(1e-3, 0.5), (4e-3, 0.9)]
    lr = torch.tensor([[a] for a, _ in settings], dtype=torch.float64)
    beta = torch.tensor([[b] for _, b in settings], dtype=torch.float64)
    paths = op.batched_paths("beale", op.make_rule(name, lr, beta), len(settings), 50)
    assert paths.shape == (51, 2, 2)
    for i, (a, b) in enumerate(settings):
        p = torch.tensor(obj.start, dtype=torch.float64, requires_grad=True)
        opt = _torch_optim(name, p, a, b)
        for k in range(1, 51):
            opt.zero_grad()
            obj.value(p).backward()
            opt.step()
            np.testing.assert_allclose(p.detach().numpy(), paths[k, i], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["rmsprop", "adam"])
def test_adaptive_rule_equals_torch_optim(name):
    obj = op.OBJECTIVES["rosenbrock"]()
    lr, decay, eps = 1e-2, 0.95, 1e-3
    path = op.batched_paths("rosenbrock", op.adaptive_rule(name, lr, decay, eps), 1, 40)[:, 0]
    p = torch.tensor(obj.start, dtype=torch.float64, requires_grad=True)
    if name == "adam":
        opt = torch.optim.Adam([p], lr=lr, betas=(0.9, decay), eps=eps)
    else:
        opt = torch.optim.RMSprop([p], lr=lr, alpha=decay, eps=eps)
    for k in range(1, 41):
        opt.zero_grad()
        obj.value(p).backward()
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), path[k], rtol=1e-9, atol=1e-12)


def test_batched_paths_cut_a_diverging_run():
    paths = op.batched_paths("quadratic", op.GradientDescent(torch.tensor([[0.01], [5.0]])), 2, 30)
    assert np.isfinite(paths[:, 0]).all()
    first_bad = np.argmax(~np.isfinite(paths[:, 1, 0]))
    assert first_bad > 0 and np.isnan(paths[first_bad:, 1]).all()
    assert (np.abs(paths[:first_bad, 1]) <= 1e3).all()


@pytest.mark.parametrize("lr", [0.05, 0.27, 0.5])
def test_bilinear_paths_equal_step_by_step(lr):
    paths = op.bilinear_paths(lr, 150)
    for method in op.MINMAX_METHODS:
        ref = op.minmax_trajectory(method, lr, 150).numpy()
        np.testing.assert_allclose(paths[method], ref, rtol=1e-9, atol=1e-12, err_msg=method)


def test_moved_runs_reject_bad_input():
    with pytest.raises(ValueError, match="optimizer"):
        op.make_rule("lbfgs", 0.1, 0.5)
    with pytest.raises(ValueError, match="optimizer"):
        op.adaptive_rule("momentum", 0.1, 0.9, 1e-8)
    with pytest.raises(ValueError, match="objective"):
        op.batched_paths("himmelblau", op.GradientDescent(0.1), 1, 5)
    with pytest.raises(ValueError, match="schedule|kind"):
        op.sgd_least_squares_run(4, "cosine")
    with pytest.raises(TypeError, match="lr"):
        op.bilinear_paths("fast", 10)
