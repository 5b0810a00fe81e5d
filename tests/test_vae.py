"""companion.vae against independent references: SciPy, torch.distributions, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

from companion import data, models, vae
from tests.helpers import FAST

F64 = torch.float64


def ppca(seed: int = 0, D: int = 3, d: int = 2, orthogonal: bool = True):
    """A random pPCA model (W's columns orthogonal, so that the exact posterior is diagonal)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(D, d, generator=g, dtype=F64)
    if orthogonal:
        q, _ = torch.linalg.qr(W)
        W = q * torch.tensor([1.7, 0.6, 1.1, 0.9][:d], dtype=F64)
    b = torch.randn(D, generator=g, dtype=F64)
    return vae.LinearGaussian(W, b, 0.7), g


# --- closed forms ------------------------------------------------------------------------------
@FAST
@given(
    st.lists(st.floats(-4, 4), min_size=1, max_size=5),
    st.lists(st.floats(0.05, 5), min_size=5, max_size=5),
)
def test_kl_to_standard_normal_matches_torch(mu, sigma):
    mu = torch.tensor(mu, dtype=F64)
    sigma = torch.tensor(sigma[: len(mu)], dtype=F64)
    ref = kl_divergence(Normal(mu, sigma), Normal(torch.zeros_like(mu), 1.0)).sum()
    assert vae.kl_to_standard_normal(mu, sigma).item() == pytest.approx(ref.item(), abs=1e-10)


def test_log_likelihoods_match_torch_distributions():
    g = torch.Generator().manual_seed(1)
    x, m = torch.randn(4, 6, generator=g, dtype=F64), torch.randn(4, 6, generator=g, dtype=F64)
    log_s = 0.3 * torch.randn(6, generator=g, dtype=F64)
    ref = Normal(m, log_s.exp()).log_prob(x).sum(-1)
    assert torch.allclose(vae.gaussian_log_likelihood(x, m, log_s), ref, atol=1e-12)
    xb = (torch.rand(4, 6, generator=g) > 0.5).double()
    logits = 3 * torch.randn(4, 6, generator=g, dtype=F64)
    ref = Bernoulli(logits=logits).log_prob(xb).sum(-1)
    assert torch.allclose(vae.bernoulli_log_likelihood(xb, logits), ref, atol=1e-12)


def test_kl_bad_input():
    with pytest.raises(ValueError, match="standard deviation"):
        vae.kl_to_standard_normal(torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        vae.kl_to_standard_normal(torch.zeros(2), torch.ones(3))
    with pytest.raises(TypeError):
        vae.kl_to_standard_normal([0.0], torch.ones(1))


# --- probabilistic PCA -------------------------------------------------------------------------
def test_ppca_marginal_and_posterior_against_scipy_and_conditioning():
    model, g = ppca(orthogonal=False)
    x = torch.randn(5, 3, generator=g, dtype=F64)
    ref = stats.multivariate_normal(model.b.numpy(), model.marginal_cov().numpy()).logpdf(x)
    assert np.allclose(model.log_marginal(x).numpy(), ref, atol=1e-10)
    # The posterior by conditioning the joint Gaussian of (z, x).
    W, d = model.W, model.latent_dim
    s_zx, s_xx = W.T, model.marginal_cov()
    gain = s_zx @ torch.linalg.inv(s_xx)
    mean_ref = (x - model.b) @ gain.T
    cov_ref = torch.eye(d, dtype=F64) - gain @ s_zx.T
    mean, cov = model.posterior(x)
    assert torch.allclose(mean, mean_ref, atol=1e-10) and torch.allclose(cov, cov_ref, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ppca_elbo_equals_log_px_at_the_posterior(seed):
    model, g = ppca(seed, orthogonal=False)
    x = model.sample(1, generator=g)[0]
    mean, cov = model.posterior(x)
    assert abs(model.elbo(x, mean, cov).item() - model.log_marginal(x).item()) < 1e-8


@FAST
@given(st.integers(0, 10**6))
def test_ppca_gap_is_the_kl_to_the_posterior_for_any_q(seed):
    model, _ = ppca(3, orthogonal=False)
    g = torch.Generator().manual_seed(seed)
    x = model.sample(1, generator=g)[0]
    m = 2 * torch.randn(2, generator=g, dtype=F64)
    A = torch.randn(2, 2, generator=g, dtype=F64)
    C = A @ A.T + 0.05 * torch.eye(2, dtype=F64)
    mean, cov = model.posterior(x)
    gap = model.log_marginal(x) - model.elbo(x, m, C)
    kl = kl_divergence(MultivariateNormal(m, C), MultivariateNormal(mean, cov))
    assert gap.item() == pytest.approx(kl.item(), abs=1e-8)
    assert gap.item() >= -1e-12


def test_ppca_elbo_against_monte_carlo_with_torch_distributions():
    model, g = ppca(4, orthogonal=False)
    x = model.sample(1, generator=g)[0]
    m, C = torch.tensor([0.3, -0.2], dtype=F64), torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=F64)
    q = MultivariateNormal(m, C)
    z = q.sample((400_000,))
    prior = MultivariateNormal(torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64))
    lik = Normal(z @ model.W.T + model.b, model.s).log_prob(x).sum(-1)
    terms = lik + prior.log_prob(z) - q.log_prob(z)
    se = terms.std().item() / math.sqrt(len(terms))
    assert abs(terms.mean().item() - model.elbo(x, m, C).item()) < 4 * se


def test_ppca_bad_input():
    with pytest.raises(ValueError, match="standard deviation"):
        vae.LinearGaussian(torch.ones(2, 1), torch.zeros(2), 0.0)
    with pytest.raises(ValueError, match="entries"):
        vae.LinearGaussian(torch.ones(2, 1), torch.zeros(3), 1.0)
    model, _ = ppca()
    with pytest.raises(ValueError, match="columns"):
        model.log_marginal(torch.zeros(4, dtype=F64))
    with pytest.raises(ValueError, match="positive definite"):
        model.elbo(torch.zeros(3, dtype=F64), torch.zeros(2, dtype=F64), -torch.eye(2, dtype=F64))


# --- the VAE contains pPCA: its ELBO carries every constant -------------------------------------
def linear_vae(model: vae.LinearGaussian, exact: bool = True) -> vae.VAE:
    """An affine Gaussian VAE whose decoder is ``model`` and whose encoder is the exact posterior
    (or, with exact=False, a deliberately wrong one)."""
    D, d = model.data_dim, model.latent_dim
    net = vae.VAE(D, latent_dim=d, hidden=[], obs_std=model.s, learn_std=False).double()
    eye = torch.eye(d, dtype=F64)
    cov = torch.linalg.inv(eye + model.W.T @ model.W / model.s**2)
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=1e-12)
    A = cov @ model.W.T / model.s**2
    log_sd = 0.5 * torch.log(torch.diagonal(cov))
    if not exact:
        A, log_sd = 0.7 * A, log_sd + 0.4
    with torch.no_grad():
        enc, dec = net.encoder[0], net.decoder[0]
        enc.weight.copy_(torch.cat([A, torch.zeros(d, D, dtype=F64)]))
        enc.bias.copy_(torch.cat([-A @ model.b, log_sd]))
        dec.weight.copy_(model.W)
        dec.bias.copy_(model.b)
    return net


