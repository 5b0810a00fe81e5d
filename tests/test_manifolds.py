"""companion.manifolds against independent references (SciPy, scikit-learn, Monte Carlo)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from companion import manifolds as mf
from tests.helpers import FAST

F64 = torch.float64


def test_pca_spectrum_matches_sklearn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    spec = mf.pca_spectrum(torch.from_numpy(x))
    assert np.allclose(spec.numpy(), PCA().fit(x).explained_variance_ratio_, atol=1e-12)
    assert spec.sum().item() == pytest.approx(1.0)
    assert (spec[:-1] >= spec[1:]).all()


@pytest.mark.parametrize(("d", "D"), [(1, 5), (2, 3), (4, 12)])
def test_mle_dimension_of_flat_sets(d, D):
    rng = np.random.default_rng(d)
    basis, _ = np.linalg.qr(rng.normal(size=(D, d)))
    x = torch.from_numpy(rng.uniform(size=(3000, d)) @ basis.T)
    assert abs(mf.mle_intrinsic_dimension(x, k=10) - d) < 0.12 * d + 0.1


def test_mle_dimension_of_curved_sets():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(3000, 3))
    sphere = torch.from_numpy(s / np.linalg.norm(s, axis=1, keepdims=True))
    assert abs(mf.mle_intrinsic_dimension(sphere, k=12) - 2) < 0.2
    t = rng.uniform(0, 6 * math.pi, 2000)
    helix = torch.from_numpy(np.stack([np.cos(t), np.sin(t), 0.2 * t], axis=1))
    assert abs(mf.mle_intrinsic_dimension(helix, k=10) - 1) < 0.15


def test_mle_matches_a_direct_formula():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 4))
    dist = np.sort(np.linalg.norm(x[:, None] - x[None], axis=-1), axis=1)[:, 1:8]  # k = 7
    inv = np.mean(np.log(dist[:, -1:] / dist[:, :-1]), axis=1)
    assert mf.mle_intrinsic_dimension(torch.from_numpy(x), k=7) == pytest.approx(
        1 / inv.mean(), rel=1e-10
    )


def test_unrolling_score_extremes_and_spearman():
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 10, 300)
    along = np.stack([np.cos(0.7) * t, np.sin(0.7) * t], axis=1) + 0.0
    assert mf.unrolling_score(along, t) == pytest.approx(1.0, abs=1e-3)
    folded = np.stack([np.cos(t), np.sin(t)], axis=1)  # a circle: no line orders it
    assert mf.unrolling_score(folded, t) < 0.8
    emb = rng.normal(size=(300, 2))
    score = mf.unrolling_score(emb, t)
    ref = max(
        abs(stats.spearmanr(emb @ [math.cos(a), math.sin(a)], t)[0])
        for a in np.linspace(0, math.pi, 180, endpoint=False)
    )
    assert score == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("method", mf.METHODS)
def test_embed_shapes(method):
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.normal(size=(60, 3)))
    emb = mf.embed(x, method, 8)
    assert emb.shape == (60, 2) and np.isfinite(emb).all()


def test_isomap_unrolls_a_roll_and_pca_does_not():
    from companion import data

    x, t = data.swiss_roll(600, noise=0.05, seed=0, dtype=F64)
    assert mf.unrolling_score(mf.embed(x, "isomap", 8), t) > 0.9
    assert mf.unrolling_score(mf.embed(x, "pca", 8), t) < 0.5


@FAST
@given(st.integers(1, 300), st.floats(0.0, 1.0))
def test_slerp_keeps_equal_norms_and_hits_the_ends(d, t):
    g = torch.Generator().manual_seed(d)
    z0, z1 = torch.randn(2, d, generator=g, dtype=F64)
    z1 = z1 / z1.norm() * z0.norm()
    path = mf.slerp(z0, z1, t)
    assert path.norm().item() == pytest.approx(z0.norm().item(), rel=1e-9)
    assert torch.allclose(mf.slerp(z0, z1, 0.0), z0) and torch.allclose(mf.slerp(z0, z1, 1.0), z1)
    assert torch.allclose(mf.lerp(z0, z1, t), (1 - t) * z0 + t * z1)


def test_slerp_matches_the_classic_formula_and_bounds_the_norm():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 16, generator=g, dtype=F64)
    z1 = z1 / z1.norm() * z0.norm()
    om = torch.arccos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
    classic = (torch.sin(0.3 * om) * z0 + torch.sin(0.7 * om) * z1) / torch.sin(om)
    assert torch.allclose(mf.slerp(z0, z1, 0.7), classic, atol=1e-12)
    # Unequal norms, nearly opposite directions: the norm stays between the two.
    a = torch.tensor([1.0, 0.0], dtype=F64)
    b = torch.tensor([-3.0, 0.05], dtype=F64)
    norms = torch.stack([mf.slerp(a, b, t).norm() for t in np.linspace(0, 1, 21)])
    assert norms.min() >= 1.0 - 1e-12 and norms.max() <= b.norm() + 1e-12


def test_slerp_of_parallel_vectors_is_lerp_and_angles_are_linear():
    z = torch.tensor([1.0, 2.0, 2.0], dtype=F64)
    assert torch.allclose(mf.slerp(z, 2 * z, 0.3), mf.lerp(z, 2 * z, 0.3))
    a, b = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([0.0, 1.0], dtype=F64)
    mid = mf.slerp(a, b, 1 / 3)
    assert torch.allclose(
        mid, torch.tensor([math.cos(math.pi / 6), math.sin(math.pi / 6)], dtype=F64)
    )


def test_gaussian_norms_against_scipy_and_monte_carlo():
    for d in (1, 3, 50, 500):
        assert mf.gaussian_norm_mean(d) == pytest.approx(stats.chi(d).mean(), rel=1e-12)
        q = mf.gaussian_norm_quantiles(d, [0.1, 0.5, 0.9])
        assert np.allclose(q.numpy(), stats.chi(d).ppf([0.1, 0.5, 0.9]), rtol=1e-10)
    draws = torch.randn(100_000, 64, dtype=F64).norm(dim=1)
    se = draws.std().item() / math.sqrt(len(draws))
    assert abs(draws.mean().item() - mf.gaussian_norm_mean(64)) < 4 * se


def test_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        mf.pca_spectrum(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="zero variance"):
        mf.pca_spectrum(torch.ones(5, 3))
    with pytest.raises(ValueError, match="duplicate"):
        mf.mle_intrinsic_dimension(torch.ones(10, 2), k=3)
    with pytest.raises(ValueError, match="smaller than"):
        mf.mle_intrinsic_dimension(torch.randn(5, 2), k=5)
    with pytest.raises(TypeError):
        mf.mle_intrinsic_dimension(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="method"):
        mf.embed(torch.randn(10, 3), "umap")
    with pytest.raises(ValueError, match="n_neighbors"):
        mf.embed(torch.randn(10, 3), "isomap", 10)
    with pytest.raises(ValueError, match="shape"):
        mf.unrolling_score(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="t must"):
        mf.unrolling_score(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        mf.slerp(torch.ones(2), torch.ones(3), 0.5)
    with pytest.raises(ValueError, match="lie in"):
        mf.lerp(torch.ones(2), torch.ones(2), 1.5)
    with pytest.raises(ValueError, match="non-zero"):
        mf.slerp(torch.zeros(2), torch.ones(2), 0.5)
    with pytest.raises(ValueError, match="probs"):
        mf.gaussian_norm_quantiles(3, [0.0, 0.5])
    with pytest.raises(ValueError, match="d must"):
        mf.gaussian_norm_mean(0)


def _roll(v):
    return torch.stack([v[0] * torch.cos(v[0]), v[1], v[0] * torch.sin(v[0])])


def test_decoder_jacobian_and_metric_of_the_swiss_roll_match_the_hand_derivation():
    t, h = 6.1, -2.0
    z = torch.tensor([t, h], dtype=F64)
    jac = mf.decoder_jacobian(_roll, z)
    hand = torch.tensor(
        [[math.cos(t) - t * math.sin(t), 0.0], [0.0, 1.0], [math.sin(t) + t * math.cos(t), 0.0]],
        dtype=F64,
    )
    assert torch.allclose(jac, hand, atol=1e-12)
    metric = mf.pullback_metric(_roll, z)
    assert torch.allclose(metric, torch.diag(torch.tensor([1 + t * t, 1.0], dtype=F64)))


def test_metric_of_a_neural_decoder_against_finite_differences():
    gen = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 5))
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=F64))
    z = torch.tensor([0.3, -0.7], dtype=F64)
    eps = 1e-6
    fd = torch.stack(
        [(net(z + eps * e) - net(z - eps * e)) / (2 * eps) for e in torch.eye(2, dtype=F64)], 1
    )
    assert torch.allclose(mf.pullback_metric(net, z), fd.T @ fd, atol=1e-6)
    # The batched magnification factor agrees with the pointwise metric.
    pts = torch.randn(7, 2, generator=gen, dtype=F64)
    vol = mf.magnification(net, pts)
    ref = torch.stack([torch.linalg.det(mf.pullback_metric(net, p)).sqrt() for p in pts])
    assert torch.allclose(vol, ref, atol=1e-10)


def test_curve_length_against_closed_forms():
    # A spiral of the roll at fixed h: ∫ sqrt(1 + t²) dt, by SciPy quadrature.
    from scipy import integrate

    t = torch.linspace(2.0, 9.0, 300, dtype=F64)
    path = torch.stack([t, torch.full_like(t, 4.0)], 1)
    exact = integrate.quad(lambda s: math.sqrt(1 + s * s), 2.0, 9.0)[0]
    assert mf.curve_length(_roll, path) == pytest.approx(exact, rel=1e-5)

    # A linear decoder with orthonormal columns is an isometry: decoded length = latent length.
    q, _ = torch.linalg.qr(torch.randn(6, 3, dtype=F64, generator=torch.Generator().manual_seed(1)))
    line = torch.stack([torch.linspace(0, 1, 5, dtype=F64)] * 3, 1) * torch.tensor([1.0, -2, 3])
    assert mf.curve_length(lambda v: q @ v, line) == pytest.approx(math.sqrt(14), rel=1e-12)


def test_geometry_bad_input():
    z = torch.zeros(2, dtype=F64)
    with pytest.raises(TypeError, match="callable"):
        mf.pullback_metric("not a map", z)
    with pytest.raises(ValueError, match="1-D tensor"):
        mf.decoder_jacobian(lambda v: v.sum(), z)
    with pytest.raises(ValueError, match="dimension"):
        mf.pullback_metric(_roll, torch.zeros(1, 2, dtype=F64))
    with pytest.raises(ValueError, match="NaN"):
        mf.curve_length(_roll, torch.full((3, 2), float("nan"), dtype=F64))
    with pytest.raises(ValueError, match="at least 2"):
        mf.curve_length(_roll, torch.zeros(1, 2, dtype=F64))
    with pytest.raises(TypeError, match="floating"):
        mf.curve_length(_roll, torch.zeros(3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="one row"):
        mf.magnification(lambda zs: zs.sum(), torch.zeros(3, 2, dtype=F64))
    with pytest.raises(TypeError, match="callable"):
        mf.magnification(3, torch.zeros(3, 2, dtype=F64))


# == moved from explore/manifolds.py ==


@pytest.mark.parametrize("d", [1, 2, 7, 64])
def test_gaussian_norm_pdf_is_the_chi_density(d):
    r = np.linspace(0.05, 3 * math.sqrt(d), 50)
    log_ref = (
        (1 - d / 2) * math.log(2) - math.lgamma(d / 2) + (d - 1) * np.log(r) - r**2 / 2
    )  # χ_d: r^{d−1} e^{−r²/2} / (2^{d/2−1} Γ(d/2))
    np.testing.assert_allclose(mf.gaussian_norm_pdf(d, r), np.exp(log_ref), rtol=1e-10)


def test_norm_along_paths_against_numpy():
    p = mf.norm_along_paths(5, seed=2, n_t=11)
    z0, z1 = torch.randn(2, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    a, b = z0.numpy(), z1.numpy()
    t = np.linspace(0, 1, 11)
    np.testing.assert_allclose(
        p["lerp"], np.linalg.norm((1 - t)[:, None] * a + t[:, None] * b, axis=1)
    )
    # slerp interpolates the norms linearly (its direction has unit length).
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    np.testing.assert_allclose(p["slerp"], (1 - t) * na + t * nb, rtol=1e-10)
    assert p["q01"] == pytest.approx(stats.chi(5).ppf(0.01))
    assert p["q99"] == pytest.approx(stats.chi(5).ppf(0.99))
