"""Tests of companion.divergences against independent references: SciPy, POT (Python Optimal
Transport), torch.distributions, quadrature, closed forms and direct double loops; plus property
(Hypothesis), statistical, gradient and bad-input tests."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
import scipy.integrate
import scipy.spatial.distance
import scipy.stats
import torch
from helpers import ATOL, FAST, LOG2, random_simplex, t64
from hypothesis import given
from hypothesis import strategies as st

from companion import divergences as dv


def random_spd(rng: np.random.Generator, d: int, batch=()) -> np.ndarray:
    a = rng.normal(size=(*batch, d, d))
    cov = a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(d)
    return 0.5 * (cov + np.swapaxes(cov, -1, -2))


@st.composite
def simplex_pair(draw, k_min: int = 2, k_max: int = 8):
    k = draw(st.integers(k_min, k_max))
    entry = st.one_of(st.just(0.0), st.floats(1e-3, 1.0))
    vectors = []
    for _ in range(2):
        w = np.asarray(draw(st.lists(entry, min_size=k, max_size=k).filter(lambda v: sum(v) > 0)))
        vectors.append(w / w.sum())
    return vectors


samples_1d = st.lists(
    st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=1, max_size=15
)


# ---------------------------------------------------------------------------------------------
# KL, JS, TV, Hellinger


def test_kl_matches_scipy_with_zeros_and_bits():
    rng = np.random.default_rng(0)
    p = random_simplex(rng, (5, 8), zeros=True)
    q = random_simplex(rng, (5, 8))
    ref = scipy.stats.entropy(p, q, axis=-1)
    np.testing.assert_allclose(dv.kl_discrete(t64(p), t64(q)).numpy(), ref, atol=ATOL)
    np.testing.assert_allclose(
        dv.kl_discrete(t64(p), t64(q), base=2).numpy(), ref / LOG2, atol=ATOL
    )
    # dim=0: distributions stored as columns
    np.testing.assert_allclose(dv.kl_discrete(t64(p.T), t64(q.T), dim=0).numpy(), ref, atol=ATOL)


def test_kl_direction_and_infinity():
    point, uniform = t64([1.0, 0.0]), t64([0.5, 0.5])
    # KL(point || uniform) = log 2, finite; KL(uniform || point) = inf (uniform not << point)
    assert dv.kl_discrete(point, uniform).item() == pytest.approx(LOG2, abs=1e-15)
    assert dv.kl_discrete(uniform, point).item() == math.inf
    assert scipy.stats.entropy([0.5, 0.5], [1.0, 0.0]) == math.inf  # the reference agrees


@FAST
@given(simplex_pair())
def test_kl_nonnegative_zero_iff_equal_pinsker(pq):
    p, q = (t64(v) for v in pq)
    assert dv.kl_discrete(p, p).item() == 0.0
    kl = dv.kl_discrete(p, q).item()
    tv = dv.total_variation(p, q).item()
    # KL >= 0 up to rounding (p close to q can give about -1e-16), and Pinsker's inequality
    # KL >= 2 TV^2 makes "KL = 0 only if p = q" quantitative.
    assert kl >= -1e-15
    assert kl >= 2 * tv**2 - 1e-15
    if tv > 1e-6:
        assert kl > 0.0


def test_js_matches_scipy_squared_distance():
    rng = np.random.default_rng(1)
    p = random_simplex(rng, (6, 10), zeros=True)
    q = random_simplex(rng, (6, 10), zeros=True)
    ref = scipy.spatial.distance.jensenshannon(p, q, axis=-1) ** 2  # scipy returns the sqrt
    np.testing.assert_allclose(dv.js_discrete(t64(p), t64(q)).numpy(), ref, atol=ATOL)
    ref2 = scipy.spatial.distance.jensenshannon(p, q, axis=-1, base=2) ** 2
    np.testing.assert_allclose(dv.js_discrete(t64(p), t64(q), base=2).numpy(), ref2, atol=ATOL)
    np.testing.assert_allclose(
        dv.js_discrete(t64(p), t64(q), base=2).numpy(),
        dv.js_discrete(t64(p), t64(q)).numpy() / LOG2,
        rtol=1e-14,
    )


def test_js_is_bounded_by_log2_for_any_support_size():
    # Disjoint supports give exactly log 2 — not log(n) — however many outcomes there are.
    n = 50
    p = np.zeros(n)
    q = np.zeros(n)
    p[: n // 2] = 2.0 / n
    q[n // 2 :] = 2.0 / n
    assert dv.js_discrete(t64(p), t64(q)).item() == pytest.approx(LOG2, abs=1e-14)
    assert dv.js_discrete(t64(p), t64(q), base=2).item() == pytest.approx(1.0, abs=1e-14)


@FAST
@given(simplex_pair(k_max=30))
def test_js_symmetric_and_in_range(pq):
    p, q = (t64(v) for v in pq)
    js_pq, js_qp = dv.js_discrete(p, q).item(), dv.js_discrete(q, p).item()
    assert js_pq == pytest.approx(js_qp, abs=1e-15)
    assert -1e-15 <= js_pq <= LOG2 + 1e-12
    assert dv.js_discrete(p, p).item() == 0.0


def test_total_variation_and_hellinger_against_other_formulas():
    rng = np.random.default_rng(2)
    p = random_simplex(rng, (7, 6), zeros=True)
    q = random_simplex(rng, (7, 6), zeros=True)
    tv_ref = np.clip(p - q, 0, None).sum(-1)  # max over events A of p(A) - q(A)
    np.testing.assert_allclose(dv.total_variation(t64(p), t64(q)).numpy(), tv_ref, atol=ATOL)
    np.testing.assert_allclose(
        dv.total_variation(t64(p), t64(q)).numpy(), 1 - np.minimum(p, q).sum(-1), atol=ATOL
    )
    hell_ref = np.sqrt(np.clip(1 - np.sqrt(p * q).sum(-1), 0, None))  # via Bhattacharyya
    np.testing.assert_allclose(dv.hellinger(t64(p), t64(q)).numpy(), hell_ref, atol=ATOL)


def test_hellinger_convention_range():
    p, q = t64([1.0, 0.0]), t64([0.0, 1.0])
    assert dv.hellinger(p, q).item() == pytest.approx(1.0, abs=1e-15)  # disjoint: 1, not sqrt 2
    assert dv.hellinger(p, p).item() == 0.0
    assert dv.total_variation(p, q).item() == 1.0


@FAST
@given(simplex_pair())
def test_le_cam_inequalities_between_hellinger_and_tv(pq):
    p, q = (t64(v) for v in pq)
    h = dv.hellinger(p, q).item()
    tv = dv.total_variation(p, q).item()
    assert 0.0 <= h <= 1.0 + 1e-15
    assert h**2 <= tv + 1e-12
    assert tv <= h * math.sqrt(max(2.0 - h**2, 0.0)) + 1e-12


def test_gradcheck_js_through_softmax():
    torch.manual_seed(0)
    a = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)

    def js_of_logits(a, b):
        return dv.js_discrete(torch.softmax(a, -1), torch.softmax(b, -1))

    assert torch.autograd.gradcheck(js_of_logits, (a, b))


# ---------------------------------------------------------------------------------------------
# Gaussians


def test_kl_gaussian_matches_torch_distributions_broadcast():
    rng = np.random.default_rng(3)
    mu1, mu2 = t64(rng.normal(size=(4, 1))), t64(rng.normal(size=(1, 5)))
    s1, s2 = t64(rng.uniform(0.1, 3, size=(4, 1))), t64(rng.uniform(0.1, 3, size=(1, 5)))
    ours = dv.kl_gaussian(mu1, s1, mu2, s2)
    n1 = torch.distributions.Normal(*torch.broadcast_tensors(mu1, s1))
    n2 = torch.distributions.Normal(*torch.broadcast_tensors(mu2, s2))
    ref = torch.distributions.kl_divergence(n1, n2)
    assert ours.shape == (4, 5)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=ATOL)


def test_kl_gaussian_by_quadrature_and_python_floats():
    mu1, s1, mu2, s2 = 0.3, 0.8, -1.1, 1.7
    d1, d2 = scipy.stats.norm(mu1, s1), scipy.stats.norm(mu2, s2)
    ref, _ = scipy.integrate.quad(lambda x: d1.pdf(x) * (d1.logpdf(x) - d2.logpdf(x)), -15, 15)
    ours = dv.kl_gaussian(mu1, s1, mu2, s2)
    assert ours.dtype == torch.float64
    assert ours.item() == pytest.approx(ref, abs=1e-9)
    # sigma is a standard deviation: KL(N(0, 1) || N(0, 2^2)) = log 2 + 1/8 - 1/2
    assert dv.kl_gaussian(0.0, 1.0, 0.0, 2.0).item() == pytest.approx(LOG2 - 0.375, abs=1e-15)


def test_kl_gaussian_accurate_for_nearly_equal_sigmas():
    # KL(N(0, 1) || N(0, (1 + delta)^2)) = delta^2 - 5/3 delta^3 + O(delta^4): the variance part
    # must not be lost to cancellation when the two sigmas nearly coincide.
    sigma2 = 1.0 + 1e-7
    delta = sigma2 - 1.0  # the delta actually represented
    series = delta**2 - (5.0 / 3.0) * delta**3
    assert dv.kl_gaussian(0.0, 1.0, 0.0, sigma2).item() == pytest.approx(series, rel=1e-6)


def test_gradcheck_kl_gaussian():
    rng = np.random.default_rng(4)
    args = [
        t64(rng.normal(size=3)).requires_grad_(),
        t64(rng.uniform(0.5, 2, size=3)).requires_grad_(),
        t64(rng.normal(size=3)).requires_grad_(),
        t64(rng.uniform(0.5, 2, size=3)).requires_grad_(),
    ]
    assert torch.autograd.gradcheck(dv.kl_gaussian, args)


def test_kl_mvn_matches_torch_distributions_batched():
    rng = np.random.default_rng(5)
    d = 4
    mu1, mu2 = t64(rng.normal(size=(3, d))), t64(rng.normal(size=(3, d)))
    c1, c2 = t64(random_spd(rng, d, (3,))), t64(random_spd(rng, d, (3,)))
    ours = dv.kl_mvn(mu1, c1, mu2, c2)
    mvn = torch.distributions.MultivariateNormal
    ref = torch.distributions.kl_divergence(mvn(mu1, c1), mvn(mu2, c2))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=ATOL)
    single = dv.kl_mvn(mu1[0], c1[0], mu2[0], c2[0])
    assert single.ndim == 0 and single.item() == pytest.approx(ref[0].item(), abs=ATOL)
    assert dv.kl_mvn(mu1[0], c1[0], mu1[0], c1[0]).item() == pytest.approx(0.0, abs=1e-13)


def test_kl_mvn_in_one_dimension_is_the_univariate_formula():
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(t64(0.5), t64(1.5)),
        torch.distributions.Normal(t64(-1), t64(0.7)),
    )
    ours = dv.kl_mvn(t64([0.5]), t64([[1.5**2]]), t64([-1.0]), t64([[0.7**2]]))
    assert ours.item() == pytest.approx(ref.item(), abs=ATOL)


def test_wasserstein_gaussian_matches_pot_bures():
    rng = np.random.default_rng(6)
    for d in (1, 2, 5):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        c1, c2 = random_spd(rng, d), random_spd(rng, d)
        ref = float(ot.gaussian.bures_wasserstein_distance(mu1, mu2, c1, c2))  # W_2, unsquared
        ours = dv.wasserstein_gaussian(t64(mu1), t64(c1), t64(mu2), t64(c2)).item()
        assert ours == pytest.approx(ref, abs=ATOL)


def test_wasserstein_gaussian_closed_forms():
    # 1-D: W_2 = sqrt((m1 - m2)^2 + (s1 - s2)^2), with s the standard deviations
    w = dv.wasserstein_gaussian(t64([0.0]), t64([[4.0]]), t64([3.0]), t64([[1.0]])).item()
    assert w == pytest.approx(math.sqrt(9 + 1), abs=1e-14)
    # commuting (diagonal) covariances: sum of (sqrt a_i - sqrt b_i)^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = math.sqrt(((np.sqrt(a) - np.sqrt(b)) ** 2).sum() + 2.0)
    mu1, mu2 = t64([1.0, 0.0, 0.0]), t64([0.0, 1.0, 0.0])
    got = dv.wasserstein_gaussian(mu1, t64(np.diag(a)), mu2, t64(np.diag(b))).item()
    assert got == pytest.approx(expected, abs=1e-12)
    # symmetric in its arguments
    rng = np.random.default_rng(7)
    c1, c2 = t64(random_spd(rng, 3)), t64(random_spd(rng, 3))
    w12 = dv.wasserstein_gaussian(mu1, c1, mu2, c2).item()
    w21 = dv.wasserstein_gaussian(mu2, c2, mu1, c1).item()
    assert w12 == pytest.approx(w21, abs=1e-10)


def test_gradcheck_wasserstein_gaussian_and_kl_mvn():
    rng = np.random.default_rng(8)
    mu1, mu2 = t64(rng.normal(size=3)).requires_grad_(), t64(rng.normal(size=3))
    a1 = t64(rng.normal(size=(3, 3))).requires_grad_()
    c2 = t64(random_spd(rng, 3))

    def w2(mu1, a1):
        return dv.wasserstein_gaussian(mu1, a1 @ a1.mT + torch.eye(3, dtype=a1.dtype), mu2, c2)

    def kl(mu1, a1):
        return dv.kl_mvn(mu1, a1 @ a1.mT + torch.eye(3, dtype=a1.dtype), mu2, c2)

    assert torch.autograd.gradcheck(w2, (mu1, a1))
    assert torch.autograd.gradcheck(kl, (mu1, a1))


def test_mahalanobis_matches_scipy_with_inverse_covariance():
    rng = np.random.default_rng(9)
    d = 4
    cov = random_spd(rng, d)
    x, y = rng.normal(size=(6, d)), rng.normal(size=(6, d))
    inv = np.linalg.inv(cov)
    ref = [scipy.spatial.distance.mahalanobis(x[i], y[i], inv) for i in range(6)]
    np.testing.assert_allclose(dv.mahalanobis(t64(x), t64(y), t64(cov)).numpy(), ref, atol=ATOL)
    # broadcasting: every x against one y
    ref_b = [scipy.spatial.distance.mahalanobis(x[i], y[0], inv) for i in range(6)]
    np.testing.assert_allclose(
        dv.mahalanobis(t64(x), t64(y[0]), t64(cov)).numpy(), ref_b, atol=ATOL
    )
    # identity covariance: Euclidean distance
    eye = torch.eye(d, dtype=torch.float64)
    np.testing.assert_allclose(
        dv.mahalanobis(t64(x), t64(y), eye).numpy(), np.linalg.norm(x - y, axis=-1), atol=1e-12
    )


# ---------------------------------------------------------------------------------------------
# 1-D Wasserstein


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 4), (7, 7), (5, 3), (10, 15), (64, 37)])
def test_wasserstein_1d_matches_scipy_and_pot(n, m):
    rng = np.random.default_rng(n * 100 + m)
    x, y = rng.normal(size=n), rng.standard_t(3, size=m) + 0.4
    ours = dv.wasserstein_1d(t64(x), t64(y)).item()
    assert ours == pytest.approx(scipy.stats.wasserstein_distance(x, y), abs=ATOL)
    for p in (1.5, 2, 3):
        ref = ot.wasserstein_1d(x, y, p=p) ** (1 / p)  # POT returns W_p^p
        assert dv.wasserstein_1d(t64(x), t64(y), p=p).item() == pytest.approx(ref, abs=ATOL)


def test_wasserstein_1d_matches_exact_linear_program():
    rng = np.random.default_rng(10)
    x, y = rng.uniform(-2, 2, size=9), rng.uniform(-1, 3, size=6)
    for p in (1, 2):
        cost = np.abs(x[:, None] - y[None, :]) ** p
        wpp = ot.emd2(np.full(9, 1 / 9), np.full(6, 1 / 6), cost)
        ours = dv.wasserstein_1d(t64(x), t64(y), p=p).item()
        assert ours == pytest.approx(wpp ** (1 / p), abs=ATOL)


def test_wasserstein_1d_batched_and_broadcast():
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(3, 8)), rng.normal(size=(1, 5))
    ours = dv.wasserstein_1d(t64(x), t64(y), p=2)
    assert ours.shape == (3,)
    ref = [ot.wasserstein_1d(row, y[0], p=2) ** 0.5 for row in x]
    np.testing.assert_allclose(ours.numpy(), ref, atol=ATOL)


def test_wasserstein_1d_translation_and_gradient():
    rng = np.random.default_rng(12)
    x = t64(rng.normal(size=11))
    # a shift by c moves every quantile by c: W_p = |c| for all p
    for p in (1, 2, 4):
        assert dv.wasserstein_1d(x, x + 2.5, p=p).item() == pytest.approx(2.5, abs=1e-12)
    xg = t64(rng.normal(size=6)).requires_grad_()
    yg = t64(rng.normal(size=4) + 3.0).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: dv.wasserstein_1d(a, b, p=2), (xg, yg))


@FAST
@given(samples_1d, samples_1d, samples_1d, st.sampled_from([1, 2]))
def test_wasserstein_1d_is_a_metric(xs, ys, zs, p):
    x, y, z = t64(xs), t64(ys), t64(zs)
    wxy = dv.wasserstein_1d(x, y, p=p).item()
    assert wxy == pytest.approx(dv.wasserstein_1d(y, x, p=p).item(), abs=1e-9)
    assert dv.wasserstein_1d(x, x.flip(0), p=p).item() == 0.0
    triangle = wxy + dv.wasserstein_1d(y, z, p=p).item()
    assert dv.wasserstein_1d(x, z, p=p).item() <= triangle + 1e-9
    assert wxy >= 0.0


# ---------------------------------------------------------------------------------------------
# Sinkhorn


def _uniform(k: int) -> np.ndarray:
    return np.full(k, 1.0 / k)


def _pot_log_reference(cost: np.ndarray, eps: float, max_iter: int) -> float:
    """POT's log-domain Sinkhorn (slow, cannot underflow) with uniform weights, tol 1e-9."""
    n, m = cost.shape
    return float(
        ot.sinkhorn2(
            _uniform(n),
            _uniform(m),
            cost,
            eps,
            method="sinkhorn_log",
            numItermax=max_iter,
            stopThr=1e-9,
        )
    )


