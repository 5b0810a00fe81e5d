"""companion.diffusion against diffusers' DDPMScheduler/DDIMScheduler (float64) and closed forms."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
from helpers import FAST
from hypothesis import given
from hypothesis import strategies as st

from companion import data
from companion import diffusion as df
from companion.models import GenerativeModel

F64 = torch.float64
TOL = 1e-8

diffusers = pytest.importorskip("diffusers")
from diffusers.schedulers import scheduling_ddim, scheduling_ddpm  # noqa: E402


class _Torch64:
    """The ``torch`` module as seen by diffusers' scheduler modules, with float32 → float64, so
    that their schedules are built in double precision (the issue asks for float64)."""

    float32 = torch.float64

    def __getattr__(self, name):
        return getattr(torch, name)


def ddpm_reference(kind: str, T: int = 1000, variance: str = "fixed_small"):
    beta_schedule = {"linear": "linear", "cosine": "squaredcos_cap_v2"}[kind]
    with mock.patch.object(scheduling_ddpm, "torch", _Torch64()):
        ref = diffusers.DDPMScheduler(
            num_train_timesteps=T,
            beta_schedule=beta_schedule,
            clip_sample=False,
            variance_type=variance,
        )
    assert ref.betas.dtype == F64 and ref.alphas_cumprod.dtype == F64
    return ref


def ddim_reference(kind: str, T: int, steps: int):
    beta_schedule = {"linear": "linear", "cosine": "squaredcos_cap_v2"}[kind]
    with mock.patch.object(scheduling_ddim, "torch", _Torch64()):
        ref = diffusers.DDIMScheduler(
            num_train_timesteps=T,
            beta_schedule=beta_schedule,
            clip_sample=False,
            set_alpha_to_one=True,
            timestep_spacing="trailing",
        )
    ref.set_timesteps(steps)
    return ref


KINDS = ["linear", "cosine"]


# -- schedules ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T", [1000, 37])
def test_schedule_equals_diffusers(kind, T):
    ref = ddpm_reference(kind, T)
    s = df.NoiseSchedule(kind, T)
    t = torch.arange(1, T + 1)
    # diffusers' index k is our t = k + 1
    assert torch.allclose(s.beta(t), ref.betas, rtol=0, atol=TOL)
    assert torch.allclose(s.alpha(t), ref.alphas, rtol=0, atol=TOL)
    assert torch.allclose(s.alpha_bar(t), ref.alphas_cumprod, rtol=0, atol=TOL)
    assert torch.allclose(s.betas, ref.betas, rtol=0, atol=TOL)
    assert float(s.alpha_bar(0)) == 1.0


def test_linear_schedule_endpoints_and_cosine_formula():
    s = df.NoiseSchedule("linear", 1000)
    assert math.isclose(float(s.beta(1)), 1e-4) and math.isclose(float(s.beta(1000)), 0.02)
    c = df.NoiseSchedule("cosine", 1000)

    def f(u):  # Nichol & Dhariwal's alpha-bar function, straight from the paper
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    for t in (1, 10, 500, 990):
        assert math.isclose(float(c.alpha_bar(t)), f(t / 1000) / f(0), rel_tol=1e-9)
    assert float(c.beta(1000)) == 0.999  # the clip


@pytest.mark.parametrize("kind", KINDS)
def test_snr_and_log_snr(kind):
    s = df.NoiseSchedule(kind, 200)
    t = torch.arange(1, 201)
    ab = torch.cumprod(1 - s.betas, 0)
    assert torch.allclose(s.snr(t), ab / (1 - ab), rtol=1e-12)
    assert torch.allclose(s.log_snr(t), torch.log(ab / (1 - ab)), rtol=1e-10, atol=1e-12)
    assert (s.log_snr(t).diff() < 0).all()  # the SNR falls strictly


@given(
    kind=st.sampled_from(KINDS),
    T=st.integers(2, 400),
    beta_end=st.floats(0.005, 0.5),
)
@FAST
def test_schedule_invariants(kind, T, beta_end):
    s = df.NoiseSchedule(kind, T, beta_end=max(beta_end, 1e-4))
    t = torch.arange(1, T + 1)
    ab = s.alpha_bar(t)
    assert (s.betas > 0).all() and (s.betas < 1).all()
    assert (ab.diff() < 0).all() and (ab > 0).all()
    assert torch.allclose(ab, torch.cumprod(s.alpha(t), 0), rtol=1e-12)
    bt = s.posterior_variance(t)
    assert float(bt[0]) == 0.0
    assert ((bt[1:] > 0) & (bt[1:] <= s.beta(t)[1:] + 1e-15)).all()  # 0 < β̃_t <= β_t


# -- forward process and posterior --------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_q_sample_equals_diffusers_add_noise(kind):
    ref = ddpm_reference(kind)
    s = df.NoiseSchedule(kind)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 2, generator=gen, dtype=F64)
    noise = torch.randn(64, 2, generator=gen, dtype=F64)
    k = torch.randint(0, 1000, (64,), generator=gen)
    expected = ref.add_noise(x0, noise, k)
    assert torch.allclose(s.q_sample(x0, k + 1, noise), expected, rtol=0, atol=TOL)
    # an int t broadcasts over the rows
    assert torch.allclose(
        s.q_sample(x0, 500, noise), ref.add_noise(x0, noise, torch.full((64,), 499)), atol=TOL
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variance", ["beta_tilde", "beta"])
def test_posterior_and_one_step_equal_diffusers(kind, variance):
    dvar = {"beta_tilde": "fixed_small", "beta": "fixed_large"}[variance]
    ref = ddpm_reference(kind, variance=dvar)
    s = df.NoiseSchedule(kind)
    gen = torch.Generator().manual_seed(1)
    for k in (999, 700, 123, 1, 0):
        t = k + 1
        x0 = torch.randn(16, 2, generator=gen, dtype=F64)
        noise = torch.randn(16, 2, generator=gen, dtype=F64)
        xt = ref.add_noise(x0, noise, torch.full((16,), k))
        # diffusers' step with the true noise as the model output: x̂_0 = x_0, and its
        # noiseless part is the posterior mean μ̃(x_t, x_0).
        out = ref.step(noise, k, xt, generator=torch.Generator().manual_seed(7))
        z = torch.randn(16, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
        ref_var = ref._get_variance(k) if k > 0 else torch.zeros((), dtype=F64)
        ref_mean = out.prev_sample - ref_var.sqrt() * z
        assert torch.allclose(out.pred_original_sample, x0, atol=1e-10)

        mean, var = s.q_posterior(x0, xt, t)
        assert torch.allclose(mean, ref_mean, rtol=0, atol=TOL)
        if variance == "beta_tilde":  # diffusers clamps β̃_1 = 0 to 1e-20
            assert torch.allclose(
                var[0, 0], ref._get_variance(k, variance_type="fixed_small"), rtol=0, atol=TOL
            )
        assert torch.allclose(s.predict_x0(xt, t, noise), x0, atol=1e-10)
        assert torch.allclose(s.p_mean(xt, t, noise), ref_mean, rtol=0, atol=TOL)

        # one sampling step with the same standard normal draw
        ours = s.ddpm_step(xt, t, noise, noise=z, variance=variance)
        assert torch.allclose(ours, out.prev_sample, rtol=0, atol=TOL)
        # and with a random (not exact) ε, the general case
        eps = torch.randn(16, 2, generator=gen, dtype=F64)
        out2 = ref.step(eps, k, xt, generator=torch.Generator().manual_seed(8))
        z2 = torch.randn(16, 2, generator=torch.Generator().manual_seed(8), dtype=F64)
        ours2 = s.ddpm_step(xt, t, eps, noise=z2, variance=variance)
        assert torch.allclose(ours2, out2.prev_sample, rtol=0, atol=TOL)
        assert torch.allclose(s.sampling_variance(t, variance), ref_var, rtol=0, atol=TOL)


def test_posterior_per_row_t_matches_scalar_t():
    s = df.NoiseSchedule("cosine", 50)
    x0, xt = torch.randn(5, 3, dtype=F64), torch.randn(5, 3, dtype=F64)
    t = torch.tensor([1, 2, 17, 49, 50])
    mean, var = s.q_posterior(x0, xt, t)
    for i, ti in enumerate(t.tolist()):
        m_i, v_i = s.q_posterior(x0[i : i + 1], xt[i : i + 1], ti)
        assert torch.allclose(mean[i], m_i[0], atol=1e-14) and torch.allclose(var[i], v_i[0])


def test_posterior_is_gaussian_conditioning():
    """μ̃, β̃ against conditioning the joint Gaussian of (x_{t-1}, x_t) given x_0 (1-D)."""
    s = df.NoiseSchedule("linear", 100)
    x0 = torch.tensor([[0.7]], dtype=F64)
    xt = torch.tensor([[-0.3]], dtype=F64)
    for t in (2, 50, 100):
        a_prev, a = float(s.alpha_bar(t - 1)), float(s.alpha_bar(t))
        m1, m2 = math.sqrt(a_prev) * 0.7, math.sqrt(a) * 0.7
        v11, v22 = 1 - a_prev, 1 - a
        v12 = math.sqrt(float(s.alpha(t))) * v11  # Cov(x_{t-1}, x_t | x_0)
        mean_ref = m1 + v12 / v22 * (-0.3 - m2)
        var_ref = v11 - v12**2 / v22
        mean, var = s.q_posterior(x0, xt, t)
        assert math.isclose(float(mean), mean_ref, rel_tol=1e-12)
        assert math.isclose(float(var), var_ref, rel_tol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("steps", [5, 20])
def test_ddim_step_equals_diffusers(kind, steps):
    T = 1000
    ref = ddim_reference(kind, T, steps)
    s = df.NoiseSchedule(kind, T)
    ours_times = s.ddim_timesteps(steps)
    assert [t - 1 for t in ours_times] == ref.timesteps.tolist()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(8, 2, generator=gen, dtype=F64)
    for i, k in enumerate(ref.timesteps.tolist()):
        eps = torch.randn(8, 2, generator=gen, dtype=F64)
        expected = ref.step(eps, k, x, eta=0.0).prev_sample
        nxt = ours_times[i + 1] if i + 1 < len(ours_times) else 0
        ours = s.ddim_step(x, k + 1, nxt, eps)
        assert torch.allclose(ours, expected, rtol=0, atol=TOL)
        x = expected


def test_ddim_with_eta_one_has_ddpm_variance():
    # η = 1 and consecutive times: σ² = β̃_t, the DDPM posterior variance.
    s = df.NoiseSchedule("linear", 100)
    x = torch.zeros(200_000, 1, dtype=F64)
    eps = torch.zeros_like(x)
    out = s.ddim_step(x, 60, 59, eps, eta=1.0)
    assert abs(float(out.var()) / float(s.posterior_variance(60)) - 1) < 5 * math.sqrt(2 / 2e5)


# -- score, weights -----------------------------------------------------------------------------
def test_score_conversion_against_autograd_of_the_gaussian_marginal():
    s = df.NoiseSchedule("linear", 1000)
    mu, sd = torch.tensor([1.0, -2.0], dtype=F64), 0.5
    eps_fn = df.gaussian_eps(mu, sd, s)
    for t in (1, 10, 300, 1000):
        x = torch.randn(10, 2, dtype=F64, requires_grad=True)
        ab = float(s.alpha_bar(t))
        marg = torch.distributions.Normal(math.sqrt(ab) * mu, math.sqrt(ab * sd**2 + 1 - ab))
        (grad,) = torch.autograd.grad(marg.log_prob(x).sum(), x)
        tt = torch.full((10,), t)
        score = s.eps_to_score(eps_fn(x.detach(), tt), tt)
        assert torch.allclose(score, grad, rtol=1e-10, atol=1e-10)
        assert torch.allclose(s.score_to_eps(score, tt), eps_fn(x.detach(), tt), atol=1e-12)


@pytest.mark.parametrize("variance", ["beta_tilde", "beta"])
def test_kl_term_is_weighted_eps_error(variance):
    """L_{t-1} = λ_t ‖ε − ε_θ‖² + (a constant that is 0 for σ² = β̃), with KL from torch."""
    s = df.NoiseSchedule("cosine", 100)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 2, generator=gen, dtype=F64)
    noise = torch.randn(6, 2, generator=gen, dtype=F64)
    eps_hat = torch.randn(6, 2, generator=gen, dtype=F64)
    for t in (2, 40, 99):
        xt = s.q_sample(x0, t, noise)
        mq, vq = s.q_posterior(x0, xt, t)
        mp = s.p_mean(xt, t, eps_hat)
        vp = float(s.sampling_variance(t, variance))
        q = torch.distributions.Normal(mq, vq.sqrt().expand_as(mq))
        p = torch.distributions.Normal(mp, math.sqrt(vp))
        kl = torch.distributions.kl_divergence(q, p).sum(-1)
        lam = float(s.elbo_weight(t, variance))
        vq0 = float(vq[0, 0])
        const = math.log(vp / vq0) + vq0 / vp - 1  # per coordinate, × d/2 below
        expected = lam * ((noise - eps_hat) ** 2).sum(-1) + 2 * 0.5 * const
        assert torch.allclose(kl, expected, rtol=1e-9, atol=1e-10)
        assert torch.allclose(df.gaussian_kl(mq, vq, mp, torch.tensor(vp, dtype=F64)), kl)


# -- the exact Gaussian check -------------------------------------------------------------------
def propagate(s: df.NoiseSchedule, mu: float, sd: float, times: list[int], ddim: bool, var=""):
    """Mean and std of a sampler's output for 1-D data N(mu, sd²) and the exact ε, computed by
    pushing N(0, 1) through its affine steps (independent of the companion's samplers)."""
    m, v = 0.0, 1.0
    for t, u in zip(times, [*times[1:], 0], strict=True):
        ab, abu = float(s.alpha_bar(t)), float(s.alpha_bar(u))
        c = math.sqrt(1 - ab) / (ab * sd**2 + 1 - ab)  # ε* = c (x − √ᾱ μ)
        if ddim:
            sx0 = (1 - math.sqrt(1 - ab) * c) / math.sqrt(ab)
            ox0 = math.sqrt(1 - ab) * c * math.sqrt(ab) * mu / math.sqrt(ab)
            slope = math.sqrt(abu) * sx0 + math.sqrt(1 - abu) * c
            off = math.sqrt(abu) * ox0 - math.sqrt(1 - abu) * c * math.sqrt(ab) * mu
            noise = 0.0
        else:
            b, a = float(s.beta(t)), float(s.alpha(t))
            k = b / math.sqrt(1 - ab) * c
            slope, off = (1 - k) / math.sqrt(a), k * math.sqrt(ab) * mu / math.sqrt(a)
            noise = 0.0 if t == 1 else (b if var == "beta" else float(s.posterior_variance(t)))
        m, v = slope * m + off, slope**2 * v + noise
    return m, math.sqrt(v)


@pytest.mark.parametrize("kind", KINDS)
def test_exact_eps_recovers_gaussian_mean_and_std(kind):
    """The issue's exact check: DDPM with the exact ε recovers N(μ, σ²) to 1 %; every sampler
    agrees with the exact propagation of its affine steps within Monte Carlo error."""
    s = df.NoiseSchedule(kind, 1000)
    mu, sd, n = 1.5, 0.5, 100_000
    exact = df.gaussian_eps(torch.tensor([mu], dtype=F64), sd, s)
    gen = torch.Generator().manual_seed(0)
    x_T = torch.randn(n, 1, generator=gen, dtype=F64)
    se_m, se_s = sd / math.sqrt(n), sd / math.sqrt(2 * n)
    for var in ("beta", "beta_tilde"):
        x, _ = df.ddpm_sample(exact, s, x_T, variance=var, generator=gen)
        m, v = float(x.mean()), float(x.std())
        assert abs(m / mu - 1) < 0.01 and abs(v / sd - 1) < 0.01, (var, m, v)
        pm, ps = propagate(s, mu, sd, list(range(1000, 0, -1)), ddim=False, var=var)
        assert abs(m - pm) < 4 * se_m and abs(v - ps) < 4 * se_s, (var, m, v, pm, ps)
    for steps in (100, 20):
        y = df.ddim_sample(exact, s, x_T, steps)
        pm, ps = propagate(s, mu, sd, s.ddim_timesteps(steps), ddim=True)
        # deterministic: the only randomness is x_T's sample mean and std
        ratio = float(x_T.std())
        assert abs(float(y.std()) - ps * ratio) < 1e-6 * sd
        assert abs(float(y.mean()) - (pm + (ps) * float(x_T.mean()))) < 1e-6


def test_ddim_few_steps_shrink_the_gaussian():
    """A documented limitation: deterministic DDIM's discretisation shrinks a narrow Gaussian."""
    s = df.NoiseSchedule("linear", 1000)
    stds = [propagate(s, 1.5, 0.5, s.ddim_timesteps(k), ddim=True)[1] for k in (1000, 100, 20)]
    assert abs(stds[0] / 0.5 - 1) < 0.01 and stds[0] > stds[1] > stds[2] and stds[2] < 0.45


def test_annealed_langevin_with_exact_score():
    s = df.NoiseSchedule("linear", 1000)
    mu, sd = torch.tensor([1.0, -1.0], dtype=F64), 0.5
    gen = torch.Generator().manual_seed(0)
    x = df.annealed_langevin(
        df.gaussian_eps(mu, sd, s),
        s,
        torch.randn(5000, 2, generator=gen, dtype=F64),
        generator=gen,
    )
    assert torch.allclose(x.mean(0), mu, atol=0.05)
    assert torch.allclose(x.std(0), torch.full((2,), sd, dtype=F64), rtol=0.05)


# -- sliced Wasserstein -------------------------------------------------------------------------
def test_sliced_wasserstein_equals_pot():
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 2)), rng.normal(1.0, 2.0, size=(300, 2))
    for p in (1, 2):
        ours = df.sliced_wasserstein(torch.tensor(x), torch.tensor(y), projections=50, p=p, seed=4)
        theta = torch.randn(2, 50, generator=torch.Generator().manual_seed(4), dtype=F64)
        theta = (theta / theta.norm(dim=0)).numpy()
        ref = ot.sliced_wasserstein_distance(x, y, projections=theta, p=p)
        assert math.isclose(ours, float(ref), rel_tol=1e-10)