def test_vae_elbo_and_iwae_equal_log_px_when_q_is_the_posterior():
    model, g = ppca(5)
    net = linear_vae(model)
    x = model.sample(6, generator=g)
    log_px = model.log_marginal(x)
    with torch.no_grad():
        # log p(x, z) - log q(z|x) = log p(x) for every z: the IWAE estimate has no variance.
        for k in (1, 3, 50):
            assert torch.allclose(net.iwae(x, k), log_px, atol=1e-8)
        # The ELBO's estimate (analytic KL, sampled reconstruction) is unbiased for log p(x).
        torch.manual_seed(0)
        draws = net.elbo(x.repeat(20_000, 1)).reshape(20_000, -1)
    se = draws.std(0) / math.sqrt(20_000)
    assert ((draws.mean(0) - log_px).abs() < 4 * se).all()
    with torch.no_grad():
        mu, sigma = net.encode(x)
    mean, cov = model.posterior(x)
    assert torch.allclose(mu, mean, atol=1e-10)
    assert torch.allclose(sigma**2, torch.diagonal(cov).expand_as(sigma), atol=1e-10)


def test_vae_elbo_is_unbiased_and_iwae_increases_with_k():
    model, g = ppca(6)
    net = linear_vae(model, exact=False)
    x = model.sample(1, generator=g)
    log_px = model.log_marginal(x).item()
    mu, sigma = net.encode(x)
    exact_elbo = model.elbo(x[0], mu[0].detach(), torch.diag(sigma[0].detach() ** 2)).item()
    assert exact_elbo < log_px - 0.05  # the wrong encoder leaves a visible gap
    reps = x.expand(40_000, -1)
    torch.manual_seed(0)
    with torch.no_grad():
        elbo = net.elbo(reps)
        bounds = {k: net.iwae(reps, k) for k in (1, 2, 5, 20, 100)}
    se = elbo.std().item() / math.sqrt(len(elbo))
    assert abs(elbo.mean().item() - exact_elbo) < 4 * se
    means = {k: v.mean().item() for k, v in bounds.items()}
    ses = {k: v.std().item() / math.sqrt(len(v)) for k, v in bounds.items()}
    assert abs(means[1] - exact_elbo) < 4 * ses[1]  # IWAE_1 is the one-sample ELBO
    ks = sorted(means)
    for a, b in zip(ks, ks[1:], strict=False):
        assert means[b] > means[a] - 4 * math.hypot(ses[a], ses[b]), (a, b, means)
        assert means[b] >= exact_elbo - 4 * ses[b]
    assert means[100] > means[1] + 10 * ses[1]  # strictly tighter, by a clear margin
    assert all(m <= log_px + 4 * ses[k] for k, m in means.items())