@pytest.mark.parametrize("p", [1, 2])
def test_sinkhorn_matches_pot(p):
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(9, 2)) + [0.5, -0.2]
    cost = ot.dist(x, y, metric="sqeuclidean" if p == 2 else "euclidean")
    for frac in (0.5, 0.05):
        eps = frac * cost.mean()
        ref = ot.sinkhorn2(_uniform(12), _uniform(9), cost, eps, numItermax=100_000, stopThr=1e-9)
        ours = dv.sinkhorn(t64(x), t64(y), eps, p=p, max_iter=100_000, tol=1e-9)
        assert ours.item() == pytest.approx(float(ref), rel=1e-5)


def test_sinkhorn_plan_marginals_and_cost():
    rng = np.random.default_rng(14)
    x, y = t64(rng.normal(size=(15, 3))), t64(rng.normal(size=(10, 3)))
    eps = 1.0
    plan, cost = dv.sinkhorn_plan(x, y, eps, tol=1e-10)
    assert plan.shape == (15, 10) and (plan >= 0).all()
    np.testing.assert_allclose(plan.sum(1).numpy(), np.full(15, 1 / 15), atol=1e-13)
    assert np.linalg.norm(plan.sum(0).numpy() - 1 / 10) <= 1e-10
    c = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    assert cost.item() == pytest.approx((plan * c).sum().item(), rel=1e-14)
    ref_plan = ot.sinkhorn(_uniform(15), _uniform(10), c.numpy(), eps, stopThr=1e-10)
    np.testing.assert_allclose(plan.numpy(), ref_plan, atol=1e-9)
    assert dv.sinkhorn(x, y, eps, tol=1e-10).item() == cost.item()


