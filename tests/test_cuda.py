"""The GPU path of every companion module that computes with torch.

Run once on a machine with an NVIDIA GPU; skipped everywhere else (CI has no GPU)::

    python -m pytest tests/test_cuda.py -q --noconftest -p no:cacheprovider

``--noconftest`` because the repository's ``conftest.py`` imports nbval, which the GPU machine
lacks. ``GF_TEST_DEVICE`` picks the device (default ``cuda``; ``cuda:1`` works too);
``GF_TEST_DEVICE=cpu`` dry-runs every test on the CPU to check the file itself.

Each test runs a function or model on the target device and checks that its outputs live there,
are finite and — where the computation is deterministic — agree with the same computation on the
CPU (relative 1e-10 in float64, about 1e-5 in float32). Random draws that a function makes on the
CPU with a ``torch.Generator`` and then moves (the companion's convention) are deterministic
across devices; those it makes on the device are checked statistically or only for finiteness.
A few tests wrap places that once mixed devices (fixed since) in ``known_device_bug(...)``, so
that a regression fails with a message naming the code at fault.

Only pytest, torch, numpy and the companion's core modules are imported (no plotly, POT,
diffusers, zuko, jupytext or nbval), and not ``tests/helpers.py`` (it imports hypothesis).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys

import numpy as np
import pytest
import torch
from torch import Tensor, nn
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

TARGET = os.environ.get("GF_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    TARGET.startswith("cuda") and not torch.cuda.is_available(),
    reason="needs a CUDA GPU (set GF_TEST_DEVICE=cpu to dry-run these tests on the CPU)",
)

DEV = torch.device(TARGET)  # constructing a device object needs no GPU
CPU = torch.device("cpu")
F64 = torch.float64
F32 = torch.float32
# Tolerances for "same computation on the device and on the CPU".
R64, A64 = 1e-10, 1e-12
R32, A32 = 1e-5, 1e-5


# -- helpers ---------------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _full_precision_float32_one_cpu_thread():
    """No TF32 in float32 matmuls or convolutions, so float32 results can be compared; one CPU
    thread for the small CPU references (on a busy machine two threads made a 20-step GAN fit
    take 17 s instead of 0.1 s)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    with device.single_thread():
        yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def move(obj, dev: torch.device):
    """``obj`` with every tensor (in tuples, lists, dicts) on ``dev``; modules are copied."""
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, nn.Module):
        return copy.deepcopy(obj).to(dev)
    if isinstance(obj, (tuple, list)):
        return type(obj)(move(o, dev) for o in obj)
    if isinstance(obj, dict):
        return {k: move(v, dev) for k, v in obj.items()}
    return obj


def on_target(*tensors: Tensor) -> None:
    for t in tensors:
        assert isinstance(t, Tensor), f"expected a tensor, got {type(t).__name__}"
        assert t.device.type == DEV.type, f"tensor on {t.device}, expected {DEV}"
        if DEV.index is not None:
            assert t.device.index == DEV.index, f"tensor on {t.device}, expected {DEV}"


def finite(*tensors: Tensor) -> None:
    for t in tensors:
        assert torch.isfinite(t).all(), "non-finite values"


def same(out, ref, rtol: float = R64, atol: float = A64, *, allow_inf: bool = False) -> None:
    """``out`` (computed on the target) lives there, is finite and matches ``ref`` (CPU)."""
    if isinstance(out, Tensor):
        on_target(out)
        if not allow_inf and out.is_floating_point():
            finite(out)
        torch.testing.assert_close(out.cpu(), ref.cpu(), rtol=rtol, atol=atol)
    elif isinstance(out, (tuple, list)):
        assert len(out) == len(ref)
        for o, r in zip(out, ref, strict=True):
            same(o, r, rtol, atol, allow_inf=allow_inf)
    elif isinstance(out, dict):
        assert out.keys() == ref.keys()
        for k in out:
            same(out[k], ref[k], rtol, atol, allow_inf=allow_inf)
    elif isinstance(out, float):
        assert math.isclose(out, ref, rel_tol=rtol, abs_tol=atol), (out, ref)
    else:
        assert out == ref, (out, ref)


def agree(fn, *args, rtol: float = R64, atol: float = A64, allow_inf: bool = False, **kwargs):
    """Call ``fn`` with its tensor arguments on the target and on the CPU; compare; return the
    target's result."""
    out = fn(*move(args, DEV), **move(kwargs, DEV))
    ref = fn(*move(args, CPU), **move(kwargs, CPU))
    same(out, ref, rtol, atol, allow_inf=allow_inf)
    return out


@contextlib.contextmanager
def known_device_bug(where: str):
    """Turn a device-mismatch error into a failure that says which code is at fault."""
    try:
        yield
    except (RuntimeError, TypeError) as exc:
        text = str(exc).lower()
        if "device" in text or "cuda" in text or "numpy" in text:
            pytest.fail(f"device bug in {where}: {exc}")
        raise


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0, dtype=F64) -> Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def spd(d: int, seed: int = 0) -> Tensor:
    b = randn(d, d, seed=seed)
    return b @ b.T + d * torch.eye(d, dtype=F64)


def simplex(*shape: int, seed: int = 0) -> Tensor:
    w = np.random.default_rng(seed).gamma(0.7, size=shape)
    return torch.as_tensor(w / w.sum(-1, keepdims=True), dtype=F64)


def params_on_target(model: nn.Module) -> None:
    on_target(*model.parameters(), *model.buffers())


# -- device ----------------------------------------------------------------------------------------
def test_resolve_device_and_seeding(monkeypatch):
    dev = device.resolve_device(TARGET)
    assert dev.type == DEV.type
    on_target(torch.zeros(1, device=dev))
    monkeypatch.setenv(device.ENV_DEVICE, TARGET)
    assert device.default_device().type == DEV.type
    assert device.resolve_device(None).type == DEV.type
    device.seed_everything(7)
    first = torch.randn(5, device=dev)
    device.seed_everything(7)
    torch.testing.assert_close(torch.randn(5, device=dev), first, rtol=0, atol=0)


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
def test_data_sets_on_target_match_cpu(make, args):
    out = make(*args, **({"seed": 3} if args else {}), dtype=F64, device=TARGET)
    ref = make(*args, **({"seed": 3} if args else {}), dtype=F64, device="cpu")
    same(out, ref, rtol=0, atol=0)


def test_digits_and_mode_coverage_on_target():
    images, labels = data.digits(device=TARGET)
    on_target(images, labels)
    assert images.shape == (1797, 64) and labels.dtype == torch.int64
    ref_images, ref_labels = data.digits(device="cpu")
    same((images, labels), (ref_images, ref_labels), rtol=0, atol=0)
    samples = data.ring(500, std=0.02, seed=0, device=TARGET)
    centers = data.ring_centers()  # CPU: mode_coverage moves it
    assert data.mode_coverage(samples, centers, 0.02) == data.mode_coverage(
        samples.cpu(), centers, 0.02
    )
    assert data.mode_coverage(samples, centers.to(DEV), 0.02)[0] == 8


def test_prepare_data_and_batches_on_target():
    x = models.prepare_data(randn(50, 3), device=TARGET)
    on_target(x)
    assert x.dtype == F32
    stream = models.batches(x, 16, gen(0))
    ref = models.batches(x.cpu(), 16, gen(0))
    for _ in range(5):  # more than one pass: new permutations
        same(next(stream), next(ref), rtol=0, atol=0)


