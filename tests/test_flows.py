"""companion.flows: invertibility, log-determinants against autograd, densities, fit and files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import FAST
from hypothesis import given
from hypothesis import strategies as st
from torch.autograd.functional import jacobian
from torch.distributions import MultivariateNormal, Normal

from companion import flows as fl
from companion.data import moons
from companion.device import single_thread

F64 = torch.float64


def _perturb(module: torch.nn.Module, seed: int, scale: float = 0.5) -> None:
    """Move every parameter away from its (identity-like) start, reproducibly."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def _layer(kind: str, dim: int, seed: int) -> fl.FlowLayer:
    rng = np.random.default_rng(seed)
    if kind == "coupling":
        mask = [0] * dim
        keep = rng.choice(dim, size=int(rng.integers(1, dim)), replace=False)
        for i in keep:
            mask[i] = 1
        layer = fl.AffineCoupling(mask, hidden=16, depth=2, bound=2.5)
    elif kind == "actnorm":
        layer = fl.ActNorm(dim)
    elif kind == "lu":
        layer = fl.LULinear(dim, seed=seed)
    else:
        layer = fl.Permutation(rng.permutation(dim).tolist())
    layer = layer.to(F64)
    _perturb(layer, seed)
    return layer


def _autograd_logdet(fn, x: torch.Tensor) -> torch.Tensor:
    """log|det| of the Jacobian of a row map, one row at a time, by brute-force autograd."""
    out = []
    for row in x:
        jac = jacobian(lambda v: fn(v[None])[0], row)
        out.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(out)


LAYER_KINDS = ["coupling", "actnorm", "lu", "permutation"]


@FAST
@given(
    kind=st.sampled_from(LAYER_KINDS),
    dim=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    scale=st.floats(0.1, 4.0),
)
def test_every_layer_inverts_and_logdet_matches_autograd(kind, dim, seed, scale):
    layer = _layer(kind, dim, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = scale * torch.randn(4, dim, generator=gen, dtype=F64)
    y, ldj = layer(x)
    back, ldj_inv = layer(y, reverse=True)
    assert torch.allclose(back, x, rtol=0, atol=1e-10)
    assert ldj.shape == (4,) and ldj_inv.shape == (4,)
    # Forward: log|det ∂y/∂x| by autograd; inverse: log|det ∂x/∂y| at y, the reciprocal.
    ref = _autograd_logdet(lambda v: layer(v)[0], x)
    ref_inv = _autograd_logdet(lambda v: layer(v, reverse=True)[0], y)
    assert torch.allclose(ldj, ref, rtol=0, atol=1e-8)
    assert torch.allclose(ldj_inv, ref_inv, rtol=0, atol=1e-8)
    assert torch.allclose(ldj_inv, -ldj, rtol=0, atol=1e-10)


@FAST
@given(kind=st.sampled_from(fl.KINDS), layers=st.integers(1, 3), seed=st.integers(0, 1000))
def test_whole_flow_inverts_and_log_prob_matches_autograd(kind, layers, seed):
    torch.manual_seed(seed)
    model = fl.Flow(dim=3, layers=layers, hidden=8, kind=kind, seed=seed).to(F64)
    _perturb(model, seed, scale=0.3)
    model.eval()
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(seed), dtype=F64)
    z, ldj = model(x)
    assert torch.allclose(model(z, reverse=True)[0], x, rtol=0, atol=1e-10)
    ref = Normal(torch.zeros((), dtype=F64), 1.0).log_prob(z).sum(1)
    ref = ref + _autograd_logdet(lambda v: model(v)[0], x)
    assert torch.allclose(model.log_prob(x), ref, rtol=0, atol=1e-8)