def test_sinkhorn_small_epsilon_where_the_plain_kernel_underflows():
    rng = np.random.default_rng(15)
    x = rng.normal(size=(10, 2))
    y = rng.normal(size=(8, 2)) + [8.0, 0.0]  # far away: every cost is large
    cost = ot.dist(x, y)
    eps = 0.03
    # premise: exp(-C / eps) is exactly zero everywhere, so classic Sinkhorn divides 0 by 0
    assert np.all(np.exp(-cost / eps) == 0.0)
    ours = dv.sinkhorn(t64(x), t64(y), eps, max_iter=200_000)
    ref = _pot_log_reference(cost, eps, 200_000)
    assert math.isfinite(ours.item())
    assert ours.item() == pytest.approx(float(ref), rel=1e-5)
    exact = ot.emd2(_uniform(10), _uniform(8), cost)
    assert exact - 1e-9 <= ours.item() <= exact + eps * math.log(8)


def test_sinkhorn_with_constant_reabsorption_agrees_with_pot(monkeypatch):
    # Force the solver to fold its scalings back into the log-potentials at every iteration
    # (bound 1 + 1e-12 instead of 1e50): the log-domain bookkeeping must give the same value.
    monkeypatch.setattr(dv, "_ABSORB", 1.0 + 1e-12)
    rng = np.random.default_rng(23)
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(8, 2)) + [8.0, 0.0]
    cost = ot.dist(x, y)
    eps = 0.03
    ref = _pot_log_reference(cost, eps, 200_000)
    ours = dv.sinkhorn(t64(x), t64(y), eps, max_iter=200_000)
    assert ours.item() == pytest.approx(float(ref), rel=1e-5)


