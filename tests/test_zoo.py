"""companion.zoo: each model's defining identity against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FAST, t64
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, linalg, stats

from companion import zoo

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- autoregressive --------------------------------------------------------------------------------
def test_discretize():
    pts = t64([[-2.0, 0.0], [0.49, 0.5], [3.0, 0.999]])
    assert zoo.discretize(pts, 4, 0.0, 2.0).tolist() == [[0, 0], [0, 1], [3, 1]]
    with pytest.raises(ValueError, match="low < high"):
        zoo.discretize(pts, 4, 1.0, 1.0)
    with pytest.raises(ValueError, match="bins"):
        zoo.discretize(pts, 1, 0.0, 1.0)


@pytest.mark.parametrize(("dims", "categories"), [(2, 5), (3, 4), (4, 3)])
def test_made_is_normalised_and_autoregressive(dims, categories):
    torch.manual_seed(dims)
    model = zoo.DiscreteAutoregressive(dims, categories, hidden=16)
    every = torch.cartesian_prod(*[torch.arange(categories)] * dims)
    with torch.no_grad():
        total = model.log_prob(every).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-5)
    # Output block i must not depend on input block j >= i (autograd Jacobian).
    onehot = torch.nn.functional.one_hot(every[:20], categories).float().flatten(1)
    jac = torch.autograd.functional.jacobian(
        lambda o: model.logits_from_onehot(o).sum(0), onehot
    )  # (D, K, N, D*K)
    dep = jac.abs().sum(dim=(1, 2)).reshape(dims, dims, categories).sum(-1)
    for i in range(dims):
        for j in range(dims):
            assert (dep[i, j] > 0) == (j < i), (i, j, dep)


def test_made_sampling_matches_its_probabilities():
    torch.manual_seed(1)
    model = zoo.DiscreteAutoregressive(2, 4, hidden=16)
    every = torch.cartesian_prod(torch.arange(4), torch.arange(4))
    with torch.no_grad():
        probs = model.log_prob(every).exp().double().numpy()
    draws = model.sample(40_000, generator=torch.Generator().manual_seed(0))
    counts = np.bincount((draws[:, 0] * 4 + draws[:, 1]).numpy(), minlength=16)
    # float32 probabilities sum to one only to ~1e-8, scipy's own tolerance: renormalise in float64.
    chi2 = stats.chisquare(counts, probs / probs.sum() * 40_000)
    assert chi2.pvalue > 1e-3


def test_fit_autoregressive_learns_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    x1 = rng.integers(0, 3, 3000)
    x2 = (x1 + rng.integers(0, 2, 3000)) % 4  # x2 depends on x1
    data = torch.as_tensor(np.stack([x1, x2], 1))
    model = zoo.fit_autoregressive(
        data, categories=4, steps=400, hidden=32, lr=1e-2, progress=False, device="cpu"
    )
    with torch.no_grad():
        nll = -model.log_prob(data).mean().item()
    true_entropy = math.log(3) + math.log(2)  # H(x1) + H(x2 | x1)
    # Cross-entropy on the training sample: near the true entropy (the log-loss approaches it
    # slowly while the logits of the impossible pairs head to minus infinity).
    assert true_entropy - 0.02 < nll < true_entropy + 0.04
    path = model.save(tmp_path / "made.pt")
    loaded = zoo.DiscreteAutoregressive.load(path, device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(loaded.log_prob(data[:50]), model.log_prob(data[:50]))


def test_made_bad_input():
    model = zoo.DiscreteAutoregressive(2, 4, hidden=8)
    with pytest.raises(TypeError, match="int64"):
        model.log_prob(t64([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        model.log_prob(torch.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="category"):
        model.log_prob(torch.tensor([[0, 4]]))
    with pytest.raises(TypeError, match="int64"):
        zoo.fit_autoregressive(t64([[0.0, 1.0]]), categories=2, progress=False)
    with pytest.raises(ValueError, match="dims"):
        zoo.DiscreteAutoregressive(1, 4)


# -- energy-based models ---------------------------------------------------------------------------
@pytest.mark.parametrize(("r", "w"), [(2.0, 0.25), (1.0, 0.5), (0.3, 1.0)])
def test_ring_partition_function(r, w):
    ref = integrate.quad(
        lambda rho: 2 * math.pi * rho * math.exp(-((rho - r) ** 2) / (2 * w**2)), 0, r + 20 * w
    )[0]
    assert zoo.ring_log_partition(r, w) == pytest.approx(math.log(ref), abs=1e-9)
    lim = r + 9 * w
    grid = zoo.grid_log_partition(lambda x: zoo.ring_energy(x, r, w), lim, n=501)
    assert grid == pytest.approx(math.log(ref), abs=1e-4)


def test_ring_score_is_minus_energy_gradient():
    x = t64(np.random.default_rng(0).normal(size=(30, 2)) * 2).requires_grad_(True)
    (g,) = torch.autograd.grad(-zoo.ring_energy(x, 1.5, 0.3).sum(), x)
    torch.testing.assert_close(zoo.ring_score(x.detach(), 1.5, 0.3), g)


@pytest.mark.parametrize("eta", [0.1, 0.6, 1.5])
def test_ula_stationary_variance(eta):
    sigma, n = 0.8, 50_000
    x0 = torch.zeros(n, 1, dtype=torch.float64)
    x = zoo.langevin(
        lambda y: -y / sigma**2,
        x0,
        eta * sigma**2,
        400,
        generator=torch.Generator().manual_seed(0),
    )
    v = zoo.ula_gaussian_variance(sigma, eta * sigma**2)
    se = v * math.sqrt(2 / (n - 1))
    assert abs(x.var().item() - v) < 4 * se
    assert abs(x.mean().item()) < 4 * math.sqrt(v / n)


def test_ula_variance_limits_and_bad_input():
    assert zoo.ula_gaussian_variance(1.0, 1e-9) == pytest.approx(1.0)
    assert zoo.ula_gaussian_variance(1.0, 2.0) == math.inf
    with pytest.raises(ValueError, match="step"):
        zoo.ula_gaussian_variance(1.0, 0.0)
    with pytest.raises(ValueError, match="step"):
        zoo.langevin(lambda y: -y, t64([0.0]), -0.1, 10)
    with pytest.raises(ValueError, match="n_steps"):
        zoo.langevin(lambda y: -y, t64([0.0]), 0.1, -1)
    with pytest.raises(ValueError, match="width"):
        zoo.ring_energy(t64([[1.0, 0.0]]), 1.0, 0.0)


# -- score-based models ----------------------------------------------------------------------------
def _mixture(centers, var):
    from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

    k = centers.shape[0]
    return MixtureSameFamily(
        Categorical(torch.ones(k, dtype=torch.float64)),
        Independent(Normal(centers, math.sqrt(var)), 1),
    )


@given(st.floats(0.05, 1.0), st.floats(0.0, 2.0))
@FAST
def test_mixture_score_against_autograd(std, sigma):
    centers = t64([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]])
    x = t64(np.random.default_rng(1).normal(size=(20, 2)) * 2).requires_grad_(True)
    (g,) = torch.autograd.grad(_mixture(centers, std**2 + sigma**2).log_prob(x).sum(), x)
    torch.testing.assert_close(
        zoo.mixture_score(x.detach(), centers, std, sigma), g, rtol=1e-8, atol=1e-8
    )


def test_dsm_identity_by_monte_carlo():
    """DSM(s) − σ² E‖s − ∇log p_σ‖² is the same constant for every s (eq-zoo-dsm)."""
    centers = t64([[1.0, 0.0], [-1.0, 0.0]])
    rng = np.random.default_rng(2)
    n, std, sigma = 200_000, 0.3, 0.4
    x = centers[torch.as_tensor(rng.integers(0, 2, n))] + std * t64(rng.normal(size=(n, 2)))
    eps = t64(rng.normal(size=(n, 2)))
    xn = x + sigma * eps
    exact = zoo.mixture_score(xn, centers, std, sigma)

    def const(s):
        return ((sigma * s + eps) ** 2).sum(1) - sigma**2 * ((s - exact) ** 2).sum(1)

    base = const(exact)
    for s in (torch.zeros_like(xn), -2 * xn, exact + 0.5):
        paired = const(s) - base
        assert abs(paired.mean().item()) < 4 * paired.std().item() / math.sqrt(n) + 1e-12


def test_dsm_loss_matches_definition():
    torch.manual_seed(0)
    net = zoo.ScoreNet(hidden=8)
    x, noise = torch.randn(64, 2), torch.randn(64, 2)
    sigma = torch.full((64, 1), 0.3)
    direct = ((0.3 * net(x + 0.3 * noise, sigma) + noise) ** 2).sum(1).mean()
    torch.testing.assert_close(zoo.dsm_loss(net, x, sigma, noise), direct)


def test_fit_score_learns_gaussian_score():
    # Data N(0, 0.5² I): the noised score is −x / (0.25 + σ²).
    data = 0.5 * torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    model = zoo.fit_score(
        data,
        steps=600,
        hidden=32,
        sigma_min=0.1,
        sigma_max=1.0,
        levels=4,
        progress=False,
        device="cpu",
    )
    probe = 0.7 * torch.randn(500, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for s in (1.0, 0.46):
            exact = -probe / (0.25 + s**2)
            err = (model(probe, torch.tensor(s)) - exact).norm(dim=1).mean()
            assert err < 0.25 * exact.norm(dim=1).mean(), s
    assert model.sample(10, generator=torch.Generator().manual_seed(0)).shape == (10, 2)


def test_annealed_langevin_with_exact_score_finds_every_mode():
    from companion import data

    centers = data.ring_centers(8, 2.0, dtype=torch.float32)
    sigmas = torch.exp(torch.linspace(math.log(2.0), math.log(0.05), 8))

    def score(x, s):
        return zoo.mixture_score(x, centers, 0.05, float(s[0, 0])).float()

    x = zoo.annealed_langevin(
        score, 2000, sigmas=sigmas, generator=torch.Generator().manual_seed(0), device="cpu"
    )
    covered, quality = data.mode_coverage(x, centers, 0.05)
    assert covered == 8 and quality > 0.5
    with pytest.raises(ValueError, match="sigmas"):
        zoo.annealed_langevin(score, 5)


# -- continuous flows ------------------------------------------------------------------------------
def test_rk4_is_fourth_order():
    errors = []
    for n in (5, 10, 20):
        x = zoo.rk4(lambda y, t: y * math.cos(t), t64([1.0]), 0.0, 2.0, n)
        errors.append(abs(x.item() - math.exp(math.sin(2.0))))
    assert errors[0] / errors[1] == pytest.approx(16, rel=0.3)
    assert errors[1] / errors[2] == pytest.approx(16, rel=0.3)


def test_ode_log_prob_linear_field_closed_form():
    a = t64([[0.2, -1.0], [0.7, -0.5]])
    x = t64(np.random.default_rng(3).normal(size=(10, 2)))
    lp, z = zoo.ode_log_prob(lambda y, t: y @ a.T, x, n_steps=60)
    z_ref = x.numpy() @ linalg.expm(-a.numpy()).T
    ref = stats.multivariate_normal(np.zeros(2)).logpdf(z_ref) - np.trace(a.numpy())
    np.testing.assert_allclose(lp.numpy(), ref, atol=1e-9)


def test_ode_log_prob_matches_jacobian_of_the_flow_map():
    """Instantaneous change of variables vs log|det| of the RK4 flow map's Jacobian."""
    torch.manual_seed(0)
    net = zoo.VelocityNet(hidden=16).double()
    x1 = t64(np.random.default_rng(4).normal(size=(6, 2)))
    lp, z = zoo.ode_log_prob(net, x1, n_steps=80)
    for i in range(6):
        flow = lambda z0: zoo.rk4(net, z0[None], 0.0, 1.0, 80)[0]  # noqa: E731
        jac = torch.autograd.functional.jacobian(flow, z[i])
        ref = (
            stats.multivariate_normal(np.zeros(2)).logpdf(z[i].detach().numpy())
            - torch.linalg.slogdet(jac)[1].item()
        )
        assert lp[i].item() == pytest.approx(ref, abs=1e-6)
        # and z really flows to x1
        torch.testing.assert_close(flow(z[i]).detach(), x1[i], atol=1e-7, rtol=0)