def test_save_and_load_onto_target(tmp_path):
    model = flows.fit(flows.training_data("moons", 300), steps=3, progress=False, device=TARGET)
    path = model.save(tmp_path / "flow.pt")
    back = flows.Flow.load(path, device=TARGET)
    params_on_target(back)
    assert back.device.type == DEV.type
    for (k, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    assert back.history == model.history


# -- shipped checkpoints ---------------------------------------------------------------------------
def test_pretrained_vae_on_target():
    model = models.load_pretrained("vae_digits", vae.VAE, device=TARGET)
    ref = models.load_pretrained("vae_digits", vae.VAE, device="cpu")
    params_on_target(model)
    x = model.sample(16, generator=gen(1))
    on_target(x)
    assert set(x.unique().tolist()) <= {0.0, 1.0}  # Bernoulli draws
    means = model.sample(16, mean=True, generator=gen(1))
    same(means, ref.sample(16, mean=True, generator=gen(1)), R32, A32)
    images, _ = vae.binarized_digits()
    same(model.encode(images[:64].to(DEV)), ref.encode(images[:64]), R32, A32)
    elbo = model.elbo(images[:64].to(DEV), samples=4)
    on_target(elbo)
    finite(elbo)


def test_pretrained_cvae_on_target():
    model = models.load_pretrained("vae_digits_cvae", vae.VAE, device=TARGET)
    ref = models.load_pretrained("vae_digits_cvae", vae.VAE, device="cpu")
    labels = torch.arange(10, device=DEV)
    x = model.sample(10, labels, mean=True, generator=gen(2))
    same(x, ref.sample(10, labels.cpu(), mean=True, generator=gen(2)), R32, A32)
    same(
        model.sample(4, 3, mean=True, generator=gen(3)),
        ref.sample(4, 3, mean=True, generator=gen(3)),
        R32,
        A32,
    )


@pytest.mark.parametrize("name", ["vae_beta_4"])
def test_pretrained_beta_vae_on_target(name):
    model = models.load_pretrained(name, vae.VAE, device=TARGET)
    params_on_target(model)
    images, _ = vae.binarized_digits()
    kl, distortion = model.rate_distortion(images[:128].to(DEV), samples=2)
    on_target(kl, distortion)
    finite(kl, distortion)
    bound = model.iwae(images[:32].to(DEV), k=8)
    on_target(bound)
    finite(bound)


def test_pretrained_gan_on_target():
    model = models.load_pretrained("gan_ring", gan.GAN, device=TARGET)
    ref = models.load_pretrained("gan_ring", gan.GAN, device="cpu")
    params_on_target(model)
    x = model.sample(256, generator=gen(4))
    same(x, ref.sample(256, generator=gen(4)), R32, A32)
    same(model.discriminate(x), ref.discriminate(x.cpu()), R32, A32)
    modes, _ = data.mode_coverage(x, data.ring_centers(device=TARGET), 0.02, threshold=5)
    assert modes >= 1
    on_target(model.snapshots)


def test_pretrained_conditional_gan_on_target():
    model = models.load_pretrained("gan_digits", gan.GAN, device=TARGET)
    ref = models.load_pretrained("gan_digits", gan.GAN, device="cpu")
    labels = torch.arange(10).repeat(3)
    x = model.sample(30, labels.to(DEV), generator=gen(5))
    same(x, ref.sample(30, labels, generator=gen(5)), R32, A32)
    assert float(x.min()) >= 0 and float(x.max()) <= 1


@pytest.mark.parametrize("name", ["moons", "swissroll"])
def test_pretrained_flow_on_target(name):
    model = flows.pretrained(name, device=TARGET)
    ref = flows.pretrained(name, device="cpu")
    params_on_target(model)
    x = model.sample(128)
    on_target(x)
    finite(x)
    pts = flows.training_data(name, 256, seed=5)
    same(model.log_prob(pts.to(DEV)), ref.log_prob(pts), R32, 1e-4)


def test_pretrained_diffusion_on_target():
    model = models.load_pretrained("diffusion_ring", diffusion.DiffusionModel, device=TARGET)
    ref = models.load_pretrained("diffusion_ring", diffusion.DiffusionModel, device="cpu")
    params_on_target(model)
    x = model.sample(64, method="ddim", steps=20, seed=0)
    same(x, ref.sample(64, method="ddim", steps=20, seed=0), 1e-4, 1e-4)
    # ancestral sampling through all T = 1000 float32 steps: rounding differences may grow
    full = model.sample(32, seed=1)
    same(full, ref.sample(32, seed=1), 1e-2, 1e-2)
    bound = model.nll_bound(data.ring(8, seed=2, device=TARGET), generator=gen(0))
    same(bound, ref.nll_bound(data.ring(8, seed=2), generator=gen(0)), 1e-3, 1e-3)


# -- sampling --------------------------------------------------------------------------------------
def test_monte_carlo_and_importance_sampling_on_target():
    loc = torch.tensor(1.0, dtype=F64, device=DEV)
    scale = torch.tensor(2.0, dtype=F64, device=DEV)
    target = Normal(loc, scale)
    truth = 5.0  # E[X^2] = mu^2 + sigma^2
    mc = sampling.monte_carlo(lambda x: x**2, target, 40_000)
    on_target(mc.estimate, mc.std_error)
    assert abs(float(mc.estimate) - truth) < 6 * float(mc.std_error)
    proposal = Normal(
        torch.zeros((), dtype=F64, device=DEV), 3.0 * torch.ones((), dtype=F64, device=DEV)
    )
    for normalised in (False, True):
        est = sampling.importance_sampling(
            lambda x: x**2, target, proposal, 40_000, self_normalized=normalised
        )
        on_target(est.estimate, est.std_error)
        assert abs(float(est.estimate) - truth) < 6 * float(est.std_error)
        assert 1 <= est.ess <= 40_000
    lw = randn(100)
    same(sampling.effective_sample_size(lw.to(DEV)), sampling.effective_sample_size(lw))


def test_gradient_estimators_on_target():
    mu = torch.tensor(0.5, dtype=F64, device=DEV)
    sigma = torch.tensor(1.5, dtype=F64, device=DEV)
    truth = (2 * 0.5, 2 * 1.5)  # d/dmu, d/dsigma of E[Z^2] = mu^2 + sigma^2
    for estimator in (sampling.score_function_gradient, sampling.reparameterization_gradient):
        est = estimator(lambda z: z**2, Normal, (mu, sigma), 40_000)
        on_target(*est.gradient, *est.std_error, *est.per_sample)
        for g, se, t in zip(est.gradient, est.std_error, truth, strict=True):
            assert abs(float(g) - t) < 6 * float(se) + 1e-12


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("normal", {"loc": 0.5, "scale": 1.5}),
        ("bernoulli", {"probs": 0.3}),
        ("binomial", {"total_count": 5, "probs": 0.3}),
        ("poisson", {"rate": 2.0}),
        ("uniform", {"low": -1.0, "high": 2.0}),
        ("gamma", {"concentration": 2.0, "rate": 3.0}),
        ("beta", {"concentration1": 2.0, "concentration0": 3.0}),
    ],
)
def test_mgf_on_target(family, params):
    t = torch.linspace(-1.0, 1.0, 41, dtype=F64)
    agree(sampling.mgf, family, t, **params)