def test_sinkhorn_survives_potentials_drifting_past_the_float_range(monkeypatch):
    # Two clusters; the target has 90% of its mass in the first, so 40% of the mass must cross
    # a distance of about 1. At eps = 1e-3 the dual potentials end up ~1000 eps away from where
    # the iterations start: plain scalings exp(potential / eps) would overflow float64, and the
    # solver must keep folding them back into the log-potentials.
    rng = np.random.default_rng(25)
    x = np.r_[rng.normal(0, 0.01, size=(5, 1)), rng.normal(1, 0.01, size=(5, 1))]
    y = np.r_[rng.normal(0, 0.01, size=(9, 1)), rng.normal(1, 0.01, size=(1, 1))]
    cost = ot.dist(x, y)
    eps = 1e-3
    ref = _pot_log_reference(cost, eps, 100_000)
    ours = dv.sinkhorn(t64(x), t64(y), eps, max_iter=100_000)
    assert ours.item() == pytest.approx(float(ref), rel=1e-5)
    # without the re-absorption the scalings overflow; the solver then reports non-convergence
    # instead of returning garbage
    monkeypatch.setattr(dv, "_ABSORB", math.inf)
    with pytest.raises(dv.SinkhornConvergenceError, match="did not converge"):
        dv.sinkhorn(t64(x), t64(y), eps, max_iter=2_000)


def test_sinkhorn_general_exponent_matches_pot():
    rng = np.random.default_rng(24)
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(11, 2))
    cost = ot.dist(x, y, metric="euclidean") ** 3
    eps = 0.1 * cost.mean()
    ref = ot.sinkhorn2(_uniform(7), _uniform(11), cost, eps, numItermax=100_000, stopThr=1e-9)
    ours = dv.sinkhorn(t64(x), t64(y), eps, p=3, max_iter=100_000)
    assert ours.item() == pytest.approx(float(ref), rel=1e-5)


def test_sinkhorn_translation_identity_where_the_plain_kernel_underflows():
    # Moving the target by s adds |s|^2 + 2 s.(x_i - y_j)-type terms that split into a function
    # of i plus a function of j: the entropic plan is unchanged and <P, C> grows by
    # |s|^2 + 2 s.(mean(y) - mean(x)). So POT's classic method on the untranslated clouds (where
    # it works) gives the exact answer for the translated ones (where it cannot).
    rng = np.random.default_rng(27)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(9, 2))
    shift = np.array([15.0, -5.0])
    eps = 0.1
    assert np.all(np.exp(-ot.dist(x, y + shift) / eps) == 0.0)  # premise: total underflow
    base = ot.sinkhorn2(_uniform(12), _uniform(9), ot.dist(x, y), eps, stopThr=1e-13)
    expected = float(base) + shift @ shift + 2 * shift @ (y.mean(0) - x.mean(0))
    ours = dv.sinkhorn(t64(x), t64(y + shift), eps, tol=1e-13, max_iter=10_000).item()
    assert ours == pytest.approx(expected, rel=1e-10)


def test_sinkhorn_cost_decreases_to_exact_ot_as_epsilon_shrinks():
    rng = np.random.default_rng(16)
    x, y = rng.uniform(size=(9, 2)), rng.uniform(size=(7, 2))
    cost = ot.dist(x, y)
    exact = ot.emd2(_uniform(9), _uniform(7), cost)
    values = []
    for frac in (1.0, 0.3, 0.1, 0.03, 0.01, 0.003):
        eps = frac * cost.mean()
        value = dv.sinkhorn(t64(x), t64(y), eps, max_iter=500_000, tol=1e-11).item()
        # entropic optimum: exact <= <P_eps, C> <= exact + eps * log(m)
        assert exact - 1e-10 <= value <= exact + eps * math.log(7) + 1e-10
        values.append(value)
    assert all(a >= b - 1e-10 for a, b in zip(values, values[1:], strict=False))
    assert values[0] - exact > 100 * (values[-1] - exact)  # it really approaches the LP value