# -- the model ----------------------------------------------------------------------------------
def test_timestep_embedding():
    e = df.timestep_embedding(torch.tensor([1, 5]), 8)
    assert e.shape == (2, 8)
    assert torch.allclose(e[:, 0], torch.sin(torch.tensor([1.0, 5.0])))
    assert torch.allclose(e[:, 4], torch.cos(torch.tensor([1.0, 5.0])))


def test_fit_sample_save_load(tmp_path):
    x = data.ring(512, seed=0)
    model = df.fit(x, steps=30, progress=False, device="cpu", T=50, hidden=16, batch_size=64)
    assert isinstance(model, GenerativeModel) and model.history
    assert model.sample(7).shape == (7, 2)
    assert model.sample(7, method="ddim", steps=5).shape == (7, 2)
    assert model.sample(7, method="langevin", steps=3).shape == (7, 2)
    out, rec = model.sample(5, record=[50, 25, 0], seed=1)
    assert set(rec) == {0, 25, 50} and torch.equal(rec[0], out)
    assert torch.equal(model.sample(9, seed=3), model.sample(9, seed=3))
    # the standardisation is learnt from the data
    assert torch.allclose(model.shift, x.mean(0), atol=1e-6)
    path = model.save(tmp_path / "m.pt")
    again = df.DiffusionModel.load(path, device="cpu")
    assert torch.equal(again.sample(9, seed=3), model.sample(9, seed=3))
    bound = model.nll_bound(x[:20], generator=torch.Generator().manual_seed(0))
    assert bound["bound"].shape == (20,) and torch.isfinite(bound["bound"]).all()


