"""Every companion module on the device under test, compared with the CPU.

The device comes from the ``target`` fixture of the root ``conftest.py``: ``GF_TEST_DEVICE``
(``cpu`` unless set, so that CI runs these checks too; ``cuda``, ``cuda:1`` or a comma-separated
list such as ``cpu,cuda``; a CUDA entry is skipped on a machine without a GPU). On a GPU machine::

    GF_TEST_DEVICE=cuda python -m pytest tests/test_cuda.py -q -p no:cacheprovider

Each check runs a function or model on the target and, with ``helpers.Target``, checks that its
outputs live there, are finite and, where the computation is deterministic, agree with the same
computation on the CPU (relative 1e-10 in float64, about 1e-5 in float32). Random draws that a
function makes on the CPU with a ``torch.Generator`` and then moves (the companion's convention)
are deterministic across devices; those it makes on the device are checked statistically or only
for finiteness. ``known_device_bug(...)`` wraps places that once mixed devices (fixed since), so
that a regression fails with a message naming the code at fault.

Only pytest, hypothesis, torch, numpy and the companion's core modules are imported (no plotly,
POT, diffusers, zuko, jupytext or nbval): the bare GPU machine has no more.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import torch
from helpers import A32, R32, gen, known_device_bug, random_simplex, spd, t64
from helpers import randn64 as randn
from torch import nn
from torch.distributions import Normal
from torch.nn import functional as F

from companion import (
    components,
    data,
    device,
    diffusion,
    divergences,
    flows,
    functional,
    gan,
    information,
    linalg,
    manifolds,
    models,
    optimization,
    sampling,
    vae,
    zoo,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small CPU references
F64, F32 = torch.float64, torch.float32


def simplex(*shape: int, seed: int = 0) -> torch.Tensor:
    return t64(random_simplex(np.random.default_rng(seed), shape))


# -- functions that compute the same thing on every device: one table -----------------------------
def case(fn, *args, id=None, rtol=1e-10, atol=1e-12, allow_inf=False, **kwargs):
    """A row: ``fn`` ("module.function" of the companion, or a callable named by ``id``) called
    with ``args``/``kwargs`` on the target and on the CPU must agree within ``rtol``/``atol``."""
    if isinstance(fn, str):
        module, name = fn.rsplit(".", 1)
        fn, id = getattr(importlib.import_module(f"companion.{module}"), name), id or fn
    return pytest.param(fn, args, kwargs, dict(rtol=rtol, atol=atol, allow_inf=allow_inf), id=id)


def _log_normal(x):
    return -0.5 * x**2 - 0.5 * math.log(2 * math.pi)


P, Q = simplex(3, 6, seed=0), simplex(3, 6, seed=1)
P5, Q5 = simplex(5, 7, seed=0), simplex(5, 7, seed=1)
MU, MU2, C, C2 = randn(4, seed=1), randn(4, seed=2), spd(4, seed=3), spd(4, seed=4)
X40, Y30 = randn(40, 2, seed=3), randn(30, 2, seed=4)
W1X, W1Y = randn(3, 40, seed=1), randn(3, 40, seed=2) + 1
SX, SY = randn(60, 2, seed=1), randn(45, 2, seed=2) + 0.5
MX, MY = randn(300, 3, seed=1), randn(200, 3, seed=2) + 0.3
A5, X20, M5, W35 = spd(5), randn(20, 5, seed=1), randn(5, seed=2), randn(3, 5, seed=3)
LSQ = optimization.least_squares_problem(256)
LRS, X0 = t64([[1e-3], [1e-2], [3e-2]]), t64([[-1.0, 1.5]]).expand(3, 2)
Z0, Z1 = randn(4, 8, seed=1), randn(4, 8, seed=2)
REAL, FAKE = randn(64, seed=1), randn(64, seed=2) - 1
XS = torch.linspace(-4, 4, 401, dtype=F64)
LP_DATA, LP_G = -0.5 * XS**2, -0.5 * (XS - 1) ** 2 / 0.25
RING_X = randn(40, 2, seed=1) * 2
LOGITS, LABELS = randn(30, seed=1) * 3, torch.rand(30, generator=gen(2), dtype=F64)
Z12, Y12 = randn(12, 5, seed=3), torch.randint(5, (12,), generator=gen(4))
MGF = {
    "normal": {"loc": 0.5, "scale": 1.5},
    "bernoulli": {"probs": 0.3},
    "binomial": {"total_count": 5, "probs": 0.3},
    "poisson": {"rate": 2.0},
    "uniform": {"low": -1.0, "high": 2.0},
    "gamma": {"concentration": 2.0, "rate": 3.0},
    "beta": {"concentration1": 2.0, "concentration0": 3.0},
}
T41, SIN_Y = torch.linspace(-1.0, 1.0, 41, dtype=F64), torch.linspace(-0.9, 0.9, 30, dtype=F64)
KERNELS = (("rbf", dict(bandwidth=0.6)), ("polynomial", dict(degree=2)))
SIGMA63 = torch.rand(6, 3, generator=gen(2), dtype=F64) + 0.1
M63 = randn(6, 3, seed=4)
BITS63 = (torch.rand(6, 3, generator=gen(6)) > 0.5).double()
D50 = torch.rand(50, generator=gen(3), dtype=F64)
V10 = torch.full((10, 1), 0.3, dtype=F64)
SIGMA5 = torch.rand(5, generator=gen(7), dtype=F64) + 0.1


def _batched(rule):
    return lambda lr, x: optimization.optimize(rule(lr), optimization.quadratic(10.0), x, 50)


def _langevin(x):
    return zoo.langevin(zoo.ring_score, x, 0.01, 50, generator=gen(2))


CASES = [
    *(case("sampling.mgf", fam, T41, id=f"mgf-{fam}", **kw) for fam, kw in MGF.items()),
    case("sampling.effective_sample_size", randn(100)),
    case("sampling.pushforward_density", torch.sin, _log_normal, SIN_Y, rtol=1e-8),  # not monotone
    case("sampling.condition_gaussian", randn(4), spd(4), randn(2, seed=1), 2),
    case("information.entropy", P),
    case("information.entropy", P, base=2),
    case("information.cross_entropy", P, Q),
    case("information.mutual_information", simplex(2, 24, seed=2).reshape(2, 4, 6)),  # a batch
    case("information.mutual_information", simplex(24, seed=3).reshape(4, 6)),  # a joint table
    case("information.gaussian_entropy", t64([0.1, 1.0, 3.0])),
    case("information.binary_entropy", t64([0.0, 1e-9, 0.3, 0.5, 1.0])),
    case("information.bsc_capacity", t64([0.0, 0.11, 0.5])),
    case("information.gaussian_mutual_information", t64([-0.99, 0.0, 0.7])),
    *(case(f"divergences.{f}", P5, Q5) for f in ("kl_discrete", "js_discrete", "total_variation")),
    case("divergences.hellinger", P5, Q5),
    case("divergences.kl_discrete", P5, Q5, base=2),
    case("divergences.kl_discrete", t64([0.5, 0.5, 0]), t64([0, 0.5, 0.5]), allow_inf=True),
    case("divergences.kl_mvn", MU, C, MU2, C2),
    case("divergences.wasserstein_gaussian", MU, C, MU2, C2, rtol=1e-9),
    case("divergences.mahalanobis", randn(6, 4, seed=5), MU2, C),
    case("divergences.kl_gaussian", randn(5, seed=6), SIGMA5, 0.3, 2.0),
    case("divergences.wasserstein_1d", W1X, W1Y),
    case("divergences.wasserstein_1d", W1X, W1Y, p=2),
    case("divergences.wasserstein_1d", W1X, randn(25, seed=3), p=1.5),  # n != m: the merged grid
    case("divergences.sinkhorn", SX, SY, 0.01, p=1, max_iter=20_000, tol=1e-10, rtol=1e-6),
    case("divergences.sinkhorn", SX, SY, 0.5, p=3, rtol=1e-6),  # the cdist cost path
    case("divergences.mmd2", MX, MY, 1.5),
    case("divergences.mmd2", MX, MY, unbiased=False),
    case("functional.rbf_kernel", X40, Y30, bandwidth=0.7),
    case("functional.laplace_kernel", X40, Y30, bandwidth=0.7),
    case("functional.polynomial_kernel", X40, Y30, degree=3, coef0=0.5),
    case("functional.linear_kernel", X40, Y30),
    *(case("functional.mmd2", X40, Y30, k, **kw) for k, kw in KERNELS),
    *(case("functional.mmd_witness", X40, Y30, X40[:7], k, **kw) for k, kw in KERNELS),
    case("functional.lipschitz_extension", randn(12, 2, seed=6), randn(12, seed=7), Y30),
    case("linalg.circle_image", t64([[2.0, 1.0], [0.5, 3.0]])),
    case("linalg.leading_minors", A5, rtol=1e-9),
    case("linalg.principal_minors", A5, rtol=1e-9),
    case("linalg.condition_number", A5, rtol=1e-9),
    case("linalg.logdet_spd", A5),
    case("linalg.gaussian_log_likelihood", X20, M5, A5),
    case("linalg.gaussian_log_likelihood_grad", X20, M5, A5, rtol=1e-9),
    case("linalg.jacobian", lambda v: torch.tanh(W35.to(v.device) @ v), M5),
    case("linalg.pca", randn(100, 6) @ randn(6, 6, seed=1), 3, rtol=1e-8, atol=1e-10),
    case("optimization.minibatch_gradient_variance", *LSQ, 16),
    case(_batched(optimization.RMSprop), LRS, X0, id="optimize-batched-lr-rmsprop"),
    case(_batched(optimization.Momentum), LRS, X0, id="optimize-batched-lr-momentum"),
    *(case("manifolds.lerp", Z0, Z1, t) for t in (0.0, 0.3, 1.0)),
    *(case("manifolds.slerp", Z0, Z1, t) for t in (0.0, 0.3, 1.0)),
    case("manifolds.slerp", Z0, Z0 * 2.0, 0.5),  # parallel: the straight-path fallback
    case("vae.kl_to_standard_normal", randn(6, 3, seed=1), SIGMA63),
    case("vae.gaussian_log_likelihood", randn(6, 3, seed=3), M63, randn(3, seed=5) * 0.1),
    case("vae.bernoulli_log_likelihood", BITS63, M63),
    *(case("gan.discriminator_loss", REAL, FAKE, loss) for loss in gan.LOSSES),
    *(case("gan.generator_loss", FAKE, loss) for loss in gan.LOSSES),
    *(case("gan.generator_logit_gradient", D50, loss) for loss in ("minimax", "nonsaturating")),
    case("gan.optimal_discriminator_logit", LP_DATA, LP_G),
    case("gan.virtual_criterion", LP_DATA - 0.5 * math.log(2 * math.pi), LP_G, 0.02),
    case("diffusion.timestep_embedding", torch.arange(1, 21), 16, rtol=R32, atol=A32),
    case("diffusion.gaussian_kl", randn(10, 3, seed=1), V10, randn(10, 3, seed=2), t64([2.0])),
    case("zoo.ring_energy", RING_X),
    case("zoo.mixture_score", RING_X, data.ring_centers(dtype=F64), 0.1, 0.5),
    case(_langevin, RING_X, id="zoo.langevin"),
    case("zoo.ista", randn(8, 12, seed=3), randn(5, 8, seed=4), 0.1, 200, rtol=1e-9, atol=1e-11),
    case("zoo.soft_threshold", randn(30, seed=5), 0.3),
    case("components.focal_loss", LOGITS, LABELS, 2.0, 0.25, "none"),
    case("components.focal_loss_multiclass", Z12, Y12, 1.5),
    case("components.cross_correlate1d", randn(16, seed=9), randn(5, seed=10)),
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "tol"), CASES)
def test_agrees_with_cpu(target, fn, args, kwargs, tol):
    target.agree(fn, *args, **kwargs, **tol)


# -- device ----------------------------------------------------------------------------------------
def test_resolve_device_and_seeding(target, monkeypatch):
    assert device.resolve_device(target.name).type == target.dev.type
    target.on(torch.zeros(1, device=device.resolve_device(target.name)))
    monkeypatch.setenv(device.ENV_DEVICE, target.name)
    assert device.default_device().type == target.dev.type
    assert device.resolve_device(None).type == target.dev.type
    device.seed_everything(7)
    first = torch.randn(5, device=target.dev)
    device.seed_everything(7)
    torch.testing.assert_close(torch.randn(5, device=target.dev), first, rtol=0, atol=0)


# -- data and models -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "args"),
    [
        (data.moons, (200,)),
        (data.ring, (200,)),
        (data.grid, (200,)),
        (data.swiss_roll, (200,)),
        (data.ring_centers, ()),
        (data.grid_centers, ()),
    ],
)
def test_data_sets_match_cpu(target, make, args):
    seed = {"seed": 3} if args else {}
    out = make(*args, **seed, dtype=F64, device=target.name)
    target.same(out, make(*args, **seed, dtype=F64, device="cpu"), rtol=0, atol=0)


def test_digits_and_mode_coverage(target):
    images, labels = data.digits(device=target.name)
    assert images.shape == (1797, 64) and labels.dtype == torch.int64
    target.same((images, labels), data.digits(device="cpu"), rtol=0, atol=0)
    samples = data.ring(500, std=0.02, seed=0, device=target.name)
    centers = data.ring_centers()  # CPU: mode_coverage moves it
    cov = data.mode_coverage(samples, centers, 0.02)
    assert cov == data.mode_coverage(samples.cpu(), centers, 0.02)
    assert data.mode_coverage(samples, centers.to(target.dev), 0.02)[0] == 8


def test_prepare_data_and_batches(target):
    x = models.prepare_data(randn(50, 3), device=target.name)
    target.on(x)
    assert x.dtype == F32
    stream, ref = models.batches(x, 16, gen(0)), models.batches(x.cpu(), 16, gen(0))
    for _ in range(5):  # more than one pass: new permutations
        target.same(next(stream), next(ref), rtol=0, atol=0)


def test_save_and_load_onto_target(target, tmp_path):
    model = target.fit(flows.fit, flows.training_data("moons", 300), steps=3)
    back = flows.Flow.load(model.save(tmp_path / "flow.pt"), device=target.name)
    target.params_on(back)
    assert back.device.type == target.dev.type
    for (k, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    assert back.history == model.history


# -- shipped checkpoints ---------------------------------------------------------------------------
def _pretrained(target, name, cls):
    model = models.load_pretrained(name, cls, device=target.name)
    target.params_on(model)
    return model, models.load_pretrained(name, cls, device="cpu")


def test_pretrained_vae(target):
    model, ref = _pretrained(target, "vae_digits", vae.VAE)
    x = model.sample(16, generator=gen(1))
    target.on(x)
    assert set(x.unique().tolist()) <= {0.0, 1.0}  # Bernoulli draws
    means = model.sample(16, mean=True, generator=gen(1))
    target.same(means, ref.sample(16, mean=True, generator=gen(1)), R32, A32)
    images, _ = vae.binarized_digits()
    target.same(model.encode(images[:64].to(target.dev)), ref.encode(images[:64]), R32, A32)
    target.ok(model.elbo(images[:64].to(target.dev), samples=4))


def test_pretrained_cvae(target):
    model, ref = _pretrained(target, "vae_digits_cvae", vae.VAE)
    labels = torch.arange(10, device=target.dev)
    x = model.sample(10, labels, mean=True, generator=gen(2))
    target.same(x, ref.sample(10, labels.cpu(), mean=True, generator=gen(2)), R32, A32)
    x = model.sample(4, 3, mean=True, generator=gen(3))
    target.same(x, ref.sample(4, 3, mean=True, generator=gen(3)), R32, A32)


def test_pretrained_beta_vae(target):
    model, _ = _pretrained(target, "vae_beta_4", vae.VAE)
    images, _ = vae.binarized_digits()
    target.ok(*model.rate_distortion(images[:128].to(target.dev), samples=2))
    target.ok(model.iwae(images[:32].to(target.dev), k=8))


def test_pretrained_gan(target):
    model, ref = _pretrained(target, "gan_ring", gan.GAN)
    x = model.sample(256, generator=gen(4))
    target.same(x, ref.sample(256, generator=gen(4)), R32, A32)
    target.same(model.discriminate(x), ref.discriminate(x.cpu()), R32, A32)
    modes, _ = data.mode_coverage(x, data.ring_centers(device=target.name), 0.02, threshold=5)
    assert modes >= 1
    target.on(model.snapshots)


def test_pretrained_conditional_gan(target):
    model, ref = _pretrained(target, "gan_digits", gan.GAN)
    labels = torch.arange(10).repeat(3)
    x = model.sample(30, labels.to(target.dev), generator=gen(5))
    target.same(x, ref.sample(30, labels, generator=gen(5)), R32, A32)
    assert float(x.min()) >= 0 and float(x.max()) <= 1


@pytest.mark.parametrize("name", ["moons", "swissroll"])
def test_pretrained_flow(target, name):
    model, ref = flows.pretrained(name, device=target.name), flows.pretrained(name, device="cpu")
    target.params_on(model)
    target.ok(model.sample(128))
    pts = flows.training_data(name, 256, seed=5)
    target.same(model.log_prob(pts.to(target.dev)), ref.log_prob(pts), R32, 1e-4)


def test_pretrained_diffusion(target):
    model, ref = _pretrained(target, "diffusion_ring", diffusion.DiffusionModel)
    x = model.sample(64, method="ddim", steps=20, seed=0)
    target.same(x, ref.sample(64, method="ddim", steps=20, seed=0), 1e-4, 1e-4)
    # ancestral sampling through all T = 1000 float32 steps: rounding differences may grow
    target.same(model.sample(32, seed=1), ref.sample(32, seed=1), 1e-2, 1e-2)
    bound = model.nll_bound(data.ring(8, seed=2, device=target.name), generator=gen(0))
    target.same(bound, ref.nll_bound(data.ring(8, seed=2), generator=gen(0)), 1e-3, 1e-3)


# -- sampling --------------------------------------------------------------------------------------
def _normal(loc: float, scale: float, dev) -> Normal:
    return Normal(
        torch.tensor(loc, dtype=F64, device=dev), torch.tensor(scale, dtype=F64, device=dev)
    )


def test_monte_carlo_and_importance_sampling(target):
    p, proposal, truth = _normal(1.0, 2.0, target.dev), _normal(0.0, 3.0, target.dev), 5.0
    mc = sampling.monte_carlo(lambda x: x**2, p, 40_000)  # E[X^2] = mu^2 + sigma^2
    target.on(mc.estimate, mc.std_error)
    assert abs(float(mc.estimate) - truth) < 6 * float(mc.std_error)
    for normalised in (False, True):
        est = sampling.importance_sampling(
            lambda x: x**2, p, proposal, 40_000, self_normalized=normalised
        )
        target.on(est.estimate, est.std_error)
        assert abs(float(est.estimate) - truth) < 6 * float(est.std_error)
        assert 1 <= est.ess <= 40_000


def test_gradient_estimators(target):
    params = (t64(0.5).to(target.dev), t64(1.5).to(target.dev))
    truth = (2 * 0.5, 2 * 1.5)  # d/dmu, d/dsigma of E[Z^2] = mu^2 + sigma^2
    for estimator in (sampling.score_function_gradient, sampling.reparameterization_gradient):
        est = estimator(lambda z: z**2, Normal, params, 40_000)
        target.on(*est.gradient, *est.std_error, *est.per_sample)
        for g, se, t in zip(est.gradient, est.std_error, truth, strict=True):
            assert abs(float(g) - t) < 6 * float(se) + 1e-12


def test_pushforward_density_is_chi2(target):
    y = torch.linspace(0.05, 3.9, 60, dtype=F64)  # (4 = 2², with 2 a grid point, is avoided)
    out = target.agree(sampling.pushforward_density, lambda x: x**2, _log_normal, y, rtol=1e-8)
    chi2 = torch.exp(-y / 2) / torch.sqrt(2 * math.pi * y)  # density of X^2, X ~ N(0, 1)
    torch.testing.assert_close(out.cpu(), chi2, rtol=1e-6, atol=1e-9)


# -- information and divergences -------------------------------------------------------------------
def test_mutual_information_of_independent_variables(target):
    mi = information.mutual_information(
        torch.outer(simplex(4, seed=4), simplex(6, seed=5)).to(target.dev)
    )
    target.on(mi)
    assert abs(float(mi)) < 1e-13


def test_kl_gaussian_python_numbers_follow_the_tensor(target):
    target.on(divergences.kl_gaussian(torch.zeros(3, dtype=F64, device=target.dev), 1.0, 0.5, 2.0))


def test_sinkhorn_plan(target):
    # the loop may stop one iteration apart on the two devices: compare to ~ the tolerance
    plan, _ = target.agree(
        divergences.sinkhorn_plan, SX, SY, 0.1, max_iter=5000, tol=1e-12, rtol=1e-7, atol=1e-12
    )
    torch.testing.assert_close(plan.sum(1).cpu(), torch.full((60,), 1 / 60, dtype=F64))


def test_mmd2_gradient_in_the_bandwidth(target):
    h = torch.tensor(1.2, dtype=F64, device=target.dev, requires_grad=True)
    value = divergences.mmd2(MX.to(target.dev), MY.to(target.dev), h)  # the dense path
    (grad,) = torch.autograd.grad(value, h)
    target.on(value, grad)
    target.same(value.detach(), divergences.mmd2(MX, MY, 1.2))


# -- functional ------------------------------------------------------------------------------------
def test_kernel_ridge(target):
    targets = randn(40, seed=5)
    model = functional.KernelRidge("rbf", lam=0.1, bandwidth=0.8)
    out = model.fit(X40.to(target.dev), targets.to(target.dev)).predict(Y30.to(target.dev))
    ref = functional.KernelRidge("rbf", lam=0.1, bandwidth=0.8).fit(X40, targets).predict(Y30)
    target.same(out, ref, rtol=1e-9, atol=1e-10)
    target.on(model.rkhs_norm())


def test_gp_samples_and_kr_dual(target):
    grid = torch.linspace(-1, 1, 5, dtype=F64)
    draws = functional.gp_prior_samples(grid.to(target.dev), "rbf", n_samples=20_000, seed=1)
    target.ok(draws)
    # drawn with a generator on the device: same seed, same draws; covariance = the kernel
    again = functional.gp_prior_samples(grid.to(target.dev), "rbf", n_samples=20_000, seed=1)
    assert torch.equal(draws, again)
    emp = torch.cov(draws.T).cpu()
    torch.testing.assert_close(emp, functional.rbf_kernel(grid), rtol=0, atol=0.05)
    pytest.importorskip("scipy")
    x, y = randn(9, 2, seed=8), randn(7, 2, seed=9)
    dual = functional.kantorovich_dual(x.to(target.dev), y.to(target.dev))
    target.on(dual.potential_x, dual.potential_y)
    assert math.isclose(dual.value, functional.kantorovich_dual(x, y).value, abs_tol=1e-12)


# -- linalg ----------------------------------------------------------------------------------------
def test_eigen_2x2_and_definiteness(target):
    a2 = t64([[2.0, 1.0], [0.5, 3.0]])
    vals, vecs = linalg.eigen_2x2(a2.to(target.dev))
    target.on(vals, vecs)
    ref_vals, _ = linalg.eigen_2x2(a2)
    torch.testing.assert_close(vals.cpu().real.sort().values, ref_vals.real.sort().values)
    torch.testing.assert_close((a2.to(target.dev) @ vecs).cpu(), (vecs * vals.real).cpu())
    assert linalg.is_positive_definite(A5.to(target.dev))
    assert linalg.is_positive_semidefinite(A5.to(target.dev))
    assert not linalg.is_positive_definite((-A5).to(target.dev))


def test_hutchinson_trace(target):
    """``device=`` hands ``matvec`` its probe vectors on the target; the seeded estimate is the
    CPU's (the vectors are drawn on the CPU and moved)."""
    a = spd(6).to(target.dev)
    with known_device_bug("companion/linalg.py hutchinson_trace (probes not on the device)"):
        est, se = linalg.hutchinson_trace(
            lambda v: v @ a.T, 6, 4000, generator=gen(0), device=target.dev
        )
    target.on(est, se)
    assert abs(float(est) - float(torch.trace(a))) < 6 * float(se) + 1e-12
    cpu_est, _ = linalg.hutchinson_trace(lambda v: v @ a.cpu().T, 6, 4000, generator=gen(0))
    assert abs(float(est) - float(cpu_est)) < 1e-10 * abs(float(cpu_est))