def test_sinkhorn_raises_when_not_converged():
    rng = np.random.default_rng(17)
    x, y = t64(rng.normal(size=(20, 2))), t64(rng.normal(size=(20, 2)))
    with pytest.raises(dv.SinkhornConvergenceError, match="did not converge") as info:
        dv.sinkhorn(x, y, 0.001, max_iter=5)
    assert info.value.iterations == 5 and info.value.marginal_error > 1e-9
    assert isinstance(info.value, RuntimeError)


def test_sinkhorn_one_dimensional_points_and_result_detached():
    rng = np.random.default_rng(18)
    x = t64(rng.normal(size=8)).requires_grad_()
    y = t64(rng.normal(size=6))
    value = dv.sinkhorn(x, y, 0.05, p=1)
    assert not value.requires_grad
    cost = np.abs(x.detach().numpy()[:, None] - y.numpy()[None, :])
    ref = ot.sinkhorn2(_uniform(8), _uniform(6), cost, 0.05, numItermax=100_000, stopThr=1e-9)
    assert value.item() == pytest.approx(float(ref), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# MMD


def _mmd2_double_loop(x: np.ndarray, y: np.ndarray, h: float, unbiased: bool) -> float:
    def k(a, b):
        return math.exp(-float(np.sum((a - b) ** 2)) / (2 * h * h))

    n, m = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if not unbiased or i != j)
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if not unbiased or i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    if unbiased:
        return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)
    return sxx / n**2 + syy / m**2 - 2 * sxy / (n * m)


@pytest.mark.parametrize("unbiased", [True, False])
def test_mmd2_matches_double_loop(unbiased):
    rng = np.random.default_rng(19)
    x, y = rng.normal(size=(13, 3)), rng.normal(size=(9, 3)) * 1.5 + 0.3
    for h in (0.5, 1.0, 3.0):
        ours = dv.mmd2(t64(x), t64(y), bandwidth=h, unbiased=unbiased).item()
        assert ours == pytest.approx(_mmd2_double_loop(x, y, h, unbiased), abs=ATOL)
    x1, y1 = rng.normal(size=7), rng.normal(size=5)  # (n,) means one-dimensional points
    ours1 = dv.mmd2(t64(x1), t64(y1), bandwidth=0.7, unbiased=unbiased).item()
    ref1 = _mmd2_double_loop(x1[:, None], y1[:, None], 0.7, unbiased)
    assert ours1 == pytest.approx(ref1, abs=ATOL)


@pytest.mark.parametrize("unbiased", [True, False])
def test_mmd2_blocked_and_differentiable_paths_match_double_loop(monkeypatch, unbiased):
    # Without autograd the kernel sums are taken block by block (several blocks here, using
    # the symmetry of the within-sample matrices); with autograd the matrices are built whole.
    monkeypatch.setattr(dv, "_MMD_BLOCK", 20)
    rng = np.random.default_rng(26)
    x, y = rng.normal(size=(11, 2)), rng.normal(size=(7, 2)) + 0.5
    ref = _mmd2_double_loop(x, y, 0.9, unbiased)
    blocked = dv.mmd2(t64(x), t64(y), bandwidth=0.9, unbiased=unbiased)
    dense = dv.mmd2(t64(x).requires_grad_(), t64(y), bandwidth=0.9, unbiased=unbiased)
    assert blocked.item() == pytest.approx(ref, abs=ATOL)
    assert dense.item() == pytest.approx(ref, abs=ATOL)
    assert dense.requires_grad and not blocked.requires_grad


def _gaussian_kernel_mean(mu_a, mu_b, s2_sum: float, d: int, h: float) -> float:
    """E k(a, b) for independent a ~ N(mu_a, s_a^2 I), b ~ N(mu_b, s_b^2 I); s2_sum = s_a^2 + s_b^2.

    Closed form: (h^2 / (h^2 + s2_sum))^(d/2) exp(-|mu_a - mu_b|^2 / (2 (h^2 + s2_sum))).
    """
    gap = float(np.sum((np.asarray(mu_a) - np.asarray(mu_b)) ** 2))
    scale = h * h + s2_sum
    return (h * h / scale) ** (d / 2) * math.exp(-gap / (2 * scale))


def _mmd_draws(shift: float, reps: int = 300, n: int = 16, m: int = 16):
    gen = torch.Generator().manual_seed(20)
    unb, bia = [], []
    for _ in range(reps):
        x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
        y = torch.randn(m, 2, generator=gen, dtype=torch.float64)
        y[:, 0] += shift
        unb.append(dv.mmd2(x, y).item())
        bia.append(dv.mmd2(x, y, unbiased=False).item())
    return np.array(unb), np.array(bia)


def test_unbiased_mmd2_has_mean_zero_for_equal_distributions_and_biased_does_not():
    unb, bia = _mmd_draws(shift=0.0)
    se_u = unb.std(ddof=1) / math.sqrt(len(unb))
    se_b = bia.std(ddof=1) / math.sqrt(len(bia))
    assert abs(unb.mean()) < 4 * se_u
    # the V-statistic's bias is (1/n)(1 - E k(x, x')) + (1/m)(1 - E k(y, y')) = (2/16)(2/3) here
    ekk = _gaussian_kernel_mean([0, 0], [0, 0], 2.0, 2, 1.0)  # = 1/3
    expected_bias = 2 / 16 * (1 - ekk)
    assert abs(bia.mean() - expected_bias) < 4 * se_b
    assert bia.mean() > 10 * se_u  # clearly positive, unlike the unbiased mean


def test_unbiased_mmd2_is_unbiased_for_different_distributions():
    shift = 1.0
    unb, _ = _mmd_draws(shift=shift)
    se = unb.std(ddof=1) / math.sqrt(len(unb))
    same = _gaussian_kernel_mean([0, 0], [0, 0], 2.0, 2, 1.0)
    cross = _gaussian_kernel_mean([0, 0], [shift, 0], 2.0, 2, 1.0)
    population = 2 * same - 2 * cross
    assert abs(unb.mean() - population) < 4 * se
    assert population > 8 * se  # the test can tell this from zero


def test_gradcheck_mmd2():
    gen = torch.Generator().manual_seed(21)
    x = torch.randn(5, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, s: dv.mmd2(a, b, bandwidth=s), (x, y, h))
    assert torch.autograd.gradcheck(lambda a, b: dv.mmd2(a, b, unbiased=False), (x, y))