def test_pushforward_density_on_target():
    y = torch.linspace(0.05, 3.9, 60, dtype=F64)  # (4 = 2², with 2 a grid point, is avoided)

    def log_prob(x):
        return -0.5 * x**2 - 0.5 * math.log(2 * math.pi)

    out = agree(sampling.pushforward_density, lambda x: x**2, log_prob, y, rtol=1e-8)
    chi2 = torch.exp(-y / 2) / torch.sqrt(2 * math.pi * y)  # density of X^2, X ~ N(0, 1)
    torch.testing.assert_close(out.cpu(), chi2, rtol=1e-6, atol=1e-9)
    # a non-monotone map, so that the turning-point refinement runs too
    agree(
        sampling.pushforward_density,
        torch.sin,
        log_prob,
        torch.linspace(-0.9, 0.9, 30, dtype=F64),
        rtol=1e-8,
    )


def test_condition_gaussian_on_target():
    agree(sampling.condition_gaussian, randn(4), spd(4), randn(2, seed=1), 2)


# -- information -----------------------------------------------------------------------------------
def test_information_on_target():
    p, q = simplex(3, 6, seed=0), simplex(3, 6, seed=1)
    agree(information.entropy, p)
    agree(information.entropy, p, base=2)
    agree(information.cross_entropy, p, q)
    agree(information.mutual_information, simplex(2, 24, seed=2).reshape(2, 4, 6))  # a batch
    agree(information.gaussian_entropy, torch.tensor([0.1, 1.0, 3.0], dtype=F64))
    agree(information.binary_entropy, torch.tensor([0.0, 1e-9, 0.3, 0.5, 1.0], dtype=F64))
    agree(information.bsc_capacity, torch.tensor([0.0, 0.11, 0.5], dtype=F64))
    agree(information.gaussian_mutual_information, torch.tensor([-0.99, 0.0, 0.7], dtype=F64))


def test_mutual_information_joint_table_on_target():
    joint = simplex(24, seed=3).reshape(4, 6)
    agree(information.mutual_information, joint)
    indep = torch.outer(simplex(4, seed=4), simplex(6, seed=5))
    mi = information.mutual_information(indep.to(DEV))
    on_target(mi)
    assert abs(float(mi)) < 1e-13


# -- divergences -----------------------------------------------------------------------------------
def test_discrete_divergences_on_target():
    p, q = simplex(5, 7, seed=0), simplex(5, 7, seed=1)
    for fn in (
        divergences.kl_discrete,
        divergences.js_discrete,
        divergences.total_variation,
        divergences.hellinger,
    ):
        agree(fn, p, q)
    agree(divergences.kl_discrete, p, q, base=2)
    zero = torch.tensor([0.5, 0.5, 0.0], dtype=F64)
    agree(divergences.kl_discrete, zero, torch.tensor([0.0, 0.5, 0.5], dtype=F64), allow_inf=True)


def test_gaussian_divergences_on_target():
    mu1, mu2 = randn(4, seed=1), randn(4, seed=2)
    c1, c2 = spd(4, seed=3), spd(4, seed=4)
    agree(divergences.kl_mvn, mu1, c1, mu2, c2)
    agree(divergences.wasserstein_gaussian, mu1, c1, mu2, c2, rtol=1e-9)
    agree(divergences.mahalanobis, randn(6, 4, seed=5), mu2, c1)
    agree(
        divergences.kl_gaussian,
        randn(5, seed=6),
        torch.rand(5, generator=gen(7), dtype=F64) + 0.1,
        0.3,
        2.0,
    )
    # Python numbers take the device of the tensor arguments
    out = divergences.kl_gaussian(torch.zeros(3, dtype=F64, device=DEV), 1.0, 0.5, 2.0)
    on_target(out)


def test_wasserstein_1d_on_target():
    x, y = randn(3, 40, seed=1), randn(3, 40, seed=2) + 1
    agree(divergences.wasserstein_1d, x, y)
    agree(divergences.wasserstein_1d, x, y, p=2)
    agree(divergences.wasserstein_1d, x, randn(25, seed=3), p=1.5)  # n != m: the merged grid


def test_sinkhorn_on_target():
    x, y = randn(60, 2, seed=1), randn(45, 2, seed=2) + 0.5
    # the loop may stop one iteration apart on the two devices: compare to ~ the tolerance
    plan, cost = agree(
        divergences.sinkhorn_plan, x, y, 0.1, max_iter=5000, tol=1e-12, rtol=1e-7, atol=1e-12
    )
    torch.testing.assert_close(plan.sum(1).cpu(), torch.full((60,), 1 / 60, dtype=F64))
    agree(divergences.sinkhorn, x, y, 0.01, p=1, max_iter=20_000, tol=1e-10, rtol=1e-6)
    agree(divergences.sinkhorn, x, y, 0.5, p=3, rtol=1e-6)  # the cdist cost path


def test_mmd2_on_target():
    x, y = randn(300, 3, seed=1), randn(200, 3, seed=2) + 0.3
    agree(divergences.mmd2, x, y, 1.5)
    agree(divergences.mmd2, x, y, unbiased=False)
    h = torch.tensor(1.2, dtype=F64, device=DEV, requires_grad=True)
    value = divergences.mmd2(x.to(DEV), y.to(DEV), h)  # the differentiable (dense) path
    (grad,) = torch.autograd.grad(value, h)
    on_target(value, grad)
    same(value.detach(), divergences.mmd2(x, y, 1.2))


# -- functional ------------------------------------------------------------------------------------
def test_kernels_and_kernel_ridge_on_target():
    x, y = randn(40, 2, seed=3), randn(30, 2, seed=4)
    agree(functional.rbf_kernel, x, y, bandwidth=0.7)
    agree(functional.laplace_kernel, x, y, bandwidth=0.7)
    agree(functional.polynomial_kernel, x, y, degree=3, coef0=0.5)
    agree(functional.linear_kernel, x, y)
    targets = randn(40, seed=5)
    model = functional.KernelRidge("rbf", lam=0.1, bandwidth=0.8)
    out = model.fit(x.to(DEV), targets.to(DEV)).predict(y.to(DEV))
    ref = functional.KernelRidge("rbf", lam=0.1, bandwidth=0.8).fit(x, targets).predict(y)
    same(out, ref, rtol=1e-9, atol=1e-10)
    on_target(model.rkhs_norm())
    for kernel, params in (("rbf", dict(bandwidth=0.6)), ("polynomial", dict(degree=2))):
        agree(functional.mmd2, x, y, kernel, **params)
        agree(functional.mmd_witness, x, y, x[:7], kernel, **params)
    z, vals = randn(12, 2, seed=6), randn(12, seed=7)
    agree(functional.lipschitz_extension, z, vals, y)