def test_fit_ode_flow_density_integrates_to_one():
    data = t64(np.random.default_rng(5).normal(size=(3000, 2)) * [0.5, 1.0] + [1.0, 0.0]).float()
    model = zoo.fit_ode_flow(data, steps=300, hidden=32, progress=False, device="cpu")
    c = torch.linspace(-4.5, 4.5, 46)
    h = float(c[1] - c[0])
    grid = torch.stack(torch.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)
    lp, _ = zoo.ode_log_prob(model, grid, n_steps=12)
    assert (lp.exp().sum() * h * h).item() == pytest.approx(1.0, abs=0.05)
    s = model.sample(4000, generator=torch.Generator().manual_seed(0))
    assert s.mean(0).tolist() == pytest.approx([1.0, 0.0], abs=0.15)


# -- transformers ----------------------------------------------------------------------------------
P3 = t64(
    [
        [[0.90, 0.05, 0.05], [0.10, 0.10, 0.80], [0.30, 0.40, 0.30]],
        [[0.05, 0.90, 0.05], [0.50, 0.25, 0.25], [0.10, 0.10, 0.80]],
        [[0.05, 0.05, 0.90], [0.80, 0.10, 0.10], [0.20, 0.60, 0.20]],
    ]
)


def test_markov_chain_and_entropy_rate():
    seqs = zoo.markov_sequences(P3, 400, 500, seed=1)
    a, b, c = seqs[:, :-2].flatten(), seqs[:, 1:-1].flatten(), seqs[:, 2:].flatten()
    counts = torch.zeros(3, 3, 3, dtype=torch.float64)
    counts.index_put_((a, b, c), torch.ones(len(a), dtype=torch.float64), accumulate=True)
    freq = counts / counts.sum(-1, keepdim=True)
    torch.testing.assert_close(freq, P3, atol=0.02, rtol=0)
    # Entropy rate = empirical mean of −log P(x_t | x_{t−2}, x_{t−1}) after burn-in.
    lp = torch.log(P3[a, b, c]).reshape(400, -1)[:, 50:]
    assert -lp.mean().item() == pytest.approx(zoo.markov_entropy_rate(P3), abs=0.01)
    # An i.i.d. uniform chain has rate log 3.
    assert zoo.markov_entropy_rate(torch.full((3, 3, 3), 1 / 3, dtype=torch.float64)) == (
        pytest.approx(math.log(3))
    )


