"""Tests of companion.information against independent references (SciPy, torch.distributions,
quadrature, closed forms of textbook cases) plus property and bad-input tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.stats
import torch
from helpers import ATOL, FAST, LOG2, random_simplex, t64
from hypothesis import given
from hypothesis import strategies as st

from companion import information as info


@st.composite
def simplex(draw, k_min: int = 2, k_max: int = 8):
    k = draw(st.integers(k_min, k_max))
    weights = draw(
        st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1.0)), min_size=k, max_size=k).filter(
            lambda w: sum(w) > 0
        )
    )
    w = np.asarray(weights)
    return w / w.sum()


# ---------------------------------------------------------------------------------------------
# entropy


def test_entropy_matches_scipy_batched():
    rng = np.random.default_rng(0)
    p = random_simplex(rng, (6, 9), zeros=True)
    ours = info.entropy(t64(p))
    assert ours.dtype == torch.float64 and ours.shape == (6,)
    ref = scipy.stats.entropy(p, axis=-1)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=ATOL)


def test_entropy_dim_argument():
    rng = np.random.default_rng(1)
    p = random_simplex(rng, (5, 4)).T  # columns are distributions
    ours = info.entropy(t64(p), dim=0)
    np.testing.assert_allclose(ours.numpy(), scipy.stats.entropy(p, axis=0), atol=ATOL)


def test_entropy_known_values_and_bits():
    # uniform on 8 outcomes: exactly 3 bits; a point mass: 0 (0 log 0 = 0, no nan)
    assert info.entropy(torch.full((8,), 1 / 8, dtype=torch.float64), base=2).item() == (
        pytest.approx(3.0, abs=1e-12)
    )
    point = t64([0.0, 1.0, 0.0])
    assert info.entropy(point).item() == 0.0
    rng = np.random.default_rng(2)
    p = random_simplex(rng, (3, 5))
    np.testing.assert_allclose(
        info.entropy(t64(p), base=2).numpy(), scipy.stats.entropy(p, base=2, axis=-1), atol=ATOL
    )
    np.testing.assert_allclose(
        info.entropy(t64(p), base=10).numpy(), scipy.stats.entropy(p, base=10, axis=-1), atol=ATOL
    )


@FAST
@given(simplex())
def test_entropy_bounds(p):
    h = info.entropy(t64(p)).item()
    assert -1e-12 <= h <= math.log(len(p)) + 1e-12


def test_entropy_gradient_is_finite_with_zeros():
    p = t64([0.0, 0.25, 0.75]).requires_grad_()
    info.entropy(p).backward()
    assert torch.isfinite(p.grad).all()
    # d/dp_i of -sum p log p is -(log p_i + 1) at the positive entries
    np.testing.assert_allclose(p.grad[1:].numpy(), -(np.log([0.25, 0.75]) + 1), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# cross-entropy


def test_cross_entropy_equals_entropy_plus_kl_from_scipy():
    rng = np.random.default_rng(3)
    p = random_simplex(rng, (4, 7), zeros=True)
    q = random_simplex(rng, (4, 7))
    ref = scipy.stats.entropy(p, axis=-1) + scipy.stats.entropy(p, q, axis=-1)
    np.testing.assert_allclose(info.cross_entropy(t64(p), t64(q)).numpy(), ref, atol=ATOL)
    np.testing.assert_allclose(
        info.cross_entropy(t64(p), t64(q), base=2).numpy(), ref / LOG2, atol=ATOL
    )


def test_cross_entropy_is_not_a_distance():
    # H(p, p) = H(p) > 0 for a non-degenerate p; the seed calls it a "distance" (errata).
    p = t64([0.5, 0.5])
    assert info.cross_entropy(p, p).item() == pytest.approx(LOG2, abs=1e-15)


def test_cross_entropy_infinite_and_zero_conventions():
    p = t64([0.5, 0.5, 0.0])
    q_zero_where_p_positive = t64([1.0, 0.0, 0.0])
    assert info.cross_entropy(p, q_zero_where_p_positive).item() == math.inf
    q_zero_where_p_zero = t64([0.25, 0.75, 0.0])
    expected = -0.5 * math.log(0.25) - 0.5 * math.log(0.75)
    assert info.cross_entropy(p, q_zero_where_p_zero).item() == pytest.approx(expected, abs=1e-14)


def test_cross_entropy_broadcasts():
    rng = np.random.default_rng(4)
    p = random_simplex(rng, (3, 5))
    q = random_simplex(rng, (5,))
    ours = info.cross_entropy(t64(p), t64(q))
    ref = [-(row * np.log(q)).sum() for row in p]
    np.testing.assert_allclose(ours.numpy(), ref, atol=ATOL)


# ---------------------------------------------------------------------------------------------
# mutual information


def _mi_reference(joint: np.ndarray) -> float:
    return (
        scipy.stats.entropy(joint.sum(1))
        + scipy.stats.entropy(joint.sum(0))
        - scipy.stats.entropy(joint.ravel())
    )


def test_mutual_information_matches_entropy_decomposition():
    rng = np.random.default_rng(5)
    for shape in [(2, 2), (3, 5), (6, 4)]:
        joint = random_simplex(rng, (shape[0] * shape[1],), zeros=True).reshape(shape)
        ours = info.mutual_information(t64(joint)).item()
        assert ours == pytest.approx(_mi_reference(joint), abs=ATOL)
        assert info.mutual_information(t64(joint), base=2).item() == pytest.approx(
            _mi_reference(joint) / LOG2, abs=ATOL
        )


def test_mutual_information_special_cases():
    rng = np.random.default_rng(6)
    px, py = random_simplex(rng, (4,)), random_simplex(rng, (3,))
    independent = np.outer(px, py)
    assert abs(info.mutual_information(t64(independent)).item()) < 1e-15
    # Y = X: I(X; X) = H(X)
    same = np.diag(px)
    assert info.mutual_information(t64(same)).item() == pytest.approx(
        scipy.stats.entropy(px), abs=ATOL
    )


def test_mutual_information_batched():
    rng = np.random.default_rng(7)
    joints = random_simplex(rng, (5, 12)).reshape(5, 3, 4)
    ours = info.mutual_information(t64(joints)).numpy()
    np.testing.assert_allclose(ours, [_mi_reference(j) for j in joints], atol=ATOL)


# ---------------------------------------------------------------------------------------------
# Gaussian entropy and MI


def test_gaussian_entropy_matches_torch_and_scipy():
    sigma = t64([1e-3, 0.1, 1 / math.sqrt(2 * math.pi * math.e), 1.0, 7.5])
    ours = info.gaussian_entropy(sigma)
    ref_torch = torch.distributions.Normal(torch.zeros_like(sigma), sigma).entropy()
    np.testing.assert_allclose(ours.numpy(), ref_torch.numpy(), atol=ATOL)
    np.testing.assert_allclose(
        ours.numpy(), scipy.stats.norm(scale=sigma.numpy()).entropy(), atol=ATOL
    )
    assert abs(ours[2].item()) < 1e-14  # h = 0 exactly at sigma = 1/sqrt(2 pi e)
    np.testing.assert_allclose(info.gaussian_entropy(sigma, base=2).numpy(), ours / LOG2, atol=ATOL)


def test_gaussian_entropy_accepts_python_float():
    value = info.gaussian_entropy(2.0)
    assert value.dtype == torch.float64 and value.ndim == 0
    assert value.item() == pytest.approx(scipy.stats.norm(scale=2.0).entropy(), abs=ATOL)


def test_gaussian_entropy_by_quadrature():
    sigma = 0.7
    density = scipy.stats.norm(scale=sigma).pdf
    ref, _ = scipy.integrate.quad(lambda x: -density(x) * np.log(density(x)), -12, 12)
    assert info.gaussian_entropy(sigma).item() == pytest.approx(ref, abs=1e-9)


def test_gaussian_mutual_information_from_bivariate_entropies():
    for rho in [-0.99, -0.5, 0.0, 0.3, 0.9, 0.999]:
        s1, s2 = 1.3, 0.4
        cov = np.array([[s1**2, rho * s1 * s2], [rho * s1 * s2, s2**2]])
        ref = (
            scipy.stats.norm(scale=s1).entropy()
            + scipy.stats.norm(scale=s2).entropy()
            - scipy.stats.multivariate_normal(cov=cov).entropy()
        )
        assert info.gaussian_mutual_information(rho).item() == pytest.approx(ref, abs=1e-8)
        assert info.gaussian_mutual_information(rho, base=2).item() == pytest.approx(
            ref / LOG2, abs=1e-8
        )


def test_gaussian_mutual_information_symmetric_and_vectorised():
    rho = t64([-0.8, -0.1, 0.1, 0.8])
    values = info.gaussian_mutual_information(rho)
    assert values.shape == (4,)
    np.testing.assert_allclose(values.numpy(), values.flip(0).numpy(), rtol=0, atol=0)
    # near |rho| = 1 the log1p form keeps precision: 1 - rho^2 = 2e-12 - 1e-24
    rho_close = 1 - 1e-12
    assert info.gaussian_mutual_information(rho_close).item() == pytest.approx(
        -0.5 * math.log((1 - rho_close) * (1 + rho_close)), rel=1e-12
    )


# ---------------------------------------------------------------------------------------------
# binary entropy and the BSC


def test_binary_entropy_matches_scipy():
    p = np.array([0.0, 1e-9, 0.01, 0.3, 0.5, 0.77, 1 - 1e-9, 1.0])
    ref = np.array([scipy.stats.entropy([x, 1 - x]) for x in p])
    np.testing.assert_allclose(info.binary_entropy(t64(p)).numpy(), ref, atol=ATOL)
    assert info.binary_entropy(0.5, base=2).item() == pytest.approx(1.0, abs=1e-15)


def test_bsc_capacity_known_values_bits_by_default():
    eps = t64([0.0, 0.11, 0.5, 0.89, 1.0])
    ref = 1 - np.array([scipy.stats.entropy([e, 1 - e], base=2) for e in eps.numpy()])
    np.testing.assert_allclose(info.bsc_capacity(eps).numpy(), ref, atol=ATOL)
    np.testing.assert_allclose(info.bsc_capacity(eps, base=None).numpy(), ref * LOG2, atol=ATOL)


def test_bsc_capacity_is_the_maximal_mutual_information():
    # capacity = max over the input law of I(X; Y); maximise numerically with SciPy.
    eps = 0.2

    def neg_mi(pi):
        joint = np.array([[pi * (1 - eps), pi * eps], [(1 - pi) * eps, (1 - pi) * (1 - eps)]])
        return -_mi_reference(joint) / LOG2

    best = scipy.optimize.minimize_scalar(neg_mi, bounds=(1e-6, 1 - 1e-6), method="bounded")
    assert info.bsc_capacity(eps).item() == pytest.approx(-best.fun, abs=1e-8)
    assert best.x == pytest.approx(0.5, abs=1e-4)


# ---------------------------------------------------------------------------------------------
# gradients and dtype/device handling


def test_gradcheck_gaussian_mi_and_binary_entropy():
    rho = t64([-0.6, 0.2, 0.7]).requires_grad_()
    assert torch.autograd.gradcheck(info.gaussian_mutual_information, (rho,))
    p = t64([0.1, 0.5, 0.9]).requires_grad_()
    assert torch.autograd.gradcheck(info.binary_entropy, (p,))


def test_float32_stays_float32():
    p = torch.tensor([0.25, 0.75], dtype=torch.float32)
    assert info.entropy(p).dtype == torch.float32


# ---------------------------------------------------------------------------------------------
# bad input


GOOD = t64([0.2, 0.8])

BAD_CASES = [
    (info.entropy, ([0.5, 0.5],), TypeError, "p must be a torch.Tensor"),
    (info.entropy, (torch.tensor([1, 0]),), TypeError, "floating dtype"),
    (info.entropy, (t64([0.6, 0.6]),), ValueError, "sum to 1"),
    (info.entropy, (t64([1.5, -0.5]),), ValueError, "negative"),
    (info.entropy, (t64([math.nan, 1.0]),), ValueError, "NaN"),
    (info.entropy, (torch.empty(0, dtype=torch.float64),), ValueError, "empty"),
    (info.entropy, (GOOD,), {"base": 1}, ValueError, "base must be"),
    (info.entropy, (GOOD,), {"base": -2}, ValueError, "base must be"),
    (info.cross_entropy, (GOOD, t64([0.2, 0.3, 0.5])), ValueError, "same number of outcomes"),
    (info.cross_entropy, (GOOD, t64([0.7, 0.7])), ValueError, "q must sum to 1"),
    (info.cross_entropy, (GOOD, [0.5, 0.5]), TypeError, "q must be a torch.Tensor"),
    (info.mutual_information, (t64([0.5, 0.5]),), ValueError, "at least 2 dimension"),
    (info.mutual_information, (t64([[0.5, 0.5], [0.5, 0.5]]),), ValueError, "sum to 1"),
    (info.mutual_information, (t64([[0.6, -0.1], [0.25, 0.25]]),), ValueError, "negative"),
    (info.gaussian_entropy, (0.0,), ValueError, "sigma must be > 0"),
    (info.gaussian_entropy, (t64([1.0, -1.0]),), ValueError, "sigma must be > 0"),
    (info.gaussian_entropy, (math.nan,), ValueError, "sigma must be finite"),
    (info.gaussian_entropy, ("1.0",), TypeError, "sigma must be a real number"),
    (info.gaussian_entropy, (torch.tensor(2),), TypeError, "floating dtype"),
    (info.binary_entropy, (1.2,), ValueError, r"p must lie in \[0, 1\]"),
    (info.binary_entropy, (t64([0.5, -0.1]),), ValueError, r"p must lie in \[0, 1\]"),
    (info.bsc_capacity, (-0.1,), ValueError, r"eps must lie in \[0, 1\]"),
    (info.bsc_capacity, (True,), TypeError, "eps must be a real number"),
    (info.gaussian_mutual_information, (1.0,), ValueError, r"rho must lie in \(-1, 1\)"),
    (info.gaussian_mutual_information, (t64([0.5, -1.5]),), ValueError, "rho must lie"),
]


@pytest.mark.parametrize(
    "case", BAD_CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(BAD_CASES)]
)
def test_bad_input_raises_clear_errors(case):
    if len(case) == 5:
        func, args, kwargs, exc, match = case
    else:
        (func, args, exc, match), kwargs = case, {}
    with pytest.raises(exc, match=match):
        func(*args, **kwargs)


def test_probability_tolerance_is_1e_minus_6_and_nothing_is_renormalised():
    slightly_off = t64([0.5, 0.5 + 5e-7])
    info.entropy(slightly_off)  # within tolerance: accepted as it is
    with pytest.raises(ValueError, match="not renormalised"):
        info.entropy(t64([0.5, 0.5 + 2e-6]))


# ---------------------------------------------------------------------------------------------
# CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(8)
    p, q = t64(random_simplex(rng, (4, 6))), t64(random_simplex(rng, (4, 6)))
    joint = t64(random_simplex(rng, (12,)).reshape(3, 4))
    sigma, rho, eps = t64([0.5, 2.0]), t64([-0.3, 0.6]), t64([0.1, 0.4])
    calls = [
        (info.entropy, (p,)),
        (info.cross_entropy, (p, q)),
        (info.mutual_information, (joint,)),
        (info.gaussian_entropy, (sigma,)),
        (info.binary_entropy, (eps,)),
        (info.bsc_capacity, (eps,)),
        (info.gaussian_mutual_information, (rho,)),
    ]
    for func, args in calls:
        cpu = func(*args)
        gpu = func(*(a.to("cuda") for a in args))
        assert gpu.device.type == "cuda", func.__name__
        np.testing.assert_allclose(
            gpu.cpu().numpy(), cpu.numpy(), atol=1e-12, err_msg=func.__name__
        )


# == moved from explore/information.py ==
# The chapter's KL fits, binned and channel mutual information and JS of shifted Gaussians (now in
# companion.information) against SciPy quadrature and optimisation.

from torch.distributions import Normal, kl_divergence  # noqa: E402

W_LEFT, W_RIGHT = 0.4, 0.6  # the chapter's mixture: 0.4 N(-s/2, 1) + 0.6 N(s/2, 1)


def log_npdf(x, mu=0.0, sd=1.0):
    return -0.5 * ((x - mu) / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi))


def log_mix(x, s):
    return np.logaddexp(
        math.log(W_LEFT) + log_npdf(x, -s / 2), math.log(W_RIGHT) + log_npdf(x, s / 2)
    )


def kl_quad(mu, sd, s, direction):
    """KL(p‖q) or KL(q‖p) for q = N(mu, sd²) by SciPy's adaptive quadrature."""
    if direction == "forward":

        def g(x):
            return math.exp(log_mix(x, s)) * (log_mix(x, s) - log_npdf(x, mu, sd))

        lo, hi = -s / 2 - 15, s / 2 + 15
    else:

        def g(x):
            return math.exp(log_npdf(x, mu, sd)) * (log_npdf(x, mu, sd) - log_mix(x, s))

        lo, hi = mu - 15 * sd, mu + 15 * sd
    pts = sorted(v for v in {-s / 2, s / 2, mu} if lo < v < hi)
    return scipy.integrate.quad(g, lo, hi, points=pts, limit=200, epsabs=1e-12, epsrel=1e-12)[0]