# -- optimization ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rule",
    [
        lambda: optimization.GradientDescent(1e-3),
        lambda: optimization.Momentum(1e-3, 0.9, nesterov=True),
        lambda: optimization.RMSprop(1e-2),
        lambda: optimization.Adam(1e-2),
    ],
    ids=["gd", "nesterov", "rmsprop", "adam"],
)
@pytest.mark.parametrize("objective", ["rosenbrock", "beale", "quadratic"])
def test_optimize(target, rule, objective):
    obj = optimization.OBJECTIVES[objective]()
    x0 = torch.tensor(obj.start, dtype=F64)
    # loose: RMSprop in Rosenbrock's valley turns a 1e-15 change of x0 into 3e-8 after 200 steps,
    # and the GPU may fuse multiply-adds that the CPU rounds twice
    traj = target.agree(
        lambda x: optimization.optimize(rule(), obj, x, 200), x0, rtol=1e-6, atol=1e-9
    )
    target.same(obj.value(traj), obj.value(traj.cpu()), rtol=1e-9, atol=1e-11)


def test_sgd_least_squares_and_polyak_average(target):
    lr = optimization.step_sizes("1/t", 100, 0.2)
    w0 = torch.zeros(2, dtype=F64)
    traj = target.agree(
        lambda *a: optimization.sgd_least_squares(*a, generator=gen(0)), *LSQ[:2], 8, lr, w0
    )
    target.agree(optimization.polyak_average, traj)