# --- training, files, the conditional VAE ------------------------------------------------------
@pytest.fixture(scope="module")
def moons_model():
    return vae.fit(data.moons(4000, seed=0), progress=False)


def test_default_fit_models_the_moons(moons_model):
    x = data.moons(4000, seed=1)
    with torch.no_grad():
        s = moons_model.sample(3000, generator=torch.Generator().manual_seed(0))
    assert s.shape == (3000, 2) and s.device == moons_model.device
    to_data = torch.cdist(s, x).min(1).values
    to_model = torch.cdist(x[:3000], s).min(1).values
    assert to_data.median() < 0.06  # samples lie on the moons (data noise 0.05) ...
    assert to_model.quantile(0.99) < 0.15  # ... and every part of the moons is covered
    upper = s[:, 1] > 0.25 - 0.5 * (s[:, 0] - 0.5) * 0  # rough split between the two moons
    assert 0.3 < upper.float().mean() < 0.7
    assert math.isfinite(moons_model.history[-1]["-elbo"])


def test_iwae_of_a_trained_model_is_above_the_elbo(moons_model):
    x = data.moons(2000, seed=2)
    torch.manual_seed(0)
    with torch.no_grad():
        elbo = moons_model.elbo(x, samples=8)
        iw = {k: moons_model.iwae(x, k) for k in (1, 10, 100)}
    se = lambda t: t.std().item() / math.sqrt(len(t))  # noqa: E731
    assert iw[10].mean() > elbo.mean() + 2 * se(elbo)
    assert iw[100].mean() > iw[10].mean() - 2 * math.hypot(se(iw[10]), se(iw[100]))


def test_save_load_round_trip(tmp_path, moons_model):
    path = moons_model.save(tmp_path / "m.pt")
    blob = torch.load(path, weights_only=True)
    assert blob["family"] == "vae" and blob["config"]["latent_dim"] == 2
    again = vae.VAE.load(path)
    z = torch.randn(5, 2)
    assert torch.allclose(again.decode(z), moons_model.decode(z))