def moment_match(s):
    """Mean and standard deviation of the mixture, by the law of total variance."""
    w, m = np.array([W_LEFT, W_RIGHT]), np.array([-s / 2, s / 2])
    mean = float((w * m).sum())
    return mean, math.sqrt(1.0 + float((w * (m - mean) ** 2).sum()))


def reverse_reference(s, mu0):
    """SciPy's Nelder–Mead on the quadrature reverse KL over (mu, log sigma), from (mu0, 1)."""
    res = scipy.optimize.minimize(
        lambda v: kl_quad(v[0], math.exp(v[1]), s, "reverse"),
        [mu0, 0.0],
        method="Nelder-Mead",
        options=dict(xatol=1e-6, fatol=1e-11, maxiter=2000),
    )
    return res.x[0], math.exp(res.x[1]), res.fun


@pytest.mark.parametrize("s", [0.0, 0.5, 3.0, 4.75, 6.0, 8.0, 12.0])
@pytest.mark.parametrize("start", ["left", "right"])
def test_forward_fit_is_moment_matching(s, start):
    fit = info.fit_gaussian_kl(s, "forward", start=start)
    mean, sd = moment_match(s)
    assert fit.mu == pytest.approx(mean, abs=1e-4)
    assert fit.sigma == pytest.approx(sd, abs=1e-4)
    assert fit.kl == pytest.approx(kl_quad(mean, sd, s, "forward"), abs=1e-7)