def test_gradient_penalty_and_backprop(target):
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    real, fake = randn(32, 2, seed=1), randn(32, 2, seed=2)
    target.agree(
        lambda c, r, f: optimization.gradient_penalty(c, r, f, generator=gen(3)), critic, real, fake
    )
    x, y = randn(10, 3, seed=4), randn(10, 2, seed=5)
    w1, b1, w2, b2 = randn(4, 3, seed=6), randn(4, seed=7), randn(2, 4, seed=8), randn(2, seed=9)
    _, grads = target.agree(optimization.mlp_forward_backward, x, y, w1, b1, w2, b2)
    leaves = [t.to(target.dev).requires_grad_(True) for t in (w1, b1, w2, b2)]
    h = torch.tanh(x.to(target.dev) @ leaves[0].T + leaves[1])
    out = h @ leaves[2].T + leaves[3]
    auto = torch.autograd.grad(((out - y.to(target.dev)) ** 2).sum() / 20, leaves)
    for key, g in zip(("W1", "b1", "W2", "b2"), auto, strict=True):
        target.same(grads[key], g.cpu())


# -- manifolds -------------------------------------------------------------------------------------
def test_manifolds(target):
    pts, t = data.swiss_roll(300, seed=0, dtype=F64, device=target.name)
    torch.testing.assert_close(manifolds.pca_spectrum(pts), manifolds.pca_spectrum(pts.cpu()))
    assert 1.5 < manifolds.mle_intrinsic_dimension(pts, k=10) < 2.5
    emb = manifolds.embed(pts, "pca")
    assert manifolds.unrolling_score(emb, t) == manifolds.unrolling_score(emb, t.cpu())


