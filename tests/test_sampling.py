"""companion.sampling: estimators against exact values with tolerances from their standard errors,
MGFs against SciPy, push-forward densities against known laws, Gaussian conditioning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FAST, t64
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats
from torch.distributions import Exponential, Gamma, Normal, Poisson

from companion import sampling as smp

Z = 4.0  # every statistical check: |estimate - exact| < Z standard errors (false alarm ~6e-5)


def std_normal():
    return Normal(t64(0.0), t64(1.0))


# --- Monte Carlo and importance sampling --------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "exact", "var"),
    [
        (lambda x: x, 0.0, 1.0),
        (lambda x: x**2, 1.0, 2.0),
        (lambda x: torch.exp(x), math.e**0.5, math.e**2 - math.e),
    ],
)
def test_monte_carlo_unbiased_with_correct_standard_error(f, exact, var):
    torch.manual_seed(0)
    n = 50_000
    res = smp.monte_carlo(f, std_normal(), n)
    se = math.sqrt(var / n)  # the exact standard error, not the estimated one
    assert abs(res.estimate.item() - exact) < Z * se
    assert res.std_error.item() == pytest.approx(se, rel=0.1)
    assert res.ess == n and res.n == n


def test_importance_sampling_exact_for_the_optimal_proposal():
    # p = Exp(1), f(x) = x, q = Gamma(2, 1) = x e^{-x} = f p / E_p f: every term w f equals 1.
    torch.manual_seed(0)
    res = smp.importance_sampling(
        lambda x: x, Exponential(t64(1.0)), Gamma(t64(2.0), t64(1.0)), 1000
    )
    assert res.estimate.item() == pytest.approx(1.0, abs=1e-12)
    assert res.std_error.item() < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importance_sampling_rare_event_unbiased(seed):
    torch.manual_seed(seed)
    exact = stats.norm.sf(4.0)
    n = 20_000
    res = smp.importance_sampling(
        lambda x: (x > 4).double(), std_normal(), Normal(t64(4.5), t64(1.0)), n
    )
    # Exact per-sample second moment by quadrature: E_q[w^2 f^2] = int_4^inf p^2 / q.
    m2 = integrate.quad(
        lambda x: stats.norm.pdf(x) ** 2 / stats.norm.pdf(x, 4.5, 1.0),
        4,
        30,
        epsabs=0,
        epsrel=1e-10,
    )[0]
    se = math.sqrt((m2 - exact**2) / n)
    assert abs(res.estimate.item() - exact) < Z * se
    assert res.std_error.item() == pytest.approx(se, rel=0.25)


def test_self_normalised_importance_sampling_with_unnormalised_target():
    torch.manual_seed(0)
    target = Normal(t64(1.0), t64(0.5))

    def log_p(x):
        return target.log_prob(x) + 7.0  # known only up to a constant

    n = 100_000
    res = smp.importance_sampling(
        lambda x: x, log_p, Normal(t64(0.0), t64(2.0)), n, self_normalized=True
    )
    assert abs(res.estimate.item() - 1.0) < Z * res.std_error.item()
    assert 1 < res.ess < n


def test_effective_sample_size_limits():
    assert smp.effective_sample_size(torch.zeros(50, dtype=torch.float64)).item() == pytest.approx(
        50
    )
    lw = torch.tensor([0.0, -800.0, -900.0], dtype=torch.float64)
    assert smp.effective_sample_size(lw).item() == pytest.approx(1.0)
    assert (
        smp.effective_sample_size(torch.tensor([0.0, -math.inf], dtype=torch.float64)).item() == 1.0
    )


@FAST
@given(st.lists(st.floats(-30, 30), min_size=2, max_size=40), st.floats(-500, 500))
def test_ess_between_one_and_n_and_scale_invariant(values, shift):
    lw = t64(values)
    ess = smp.effective_sample_size(lw).item()
    assert 1 - 1e-9 <= ess <= len(values) + 1e-9
    assert smp.effective_sample_size(lw + shift).item() == pytest.approx(ess, rel=1e-9)


# --- gradient estimators ---------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["score", "reparam"])
@pytest.mark.parametrize(("mu", "sigma"), [(1.0, 1.0), (-0.5, 2.0)])
def test_gradient_estimators_unbiased(estimator, mu, sigma):
    # d/dmu E[z^2] = 2 mu and d/dsigma E[z^2] = 2 sigma, from E[z^2] = mu^2 + sigma^2.
    torch.manual_seed(3)
    fn = smp.score_function_gradient if estimator == "score" else smp.reparameterization_gradient
    g = fn(lambda z: z**2, Normal, (t64(mu), t64(sigma)), 200_000)
    for k, exact in enumerate((2 * mu, 2 * sigma)):
        assert abs(g.gradient[k].item() - exact) < Z * g.std_error[k].item(), (k, g.gradient[k])
    assert g.per_sample[0].shape == (200_000,)


def test_gradient_per_sample_variances_match_closed_forms():
    torch.manual_seed(4)
    n = 400_000
    sf = smp.score_function_gradient(lambda z: z**2, Normal, (t64(1.0), t64(1.0)), n).per_sample[0]
    rp = smp.reparameterization_gradient(
        lambda z: z**2, Normal, (t64(1.0), t64(1.0)), n
    ).per_sample[0]
    for terms, exact in ((sf, 30.0), (rp, 4.0)):
        m4 = ((terms - terms.mean()) ** 4).mean().item()
        se = math.sqrt((m4 - terms.var().item() ** 2) / n)  # standard error of a sample variance
        assert abs(terms.var().item() - exact) < Z * se


def test_score_function_works_for_discrete_and_baseline_keeps_the_mean():
    # Poisson(rate): d/drate E[Z] = 1. No reparameterisation exists for it.
    torch.manual_seed(5)
    g = smp.score_function_gradient(lambda z: z, Poisson, t64(3.0), 200_000)
    assert abs(g.gradient[0].item() - 1.0) < Z * g.std_error[0].item()
    gb = smp.score_function_gradient(lambda z: z, Poisson, t64(3.0), 200_000, baseline=3.0)
    assert abs(gb.gradient[0].item() - 1.0) < Z * gb.std_error[0].item()
    assert gb.std_error[0].item() < g.std_error[0].item()  # the mean is the optimal-ish baseline
    with pytest.raises(ValueError, match="rsample"):
        smp.reparameterization_gradient(lambda z: z, Poisson, t64(3.0), 10)


def test_gradient_against_autograd_of_a_closed_form_multivariate():
    # E||z||^2 for z ~ N(m, diag(s^2)) is ||m||^2 + ||s||^2; its gradient by autograd.
    torch.manual_seed(6)
    m = t64([0.5, -1.0, 2.0])
    s = t64([1.0, 0.5, 1.5])
    mm, ss = m.clone().requires_grad_(), s.clone().requires_grad_()
    (mm.square().sum() + ss.square().sum()).backward()

    def make(loc, scale):
        return torch.distributions.Independent(Normal(loc, scale), 1)

    g = smp.reparameterization_gradient(lambda z: z.square().sum(-1), make, (m, s), 100_000)
    for est, se, exact in zip(g.gradient, g.std_error, (mm.grad, ss.grad), strict=True):
        assert torch.all((est - exact).abs() < Z * se + 1e-12)


# --- moment generating functions --------------------------------------------------------------

CASES = {
    "normal": (dict(loc=0.5, scale=1.5), stats.norm(0.5, 1.5)),
    "bernoulli": (dict(probs=0.3), stats.bernoulli(0.3)),
    "binomial": (dict(total_count=7.0, probs=0.4), stats.binom(7, 0.4)),
    "poisson": (dict(rate=2.5), stats.poisson(2.5)),
    "uniform": (dict(low=-1.0, high=3.0), stats.uniform(-1, 4)),
    "gamma": (dict(concentration=2.5, rate=2.0), stats.gamma(2.5, scale=0.5)),
    "beta": (dict(concentration1=2.0, concentration0=5.0), stats.beta(2, 5)),
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_mgf_moments_match_scipy(family):
    params, ref = CASES[family]
    m1, m2, m3 = smp.moments_from_mgf(family, 3, **params)
    assert m1 == pytest.approx(ref.moment(1), rel=1e-9, abs=1e-12)
    assert m2 == pytest.approx(ref.moment(2), rel=1e-9)
    assert m3 == pytest.approx(ref.moment(3), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("family", sorted(CASES))
@pytest.mark.parametrize("t", [-0.7, 0.3, 1.2])
def test_mgf_matches_expectation_of_exp(family, t):
    params, ref = CASES[family]
    got = smp.mgf(family, t64(t), **params).item()
    if family == "gamma" and t >= params["rate"]:
        assert math.isinf(got)
        return
    # Finite bounds keep exp(t x) from overflowing; the mass outside them is below 1e-100.
    bounds = {"normal": (-60, 60), "gamma": (0, 400)}.get(family, (None, None))
    expected = ref.expect(lambda x: np.exp(t * x), lb=bounds[0], ub=bounds[1])
    assert got == pytest.approx(expected, rel=1e-7)


def test_mgf_gamma_diverges_beyond_the_rate_and_sampled_moments_agree():
    assert math.isinf(smp.mgf("gamma", t64(2.0), concentration=1.0, rate=2.0).item())
    torch.manual_seed(7)
    x = Gamma(t64(2.5), t64(2.0)).sample((400_000,))
    m1, m2 = smp.moments_from_mgf("gamma", 2, concentration=2.5, rate=2.0)
    for k, m in ((1, m1), (2, m2)):
        xk = x**k
        assert abs(xk.mean().item() - m) < Z * xk.std().item() / math.sqrt(len(x))


def test_mgf_bad_input():
    with pytest.raises(ValueError, match="family"):
        smp.mgf("cauchy", t64(0.0), loc=0.0, scale=1.0)
    with pytest.raises(ValueError, match="parameters"):
        smp.mgf("normal", t64(0.0), mean=0.0, scale=1.0)
    with pytest.raises(ValueError, match="rate"):
        smp.mgf("gamma", t64(0.0), concentration=1.0, rate=-1.0)
    with pytest.raises(ValueError, match="probs"):
        smp.mgf("bernoulli", t64(0.0), probs=1.5)
    with pytest.raises(TypeError):
        smp.mgf("normal", 0.0, loc=0.0, scale=1.0)
    with pytest.raises(ValueError, match="low < high"):
        smp.mgf("uniform", t64(0.0), low=1.0, high=1.0)


# --- push-forward densities ------------------------------------------------------------------


def test_pushforward_known_laws():
    y = t64(np.linspace(0.05, 8, 80))
    base = std_normal()
    lognormal = smp.pushforward_density(torch.exp, base.log_prob, y)
    chi2 = smp.pushforward_density(torch.square, base.log_prob, y)
    np.testing.assert_allclose(lognormal.numpy(), stats.lognorm(1).pdf(y.numpy()), rtol=1e-9)
    np.testing.assert_allclose(chi2.numpy(), stats.chi2(1).pdf(y.numpy()), rtol=1e-9)
    # Below the range of x^2 there is no preimage.
    assert smp.pushforward_density(torch.square, base.log_prob, t64([-1.0, -0.1])).eq(0).all()


@FAST
@given(st.floats(-3, 3).filter(lambda a: abs(a) > 0.1), st.floats(-2, 2))
def test_pushforward_affine_is_gaussian(a, b):
    # Points whose preimage lies inside the default support [-10, 10] (outside it: 0 by design).
    y = t64(b + a * np.linspace(-8, 8, 25))
    got = smp.pushforward_density(lambda x: a * x + b, std_normal().log_prob, y)
    np.testing.assert_allclose(
        got.numpy(), stats.norm(b, abs(a)).pdf(y.numpy()), rtol=1e-9, atol=1e-300
    )


def _cdf_of_pushforward(f, base, y_min, y_max, cells=20_000):
    """Cumulative midpoint integral of p_Y over u, y = y_min + u^2 (smooth at a turning point)."""
    du = math.sqrt(y_max - y_min) / cells
    u = (np.arange(cells) + 0.5) * du
    dens = smp.pushforward_density(f, base.log_prob, t64(y_min + u**2)).numpy()
    cdf = np.cumsum(dens * 2 * u * du)
    right = y_min + (u + du / 2) ** 2
    return lambda v: np.interp(v, right, cdf, left=0.0, right=1.0), cdf[-1]


@pytest.mark.parametrize(
    ("f", "y_min"),
    [
        (lambda x: 0.4 * x + 0.6 * x**2, -(0.4**2) / (4 * 0.6)),  # two preimages, turning point
        (lambda x: torch.exp(x), 0.0),
    ],
)
def test_pushforward_integrates_to_one_and_passes_ks(f, y_min):
    base = std_normal()
    xs = torch.linspace(-9, 9, 200_001, dtype=torch.float64)
    fx = f(xs)
    y_min = float(fx.min()) if y_min is None else y_min
    cdf, total = _cdf_of_pushforward(f, base, y_min, float(fx.max()))
    assert total == pytest.approx(1.0, abs=1e-5)
    torch.manual_seed(8)
    samples = f(base.sample((20_000,))).numpy()
    assert stats.kstest(samples, cdf).pvalue > 1e-3


def test_pushforward_density_against_quadrature_integral():
    base = std_normal()

    def f(x):
        return x + torch.sin(2 * x)

    def dens(v):
        return smp.pushforward_density(f, base.log_prob, t64([v]), grid=801)[0].item()

    # Integral 1 over the whole range, with quad told where the turning values are (f' = 0 at
    # x = ±π/3 + kπ); three preimages for y near 0.
    turns = [s * math.pi / 3 + k * math.pi for s in (-1, 1) for k in range(-3, 4)]
    crit = sorted(x + math.sin(2 * x) for x in turns if abs(x) < 9)
    total = integrate.quad(dens, -9 + math.sin(-18), 9 + math.sin(18), points=crit, limit=400)[0]
    assert total == pytest.approx(1.0, abs=1e-6)
    # P(0 < Y < 1) from the density, against P(X in f^{-1}((0, 1))) from the normal cdf.
    xs = np.linspace(-9, 9, 400_001)
    fx = xs + np.sin(2 * xs)
    inside = (fx > 0) & (fx < 1)
    prob_x = np.sum(stats.norm.pdf(xs[inside])) * (xs[1] - xs[0])
    prob_y = integrate.quad(dens, 0, 1, limit=200)[0]
    assert prob_y == pytest.approx(prob_x, abs=1e-4)


def test_pushforward_bad_input():
    base = std_normal()
    with pytest.raises(TypeError):
        smp.pushforward_density("exp", base.log_prob, t64([1.0]))
    with pytest.raises(ValueError, match="support"):
        smp.pushforward_density(torch.exp, base.log_prob, t64([1.0]), support=(1.0, -1.0))
    with pytest.raises(ValueError, match="dimension"):
        smp.pushforward_density(torch.exp, base.log_prob, t64([[1.0]]))
    with pytest.raises(ValueError, match="elementwise"):
        smp.pushforward_density(lambda x: x.sum(), base.log_prob, t64([1.0]))


# --- Gaussian conditioning -------------------------------------------------------------------


@FAST
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_condition_gaussian_equals_precision_form(seed, k):
    rng = np.random.default_rng(seed)
    d = k + 2
    a = rng.normal(size=(d, d))
    cov = t64(a @ a.T + 0.3 * np.eye(d))
    mean, v = t64(rng.normal(size=d)), t64(rng.normal(size=k))
    cm, cc = smp.condition_gaussian(mean, cov, v, k)
    prec = torch.linalg.inv(cov)
    cc_ref = torch.linalg.inv(prec[k:, k:])
    cm_ref = mean[k:] - cc_ref @ prec[k:, :k] @ (v - mean[:k])
    torch.testing.assert_close(cc, cc_ref, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(cm, cm_ref, rtol=1e-7, atol=1e-9)


def test_condition_gaussian_bad_input():
    cov = t64([[1.0, 0.5], [0.5, 1.0]])
    with pytest.raises(ValueError, match="smaller"):
        smp.condition_gaussian(t64([0.0, 0.0]), cov, t64([1.0, 1.0]), 2)
    with pytest.raises(ValueError, match="shape"):
        smp.condition_gaussian(t64([0.0, 0.0]), cov, t64([1.0, 1.0]), 1)
    with pytest.raises(ValueError, match="positive definite"):
        smp.condition_gaussian(t64([0.0, 0.0]), t64([[1.0, 2.0], [2.0, 1.0]]), t64([1.0]), 1)


# --- bad input of the estimators ----------------------------------------------------------------


def test_estimators_bad_input():
    p = std_normal()
    with pytest.raises(TypeError, match="callable"):
        smp.monte_carlo(3.0, p, 10)
    with pytest.raises(TypeError, match="Distribution"):
        smp.monte_carlo(lambda x: x, "normal", 10)
    with pytest.raises(ValueError, match="n must be >= 2"):
        smp.monte_carlo(lambda x: x, p, 1)
    with pytest.raises(TypeError, match="integer"):
        smp.monte_carlo(lambda x: x, p, 10.0)
    with pytest.raises(ValueError, match="shape"):
        smp.monte_carlo(lambda x: x[:3], p, 10)
    with pytest.raises(TypeError, match="floating"):
        smp.monte_carlo(lambda x: x > 0, p, 10)
    with pytest.raises(TypeError, match="self_normalized"):
        smp.importance_sampling(lambda x: x, p, p, 10, self_normalized=1)
    with pytest.raises(TypeError, match="params"):
        smp.score_function_gradient(lambda z: z, Normal, [], 10)
    with pytest.raises(TypeError, match="baseline"):
        smp.score_function_gradient(lambda z: z, Normal, (t64(0.0), t64(1.0)), 10, baseline="b")
    with pytest.raises(ValueError, match="NaN"):
        smp.effective_sample_size(t64([0.0, math.nan]))
    with pytest.raises(ValueError, match="zero"):
        smp.effective_sample_size(t64([-math.inf, -math.inf]))


# == moved from explore/probability.py ==
# The chapter's sampling experiments and closed forms (now in companion.sampling) against SciPy.


@pytest.mark.parametrize(
    ("a", "b", "h", "t"), [(1.0, 1.0, 0, 0), (3.0, 5.0, 20, 0), (0.5, 2.0, 4, 9)]
)
def test_grid_posterior_is_the_conjugate_beta(a, b, h, t):
    theta, post = smp.grid_posterior(a, b, h, t)
    ref = stats.beta.pdf(theta, a + h, b + t)
    inner = (theta > 0.01) & (theta < 0.99)
    np.testing.assert_allclose(post[inner], ref[inner], rtol=2e-3, atol=1e-6)
    assert np.mean(theta * post) == pytest.approx((a + h) / (a + b + h + t), abs=2e-4)
    with pytest.raises(ValueError):
        smp.grid_posterior(0.0, 1.0, 1, 1)


@pytest.mark.parametrize(("mu", "sigma"), [(4.5, 1.0), (3.0, 2.0), (0.0, 1.0), (6.0, 0.8)])
def test_is_second_moment_against_quadrature(mu, sigma):
    m2 = integrate.quad(
        lambda x: stats.norm.pdf(x) ** 2 / stats.norm.pdf(x, mu, sigma),
        4,
        30,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    assert smp.is_second_moment(mu, sigma) == pytest.approx(m2, rel=1e-8)


def test_is_second_moment_infinite_for_light_tailed_proposals():
    assert math.isinf(smp.is_second_moment(4.0, 0.7))
    assert math.isfinite(smp.is_second_moment(4.0, 0.71))
    # Just below sigma^2 = 1/2 the integrand grows like exp(+eps x^2): infinite.
    assert math.isinf(smp.is_second_moment(4.0, math.sqrt(0.5 * (1 - 1e-9))))


@pytest.mark.parametrize("mu", [4.0, 1.0, 0.3])
@pytest.mark.parametrize("rel_gap", [0.0, 1e-9, 1e-6])
def test_is_second_moment_at_the_boundary_sigma2_half(mu, rel_gap):
    """At sigma^2 = 1/2 the moment is finite when mu > 0 (integrand exp(mu^2 - 2 mu x))."""
    sigma = math.sqrt(0.5 * (1 + rel_gap))
    m2 = integrate.quad(
        lambda x: math.exp(2 * stats.norm.logpdf(x) - stats.norm.logpdf(x, mu, sigma)),
        4,
        math.inf,
        epsabs=0,
        epsrel=1e-10,
        limit=200,
    )[0]
    assert smp.is_second_moment(mu, sigma) == pytest.approx(m2, rel=1e-5)


@pytest.mark.parametrize("mu", [0.0, -2.0])
def test_is_second_moment_at_the_boundary_infinite_for_nonpositive_mu(mu):
    assert math.isinf(smp.is_second_moment(mu, math.sqrt(0.5)))
    with pytest.raises(ValueError, match="sigma"):
        smp.is_second_moment(1.0, 0.0)


def test_gradient_estimator_variances_unbiased():
    tab = smp.gradient_estimator_variances(mu=0.5, sigma=1.0, ns=(20, 200), repeats=200)
    for k, n in enumerate(tab["n"]):
        # Exact per-sample variances at mu = 0.5, sigma = 1 (see the chapter).
        v_score = (0.5**4 + 18 * 0.25 + 15) - 4 * 0.25
        for key, v in (("score", v_score), ("reparam", 4.0)):
            assert abs(tab[key + "_mean"][k] - 1.0) < 4 * math.sqrt(v / n / 200)
            assert abs(tab[key][k] - v / n) < 4 * tab[key + "_var_se"][k]


def test_mc_error_slope():
    run = smp.monte_carlo_error(repeats=100)
    ns, rmse = run["n"], run["rmse"]
    # Against the closed form sqrt(Var X² / N) = sqrt(2/N), within the spread of 100 runs.
    np.testing.assert_allclose(rmse, np.sqrt(2 / ns), rtol=0.35)
    assert abs(np.polyfit(np.log(ns), np.log(rmse), 1)[0] + 0.5) < 0.1


def test_rare_event_run_is_importance_sampling_and_leaves_the_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    est, x, terms = smp.rare_event_importance_run(4.5, 1.0, n=2000, seed=0)
    assert torch.equal(torch.rand(1), expected_next)  # the caller's stream is untouched
    # The terms are w·1{x > 4} with w = p/q from SciPy's densities; the estimate is their mean.
    xs = x.numpy()
    w = np.exp(stats.norm.logpdf(xs) - stats.norm.logpdf(xs, 4.5, 1.0))
    np.testing.assert_allclose(terms.numpy(), w * (xs > 4.0), rtol=1e-12, atol=0)
    assert float(est.estimate) == pytest.approx(terms.mean().item(), rel=1e-12)
    exact = stats.norm.sf(4.0)
    assert abs(float(est.estimate) - exact) < 4 * float(est.std_error)
    again = smp.rare_event_importance_run(4.5, 1.0, n=2000, seed=0)[1]
    assert torch.equal(again, x)
    with pytest.raises(ValueError, match="sigma"):
        smp.rare_event_importance_run(4.5, 0.0)


def test_exponential_running_sums_are_gamma_distributed():
    sums = smp.exponential_running_sums(4000, 8, seed=1)
    assert sums.shape == (4000, 8) and bool((sums.diff(dim=1) > 0).all())
    # The sum of n Exp(1) draws is Gamma(n, 1): Kolmogorov–Smirnov against SciPy.
    for n in (1, 8):
        assert stats.kstest(sums[:, n - 1].numpy(), stats.gamma(n).cdf).pvalue > 1e-3
    assert torch.equal(smp.exponential_running_sums(4000, 8, seed=1), sums)


# == moved from explore/measure.py ==
# The measure chapter's computations (now in companion.sampling): finite σ-algebras against a
# brute-force closure, integrals against SciPy quadrature, the ReLU cdf against samples.
import itertools  # noqa: E402

from helpers import FAST as _FAST  # noqa: E402


def brute_force_sigma_algebra(omega, sets):
    """Smallest family containing `sets`, closed under complement and union, by iteration."""
    omega = frozenset(omega)
    fam = {frozenset(), omega} | {frozenset(s) for s in sets}
    while True:
        new = fam | {omega - a for a in fam} | {a | b for a in fam for b in fam}
        if new == fam:
            return fam
        fam = new


@_FAST
@given(st.lists(st.sets(st.integers(0, 5)), max_size=3))
def test_generated_sigma_algebra_matches_brute_force(sets):
    omega = set(range(6))
    got = smp.generated_sigma_algebra(omega, sets)
    assert got == brute_force_sigma_algebra(omega, sets)
    assert smp.is_sigma_algebra(omega, got)
    # Its size is a power of two (2^atoms).
    assert len(got) & (len(got) - 1) == 0


def test_partition_generates_unions_of_blocks():
    blocks = [{1, 2}, {3}, {4, 5, 6}]
    got = smp.generated_sigma_algebra(range(1, 7), blocks)
    expected = {
        frozenset().union(*c)
        for r in range(4)
        for c in itertools.combinations(map(frozenset, blocks), r)
    }
    assert got == expected and len(got) == 8


def test_is_sigma_algebra_rejects():
    omega = {1, 2, 3}
    assert not smp.is_sigma_algebra(omega, [set(), {1}, {1, 2, 3}])  # no complement {2, 3}
    assert not smp.is_sigma_algebra(omega, [set(), {1}, {2}, {2, 3}, {1, 3}, {1, 2, 3}])  # no {1,2}
    assert not smp.is_sigma_algebra(omega, [set(), {1}])  # omega missing
    assert smp.is_sigma_algebra(omega, [set(), omega])


def test_is_measurable_coin_and_bad_input():
    x = {"H": 1.0, "T": 0.0}
    assert smp.is_measurable(x, {"H", "T"}, [set(), {"H"}, {"T"}, {"H", "T"}])
    assert not smp.is_measurable(x, {"H", "T"}, [set(), {"H", "T"}])
    with pytest.raises(ValueError, match="σ-algebra"):
        smp.is_measurable(x, {"H", "T"}, [set(), {"H"}])
    with pytest.raises(TypeError):
        smp.generated_sigma_algebra({1, 2}, "ab")
    with pytest.raises(ValueError, match="subset"):
        smp.generated_sigma_algebra({1, 2}, [{3}])
    with pytest.raises(ValueError, match="non-empty"):
        smp.generated_sigma_algebra(set(), [])


@pytest.mark.parametrize("n", [0, 1, 2, 4, 6])
def test_simple_function_integral_against_quadrature(n):
    def step(x):
        return math.floor(2**n * 4 * x * (1 - x)) / 2**n

    breaks = [
        v
        for k in range(1, 2**n)
        for v in ((1 - math.sqrt(1 - k / 2**n)) / 2, (1 + math.sqrt(1 - k / 2**n)) / 2)
    ]
    quad = integrate.quad(step, 0, 1, points=breaks or None, limit=500)[0]
    assert smp.simple_function_integral(n) == pytest.approx(quad, abs=1e-9)
    assert smp.simple_function_integral(n) <= 2 / 3


def test_relu_cdf_against_samples():
    rng = np.random.default_rng(3)
    y = np.maximum(0, rng.normal(0.3, 1.0, 100_000))
    assert (
        stats.kstest(
            y[y > 0], lambda v: (smp.relu_cdf(v, 0.3) - stats.norm.cdf(-0.3)) / stats.norm.sf(-0.3)
        ).pvalue
        > 1e-3
    )
    p0 = stats.norm.cdf(-0.3)
    assert abs(np.mean(y == 0) - p0) < 4 * math.sqrt(p0 * (1 - p0) / len(y))
    assert smp.relu_cdf(np.array([-1e-12]), 0.3)[0] == 0.0
    assert smp.relu_cdf(np.array([0.0]), 0.3)[0] == pytest.approx(p0)


def test_circle_kl_grows_like_log_one_over_h():
    kls = [smp.circle_kl(h) for h in (0.25, 0.125, 0.0625)]
    assert kls[0] < kls[1] < kls[2]
    assert abs((kls[2] - kls[1]) - math.log(2)) < 0.15
    with pytest.raises(ValueError):
        smp.circle_kl(0.0)


def test_transform_bad_input():
    with pytest.raises(ValueError, match="transform"):
        smp.pushforward_map("log", 0.5)
    with pytest.raises(ValueError, match="t must"):
        smp.pushforward_map("exp", 1.5)


def test_riemann_lower_heights_increase_to_two_thirds():
    sums = [smp.riemann_lower_heights(n).mean() for n in range(12)]
    assert all(a <= b + 1e-15 for a, b in zip(sums, sums[1:], strict=False))
    assert sums[-1] == pytest.approx(2 / 3, abs=1e-3) and sums[0] == 0.0
    # each height is the minimum of f on its cell (a fine-grid numpy check on 4 cells)
    edges = np.linspace(0, 1, 5)
    ref = [
        min(4 * x * (1 - x) for x in np.linspace(a, b, 401))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    np.testing.assert_allclose(smp.riemann_lower_heights(2), ref, atol=1e-12)


def test_count_preimages():
    ys = torch.linspace(0.1, 3.0, 30, dtype=torch.float64)
    assert smp.count_preimages(lambda x: x**2, ys) == 2  # ±√y
    assert smp.count_preimages(torch.exp, ys) == 1
    assert smp.count_preimages(lambda x: torch.sin(3 * x) + 2.0, ys, support=(0.0, 6.0)) == 6