@pytest.mark.parametrize(
    ("mu", "sigma", "s"),
    [(0.0, 1.0, 0.0), (0.3, 2.0, 3.0), (-2.0, 0.5, 6.0), (4.0, 1.0, 8.0), (1.0, 6.0, 12.0)],
)
def test_kl_objectives_match_quadrature(mu, sigma, s):
    assert info.kl_forward(mu, sigma, s).item() == pytest.approx(
        kl_quad(mu, sigma, s, "forward"), abs=1e-8
    )
    assert info.kl_reverse(mu, sigma, s).item() == pytest.approx(
        kl_quad(mu, sigma, s, "reverse"), abs=1e-8
    )


def test_kl_objectives_at_zero_separation_are_gaussian_kls():
    # With s = 0 the mixture is N(0, 1): both directions are Gaussian KLs (torch.distributions).
    q = Normal(torch.tensor(0.7, dtype=torch.float64), torch.tensor(1.8, dtype=torch.float64))
    p = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    forward, reverse = info.kl_forward(0.7, 1.8, 0.0), info.kl_reverse(0.7, 1.8, 0.0)
    assert forward.item() == pytest.approx(kl_divergence(p, q).item(), abs=1e-10)
    assert reverse.item() == pytest.approx(kl_divergence(q, p).item(), abs=1e-10)