# ---------------------------------------------------------------------------------------------
# bad input

P2 = t64([0.3, 0.7])
M2, C2 = t64([0.0, 0.0]), t64(np.eye(2))
X4 = t64(np.arange(8.0).reshape(4, 2))
NOT_SYM = t64([[1.0, 0.5], [0.0, 1.0]])
NOT_PD = t64([[1.0, 2.0], [2.0, 1.0]])

BAD_CASES = [
    (dv.kl_discrete, ([0.3, 0.7], P2), {}, TypeError, "p must be a torch.Tensor"),
    (dv.kl_discrete, (P2, torch.tensor([0, 1])), {}, TypeError, "q must have a floating dtype"),
    (dv.kl_discrete, (P2, t64([0.5, 0.6])), {}, ValueError, "q must sum to 1"),
    (dv.kl_discrete, (t64([1.2, -0.2]), P2), {}, ValueError, "entries >= 0"),
    (dv.kl_discrete, (P2, t64([0.2, 0.3, 0.5])), {}, ValueError, "same number of outcomes"),
    (dv.kl_discrete, (t64([math.nan, 1.0]), P2), {}, ValueError, "p contains NaN"),
    (dv.kl_discrete, (P2, P2), {"base": 0}, ValueError, "base must be"),
    (dv.js_discrete, (P2, t64([0.5, 0.6])), {}, ValueError, "q must sum to 1"),
    (dv.js_discrete, (torch.empty(0, dtype=torch.float64), P2), {}, ValueError, "p is empty"),
    (
        dv.js_discrete,
        (t64(np.full((2, 3), 1 / 3)), t64(np.full((3, 3), 1 / 3))),
        {},
        ValueError,
        "mismatched shapes",
    ),
    (dv.total_variation, (P2, t64([0.5, 0.6])), {}, ValueError, "sum to 1"),
    (dv.total_variation, (P2, [0.5, 0.5]), {}, TypeError, "q must be a torch.Tensor"),
    (dv.hellinger, (t64([-0.5, 1.5]), P2), {}, ValueError, "entries >= 0"),
    (dv.hellinger, (P2, t64([0.2, 0.3, 0.5])), {}, ValueError, "same number of outcomes"),
    (dv.kl_gaussian, (0.0, 0.0, 0.0, 1.0), {}, ValueError, "sigma1 must be > 0"),
    (dv.kl_gaussian, (0.0, 1.0, 0.0, t64([1.0, -2.0])), {}, ValueError, "sigma2 must be > 0"),
    (dv.kl_gaussian, (math.nan, 1.0, 0.0, 1.0), {}, ValueError, "mu1 must be finite"),
    (dv.kl_gaussian, ("0", 1.0, 0.0, 1.0), {}, TypeError, "mu1 must be a real number"),
    (
        dv.kl_gaussian,
        (t64([0.0, 1.0]), 1.0, t64([0.0, 1.0, 2.0]), 1.0),
        {},
        ValueError,
        "mismatched shapes",
    ),
    (dv.kl_mvn, (M2, NOT_SYM, M2, C2), {}, ValueError, "cov1 must be symmetric"),
    (dv.kl_mvn, (M2, C2, M2, NOT_PD), {}, ValueError, "cov2 must be positive definite"),
    (dv.kl_mvn, (t64([0.0, 0.0, 0.0]), C2, M2, C2), {}, ValueError, "mu1 has dimension 3"),
    (dv.kl_mvn, (M2, t64(np.ones((2, 3))), M2, C2), {}, ValueError, "square"),
    (dv.kl_mvn, (M2, t64([[1.0, math.nan], [math.nan, 1.0]]), M2, C2), {}, ValueError, "NaN"),
    (dv.kl_mvn, ([0.0, 0.0], C2, M2, C2), {}, TypeError, "mu1 must be a torch.Tensor"),
    (dv.kl_mvn, (M2, C2, t64([0.0]), t64([[1.0]])), {}, ValueError, "same dimension"),
    (
        dv.kl_mvn,
        (t64(np.zeros((4, 2))), C2, M2, t64(np.tile(np.eye(2), (5, 1, 1)))),
        {},
        ValueError,
        "cannot be broadcast",
    ),
    (dv.wasserstein_gaussian, (M2, C2, M2, NOT_PD), {}, ValueError, "positive definite"),
    (dv.wasserstein_gaussian, (M2, t64(np.eye(3)), M2, C2), {}, ValueError, "mu1 has dimension"),
    (dv.wasserstein_gaussian, (M2, C2, M2, NOT_SYM), {}, ValueError, "cov2 must be symmetric"),
    (dv.wasserstein_gaussian, (M2, C2, t64([0.0]), t64([[1.0]])), {}, ValueError, "same dimension"),
    (
        dv.mahalanobis,
        (X4[:3], X4[:3], t64(np.tile(np.eye(2), (4, 1, 1)))),
        {},
        ValueError,
        "cannot be broadcast",
    ),
    (dv.mahalanobis, (M2, M2, NOT_PD), {}, ValueError, "cov must be positive definite"),
    (dv.mahalanobis, (M2, t64([1.0, 2.0, 3.0]), C2), {}, ValueError, "mismatched shapes"),
    (
        dv.mahalanobis,
        (t64([1.0, 2.0, 3.0]), t64([1.0, 2.0, 3.0]), C2),
        {},
        ValueError,
        "d = 2 coordinates",
    ),
    (dv.mahalanobis, (M2, t64([math.inf, 0.0]), C2), {}, ValueError, "y contains infinite"),
    (dv.wasserstein_1d, ([1.0, 2.0], t64([1.0])), {}, TypeError, "x must be a torch.Tensor"),
    (dv.wasserstein_1d, (torch.arange(3), t64([1.0])), {}, TypeError, "floating dtype"),
    (
        dv.wasserstein_1d,
        (t64([1.0]), torch.empty(0, dtype=torch.float64)),
        {},
        ValueError,
        "y is empty",
    ),
    (dv.wasserstein_1d, (t64([1.0, math.nan]), t64([1.0])), {}, ValueError, "x contains NaN"),
    (dv.wasserstein_1d, (t64([1.0]), t64([2.0])), {"p": 0.5}, ValueError, "p must be >= 1"),
    (
        dv.wasserstein_1d,
        (t64(np.zeros((2, 3))), t64(np.zeros((3, 3)))),
        {},
        ValueError,
        "cannot be broadcast",
    ),
    (dv.sinkhorn, (X4, X4, 0.0), {}, ValueError, "epsilon must be > 0"),
    (dv.sinkhorn, (X4, X4, -1.0), {}, ValueError, "epsilon must be > 0"),
    (dv.sinkhorn, (X4, X4, 0.1), {"p": 0.5}, ValueError, "p must be >= 1"),
    (dv.sinkhorn, (X4, t64(np.zeros((3, 3))), 0.1), {}, ValueError, "same dimension"),
    (dv.sinkhorn, (X4, torch.empty(0, 2, dtype=torch.float64), 0.1), {}, ValueError, "y is empty"),
    (dv.sinkhorn, (X4, t64(np.zeros((2, 2, 2))), 0.1), {}, ValueError, "1 or 2 dimension"),
    (dv.sinkhorn, (X4, X4, 0.1), {"max_iter": 0}, ValueError, "max_iter must be >= 1"),
    (dv.sinkhorn, (X4, X4, 0.1), {"tol": 0.0}, ValueError, "tol must be > 0"),
    (dv.sinkhorn, (X4, X4, "0.1"), {}, TypeError, "epsilon must be a real number"),
    (dv.sinkhorn, (X4.long(), X4, 0.1), {}, TypeError, "x must have a floating dtype"),
    (dv.sinkhorn, (X4, X4, 0.1), {"max_iter": 1.5}, TypeError, "max_iter must be an integer"),
    (dv.sinkhorn, (t64(np.zeros((3, 0))), X4, 0.1), {}, ValueError, "x is empty"),
    (dv.sinkhorn_plan, (X4, X4, 0.0), {}, ValueError, "epsilon must be > 0"),
    (dv.mmd2, (X4, X4), {"bandwidth": 0.0}, ValueError, "bandwidth must be > 0"),
    (dv.mmd2, (X4, X4), {"bandwidth": -1.0}, ValueError, "bandwidth must be > 0"),
    (dv.mmd2, (X4[:1], X4), {}, ValueError, "at least 2 samples on each side"),
    (dv.mmd2, (X4, t64(np.zeros((3, 3)))), {}, ValueError, "same dimension"),
    (dv.mmd2, (X4.tolist(), X4), {}, TypeError, "x must be a torch.Tensor"),
    (dv.mmd2, (X4, t64([[0.0, math.nan]])), {"unbiased": False}, ValueError, "y contains NaN"),
    (dv.mmd2, (X4, X4), {"bandwidth": t64([1.0, 2.0])}, ValueError, "bandwidth must be a scalar"),
    (dv.mmd2, (X4, X4), {"unbiased": 1}, TypeError, "unbiased must be True or False"),
]