def test_gaussian_norm_quantiles_with_probs(target):
    """``manifolds.gaussian_norm_quantiles`` accepts a tensor of probabilities but once called
    ``.numpy()`` on it, which fails for a GPU tensor."""
    probs = t64([0.1, 0.5, 0.9])
    with known_device_bug("companion/manifolds.py gaussian_norm_quantiles (p.numpy() on GPU)"):
        out = manifolds.gaussian_norm_quantiles(3, probs.to(target.dev))
    torch.testing.assert_close(out.cpu(), manifolds.gaussian_norm_quantiles(3, probs))


# -- VAE -------------------------------------------------------------------------------------------
def test_vae_elbo_for_given_eps(target):
    torch.manual_seed(0)
    model = vae.VAE(5, latent_dim=2, hidden=[16, 16]).double()
    x, eps = randn(32, 5, seed=1), randn(32, 2, seed=2)

    def elbo(m, x, eps):
        mu, sigma = m.encode(x)
        recon = vae.gaussian_log_likelihood(x, m.decode(mu + sigma * eps), m.log_obs_std)
        return recon - vae.kl_to_standard_normal(mu, sigma)

    target.agree(elbo, model, x, eps)
    target.agree(lambda m, z: m.decode(z), model, eps)
    m, xd = target.move(model), x.to(target.dev)
    target.params_on(m)
    target.ok(m.elbo(xd, samples=3), m.iwae(xd, 5), *m.rate_distortion(xd))
    losses = m.loss(xd)
    losses["loss"].backward()
    target.on(*losses.values(), *(p.grad for p in m.parameters()))
    # z and the observation noise come from a CPU generator: sampling is deterministic
    target.agree(lambda m: m.sample(20, generator=gen(7)), model)