def test_kl_objectives_are_differentiable():
    mu = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    info.kl_reverse(mu, sigma, 5.0).backward()
    e = 1e-5

    def rev(m, sd):
        return kl_quad(m, sd, 5.0, "reverse")

    fd_mu = (rev(0.4 + e, 1.3) - rev(0.4 - e, 1.3)) / (2 * e)
    fd_sd = (rev(0.4, 1.3 + e) - rev(0.4, 1.3 - e)) / (2 * e)
    assert mu.grad.item() == pytest.approx(fd_mu, abs=1e-5)
    assert sigma.grad.item() == pytest.approx(fd_sd, abs=1e-5)


@pytest.mark.parametrize(("s", "start"), [(2.0, "left"), (6.0, "right"), (6.0, "left")])
def test_reverse_fit_matches_scipy_from_the_same_start(s, start):
    mu0 = -s / 2 if start == "left" else s / 2
    mu_ref, sd_ref, kl_ref = reverse_reference(s, mu0)
    fit = info.fit_gaussian_kl(s, "reverse", start=start)
    assert fit.mu == pytest.approx(mu_ref, abs=1e-3)
    assert fit.sigma == pytest.approx(sd_ref, abs=1e-3)
    assert fit.kl == pytest.approx(kl_ref, abs=1e-8)


