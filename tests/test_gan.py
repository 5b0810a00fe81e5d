"""companion.gan: losses, penalties and closed forms against independent references; the model,
fit, files and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FAST
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, stats
from torch.nn import functional as F

from companion import gan
from companion.data import digits, ring
from companion.models import checkpoint_path, load_pretrained

F64 = torch.float64


def t64(x):
    return torch.as_tensor(x, dtype=F64)


def tiny_fit(data, **kw):
    """``gan.fit`` at the tests' small size: seed 0 on the CPU, one hidden layer of 16, batches
    of 32, no progress bar (``kw`` adds or overrides)."""
    return gan.fit(
        data,
        **{"seed": 0, "device": "cpu", "progress": False, "hidden": (16,), "batch_size": 32, **kw},
    )


# -- losses ----------------------------------------------------------------------------------------
def test_discriminator_loss_is_binary_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    a_r, a_f = torch.randn(50, generator=gen, dtype=F64), torch.randn(50, generator=gen, dtype=F64)
    ref = F.binary_cross_entropy_with_logits(a_r, torch.ones_like(a_r))
    ref = ref + F.binary_cross_entropy_with_logits(a_f, torch.zeros_like(a_f))
    for loss in ("minimax", "nonsaturating"):
        assert float(gan.discriminator_loss(a_r, a_f, loss)) == pytest.approx(float(ref), abs=1e-13)
    for loss in ("wgan", "wgan-gp"):
        assert float(gan.discriminator_loss(a_r, a_f, loss)) == pytest.approx(
            float(a_f.mean() - a_r.mean()), abs=1e-14
        )


def test_losses_stay_finite_for_confident_discriminators():
    # Logit losses (the f-GANs' exponentials are meant to be large for large outputs).
    big = t64([-900.0, 900.0])
    assert math.isfinite(float(gan.discriminator_loss(big, -big)))
    for loss in ("minimax", "nonsaturating", "wgan", "wgan-gp"):
        assert math.isfinite(float(gan.generator_loss(big, loss)))


# -- f-GANs: the bound of eq-gan-fgan-bound on a three-point space, exactly ---------------------
# P = (1/2, 1/4, 1/4) and Q = (1/4, 1/4, 1/2): a batch of four rows represents each exactly,
# so batch means are expectations and the negated discriminator loss is the bound itself.
P3, Q3 = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])
REAL_ROWS, FAKE_ROWS = [0, 0, 1, 2], [0, 1, 2, 2]
F_OF_U = {  # f from the divergences chapter's table, written independently of the code
    "kl": lambda u: u * np.log(u),
    "reverse-kl": lambda u: -np.log(u),
    "pearson": lambda u: (u - 1) ** 2,
}
T_STAR_TO_V = {  # T* = f'(r), and the network output v with g_f(v) = T*
    "kl": lambda r: 1 + np.log(r),
    "reverse-kl": lambda r: np.log(r),  # T* = -1/r = -exp(-v)
    "pearson": lambda r: 2 * (r - 1),
}


@pytest.mark.parametrize("loss", sorted(gan.F_DIVERGENCES))
def test_fgan_bound_is_tight_at_the_optimal_critic(loss):
    r = P3 / Q3
    divergence = float(np.sum(Q3 * F_OF_U[loss](r)))
    reference = {
        "kl": stats.entropy(P3, Q3),
        "reverse-kl": stats.entropy(Q3, P3),
        "pearson": float(np.sum((P3 - Q3) ** 2 / Q3)),
    }[loss]
    assert divergence == pytest.approx(reference, abs=1e-14)
    v = t64(T_STAR_TO_V[loss](r))
    bound = -float(gan.discriminator_loss(v[REAL_ROWS], v[FAKE_ROWS], loss))
    assert bound == pytest.approx(divergence, abs=1e-12)
    for shift in (-0.3, 0.2):  # any other critic falls short
        other = v + shift * t64([1.0, -1.0, 0.5])
        assert -float(gan.discriminator_loss(other[REAL_ROWS], other[FAKE_ROWS], loss)) < bound


@pytest.mark.parametrize("loss", sorted(gan.F_DIVERGENCES))
@given(st.floats(-3, 2))
@FAST
def test_fgan_conjugate_is_the_numerical_supremum(loss, v):
    T, fstar = (float(a) for a in gan.fgan_terms(t64([v]), loss))
    res = optimize.minimize_scalar(
        lambda w: -(math.exp(w) * T - F_OF_U[loss](math.exp(w))),
        bounds=(-30, 30),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert fstar == pytest.approx(-res.fun, abs=1e-7, rel=1e-7)
    assert float(gan.generator_loss(t64([v, v]), loss)) == pytest.approx(-fstar, abs=1e-12)


def test_fgan_terms_bad_arguments():
    with pytest.raises(ValueError, match="loss"):
        gan.fgan_terms(t64([0.0]), "nonsaturating")
    with pytest.raises(ValueError, match="NaN"):
        gan.fgan_terms(t64([math.nan]), "kl")


# -- stabilisers ----------------------------------------------------------------------------------
def test_minibatch_std_feeds_the_batch_spread_to_the_last_layer():
    model = gan.GAN(2, latent_dim=2, hidden=(8, 8), minibatch_std=True)
    D = model.discriminator
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h = D.features(x).numpy().astype(np.float64)
        last = D.net[-1]
        spread = np.sqrt(h.var(axis=0) + 1e-8).mean()  # NumPy's population variance
        want = (
            h @ last.weight[:, :8].numpy().T
            + spread * last.weight[:, 8].numpy()
            + last.bias.numpy()
        )
        got = model.discriminate(x).numpy()
    np.testing.assert_allclose(got, want[:, 0], atol=1e-5)
    # a row's output depends on the rest of its batch
    with torch.no_grad():
        other = model.discriminate(torch.cat([x[:1], 5 * x[1:]]))[0]
    assert abs(float(other) - float(got[0])) > 1e-6
    assert last.in_features == 9


def test_feature_matching_and_two_time_scales(small_ring):
    model = tiny_fit(small_ring, steps=30, feature_matching=True, lr=5e-4, lr_d=2e-3)
    assert torch.isfinite(model.sample(50)).all()
    h = gan._hyper({"lr": 5e-4, "lr_d": 2e-3})
    from companion.models import FitRun

    run = FitRun(10, 0, torch.device("cpu"), False, small_ring, torch.Generator().manual_seed(0))
    training = gan._Training(gan._build(small_ring, h, 0, run.device), small_ring, None, h, run)
    assert training.opt_g.param_groups[0]["lr"] == 5e-4
    assert training.opt_d.param_groups[0]["lr"] == 2e-3
    # the generator's loss under feature matching: the squared distance between the mean
    # last-hidden features of a real and a generated batch (computed here with NumPy)
    h_fm = gan._hyper({"feature_matching": True})
    training = gan._Training(
        gan._build(small_ring, h_fm, 0, run.device), small_ring, None, h_fm, run
    )
    batch = training.draw()
    training.draw = lambda: batch
    D, G = training.model.discriminator, training.model.generator
    with torch.no_grad():
        f_real = D.features(batch[0]).numpy().astype(np.float64)
        f_fake = D.features(G(batch[2])).numpy().astype(np.float64)
    want = np.sum((f_real.mean(0) - f_fake.mean(0)) ** 2)
    before = [p.detach().clone() for p in D.parameters()]
    assert float(training.generator_step().detach()) == pytest.approx(want, rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters(), strict=True))


def test_lipschitz_estimate_brackets_difference_quotients():
    gen = torch.Generator().manual_seed(1)
    for spectral in (False, True):
        model = gan.GAN(2, latent_dim=2, hidden=(16, 16), spectral_norm=spectral)
        with torch.no_grad():
            model.scale.fill_(2.0)
            for _ in range(30):  # let the power iteration settle
                model.discriminate(torch.randn(4, 2, generator=gen))
        model.eval()
        x = torch.randn(200, 2, generator=gen)
        est = gan.lipschitz_estimate(model, x)
        y = x + 0.3 * torch.randn(200, 2, generator=gen)
        with torch.no_grad():
            quotients = (model.discriminate(x) - model.discriminate(y)).abs() / (x - y).norm(dim=1)
        assert float(quotients.max()) <= est["upper"] + 1e-6
        assert est["lower"] <= est["upper"] + 1e-6
        # the gradient norm by central differences at the first row
        e, x0 = 1e-3, x[:1].double()
        model.double()
        with torch.no_grad():
            g = [
                (model.discriminate(x0 + e * d) - model.discriminate(x0 - e * d)) / (2 * e)
                for d in torch.eye(2, dtype=torch.float64)
            ]
        model.float()
        assert float(torch.cat(g).norm()) <= est["lower"] + 1e-4
        if spectral:  # every layer has spectral norm ~1, so the bound is ~1/scale
            assert est["upper"] == pytest.approx(0.5, rel=0.05)


def test_lipschitz_estimate_bad_arguments():
    with pytest.raises(TypeError, match="GAN"):
        gan.lipschitz_estimate(torch.nn.Linear(2, 1), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="minibatch_std"):
        gan.lipschitz_estimate(gan.GAN(2, latent_dim=2, minibatch_std=True), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="columns|non-empty"):
        gan.lipschitz_estimate(gan.GAN(2, latent_dim=2), torch.zeros(3, 3))


@given(st.floats(-30, 30))
@FAST
def test_generator_losses_in_probability_form(a):
    a_t = t64([a])
    # log(1 − σ(a)) = −log(1 + e^a) and −log σ(a) = log(1 + e^−a), written with math.
    assert float(gan.generator_loss(a_t, "minimax")) == pytest.approx(
        -math.log1p(math.exp(a)), rel=1e-12, abs=1e-15
    )
    assert float(gan.generator_loss(a_t, "nonsaturating")) == pytest.approx(
        math.log1p(math.exp(-a)), rel=1e-12, abs=1e-15
    )
    assert float(gan.generator_loss(a_t, "wgan")) == -a


@given(st.floats(-25, 25))
@FAST
def test_generator_logit_gradient_matches_autograd(a):
    a_t = t64([a]).requires_grad_(True)
    for loss in ("minimax", "nonsaturating"):
        (g,) = torch.autograd.grad(gan.generator_loss(a_t, loss), a_t)
        ref = gan.generator_logit_gradient(torch.sigmoid(a_t.detach()), loss)
        assert float(g) == pytest.approx(float(ref), abs=1e-14)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    gen = torch.Generator().manual_seed(1)
    for scale in (0.1, 1.0, 3.0):
        w = torch.randn(4, generator=gen, dtype=F64) * scale
        real = torch.randn(40, 4, generator=gen, dtype=F64)
        fake = torch.randn(40, 4, generator=gen, dtype=F64) + 2

        def critic(x, w=w):
            return x @ w - 0.5

        ref = (float(np.linalg.norm(w.numpy())) - 1) ** 2
        assert float(gan.gradient_penalty(critic, real, fake)) == pytest.approx(ref, abs=1e-12)


def test_gradient_penalty_interpolates_between_the_batches():
    """For f(x) = ½‖x‖² the gradient at x̂ is x̂ itself: with real = fake every x̂ is that point."""
    x = t64([[3.0, 4.0], [0.0, 0.5]])

    def critic(v):
        return 0.5 * (v**2).sum(1)

    expected = ((5.0 - 1) ** 2 + (0.5 - 1) ** 2) / 2
    penalty = gan.gradient_penalty(critic, x, x.clone()).detach()
    assert float(penalty) == pytest.approx(expected, abs=1e-12)


def test_gradient_penalty_is_differentiable_in_the_critic():
    w = t64([2.0, 0.0]).requires_grad_(True)
    x = torch.randn(8, 2, dtype=F64)
    penalty = gan.gradient_penalty(lambda v: v @ w, x, x + 1)
    (g,) = torch.autograd.grad(penalty, w)
    # d/dw (‖w‖ − 1)² = 2(‖w‖ − 1) w/‖w‖ = (2, 0) at w = (2, 0).
    assert torch.allclose(g, t64([2.0, 0.0]), atol=1e-12)


def test_r1_penalty_of_a_quadratic_discriminator():
    x = torch.randn(30, 3, dtype=F64)
    c = 1.7

    def disc(v):
        return 0.5 * c * (v**2).sum(1, keepdim=True)

    ref = float((c**2 * (x**2).sum(1)).mean())
    assert float(gan.r1_penalty(disc, x)) == pytest.approx(ref, rel=1e-12)


# -- closed forms ----------------------------------------------------------------------------------
@given(st.floats(1e-6, 5.0), st.floats(1e-6, 5.0))
@FAST
def test_optimal_discriminator_maximises_the_integrand(p, q):
    d = float(torch.sigmoid(gan.optimal_discriminator_logit(t64(math.log(p)), t64(math.log(q)))))
    res = optimize.minimize_scalar(
        lambda y: -(p * math.log(y) + q * math.log1p(-y)),
        bounds=(1e-12, 1 - 1e-12),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert d == pytest.approx(res.x, abs=1e-6)
    assert d == pytest.approx(p / (p + q), rel=1e-12)


def test_optimal_discriminator_logit_handles_zero_densities():
    inf = math.inf
    out = gan.optimal_discriminator_logit(t64([0.0, -inf, -2.0]), t64([-inf, 0.0, -2.0]))
    assert out[0] == inf and out[1] == -inf and out[2] == 0.0
    with pytest.raises(ValueError, match="< \\+inf"):
        gan.optimal_discriminator_logit(t64([inf]), t64([0.0]))


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (1.0, 0.5), (-4.0, 2.0), (8.0, 0.3)])
def test_virtual_criterion_is_minus_log4_plus_two_js(mu, sigma):
    x = torch.linspace(-25, 25, 20001, dtype=F64)
    dx = float(x[1] - x[0])
    lp = t64(stats.norm.logpdf(x.numpy()))
    lq = t64(stats.norm.logpdf(x.numpy(), mu, sigma))
    c_g = float(gan.virtual_criterion(lp, lq, dx))

    def js_integrand(v):
        a, b = stats.norm.logpdf(v), stats.norm.logpdf(v, mu, sigma)
        m = np.logaddexp(a, b) - math.log(2)
        return 0.5 * (math.exp(a) * (a - m) + math.exp(b) * (b - m))

    js = integrate.quad(js_integrand, -25, 25, points=[0.0, mu], limit=500)[0]
    assert c_g == pytest.approx(-math.log(4) + 2 * js, abs=1e-8)


def test_virtual_criterion_with_disjoint_supports_is_zero():
    lp = t64([0.0, 0.0, -math.inf, -math.inf])
    lq = t64([-math.inf, -math.inf, 0.0, 0.0])
    assert float(gan.virtual_criterion(lp, lq, 0.5)) == 0.0


# -- the model -------------------------------------------------------------------------------------
def test_model_shapes_and_conditioning():
    torch.manual_seed(0)
    model = gan.GAN(3, latent_dim=4, hidden=[8], n_classes=2, output="sigmoid")
    y = torch.tensor([0, 1, 1])
    out = model.sample(3, y)
    assert out.shape == (3, 3) and out.min() >= 0 and out.max() <= 1
    assert model.discriminate(out, y).shape == (3,)
    with pytest.raises(ValueError, match="conditional"):
        model.sample(3)
    with pytest.raises(ValueError, match="0..1"):
        model.sample(1, torch.tensor([2]))
    with pytest.raises(TypeError, match="int64"):
        model.sample(1, torch.tensor([0.0]))
    plain = gan.GAN(2, hidden=[8])
    with pytest.raises(ValueError, match="unconditional"):
        plain.sample(2, torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="columns"):
        plain.generate(torch.zeros(2, 3))


def test_averaged_and_raw_generators_start_equal():
    model = gan.GAN(2, hidden=[8])
    z = torch.randn(5, model.latent_dim)
    assert torch.equal(model.generate(z), model.generate(z, averaged=False))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"data_dim": 0}, ValueError),
        ({"data_dim": 2.0}, TypeError),
        ({"data_dim": 2, "hidden": "64"}, TypeError),
        ({"data_dim": 2, "output": "tanh"}, ValueError),
        ({"data_dim": 2, "spectral_norm": 1}, TypeError),
        ({"data_dim": 2, "n_classes": -1}, ValueError),
    ],
)
def test_model_bad_arguments(kwargs, error):
    with pytest.raises(error):
        gan.GAN(**kwargs)


# -- fit -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_ring():
    return ring(256, std=0.02, seed=0)


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_fit_runs_every_loss_and_logs_both_losses(small_ring, loss):
    model = gan.fit(
        small_ring,
        steps=12,
        seed=0,
        device="cpu",
        progress=False,
        loss=loss,
        hidden=(16, 16),
        batch_size=32,
        n_snapshots=3,
        snapshot_size=10,
    )
    assert isinstance(model, gan.GAN) and not model.training
    assert {"D", "G", "step"} <= set(model.history[0])
    assert model.sample(7).shape == (7, 2)
    assert model.snapshot_steps.tolist() == [0, 6, 12]
    assert not torch.equal(model.snapshots[0], model.snapshots[-1])


def test_fit_is_reproducible(small_ring):
    kw = dict(steps=10, seed=3, device="cpu", progress=False, hidden=(16,), batch_size=32)
    a, b = gan.fit(small_ring, **kw), gan.fit(small_ring, **kw)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(a.sample(5, generator=g), b.sample(5, generator=g.manual_seed(0)))


def test_weight_clipping_holds_after_training(small_ring):
    model = tiny_fit(small_ring, steps=5, loss="wgan", clip=0.02)
    assert max(float(p.abs().max()) for p in model.discriminator.parameters()) <= 0.02


def test_ema_average_differs_from_raw_generator(small_ring):
    model = tiny_fit(small_ring, steps=20, ema=0.9)
    z = torch.randn(4, model.latent_dim)
    assert not torch.allclose(model.generate(z), model.generate(z, averaged=False))


def test_fit_conditional_digits_shapes():
    images, labels = digits()
    model = tiny_fit(images[:200], labels=labels[:200], steps=4, output="sigmoid")
    assert model.n_classes == int(labels[:200].max()) + 1
    assert model.sample(3, torch.tensor([0, 1, 2])).shape == (3, 64)


def test_save_and_load_keep_samples_and_snapshots(small_ring, tmp_path):
    model = tiny_fit(small_ring, steps=6, n_snapshots=2, snapshot_size=5)
    path = model.save(tmp_path / "g.pt")
    again = gan.GAN.load(path, device="cpu")
    z = torch.randn(5, model.latent_dim)
    assert torch.equal(model.generate(z), again.generate(z))
    assert torch.equal(model.snapshots, again.snapshots)
    assert again.history == model.history


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"loss": "hinge"}, ValueError, "loss"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"ema": 1.0}, ValueError, "ema"),
        ({"betas": 0.5}, TypeError, "betas"),
        ({"betas": (0.5, 1.0)}, ValueError, "betas"),
        ({"optimizer": "sgd"}, ValueError, "optimizer"),
        ({"r1": -1.0}, ValueError, "r1"),
        ({"r1_end": 0.0}, ValueError, "r1_end"),
        ({"n_critic": 0}, ValueError, "n_critic"),
        ({"decay": "yes"}, TypeError, "decay"),
        ({"lr_d": -1e-3}, ValueError, "lr"),
        ({"minibatch_std": 1}, TypeError, "minibatch_std"),
        ({"feature_matching": "on"}, TypeError, "feature_matching"),
        ({"loss": "hellinger"}, ValueError, "loss"),
        ({"batch": 3}, TypeError, "unknown"),
        ({"steps": 0}, ValueError, "steps"),
        ({"seed": -1}, ValueError, "seed"),
        ({"progress": 1}, TypeError, "progress"),
        ({"labels": torch.zeros(256)}, TypeError, "int64"),
        ({"labels": torch.zeros(5, dtype=torch.int64)}, ValueError, "one entry"),
    ],
)
def test_fit_bad_arguments(small_ring, kwargs, error, match):
    with pytest.raises(error, match=match):
        gan.fit(small_ring, progress=False, device="cpu", **kwargs)


def test_fit_bad_data():
    with pytest.raises(TypeError):
        gan.fit([[0.0, 1.0]], progress=False)
    with pytest.raises(ValueError):
        gan.fit(torch.zeros(1, 2), progress=False)


def test_train_discriminator_bad_arguments():
    def s(n):
        return torch.zeros(n, 1)

    with pytest.raises(TypeError, match="callables"):
        gan.train_discriminator(None, s)
    with pytest.raises(ValueError, match="loss"):
        gan.train_discriminator(s, s, loss="bce")
    with pytest.raises(ValueError, match="columns"):
        gan.train_discriminator(s, lambda n: torch.zeros(n, 2), steps=1)


def test_other_functions_bad_arguments():
    with pytest.raises(ValueError, match="probability"):
        gan.generator_logit_gradient(t64([1.5]), "minimax")
    with pytest.raises(ValueError, match="minimax"):
        gan.generator_logit_gradient(t64([0.5]), "wgan")
    with pytest.raises(ValueError, match="loss"):
        gan.generator_loss(t64([0.5]), "bce")
    with pytest.raises(TypeError):
        gan.discriminator_loss([0.1], t64([0.2]))
    with pytest.raises(ValueError, match="same shape"):
        gan.gradient_penalty(lambda v: v.sum(1), torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="dx"):
        gan.virtual_criterion(t64([0.0]), t64([0.0]), 0.0)


# -- shipped checkpoints ---------------------------------------------------------------------------
def test_pretrained_names_and_files():
    assert set(gan.PRETRAINED) == {
        "gan_ring",
        "gan_grid",
        "gan_ring_minimax",
        "gan_digits",
    }
    for name in gan.PRETRAINED:
        assert checkpoint_path(name).stat().st_size < 1_000_000, name
        model = load_pretrained(name, gan.GAN, device="cpu")
        assert model.config["n_snapshots"] > 0 or name == "gan_digits"


# == moved from explore/gan.py ==
# The chapter's experiments and quadratures, now in companion.gan, against independent references.
from scipy.spatial import cKDTree  # noqa: E402


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (2.0, 0.5), (-6.0, 2.5), (6.0, 0.25)])
def test_criterion_values_against_scipy(mu, sigma):
    v = gan.criterion_values(mu, sigma)

    def integrand(x):
        lp, lq = stats.norm.logpdf(x), stats.norm.logpdf(x, mu, sigma)
        lm = np.logaddexp(lp, lq)
        # p log D* + q log(1 − D*) with D* = p / (p + q), all in log space.
        return math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm)

    c_ref = integrate.quad(integrand, -30, 30, points=[0.0, mu], limit=500)[0]
    assert v["C(G)"] == pytest.approx(c_ref, abs=1e-8)
    assert v["-log4+2JS"] == pytest.approx(c_ref, abs=1e-8)
    assert 0 <= v["JS"] <= math.log(2) + 1e-12


@pytest.mark.parametrize("sigma", [0.25, 1.0, 2.5])
def test_criterion_curve_against_scipy(sigma):
    """The strided curve (spacing 0.02) against scipy's adaptive quadrature of C(G)."""
    mus = [-6.0, -1.0, 0.0, 2.5]
    curve = gan.criterion_curve(mus, sigma).numpy()
    for mu, c in zip(mus, curve, strict=True):

        def integrand(x, mu=mu):
            lp, lq = stats.norm.logpdf(x), stats.norm.logpdf(x, mu, sigma)
            lm = np.logaddexp(lp, lq)
            return math.exp(lp) * (lp - lm) + math.exp(lq) * (lq - lm)

        ref = integrate.quad(integrand, -30, 30, points=[0.0, mu], limit=500)[0]
        assert c == pytest.approx(ref, abs=1e-8)