def test_coupling_jacobian_is_triangular_and_its_diagonal_is_exp_s():
    layer = fl.AffineCoupling([1, 1, 0, 0], hidden=8).to(F64)
    _perturb(layer, 3)
    x = torch.randn(4, dtype=F64)
    jac = jacobian(lambda v: layer(v[None])[0][0], x)
    assert torch.all(jac[:2, 2:] == 0) and torch.equal(jac[:2, :2], torch.eye(2, dtype=F64))
    s, _ = layer.scale_shift(x[None, :2])
    assert torch.allclose(torch.diagonal(jac)[2:], torch.exp(s[0]), atol=1e-12)
    # Bounded log-scale, whatever the network says.
    big = layer.scale_shift(1e3 * torch.randn(50, 2, dtype=F64))[0]
    assert big.abs().max() <= layer.bound


def test_fresh_coupling_is_the_identity():
    layer = fl.AffineCoupling([0, 1])
    x = torch.randn(5, 2)
    y, ldj = layer(x)
    assert torch.equal(y, x) and torch.equal(ldj, torch.zeros(5))


def test_actnorm_data_dependent_initialisation():
    layer = fl.ActNorm(3).to(F64)
    x = torch.randn(500, 3, dtype=F64) * torch.tensor([0.1, 2.0, 5.0], dtype=F64) + 3.0
    assert not bool(layer.initialized)
    y, ldj = layer(x)
    assert bool(layer.initialized)
    assert torch.allclose(y.mean(0), torch.zeros(3, dtype=F64), atol=1e-12)
    assert torch.allclose(y.std(0), torch.ones(3, dtype=F64), atol=1e-12)
    assert torch.allclose(ldj, -torch.log(x.std(0)).sum().expand(500))
    # Initialised once only: a second batch does not reset it.
    before = layer.log_scale.detach().clone()
    layer(torch.randn(10, 3, dtype=F64))
    assert torch.equal(layer.log_scale.detach(), before)
    # No initialisation in evaluation mode.
    fresh = fl.ActNorm(2).eval()
    fresh(torch.randn(10, 2))
    assert not bool(fresh.initialized)
    with pytest.raises(ValueError, match="at least 2 rows"):
        fl.ActNorm(2).initialize(torch.randn(1, 2))


def test_lu_linear_weight_and_logdet():
    layer = fl.LULinear(4, seed=7).to(F64)
    w0 = layer.weight().detach()
    # Starts as a rotation: W W^T = I, |det W| = 1.
    assert torch.allclose(w0 @ w0.T, torch.eye(4, dtype=F64), atol=1e-6)  # float32 storage
    _perturb(layer, 1)
    w = layer.weight().detach()
    p, lower, upper = (t.detach() for t in layer.factors())
    assert torch.allclose(p @ lower @ upper, w)
    assert torch.equal(torch.diagonal(lower), torch.ones(4, dtype=F64))
    assert torch.equal(torch.triu(lower, 1), torch.zeros(4, 4, dtype=F64))
    assert torch.equal(torch.tril(upper, -1), torch.zeros(4, 4, dtype=F64))
    x = torch.randn(3, 4, dtype=F64)
    y, ldj = layer(x)
    assert torch.allclose(y, x @ w.T, atol=1e-12)
    assert torch.allclose(ldj, torch.linalg.slogdet(w)[1].expand(3), atol=1e-10)


def test_glow_1x1_convolution_logdet_is_hw_times_logdet_w():
    layer = fl.LULinear(3, seed=2).to(F64)
    _perturb(layer, 2)
    w = layer.weight().detach()
    h, wd = 4, 5
    x = torch.randn(3, h, wd, dtype=F64)
    jac = jacobian(
        lambda v: torch.nn.functional.conv2d(v.view(1, 3, h, wd), w[:, :, None, None]).reshape(-1),
        x.reshape(-1),
    )
    assert torch.linalg.slogdet(jac)[1].item() == pytest.approx(
        h * wd * layer.log_diag.sum().item(), abs=1e-9
    )