def test_markov_bad_input():
    with pytest.raises(ValueError, match="shape"):
        zoo.markov_entropy_rate(torch.ones(2, 3, 3, dtype=torch.float64) / 3)
    with pytest.raises(ValueError, match="probability"):
        zoo.markov_sequences(torch.ones(2, 2, 2, dtype=torch.float64), 3, 5)


def test_transformer_is_causal_and_learns(tmp_path):
    seqs = zoo.markov_sequences(P3, 1200, 17, seed=0)
    model = zoo.fit_transformer(seqs[:1000], steps=150, width=16, progress=False, device="cpu")
    with torch.no_grad():
        a = model(seqs[:4, :16])
        changed = seqs[:4, :16].clone()
        changed[:, 10:] = (changed[:, 10:] + 1) % 3
        b = model(changed)
        torch.testing.assert_close(a[:, :10], b[:, :10])  # the past never sees the future
        assert not torch.allclose(a[:, 10:], b[:, 10:])
        test = model.nll(seqs[1000:]).item()
    assert test < math.log(3) - 0.2
    path = model.save(tmp_path / "t.pt")
    loaded = zoo.TinyTransformer.load(path, device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(loaded(seqs[:2, :16]), model(seqs[:2, :16]))
    out = model.sample(3, length=20, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (3, 20) and out.max() < 3
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 17, dtype=torch.int64))
    with pytest.raises(ValueError, match="tokens"):
        model(torch.full((1, 3), 5, dtype=torch.int64))
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0.0)