def test_conditional_vae(target):
    torch.manual_seed(0)
    model = vae.VAE(5, latent_dim=2, hidden=[8], n_classes=3).double()
    x, labels = randn(12, 5, seed=1), torch.arange(12) % 3
    target.agree(lambda m, x, y: m.encode(x, y), model, x, labels)
    target.agree(lambda m: m.sample(6, 2, mean=True, generator=gen(3)), model)  # an int label


@pytest.mark.parametrize("method", ["log_marginal", "posterior", "elbo", "sample"])
def test_linear_gaussian(target, method):
    """Probabilistic PCA with W on the device: ``marginal_cov`` and ``posterior`` add a
    ``torch.eye``, ``sample`` draws on the CPU and multiplies by W."""
    W, b, x = randn(5, 2, seed=1), randn(5, seed=2), randn(7, 5, seed=3)
    cpu = vae.LinearGaussian(W, b, 0.5)
    lg = vae.LinearGaussian(W.to(target.dev), b.to(target.dev), 0.5)
    with known_device_bug("companion/vae.py LinearGaussian (torch.eye / torch.randn, no device)"):
        if method == "log_marginal":
            target.same(lg.log_marginal(x.to(target.dev)), cpu.log_marginal(x))
        elif method == "posterior":
            target.same(lg.posterior(x.to(target.dev)), cpu.posterior(x))
        elif method == "sample":
            target.same(lg.sample(9, generator=gen(4)), cpu.sample(9, generator=gen(4)))
        else:  # at the exact posterior the ELBO is log p(x)
            mean, cov = cpu.posterior(x)
            value = lg.elbo(x[0].to(target.dev), mean[0].to(target.dev), cov.to(target.dev))
            target.same(value, cpu.log_marginal(x[:1])[0], rtol=1e-9)


def test_vae_fit(target):
    model = target.fit(vae.fit, data.moons(300, seed=0), hidden=(16,))
    assert len(model.history) >= 2
    target.ok(model.sample(64))
    images, labels = (t[:200].to(target.dev) for t in vae.binarized_digits())
    kw = dict(labels=labels, likelihood="bernoulli", hidden=(32,), batch_size=64)
    cvae = target.fit(vae.fit, images, **kw)
    target.ok(cvae.sample(10, torch.arange(10, device=target.dev)))


# -- GAN -------------------------------------------------------------------------------------------
def test_gan_networks_and_penalties(target):
    torch.manual_seed(0)
    model = gan.GAN(2, latent_dim=4, hidden=[16, 16]).double()
    z, real = randn(32, 4, seed=1), randn(32, 2, seed=2)
    fake = target.agree(lambda m, z: m.generate(z), model, z)
    target.agree(lambda m, z: m.generate(z, averaged=False), model, z)
    target.agree(lambda m, x: m.discriminate(x), model, real)
    target.agree(
        lambda m, r, f: gan.gradient_penalty(m.discriminator, r, f, generator=gen(3)),
        model,
        real,
        fake.cpu(),
    )
    target.agree(lambda m, r: gan.r1_penalty(m.discriminator, r), model, real)
    m = target.move(model)
    penalty = gan.gradient_penalty(m.discriminator, real.to(target.dev), fake, generator=gen(3))
    penalty.backward()  # differentiable in the critic's parameters
    grads = [p.grad for p in m.discriminator.parameters() if p.grad is not None]
    assert grads
    target.on(*grads)
    # z is drawn on the CPU with the generator: sampling is deterministic
    torch.manual_seed(0)
    model32 = gan.GAN(2, latent_dim=4, hidden=[16, 16])
    target.agree(lambda m: m.sample(50, generator=gen(4)), model32, rtol=R32, atol=A32)


@pytest.mark.parametrize(
    ("loss", "extra"),
    [("nonsaturating", {"n_snapshots": 3, "snapshot_size": 20}), ("wgan-gp", {}), ("wgan", {})],
)
def test_gan_fit(target, loss, extra):
    kw = dict(loss=loss, hidden=(32, 32), batch_size=64, n_critic=2, **extra)
    model = target.fit(gan.fit, data.ring(400, seed=0), **kw)
    target.ok(model.sample(64))
    if extra:
        assert model.snapshot_steps.tolist() == [0, 10, 20]
        target.finite(model.snapshots)


