"""Checks behind errata entries that no chapter cell covers: each test shows that the corrected
statement holds and, where the source's version is a formula, that the printed one fails.

References are independent of the companion: SciPy quadrature, NumPy, and PyTorch autograd.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

F64 = torch.float64


# -- Optimization: Taylor's theorem (cheat sheet §2) ----------------------------------------------
@pytest.mark.parametrize(
    ("f", "derivs", "x0", "x"),
    [
        (np.exp, [np.exp] * 5, 0.3, 1.7),
        (np.sin, [np.sin, np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t), np.sin], -0.5, 2.0),
    ],
)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_taylor_integral_remainder(f, derivs, x0, x, n):
    poly = sum(derivs[k](x0) / math.factorial(k) * (x - x0) ** k for k in range(n + 1))
    exact_remainder = f(x) - poly
    fn1 = derivs[n + 1]
    right = integrate.quad(lambda t: fn1(t) * (x - t) ** n / math.factorial(n), x0, x)[0]
    assert right == pytest.approx(exact_remainder, rel=1e-10, abs=1e-13)
    printed = integrate.quad(lambda t: fn1(x - t) / math.factorial(n), x0, x)[0]
    assert abs(printed - exact_remainder) > 1e-3  # the printed remainder is not the remainder
    # Lagrange form: f^(n+1)(ξ)(x − x0)^(n+1)/(n+1)! for some ξ between x0 and x.
    grid = np.linspace(x0, x, 20001)
    lagrange = fn1(grid) * (x - x0) ** (n + 1) / math.factorial(n + 1)
    assert lagrange.min() - 1e-12 <= exact_remainder <= lagrange.max() + 1e-12


# -- Optimization: L-smooth gradient descent converges to a stationary point ---------------------
def test_gd_with_step_one_over_l_can_stop_at_a_saddle():
    """f(x, y) = x² − y² is 2-smooth; started on the x-axis, GD with η = 1/L = 1/2 goes to the
    saddle (0, 0) in one step and stays: a stationary point that is not a minimiser."""

    def f(v):
        return v[0] ** 2 - v[1] ** 2

    p = torch.tensor([1.0, 0.0], dtype=F64, requires_grad=True)
    for _ in range(50):
        (g,) = torch.autograd.grad(f(p), p)
        with torch.no_grad():
            p -= 0.5 * g
    assert torch.allclose(p.detach(), torch.zeros(2, dtype=F64))
    assert _grad(f, p.detach()).abs().max() == 0  # stationary ...
    assert f(torch.tensor([0.0, 1e-3], dtype=F64)) < f(p.detach())  # ... and not a minimum


# -- Linear algebra: a kernel is a function whose Gram matrices are PSD (cheat sheet §3) ----------
def test_kernel_gram_matrices_psd_and_a_symmetric_function_that_is_not_a_kernel():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.normal(size=(30, 3))
        d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        assert np.linalg.eigvalsh(np.exp(-d2 / 2)).min() > -1e-10  # RBF: PSD on every set
    # The symmetric "sigmoid kernel" tanh(x·x' − 1) is not positive definite.
    x = np.array([[0.0], [2.0]])
    assert np.linalg.eigvalsh(np.tanh(x @ x.T - 1)).min() < 0


# -- Matrix calculus in the denominator layout (cheat sheet §4) ------------------------------------
def _jac(fn, x):
    """Numerator-layout Jacobian J (m × n) by autograd."""
    return torch.autograd.functional.jacobian(fn, x)


def _setup(seed=0, n=3, m=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=F64)
    a_f, a_g = torch.randn(m, n, generator=g, dtype=F64), torch.randn(m, n, generator=g, dtype=F64)
    f = lambda v: torch.tanh(a_f @ v)  # noqa: E731
    gfun = lambda v: torch.sin(a_g @ v) + v.sum()  # noqa: E731
    A = torch.randn(m, m, generator=g, dtype=F64)
    return x, f, gfun, A


def _grad(fn, x):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x), x)
    return g


def test_bilinear_form_rule_fT_A_g():
    x, f, g, A = _setup()
    jf, jg = _jac(f, x), _jac(g, x)
    true = _grad(lambda v: f(v) @ A @ g(v), x)
    # denominator layout: ∂f/∂x = Jfᵀ (n × m)
    corrected = jf.T @ A @ g(x) + jg.T @ A.T @ f(x)
    assert torch.allclose(true, corrected, atol=1e-12)
    # the printed form transposes the first factor: (∂f/∂x)ᵀ A g = Jf A g, shape-wrong for m ≠ n
    with pytest.raises(RuntimeError):
        jf @ A @ g(x)


def test_squared_norm_rule():
    x, f, _, _ = _setup()
    jf = _jac(f, x)
    true = _grad(lambda v: (f(v) ** 2).sum(), x)
    assert torch.allclose(true, 2 * jf.T @ f(x), atol=1e-12)
    with pytest.raises(RuntimeError):  # printed "2 J_f f": m × n times m, undefined for m ≠ n
        2 * jf @ f(x)


def test_scalar_times_vector_rule():
    """∂(u f)/∂x in the denominator layout is u ∂f/∂x + (∂u/∂x) fᵀ (n × m), not "f ∂u/∂x"."""
    x, f, _, _ = _setup()
    u = lambda v: (v**3).sum()  # noqa: E731
    true = _jac(lambda v: u(v) * f(v), x).T  # denominator layout: transpose of numerator J
    corrected = u(x) * _jac(f, x).T + torch.outer(_grad(u, x), f(x))
    assert torch.allclose(true, corrected, atol=1e-12)
    assert torch.outer(f(x), _grad(u, x)).shape != true.shape  # "f ∂u/∂x": m × n, wrong shape


def test_vector_by_matrix_derivative_is_a_third_order_tensor():
    g = torch.Generator().manual_seed(1)
    X, a = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    d = torch.autograd.functional.jacobian(lambda M: M @ a, X)  # ∂(Xa)_i / ∂X_jk
    assert d.shape == (4, 4, 3)
    assert torch.allclose(d, torch.einsum("ij,k->ijk", torch.eye(4, dtype=F64), a))


# -- Convolutions (cheat sheet §12.5) ------------------------------------------------------
def test_convolution_jacobian_is_banded_not_diagonal():
    """∂x_i/∂x_j is zero only outside the receptive field of x_i, not for every j ≠ i."""
    w = torch.tensor([0.5, -1.0, 2.0], dtype=F64)
    conv = lambda v: torch.nn.functional.conv1d(v[None, None], w[None, None], padding=1)[0, 0]  # noqa: E731
    J = _jac(conv, torch.randn(8, dtype=F64))
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    assert torch.all(J[(i - j).abs() > 1] == 0)
    assert torch.all(J[(i - j).abs() == 1] != 0)  # off-diagonal, inside the window


def test_filter_gradient_is_upstream_gradient_convolved_with_flipped_input():
    """For y = x * w (true convolution, 'valid'), ∂R/∂w_i = Σ_k δ_k x_{k−i} = (δ * rot180 x)_i
    read at the right offsets, and Σ_k δ_k x_{−(k−i)} (the printed middle step) differs."""
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=12), rng.normal(size=3)
    delta = rng.normal(size=12 - 3 + 1)  # ∂R/∂y for R = δ·y
    y = lambda w_: np.convolve(x, w_, mode="valid")  # noqa: E731
    eps = 1e-6
    fd = np.array(
        [(delta @ y(w + eps * e) - delta @ y(w - eps * e)) / (2 * eps) for e in np.eye(3)]
    )
    # y_k = Σ_o x_{k+2−o} w_o (valid mode, k = 0..9): ∂R/∂w_o = Σ_k δ_k x_{k+2−o}
    direct = np.array([sum(delta[k] * x[k + 2 - o] for k in range(10)) for o in range(3)])
    assert np.allclose(fd, direct, atol=1e-8)
    as_conv = np.convolve(delta, x[::-1], mode="valid")  # δ convolved with the flipped input
    assert np.allclose(as_conv, direct, atol=1e-12)
    printed = np.array([sum(delta[k] * x[(o - k - 2) % 12] for k in range(10)) for o in range(3)])
    assert not np.allclose(printed, direct, atol=1e-3)


def test_running_mean_is_the_ema_with_weight_one_over_t():
    """Polyak averaging: θ̄_t = (1 − β)θ̄_{t−1} + βθ_t is the arithmetic mean exactly when β = 1/t;
    a constant β gives an exponential moving average that forgets the early iterates."""
    rng = np.random.default_rng(4)
    thetas = rng.normal(size=(50, 3))
    running, ema = thetas[0].copy(), thetas[0].copy()
    for t in range(2, 51):
        running = (1 - 1 / t) * running + thetas[t - 1] / t
        ema = 0.9 * ema + 0.1 * thetas[t - 1]
    assert np.allclose(running, thetas.mean(0), atol=1e-12)
    assert not np.allclose(ema, thetas.mean(0), atol=1e-3)


# -- Recurrent networks (cheat sheet §13.1) --------------------------------------------------------
def test_bptt_needs_the_total_derivative_of_each_state():
    """For z_t = tanh(U z_{t-1} + V x_t) and L = Σ_t w·z_t, the gradient in U summed over time
    with only the immediate ∂z_t/∂U (z_{t-1} held fixed) misses the paths through earlier states;
    propagating through the recurrence gives autograd's answer."""
    g = torch.Generator().manual_seed(5)
    U = (0.8 * torch.randn(3, 3, generator=g, dtype=F64)).requires_grad_(True)
    V, w = torch.randn(3, 2, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    xs = torch.randn(6, 2, generator=g, dtype=F64)

    def run(U_):
        z, states = torch.zeros(3, dtype=F64), [torch.zeros(3, dtype=F64)]
        for x in xs:
            z = torch.tanh(U_ @ z + V @ x)
            states.append(z)
        return states

    states = run(U)
    (auto,) = torch.autograd.grad(sum(w @ z for z in states[1:]), U)
    with torch.no_grad():
        immediate = sum(
            torch.outer(w * (1 - z**2), prev)
            for prev, z in zip(states[:-1], states[1:], strict=True)
        )
        # Full BPTT: carry δ_t = ∂L/∂z_t backwards through the recurrence.
        full, delta = torch.zeros_like(U), torch.zeros(3, dtype=F64)
        for prev, z in reversed(list(zip(states[:-1], states[1:], strict=True))):
            delta = delta + w
            pre = delta * (1 - z**2)
            full += torch.outer(pre, prev)
            delta = U.T @ pre
    assert torch.allclose(full, auto, atol=1e-12)
    assert not torch.allclose(immediate, auto, atol=1e-3)