def test_log_prob_of_a_linear_flow_is_the_gaussian_density():
    """ActNorm + LU linear is affine, z = A x + c, so X ~ N(-A^{-1}c, (A^T A)^{-1})."""
    torch.manual_seed(0)
    act, lu = fl.ActNorm(2).to(F64), fl.LULinear(2, seed=4).to(F64)
    _perturb(act, 5)
    _perturb(lu, 6)
    act.eval()

    def f(v):
        return lu(act(v)[0])[0]

    c = f(torch.zeros(1, 2, dtype=F64))[0]
    a = jacobian(lambda v: f(v[None])[0], torch.zeros(2, dtype=F64))
    ain = torch.linalg.inv(a)
    ref = MultivariateNormal(-ain @ c, covariance_matrix=ain @ ain.T)
    x = torch.randn(20, 2, dtype=F64)
    z, l1 = act(x)
    z, l2 = lu(z)
    ours = Normal(torch.zeros((), dtype=F64), 1.0).log_prob(z).sum(1) + l1 + l2
    assert torch.allclose(ours, ref.log_prob(x), atol=1e-10)
    # The reciprocal (wrong-direction) determinant gives a different number.
    wrong = Normal(torch.zeros((), dtype=F64), 1.0).log_prob(z).sum(1) - l1 - l2
    assert not torch.allclose(wrong, ref.log_prob(x), atol=1e-3)


@pytest.fixture(scope="module")
def trained():
    data = moons(3000, noise=0.05, seed=0)
    with single_thread():
        return fl.fit(
            data, steps=200, kind="glow", layers=3, hidden=32, progress=False, device="cpu"
        )


def test_fit_returns_a_flow_that_learns(trained):
    assert isinstance(trained, fl.Flow) and not trained.training
    hist = [row["nll"] for row in trained.history]
    assert hist[-1] < hist[0] - 0.5
    test = moons(4000, noise=0.05, seed=1)
    with torch.no_grad():
        nll = fl.nll(trained, test).item()
    # Far better than the best single Gaussian for the moons (its NLL is about 2.0 nats).
    cov = torch.cov(test.double().T)
    gauss = -MultivariateNormal(test.double().mean(0), cov).log_prob(test.double()).mean().item()
    assert nll < gauss - 0.5


def test_trained_density_integrates_to_one(trained):
    xs, ys, dens, mass = fl.density_on_grid(trained, (-3.0, -2.5), (4.0, 3.0), n=300)
    assert dens.shape == (300, 300) and xs.shape == ys.shape == (300,)
    assert mass == pytest.approx(1.0, abs=1e-3)
    # The grid orientation: density[i, j] is at (xs[j], ys[i]).
    pt = torch.tensor([[xs[17], ys[203]]], dtype=F64)
    m64 = trained.to(F64)
    try:
        assert dens[203, 17].item() == pytest.approx(m64.log_prob(pt).exp().item(), rel=1e-12)
    finally:
        trained.float()


def test_samples_follow_the_density(trained):
    """Sampling (x = f⁻¹(z)) and the density (from z = f(x)) describe the same distribution:
    the sample mean matches the mean computed by quadrature of the density."""
    torch.manual_seed(3)
    x = trained.sample(20_000).double()
    xs, ys, dens, mass = fl.density_on_grid(trained, (-3.0, -2.5), (4.0, 3.0), n=300)
    w = dens / dens.sum()
    mean_q = torch.stack([(w.sum(0) * xs).sum(), (w.sum(1) * ys).sum()])
    se = x.std(0) / math.sqrt(x.shape[0])
    assert torch.all((x.mean(0) - mean_q).abs() < 4 * se + 1e-3)


def test_stages_and_labels(trained):
    x = moons(50, seed=2)
    st_ = trained.stages(x)
    assert len(st_) == len(trained.layers) + 1 == len(trained.labels()) + 1
    assert torch.equal(st_[0], x)
    assert torch.allclose(st_[-1], trained(x)[0])
    back = trained.inverse_stages(st_[-1])
    assert torch.allclose(back[-1], x, atol=1e-4)
    assert trained.labels()[:3] == ["ActNorm", "LU linear", "coupling (keeps x)"]


def test_save_load_roundtrip(trained, tmp_path):
    path = trained.save(tmp_path / "flow.pt")
    blob = torch.load(path, weights_only=True)
    assert blob["family"] == "flow"
    again = fl.Flow.load(path, device="cpu")
    x = moons(20, seed=5)
    assert torch.equal(again.log_prob(x), trained.log_prob(x))
    assert again.history == trained.history
    assert all(bool(m.initialized) for m in again.layers if isinstance(m, fl.ActNorm))