def test_conditional_gan_fit_and_train_discriminator(target):
    images, labels = data.digits()
    kw = dict(output="sigmoid", hidden=(32,), batch_size=64, spectral_norm=True)
    model = target.fit(gan.fit, images[:300], labels=labels[:300], **kw)
    target.ok(model.sample(10, torch.arange(10, device=target.dev)))
    net = gan.train_discriminator(
        lambda n: torch.randn(n, 1) + 1,  # CPU samplers: train_discriminator moves the batches
        lambda n: torch.randn(n, 1, device=target.dev),
        steps=20,
        batch_size=64,
        loss="wgan-gp",
        device=target.name,
    )
    target.params_on(net)
    target.ok(net(torch.zeros(5, 1, device=target.dev)))


# -- flows -----------------------------------------------------------------------------------------
def _perturbed(module: nn.Module, scale: float) -> nn.Module:
    """``module`` in float64 with its parameters moved away from their (identity) start, so that
    a comparison sees every layer."""
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))
    return module


@pytest.mark.parametrize("kind", flows.KINDS)
def test_flow_log_prob_and_inverse(target, kind):
    torch.manual_seed(0)
    model = _perturbed(flows.Flow(dim=4, layers=3, hidden=16, kind=kind, seed=1), 0.1)
    model.train()
    model(randn(64, 4, seed=9))  # ActNorm initialises from this batch
    model.eval()
    x = randn(50, 4, seed=1)
    target.agree(lambda m, x: m.log_prob(x), model, x)
    z, ldj = target.agree(lambda m, x: m(x), model, x)
    back, ldj_inv = target.agree(lambda m, z: m(z, reverse=True), model, z.cpu())
    torch.testing.assert_close(back.cpu(), x, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ldj_inv.cpu(), -ldj.cpu())
    target.agree(lambda m, x: m.stages(x), model, x)
    target.agree(lambda m, z: m.inverse_stages(z), model, z.cpu())
    target.agree(flows.nll, model, x)
    sample = target.move(model).sample(30)
    target.ok(sample)
    assert sample.dtype == F64


def test_flow_layers(target):
    torch.manual_seed(0)
    layers = [
        flows.AffineCoupling([1, 0, 1, 0], hidden=8),
        flows.ActNorm(4),
        flows.LULinear(4, seed=3),
        flows.Permutation([2, 0, 3, 1]),
    ]
    x = randn(20, 4, seed=1)
    for layer in layers:
        layer = _perturbed(layer, 0.2).eval()
        y, _ = target.agree(lambda m, x: m(x), layer, x)
        back, _ = target.agree(lambda m, y: m(y, reverse=True), layer, y.cpu())
        torch.testing.assert_close(back.cpu(), x, rtol=1e-10, atol=1e-10)
    lu = target.move(layers[2].double())
    weight = lu.weight()
    target.on(weight)
    target.same(torch.linalg.slogdet(weight).logabsdet, lu.log_diag.sum().detach().cpu())


def test_flow_fit_and_density_grid(target):
    for kind in flows.KINDS:
        kw = dict(kind=kind, layers=2, hidden=16, batch_size=64)
        model = target.fit(flows.fit, flows.training_data("ring", 400), **kw)
        x = model.sample(64)
        target.ok(x)
        target.on(flows.nll(model, x))
    _, _, dens, mass = flows.density_on_grid(model, (-4, -4), (4, 4), n=40)
    assert torch.isfinite(dens).all() and 0 < mass < 1.5
    target.params_on(model)  # density_on_grid works on a copy


# -- diffusion -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_noise_schedule(target, kind):
    sched = diffusion.NoiseSchedule(kind, 100)
    x0, noise = randn(16, 3, seed=1), randn(16, 3, seed=2)
    t = torch.randint(1, 101, (16,), generator=gen(3))
    xt = target.agree(sched.q_sample, x0, t, noise).cpu()
    target.agree(sched.q_sample, x0, 37, noise)
    target.agree(sched.q_posterior, x0, xt, t)
    target.agree(sched.predict_x0, xt, t, noise)
    target.agree(sched.p_mean, xt, t, noise)
    score = target.agree(sched.eps_to_score, noise, t)
    target.agree(sched.score_to_eps, score.cpu(), t)
    target.agree(lambda x, e, z: sched.ddpm_step(x, 50, e, noise=z), xt, noise, x0)
    target.agree(lambda x, e: sched.ddim_step(x, 50, 20, e), xt, noise)
    target.agree(lambda x, e, z: sched.ddim_step(x, 50, 0, e, eta=0.5, noise=z), xt, noise, x0)


def test_ddpm_step_with_tensor_t(target):
    """``NoiseSchedule.ddpm_step`` with one t per row (a tensor on the data's device):
    ``sampling_variance`` looks the variances up in the CPU table and then calls
    ``torch.where`` with a condition on the device."""
    sched = diffusion.NoiseSchedule("linear", 100)
    xt, eps, z = randn(16, 3, seed=1), randn(16, 3, seed=2), randn(16, 3, seed=3)
    t = torch.randint(1, 101, (16,), generator=gen(4))
    t[0] = 1  # no noise at t = 1
    with known_device_bug("companion/diffusion.py NoiseSchedule.sampling_variance"):
        target.agree(lambda x, t, e, z: sched.ddpm_step(x, t, e, noise=z), xt, t, eps, z)


def test_exact_gaussian_samplers(target):
    """Every sampler with the exact ε of Gaussian data: noise comes from a CPU generator, so
    each run is deterministic and the two devices agree."""
    sched = diffusion.NoiseSchedule("cosine", 60)  # alpha_bar_T ~ 0: the samplers are exact
    mean = t64([1.0, -2.0])
    eps = diffusion.gaussian_eps(mean, 0.5, sched)  # moves mean to x's device itself
    tol = dict(rtol=1e-9, atol=1e-11)
    x_t = randn(200, 2, seed=1)
    target.agree(lambda x: diffusion.ddim_sample(eps, sched, x, 10), x_t, **tol)
    target.agree(
        lambda x: diffusion.ddim_sample(eps, sched, x, 10, eta=1.0, generator=gen(2)), x_t, **tol
    )
    out, saved = target.agree(
        lambda x: diffusion.ddpm_sample(eps, sched, x, generator=gen(3), record=(60, 30, 0)),
        x_t,
        **tol,
    )
    assert sorted(saved) == [0, 30, 60]
    assert (out.mean(0).cpu() - mean).abs().max() < 0.2
    target.agree(
        lambda x: diffusion.annealed_langevin(
            eps, sched, x, levels=5, steps_per_level=5, generator=gen(4)
        ),
        x_t,
        **tol,
    )