def test_shipped_checkpoints_load_and_make_digits():
    model = models.load_pretrained("vae_digits", vae.VAE)
    assert model.likelihood == "bernoulli" and model.latent_dim == 2
    images, labels = vae.binarized_digits()
    with torch.no_grad():
        elbo = model.elbo(images, samples=4).mean().item()
        samples = model.sample(200, mean=True, generator=torch.Generator().manual_seed(0))
    assert -30 < elbo < 0  # nats per 64 binary pixels; a uniform guess scores 64 log ½ = -44
    assert samples.shape == (200, 64) and 0 <= samples.min() and samples.max() <= 1
    # Samples resemble digits: a nearest-centroid classifier of the real digits is confident on
    # most of them (its distance to the nearest class mean is typical of real digits).
    centroids = torch.stack([images[labels == c].mean(0) for c in range(10)])
    real = torch.cdist(images, centroids).min(1).values
    fake = torch.cdist(samples, centroids).min(1).values
    assert fake.median() < real.quantile(0.9)
    cvae = models.load_pretrained("vae_digits_cvae", vae.VAE)
    with torch.no_grad():
        threes = cvae.sample(100, labels=3, mean=True, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(threes, centroids).argmin(1)
    assert (nearest == 3).float().mean() > 0.6


def test_conditional_vae_needs_labels():
    x = data.moons(64, seed=0)
    y = torch.arange(64) % 2
    model = vae.fit(x, labels=y, steps=5, progress=False)
    assert model.n_classes == 2
    assert model.elbo(x, y).shape == (64,)
    assert model.sample(7, labels=1).shape == (7, 2)
    with pytest.raises(ValueError, match="pass labels"):
        model.elbo(x)
    with pytest.raises(ValueError, match="0..1"):
        model.sample(3, labels=torch.tensor([0, 1, 2]))
    unconditional = vae.fit(x, steps=2, progress=False)
    with pytest.raises(ValueError, match="unconditional"):
        unconditional.sample(2, labels=0)


def test_bernoulli_refuses_grey_levels_and_beta_changes_only_training():
    grey, _ = data.digits()
    with pytest.raises(ValueError, match="binary data"):
        vae.fit(grey[:50], likelihood="bernoulli", steps=1, progress=False)
    model = vae.VAE(2, beta=4.0).double()
    x = torch.randn(10, 2, dtype=F64)
    torch.manual_seed(0)
    losses = model.loss(x)
    assert losses["loss"].item() == pytest.approx(
        (losses["distortion"] + 4.0 * losses["rate"]).item()
    )
    torch.manual_seed(0)
    rate, dist = model.rate_distortion(x)
    torch.manual_seed(0)
    assert torch.allclose(model.elbo(x), -(rate + dist))  # the ELBO ignores β


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(steps=0), ValueError, "steps"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(progress="yes"), TypeError, "progress"),
        (dict(lr=-1.0), ValueError, "lr"),
        (dict(warmup=2.0), ValueError, "warmup"),
        (dict(likelihood="poisson"), ValueError, "likelihood"),
        (dict(beta=-1.0), ValueError, "beta"),
        (dict(obs_std=0.0), ValueError, "obs_std"),
        (dict(hidden="64"), TypeError, "hidden"),
        (dict(unknown=1), TypeError, "unknown"),
        (dict(labels=torch.zeros(3)), TypeError, "labels"),
    ],
)
def test_fit_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        vae.fit(data.moons(20, seed=0), progress=False, **kwargs)


def test_model_methods_bad_input():
    model = vae.VAE(2)
    with pytest.raises(ValueError, match="columns"):
        model.elbo(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="columns"):
        model.decode(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="k must be"):
        model.iwae(torch.zeros(3, 2), 0)
    with pytest.raises(ValueError, match="samples"):
        model.elbo(torch.zeros(3, 2), samples=0)
    with pytest.raises(TypeError):
        model.encode([[0.0, 0.0]])
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)
    with pytest.raises(ValueError, match="data"):
        vae.fit(torch.zeros(1, 2), progress=False)


# -- variational inference beyond the VAE -------------------------------------------------------
NG_PRIOR = (0.5, 2.0, 3.0, 1.5)


def _ng_data(seed=0, n=8):
    g = torch.Generator().manual_seed(seed)
    return 1.0 + 0.7 * torch.randn(n, generator=g, dtype=torch.float64)