def test_transformer_attention_matches_torch_module():
    """The block's attention equals torch.nn.functional.scaled_dot_product_attention on the same
    projections."""
    torch.manual_seed(0)
    model = zoo.TinyTransformer(3, 8, 16)
    x = torch.randint(0, 3, (2, 8))
    from companion import components as cp

    h = model.tok(x) + model.pos(torch.arange(8))
    q, k, v = model.qkv(cp.layer_norm(h, 1, model.ln[0], model.ln_b[0])).chunk(3, -1)
    ours = cp.scaled_dot_product_attention(q, k, v, causal=True)[0]
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)


# -- sparse coding ---------------------------------------------------------------------------------
@given(st.floats(-5, 5), st.floats(0, 3))
@FAST
def test_soft_threshold_is_the_l1_prox(u, lam):
    ys = np.linspace(-6, 6, 120_001)
    brute = ys[np.argmin(0.5 * (ys - u) ** 2 + lam * np.abs(ys))]
    assert zoo.soft_threshold(t64([u]), lam).item() == pytest.approx(brute, abs=2e-4)


@pytest.mark.parametrize("lam", [0.2, 0.5, 1.0])
def test_ista_against_sklearn_lasso(lam):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(6)
    d = t64(rng.normal(size=(15, 30)))
    x = t64(rng.normal(size=(3, 15)))
    z = zoo.ista(d, x, lam, n_iter=10_000)
    for i in range(3):
        ref = Lasso(alpha=lam / 15, fit_intercept=False, tol=1e-12, max_iter=200_000)
        ref.fit(d.numpy(), x[i].numpy())
        np.testing.assert_allclose(z[i].numpy(), ref.coef_, atol=1e-5)