def test_log_normal_matches_scipy():
    x = torch.linspace(-5, 5, 11, dtype=torch.float64)
    assert np.allclose(gan.log_normal(x, 0.3, 1.7).numpy(), stats.norm.logpdf(x, 0.3, 1.7))
    assert gan.log_normal(x.float(), 0.0, 1.0).dtype == torch.float32
    with pytest.raises(ValueError, match="sigma"):
        gan.log_normal(x, 0.0, 0.0)


def test_dstar_experiment_lands_on_the_formula():
    res = gan.dstar_experiment(steps=300, seed=1)
    # Formula against the plain density ratio with scipy densities.
    pd = sum(w * stats.norm.pdf(res["x"], m, s) for w, m, s in gan.DSTAR_MIX)
    pg = stats.norm.pdf(res["x"], *gan.DSTAR_GENERATOR)
    assert np.allclose(res["formula"], pd / (pd + pg), atol=1e-12)
    assert np.allclose(res["p_data"], pd) and np.allclose(res["p_g"], pg)
    mass = pd + pg > 0.05
    assert np.abs(res["trained"] - res["formula"])[mass].max() < 0.1


def test_critic_experiment_estimates_w1():
    res = gan.critic_experiment(steps=300, seed=0)
    (m1, s1), (m2, s2) = gan.CRITIC_PAIR
    w1 = integrate.quad(
        lambda x: abs(stats.norm.cdf(x, m1, s1) - stats.norm.cdf(x, m2, s2)), -15, 15, limit=200
    )[0]
    # Soft penalty: the optimum of 3s − λ(s − 1)² over linear critics has slope 1 + W1/2λ.
    assert res["gp_estimate"] == pytest.approx(w1 * (1 + w1 / 20), rel=0.05)
    assert res["gp_estimate"] > w1
    assert res["clip_estimate"] < 0.5 * w1
    assert res["gp"][np.argmin(np.abs(res["x"]))] == pytest.approx(0.0, abs=1e-6)