def test_gp_samples_and_kr_dual_on_target():
    grid = torch.linspace(-1, 1, 5, dtype=F64)
    draws = functional.gp_prior_samples(grid.to(DEV), "rbf", n_samples=20_000, seed=1)
    on_target(draws)
    finite(draws)
    # drawn with a generator on the device: same seed, same draws; covariance = the kernel
    again = functional.gp_prior_samples(grid.to(DEV), "rbf", n_samples=20_000, seed=1)
    assert torch.equal(draws, again)
    emp = torch.cov(draws.T).cpu()
    torch.testing.assert_close(emp, functional.rbf_kernel(grid), rtol=0, atol=0.05)
    pytest.importorskip("scipy")
    x, y = randn(9, 2, seed=8), randn(7, 2, seed=9)
    dual = functional.kantorovich_dual(x.to(DEV), y.to(DEV))
    on_target(dual.potential_x, dual.potential_y)
    assert math.isclose(dual.value, functional.kantorovich_dual(x, y).value, abs_tol=1e-12)


# -- linalg ----------------------------------------------------------------------------------------
def test_linalg_on_target():
    a2 = torch.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=F64)
    agree(linalg.circle_image, a2)
    vals, vecs = linalg.eigen_2x2(a2.to(DEV))
    ref_vals, _ = linalg.eigen_2x2(a2)
    on_target(vals, vecs)
    torch.testing.assert_close(vals.cpu().real.sort().values, ref_vals.real.sort().values)
    torch.testing.assert_close((a2.to(DEV) @ vecs).cpu(), (vecs * vals.real).cpu())
    a = spd(5)
    agree(linalg.leading_minors, a, rtol=1e-9)
    agree(linalg.principal_minors, a, rtol=1e-9)
    agree(linalg.condition_number, a, rtol=1e-9)
    agree(linalg.logdet_spd, a)
    assert linalg.is_positive_definite(a.to(DEV))
    assert linalg.is_positive_semidefinite(a.to(DEV))
    assert not linalg.is_positive_definite((-a).to(DEV))
    x, mu = randn(20, 5, seed=1), randn(5, seed=2)
    agree(linalg.gaussian_log_likelihood, x, mu, a)
    agree(linalg.gaussian_log_likelihood_grad, x, mu, a, rtol=1e-9)
    w = randn(3, 5, seed=3)
    agree(linalg.jacobian, lambda v, w=w: torch.tanh(w.to(v.device) @ v), mu)


def test_pca_on_target():
    x = randn(100, 6) @ randn(6, 6, seed=1)
    agree(linalg.pca, x, 3, rtol=1e-8, atol=1e-10)


def test_hutchinson_trace_on_target():
    """``device=`` hands ``matvec`` its probe vectors on the target; the seeded estimate is the
    CPU's (the vectors are drawn on the CPU and moved)."""
    a = spd(6).to(DEV)
    with known_device_bug("companion/linalg.py hutchinson_trace (probes not on the device)"):
        est, se = linalg.hutchinson_trace(lambda v: v @ a.T, 6, 4000, generator=gen(0), device=DEV)
    on_target(est, se)
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
)
@pytest.mark.parametrize("objective", ["rosenbrock", "beale", "quadratic"])
def test_optimize_on_target(rule, objective):
    obj = optimization.OBJECTIVES[objective]()
    x0 = torch.tensor(obj.start, dtype=F64)
    # loose: RMSprop in Rosenbrock's valley turns a 1e-15 change of x0 into 3e-8 after 200 steps,
    # and the GPU may fuse multiply-adds that the CPU rounds twice
    traj = agree(lambda x: optimization.optimize(rule(), obj, x, 200), x0, rtol=1e-6, atol=1e-9)
    same(obj.value(traj), obj.value(traj.cpu()), rtol=1e-9, atol=1e-11)


def test_batched_hyperparameters_on_target():
    lrs = torch.tensor([[1e-3], [1e-2], [3e-2]], dtype=F64)
    x0 = torch.tensor([[-1.0, 1.5]], dtype=F64).expand(3, 2)
    obj = optimization.quadratic(10.0)
    agree(lambda lr, x: optimization.optimize(optimization.RMSprop(lr), obj, x, 50), lrs, x0)
    agree(lambda lr, x: optimization.optimize(optimization.Momentum(lr), obj, x, 50), lrs, x0)


def test_stochastic_least_squares_on_target():
    X, y, w_star = optimization.least_squares_problem(256)
    agree(optimization.minibatch_gradient_variance, X, y, w_star, 16)
    lr = optimization.step_sizes("1/t", 100, 0.2)
    w0 = torch.zeros(2, dtype=F64)
    traj = agree(lambda *a: optimization.sgd_least_squares(*a, generator=gen(0)), X, y, 8, lr, w0)
    agree(optimization.polyak_average, traj)


def test_gradient_penalty_and_backprop_on_target():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    real, fake = randn(32, 2, seed=1), randn(32, 2, seed=2)
    agree(
        lambda c, r, f: optimization.gradient_penalty(c, r, f, generator=gen(3)), critic, real, fake
    )
    x, y = randn(10, 3, seed=4), randn(10, 2, seed=5)
    w1, b1, w2, b2 = randn(4, 3, seed=6), randn(4, seed=7), randn(2, 4, seed=8), randn(2, seed=9)
    loss, grads = agree(optimization.mlp_forward_backward, x, y, w1, b1, w2, b2)
    leaves = [t.to(DEV).requires_grad_(True) for t in (w1, b1, w2, b2)]
    h = torch.tanh(x.to(DEV) @ leaves[0].T + leaves[1])
    auto = torch.autograd.grad(((h @ leaves[2].T + leaves[3] - y.to(DEV)) ** 2).sum() / 20, leaves)
    for key, g in zip(("W1", "b1", "W2", "b2"), auto, strict=True):
        same(grads[key], g.cpu())


# -- manifolds -------------------------------------------------------------------------------------
def test_manifolds_on_target():
    pts, t = data.swiss_roll(300, seed=0, dtype=F64, device=TARGET)
    spec = manifolds.pca_spectrum(pts)
    torch.testing.assert_close(spec, manifolds.pca_spectrum(pts.cpu()))
    assert 1.5 < manifolds.mle_intrinsic_dimension(pts, k=10) < 2.5
    emb = manifolds.embed(pts, "pca")
    assert manifolds.unrolling_score(emb, t) == manifolds.unrolling_score(emb, t.cpu())
    z0, z1 = randn(4, 8, seed=1), randn(4, 8, seed=2)
    for t_ in (0.0, 0.3, 1.0):
        agree(manifolds.lerp, z0, z1, t_)
        agree(manifolds.slerp, z0, z1, t_)
    agree(manifolds.slerp, z0, z0 * 2.0, 0.5)  # parallel: the straight-path fallback


def test_gaussian_norm_quantiles_with_probs_on_target():
    """``manifolds.gaussian_norm_quantiles`` accepts a tensor of probabilities but calls
    ``.numpy()`` on it, which fails for a GPU tensor."""
    probs = torch.tensor([0.1, 0.5, 0.9], dtype=F64)
    with known_device_bug(
        "companion/manifolds.py gaussian_norm_quantiles (p.numpy() on a GPU tensor)"
    ):
        out = manifolds.gaussian_norm_quantiles(3, probs.to(DEV))
    torch.testing.assert_close(out.cpu(), manifolds.gaussian_norm_quantiles(3, probs))


# -- VAE -------------------------------------------------------------------------------------------
def _vae64(**kw) -> vae.VAE:
    torch.manual_seed(0)
    return vae.VAE(5, latent_dim=2, hidden=[16, 16], **kw).double()


