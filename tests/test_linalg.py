"""companion.linalg: every listed identity against autograd; helpers against numpy/scipy/sklearn."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from companion import linalg as la
from tests.helpers import FAST

F64 = torch.float64


@pytest.mark.parametrize("identity", la.IDENTITIES, ids=lambda i: i.name)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identity_against_autograd(identity, seed):
    gen = torch.Generator().manual_seed(seed)
    inputs = identity.inputs(gen)
    var = inputs[0].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(identity.f(var, *inputs[1:]), var)
    closed = identity.grad(inputs[0], *inputs[1:])
    assert closed.shape == inputs[0].shape, "gradients have the shape of the variable"
    torch.testing.assert_close(closed, auto, rtol=1e-10, atol=1e-10)
    assert auto.abs().max() > 0  # a vanishing gradient would make the check vacuous


def test_identities_are_distinct_and_named():
    names = [i.name for i in la.IDENTITIES]
    assert len(set(names)) == len(names) >= 15
    assert all(i.latex.count("=") >= 1 for i in la.IDENTITIES)


def test_a_wrong_identity_fails_the_check():
    """The seed's denominator-layout claim ∂(Ax)/∂x = A, read as a gradient of bᵀAx, is A b,
    not Aᵀ b: the autograd check must catch such a slip (for a non-symmetric A)."""
    gen = torch.Generator().manual_seed(0)
    x, A, b = (torch.randn(*s, generator=gen, dtype=F64) for s in ((4,), (4, 4), (4,)))
    xv = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(b @ A @ xv, xv)
    assert not torch.allclose(A @ b, auto)
    torch.testing.assert_close(A.T @ b, auto)


def test_jacobian_layouts():
    A = torch.randn(3, 4, dtype=F64)

    def f(x):
        return torch.tanh(A @ x)

    x = torch.randn(4, dtype=F64)
    J = la.jacobian(f, x)
    assert J.shape == (3, 4)
    # Numerator layout: J_ij = ∂f_i/∂x_j = (1 - tanh²)_i A_ij.
    torch.testing.assert_close(J, (1 - torch.tanh(A @ x) ** 2)[:, None] * A)
    torch.testing.assert_close(la.jacobian(f, x, layout="denominator"), J.T)
    # Chain rule: numerator layout multiplies outer-to-inner; denominator inner-to-outer.
    B = torch.randn(2, 3, dtype=F64)

    def g(u):
        return (B @ u) ** 2

    Jg = la.jacobian(g, f(x))
    Jgf = la.jacobian(lambda z: g(f(z)), x)
    torch.testing.assert_close(Jgf, Jg @ J)
    torch.testing.assert_close(
        la.jacobian(lambda z: g(f(z)), x, layout="denominator"),
        la.jacobian(f, x, layout="denominator") @ la.jacobian(g, f(x), layout="denominator"),
    )


def test_sylvester_semidefinite_counterexample():
    A = torch.tensor([[0.0, 0.0], [0.0, -1.0]], dtype=F64)
    assert torch.all(la.leading_minors(A) >= 0)  # leading minors 0, 0 ...
    assert not la.is_positive_semidefinite(A)  # ... yet A is not PSD (eigenvalue -1)
    assert torch.linalg.eigvalsh(A).min() < 0
    B = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=F64)  # PSD, singular
    assert la.is_positive_semidefinite(B) and not la.is_positive_definite(B)


@given(
    arrays(np.float64, (4, 4), elements=st.floats(-3, 3)),
    st.integers(0, 4),
)
@FAST
def test_definiteness_against_eigenvalues(M, rank):
    """PSD/PD via minors agrees with the eigenvalues (rank-deficient Gram matrices included)."""
    B = torch.as_tensor(M)
    for A in (B + B.T, B[:, :rank] @ B[:, :rank].T if rank else B @ B.T):
        ev = torch.linalg.eigvalsh(A)
        scale = max(float(A.abs().max()), 1.0)
        if ev.min() > 1e-6 * scale:
            assert la.is_positive_definite(A) and la.is_positive_semidefinite(A)
        elif ev.min() < -1e-6 * scale:
            assert not la.is_positive_definite(A) and not la.is_positive_semidefinite(A)


def test_principal_minors_enumeration():
    A = torch.randn(4, 4, dtype=F64)
    pm = la.principal_minors(A)
    assert len(pm) == 2**4 - 1
    idx = [c for k in range(1, 5) for c in itertools.combinations(range(4), k)]
    ref = [np.linalg.det(A.numpy()[np.ix_(c, c)]) for c in idx]
    np.testing.assert_allclose(pm.numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(la.leading_minors(A).numpy(), [ref[0], ref[4], ref[10], ref[14]])


def test_condition_number_against_numpy():
    A = torch.randn(5, 5, dtype=F64)
    assert la.condition_number(A).item() == pytest.approx(np.linalg.cond(A.numpy()), rel=1e-10)
    S = A @ A.T + 0.1 * torch.eye(5, dtype=F64)
    ev = torch.linalg.eigvalsh(S)
    assert la.condition_number(S).item() == pytest.approx((ev[-1] / ev[0]).item(), rel=1e-9)
    assert math.isinf(la.condition_number(torch.zeros(2, 2, dtype=F64)).item()) or math.isnan(
        la.condition_number(torch.zeros(2, 2, dtype=F64)).item()
    )


def test_pca_against_sklearn():
    from sklearn.decomposition import PCA

    gen = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=gen, dtype=F64) @ torch.randn(5, 5, generator=gen, dtype=F64)
    res = la.pca(X, 3)
    sk = PCA(n_components=3).fit(X.numpy())
    np.testing.assert_allclose(res["variance"].numpy(), sk.explained_variance_, rtol=1e-10)
    # Components agree up to sign.
    dots = np.abs(np.sum(res["components"].numpy() * sk.components_, axis=1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-10)
    np.testing.assert_allclose(
        res["reconstruction"].numpy(),
        sk.inverse_transform(sk.transform(X.numpy())),
        atol=1e-10,
    )
    # Variances are the top eigenvalues of the sample covariance.
    ev = np.sort(np.linalg.eigvalsh(np.cov(X.numpy().T)))[::-1][:3]
    np.testing.assert_allclose(res["variance"].numpy(), ev, rtol=1e-10)


def test_circle_image_and_svd_axes():
    A = torch.tensor([[2.0, 1.0], [-0.5, 1.0]], dtype=F64)
    circle, image = la.circle_image(A, n=2001)
    torch.testing.assert_close(circle.norm(dim=1), torch.ones(2001, dtype=F64))
    s = torch.linalg.svdvals(A)
    r = image.norm(dim=1)
    assert r.max().item() == pytest.approx(s[0].item(), rel=1e-5)
    assert r.min().item() == pytest.approx(s[1].item(), rel=1e-5)


def test_eigen_2x2_real_complex_and_shear():
    vals, vecs = la.eigen_2x2(torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=F64))
    assert sorted(vals.real.tolist()) == pytest.approx([1.0, 3.0]) and vecs is not None
    A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=F64)
    torch.testing.assert_close(A @ vecs, vecs * vals.real)
    vals, vecs = la.eigen_2x2(torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=F64))
    assert vecs is None and sorted(vals.imag.tolist()) == pytest.approx([-1.0, 1.0])


def test_logdet_and_determinant_lemma():
    gen = torch.Generator().manual_seed(1)
    B = torch.randn(4, 4, generator=gen, dtype=F64)
    A = B @ B.T + torch.eye(4, dtype=F64)
    assert la.logdet_spd(A).item() == pytest.approx(np.linalg.slogdet(A.numpy())[1], rel=1e-12)
    Av = A.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(la.logdet_spd(Av), Av)
    # Cholesky reads one triangle; the gradient it returns, symmetrised, is A⁻¹.
    torch.testing.assert_close(0.5 * (g + g.T), torch.linalg.inv(A))
    u, v = torch.randn(4, generator=gen, dtype=F64), torch.randn(4, generator=gen, dtype=F64)
    lhs = torch.linalg.det(A + torch.outer(u, v))
    rhs = (1 + v @ torch.linalg.solve(A, u)) * torch.linalg.det(A)
    assert lhs.item() == pytest.approx(rhs.item(), rel=1e-10)


def test_gaussian_log_likelihood_against_scipy_and_torch():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(6, 3, generator=gen, dtype=F64)
    mu = torch.randn(3, generator=gen, dtype=F64)
    B = torch.randn(3, 3, generator=gen, dtype=F64)
    cov = B @ B.T + 0.5 * torch.eye(3, dtype=F64)
    ll = la.gaussian_log_likelihood(x, mu, cov).item()
    ref = scipy.stats.multivariate_normal(mu.numpy(), cov.numpy()).logpdf(x.numpy()).sum()
    assert ll == pytest.approx(ref, rel=1e-12)
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    assert ll == pytest.approx(mvn.log_prob(x).sum().item(), rel=1e-12)
    # One vector works too.
    assert la.gaussian_log_likelihood(x[0], mu, cov).item() == pytest.approx(
        mvn.log_prob(x[0]).item(), rel=1e-12
    )


def test_gaussian_mle_is_a_stationary_point():
    x = torch.randn(50, 2, dtype=F64) @ torch.tensor([[1.0, 0.5], [0.0, 0.7]], dtype=F64)
    mu = x.mean(0)
    cov = (x - mu).T @ (x - mu) / 50
    gmu, gcov = la.gaussian_log_likelihood_grad(x, mu, cov)
    assert gmu.abs().max() < 1e-10 and gcov.abs().max() < 1e-9


def test_hutchinson_unbiased():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=gen, dtype=F64)
    est, se = la.hutchinson_trace(lambda v: v @ A.T, 6, 20_000, generator=gen)
    assert abs(est - torch.trace(A)).item() < 4 * se.item()
    # Rademacher probes: exact variance 2 Σ_{i≠j} ((A_ij + A_ji)/2)², check the s.e. scale.
    Sym = 0.5 * (A + A.T)
    var = 2 * ((Sym**2).sum() - (torch.diagonal(Sym) ** 2).sum())
    assert se.item() == pytest.approx(math.sqrt(var.item() / 20_000), rel=0.05)


def test_trace_and_frobenius_identities():
    gen = torch.Generator().manual_seed(4)
    A, B, C = (torch.randn(3, 3, generator=gen, dtype=F64) for _ in range(3))
    t = torch.trace
    assert t(A @ B @ C).item() == pytest.approx(t(B @ C @ A).item())
    assert t(A @ B @ C).item() == pytest.approx(t(C @ A @ B).item())
    assert t(A).item() == pytest.approx(torch.linalg.eigvals(A).sum().real.item())
    s = torch.linalg.svdvals(A)
    assert torch.linalg.matrix_norm(A).item() == pytest.approx(math.sqrt((s**2).sum().item()))
    Q, _ = torch.linalg.qr(B)
    assert torch.linalg.matrix_norm(Q @ A).item() == pytest.approx(
        torch.linalg.matrix_norm(A).item()
    )


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        la.leading_minors(torch.zeros(2, 3, dtype=F64))
    with pytest.raises(ValueError, match="2×2"):
        la.circle_image(torch.eye(3, dtype=F64))
    with pytest.raises(TypeError):
        la.condition_number([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        la.is_positive_definite(torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=F64))
    with pytest.raises(ValueError, match="k must"):
        la.pca(torch.randn(5, 2, dtype=F64), 3)
    with pytest.raises(ValueError, match="two rows"):
        la.pca(torch.randn(1, 2, dtype=F64), 1)
    with pytest.raises(ValueError, match="layout"):
        la.jacobian(torch.sin, torch.zeros(2, dtype=F64), layout="mixed")
    with pytest.raises(TypeError, match="callable"):
        la.jacobian(3, torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="positive definite"):
        la.logdet_spd(torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=F64))
    with pytest.raises(ValueError, match="dimensions"):
        la.gaussian_log_likelihood(
            torch.zeros(3, dtype=F64), torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64)
        )
    with pytest.raises(ValueError, match="n_samples"):
        la.hutchinson_trace(lambda v: v, 3, 1)
    with pytest.raises(ValueError, match="too large"):
        la.principal_minors(torch.eye(13, dtype=F64))


def test_product_rule_denominator_layout():
    """∂(f(x)ᵀ g(x))/∂x = J_fᵀ g + J_gᵀ f (J in numerator layout): the cheat sheet's
    "J_f g + J_g f" is missing the transposes."""
    A = torch.randn(3, 4, dtype=F64)
    B = torch.randn(3, 4, dtype=F64)

    def f(x):
        return torch.sin(A @ x)

    def g(x):
        return (B @ x) ** 2

    x = torch.randn(4, dtype=F64)
    xv = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(f(xv) @ g(xv), xv)
    Jf, Jg = la.jacobian(f, x), la.jacobian(g, x)
    torch.testing.assert_close(Jf.T @ g(x) + Jg.T @ f(x), auto)
    assert Jf.shape == (3, 4)  # "J_f g" would not even be defined for a non-square J


# == moved from explore/linalg.py ==


def test_pca_cloud_has_the_stated_covariance():
    """Many points from the rotated cloud: sample covariance against R diag(4, 4r²) Rᵀ."""
    angle, ratio = 30.0, 0.4
    X = la.pca_cloud(angle, ratio, n=200_000, seed=0).numpy()
    th = math.radians(angle)
    R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    cov = R @ np.diag([4.0, 4.0 * ratio**2]) @ R.T
    np.testing.assert_allclose(np.cov(X.T), cov, atol=0.05)
    assert np.array_equal(la.pca_cloud(10.0, 0.5).numpy(), la.pca_cloud(10.0, 0.5).numpy())
    assert la.pca_cloud(10.0, 0.5).shape == (150, 2)
    with pytest.raises(ValueError, match="ratio"):
        la.pca_cloud(0.0, 0.0)
