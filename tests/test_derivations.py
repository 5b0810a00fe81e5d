"""Numerical checks of the results the chapters derive as theorems (Gaussian KL and W2, the
descent lemma, the probabilistic-PCA posterior, the diffusion bound and its weights, Tweedie's
formula, denoising score matching, the f-GAN bound). Every expected value comes from an
independent reference: SciPy, POT, torch.distributions, autograd, numpy written from the
definitions, or a Monte Carlo average with its standard error."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
import scipy.integrate
import scipy.linalg
import scipy.optimize
import scipy.special
import scipy.stats
import torch

from companion import divergences as dv
from companion import vae
from companion.diffusion import NoiseSchedule

F64 = torch.float64
D = torch.distributions


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.5 * np.eye(d)


def _within(samples: np.ndarray | torch.Tensor, target: float, k: float = 4.0) -> bool:
    x = np.asarray(samples, dtype=float)
    return abs(x.mean() - target) < k * x.std() / math.sqrt(len(x))


# -- divergences: thm-div-kl-gauss, thm-div-w2-gauss ------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 4])
def test_gaussian_kl_is_the_mean_log_ratio(d):
    rng = np.random.default_rng(d)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _spd(rng, d), _spd(rng, d)
    p1, p2 = scipy.stats.multivariate_normal(m1, s1), scipy.stats.multivariate_normal(m2, s2)
    x = p1.rvs(100_000, random_state=rng).reshape(-1, d)
    kl = dv.kl_mvn(*(torch.as_tensor(v, dtype=F64) for v in (m1, s1, m2, s2))).item()
    assert _within(p1.logpdf(x) - p2.logpdf(x), kl)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_w2_and_its_optimal_map(seed):
    rng = np.random.default_rng(10 + seed)
    d = 3
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _spd(rng, d), _spd(rng, d)
    w2 = dv.wasserstein_gaussian(*(torch.as_tensor(v, dtype=F64) for v in (m1, s1, m2, s2)))
    assert abs(w2.item() - float(ot.gaussian.bures_wasserstein_distance(m1, m2, s1, s2))) < 1e-7
    # The map of eq-w2-gauss-map, built with SciPy's square roots, is POT's, pushes N1 to N2,
    # and the identity pairing of samples with their images is an optimal discrete plan.
    r1 = scipy.linalg.sqrtm(s1).real
    ir1 = np.linalg.inv(r1)
    a = ir1 @ scipy.linalg.sqrtm(r1 @ s2 @ r1).real @ ir1
    assert np.allclose(a, ot.gaussian.bures_wasserstein_mapping(m1, m2, s1, s2)[0], atol=1e-8)
    assert np.allclose(a @ s1 @ a, s2, atol=1e-9)
    x = rng.multivariate_normal(m1, s1, size=200)
    y = m2 + (x - m1) @ a.T
    plan = ot.emd(np.full(200, 1 / 200), np.full(200, 1 / 200), ot.dist(x, y))
    assert np.allclose(plan, np.eye(200) / 200, atol=1e-12)
    big = rng.multivariate_normal(m1, s1, size=100_000)
    cost = ((big - m2 - (big - m1) @ a.T) ** 2).sum(1)
    assert _within(cost, w2.item() ** 2)


def test_gaussian_w2_commuting_case_is_a_frobenius_distance():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    l1, l2 = rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    s1, s2 = q @ np.diag(l1) @ q.T, q @ np.diag(l2) @ q.T
    zero = torch.zeros(4, dtype=F64)
    w2 = dv.wasserstein_gaussian(zero, torch.as_tensor(s1), zero, torch.as_tensor(s2)).item()
    assert abs(w2**2 - np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2)) < 1e-10


def test_cross_covariance_bound_of_the_w2_proof():
    rng = np.random.default_rng(4)
    s1, s2 = _spd(rng, 3), _spd(rng, 3)
    r1, r2 = scipy.linalg.sqrtm(s1).real, scipy.linalg.sqrtm(s2).real
    bound = np.trace(scipy.linalg.sqrtm(r1 @ s2 @ r1).real)
    for _ in range(500):
        k = rng.normal(size=(3, 3))
        k /= np.linalg.norm(k, 2)  # largest singular value exactly 1: on the boundary
        assert np.trace(r1 @ k @ r2) <= bound + 1e-10


# -- optimization: thm-opt-descent-lemma ----------------------------------------------------


def test_descent_lemma_on_a_nonconvex_smooth_function():
    rng = np.random.default_rng(5)
    h = rng.normal(size=(5, 5))
    h = torch.tensor(h @ h.T - 3 * np.eye(5), dtype=F64)
    c = 2.0
    lip = torch.linalg.matrix_norm(h, 2).item() + c  # |eigenvalues of the Hessian| <= lip

    def f(x):
        return 0.5 * x @ h @ x + c * torch.cos(x).sum()

    for _ in range(200):
        x = torch.tensor(rng.normal(size=5) * 2, dtype=F64, requires_grad=True)
        (g,) = torch.autograd.grad(f(x), x)
        x = x.detach()
        step = torch.tensor(rng.normal(size=5), dtype=F64)
        assert f(x + step) <= f(x) + g @ step + 0.5 * lip * step @ step + 1e-10
        eta = rng.uniform(0, 2 / lip)
        assert f(x - eta * g) <= f(x) - eta * (1 - lip * eta / 2) * (g @ g) + 1e-10
        assert f(x - g / lip) <= f(x) - (g @ g) / (2 * lip) + 1e-10


# -- vae: thm-vae-ppca-posterior --------------------------------------------------------------


@pytest.mark.parametrize(("d", "k"), [(2, 1), (6, 3)])
def test_ppca_posterior_is_gaussian_conditioning(d, k):
    rng = np.random.default_rng(d * 10 + k)
    w, b, s = rng.normal(size=(d, k)), rng.normal(size=d), 0.7
    x = rng.normal(size=d)
    mean, cov = vae.LinearGaussian(torch.tensor(w), torch.tensor(b), s).posterior(torch.tensor(x))
    sxx = w @ w.T + s**2 * np.eye(d)
    assert np.allclose(mean.numpy(), w.T @ np.linalg.solve(sxx, x - b), atol=1e-10)
    assert np.allclose(cov.numpy(), np.eye(k) - w.T @ np.linalg.solve(sxx, w), atol=1e-10)
    m0 = w.T @ w + s**2 * np.eye(k)  # Tipping and Bishop's form
    assert np.allclose(mean.numpy(), np.linalg.solve(m0, w.T @ (x - b)), atol=1e-10)
    assert np.allclose(cov.numpy(), s**2 * np.linalg.inv(m0), atol=1e-10)


# -- diffusion: thm-diffusion-posterior, thm-diffusion-vlb, thm-diffusion-weight --------------

BETAS = np.linspace(1e-4, 0.02, 1000)
AB = np.concatenate([[1.0], np.cumprod(1 - BETAS)])  # ᾱ_0 .. ᾱ_T


def test_forward_posterior_noise_form():
    sched = NoiseSchedule("linear", T=1000)
    g = torch.Generator().manual_seed(0)
    x0, eps = (torch.randn(64, 2, generator=g, dtype=F64) for _ in range(2))
    for t in (1, 2, 50, 999, 1000):
        xt = math.sqrt(AB[t]) * x0 + math.sqrt(1 - AB[t]) * eps
        mean, var = sched.q_posterior(x0, xt, t)
        b, a = BETAS[t - 1], 1 - BETAS[t - 1]
        want = (xt - b / math.sqrt(1 - AB[t]) * eps) / math.sqrt(a)
        assert torch.allclose(mean, want, atol=1e-10)
        assert abs(float(var.flatten()[0]) - (1 - AB[t - 1]) / (1 - AB[t]) * b) < 1e-15


def test_encoder_telescopes_into_posteriors():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(500, 2, generator=g, dtype=F64)
    x0, forward, backward = x, torch.zeros(500, dtype=F64), torch.zeros(500, dtype=F64)
    for t in range(1, 1001):
        b = BETAS[t - 1]
        nxt = math.sqrt(1 - b) * x + math.sqrt(b) * torch.randn(500, 2, generator=g, dtype=F64)
        forward += D.Normal(math.sqrt(1 - b) * x, math.sqrt(b)).log_prob(nxt).sum(-1)
        if t >= 2:
            mu = (math.sqrt(AB[t - 1]) * b * x0 + math.sqrt(1 - b) * (1 - AB[t - 1]) * nxt) / (
                1 - AB[t]
            )
            sd = math.sqrt((1 - AB[t - 1]) / (1 - AB[t]) * b)
            backward += D.Normal(mu, sd).log_prob(x).sum(-1)
        x = nxt
    backward += D.Normal(math.sqrt(AB[1000]) * x0, math.sqrt(1 - AB[1000])).log_prob(x).sum(-1)
    assert torch.allclose(forward, backward, atol=1e-7)


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_step_kl_is_a_weighted_noise_regression(variance):
    sched = NoiseSchedule("linear", T=1000)
    g = torch.Generator().manual_seed(2)
    x0, eps, eps_hat = (torch.randn(32, 2, generator=g, dtype=F64) for _ in range(3))
    for t in (2, 30, 700):
        xt = math.sqrt(AB[t]) * x0 + math.sqrt(1 - AB[t]) * eps
        b, a = BETAS[t - 1], 1 - BETAS[t - 1]
        bt = (1 - AB[t - 1]) / (1 - AB[t]) * b
        s2 = b if variance == "beta" else bt
        mu_q = (math.sqrt(AB[t - 1]) * b * x0 + math.sqrt(a) * (1 - AB[t - 1]) * xt) / (1 - AB[t])
        mu_p = (xt - b / math.sqrt(1 - AB[t]) * eps_hat) / math.sqrt(a)
        kl = D.kl_divergence(D.Normal(mu_q, math.sqrt(bt)), D.Normal(mu_p, math.sqrt(s2)))
        lam = float(sched.elbo_weight(t, variance))
        const = math.log(s2 / bt) + bt / s2 - 1  # d/2 (...) with d = 2
        assert torch.allclose(kl.sum(-1), lam * ((eps - eps_hat) ** 2).sum(-1) + const, rtol=1e-9)


def test_decoder_term_is_the_t1_weight():
    g = torch.Generator().manual_seed(3)
    x0, eps, eps_hat = (torch.randn(32, 3, generator=g, dtype=F64) for _ in range(3))
    b = BETAS[0]
    x1 = math.sqrt(1 - b) * x0 + math.sqrt(b) * eps
    mu = (x1 - b / math.sqrt(b) * eps_hat) / math.sqrt(1 - b)
    nll = -D.Normal(mu, math.sqrt(b)).log_prob(x0).sum(-1)
    lam1 = b / (2 * b * (1 - b))
    want = lam1 * ((eps - eps_hat) ** 2).sum(-1) + 1.5 * math.log(2 * math.pi * b)
    assert torch.allclose(nll, want, rtol=1e-10)


# -- diffusion: thm-diffusion-tweedie, thm-diffusion-dsm --------------------------------------

W_MIX = np.array([0.6, 0.4])
M_MIX = np.array([[1.5, -0.5], [-1.0, 1.0]])
S_MIX = np.array([0.2, 0.5])


def _noised_mixture(a: float, b2: float) -> D.Distribution:
    sd = torch.tensor(np.sqrt(a**2 * S_MIX**2 + b2))[:, None].expand(2, 2)
    comps = D.Independent(D.Normal(torch.tensor(a * M_MIX), sd), 1)
    return D.MixtureSameFamily(D.Categorical(torch.tensor(W_MIX)), comps)


@pytest.mark.parametrize("abar", [0.99, 0.5, 0.02])
def test_tweedie_posterior_mean_from_the_score(abar):
    a, b2 = math.sqrt(abar), 1 - abar
    rng = np.random.default_rng(6)
    x = torch.tensor(rng.normal(size=(20, 2)) * 2, requires_grad=True)
    (score,) = torch.autograd.grad(_noised_mixture(a, b2).log_prob(x).sum(), x)
    xn = x.detach().numpy()
    v = a**2 * S_MIX**2 + b2
    log_r = np.log(W_MIX) - ((xn[:, None] - a * M_MIX) ** 2).sum(-1) / (2 * v) - np.log(v)
    r = scipy.special.softmax(log_r, axis=1)
    cond = M_MIX + (a * S_MIX**2 / v)[:, None] * (xn[:, None] - a * M_MIX)
    post_mean = (r[..., None] * cond).sum(1)
    assert np.allclose((xn + b2 * score.numpy()) / a, post_mean, rtol=1e-10, atol=1e-10)


def test_denoising_score_matching_cross_terms_agree():
    a, b2 = math.sqrt(0.3), 0.7
    g = torch.Generator().manual_seed(9)
    n = 200_000
    comp = torch.multinomial(torch.tensor(W_MIX), n, replacement=True, generator=g)
    noise0 = torch.randn(n, 2, generator=g, dtype=F64)
    x0 = torch.tensor(M_MIX)[comp] + torch.tensor(S_MIX)[comp, None] * noise0
    eps = torch.randn(n, 2, generator=g, dtype=F64)
    xt = (a * x0 + math.sqrt(b2) * eps).requires_grad_(True)
    (score,) = torch.autograd.grad(_noised_mixture(a, b2).log_prob(xt).sum(), xt)
    xt = xt.detach()
    for s in (torch.ones_like(xt), xt, torch.tanh(2 * xt).flip(-1)):
        # LHS − RHS of eq-diffusion-dsm, sample by sample, minus the s-free part.
        cross = 2 * (s * (eps / math.sqrt(b2) + score)).sum(-1)
        assert _within(cross.numpy(), 0.0)
    # A wrong kernel score (σ off by 10 %) breaks the identity: the check has power.
    s = xt
    wrong = 2 * (s * (eps / (1.1 * math.sqrt(b2)) + score)).sum(-1)
    assert not _within(wrong.numpy(), 0.0)


# -- gan: thm-gan-fgan, thm-gan-fgan-js -------------------------------------------------------

F_GAN = {
    "KL": (lambda u: scipy.special.xlogy(u, u), lambda t: math.exp(t - 1)),
    "reverse KL": (lambda u: -math.log(u), lambda t: -1 - math.log(-t)),
    "GAN": (
        lambda u: scipy.special.xlogy(u, u) - scipy.special.xlogy(u + 1, u + 1),
        lambda t: -math.log(-math.expm1(t)),
    ),
}


@pytest.mark.parametrize("name", list(F_GAN))
def test_conjugates_are_suprema(name):
    f, fstar = F_GAN[name]
    for t in (-4.0, -1.0, -0.1):
        res = scipy.optimize.minimize_scalar(
            lambda v, t=t: -(math.exp(v) * t - f(math.exp(v))),
            bounds=(-30, 30),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert abs(-res.fun - fstar(t)) < 1e-8


def test_gan_value_is_the_js_fgan_bound():
    p, q = scipy.stats.norm(0.0, 1.0), scipy.stats.norm(-0.5, 0.7)

    def integral(h):
        return scipy.integrate.quad(h, -20, 20, points=[-0.5, 0.0], limit=400)[0]

    def js_term(x):
        lp, lq = p.logpdf(x), q.logpdf(x)
        lm = np.logaddexp(lp, lq) - math.log(2)
        return 0.5 * (math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm))

    js = integral(js_term)
    _, fstar = F_GAN["GAN"]

    def value(logit):  # V(D, G) with D = sigmoid(logit), and the f-GAN bound with T = log D
        log_d = lambda x: -np.logaddexp(0, -logit(x))  # noqa: E731
        log_1md = lambda x: -np.logaddexp(0, logit(x))  # noqa: E731  log(1 - D)
        v = integral(lambda x: p.pdf(x) * log_d(x) + q.pdf(x) * log_1md(x))
        bound = integral(lambda x: p.pdf(x) * log_d(x)) - integral(
            lambda x: q.pdf(x) * fstar(log_d(x))
        )
        return v, bound

    best, best_bound = value(lambda x: p.logpdf(x) - q.logpdf(x))  # D* of eq-gan-dstar
    assert abs(best - best_bound) < 1e-9
    assert abs(best - (2 * js - math.log(4))) < 1e-8
    for logit in (lambda x: 0.5 * x, lambda x: np.sin(x) - 0.3):
        v, bound = value(logit)
        assert abs(v - bound) < 1e-9 and v < best