def test_vae_closed_forms_on_target():
    mu, sigma = randn(6, 3, seed=1), torch.rand(6, 3, generator=gen(2), dtype=F64) + 0.1
    agree(vae.kl_to_standard_normal, mu, sigma)
    x, m = randn(6, 3, seed=3), randn(6, 3, seed=4)
    agree(vae.gaussian_log_likelihood, x, m, randn(3, seed=5) * 0.1)
    xb = (torch.rand(6, 3, generator=gen(6)) > 0.5).double()
    agree(vae.bernoulli_log_likelihood, xb, m)


def test_vae_elbo_for_given_eps_on_target():
    model = _vae64()
    x, eps = randn(32, 5, seed=1), randn(32, 2, seed=2)

    def elbo(m, x, eps):
        mu, sigma = m.encode(x)
        recon = vae.gaussian_log_likelihood(x, m.decode(mu + sigma * eps), m.log_obs_std)
        return recon - vae.kl_to_standard_normal(mu, sigma)

    agree(elbo, model, x, eps)
    agree(lambda m, z: m.decode(z), model, eps)
    m = move(model, DEV)
    params_on_target(m)
    for out in (m.elbo(x.to(DEV), samples=3), m.iwae(x.to(DEV), 5), *m.rate_distortion(x.to(DEV))):
        on_target(out)
        finite(out)
    losses = m.loss(x.to(DEV))
    losses["loss"].backward()
    on_target(*losses.values(), *(p.grad for p in m.parameters()))
    # z and the observation noise come from a CPU generator: sampling is deterministic
    agree(lambda m: m.sample(20, generator=gen(7)), model)


def test_conditional_vae_on_target():
    torch.manual_seed(0)
    model = vae.VAE(5, latent_dim=2, hidden=[8], n_classes=3).double()
    x, labels = randn(12, 5, seed=1), torch.arange(12) % 3
    agree(lambda m, x, y: m.encode(x, y), model, x, labels)
    agree(lambda m: m.sample(6, 2, mean=True, generator=gen(3)), model)  # an int label


@pytest.mark.parametrize("method", ["log_marginal", "posterior", "elbo", "sample"])
def test_linear_gaussian_on_target(method):
    """Probabilistic PCA with W on the device: ``marginal_cov`` and ``posterior`` add a
    ``torch.eye`` made on the CPU, ``sample`` draws on the CPU and multiplies by W."""
    W, b, x = randn(5, 2, seed=1), randn(5, seed=2), randn(7, 5, seed=3)
    cpu = vae.LinearGaussian(W, b, 0.5)
    lg = vae.LinearGaussian(W.to(DEV), b.to(DEV), 0.5)
    where = "companion/vae.py LinearGaussian (torch.eye / torch.randn without device=)"
    with known_device_bug(where):
        if method == "log_marginal":
            same(lg.log_marginal(x.to(DEV)), cpu.log_marginal(x))
        elif method == "posterior":
            same(lg.posterior(x.to(DEV)), cpu.posterior(x))
        elif method == "sample":
            same(lg.sample(9, generator=gen(4)), cpu.sample(9, generator=gen(4)))
        else:  # at the exact posterior the ELBO is log p(x)
            mean, cov = cpu.posterior(x)
            value = lg.elbo(x[0].to(DEV), mean[0].to(DEV), cov.to(DEV))
            same(value, cpu.log_marginal(x[:1])[0], rtol=1e-9)


def test_vae_fit_on_target():
    model = vae.fit(data.moons(300, seed=0), steps=20, progress=False, device=TARGET, hidden=(16,))
    params_on_target(model)
    assert len(model.history) >= 2
    x = model.sample(64)
    on_target(x)
    finite(x)
    images, labels = vae.binarized_digits()
    cvae = vae.fit(
        images[:200].to(DEV),
        labels=labels[:200].to(DEV),
        steps=20,
        progress=False,
        device=TARGET,
        likelihood="bernoulli",
        hidden=(32,),
        batch_size=64,
    )
    params_on_target(cvae)
    x = cvae.sample(10, torch.arange(10, device=DEV))
    on_target(x)
    finite(x)


# -- GAN -------------------------------------------------------------------------------------------
def test_gan_losses_on_target():
    real, fake = randn(64, seed=1), randn(64, seed=2) - 1
    for loss in gan.LOSSES:
        agree(gan.discriminator_loss, real, fake, loss)
        agree(gan.generator_loss, fake, loss)
    d = torch.rand(50, generator=gen(3), dtype=F64)
    for loss in ("minimax", "nonsaturating"):
        agree(gan.generator_logit_gradient, d, loss)
    xs = torch.linspace(-4, 4, 401, dtype=F64)
    lp_data, lp_g = -0.5 * xs**2, -0.5 * (xs - 1) ** 2 / 0.25
    agree(gan.optimal_discriminator_logit, lp_data, lp_g)
    agree(gan.virtual_criterion, lp_data - 0.5 * math.log(2 * math.pi), lp_g, 0.02)


def test_gan_networks_and_penalties_on_target():
    torch.manual_seed(0)
    model = gan.GAN(2, latent_dim=4, hidden=[16, 16]).double()
    z, real = randn(32, 4, seed=1), randn(32, 2, seed=2)
    fake = agree(lambda m, z: m.generate(z), model, z)
    agree(lambda m, z: m.generate(z, averaged=False), model, z)
    agree(lambda m, x: m.discriminate(x), model, real)
    agree(
        lambda m, r, f: gan.gradient_penalty(m.discriminator, r, f, generator=gen(3)),
        model,
        real,
        fake.cpu(),
    )
    agree(lambda m, r: gan.r1_penalty(m.discriminator, r), model, real)
    m = move(model, DEV)
    penalty = gan.gradient_penalty(m.discriminator, real.to(DEV), fake, generator=gen(3))
    penalty.backward()  # differentiable in the critic's parameters
    grads = [p.grad for p in m.discriminator.parameters() if p.grad is not None]
    assert grads
    on_target(*grads)
    # z is drawn on the CPU with the generator: sampling is deterministic
    torch.manual_seed(0)
    model32 = gan.GAN(2, latent_dim=4, hidden=[16, 16])
    agree(lambda m: m.sample(50, generator=gen(4)), model32, rtol=R32, atol=A32)


@pytest.mark.parametrize(
    ("loss", "extra"),
    [("nonsaturating", {"n_snapshots": 3, "snapshot_size": 20}), ("wgan-gp", {}), ("wgan", {})],
)
def test_gan_fit_on_target(loss, extra):
    model = gan.fit(
        data.ring(400, seed=0),
        steps=20,
        progress=False,
        device=TARGET,
        loss=loss,
        hidden=(32, 32),
        batch_size=64,
        n_critic=2,
        **extra,
    )
    params_on_target(model)
    x = model.sample(64)
    on_target(x)
    finite(x)
    if extra:
        assert model.snapshot_steps.tolist() == [0, 10, 20]
        finite(model.snapshots)