def test_sliced_wasserstein(target):
    m1, m2 = randn(10, 3, seed=1), randn(10, 3, seed=2)
    w = diffusion.sliced_wasserstein(m1.to(target.dev), m2.to(target.dev))
    assert w == pytest.approx(diffusion.sliced_wasserstein(m1, m2), rel=1e-12)


def test_diffusion_model(target):
    torch.manual_seed(0)
    model = diffusion.DiffusionModel(dim=2, T=30, hidden=32, layers=2, emb_dim=8)
    x = data.ring(64, seed=1)
    target.agree(lambda m, x: m.loss_simple(x, generator=gen(2)), model, x, rtol=R32, atol=A32)
    target.agree(lambda m, x: m.nll_bound(x, generator=gen(3)), model, x, rtol=1e-3, atol=1e-3)
    target.agree(
        lambda m: m.sample(40, method="ddim", steps=10, seed=4), model, rtol=1e-4, atol=1e-4
    )
    target.agree(lambda m: m.sample(40, seed=5), model, rtol=1e-4, atol=1e-4)
    m = target.move(model)
    out, saved = m.sample(20, seed=6, record=(30, 0))
    target.on(out, *saved.values())
    target.ok(m.sample(20, method="langevin", steps=3, seed=7))
    target.on(m.score(m.standardize(out), torch.full((20,), 5, device=target.dev)))


def test_diffusion_fit(target):
    model = target.fit(diffusion.fit, data.moons(400, seed=0), T=50, hidden=32, batch_size=64)
    target.ok(model.sample(64, method="ddim", steps=10))


# -- zoo -------------------------------------------------------------------------------------------
def test_ring_score_is_minus_the_energy_gradient(target):
    score = target.agree(zoo.ring_score, RING_X)
    xd = RING_X.to(target.dev).requires_grad_(True)
    (grad,) = torch.autograd.grad(zoo.ring_energy(xd).sum(), xd)
    target.same(-grad, score.cpu())


def test_zoo_ode_flow(target):
    torch.manual_seed(0)
    v = zoo.VelocityNet(dim=2, hidden=16).double()
    x = randn(30, 2, seed=1)
    target.agree(lambda m, x: zoo.rk4(m, x, 0.0, 1.0, 10), v, x)
    target.agree(lambda m, x: zoo.ode_log_prob(m, x, n_steps=10), v, x, rtol=1e-9, atol=1e-11)
    target.ok(target.move(v.float()).sample(20, n_steps=5, generator=gen(2)))


def test_zoo_autoregressive(target):
    torch.manual_seed(0)
    model = zoo.DiscreteAutoregressive(dims=2, categories=6, hidden=32)
    grid = torch.cartesian_prod(torch.arange(6), torch.arange(6))
    lp = target.agree(lambda m, x: m.log_prob(x), model, grid, rtol=R32, atol=A32)
    total = float(lp.detach().exp().sum())
    assert total == pytest.approx(1.0, abs=1e-5)  # normalised over all 36 configurations
    target.agree(lambda m: m.sample(40, generator=gen(1)), model, rtol=0, atol=0)
    bins = zoo.discretize(data.ring(100, seed=0, device=target.name), 6, -3.0, 3.0)
    target.on(bins)
    model = target.fit(zoo.fit_autoregressive, bins, categories=6)
    target.on(model.sample(10))


def test_zoo_score_model(target):
    torch.manual_seed(0)
    net = zoo.ScoreNet(hidden=16, levels=4)
    x, noise = data.ring(32, seed=1), torch.randn(32, 2, generator=gen(2))
    sigma = net.sigmas[torch.randint(4, (32,), generator=gen(3))][:, None]
    target.agree(zoo.dsm_loss, net, x, sigma, noise, rtol=R32, atol=A32)
    target.agree(
        lambda m: m.sample(16, steps_per_level=5, generator=gen(4)), net, rtol=1e-4, atol=1e-4
    )
    out = zoo.annealed_langevin(
        lambda y, s: zoo.mixture_score(y, data.ring_centers(), 0.05, s[0, 0].item()),
        16,
        sigmas=torch.tensor([1.0, 0.5, 0.1]),
        steps_per_level=5,
        generator=gen(5),
        device=target.name,
    )
    target.ok(out)
    model = target.fit(zoo.fit_score, data.ring(300, seed=0), hidden=16)
    target.ok(model.sample(16, steps_per_level=3))


def test_zoo_ode_flow_fit(target):
    model = target.fit(zoo.fit_ode_flow, data.moons(300, seed=0), hidden=16)
    x = model.sample(16, n_steps=5)
    target.ok(x)
    target.ok(*zoo.ode_log_prob(model, x, n_steps=5))


def _transition(v: int = 3) -> torch.Tensor:
    p = torch.rand(v, v, v, generator=gen(0), dtype=F64) + 0.1
    return p / p.sum(-1, keepdim=True)


def test_zoo_transformer(target):
    seqs = zoo.markov_sequences(_transition(), 64, 17, seed=0)
    torch.manual_seed(0)
    model = zoo.TinyTransformer(vocab=3, context=16, width=16)
    target.agree(lambda m, s: m(s[:, :-1]), model, seqs, rtol=R32, atol=A32)
    target.agree(lambda m, s: m.nll(s), model, seqs, rtol=R32, atol=A32)
    target.agree(lambda m: m.sample(8, length=12, generator=gen(1)), model, rtol=0, atol=0)
    fitted = target.fit(zoo.fit_transformer, seqs.to(target.dev), width=16)
    out = fitted.sample(4, length=10)
    target.on(out)
    assert out.shape == (4, 10)


def test_zoo_transformer_sample_with_prompt(target):
    """``TinyTransformer.sample(prompt=...)`` with the prompt on the model's device: the new
    tokens are drawn on the CPU and concatenated to the device prompt."""
    torch.manual_seed(0)
    model = zoo.TinyTransformer(vocab=3, context=16, width=16).to(target.dev)
    prompt = torch.tensor([[0, 1, 2]], device=target.dev)
    with known_device_bug("companion/zoo TinyTransformer.sample (prompt kept on the device)"):
        out = model.sample(4, length=8, prompt=prompt, generator=gen(1))
    target.on(out)
    assert out.shape == (4, 8) and (out[:, :3].cpu() == prompt.cpu()).all()