def _ng_grid(x, center):
    """A fine (μ, τ) grid, Simpson's rule over it, and the log-joint by scipy densities."""
    from scipy import integrate

    mu0, lam0, a0, b0 = NG_PRIOR
    mu = np.linspace(center - 2.5, center + 2.5, 701)
    tau = np.linspace(1e-9, 15, 1501)
    m, t = np.meshgrid(mu, tau, indexing="ij")
    log_joint = (
        stats.norm.logpdf(x.numpy(), m[..., None], t[..., None] ** -0.5).sum(-1)
        + stats.norm.logpdf(m, mu0, (lam0 * t) ** -0.5)
        + stats.gamma.logpdf(t, a0, scale=1 / b0)
    )

    def integral(values):
        return integrate.simpson(integrate.simpson(values, x=tau, axis=1), x=mu)

    return m, t, log_joint, integral


def test_normal_gamma_posterior_against_quadrature():
    x = _ng_data()
    post = vae.normal_gamma_posterior(x, *NG_PRIOR)
    m, t, log_joint, integral = _ng_grid(x, post["m"])
    ev = integral(np.exp(log_joint))
    assert math.log(ev) == pytest.approx(post["log_evidence"], abs=1e-6)
    assert integral(m * np.exp(log_joint)) / ev == pytest.approx(post["m"], abs=1e-7)
    # The marginal posterior mean of τ is that of Gamma(a, b).
    assert integral(t * np.exp(log_joint)) / ev == pytest.approx(post["a"] / post["b"], abs=1e-6)


def test_cavi_increases_the_elbo_to_a_bound_with_gap_equal_to_kl():
    x = _ng_data(1)
    post = vae.normal_gamma_posterior(x, *NG_PRIOR)
    fit = vae.cavi_normal_gamma(x, *NG_PRIOR, iters=30, tau_init=0.01)
    elbo = fit["elbo"]
    assert all(b >= a - 1e-12 for a, b in zip(elbo, elbo[1:], strict=False))
    assert elbo[-1] < post["log_evidence"]
    assert fit["m"] == pytest.approx(post["m"], abs=1e-12)
    m, t, log_joint, integral = _ng_grid(x, post["m"])
    log_q = stats.norm.logpdf(m, fit["m"], fit["lam"] ** -0.5) + stats.gamma.logpdf(
        t, fit["a"], scale=1 / fit["b"]
    )
    # KL(q ‖ p(·|x)) = E_q[log q − log p(x, ·)] + log p(x)
    kl = integral(np.exp(log_q) * (log_q - log_joint)) + post["log_evidence"]
    assert post["log_evidence"] - elbo[-1] == pytest.approx(kl, abs=1e-7)
    assert kl > 1e-3