def test_conditional_gan_fit_and_train_discriminator_on_target():
    images, labels = data.digits()
    model = gan.fit(
        images[:300],
        labels=labels[:300],
        steps=20,
        progress=False,
        device=TARGET,
        output="sigmoid",
        hidden=(32,),
        batch_size=64,
        spectral_norm=True,
    )
    params_on_target(model)
    x = model.sample(10, torch.arange(10, device=DEV))
    on_target(x)
    finite(x)
    net = gan.train_discriminator(
        lambda n: torch.randn(n, 1) + 1,  # CPU samplers: train_discriminator moves the batches
        lambda n: torch.randn(n, 1, device=DEV),
        steps=20,
        batch_size=64,
        loss="wgan-gp",
        device=TARGET,
    )
    params_on_target(net)
    out = net(torch.zeros(5, 1, device=DEV))
    on_target(out)
    finite(out)


# -- flows -----------------------------------------------------------------------------------------
def _flow64(kind: str) -> flows.Flow:
    torch.manual_seed(0)
    model = flows.Flow(dim=4, layers=3, hidden=16, kind=kind, seed=1).double()
    with torch.no_grad():  # start away from the identity, so the comparison sees every layer
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model.train()
    model(randn(64, 4, seed=9))  # ActNorm initialises from this batch
    return model.eval()


@pytest.mark.parametrize("kind", flows.KINDS)
def test_flow_log_prob_and_inverse_on_target(kind):
    model = _flow64(kind)
    x = randn(50, 4, seed=1)
    agree(lambda m, x: m.log_prob(x), model, x)
    z, ldj = agree(lambda m, x: m(x), model, x)
    back, ldj_inv = agree(lambda m, z: m(z, reverse=True), model, z.cpu())
    torch.testing.assert_close(back.cpu(), x, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ldj_inv.cpu(), -ldj.cpu())
    agree(lambda m, x: m.stages(x), model, x)
    agree(lambda m, z: m.inverse_stages(z), model, z.cpu())
    agree(flows.nll, model, x)
    m = move(model, DEV)
    sample = m.sample(30)
    on_target(sample)
    finite(sample)
    assert sample.dtype == F64


def test_flow_layers_on_target():
    torch.manual_seed(0)
    layers = [
        flows.AffineCoupling([1, 0, 1, 0], hidden=8),
        flows.ActNorm(4),
        flows.LULinear(4, seed=3),
        flows.Permutation([2, 0, 3, 1]),
    ]
    x = randn(20, 4, seed=1)
    for layer in layers:
        layer = layer.double()
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.2 * torch.randn_like(p))
        layer.eval()
        y, ldj = agree(lambda m, x: m(x), layer, x)
        back, _ = agree(lambda m, y: m(y, reverse=True), layer, y.cpu())
        torch.testing.assert_close(back.cpu(), x, rtol=1e-10, atol=1e-10)
    lu = move(layers[2].double(), DEV)
    weight = lu.weight()
    on_target(weight)
    same(torch.linalg.slogdet(weight).logabsdet, lu.log_diag.sum().detach().cpu())


def test_flow_fit_and_density_grid_on_target():
    for kind in flows.KINDS:
        model = flows.fit(
            flows.training_data("ring", 400),
            steps=20,
            progress=False,
            device=TARGET,
            kind=kind,
            layers=2,
            hidden=16,
            batch_size=64,
        )
        params_on_target(model)
        x = model.sample(64)
        on_target(x)
        finite(x)
        loss = flows.nll(model, x)
        on_target(loss)
    xs, ys, dens, mass = flows.density_on_grid(model, (-4, -4), (4, 4), n=40)
    assert torch.isfinite(dens).all() and 0 < mass < 1.5
    params_on_target(model)  # density_on_grid works on a copy


# -- diffusion -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_noise_schedule_on_target(kind):
    sched = diffusion.NoiseSchedule(kind, 100)
    x0, noise = randn(16, 3, seed=1), randn(16, 3, seed=2)
    t = torch.randint(1, 101, (16,), generator=gen(3))
    xt = agree(sched.q_sample, x0, t, noise)
    agree(sched.q_sample, x0, 37, noise)
    agree(sched.q_posterior, x0, xt.cpu(), t)
    agree(sched.predict_x0, xt.cpu(), t, noise)
    agree(sched.p_mean, xt.cpu(), t, noise)
    score = agree(sched.eps_to_score, noise, t)
    agree(sched.score_to_eps, score.cpu(), t)
    agree(lambda x, e, z: sched.ddpm_step(x, 50, e, noise=z), xt.cpu(), noise, x0)
    agree(lambda x, e: sched.ddim_step(x, 50, 20, e), xt.cpu(), noise)
    agree(lambda x, e, z: sched.ddim_step(x, 50, 0, e, eta=0.5, noise=z), xt.cpu(), noise, x0)


def test_ddpm_step_with_tensor_t_on_target():
    """``NoiseSchedule.ddpm_step`` with one t per row (a tensor on the data's device):
    ``sampling_variance`` looks the variances up in the CPU table and then calls
    ``torch.where`` with a condition on the device."""
    sched = diffusion.NoiseSchedule("linear", 100)
    xt, eps, z = randn(16, 3, seed=1), randn(16, 3, seed=2), randn(16, 3, seed=3)
    t = torch.randint(1, 101, (16,), generator=gen(4))
    t[0] = 1  # no noise at t = 1
    with known_device_bug("companion/diffusion.py NoiseSchedule.sampling_variance"):
        agree(lambda x, t, e, z: sched.ddpm_step(x, t, e, noise=z), xt, t, eps, z)


def test_exact_gaussian_samplers_on_target():
    """Every sampler with the exact ε of Gaussian data: noise comes from a CPU generator, so
    each run is deterministic and the two devices agree."""
    sched = diffusion.NoiseSchedule("cosine", 60)  # alpha_bar_T ~ 0: the samplers are exact
    mean = torch.tensor([1.0, -2.0], dtype=F64)
    eps = diffusion.gaussian_eps(mean, 0.5, sched)  # moves mean to x's device itself
    x_t = randn(200, 2, seed=1)
    agree(lambda x: diffusion.ddim_sample(eps, sched, x, 10), x_t, rtol=1e-9, atol=1e-11)
    agree(
        lambda x: diffusion.ddim_sample(eps, sched, x, 10, eta=1.0, generator=gen(2)),
        x_t,
        rtol=1e-9,
        atol=1e-11,
    )
    out, saved = agree(
        lambda x: diffusion.ddpm_sample(eps, sched, x, generator=gen(3), record=(60, 30, 0)),
        x_t,
        rtol=1e-9,
        atol=1e-11,
    )
    assert sorted(saved) == [0, 30, 60]
    assert (out.mean(0).cpu() - mean).abs().max() < 0.2
    agree(
        lambda x: diffusion.annealed_langevin(
            eps, sched, x, levels=5, steps_per_level=5, generator=gen(4)
        ),
        x_t,
        rtol=1e-9,
        atol=1e-11,
    )


def test_diffusion_pieces_on_target():
    t = torch.arange(1, 21)
    agree(diffusion.timestep_embedding, t, 16, rtol=R32, atol=A32)
    m1, m2 = randn(10, 3, seed=1), randn(10, 3, seed=2)
    v1, v2 = torch.full((10, 1), 0.3, dtype=F64), torch.full((1,), 2.0, dtype=F64)
    agree(diffusion.gaussian_kl, m1, v1, m2, v2)
    assert diffusion.sliced_wasserstein(m1.to(DEV), m2.to(DEV)) == pytest.approx(
        diffusion.sliced_wasserstein(m1, m2), rel=1e-12
    )