def test_zoo_markov_helpers_with_transition(target):
    """``markov_sequences`` and ``markov_entropy_rate`` take a transition tensor; on the GPU the
    first samples with a CPU generator from GPU probabilities, the second multiplies the CPU
    stationary law by GPU entropies."""
    p = _transition()
    with known_device_bug("companion/zoo markov_entropy_rate (CPU pair matrix)"):
        assert zoo.markov_entropy_rate(p.to(target.dev)) == pytest.approx(
            zoo.markov_entropy_rate(p)
        )
    with known_device_bug("companion/zoo markov_sequences (CPU generator, device probs)"):
        seqs = zoo.markov_sequences(p.to(target.dev), 8, 10, seed=0)
    assert (seqs.cpu() == zoo.markov_sequences(p, 8, 10, seed=0)).all()


# -- components: against torch's own layers --------------------------------------------------------
_REFERENCE_ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, components.LEAKY_SLOPE),
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda x: F.softplus(x, threshold=100),  # torch returns x itself above 20
    "gelu": F.gelu,
    "silu": F.silu,
}


@pytest.mark.parametrize("name", sorted(components.ACTIVATIONS))
def test_activations_match_torch(target, name):
    x = (torch.linspace(-30, 30, 601, dtype=F64) + 0.01).to(target.dev).requires_grad_(True)
    reference = _REFERENCE_ACTIVATIONS[name](x)
    (grad,) = torch.autograd.grad(reference.sum(), x)
    x = x.detach()
    target.same(components.activation(name, x), reference.detach().cpu(), rtol=1e-12, atol=1e-14)
    target.same(components.activation_derivative(name, x), grad.cpu(), rtol=1e-10, atol=1e-14)


def test_softmax_and_attention_match_torch(target):
    z = randn(4, 7, seed=1).to(target.dev) * 5
    sm = components.softmax(z, 2.0)
    target.same(sm, torch.softmax(z / 2.0, -1).cpu(), rtol=1e-12, atol=1e-15)
    target.same(components.log_softmax(z, 0.5), torch.log_softmax(z / 0.5, -1).cpu())
    p = torch.softmax(z / 3.0, -1)
    target.same(components.softmax_entropy(z, 3.0), -(p * p.log()).sum(-1).cpu())
    q, k, v = (randn(2, 3, 6, 8, seed=s).to(target.dev) for s in (2, 3, 4))
    out, weights = components.scaled_dot_product_attention(q, k, v)
    target.on(weights)
    target.same(out, F.scaled_dot_product_attention(q, k, v).cpu())
    out, _ = components.scaled_dot_product_attention(q, k, v, causal=True)
    target.same(out, F.scaled_dot_product_attention(q, k, v, is_causal=True).cpu())
    mask = torch.rand(6, 6, generator=gen(5)) > 0.5
    mask = (mask | torch.eye(6, dtype=torch.bool)).to(target.dev)
    out, _ = components.scaled_dot_product_attention(q, k, v, mask, causal=True, scale=0.3)
    causal = components.causal_mask(6, device=target.dev)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask & causal, scale=0.3)
    target.same(out, expected.cpu())
    target.on(components.causal_mask(4, 5, device=target.name))


def test_layer_norm_and_convolutions_match_torch(target):
    dev = target.dev
    x, w, b = randn(3, 4, 10, seed=1).to(dev), randn(10, seed=2).to(dev), randn(10, seed=3).to(dev)
    target.same(components.layer_norm(x, 1, w, b), F.layer_norm(x, (10,), w, b).cpu())
    target.same(components.layer_norm(x, 2), F.layer_norm(x, (4, 10)).cpu())
    img, kern = randn(2, 3, 11, 9, seed=4).to(dev), randn(5, 3, 3, 2, seed=5).to(dev)
    bias = randn(5, seed=6).to(dev)
    for kw in (
        {},
        {"stride": 2, "padding": 1},
        {"stride": (1, 2), "padding": (2, 0), "dilation": 2},
    ):
        target.same(components.conv2d(img, kern, bias, **kw), F.conv2d(img, kern, bias, **kw).cpu())
    sig, k1 = randn(2, 3, 20, seed=7).to(dev), randn(4, 3, 5, seed=8).to(dev)
    kw = dict(stride=2, padding=2, dilation=2)
    target.same(components.conv1d(sig, k1, None, **kw), F.conv1d(sig, k1, None, **kw).cpu())
    target.same(components.max_pool2d(img, 2), F.max_pool2d(img, 2).cpu())
    target.same(components.avg_pool2d(img, 3, 2), F.avg_pool2d(img, 3, 2).cpu())
    f, h = randn(16, seed=9), randn(5, seed=10)
    full = target.agree(components.convolve1d, f, h)
    expected = F.conv1d(f.to(dev)[None, None], h.to(dev).flip(0)[None, None], padding=4)[0, 0]
    target.same(full, expected.cpu())
    g = randn(16, seed=11)
    circ = target.agree(components.circular_convolve, f, g)
    target.same(components.fft_circular_convolve(f.to(dev), g.to(dev)), circ.cpu())


def test_recurrent_cells_match_torch(target):
    torch.manual_seed(0)
    dev = target.dev
    x, h, c = randn(4, 3, seed=1).to(dev), randn(4, 5, seed=2).to(dev), randn(4, 5, seed=3).to(dev)
    rnn, lstm, gru = (cell(3, 5).double().to(dev) for cell in (nn.RNNCell, nn.LSTMCell, nn.GRUCell))

    def weights(cell):
        return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh

    with torch.no_grad():
        target.same(components.rnn_cell(x, h, *weights(rnn)), rnn(x, h).cpu())
        ref_h, ref_c = lstm(x, (h, c))
        target.same(components.lstm_cell(x, h, c, *weights(lstm)), (ref_h.cpu(), ref_c.cpu()))
        target.same(components.gru_cell(x, h, *weights(gru)), gru(x, h).cpu())
    w = randn(5, 5, seed=4) * 0.5
    for nonlin in ("tanh", "linear"):
        target.agree(
            components.recurrent_jacobian_norms,
            w,
            randn(5, seed=5),
            randn(8, 5, seed=6),
            nonlin,
            rtol=1e-9,
        )


def test_losses_match_torch(target):
    logits, labels = LOGITS.to(target.dev), LABELS.to(target.dev)
    p = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    target.same(components.binary_cross_entropy(p, labels), F.binary_cross_entropy(p, labels).cpu())
    target.same(
        components.binary_cross_entropy_with_logits(logits, labels, "sum"),
        F.binary_cross_entropy_with_logits(logits, labels, reduction="sum").cpu(),
    )
    target.same(components.focal_loss(logits, labels, gamma=0.0), bce.cpu())
    z, y = Z12.to(target.dev), Y12.to(target.dev)
    target.same(components.cross_entropy(z, y), F.cross_entropy(z, y).cpu())
    target.same(components.focal_loss_multiclass(z, y, gamma=0.0), F.cross_entropy(z, y).cpu())
    target.same(components.mse_loss(z, z.flip(0)), F.mse_loss(z, z.flip(0)).cpu())