def test_reverse_is_mode_seeking_and_forward_mass_covering():
    s = 8.0
    right = info.fit_gaussian_kl(s, "reverse", start="right")
    left = info.fit_gaussian_kl(s, "reverse", start="left")
    fwd = info.fit_gaussian_kl(s, "forward")
    # Each reverse fit sits on one mode, with about the component's width ...
    assert right.mu == pytest.approx(s / 2, abs=0.1) and right.sigma == pytest.approx(1, abs=0.05)
    assert left.mu == pytest.approx(-s / 2, abs=0.1) and left.sigma == pytest.approx(1, abs=0.05)
    # ... and the heavier mode gives the smaller reverse KL (about log(1/0.6) vs log(1/0.4)).
    assert right.kl == pytest.approx(math.log(1 / W_RIGHT), abs=0.01)
    assert left.kl == pytest.approx(math.log(1 / W_LEFT), abs=0.01)
    # The forward fit sits between the modes and is wide enough to cover both.
    assert -s / 2 + 1 < fwd.mu < s / 2 - 1 and fwd.sigma > s / 2 - 0.5
    # Each fit is poor by the other criterion.
    assert kl_quad(right.mu, right.sigma, s, "forward") > 5 * fwd.kl
    assert kl_quad(fwd.mu, fwd.sigma, s, "reverse") > right.kl