def test_diffusion_model_on_target():
    torch.manual_seed(0)
    model = diffusion.DiffusionModel(dim=2, T=30, hidden=32, layers=2, emb_dim=8)
    x = data.ring(64, seed=1)
    agree(lambda m, x: m.loss_simple(x, generator=gen(2)), model, x, rtol=R32, atol=A32)
    agree(lambda m, x: m.nll_bound(x, generator=gen(3)), model, x, rtol=1e-3, atol=1e-3)
    agree(lambda m: m.sample(40, method="ddim", steps=10, seed=4), model, rtol=1e-4, atol=1e-4)
    agree(lambda m: m.sample(40, seed=5), model, rtol=1e-4, atol=1e-4)
    m = move(model, DEV)
    out, saved = m.sample(20, seed=6, record=(30, 0))
    on_target(out, *saved.values())
    lang = m.sample(20, method="langevin", steps=3, seed=7)
    on_target(lang)
    finite(lang)
    tt = torch.full((20,), 5, device=DEV)
    on_target(m.score(m.standardize(out), tt))


def test_diffusion_fit_on_target():
    model = diffusion.fit(
        data.moons(400, seed=0),
        steps=20,
        progress=False,
        device=TARGET,
        T=50,
        hidden=32,
        batch_size=64,
    )
    params_on_target(model)
    x = model.sample(64, method="ddim", steps=10)
    on_target(x)
    finite(x)


# -- zoo -------------------------------------------------------------------------------------------
def test_zoo_energies_scores_and_ista_on_target():
    x = randn(40, 2, seed=1) * 2
    agree(zoo.ring_energy, x)
    score = agree(zoo.ring_score, x)
    xd = x.to(DEV).requires_grad_(True)
    (grad,) = torch.autograd.grad(zoo.ring_energy(xd).sum(), xd)
    same(-grad, score.cpu())
    centers = data.ring_centers(dtype=F64)
    agree(zoo.mixture_score, x, centers, 0.1, 0.5)
    agree(lambda x: zoo.langevin(zoo.ring_score, x, 0.01, 50, generator=gen(2)), x)
    dictionary = randn(8, 12, seed=3)
    agree(zoo.ista, dictionary, randn(5, 8, seed=4), 0.1, 200, rtol=1e-9, atol=1e-11)
    agree(zoo.soft_threshold, randn(30, seed=5), 0.3)


def test_zoo_ode_flow_on_target():
    torch.manual_seed(0)
    v = zoo.VelocityNet(dim=2, hidden=16).double()
    x = randn(30, 2, seed=1)
    agree(lambda m, x: zoo.rk4(m, x, 0.0, 1.0, 10), v, x)
    agree(lambda m, x: zoo.ode_log_prob(m, x, n_steps=10), v, x, rtol=1e-9, atol=1e-11)
    v32 = move(v.float(), DEV)
    sample = v32.sample(20, n_steps=5, generator=gen(2))
    on_target(sample)
    finite(sample)


def test_zoo_autoregressive_on_target():
    torch.manual_seed(0)
    model = zoo.DiscreteAutoregressive(dims=2, categories=6, hidden=32)
    grid = torch.cartesian_prod(torch.arange(6), torch.arange(6))
    lp = agree(lambda m, x: m.log_prob(x), model, grid, rtol=R32, atol=A32)
    total = float(lp.detach().exp().sum())
    assert total == pytest.approx(1.0, abs=1e-5)  # normalised over all 36 configurations
    agree(lambda m: m.sample(40, generator=gen(1)), model, rtol=0, atol=0)
    bins = zoo.discretize(data.ring(100, seed=0, device=TARGET), 6, -3.0, 3.0)
    on_target(bins)
    model = zoo.fit_autoregressive(bins, categories=6, steps=20, progress=False, device=TARGET)
    params_on_target(model)
    on_target(model.sample(10))


def test_zoo_score_model_on_target():
    torch.manual_seed(0)
    net = zoo.ScoreNet(hidden=16, levels=4)
    x, noise = data.ring(32, seed=1), torch.randn(32, 2, generator=gen(2))
    sigma = net.sigmas[torch.randint(4, (32,), generator=gen(3))][:, None]
    agree(zoo.dsm_loss, net, x, sigma, noise, rtol=R32, atol=A32)
    agree(lambda m: m.sample(16, steps_per_level=5, generator=gen(4)), net, rtol=1e-4, atol=1e-4)
    sigmas = torch.tensor([1.0, 0.5, 0.1])
    out = zoo.annealed_langevin(
        lambda y, s: zoo.mixture_score(y, data.ring_centers(), 0.05, s[0, 0].item()),
        16,
        sigmas=sigmas,
        steps_per_level=5,
        generator=gen(5),
        device=TARGET,
    )
    on_target(out)
    finite(out)
    model = zoo.fit_score(
        data.ring(300, seed=0), steps=20, progress=False, device=TARGET, hidden=16
    )
    params_on_target(model)
    sample = model.sample(16, steps_per_level=3)
    on_target(sample)
    finite(sample)


def test_zoo_ode_flow_fit_on_target():
    model = zoo.fit_ode_flow(
        data.moons(300, seed=0), steps=20, progress=False, device=TARGET, hidden=16
    )
    params_on_target(model)
    x = model.sample(16, n_steps=5)
    on_target(x)
    finite(x)
    lp, z = zoo.ode_log_prob(model, x, n_steps=5)
    on_target(lp, z)
    finite(lp, z)


def _transition(v: int = 3) -> Tensor:
    p = torch.rand(v, v, v, generator=gen(0), dtype=F64) + 0.1
    return p / p.sum(-1, keepdim=True)


def test_zoo_transformer_on_target():
    seqs = zoo.markov_sequences(_transition(), 64, 17, seed=0)
    torch.manual_seed(0)
    model = zoo.TinyTransformer(vocab=3, context=16, width=16)
    agree(lambda m, s: m(s[:, :-1]), model, seqs, rtol=R32, atol=A32)
    agree(lambda m, s: m.nll(s), model, seqs, rtol=R32, atol=A32)
    agree(lambda m: m.sample(8, length=12, generator=gen(1)), model, rtol=0, atol=0)
    fitted = zoo.fit_transformer(seqs.to(DEV), steps=20, progress=False, device=TARGET, width=16)
    params_on_target(fitted)
    out = fitted.sample(4, length=10)
    on_target(out)
    assert out.shape == (4, 10)


def test_zoo_transformer_sample_with_prompt_on_target():
    """``TinyTransformer.sample(prompt=...)`` with the prompt on the model's device: the new
    tokens are drawn on the CPU and concatenated to the device prompt."""
    torch.manual_seed(0)
    model = zoo.TinyTransformer(vocab=3, context=16, width=16).to(DEV)
    prompt = torch.tensor([[0, 1, 2]], device=DEV)
    with known_device_bug("companion/zoo.py TinyTransformer.sample (prompt kept on the device)"):
        out = model.sample(4, length=8, prompt=prompt, generator=gen(1))
    on_target(out)
    assert out.shape == (4, 8) and (out[:, :3].cpu() == prompt.cpu()).all()