@pytest.mark.parametrize(
    "case", BAD_CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(BAD_CASES)]
)
def test_bad_input_raises_clear_errors(case):
    func, args, kwargs, exc, match = case
    with pytest.raises(exc, match=match):
        func(*args, **kwargs)


def test_single_sample_biased_mmd_is_allowed():
    x, y = t64([[0.0, 0.0]]), t64([[1.0, 0.0]])
    value = dv.mmd2(x, y, unbiased=False).item()
    assert value == pytest.approx(2 - 2 * math.exp(-0.5), abs=1e-15)


# ---------------------------------------------------------------------------------------------
# CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(22)
    p, q = t64(random_simplex(rng, (3, 6))), t64(random_simplex(rng, (3, 6)))
    mu1, mu2 = t64(rng.normal(size=3)), t64(rng.normal(size=3))
    c1, c2 = t64(random_spd(rng, 3)), t64(random_spd(rng, 3))
    s1, s2 = t64(rng.uniform(0.5, 2, size=4)), t64(rng.uniform(0.5, 2, size=4))
    x1, y1 = t64(rng.normal(size=50)), t64(rng.normal(size=30))
    x2, y2 = t64(rng.normal(size=(40, 2))), t64(rng.normal(size=(30, 2)))
    calls = [
        (dv.kl_discrete, (p, q), {}),
        (dv.js_discrete, (p, q), {}),
        (dv.total_variation, (p, q), {}),
        (dv.hellinger, (p, q), {}),
        (dv.kl_gaussian, (s1 - 1, s1, s2 - 1, s2), {}),
        (dv.kl_mvn, (mu1, c1, mu2, c2), {}),
        (dv.wasserstein_gaussian, (mu1, c1, mu2, c2), {}),
        (dv.mahalanobis, (mu1, mu2, c1), {}),
        (dv.wasserstein_1d, (x1, y1), {"p": 2}),
        (dv.sinkhorn, (x2, y2, 0.1), {}),
        (dv.mmd2, (x2, y2), {}),
    ]
    for func, args, kwargs in calls:
        cpu = func(*args, **kwargs)
        gpu_args = [a.to("cuda") if isinstance(a, torch.Tensor) else a for a in args]
        gpu = func(*gpu_args, **kwargs)
        assert gpu.device.type == "cuda", func.__name__
        np.testing.assert_allclose(
            gpu.cpu().numpy(), cpu.numpy(), rtol=1e-7, atol=1e-10, err_msg=func.__name__
        )
    plan, cost = dv.sinkhorn_plan(x2.to("cuda"), y2.to("cuda"), 0.1)
    assert plan.device.type == "cuda" and cost.device.type == "cuda"


# == moved from explore/divergences.py ==
# The mixtures, the divergence table, the disjoint-supports values, the exact OT cost and the
# batched MMD², each against an independent reference (SciPy quadrature, POT, Monte Carlo).


def test_mixture_log_pdf_and_cdf_match_scipy():
    m = dv.Mixture([(0.3, -1.0, 0.5), (0.7, 2.0, 1.5)])
    x = np.linspace(-6, 8, 57)
    pdf = 0.3 * scipy.stats.norm.pdf(x, -1, 0.5) + 0.7 * scipy.stats.norm.pdf(x, 2, 1.5)
    cdf = 0.3 * scipy.stats.norm.cdf(x, -1, 0.5) + 0.7 * scipy.stats.norm.cdf(x, 2, 1.5)
    np.testing.assert_allclose(m.log_pdf(t64(x)).numpy(), np.log(pdf), rtol=1e-12)
    np.testing.assert_allclose(m.cdf(t64(x)).numpy(), cdf, rtol=1e-12, atol=1e-15)
    assert m.mean() == pytest.approx(0.3 * -1 + 0.7 * 2)