def test_reverse_starts_agree_for_close_modes():
    for s in (0.0, 1.0, 2.5):
        a = info.fit_gaussian_kl(s, "reverse", start="left")
        b = info.fit_gaussian_kl(s, "reverse", start="right")
        assert a.mu == pytest.approx(b.mu, abs=1e-5) and a.sigma == pytest.approx(b.sigma, abs=1e-5)


def test_fits_are_cached():
    a = info.fit_gaussian_kl(3.3, "reverse", start="left")
    assert info.fit_gaussian_kl(3.3, "reverse", start="left") is a


def test_mixture_log_density_matches_scipy():
    x = torch.linspace(-10, 10, 41, dtype=torch.float64)
    xs = x.numpy()
    ref = np.log(W_LEFT * scipy.stats.norm.pdf(xs, -2.5) + W_RIGHT * scipy.stats.norm.pdf(xs, 2.5))
    np.testing.assert_allclose(
        info.mixture_log_density(x, 5.0).numpy(), ref, rtol=1e-12, atol=1e-12
    )


def binned_mi_scipy(rho, edges):
    """Discrete MI of the binned bivariate normal, cells from SciPy's multivariate normal CDF."""
    mvn = scipy.stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]])
    e = np.array(edges, dtype=float)
    cdf = np.array(
        [[mvn.cdf([a, b]) if np.isfinite(a) and np.isfinite(b) else np.nan for b in e] for a in e]
    )
    # fill the infinite edges: F(-inf, .) = 0, F(inf, b) = Φ(b)
    n = len(e)
    for i in range(n):
        for j in range(n):
            a, b = e[i], e[j]
            if a == -np.inf or b == -np.inf:
                cdf[i, j] = 0.0
            elif a == np.inf:
                cdf[i, j] = scipy.stats.norm.cdf(b)
            elif b == np.inf:
                cdf[i, j] = scipy.stats.norm.cdf(a)
    cells = cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]
    cells = np.clip(cells, 0, None)
    px, py = cells.sum(1), cells.sum(0)
    return scipy.stats.entropy(cells.ravel(), np.outer(px, py).ravel())


@pytest.mark.parametrize("rho", [0.0, 0.6, -0.9])
def test_binned_mi_matches_scipy_cdf(rho):
    bins, h = 4, 3.0
    edges = [-np.inf, *np.linspace(-h, h, bins + 1)[1:-1], np.inf]
    ours = info.gaussian_mi_quantised(rho, bins=bins, half_width=h)
    assert ours == pytest.approx(binned_mi_scipy(rho, edges), abs=2e-5)


