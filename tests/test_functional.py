"""companion.functional against independent references: POT, SciPy, scikit-learn, explicit
feature maps, closed forms and quadrature."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
import torch
from helpers import FAST, t64
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import brentq
from sklearn.gaussian_process.kernels import Matern
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.metrics import pairwise

from companion import divergences as dv
from companion import functional as fa

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def box(a, b):
    """The box "kernel" 1[|a - b| <= 1]: symmetric, ones on the diagonal, not PSD."""
    return ((a[:, None, 0] - b[None, :, 0]).abs() <= 1).to(a.dtype)


def sigmoid(a, b):
    """tanh(a·b - 1): negative on the diagonal near 0, so not PSD."""
    return torch.tanh(a @ b.T - 1.0)


# --- Kantorovich-Rubinstein -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_kr_dual_equals_pot_primal_and_potential_is_1_lipschitz(seed):
    rng = np.random.default_rng(seed)
    n, m, d = int(rng.integers(1, 40)), int(rng.integers(1, 40)), int(rng.integers(1, 4))
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.3 + 0.4
    a, b = rng.dirichlet(np.ones(n) * 0.7), rng.dirichlet(np.ones(m) * 0.7)
    dual = fa.kantorovich_dual(t64(x), t64(y), t64(a), t64(b))
    primal = ot.emd2(a, b, ot.dist(x, y, metric="euclidean"), numItermax=1_000_000)
    assert dual.value == pytest.approx(primal, abs=1e-8)
    z = np.concatenate([x, y])
    phi = np.concatenate([dual.potential_x.numpy(), dual.potential_y.numpy()])
    # 1-Lipschitz on the support, checked pair by pair with numpy.
    dist = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    assert np.all(np.abs(phi[:, None] - phi[None, :]) <= dist + 1e-9)
    # The dual objective evaluated from the returned potential is the returned value.
    assert a @ dual.potential_x.numpy() - b @ dual.potential_y.numpy() == pytest.approx(
        dual.value, abs=1e-12
    )
    assert dual.potential_x[0].item() == 0.0


def test_kr_dual_1d_uniform_equals_scipy_and_companion_w1():
    rng = np.random.default_rng(3)
    x, y = rng.standard_t(3, size=17), rng.normal(size=11) + 0.7
    dual = fa.kantorovich_dual(t64(x), t64(y))
    assert dual.value == pytest.approx(stats.wasserstein_distance(x, y), abs=1e-10)
    assert dual.value == pytest.approx(dv.wasserstein_1d(t64(x), t64(y)).item(), abs=1e-10)


def test_kr_dual_equal_distributions_and_shared_points():
    x = t64([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    same = fa.kantorovich_dual(x, x.flip(0))
    assert same.value == pytest.approx(0.0, abs=1e-12)
    # One point moved by (3, 4): W1 = mass moved * 5.
    y = x.clone()
    y[1] += t64([3.0, 4.0])
    assert fa.kantorovich_dual(x, y).value == pytest.approx(5.0 / 3.0, abs=1e-10)


def test_lipschitz_extension_is_the_largest_1_lipschitz_extension():
    rng = np.random.default_rng(4)
    z = t64(rng.normal(size=(12, 2)))
    centre = t64([0.3, -0.2])

    def g(t):
        return 0.6 * torch.linalg.vector_norm(t - centre, dim=-1) - 1.0  # 0.6-Lipschitz

    probe = t64(rng.normal(size=(300, 2)) * 3)
    ext = fa.lipschitz_extension(z, g(z), probe)
    assert torch.allclose(fa.lipschitz_extension(z, g(z), z), g(z), atol=1e-12)
    # McShane's extension dominates every 1-Lipschitz function that agrees on the support.
    assert bool((ext >= g(probe) - 1e-12).all())
    both = torch.cat([z, probe])
    assert fa.lipschitz_constant(both, fa.lipschitz_extension(z, g(z), both)) <= 1 + 1e-12
    assert fa.lipschitz_constant(z, g(z)) <= 0.6 + 1e-12
    assert fa.lipschitz_constant(t64([[1.0, 2.0]]), t64([3.0])) == 0.0


# --- MMD and the witness ------------------------------------------------------------------------


def poly2_features(v: np.ndarray) -> np.ndarray:
    """Explicit features of (a·b + 1)^2 for a in R^2."""
    a, b = v[:, 0], v[:, 1]
    r = math.sqrt(2)
    return np.stack([a * a, b * b, r * a * b, r * a, r * b, np.ones_like(a)], 1)


def poly3_features_1d(v: np.ndarray) -> np.ndarray:
    """Explicit features of (ab + 2)^3 for a in R: binomial expansion."""
    return np.stack([math.sqrt(math.comb(3, k) * 2 ** (3 - k)) * v**k for k in range(4)], 1)


@pytest.mark.parametrize("seed", range(5))
def test_polynomial_mmd2_equals_explicit_feature_map(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(45, 2)) * 1.2 + 0.3
    explicit = np.sum((poly2_features(x).mean(0) - poly2_features(y).mean(0)) ** 2)
    got = fa.mmd2(t64(x), t64(y), "polynomial", degree=2, coef0=1.0).item()
    assert got == pytest.approx(explicit, abs=1e-10)
    x1, y1 = rng.normal(size=50), rng.uniform(-1, 2, size=30)
    explicit1 = np.sum((poly3_features_1d(x1).mean(0) - poly3_features_1d(y1).mean(0)) ** 2)
    got1 = fa.mmd2(t64(x1), t64(y1), "polynomial", degree=3, coef0=2.0).item()
    assert got1 == pytest.approx(explicit1, abs=1e-10 * max(1.0, explicit1))
    # The linear kernel's MMD^2 is the squared distance of the means.
    lin = fa.mmd2(t64(x), t64(y), "linear").item()
    assert lin == pytest.approx(np.sum((x.mean(0) - y.mean(0)) ** 2), abs=1e-12)


def test_unbiased_mmd2_general_kernel_against_a_double_loop():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(7, 2)) + 0.5

    def k(a, b):
        return math.exp(-np.linalg.norm(a - b) / 0.8)

    sxx = sum(k(x[i], x[j]) for i in range(9) for j in range(9) if i != j) / (9 * 8)
    syy = sum(k(y[i], y[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    sxy = sum(k(a, b) for a in x for b in y) / 63
    got = fa.mmd2(t64(x), t64(y), "laplace", unbiased=True, bandwidth=0.8).item()
    assert got == pytest.approx(sxx + syy - 2 * sxy, abs=1e-12)

    # rbf goes to companion.divergences.mmd2; a callable RBF takes the Gram path: same value.
    def rbf(a, b):
        return fa.rbf_kernel(a, b, bandwidth=0.9)

    for unbiased in (True, False):
        assert fa.mmd2(t64(x), t64(y), rbf, unbiased=unbiased).item() == pytest.approx(
            dv.mmd2(t64(x), t64(y), bandwidth=0.9, unbiased=unbiased).item(), abs=1e-12
        )


@pytest.mark.parametrize(
    ("kernel", "params"),
    [
        ("rbf", dict(bandwidth=0.7)),
        ("laplace", dict(bandwidth=1.5)),
        ("polynomial", dict(degree=3, coef0=0.5)),
        ("linear", {}),
    ],
)
def test_witness_mean_difference_equals_biased_mmd(kernel, params):
    rng = np.random.default_rng(7)
    x, y = t64(rng.normal(size=(80, 2))), t64(rng.normal(size=(70, 2)) * 0.7 + 0.4)
    fx = fa.mmd_witness(x, y, x, kernel, **params)
    fy = fa.mmd_witness(x, y, y, kernel, **params)
    biased = fa.mmd2(x, y, kernel, **params).item()
    assert (fx.mean() - fy.mean()).item() == pytest.approx(math.sqrt(biased), abs=1e-10)
    # Unnormalised witness = difference of the empirical mean embeddings, computed with numpy.
    t = rng.normal(size=(5, 2))
    raw = fa.mmd_witness(x, y, t64(t), kernel, normalise=False, **params).numpy()
    if kernel == "rbf":
        ref = pairwise.rbf_kernel(t, x.numpy(), gamma=1 / (2 * 0.7**2)).mean(1) - (
            pairwise.rbf_kernel(t, y.numpy(), gamma=1 / (2 * 0.7**2)).mean(1)
        )
        np.testing.assert_allclose(raw, ref, atol=1e-13)
        assert biased == pytest.approx(dv.mmd2(x, y, bandwidth=0.7, unbiased=False).item())


def test_witness_is_zero_when_the_embeddings_coincide():
    v = t64(np.linspace(-1, 1, 11))
    w = fa.mmd_witness(v, -v, t64([0.0, 0.5, 3.0]), "polynomial", degree=2)
    assert torch.equal(w, torch.zeros(3, dtype=torch.float64))
    # ... but the Gaussian kernel sees the difference of two non-symmetric samples
    u = t64([0.0, 0.1, 2.0])
    assert fa.mmd_witness(u, -u, t64([1.5]), "rbf").abs().item() > 0.1


# --- kernels and kernel ridge regression --------------------------------------------------------


def test_gram_matrices_against_scikit_learn():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(15, 3))
    X, Y = t64(x), t64(y)
    np.testing.assert_allclose(
        fa.rbf_kernel(X, Y, bandwidth=1.3).numpy(),
        pairwise.rbf_kernel(x, y, gamma=1 / (2 * 1.3**2)),
        atol=1e-14,
    )
    np.testing.assert_allclose(
        fa.laplace_kernel(X, Y, bandwidth=0.8).numpy(),
        Matern(length_scale=0.8, nu=0.5)(x, y),
        atol=1e-14,
    )
    x1 = rng.normal(size=(10, 1))
    np.testing.assert_allclose(
        fa.laplace_kernel(t64(x1), bandwidth=0.8).numpy(),
        pairwise.laplacian_kernel(x1, gamma=1 / 0.8),
        atol=1e-14,
    )
    np.testing.assert_allclose(
        fa.polynomial_kernel(X, Y, degree=4, coef0=0.5).numpy(),
        pairwise.polynomial_kernel(x, y, degree=4, gamma=1.0, coef0=0.5),
        rtol=1e-12,
    )
    np.testing.assert_allclose(fa.linear_kernel(X, Y).numpy(), x @ y.T, atol=1e-13)
    assert torch.equal(fa.gram("rbf", X, bandwidth=2.0), fa.rbf_kernel(X, X, bandwidth=2.0))


@FAST
@given(
    n=st.integers(1, 25),
    d=st.integers(1, 4),
    bandwidth=st.floats(0.05, 20.0),
    degree=st.integers(1, 5),
    coef0=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_gram_matrices_are_psd(n, d, bandwidth, degree, coef0, seed):
    rng = np.random.default_rng(seed)
    x = t64(rng.normal(size=(n, d)) * rng.uniform(0.1, 3))
    grams = [
        fa.rbf_kernel(x, bandwidth=bandwidth),
        fa.laplace_kernel(x, bandwidth=bandwidth),
        fa.polynomial_kernel(x, degree=degree, coef0=coef0),
        fa.linear_kernel(x),
    ]
    for K in grams:
        assert torch.equal(K, K.T)
        eig = np.linalg.eigvalsh(K.numpy())
        assert eig[0] >= -1e-10 * max(1.0, np.abs(eig).max())
        fa.check_psd(K)


def test_non_psd_kernels_are_rejected():
    three = t64([0.0, 0.75, 1.5])
    K = fa.gram(box, three)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(K.numpy()), [1 - math.sqrt(2), 1, 1 + math.sqrt(2)], atol=1e-14
    )
    assert fa.min_eigenvalue(K) == pytest.approx(1 - math.sqrt(2))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        fa.check_psd(K)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        fa.KernelRidge(box, lam=0.1).fit(three, t64([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        fa.KernelRidge(sigmoid, lam=0.1).fit(three, t64([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        fa.gp_prior_samples(t64(np.linspace(0, 3, 20)), box, n_samples=2)
    # What goes wrong if one ignores it: a negative "squared distance".
    assert fa.mmd2(t64([0.0, 1.5]), t64([0.75]), box).item() == -0.5
    with pytest.raises(ValueError, match="symmetric"):
        fa.check_psd(t64([[1.0, 0.5], [0.0, 1.0]]))


@pytest.mark.parametrize(
    ("kernel", "params", "sk"),
    [
        ("rbf", dict(bandwidth=0.2), dict(kernel="rbf", gamma=1 / (2 * 0.2**2))),
        ("laplace", dict(bandwidth=0.5), dict(kernel="laplacian", gamma=2.0)),
        ("polynomial", dict(degree=3, coef0=1.0), dict(kernel="poly", degree=3, gamma=1.0)),
        ("linear", {}, dict(kernel="linear")),
    ],
)
@pytest.mark.parametrize("lam", [1e-4, 0.1, 10.0])
def test_kernel_ridge_equals_scikit_learn(kernel, params, sk, lam):
    rng = np.random.default_rng(9)
    x = rng.uniform(-1, 1, size=(40, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=40)
    t = np.linspace(-1.2, 1.2, 31)[:, None]
    model = fa.KernelRidge(kernel, lam=lam, **params).fit(t64(x), t64(y))
    ref = SkKernelRidge(alpha=lam, **sk).fit(x, y)
    np.testing.assert_allclose(model.predict(t64(t)).numpy(), ref.predict(t), atol=1e-8)
    np.testing.assert_allclose(model.alpha_.numpy(), ref.dual_coef_, atol=1e-7 / lam)
    # The RKHS norm sqrt(alpha^T K alpha) from scikit-learn's coefficients and kernel.
    K = pairwise.pairwise_kernels(
        x, metric=sk["kernel"], **{k: v for k, v in sk.items() if k != "kernel"}
    )
    norm_ref = math.sqrt(max(ref.dual_coef_ @ K @ ref.dual_coef_, 0.0))
    assert model.rkhs_norm().item() == pytest.approx(norm_ref, rel=1e-6, abs=1e-9)


def test_kernel_ridge_several_outputs_and_state():
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(25, 2)), rng.normal(size=(25, 3))
    model = fa.KernelRidge("rbf", lam=0.3, bandwidth=1.0)
    with pytest.raises(RuntimeError, match="fit"):
        model.predict(t64(x))
    model.fit(t64(x), t64(y))
    ref = SkKernelRidge(alpha=0.3, kernel="rbf", gamma=0.5).fit(x, y)
    np.testing.assert_allclose(model.predict(t64(x[:5])).numpy(), ref.predict(x[:5]), atol=1e-8)
    with pytest.raises(ValueError, match="one row per point"):
        model.fit(t64(x), t64(y[:10]))


# --- Gaussian processes -------------------------------------------------------------------------


def test_gp_samples_have_the_kernel_as_covariance():
    grid = t64(np.linspace(-1, 1, 6))
    draws = fa.gp_prior_samples(grid, "laplace", n_samples=60_000, seed=2, bandwidth=0.5)
    assert draws.shape == (60_000, 6)
    K = np.exp(-np.abs(grid.numpy()[:, None] - grid.numpy()[None]) / 0.5)
    emp = np.cov(draws.numpy().T)
    # Standard error of each entry is at most sqrt(2 / 60000) = 0.006.
    np.testing.assert_allclose(emp, K, atol=0.03)
    np.testing.assert_allclose(draws.numpy().mean(0), 0.0, atol=0.02)


def test_gp_samples_use_a_private_generator():
    grid = t64(np.linspace(0, 1, 30))
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    a = fa.gp_prior_samples(grid, "rbf", n_samples=4, seed=7, bandwidth=0.3)
    assert torch.equal(torch.rand(3), expected)
    b = fa.gp_prior_samples(grid, "rbf", n_samples=4, seed=7, bandwidth=0.3)
    assert torch.equal(a, b)
    c = fa.gp_prior_samples(grid, "rbf", n_samples=4, seed=8, bandwidth=0.3)
    assert not torch.equal(a, c)


# --- norms and contractions ---------------------------------------------------------------------


def test_function_norms_against_quadrature():
    grid = t64(np.linspace(0, 2, 40_001))

    def f(t):
        return np.sin(3 * t) * np.exp(-t)

    vals = t64(f(grid.numpy()))
    for p in (1, 2, 3.5):
        ref = integrate.quad(lambda t, p=p: abs(f(t)) ** p, 0, 2, limit=200)[0] ** (1 / p)
        assert fa.function_norm(vals, grid, p).item() == pytest.approx(ref, abs=1e-7)
    # the maximum of |f| is at tan(3t) = 3 (f' = 0 there), where sin(3t) = 3 / sqrt(10)
    t_max = math.atan(3.0) / 3
    ref_sup = 3 / math.sqrt(10) * math.exp(-t_max)
    assert fa.function_norm(vals, grid, math.inf).item() == pytest.approx(ref_sup, abs=1e-6)


@pytest.mark.parametrize(("n", "m"), [(1, 2), (3, 5), (4.5, 40)])
def test_ramp_distances_closed_form(n, m):
    grid = t64(np.linspace(0, 1, 400_001))
    diff = fa.ramp(grid, n) - fa.ramp(grid, m)
    assert fa.function_norm(diff, grid, 1).item() == pytest.approx(0.25 * (1 / n - 1 / m), abs=1e-8)
    assert fa.function_norm(diff, grid, math.inf).item() == pytest.approx(
        0.5 * (1 - n / m), abs=1e-5
    )
    assert fa.ramp(t64([0.0, 0.5, 1.0]), n).tolist() == [0.0, 0.5, 1.0]


def test_fixed_point_iteration_and_banach_bound():
    q = 0.6
    xs = fa.fixed_point_iterates(lambda x: q * torch.sin(x) + 1.0, 4.0, 60)
    star = brentq(lambda x: x - q * math.sin(x) - 1.0, 0, 3, xtol=1e-15)
    d01 = abs(xs[1] - xs[0]).item()
    for n in range(61):
        assert abs(xs[n].item() - star) <= fa.banach_bound(q, n, d01) + 1e-15
    assert xs.shape == (61,)
    assert fa.banach_bound(0.5, 3, 2.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="finite"):
        fa.fixed_point_iterates(lambda x: 10 * x * x, 3.0, 50)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        fa.banach_bound(1.0, 3, 1.0)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: fa.rbf_kernel([[0.0]]), TypeError, "torch.Tensor"),
        (lambda: fa.rbf_kernel(torch.ones(3, 2, dtype=torch.int64)), TypeError, "floating"),
        (lambda: fa.rbf_kernel(t64([0.0, float("nan")])), ValueError, "NaN"),
        (lambda: fa.laplace_kernel(t64([0.0, float("inf")])), ValueError, "infinite"),
        (lambda: fa.rbf_kernel(t64([0.0, 1.0]), bandwidth=0.0), ValueError, "bandwidth"),
        (lambda: fa.rbf_kernel(t64([0.0]), bandwidth=-1.0), ValueError, "bandwidth"),
        (lambda: fa.rbf_kernel(t64([0.0]), bandwidth=float("nan")), ValueError, "finite"),
        (lambda: fa.rbf_kernel(torch.empty(0, dtype=torch.float64)), ValueError, "empty"),
        (lambda: fa.rbf_kernel(torch.ones(2, 2, 2, dtype=torch.float64)), ValueError, "dimension"),
        (
            lambda: fa.rbf_kernel(
                torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)
            ),
            ValueError,
            "same dimension",
        ),
        (lambda: fa.polynomial_kernel(t64([1.0]), degree=0), ValueError, "degree"),
        (lambda: fa.polynomial_kernel(t64([1.0]), degree=2.0), TypeError, "integer"),
        (lambda: fa.polynomial_kernel(t64([1.0]), coef0=-1.0), ValueError, "coef0"),
        (lambda: fa.gram("cosine", t64([1.0])), ValueError, "one of"),
        (lambda: fa.gram("rbf", t64([1.0]), degree=2), TypeError, "rbf kernel"),
        (lambda: fa.gram(3, t64([1.0])), TypeError, "callable"),
        (lambda: fa.gram(lambda a, b: a, t64([1.0, 2.0])), ValueError, "callable must return"),
        (lambda: fa.rbf_kernel(torch.zeros(8000, dtype=torch.float64)), ValueError, "exceeds"),
        (lambda: fa.KernelRidge("rbf", lam=0.0), ValueError, "lam"),
        (lambda: fa.KernelRidge("rbf", lam=1.0).fit(t64([0.0, 1.0]), [1.0, 2.0]), TypeError, "y"),
        (lambda: fa.gp_prior_samples(t64([0.0, 1.0]), n_samples=0), ValueError, "n_samples"),
        (lambda: fa.gp_prior_samples(t64([0.0, 1.0]), seed=-1), ValueError, "seed"),
        (lambda: fa.gp_prior_samples(torch.zeros(5000, dtype=torch.float64)), ValueError, "4000"),
        (lambda: fa.kantorovich_dual(t64([0.0]), t64([1.0]), t64([0.5])), ValueError, "sum to 1"),
        (
            lambda: fa.kantorovich_dual(t64([0.0, 1.0]), t64([1.0]), t64([1.0])),
            ValueError,
            "2 weights",
        ),
        (lambda: fa.kantorovich_dual(t64([0.0]), t64([1.0]), t64([-0.5, 1.5])), ValueError, ">= 0"),
        (
            lambda: fa.kantorovich_dual(
                torch.zeros(200, dtype=torch.float64), torch.zeros(200, dtype=torch.float64)
            ),
            ValueError,
            "exceeds",
        ),
        (lambda: fa.kantorovich_dual(t64([[0.0, 1.0]]), t64([1.0])), ValueError, "same dimension"),
        (lambda: fa.mmd2(t64([0.0]), t64([1.0]), "linear", unbiased=True), ValueError, "n, m >= 2"),
        (lambda: fa.mmd2(t64([0.0]), t64([1.0]), "linear", unbiased=1), TypeError, "True or False"),
        (
            lambda: fa.mmd_witness(t64([0.0]), t64([1.0]), t64([0.0]), normalise="yes"),
            TypeError,
            "True or False",
        ),
        (
            lambda: fa.function_norm(t64([1.0, 2.0]), t64([0.0, 1.0]), p=0.5),
            ValueError,
            "p must be",
        ),
        (lambda: fa.function_norm(t64([1.0, 2.0]), t64([1.0, 0.0])), ValueError, "increasing"),
        (lambda: fa.function_norm(t64([1.0, 2.0, 3.0]), t64([0.0, 1.0])), ValueError, "length"),
        (lambda: fa.ramp(t64([0.5]), 0.5), ValueError, "n must be"),
        (lambda: fa.fixed_point_iterates(3.0, 0.0, 3), TypeError, "callable"),
        (lambda: fa.fixed_point_iterates(torch.cos, 0.0, -1), ValueError, "steps"),
        (
            lambda: fa.lipschitz_extension(t64([0.0, 1.0]), t64([0.0]), t64([0.5])),
            ValueError,
            "2 entries",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_results_follow_the_input_dtype():
    x32 = torch.randn(6, 2)
    assert fa.rbf_kernel(x32).dtype == torch.float32
    assert fa.kantorovich_dual(x32, x32 + 1).potential_x.dtype == torch.float32
    assert fa.gp_prior_samples(torch.linspace(0, 1, 5), "rbf", n_samples=2).dtype == torch.float32
    with pytest.raises(ValueError, match="same dtype"):
        fa.rbf_kernel(x32, x32.double())


# --- the chapter's exercise checks --------------------------------------------------------------


def test_exercise_checks_accept_right_and_reject_wrong_answers(capsys):
    from companion.exercises import CheckFailed
    from companion.exercises import functional as checks

    def features(v, scale=None):
        scale = math.sqrt(2) if scale is None else scale
        a, b = v[:, 0], v[:, 1]
        return torch.stack(
            [a * a, b * b, scale * a * b, scale * a, scale * b, torch.ones_like(a)], 1
        )

    assert checks.check_feature_map(features)
    with pytest.raises(CheckFailed, match="sqrt"):
        checks.check_feature_map(lambda v: features(v, scale=2.0))
    with pytest.raises(CheckFailed, match="one row per point"):
        checks.check_feature_map(lambda v: features(v).T)

    def n_needed(q, d, tol):
        n = 0
        while q**n * d / (1 - q) > tol:
            n += 1
        return n

    assert checks.check_iterations_needed(n_needed)
    with pytest.raises(CheckFailed, match="expected"):
        checks.check_iterations_needed(lambda q, d, tol: n_needed(q, d, tol) + 1)
    with pytest.raises(CheckFailed, match="int"):
        checks.check_iterations_needed(lambda q, d, tol: float(n_needed(q, d, tol)))

    def krr(x, y, t, lam, h, scale_lam=1.0):
        def k(a, b):
            return torch.exp(-(torch.cdist(a, b) ** 2) / (2 * h * h))

        eye = torch.eye(len(x), dtype=x.dtype)
        return k(t, x) @ torch.linalg.solve(k(x, x) + scale_lam * lam * eye, y)

    assert checks.check_kernel_ridge(krr)
    with pytest.raises(CheckFailed, match="predictions"):  # the (K + n lam I) convention
        checks.check_kernel_ridge(lambda *a: krr(*a, scale_lam=30.0))
    with pytest.raises(CheckFailed, match="raised"):
        checks.check_kernel_ridge(lambda *a: 1 / 0)
    assert capsys.readouterr().out.count("Correct") == 3


# == moved from explore/functional.py ==


@pytest.mark.parametrize("q", [0.1, 0.8, 1.0, 1.6, 2.0])
def test_cos_fixed_point_solves_x_equals_q_cos_x(q):
    x = fa.cos_fixed_point(q)
    assert x == pytest.approx(q * math.cos(x), abs=1e-14)
    # The same root by Newton's method on g(x) = x − q cos x from x = 0.5 (g is increasing for
    # q <= 1; for larger q it is still the only root of g on [−2.5, 2.5] that Newton finds here).
    y = 0.5
    for _ in range(60):
        y -= (y - q * math.cos(y)) / (1 + q * math.sin(y))
    assert x == pytest.approx(y, abs=1e-12)
    with pytest.raises(ValueError, match="q must"):
        fa.cos_fixed_point(0.0)