def test_penalty_of_linear_critic_is_the_squared_slope_gap():
    """For f(x) = w·x + b the gradient is w everywhere: the penalty is (‖w‖ − 1)²."""
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    real = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    pen = gan.penalty_of_linear_critic(w, 0.3, real, real + 1.0)
    assert float(pen) == pytest.approx((5.0 - 1.0) ** 2, rel=1e-9)


def test_gda_paths_are_the_linear_maps():
    eta = 0.3
    paths = gan.gda_paths(eta=eta, steps=25)
    sim = np.array([[1, -eta], [eta, 1]])
    alt = np.array([[1, -eta], [eta, 1 - eta**2]])
    assert np.allclose(paths["simultaneous"][-1], np.linalg.matrix_power(sim, 25) @ [1, 1])
    assert np.allclose(paths["alternating"][-1], np.linalg.matrix_power(alt, 25) @ [1, 1])
    r = np.hypot(*paths["simultaneous"].T)
    assert np.allclose(r[1:] / r[:-1], math.sqrt(1 + eta**2))


def test_snapshot_metrics_against_kdtree():
    gen = torch.Generator().manual_seed(0)
    model = gan.GAN(2, hidden=[8], n_snapshots=3, snapshot_size=500)
    centers = gan.centers_for("ring")
    # snapshot 0: all on mode 0; 1: modes 0-6 well covered, mode 7 by 3 points only (PacGAN: a
    # mode needs 20 of 2 500, so 4 of these 500); 2: far from every mode
    model.snapshots[0] = centers[0] + 0.01 * torch.randn(500, 2, generator=gen)
    which = torch.cat([torch.arange(497) % 7, torch.full((3,), 7)])
    model.snapshots[1] = centers[which] + 0.01 * torch.randn(500, 2, generator=gen)
    model.snapshots[2] = 10.0 + torch.randn(500, 2, generator=gen)
    metrics = gan.snapshot_metrics(model, "ring")
    tree = cKDTree(centers.numpy())
    for k in range(3):
        dist, idx = tree.query(model.snapshots[k].numpy())
        good = dist <= 0.06
        counts = np.bincount(idx[good], minlength=8)
        assert metrics[k, 0] == (counts >= 4).sum()
        assert metrics[k, 1] == pytest.approx(good.mean())
    assert metrics[:, 0].tolist() == [1, 7, 0]
    assert gan.centers_for("grid").shape == (25, 2)
    with pytest.raises(ValueError, match="ring"):
        gan.centers_for("moons")