def test_binned_mi_rises_to_the_formula():
    exact = -0.5 * math.log(1 - 0.9**2)
    values = [info.gaussian_mi_quantised(0.9, bins=b) for b in (5, 10, 20, 40, 80)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < exact and exact - values[-1] < 0.03


def bsc_mi_bits_scipy(a, e):
    py1 = a * (1 - e) + (1 - a) * e
    return scipy.stats.entropy([py1, 1 - py1], base=2) - scipy.stats.entropy([e, 1 - e], base=2)


def test_bsc_mutual_information_vectorised_and_in_nats():
    a = torch.tensor([0.0, 0.2, 0.5, 1.0], dtype=torch.float64)
    e = torch.tensor([0.1, 0.1, 0.3, 0.9], dtype=torch.float64)
    ours = info.bsc_mutual_information(a, e, base=None).numpy()
    ref = np.array([bsc_mi_bits_scipy(x, y) for x, y in zip(a.tolist(), e.tolist(), strict=True)])
    np.testing.assert_allclose(ours, ref * LOG2, atol=1e-12)


def js_quad(d):
    def g(x):
        lp, lq = scipy.stats.norm.logpdf(x), scipy.stats.norm.logpdf(x, d)
        lm = np.logaddexp(lp, lq) - LOG2
        return 0.5 * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm))

    return scipy.integrate.quad(g, -15, d + 15, points=[0, d], limit=200)[0]


@pytest.mark.parametrize("d", [0.0, 0.3, 1.0, 4.0, 10.0])
def test_js_gaussian_shift_matches_quadrature(d):
    assert info.js_gaussian_shift(d).item() == pytest.approx(js_quad(d), abs=1e-8)


def test_log_mix_equals_logsumexp_of_the_components():
    """The mixture's log-density (logaddexp of the two components) against a logsumexp."""
    x = torch.linspace(-30.0, 30.0, 6001, dtype=torch.float64)
    for s in (0.0, 0.37, 6.0, info.MAX_SEPARATION):
        comps = torch.stack(
            [
                math.log(w) - 0.5 * (x - m) ** 2 - 0.5 * math.log(2 * math.pi)
                for w, m in zip(info.MIXTURE_WEIGHTS, (-s / 2, s / 2), strict=True)
            ]
        )
        ref = torch.logsumexp(comps, dim=0)
        torch.testing.assert_close(info.mixture_log_density(x, s), ref, rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: info.fit_gaussian_kl(-1.0), ValueError, "separation"),
        (lambda: info.fit_gaussian_kl(13.0), ValueError, "separation"),
        (lambda: info.fit_gaussian_kl(True), TypeError, "separation"),
        (lambda: info.fit_gaussian_kl(2.0, "sideways"), ValueError, "direction"),
        (lambda: info.fit_gaussian_kl(2.0, 1), TypeError, "direction"),
        (lambda: info.fit_gaussian_kl(2.0, "reverse", start="middle"), ValueError, "start"),
        (lambda: info.kl_forward(0.0, 0.0, 2.0), ValueError, "sigma"),
        (lambda: info.kl_reverse(0.0, -1.0, 2.0), ValueError, "sigma"),
        (lambda: info.kl_reverse(0.0, 11.0, 2.0), ValueError, "sigma"),
        (lambda: info.kl_reverse(torch.zeros(2), 1.0, 2.0), TypeError, "mu"),
        (lambda: info.kl_reverse(float("inf"), 1.0, 2.0), ValueError, "mu"),
        (lambda: info.mixture_log_density([0.0, 1.0], 2.0), TypeError, "x"),
        (lambda: info.mixture_log_density(torch.arange(3), 2.0), TypeError, "x"),
        (lambda: info.gaussian_mi_quantised(0.5, bins=1), ValueError, "bins"),
        (lambda: info.gaussian_mi_quantised(0.5, bins=2.5), TypeError, "bins"),
        (lambda: info.gaussian_mi_quantised(0.5, half_width=0.0), ValueError, "half_width"),
        (lambda: info.bsc_mutual_information(0.5, -0.2), ValueError, "eps"),
        (lambda: info.bsc_mutual_information(torch.tensor([1, 0]), 0.1), TypeError, "input_p"),
        (lambda: info.bsc_mutual_information(torch.tensor([0.5, 1.2]), 0.1), ValueError, "input_p"),
        (lambda: info.js_gaussian_shift(-1.0), ValueError, "delta"),
        (lambda: info.js_gaussian_shift(torch.tensor([1.0, 11.0])), ValueError, "delta"),
    ],
)
def test_moved_functions_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