def test_sparse_bad_input():
    with pytest.raises(ValueError, match="lam"):
        zoo.soft_threshold(t64([1.0]), -1.0)
    with pytest.raises(ValueError, match="features"):
        zoo.ista(t64(np.ones((4, 3))), t64(np.ones(5)), 0.1)


# == moved from explore/zoo.py ==


def test_ring_radial_moments_by_scipy():
    r, w = 2.0, 0.25

    def dens(rho):
        return rho * math.exp(-((rho - r) ** 2) / (2 * w**2))

    z = integrate.quad(dens, 0, np.inf)[0]
    mean = integrate.quad(lambda u: u * dens(u), 0, np.inf)[0] / z
    var = integrate.quad(lambda u: (u - mean) ** 2 * dens(u), 0, np.inf)[0] / z
    m, s = zoo.ring_radial_moments(r, w)
    assert m == pytest.approx(mean, abs=1e-8) and s == pytest.approx(math.sqrt(var), abs=1e-8)


def test_ring_density_grid_is_normalised_and_pointwise_right():
    c, dens = zoo.ring_density_grid(4.0, 201, radius=1.5, width=0.3)
    assert c[0] == -4.0 and c[-1] == 4.0 and dens.shape == (201, 201)
    h = float(c[1] - c[0])
    assert float(dens.sum()) * h * h == pytest.approx(1.0, abs=1e-4)
    x, y = float(c[150]), float(c[40])  # dens[row = y index, column = x index]
    rho = math.hypot(x, y)
    unnorm = math.exp(-((rho - 1.5) ** 2) / (2 * 0.09))
    assert float(dens[40, 150]) == pytest.approx(
        unnorm / math.exp(zoo.ring_log_partition(1.5, 0.3))
    )


def test_langevin_ring_is_langevin_with_the_ring_score():
    x = zoo.langevin_ring(0.01, n=50, n_steps=20, seed=4)
    gen = torch.Generator().manual_seed(4)
    x0 = torch.tensor([2.0, 0.0], dtype=torch.float64) + 0.15 * torch.randn(
        50, 2, generator=gen, dtype=torch.float64
    )
    ref = zoo.langevin(zoo.ring_score, x0, 0.01, 20, generator=gen)
    torch.testing.assert_close(x, ref, rtol=1e-12, atol=1e-12)


def test_flow_paths_against_scipy_ode_solver():
    from scipy.integrate import solve_ivp

    torch.manual_seed(0)
    net = zoo.VelocityNet(hidden=8)
    paths = zoo.flow_paths(net, n=3, n_steps=10, seed=2)
    assert paths.shape == (11, 3, 2)
    torch.testing.assert_close(
        paths[0], torch.randn(3, 2, generator=torch.Generator().manual_seed(2))
    )

    def f(t, y):
        with torch.no_grad():
            return net(torch.tensor(y, dtype=torch.float32).reshape(1, 2), t).reshape(2).numpy()

    for i in range(3):
        sol = solve_ivp(f, (0, 1), paths[0, i].numpy(), rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(paths[-1, i].numpy(), sol.y[:, -1], atol=1e-4)
    with pytest.raises(TypeError, match="VelocityNet"):
        zoo.flow_paths("net")


def test_next_symbol_probs_and_sampling_by_uniforms():
    torch.manual_seed(0)
    gpt = zoo.TinyTransformer(3, 8, 8)
    probs = zoo.next_symbol_probs(gpt, 3, 2.0)
    ctx = torch.tensor([[a, b] for a in range(3) for b in range(3)])
    with torch.no_grad():
        ref = torch.softmax(gpt(ctx)[:, -1].double() / 2.0, -1)
    torch.testing.assert_close(probs, ref)
    with pytest.raises(ValueError, match="temperature"):
        zoo.next_symbol_probs(gpt, 3, 0.0)
    # Uniform next-symbol laws: the inverse CDF of u is floor(3u).
    us = np.random.default_rng(1).random(30)
    seq = zoo.sample_by_uniforms(torch.full((9, 3), 1 / 3, dtype=torch.float64), us)
    assert seq[:2] == [0, 1] and seq[2:] == [int(3 * u) for u in us[2:]]