# -- the shipped stabiliser comparison -----------------------------------------------------------
def test_shipped_stabiliser_results_cover_every_variant_and_seed():
    rows = gan.stabiliser_results()
    keys = [(r["variant"], r["dataset"], r["seed"]) for r in rows]
    want = {(v, d, s) for v in gan.STABILISERS for d in ("ring", "grid") for s in (0, 1, 2)}
    assert len(keys) == len(want) and set(keys) == want
    assert set(gan.STABILISER_LABELS) == set(gan.STABILISERS)
    for r in rows:
        assert 0 <= r["modes"] <= (8 if r["dataset"] == "ring" else 25)
        assert 0 <= r["quality"] <= 1 and r["cpu"] > 0
    lip = {r["variant"]: r["lipschitz"] for r in rows if r.get("lipschitz") is not None}
    assert "minibatch-std" not in lip and {"base", "spectral-norm"} <= set(lip)


def test_shipped_stabiliser_models_match_their_recipes():
    models = gan.load_stabilisers(device="cpu")
    assert set(models) == {(v, d) for v in gan.STABILISERS for d in ("ring", "grid")}
    assert models[("spectral-norm", "ring")].config["spectral_norm"] is True
    assert models[("minibatch-std", "grid")].config.get("minibatch_std") is True
    assert models[("base", "ring")].config.get("minibatch_std") is None
    # The KL variant is the default fit, so its seed-0 ring model is the shipped gan_ring's
    # training (snapshots use their own random numbers): the averaged generators are identical.
    assert gan.DEFAULTS["loss"] == "kl" and gan.STABILISERS["kl"] == {"loss": "kl"}
    shipped = load_pretrained("gan_ring", gan.GAN, device="cpu")
    a = shipped.generator_ema.state_dict()
    b = models[("kl", "ring")].generator_ema.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_load_stabilisers_refuses_a_damaged_file(monkeypatch):
    import companion.models as cm

    monkeypatch.setattr(cm, "_manifest", lambda: {gan.STABILISER_CHECKPOINT: "0" * 64})
    with pytest.raises(FileNotFoundError, match="damaged"):
        gan.load_stabilisers()


def test_stabiliser_helpers_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        gan.fit_stabiliser("dropout", "ring")
    with pytest.raises(ValueError, match="dataset"):
        gan.fit_stabiliser("base", "moons")
    with pytest.raises(ValueError, match="non-empty"):
        gan.summarise_stabilisers([])
    with pytest.raises(ValueError, match="quality"):
        gan.summarise_stabilisers([{"variant": "base", "dataset": "ring"}])
    with pytest.raises(TypeError, match="models"):
        gan.stabiliser_samples({("a", "b"): torch.nn.Linear(2, 2)})


def test_fit_stabiliser_is_the_default_fit_with_one_change():
    small = gan.fit_stabiliser("ttur", "ring", seed=1, steps=5, hidden=(8,))
    ring_data = ring(2500, std=0.02, seed=1)
    direct = gan.fit(
        ring_data,
        seed=1,
        steps=5,
        hidden=(8,),
        loss="nonsaturating",
        lr=5e-4,
        lr_d=2e-3,
        progress=False,
    )
    for p, q in zip(small.parameters(), direct.parameters(), strict=True):
        assert torch.equal(p, q)