def test_cavi_bad_input():
    x = _ng_data()
    with pytest.raises(ValueError, match="lam0"):
        vae.cavi_normal_gamma(x, 0.0, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="b0"):
        vae.normal_gamma_posterior(x, 0.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        vae.normal_gamma_posterior(torch.tensor([1.0, float("nan")], dtype=torch.float64))
    with pytest.raises(TypeError, match="floating"):
        vae.cavi_normal_gamma(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="tau_init"):
        vae.cavi_normal_gamma(x, tau_init=0.0)
    with pytest.raises(ValueError, match="empty"):
        vae.normal_gamma_posterior(torch.zeros(0, dtype=torch.float64))
    state = torch.get_rng_state()
    vae.cavi_normal_gamma(x)
    assert torch.equal(state, torch.get_rng_state())


def test_elbo_of_q_and_refine_q_against_the_exact_ppca_elbo():
    model, g = ppca(6)
    net = linear_vae(model, exact=False).double()
    x = model.sample(3, generator=g)
    with torch.no_grad():
        mu, sigma = net.encode(x)
    exact = torch.stack([model.elbo(x[i], mu[i], torch.diag(sigma[i] ** 2)) for i in range(3)])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        mc = vae.elbo_of_q(net, x, mu, sigma, samples=200_000, generator=gen)
    assert torch.allclose(mc, exact, atol=0.02)
    state = torch.get_rng_state()
    mu_r, sd_r = vae.refine_q(net, x, steps=400, lr=0.05, samples=64, seed=0)
    assert torch.equal(state, torch.get_rng_state())
    refined = torch.stack([model.elbo(x[i], mu_r[i], torch.diag(sd_r[i] ** 2)) for i in range(3)])
    log_px = model.log_marginal(x)
    assert (refined > exact + 0.05).all() and (refined <= log_px + 1e-9).all()
    assert (log_px - refined).max() < 0.05  # per-image VI nearly closes the gap
    assert all(p.requires_grad for p in net.parameters())


def test_elbo_of_q_bad_input():
    model, g = ppca(7)
    net = linear_vae(model, exact=False).double()
    x = model.sample(2, generator=g)
    mu = torch.zeros(2, net.latent_dim, dtype=torch.float64)
    with pytest.raises(ValueError, match="> 0"):
        vae.elbo_of_q(net, x, mu, torch.zeros_like(mu))
    with pytest.raises(ValueError, match="shape"):
        vae.elbo_of_q(net, x, mu[:1], torch.ones_like(mu[:1]))
    with pytest.raises(TypeError, match="VAE"):
        vae.elbo_of_q("model", x, mu, torch.ones_like(mu))
    with pytest.raises(ValueError, match="lr"):
        vae.refine_q(net, x, lr=0.0)


# == moved from explore/vae.py ==


@pytest.fixture(scope="module")
def _digits_model():
    return models.load_pretrained("vae_digits", vae.VAE, device="cpu")


def test_iwae_curve_is_monotone_and_leaves_the_rng_alone(_digits_model):
    images, _ = vae.binarized_digits()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    curve = vae.iwae_curve(_digits_model, images[:100], [1, 10, 100], repeats=3)
    assert torch.equal(torch.rand(3), expected_next), "iwae_curve moved the caller's RNG"
    m, se = curve["mean"], curve["se"]
    assert m[1] > m[0] - 4 * math.hypot(se[0], se[1]) and m[2] > m[1] - 4 * math.hypot(se[1], se[2])
    assert m[2] > curve["elbo"]
    again = vae.iwae_curve(_digits_model, images[:100], [1, 10, 100], repeats=3)
    np.testing.assert_array_equal(again["mean"], m)  # seeded: the same numbers every call


def test_rate_distortion_table_leaves_the_rng_alone(_digits_model):
    images, _ = vae.binarized_digits()
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    table = vae.rate_distortion_table({1.0: _digits_model}, images[:200], samples=2)
    assert torch.equal(torch.rand(3), expected_next)
    row = table[1.0]
    assert row["elbo"] == pytest.approx(-(row["rate"] + row["distortion"]))
    with torch.no_grad():
        mu, _ = _digits_model.encode(images[:200])
    assert row["active"] == int((mu.var(dim=0) > 0.01).sum())
    with pytest.raises(ValueError, match="non-empty"):
        vae.rate_distortion_table({}, images[:2])


def test_normal_gamma_and_mean_field_pdfs_against_scipy():
    post = {"m": 0.8, "kappa": 11.0, "a": 7.0, "b": 2.5}
    fit = {"m": 0.7, "lam": 30.0, "a": 7.5, "b": 2.0}
    mu, tau = np.meshgrid(np.linspace(0, 1.5, 7), np.linspace(0.2, 8, 5))
    ref_post = stats.gamma.pdf(tau, 7.0, scale=1 / 2.5) * stats.norm.pdf(
        mu, 0.8, 1 / np.sqrt(11.0 * tau)
    )
    ref_q = stats.gamma.pdf(tau, 7.5, scale=1 / 2.0) * stats.norm.pdf(mu, 0.7, 1 / math.sqrt(30))
    got_post = vae.normal_gamma_pdf(torch.from_numpy(mu), torch.from_numpy(tau), post).numpy()
    got_q = vae.mean_field_pdf(torch.from_numpy(mu), torch.from_numpy(tau), fit).numpy()
    np.testing.assert_allclose(got_post, ref_post, rtol=1e-10)
    np.testing.assert_allclose(got_q, ref_q, rtol=1e-10)
    with pytest.raises(ValueError, match="tau"):
        vae.normal_gamma_pdf(torch.zeros(2), torch.zeros(2), post)