def test_sample_shape_and_device(trained):
    s = trained.sample(11)
    assert s.shape == (11, 2) and s.device == trained.device and s.dtype == torch.float32


def test_realnvp_kind_layout():
    model = fl.Flow(dim=4, layers=3, kind="realnvp")
    assert all(isinstance(m, fl.AffineCoupling) for m in model.layers)
    assert [m.mask for m in model.layers] == [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    glow = fl.Flow(dim=2, layers=2, kind="glow")
    assert [type(m).__name__ for m in glow.layers] == ["ActNorm", "LULinear", "AffineCoupling"] * 2


def test_pretrained_registry_names():
    assert set(fl.PRETRAINED) == {"flow_moons", "flow_ring", "flow_swissroll"}
    with pytest.raises(ValueError, match="name"):
        fl.pretrained("spiral")


@pytest.mark.parametrize("name", ["moons", "ring", "swissroll"])
def test_shipped_checkpoints_load_and_integrate_to_one(name):
    from companion.explore.flows import BOXES

    model = fl.pretrained(name, device="cpu")
    # the default fit (the chapter says so): its architecture and its number of steps
    for key in ("kind", "layers", "hidden", "depth", "bound"):
        assert model.config[key] == fl.DEFAULTS[key], key
    assert model.history[-1]["step"] == fl.DEFAULTS["steps"] - 1
    with single_thread():
        mass = fl.density_on_grid(model, *BOXES[name], n=300)[3]
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_training_data_shapes():
    for name in ("moons", "ring", "swissroll"):
        d = fl.training_data(name, 100)
        assert d.shape == (100, 2) and d.dtype == torch.float32
    with pytest.raises(ValueError, match="name"):
        fl.training_data("spiral")


# --- bad input -----------------------------------------------------------------------------------
def test_bad_layer_construction():
    with pytest.raises(ValueError, match="mask"):
        fl.AffineCoupling([1, 1])
    with pytest.raises(ValueError, match="mask"):
        fl.AffineCoupling([0, 2])
    with pytest.raises(ValueError, match="bound"):
        fl.AffineCoupling([0, 1], bound=0.0)
    with pytest.raises(TypeError, match="hidden"):
        fl.AffineCoupling([0, 1], hidden=2.5)
    with pytest.raises(ValueError, match="dim"):
        fl.ActNorm(0)
    with pytest.raises(ValueError, match="seed"):
        fl.LULinear(2, seed=-1)
    with pytest.raises(ValueError, match="perm"):
        fl.Permutation([0, 0, 1])
    with pytest.raises(ValueError, match="kind"):
        fl.Flow(kind="maf")
    with pytest.raises(ValueError, match="dim"):
        fl.Flow(dim=1)


def test_bad_call_arguments():
    layer = fl.AffineCoupling([1, 0])
    model = fl.Flow(layers=1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        layer(torch.randn(4, 3))
    with pytest.raises(TypeError, match="floating"):
        model.log_prob(torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        model.log_prob(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(TypeError, match="reverse"):
        layer(torch.randn(4, 2), reverse="yes")
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)
    with pytest.raises(TypeError, match="Flow"):
        fl.nll(torch.nn.Linear(2, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match="lo < hi"):
        fl.density_on_grid(model, (1.0, 0.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="2-D"):
        fl.density_on_grid(fl.Flow(dim=3, layers=1), (0.0, 0.0), (1.0, 1.0))


def test_bad_fit_arguments():
    data = moons(100, seed=0)
    with pytest.raises(ValueError, match="steps"):
        fl.fit(data, steps=0)
    with pytest.raises(ValueError, match="lr"):
        fl.fit(data, steps=1, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="dimension"):
        fl.fit(torch.randn(10), steps=1, progress=False)
    with pytest.raises(TypeError, match="progress"):
        fl.fit(data, steps=1, progress="no")
    with pytest.raises(ValueError, match="kind"):
        fl.fit(data, steps=1, progress=False, kind="nice")


# == moved from explore/flows.py ==
@FAST
@given(eps=st.floats(-2.0, 2.0), delta=st.floats(0.3, 3.0), x=st.floats(-6.0, 6.0))
def test_sinh_arcsinh_inverse_and_slope(eps, delta, x):
    z, log_slope = fl.sinh_arcsinh(np.array([x]), eps, delta)
    back, log_slope_inv = fl.sinh_arcsinh(z, eps, delta, reverse=True)
    assert back[0] == pytest.approx(x, rel=1e-9, abs=1e-9)
    # Reciprocal derivatives of a map and its inverse.
    assert log_slope_inv[0] == pytest.approx(-log_slope[0], abs=1e-8)
    h = 1e-6
    numeric = (
        fl.sinh_arcsinh(np.array([x + h]), eps, delta)[0]
        - fl.sinh_arcsinh(np.array([x - h]), eps, delta)[0]
    ) / (2 * h)
    assert math.log(numeric[0]) == pytest.approx(log_slope[0], abs=1e-5)


@pytest.mark.parametrize(("eps", "delta"), [(0.0, 1.0), (0.5, 1.0), (-1.5, 0.6), (1.5, 2.0)])
def test_monotone_density_is_the_law_of_transformed_normals(eps, delta):
    # Integrates to one (scipy quadrature) and agrees with the CDF route Φ(f(x)).
    from scipy import integrate, stats

    total = integrate.quad(lambda t: fl.monotone_density(t, eps, delta), -np.inf, np.inf)[0]
    assert total == pytest.approx(1.0, abs=1e-7)
    for a, b in [(-1.0, 0.5), (0.2, 3.0)]:
        mass = integrate.quad(lambda t: fl.monotone_density(t, eps, delta), a, b)[0]
        fa, fb = (fl.sinh_arcsinh(np.array([v]), eps, delta)[0][0] for v in (a, b))
        assert mass == pytest.approx(stats.norm.cdf(fb) - stats.norm.cdf(fa), abs=1e-8)
    # Works on tensors too, with the same values.
    t = torch.linspace(-3, 3, 7, dtype=torch.float64)
    assert np.allclose(
        fl.monotone_density(t, eps, delta).numpy(), fl.monotone_density(t.numpy(), eps, delta)
    )


def test_monotone_mass_against_scipy_quadrature():
    from scipy import integrate

    for slip in (False, True):
        ref = integrate.quad(lambda t, s=slip: fl.monotone_density(t, 0.5, 0.6, slip=s), -5, 5)[0]
        assert fl.monotone_mass(0.5, 0.6, -5.0, 5.0, slip=slip) == pytest.approx(ref, abs=2e-4)
    with pytest.raises(ValueError, match="lo < hi"):
        fl.monotone_mass(0.0, 1.0, 1.0, -1.0)


def _tiny_flow():
    with single_thread():
        return fl.fit(moons(300, seed=0), steps=5, layers=2, hidden=8, progress=False, device="cpu")


def test_stage_log_dets_end_at_the_flows_log_det():
    model = _tiny_flow()
    x = moons(50, seed=1)
    stages, ldj = fl.stage_log_dets(model, x)
    z, total = model(x)
    assert len(stages) == len(ldj) == len(model.layers) + 1 and ldj[0] == 0.0
    torch.testing.assert_close(stages[-1], z.detach())
    assert ldj[-1] == pytest.approx(total.mean().item(), abs=1e-5)
    with pytest.raises(TypeError, match="Flow"):
        fl.stage_log_dets(torch.nn.Linear(2, 2), x)


def test_sample_seeded_is_the_inverse_of_seeded_noise_and_leaves_the_rng_alone():
    model = _tiny_flow()
    torch.manual_seed(5)
    expected_next = torch.rand(2)
    torch.manual_seed(5)
    x = fl.sample_seeded(model, 40, seed=3)
    assert torch.equal(torch.rand(2), expected_next)
    z = torch.randn(40, 2, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        back, _ = model(x)
    torch.testing.assert_close(back, z, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fl.sample_seeded(model, 40, seed=3), x)