def test_nll_bound_with_exact_eps_is_above_the_true_nll():
    """With the exact ε of Gaussian data the bound is >= −log p(x) (within Monte Carlo error),
    and the β-variance bound differs from the β̃ one."""
    model = df.DiffusionModel(dim=2, T=200, hidden=4, layers=1).double()
    mu, sd = torch.tensor([0.5, -0.5], dtype=F64), 0.3
    model.eps = df.gaussian_eps(mu, sd, model.noise)  # the instance attribute shadows the network
    gen = torch.Generator().manual_seed(0)
    x = mu + sd * torch.randn(2000, 2, generator=gen, dtype=F64)
    nll = -torch.distributions.Normal(mu, sd).log_prob(x).sum(-1)
    for var in ("beta", "beta_tilde"):
        parts = model.nll_bound(x, variance=var, generator=gen)
        gap = parts["bound"] - nll
        assert float(gap.mean()) > -4 * float(gap.std()) / math.sqrt(len(gap))
        assert torch.allclose(
            parts["bound"], parts["prior"] + parts["diffusion"] + parts["decoder"]
        )
        # L_T by hand: KL(N(√ᾱ_T x, (1 − ᾱ_T) I) ‖ N(0, I)), d = 2
        a = float(model.noise.alpha_bar(200))
        lt = 0.5 * (2 * (1 - a) + a * (x**2).sum(-1) - 2 - 2 * math.log(1 - a))
        assert torch.allclose(parts["prior"], lt, rtol=1e-10)


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    s = df.NoiseSchedule("linear", 10)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="kind"):
        df.NoiseSchedule("quadratic")
    with pytest.raises(ValueError):
        df.NoiseSchedule(T=0)
    with pytest.raises(TypeError):
        df.NoiseSchedule(T=2.5)
    with pytest.raises(ValueError, match="beta_start"):
        df.NoiseSchedule(beta_start=0.1, beta_end=0.01)
    with pytest.raises(ValueError, match="1-indexed"):
        s.beta(0)
    with pytest.raises(ValueError, match="1-indexed"):
        s.q_sample(x, 11, x)
    with pytest.raises(TypeError):
        s.q_sample(x, 2.0, x)
    with pytest.raises(TypeError):
        s.q_sample(x, torch.tensor([1.0, 2.0, 3.0]), x)
    with pytest.raises(ValueError, match="one value per row"):
        s.q_sample(x, torch.tensor([1, 2]), x)
    with pytest.raises(ValueError, match="same shape"):
        s.q_sample(x, 1, torch.zeros(3, 3))
    with pytest.raises(TypeError):
        s.q_sample([[0.0]], 1, x)
    with pytest.raises(ValueError, match="NaN"):
        s.q_posterior(x, torch.full((3, 2), math.nan), 2)
    with pytest.raises(ValueError, match="variance"):
        s.sampling_variance(2, "large")
    with pytest.raises(ValueError, match="s < t"):
        s.ddim_step(x, 3, 3, x)
    with pytest.raises(ValueError, match="eta"):
        s.ddim_step(x, 3, 1, x, eta=-1.0)
    with pytest.raises(ValueError, match="steps"):
        s.ddim_timesteps(11)
    with pytest.raises(ValueError, match="t >= 2"):
        s.elbo_weight(1)
    with pytest.raises(ValueError, match="std"):
        df.gaussian_eps(torch.zeros(2), 0.0, s)
    with pytest.raises(ValueError, match="same shape"):
        df.sliced_wasserstein(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="even"):
        df.DiffusionModel(emb_dim=7)
    with pytest.raises(TypeError):
        df.timestep_embedding(torch.tensor([1.0]), 4)
    with pytest.raises(ValueError, match="record"):
        df.ddpm_sample(lambda z, t: z, s, x, record=[11])
    model = df.DiffusionModel(T=10, hidden=8)
    with pytest.raises(ValueError, match="ddim"):
        model.sample(4, steps=5)
    with pytest.raises(ValueError, match="method"):
        model.sample(4, method="euler")
    with pytest.raises(ValueError, match="columns"):
        model.nll_bound(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="steps"):
        df.fit(data.ring(64, seed=0), steps=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        df.fit(data.ring(64, seed=0), steps=1, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="columns|dimension"):
        df.fit(torch.zeros(10), steps=1, progress=False)


def test_fit_default_steps(monkeypatch):
    """The default fit runs 20 000 steps with hidden layers of 128 (what benchmarks/
    bench_quality.py scores and the chapter quotes); the training loop is stubbed out, so nothing
    is trained here."""
    seen = {}
    monkeypatch.setattr(df, "train", lambda step, steps, **kw: seen.setdefault("steps", steps))
    model = df.fit(data.ring(64, seed=0), progress=False, device="cpu")
    assert seen["steps"] == 20_000
    assert model.config["hidden"] == 128 and model.net.inp.out_features == 128


def test_pretrained_registry_names():
    assert set(df.PRETRAINED) <= {"diffusion_ring", "diffusion_ring_default", "diffusion_moons"}
    assert all(name.startswith("diffusion_") for name in df.PRETRAINED)


# == moved from explore/df.py ==


def test_forward_chain_has_the_closed_form_moments():
    # 4000 chains started at one point: after t steps their moments match q(x_t | x_0).
    x0 = torch.tensor([[1.0, -1.0]]).repeat(4000, 1)
    for kind in ("linear", "cosine"):
        s = df.NoiseSchedule(kind, 100)
        chain = df.forward_chain(x0, s, seed=3)
        assert chain.shape == (101, 4000, 2) and torch.equal(chain[0], x0.double())
        ab = float(s.alpha_bar(60))
        pts = chain[60].numpy()
        assert np.allclose(pts.mean(0), math.sqrt(ab) * np.array([1, -1]), atol=4 / math.sqrt(4000))
        assert np.allclose(pts.var(0), 1 - ab, rtol=4 * math.sqrt(2 / 4000))
    with pytest.raises(TypeError, match="NoiseSchedule"):
        df.forward_chain(x0, "linear")


def test_score_on_grid_is_minus_eps_over_sigma():
    model = df.fit(data.ring(256, seed=0), steps=5, progress=False, device="cpu", T=100, hidden=8)
    pts, s = df.score_on_grid(model, 30, grid=5)
    axis = torch.linspace(-3, 3, 5)
    assert torch.equal(pts[:5, 1], axis) and torch.equal(pts[::5, 0], axis)
    with torch.no_grad():
        eps = model.net(pts, torch.full((25,), 30))
    expected = -eps / math.sqrt(1 - float(model.noise.alpha_bar(30)))
    torch.testing.assert_close(s, expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="t must lie"):
        df.score_on_grid(model, 101)
