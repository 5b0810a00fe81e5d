"""companion.inference against independent references: SciPy's fits and distributions,
scikit-learn's GaussianMixture, closed forms (AR(1), Gaussian conditionals) and NumPy's linear
algebra."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from helpers import FAST, t64
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from torch.distributions import Bernoulli, Normal, Poisson

from companion import inference as inf

# == maximum likelihood =========================================================================


def test_mles_equal_scipy_fit():
    rng = np.random.default_rng(0)
    b = rng.binomial(1, 0.3, 300).astype(float)
    fit = stats.fit(stats.bernoulli, b, bounds={"p": (0, 1), "loc": (0, 0)}).params
    assert inf.mle_bernoulli(t64(b)).item() == pytest.approx(fit.p, abs=1e-6)
    k = rng.poisson(3.2, 300).astype(float)
    fit = stats.fit(stats.poisson, k, bounds={"mu": (0, 20), "loc": (0, 0)}).params
    assert inf.mle_poisson(t64(k)).item() == pytest.approx(fit.mu, abs=1e-6)
    g = rng.normal(1.5, 2.0, 300)
    loc, scale = stats.norm.fit(g)
    mu, sigma = inf.mle_gaussian(t64(g))
    assert mu.item() == pytest.approx(loc, abs=1e-12)
    assert sigma.item() == pytest.approx(scale, abs=1e-12)
    assert inf.mle_gaussian(t64(g), unbiased=True)[1].item() == pytest.approx(np.std(g, ddof=1))


def test_gaussian_variance_mle_bias_is_n_minus_1_over_n():
    rng = np.random.default_rng(1)
    n, reps = 5, 40_000
    x = rng.normal(0, 1.0, (reps, n))
    v = np.array([inf.mle_gaussian(t64(row))[1].item() ** 2 for row in x[:4000]])
    # E[σ̂²] = (n − 1)/n σ²; the standard error of the average of 4 000 values.
    se = v.std() / math.sqrt(len(v))
    assert abs(v.mean() - (n - 1) / n) < 4 * se


def test_simulate_mle_matches_the_exact_sampling_laws():
    # Poisson: n λ̂ ~ Poisson(n λ), a chi-square test on the counts. Gaussian: n σ̂²/σ² ~ χ²_{n−1}.
    n, reps = 6, 20_000
    lam = inf.simulate_mle("poisson", 2.0, n, reps, seed=1).numpy()
    totals = np.round(n * lam).astype(int)
    ks = np.arange(0, 25)
    observed = np.array([(totals == k).sum() for k in ks[:-1]] + [(totals >= ks[-1]).sum()])
    law = stats.poisson(n * 2.0)
    expected = reps * np.r_[law.pmf(ks[:-1]), law.sf(ks[-1] - 1)]
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    sig = inf.simulate_mle("gaussian_sigma", 1.5, n, reps, seed=3).numpy()
    assert stats.kstest(n * sig**2 / 1.5**2, stats.chi2(n - 1).cdf).pvalue > 1e-3
    torch.manual_seed(0)
    expected_draw = torch.rand(1)
    torch.manual_seed(0)
    inf.simulate_mle("poisson", 2.0, 5, 10)
    assert torch.equal(torch.rand(1), expected_draw)


def _score_variance(dist_fn, theta, support):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    logp = dist_fn(t).log_prob(support)
    grads = torch.stack([torch.autograd.grad(lp, t, retain_graph=True)[0] for lp in logp])
    return float((logp.exp().detach() * grads**2).sum())


@pytest.mark.parametrize("theta", [0.1, 0.5, 0.8])
def test_fisher_information_bernoulli_and_poisson_against_autograd(theta):
    want = _score_variance(lambda p: Bernoulli(probs=p), theta, t64([0.0, 1.0]))
    assert inf.fisher_information("bernoulli", theta).item() == pytest.approx(want, rel=1e-10)
    lam = 10 * theta
    want = _score_variance(lambda r: Poisson(r), lam, t64(np.arange(0, 200)))
    assert inf.fisher_information("poisson", lam).item() == pytest.approx(want, rel=1e-10)


def test_fisher_information_gaussian_against_quadrature():
    nodes, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    for sigma in (0.5, 2.0):
        x = t64(sigma * nodes)  # quadrature for E under N(0, σ²)
        s = torch.tensor(sigma, dtype=torch.float64, requires_grad=True)
        m = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        lp = Normal(m, s).log_prob(x)
        gs = torch.stack([torch.autograd.grad(v, (m, s), retain_graph=True)[1] for v in lp])
        want = float((t64(w) * gs**2).sum())
        assert inf.fisher_information("gaussian_sigma", sigma).item() == pytest.approx(want)
    assert inf.fisher_information("gaussian_mean", 3.0).item() == 1.0


def test_map_bernoulli_maximises_the_posterior():
    x = t64([1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0])
    k, n = int(x.sum()), len(x)
    res = optimize.minimize_scalar(
        lambda p: -(stats.binom.logpmf(k, n, p) + stats.beta.logpdf(p, 3, 2)),
        bounds=(1e-6, 1 - 1e-6),
        method="bounded",
        options=dict(xatol=1e-10),
    )
    assert inf.map_bernoulli(x, 3, 2).item() == pytest.approx(res.x, abs=1e-7)


@pytest.mark.parametrize(
    ("call", "err"),
    [
        (lambda: inf.mle_bernoulli(t64([0.0, 0.5])), ValueError),
        (lambda: inf.mle_poisson(t64([1.0, -1.0])), ValueError),
        (lambda: inf.mle_poisson(t64([1.5])), ValueError),
        (lambda: inf.mle_gaussian(t64([1.0, float("nan")])), ValueError),
        (lambda: inf.mle_gaussian(t64([1.0, float("inf")])), ValueError),
        (lambda: inf.mle_gaussian(torch.tensor([1, 2])), TypeError),
        (lambda: inf.mle_gaussian([1.0, 2.0]), TypeError),
        (lambda: inf.mle_gaussian(t64([])), ValueError),
        (lambda: inf.mle_gaussian(t64([1.0]), unbiased=True), ValueError),
        (lambda: inf.fisher_information("bernoulli", 1.5), ValueError),
        (lambda: inf.fisher_information("poisson", 0.0), ValueError),
        (lambda: inf.fisher_information("cauchy", 1.0), ValueError),
        (lambda: inf.map_bernoulli(t64([1.0]), 1.0, 2.0), ValueError),
        (lambda: inf.simulate_mle("cauchy", 1.0, 10, 10), ValueError),
        (lambda: inf.simulate_mle("poisson", -1.0, 10, 10), ValueError),
        (lambda: inf.simulate_mle("poisson", 1.0, 1, 10), ValueError),
        (lambda: inf.simulate_mle("poisson", 1.0, 10**6, 10**6), ValueError),
        (lambda: inf.simulate_mle("poisson", 1.0, 10.5, 10), TypeError),
    ],
)
def test_mle_bad_input(call, err):
    with pytest.raises(err):
        call()


# == EM ==========================================================================================


def _mixture_data(seed: int, n: int = 240) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (3, 2))
    labels = rng.integers(0, 3, n)
    scales = rng.uniform(0.4, 1.2, (3, 2))
    return centres[labels] + scales[labels] * rng.normal(size=(n, 2))


@pytest.mark.parametrize(("seed", "reg"), [(0, 0.0), (1, 0.0), (2, 1e-6)])
def test_em_equals_sklearn_iteration_by_iteration(seed, reg):
    x = _mixture_data(seed)
    xt = t64(x)
    init = inf._random_init(xt, 3, seed)
    fit = inf.gmm_em(xt, 3, init=init, steps=15, reg=reg)
    gm = GaussianMixture(
        3,
        covariance_type="full",
        reg_covar=reg,
        max_iter=1,
        tol=0.0,
        warm_start=True,
        weights_init=init.weights.numpy(),
        means_init=init.means.numpy(),
        precisions_init=np.linalg.inv(init.covs.numpy()),
    )
    assert fit.log_likelihood.shape == (16,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for t in range(1, 16):
            gm.fit(x)  # one more E- and M-step from where the previous call stopped
            p = fit.history[t]
            np.testing.assert_allclose(p.weights.numpy(), gm.weights_, rtol=0, atol=1e-8)
            np.testing.assert_allclose(p.means.numpy(), gm.means_, rtol=0, atol=1e-8)
            np.testing.assert_allclose(p.covs.numpy(), gm.covariances_, rtol=0, atol=1e-8)
            assert fit.log_likelihood[t].item() == pytest.approx(gm.score(x), abs=1e-8)
    resp = inf.gmm_responsibilities(xt, fit.params).numpy()
    np.testing.assert_allclose(resp, gm.predict_proba(x), atol=1e-8)


@FAST
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 3))
def test_em_log_likelihood_never_decreases(seed, k, d):
    rng = np.random.default_rng(seed)
    n = 40 + 10 * k
    x = t64(rng.standard_t(4, (n, d)) + rng.integers(0, 3, (n, 1)) * 3.0)
    fit = inf.gmm_em(x, k, steps=25, seed=seed, reg=1e-6)
    ll = fit.log_likelihood
    assert torch.isfinite(ll).all()
    assert (ll[1:] - ll[:-1] >= -1e-10).all()


def test_em_leaves_the_global_generator_alone():
    x = t64(_mixture_data(3))
    torch.manual_seed(7)
    expected = torch.rand(1)
    torch.manual_seed(7)
    inf.gmm_em(x, 3, steps=3, seed=5)
    assert torch.equal(torch.rand(1), expected)


def test_em_bad_input():
    x = t64(_mixture_data(0, 30))
    with pytest.raises(ValueError, match="init"):
        inf.gmm_em(x, 2, init="kmeans")
    with pytest.raises(ValueError, match="at least"):
        inf.gmm_em(x, 31)
    with pytest.raises(ValueError, match="reg"):
        inf.gmm_em(x, 2, reg=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        inf.gmm_em(x.clone().fill_(float("nan")), 2)
    bad = inf.GMMParams(
        t64([0.6, 0.6]), t64([[0.0, 0.0], [1.0, 1.0]]), torch.eye(2).double()[None].repeat(2, 1, 1)
    )
    with pytest.raises(ValueError, match="sum to 1"):
        inf.gmm_em(x, 2, init=bad)
    mis = inf.GMMParams(t64([0.5, 0.5]), t64([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), bad.covs)
    with pytest.raises(ValueError, match="agree"):
        inf.gmm_em(x, 2, init=mis)
    nonspd = inf.GMMParams(t64([0.5, 0.5]), bad.means, -bad.covs)
    with pytest.raises(ValueError, match="positive definite"):
        inf.gmm_em(x, 2, init=nonspd)
    with pytest.raises(ValueError, match="collapsed"):
        inf.gmm_m_step(x, torch.zeros(30, 2, dtype=torch.float64))


# == MCMC: stationary laws with ESS-based tolerances =============================================

KS_CRIT = stats.kstwobign.ppf(1 - 1e-3)  # asymptotic KS critical value at level 0.001


def _ks_against(samples: torch.Tensor, cdf) -> None:
    """KS test of pooled chains ``(steps, chains)`` with the sample size replaced by the
    effective sample size of the least efficient of the statistics x, 1{x ≤ median}."""
    ind = (samples <= samples.median()).double()
    ess = min(inf.effective_sample_size(samples).item(), inf.effective_sample_size(ind).item())
    assert ess > 200, ess
    d = stats.kstest(samples.flatten().numpy(), cdf).statistic
    assert d < KS_CRIT / math.sqrt(ess), (d, KS_CRIT / math.sqrt(ess), ess)


def _bimodal_log_prob(z):
    return torch.logsumexp(
        torch.stack([Normal(-1.5, 0.7).log_prob(z[:, 0]), Normal(1.5, 0.7).log_prob(z[:, 0])]),
        0,
    )


def _bimodal_cdf(v):
    return 0.5 * (stats.norm.cdf(v, -1.5, 0.7) + stats.norm.cdf(v, 1.5, 0.7))


def _start(chains: int, scale: float = 3.0, seed: int = 11) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(chains, 1, dtype=torch.float64, generator=gen)


def test_mh_gaussian_and_bimodal_targets():
    gauss = inf.metropolis_hastings(
        lambda z: Normal(1.0, 2.0).log_prob(z[:, 0]), _start(32), steps=2500, scale=4.0, seed=1
    )
    _ks_against(gauss.samples[500:, :, 0], stats.norm(1.0, 2.0).cdf)
    bim = inf.metropolis_hastings(_bimodal_log_prob, _start(32), steps=2500, scale=2.5, seed=2)
    _ks_against(bim.samples[500:, :, 0], _bimodal_cdf)
    assert 0.2 < bim.acceptance.mean().item() < 0.8


def test_mala_gaussian_and_bimodal_targets():
    out = inf.mala(
        lambda z: Normal(1.0, 2.0).log_prob(z[:, 0]), _start(32), steps=1500, step_size=1.0
    )
    _ks_against(out.samples[300:, :, 0], stats.norm(1.0, 2.0).cdf)
    bim = inf.mala(_bimodal_log_prob, _start(32), steps=2000, step_size=0.4, seed=3)
    _ks_against(bim.samples[400:, :, 0], _bimodal_cdf)


def test_mala_is_exact_where_unadjusted_langevin_is_biased():
    # On N(0, 1) with η = 0.8 the unadjusted chain has variance 1/(1 − η/2) = 5/3; MALA keeps 1.
    out = inf.mala(
        lambda z: Normal(0.0, 1.0).log_prob(z).sum(1), _start(64, 1.0), steps=1500, step_size=0.8
    )
    s = out.samples[200:, :, 0]
    ess = inf.effective_sample_size(s**2).item()
    # sd of x² under N(0, 1) is √2.
    assert abs((s**2).mean().item() - 1.0) < 4 * math.sqrt(2 / ess)


def test_gibbs_bivariate_gaussian_law_and_exact_autocorrelation():
    rho = 0.8
    mean = t64([1.0, -2.0])
    cov = t64([[1.0, rho * 1.5], [rho * 1.5, 2.25]])
    x0 = torch.zeros(16, 2, dtype=torch.float64)
    out = inf.gibbs_gaussian(mean, cov, x0, steps=3000, seed=4)
    s = out.samples[100:]
    _ks_against(s[:, :, 0], stats.norm(1.0, 1.0).cdf)
    _ks_against(s[:, :, 1], stats.norm(-2.0, 1.5).cdf)
    # The first coordinate of a systematic-scan Gibbs chain is AR(1) with coefficient ρ².
    acf = inf.autocorrelation(s[:, :, 0], max_lag=3).mean(1)
    ess = inf.effective_sample_size(s[:, :, 0]).item()
    assert abs(acf[1].item() - rho**2) < 4 / math.sqrt(ess)
    # The correlation of the pooled draws: sd of a sample correlation ≈ (1 − ρ²)/√n_eff.
    r = np.corrcoef(s[:, :, 0].flatten(), s[:, :, 1].flatten())[0, 1]
    assert abs(r - rho) < 4 * (1 - rho**2) / math.sqrt(ess)


def test_samplers_leave_the_global_generator_alone_and_are_seeded():
    lp = lambda z: Normal(0.0, 1.0).log_prob(z).sum(1)  # noqa: E731
    for run in (
        lambda: inf.metropolis_hastings(lp, _start(4), steps=20, seed=3),
        lambda: inf.mala(lp, _start(4), steps=20, seed=3),
        lambda: inf.gibbs_gaussian(
            t64([0.0, 0.0]), torch.eye(2).double(), torch.zeros(4, 2).double(), steps=20, seed=3
        ),
    ):
        torch.manual_seed(0)
        expected = torch.rand(1)
        torch.manual_seed(0)
        a = run()
        assert torch.equal(torch.rand(1), expected)
        assert torch.equal(a.samples, run().samples)


def test_mh_per_chain_scales():
    lp = lambda z: Normal(0.0, 1.0).log_prob(z).sum(1)  # noqa: E731
    out = inf.metropolis_hastings(
        lp, torch.zeros(3, 1).double(), steps=2000, scale=t64([0.1, 2.4, 30.0])
    )
    acc = out.acceptance
    assert acc[0] > acc[1] > acc[2]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda lp: inf.metropolis_hastings(lp, torch.zeros(2, 1).double(), steps=5, scale=0.0),
            "scale",
        ),
        (
            lambda lp: inf.metropolis_hastings(lp, torch.zeros(2, 1).double(), steps=5, scale=-1.0),
            "scale",
        ),
        (
            lambda lp: inf.metropolis_hastings(
                lp, torch.zeros(2, 1).double(), steps=5, scale=t64([1.0, 1.0, 1.0])
            ),
            "one value per chain",
        ),
        (lambda lp: inf.metropolis_hastings(lp, torch.zeros(2).double(), steps=5), "dimension"),
        (
            lambda lp: inf.metropolis_hastings(lp, torch.zeros(2, 1, dtype=torch.int64), steps=5),
            "floating",
        ),
        (
            lambda lp: inf.metropolis_hastings(
                lp, torch.full((2, 1), float("nan")).double(), steps=5
            ),
            "NaN",
        ),
        (
            lambda lp: inf.metropolis_hastings(lambda z: z, torch.zeros(2, 1).double(), steps=5),
            "log_prob must map",
        ),
        (
            lambda lp: inf.metropolis_hastings(
                lambda z: torch.log(z[:, 0]), -torch.ones(2, 1).double(), steps=5
            ),
            "NaN",
        ),
        (lambda lp: inf.metropolis_hastings(lp, torch.zeros(2, 1).double(), steps=0), ">= 1"),
        (lambda lp: inf.mala(lp, torch.zeros(10**4, 1).double(), steps=10**6), "fewer steps"),
        (
            lambda lp: inf.gibbs_gaussian(
                t64([0.0]), t64([[1.0]]), torch.zeros(10**4, 1).double(), steps=10**6
            ),
            "fewer steps",
        ),
        (
            lambda lp: inf.mala(lp, torch.zeros(2, 1).double(), steps=5, step_size=float("inf")),
            "finite",
        ),
        (lambda lp: inf.mala("no", torch.zeros(2, 1).double(), steps=5), "callable"),
        (
            lambda lp: inf.gibbs_gaussian(
                t64([0.0, 0.0]), t64([[1.0, 2.0], [2.0, 1.0]]), torch.zeros(2, 2).double(), steps=5
            ),
            "positive definite",
        ),
        (
            lambda lp: inf.gibbs_gaussian(
                t64([0.0, 0.0]), torch.eye(2).double(), torch.zeros(2, 3).double(), steps=5
            ),
            "agree",
        ),
    ],
)
def test_sampler_bad_input(call, match):
    lp = lambda z: Normal(0.0, 1.0).log_prob(z).sum(1)  # noqa: E731
    with pytest.raises((ValueError, TypeError), match=match):
        call(lp)


# == autocorrelation and ESS =====================================================================


def _ar1(rho: float, n: int, chains: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, chains))
    x = np.empty_like(e)
    x[0] = e[0] / math.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + e[t]
    return x


def test_autocorrelation_against_direct_sums():
    x = _ar1(0.6, 500, 3, 0)
    got = inf.autocorrelation(t64(x), max_lag=20).numpy()
    for j in range(3):
        c = x[:, j] - x[:, j].mean()
        direct = np.array([np.dot(c[: 500 - k], c[k:]) for k in range(21)]) / np.dot(c, c)
        np.testing.assert_allclose(got[:, j], direct, atol=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ess_of_ar1_matches_n_1_minus_rho_over_1_plus_rho(rho):
    n, reps = 4000, 60
    x = _ar1(rho, n, reps, seed=int(rho * 10))
    ess = np.array([inf.effective_sample_size(t64(x[:, j])).item() for j in range(reps)])
    exact = n * (1 - rho) / (1 + rho)
    spread = ess.std()  # the sampling error of one chain's estimate
    assert abs(np.median(ess) - exact) < spread, (np.median(ess), exact, spread)
    assert np.all(np.abs(ess - exact) < 5 * spread)
    # Pooled over chains: the ESS adds up.
    pooled = inf.effective_sample_size(t64(x)).item()
    assert abs(pooled - reps * exact) < 5 * spread * math.sqrt(reps)


def test_autocorrelation_bad_input():
    with pytest.raises(ValueError, match="at least 4"):
        inf.autocorrelation(t64([1.0, 2.0]))
    with pytest.raises(ValueError, match="constant"):
        inf.effective_sample_size(torch.ones(10, dtype=torch.float64))
    with pytest.raises(ValueError, match="max_lag"):
        inf.autocorrelation(t64(np.arange(10.0)), max_lag=10)
    with pytest.raises(ValueError, match="dimension"):
        inf.autocorrelation(torch.zeros(5, 2, 2, dtype=torch.float64))


# == Markov chains ===============================================================================


@FAST
@given(st.integers(0, 10_000), st.integers(2, 7))
def test_stationary_distribution_power_iteration_and_solve(seed, m):
    rng = np.random.default_rng(seed)
    p = rng.gamma(0.7, size=(m, m)) + 0.05
    p /= p.sum(1, keepdims=True)
    pi = inf.stationary_distribution(t64(p)).numpy()
    power = np.linalg.matrix_power(p, 4096)[0]
    a = np.vstack([p.T - np.eye(m), np.ones(m)])
    solve = np.linalg.lstsq(a, np.r_[np.zeros(m), 1.0], rcond=None)[0]
    np.testing.assert_allclose(pi, power, atol=1e-12)
    np.testing.assert_allclose(pi, solve, atol=1e-12)
    eig = np.sort(np.abs(np.linalg.eigvals(p)))[::-1]
    assert inf.spectral_gap(t64(p)).item() == pytest.approx(1 - eig[1], abs=1e-12)
    p0 = np.eye(m)[0]
    ev = inf.evolve(t64(p), t64(p0), 5).numpy()
    np.testing.assert_allclose(ev[5], p0 @ np.linalg.matrix_power(p, 5), atol=1e-14)


def test_two_state_chain_closed_forms_and_reversibility():
    a, b = 0.3, 0.1
    p = t64([[1 - a, a], [b, 1 - b]])
    np.testing.assert_allclose(inf.stationary_distribution(p).numpy(), [b / (a + b), a / (a + b)])
    assert inf.spectral_gap(p).item() == pytest.approx(a + b)  # λ₂ = 1 − a − b
    # Every two-state chain is reversible; a chain that cycles 0 → 1 → 2 → 0 is not.
    assert inf.is_reversible(p)
    cyc = t64([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    assert not inf.is_reversible(cyc)


@pytest.mark.parametrize(
    ("p", "match"),
    [
        (t64([[0.5, 0.6], [0.5, 0.5]]), "sum to 1"),
        (t64([[1.2, -0.2], [0.5, 0.5]]), ">= 0"),
        (t64([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]), "square"),
        (t64([[1.0, 0.0], [0.0, 1.0]]), "more than one stationary"),
        (torch.tensor([[1, 0], [0, 1]]), "floating"),
        (t64([[float("nan"), 1.0], [0.5, 0.5]]), "NaN"),
    ],
)
def test_transition_matrix_bad_input(p, match):
    with pytest.raises((ValueError, TypeError), match=match):
        inf.stationary_distribution(p)


def test_evolve_bad_input():
    p = t64([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="shape"):
        inf.evolve(p, t64([0.2, 0.3, 0.5]), 3)
    with pytest.raises(ValueError, match="sum to 1"):
        inf.evolve(p, t64([0.2, 0.3]), 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_samplers_and_em_on_cuda():
    dev = torch.device("cuda")
    lp = lambda z: Normal(0.0, 1.0).log_prob(z).sum(1)  # noqa: E731
    x0 = torch.zeros(256, 1, dtype=torch.float64, device=dev)
    for out in (
        inf.metropolis_hastings(lp, x0, steps=400, scale=2.4),
        inf.mala(lp, x0, steps=400, step_size=0.5),
        inf.gibbs_gaussian(
            t64([0.0, 0.0]).to(dev),
            torch.eye(2, dtype=torch.float64, device=dev),
            torch.zeros(256, 2, dtype=torch.float64, device=dev),
            steps=400,
        ),
    ):
        assert out.samples.device.type == "cuda"
        s = out.samples[100:, :, 0]
        assert abs(s.var().item() - 1.0) < 0.1
    x = t64(_mixture_data(0))
    init = inf._random_init(x, 3, 0)
    on_gpu = inf.GMMParams(*(t.to(dev) for t in (init.weights, init.means, init.covs)))
    cpu = inf.gmm_em(x, 3, init=init, steps=10)
    gpu = inf.gmm_em(x.to(dev), 3, init=on_gpu, steps=10)
    torch.testing.assert_close(gpu.log_likelihood.cpu(), cpu.log_likelihood, atol=1e-10, rtol=0)
    pi = inf.stationary_distribution(torch.tensor([[0.9, 0.1], [0.3, 0.7]], device=dev).double())
    torch.testing.assert_close(pi.cpu(), t64([0.75, 0.25]))


# == exercise checks =============================================================================


def test_exercise_checks_accept_right_and_reject_wrong_answers(capsys):
    from companion.exercises import CheckFailed
    from companion.exercises import inference as checks

    def right_resp(x, w, mu, cov):
        comp = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
        return torch.softmax(comp.log_prob(x[:, None, :]) + w.log(), dim=1)

    def unnormalised(x, w, mu, cov):
        comp = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
        return (comp.log_prob(x[:, None, :]) + w.log()).exp()

    def forgot_weights(x, w, mu, cov):
        comp = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
        return torch.softmax(comp.log_prob(x[:, None, :]), dim=1)

    assert checks.check_responsibilities(right_resp)
    assert capsys.readouterr().out.startswith("Correct")
    for wrong in (unnormalised, forgot_weights, lambda *a: 1 / 0, "not a function"):
        with pytest.raises(CheckFailed):
            checks.check_responsibilities(wrong)

    def right_pi(p):
        return inf.stationary_distribution(p)

    def right_eigenvector(p):  # the classic slip: eigenvector of P instead of P transposed
        evals, evecs = torch.linalg.eig(p)
        v = evecs[:, torch.argmin((evals - 1).abs())].real
        return v / v.sum()

    assert checks.check_stationary(right_pi)
    for wrong in (right_eigenvector, lambda p: p[0], lambda p: torch.ones(p.shape[0])):
        with pytest.raises(CheckFailed):
            checks.check_stationary(wrong)


# == moved from explore/inference.py ==


def test_chain_diagnostics_acf_against_numpy_and_stuck_chains():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 4, generator=g, dtype=torch.float64).cumsum(0) * 0.1
    x = x + torch.randn(300, 4, generator=g, dtype=torch.float64)
    d = inf.chain_diagnostics(x, burn=20, max_lag=10)
    kept = x[20:].numpy()
    c = kept - kept.mean(0)
    n = c.shape[0]
    ref = np.stack([(c[: n - k] * c[k:]).sum(0) for k in range(11)])
    ref = (ref / ref[0]).mean(1)
    np.testing.assert_allclose(d["acf"].numpy(), ref, rtol=1e-10)
    assert d["draws"] == 280 * 4 and 0 < d["ess"] < 280 * 4
    stuck = x.clone()
    stuck[:, 2] = 1.0
    d2 = inf.chain_diagnostics(stuck, burn=20, max_lag=10)
    assert d2["ess"] == 0.0 and torch.equal(d2["acf"], torch.ones(11, dtype=torch.float64))
    with pytest.raises(ValueError, match="max_lag"):
        inf.chain_diagnostics(x, burn=295, max_lag=10)


def test_mixture_1d_log_prob_against_scipy():
    z = torch.linspace(-4, 4, 33, dtype=torch.float64)[:, None]
    got = inf.mixture_1d_log_prob(z, torch.tensor([-1.5, 1.5]), 0.7)
    ref = np.log(0.5 * stats.norm.pdf(z[:, 0], -1.5, 0.7) + 0.5 * stats.norm.pdf(z[:, 0], 1.5, 0.7))
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12)