def test_zoo_markov_helpers_with_transition_on_target():
    """``markov_sequences`` and ``markov_entropy_rate`` take a transition tensor; on the GPU the
    first samples with a CPU generator from GPU probabilities, the second multiplies the CPU
    stationary law by GPU entropies."""
    p = _transition()
    with known_device_bug("companion/zoo.py markov_entropy_rate (CPU pair matrix)"):
        assert zoo.markov_entropy_rate(p.to(DEV)) == pytest.approx(zoo.markov_entropy_rate(p))
    with known_device_bug("companion/zoo.py markov_sequences (CPU generator, device probs)"):
        seqs = zoo.markov_sequences(p.to(DEV), 8, 10, seed=0)
    assert (seqs.cpu() == zoo.markov_sequences(p, 8, 10, seed=0)).all()


# -- components ------------------------------------------------------------------------------------
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
def test_activations_match_torch_on_target(name):
    x = (torch.linspace(-30, 30, 601, dtype=F64) + 0.01).to(DEV).requires_grad_(True)
    reference = _REFERENCE_ACTIVATIONS[name](x)
    (grad,) = torch.autograd.grad(reference.sum(), x)
    same(components.activation(name, x.detach()), reference.detach().cpu(), rtol=1e-12, atol=1e-14)
    same(components.activation_derivative(name, x.detach()), grad.cpu(), rtol=1e-10, atol=1e-14)


def test_softmax_and_attention_match_torch_on_target():
    z = randn(4, 7, seed=1).to(DEV) * 5
    same(components.softmax(z, 2.0), torch.softmax(z / 2.0, -1).cpu(), rtol=1e-12, atol=1e-15)
    same(components.log_softmax(z, 0.5), torch.log_softmax(z / 0.5, -1).cpu())
    ent = components.softmax_entropy(z, 3.0)
    p = torch.softmax(z / 3.0, -1)
    same(ent, -(p * p.log()).sum(-1).cpu())
    q, k, v = (randn(2, 3, 6, 8, seed=s).to(DEV) for s in (2, 3, 4))
    out, weights = components.scaled_dot_product_attention(q, k, v)
    on_target(weights)
    same(out, F.scaled_dot_product_attention(q, k, v).cpu())
    out, _ = components.scaled_dot_product_attention(q, k, v, causal=True)
    same(out, F.scaled_dot_product_attention(q, k, v, is_causal=True).cpu())
    mask = torch.rand(6, 6, generator=gen(5)) > 0.5
    mask |= torch.eye(6, dtype=torch.bool)
    mask = mask.to(DEV)
    out, _ = components.scaled_dot_product_attention(q, k, v, mask, causal=True, scale=0.3)
    expected = F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask & components.causal_mask(6, device=DEV), scale=0.3
    )
    same(out, expected.cpu())
    on_target(components.causal_mask(4, 5, device=TARGET))


def test_layer_norm_and_convolutions_match_torch_on_target():
    x = randn(3, 4, 10, seed=1).to(DEV)
    w, b = randn(10, seed=2).to(DEV), randn(10, seed=3).to(DEV)
    same(components.layer_norm(x, 1, w, b), F.layer_norm(x, (10,), w, b).cpu())
    same(components.layer_norm(x, 2), F.layer_norm(x, (4, 10)).cpu())
    img, kern = randn(2, 3, 11, 9, seed=4).to(DEV), randn(5, 3, 3, 2, seed=5).to(DEV)
    bias = randn(5, seed=6).to(DEV)
    for kw in (
        {},
        {"stride": 2, "padding": 1},
        {"stride": (1, 2), "padding": (2, 0), "dilation": 2},
    ):
        same(components.conv2d(img, kern, bias, **kw), F.conv2d(img, kern, bias, **kw).cpu())
    sig, k1 = randn(2, 3, 20, seed=7).to(DEV), randn(4, 3, 5, seed=8).to(DEV)
    same(
        components.conv1d(sig, k1, None, stride=2, padding=2, dilation=2),
        F.conv1d(sig, k1, None, stride=2, padding=2, dilation=2).cpu(),
    )
    same(components.max_pool2d(img, 2), F.max_pool2d(img, 2).cpu())
    same(components.avg_pool2d(img, 3, 2), F.avg_pool2d(img, 3, 2).cpu())
    f, h = randn(16, seed=9), randn(5, seed=10)
    full = agree(components.convolve1d, f, h)
    expected = F.conv1d(f.to(DEV)[None, None], h.to(DEV).flip(0)[None, None], padding=4)[0, 0]
    same(full, expected.cpu())
    agree(components.cross_correlate1d, f, h)
    g = randn(16, seed=11)
    circ = agree(components.circular_convolve, f, g)
    same(components.fft_circular_convolve(f.to(DEV), g.to(DEV)), circ.cpu())


def test_recurrent_cells_match_torch_on_target():
    torch.manual_seed(0)
    x, h, c = randn(4, 3, seed=1).to(DEV), randn(4, 5, seed=2).to(DEV), randn(4, 5, seed=3).to(DEV)
    rnn = nn.RNNCell(3, 5).double().to(DEV)
    lstm = nn.LSTMCell(3, 5).double().to(DEV)
    gru = nn.GRUCell(3, 5).double().to(DEV)
    with torch.no_grad():
        same(
            components.rnn_cell(x, h, rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh),
            rnn(x, h).cpu(),
        )
        h_new, c_new = components.lstm_cell(
            x, h, c, lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh
        )
        ref_h, ref_c = lstm(x, (h, c))
        same((h_new, c_new), (ref_h.cpu(), ref_c.cpu()))
        same(
            components.gru_cell(x, h, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh),
            gru(x, h).cpu(),
        )
    w = randn(5, 5, seed=4) * 0.5
    for nonlin in ("tanh", "linear"):
        agree(
            components.recurrent_jacobian_norms,
            w,
            randn(5, seed=5),
            randn(8, 5, seed=6),
            nonlin,
            rtol=1e-9,
        )


def test_losses_match_torch_on_target():
    logits, target = randn(30, seed=1).to(DEV) * 3, torch.rand(30, generator=gen(2), dtype=F64)
    target = target.to(DEV)
    p = torch.sigmoid(logits)
    same(components.binary_cross_entropy(p, target), F.binary_cross_entropy(p, target).cpu())
    same(
        components.binary_cross_entropy_with_logits(logits, target, "sum"),
        F.binary_cross_entropy_with_logits(logits, target, reduction="sum").cpu(),
    )
    same(
        components.focal_loss(logits, target, gamma=0.0),
        F.binary_cross_entropy_with_logits(logits, target).cpu(),
    )
    agree(components.focal_loss, logits.cpu(), target.cpu(), 2.0, 0.25, "none")
    z, y = randn(12, 5, seed=3).to(DEV), torch.randint(5, (12,), generator=gen(4)).to(DEV)
    same(components.cross_entropy(z, y), F.cross_entropy(z, y).cpu())
    same(components.focal_loss_multiclass(z, y, gamma=0.0), F.cross_entropy(z, y).cpu())
    agree(components.focal_loss_multiclass, z.cpu(), y.cpu(), 1.5)
    same(components.mse_loss(z, z.flip(0)), F.mse_loss(z, z.flip(0)).cpu())


if __name__ == "__main__":  # python tests/test_cuda.py [pytest options]
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(
        pytest.main([__file__, "-q", "--noconftest", "-p", "no:cacheprovider", *sys.argv[1:]])
    )