def test_mixture_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        dv.Mixture([(0.5, 0.0, 1.0)])
    with pytest.raises(ValueError, match="std > 0"):
        dv.Mixture([(1.0, 0.0, 0.0)])
    with pytest.raises(ValueError, match="non-empty"):
        dv.Mixture([])
    with pytest.raises(TypeError, match="Mixture"):
        dv.divergence_table("p", "q")
    with pytest.raises(ValueError, match="bandwidth"):
        dv.divergence_table(dv.Mixture([(1.0, 0, 1)]), dv.Mixture([(1.0, 0, 1)]), 0.0)


def test_divergence_table_mixtures_against_scipy():
    p = dv.Mixture([(0.5, -2.0, 0.5), (0.5, 2.0, 0.5)])
    q = dv.Mixture([(1.0, 0.5, 1.5)])
    table = dv.divergence_table(p, q)

    def fp(x):
        return 0.5 * scipy.stats.norm.pdf(x, -2, 0.5) + 0.5 * scipy.stats.norm.pdf(x, 2, 0.5)

    def fq(x):
        return scipy.stats.norm.pdf(x, 0.5, 1.5)

    def quad(f):
        return scipy.integrate.quad(f, -15, 15, points=[-2, 0.5, 2], limit=400)[0]

    assert table["KL(p‖q)"] == (
        pytest.approx(quad(lambda x: fp(x) * math.log(fp(x) / fq(x))), abs=1e-7),
        "quadrature",
    )
    tv = 0.5 * quad(lambda x: abs(fp(x) - fq(x)))
    assert table["TV(p, q)"][0] == pytest.approx(tv, abs=1e-5)
    hel = math.sqrt(0.5 * quad(lambda x: (math.sqrt(fp(x)) - math.sqrt(fq(x))) ** 2))
    assert table["Hellinger"][0] == pytest.approx(hel, abs=1e-5)
    # W1 and W2 from large samples with POT's exact 1-D solvers.
    rng = np.random.default_rng(0)
    n = 400_000
    xs = np.where(rng.random(n) < 0.5, -2.0, 2.0) + 0.5 * rng.standard_normal(n)
    ys = 0.5 + 1.5 * rng.standard_normal(n)
    assert table["W₁"][0] == pytest.approx(scipy.stats.wasserstein_distance(xs, ys), abs=0.01)
    w2 = math.sqrt(ot.wasserstein_1d(xs, ys, p=2))
    assert table["W₂"][0] == pytest.approx(w2, abs=0.01)


def test_divergence_table_mmd_against_quadrature():
    """E k(X, Y) for Gaussian mixtures by 2-D quadrature of the kernel against the densities."""
    p = dv.Mixture([(0.4, -1.0, 0.7), (0.6, 1.0, 0.4)])
    q = dv.Mixture([(1.0, 0.3, 1.2)])
    h = 0.8

    def dens(m, x):
        return sum(w * scipy.stats.norm.pdf(x, mu, s) for w, mu, s in m.components)

    def ek(a, b):
        return scipy.integrate.dblquad(
            lambda y, x: dens(a, x) * dens(b, y) * math.exp(-((x - y) ** 2) / (2 * h * h)),
            -9, 9, -9, 9, epsabs=1e-10,
        )[0]  # fmt: skip

    ref = ek(p, p) + ek(q, q) - 2 * ek(p, q)
    assert dv.divergence_table(p, q, h)["MMD² (h=0.8)"][0] == pytest.approx(ref, abs=1e-7)


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0, 2.5])
def test_disjoint_values_closed_form(theta):
    v = dv.disjoint_values(theta)
    assert v["W1"] == pytest.approx(theta, abs=1e-12)
    assert v["JS"] == pytest.approx(min(theta, 1.0) * LOG2, abs=1e-12)
    assert v["KL"] == (math.inf if theta > 0 else 0.0)
    with pytest.raises(ValueError, match="theta"):
        dv.disjoint_values(-0.1)


def test_ot_assignment_cost_against_pot_and_brute_force():
    import itertools

    g = torch.Generator().manual_seed(3)
    x, y = (
        torch.randn(6, 2, generator=g, dtype=torch.float64),
        torch.randn(6, 2, generator=g, dtype=torch.float64),
    )
    c = (torch.cdist(x, y) ** 2).numpy()
    brute = min(c[range(6), list(perm)].mean() for perm in itertools.permutations(range(6)))
    assert dv.ot_assignment_cost(x, y) == pytest.approx(brute, abs=1e-12)
    x, y = (
        torch.randn(40, 2, generator=g, dtype=torch.float64),
        torch.randn(40, 2, generator=g, dtype=torch.float64),
    )
    u = np.full(40, 1 / 40)
    ref = ot.emd2(u, u, (torch.cdist(x, y) ** 2).numpy())
    assert dv.ot_assignment_cost(x, y) == pytest.approx(ref, abs=1e-10)
    with pytest.raises(ValueError, match="same number"):
        dv.ot_assignment_cost(x, y[:3])


@pytest.mark.parametrize("unbiased", [True, False])
def test_mmd2_batch_equals_mmd2(unbiased):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 12, 2, generator=g, dtype=torch.float64)
    y = torch.randn(6, 9, 2, generator=g, dtype=torch.float64) + 0.5
    batched = dv.mmd2_batch(x, y, 0.4, unbiased=unbiased)
    looped = torch.stack([dv.mmd2(a, b, 0.4, unbiased=unbiased) for a, b in zip(x, y, strict=True)])
    torch.testing.assert_close(batched, looped, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        dv.mmd2_batch(x, y, 0.0)
    with pytest.raises(ValueError, match="need x"):
        dv.mmd2_batch(x[0], y[0], 1.0)


def test_mmd2_gaussian_shift_against_monte_carlo():
    rng = np.random.default_rng(1)
    n = 200_000
    a, a2 = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    b, b2 = rng.normal(size=(n, 2)) + [0.6, 0], rng.normal(size=(n, 2)) + [0.6, 0]
    for h in (0.3, 1.0, 3.0):

        def k(u, v, h=h):
            return np.exp(-np.sum((u - v) ** 2, axis=1) / (2 * h**2))

        terms = k(a, a2) + k(b, b2) - k(a, b2) - k(a2, b)
        se = terms.std() / math.sqrt(n)
        assert abs(dv.mmd2_gaussian_shift(0.6, h) - terms.mean()) < 4 * se
    with pytest.raises(ValueError, match="bandwidth"):
        dv.mmd2_gaussian_shift(0.6, -1.0)
