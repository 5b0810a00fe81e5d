"""The from-scratch training steps of the model chapters against the companion's own steps.

Each model chapter (VAE, GAN, flows, diffusion) writes its loss and one optimiser step in plain
PyTorch before it uses the family's ``fit``. The functions below are those chapter cells (the
same arithmetic, written independently of the companion); every test builds the companion's
model in float64, gives the plain version the same parameters, the same batch and the same
noise, takes one step with each and asks for the same loss and the same parameters afterwards,
to 1e-12. The reference is the step ``fit`` itself runs where the family has one as a function
(``vae._training_step``, ``gan._Training.discriminator_step`` / ``generator_step``); flows and
diffusion write their step inside ``fit``, so there the reference is the public loss
(``flows.nll``, ``DiffusionModel.loss_simple``) with the optimiser ``fit`` uses, and in float32
the first step of ``fit`` itself. Two more tests check the extras the chapters name for ``fit``:
the GAN's R1 penalty and weight averaging, and the VAE's KL warm-up.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from companion import data, diffusion, flows, gan, models, vae

F64 = torch.float64
TOL = 1e-12


@contextlib.contextmanager
def default_float64():
    """Tensors the companion draws without a dtype (latents, noise) come out in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(F64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def perturb(module: nn.Module, seed: int, scale: float = 0.3) -> None:
    """Move every parameter off its initial value (zero-initialised layers included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def assert_same(mine: list[torch.Tensor], theirs: list[torch.Tensor]) -> None:
    assert len(mine) == len(theirs) and mine
    for a, b in zip(mine, theirs, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == F64
        assert (a - b).abs().max().item() < TOL


def plain_mlp(sizes: list[int], act: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1]).to(F64)


# -- VAE ----------------------------------------------------------------------------------------
def vae_negative_elbo(encoder, decoder, log_sigma_x, x, eps):
    """The chapter's −ELBO: Gaussian encoder and decoder, one reparameterised draw per row."""
    mu, log_sigma = encoder(x).chunk(2, dim=1)
    sigma = log_sigma.clamp(-9, 4).exp()
    z = mu + sigma * eps
    r = (x - decoder(z)) / log_sigma_x.exp()
    log_lik = (-0.5 * math.log(2 * math.pi) - log_sigma_x - 0.5 * r**2).sum(1)
    kl = 0.5 * (mu**2 + sigma**2 - 1 - 2 * sigma.log()).sum(1)
    return (kl - log_lik).mean()


def test_vae_step_matches_training_step():
    seed, n, d, k, width = 3, 300, 2, 2, 16
    h = models.merge_hyper(vae.DEFAULTS, {"hidden": (width, width), "warmup": 0.0})
    h["batch_size"] = 128
    x_all = data.moons(n, seed=seed).to(F64)
    model = vae.VAE(d, latent_dim=k, hidden=[width, width]).to(F64)
    perturb(model, seed)
    encoder, decoder = (
        plain_mlp([d, width, width, 2 * k], nn.SiLU),
        plain_mlp([k, width, width, d], nn.SiLU),
    )
    encoder.load_state_dict(model.encoder.state_dict())
    decoder.load_state_dict(model.decoder.state_dict())
    log_sigma_x = nn.Parameter(model.log_obs_std.detach().clone())
    mine = [*encoder.parameters(), *decoder.parameters(), log_sigma_x]
    # the companion's step: its batch from the run's generator, its noise from the global one
    run = models.FitRun(3000, seed, torch.device("cpu"), False, x_all, torch.Generator())
    run.generator.manual_seed(seed)
    step = vae._training_step(model, x_all, None, h, run)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        theirs = step(0)
    with torch.random.fork_rng():  # the noise step(0) drew, drawn again
        torch.manual_seed(seed)
        eps = torch.randn(1, 128, k, dtype=F64)[0]
    rows = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:128]
    opt = torch.optim.Adam(mine, lr=h["lr"])
    loss = vae_negative_elbo(encoder, decoder, log_sigma_x, x_all[rows], eps)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert abs(loss.item() - theirs["-elbo"].item()) < TOL
    assert_same(mine, [*model.encoder.parameters(), *model.decoder.parameters(), model.log_obs_std])


def test_vae_step_matches_public_loss():
    """With β = 1, ``VAE.loss`` is the same −ELBO (the chapter's hidden check uses it)."""
    seed, d, k, width = 5, 2, 2, 8
    x = data.moons(64, seed=seed).to(F64)
    model = vae.VAE(d, latent_dim=k, hidden=[width, width]).to(F64)
    perturb(model, seed)
    encoder = plain_mlp([d, width, width, 2 * k], nn.SiLU)
    decoder = plain_mlp([k, width, width, d], nn.SiLU)
    encoder.load_state_dict(model.encoder.state_dict())
    decoder.load_state_dict(model.decoder.state_dict())
    log_sigma_x = model.log_obs_std.detach().clone()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        theirs = model.loss(x)["loss"]
        torch.manual_seed(seed)
        eps = torch.randn(1, 64, k, dtype=F64)[0]
    mine = vae_negative_elbo(encoder, decoder, log_sigma_x, x, eps)
    assert abs(mine.item() - theirs.item()) < TOL
    # and it is minus the ELBO the model reports, for the same noise
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        elbo = model.elbo(x).mean()
    assert abs(mine.item() + elbo.item()) < TOL


def test_vae_loss_against_torch_distributions():
    """The plain −ELBO's two terms against torch.distributions (an independent reference)."""
    from torch.distributions import Normal, kl_divergence

    g = torch.Generator().manual_seed(0)
    encoder = plain_mlp([2, 8, 4], nn.SiLU)
    decoder = plain_mlp([2, 8, 2], nn.SiLU)
    log_sigma_x = torch.randn(2, generator=g, dtype=F64) * 0.3
    x, eps = torch.randn(20, 2, generator=g, dtype=F64), torch.randn(20, 2, generator=g, dtype=F64)
    mu, log_sigma = encoder(x).chunk(2, dim=1)
    sigma = log_sigma.exp()
    z = mu + sigma * eps
    ref = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).sum(1)
    ref = ref - Normal(decoder(z), log_sigma_x.exp()).log_prob(x).sum(1)
    mine = vae_negative_elbo(encoder, decoder, log_sigma_x, x, eps)
    assert abs(mine.item() - ref.mean().item()) < TOL


# -- GAN ----------------------------------------------------------------------------------------
def gan_step(G, a_net, opt_G, opt_D, x, z1, z2):
    """The chapter's GAN step: one discriminator update, then one non-saturating generator one."""
    softplus = nn.functional.softplus
    fake = G(z1).detach()
    loss_D = softplus(-a_net(x)).mean() + softplus(a_net(fake)).mean()
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    loss_G = softplus(-a_net(G(z2))).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    return loss_D, loss_G


def gan_pair(seed, n, k, width, batch, **hyper):
    """A float64 companion GAN on a ring (parameters moved off their start), plain copies of
    its two networks, its ``_Training`` loop state, the batch and the two latent draws that
    ``_Training`` uses at step 0 (drawn again here from the same seed)."""
    h = gan._hyper({"hidden": (width,) * 3, "batch_size": batch, "loss": "nonsaturating", **hyper})
    u = data.ring(n, std=0.02, seed=seed).to(F64)
    model = gan.GAN(2, latent_dim=k, hidden=[width] * 3).to(F64)
    perturb(model, seed)
    G = plain_mlp([k, width, width, width, 2], nn.ReLU)
    a_net = plain_mlp([2, width, width, width, 1], nn.ReLU)
    G.load_state_dict(model.generator.net.state_dict())
    a_net.load_state_dict(model.discriminator.net.state_dict())
    run = models.FitRun(8000, seed, torch.device("cpu"), False, u, torch.Generator())
    run.generator.manual_seed(seed)
    training = gan._Training(model, u, None, h, run)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        z1, z2 = torch.randn(batch, k, dtype=F64), torch.randn(batch, k, dtype=F64)
    real = u[torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]]
    adam = dict(lr=h["lr"], betas=h["betas"])
    opts = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(a_net.parameters(), **adam)
    return model, G, a_net, training, real, (z1, z2), opts


def test_gan_step_matches_training_steps():
    seed, n, k, width, batch = 2, 200, 2, 16, 64
    model, G, a_net, training, real, (z1, z2), (opt_G, opt_D) = gan_pair(
        seed, n, k, width, batch, r1=0.0
    )
    with default_float64(), torch.random.fork_rng():
        torch.manual_seed(seed)
        d_loss = training.discriminator_step(0)
        g_loss = training.generator_step()
    loss_D, loss_G = gan_step(G, a_net, opt_G, opt_D, real, z1, z2)
    assert abs(loss_D.item() - d_loss.item()) < TOL
    assert abs(loss_G.item() - g_loss.item()) < TOL
    assert_same([*G.parameters()], [*model.generator.parameters()])
    assert_same([*a_net.parameters()], [*model.discriminator.parameters()])


def test_gan_fit_step_is_the_plain_step_with_r1_and_ema():
    """``_Training.step`` (what ``fit`` loops) is the plain step with fit's extras: the R1
    penalty γ/2·E‖∇_x a(x)‖² added to the discriminator's loss (γ = r1 at step 0) and the
    moving average of the generator's weights updated afterwards."""
    seed, n, k, width, batch, gamma, decay = 9, 200, 2, 16, 64, 0.1, 0.99
    model, G, a_net, training, real, (z1, z2), (opt_G, opt_D) = gan_pair(
        seed, n, k, width, batch, r1=gamma, ema=decay
    )
    ema_before = [p.detach().clone() for p in model.generator_ema.parameters()]
    with default_float64(), torch.random.fork_rng():
        torch.manual_seed(seed)
        losses = training.step(0)
    softplus = nn.functional.softplus
    x = real.clone().requires_grad_(True)
    a_real = a_net(x)
    (grad_x,) = torch.autograd.grad(a_real.sum(), x, create_graph=True)
    loss_D = softplus(-a_real).mean() + softplus(a_net(G(z1).detach())).mean()
    opt_D.zero_grad()
    (loss_D + gamma / 2 * grad_x.pow(2).sum(1).mean()).backward()
    opt_D.step()
    loss_G = softplus(-a_net(G(z2))).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    assert abs(loss_D.item() - losses["D"].item()) < TOL
    assert abs(loss_G.item() - losses["G"].item()) < TOL
    assert_same([*G.parameters()], [*model.generator.parameters()])
    assert_same([*a_net.parameters()], [*model.discriminator.parameters()])
    ema = [decay * e + (1 - decay) * p for e, p in zip(ema_before, G.parameters(), strict=True)]
    assert_same(ema, [p.detach() for p in model.generator_ema.parameters()])


def test_vae_fit_step_warms_the_kl_weight_up():
    """With warm-up (fit's default), step i weighs the KL term by (i + 1) / ramp."""
    seed, n, d, k, width, steps = 4, 300, 2, 2, 8, 3000
    h = models.merge_hyper(vae.DEFAULTS, {"hidden": (width, width)})
    h["batch_size"] = 128
    ramp = int(h["warmup"] * steps)
    x_all = data.moons(n, seed=seed).to(F64)
    model = vae.VAE(d, latent_dim=k, hidden=[width, width]).to(F64)
    perturb(model, seed, 0.1)
    encoder = plain_mlp([d, width, width, 2 * k], nn.SiLU)
    decoder = plain_mlp([k, width, width, d], nn.SiLU)
    encoder.load_state_dict(model.encoder.state_dict())
    decoder.load_state_dict(model.decoder.state_dict())
    log_sigma_x = nn.Parameter(model.log_obs_std.detach().clone())
    run = models.FitRun(steps, seed, torch.device("cpu"), False, x_all, torch.Generator())
    run.generator.manual_seed(seed)
    step = vae._training_step(model, x_all, None, h, run)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        step(0)
        torch.manual_seed(seed)
        eps = torch.randn(1, 128, k, dtype=F64)[0]
    x = x_all[torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:128]]
    mu, log_sigma = encoder(x).chunk(2, dim=1)
    sigma = log_sigma.clamp(-9, 4).exp()
    r = (x - decoder(mu + sigma * eps)) / log_sigma_x.exp()
    log_lik = (-0.5 * math.log(2 * math.pi) - log_sigma_x - 0.5 * r**2).sum(1)
    kl = 0.5 * (mu**2 + sigma**2 - 1 - 2 * sigma.log()).sum(1)
    mine = [*encoder.parameters(), *decoder.parameters(), log_sigma_x]
    opt = torch.optim.Adam(mine, lr=h["lr"])
    opt.zero_grad()
    (-log_lik.mean() + kl.mean() / ramp).backward()
    opt.step()
    assert_same(mine, [*model.encoder.parameters(), *model.decoder.parameters(), model.log_obs_std])


def test_gan_losses_against_probability_form():
    """softplus forms against −log D(x) − log(1 − D(G(z))) and −log D(G(z)), D = sigmoid(a)."""
    g = torch.Generator().manual_seed(1)
    a_real, a_fake = (
        torch.randn(50, generator=g, dtype=F64),
        torch.randn(50, generator=g, dtype=F64),
    )
    softplus = nn.functional.softplus
    d_plain = softplus(-a_real).mean() + softplus(a_fake).mean()
    d_ref = -(torch.sigmoid(a_real).log().mean() + (1 - torch.sigmoid(a_fake)).log().mean())
    assert abs(d_plain.item() - d_ref.item()) < TOL
    g_ref = -torch.sigmoid(a_fake).log().mean()
    assert abs(softplus(-a_fake).mean().item() - g_ref.item()) < TOL


# -- flows --------------------------------------------------------------------------------------
def coupling(net, x, keep):
    """The chapter's affine coupling: x[:, keep] passes, the other coordinate moves."""
    x_a, x_b = x[:, keep : keep + 1], x[:, 1 - keep : 2 - keep]
    raw, t = net(x_a).chunk(2, dim=1)
    s = 3 * torch.tanh(raw / 3)
    y_b = x_b * torch.exp(s) + t
    y = torch.cat([x_a, y_b], 1) if keep == 0 else torch.cat([y_b, x_a], 1)
    return y, s.sum(1)


def flow_nll(nets, x):
    z, log_det = x, 0
    for k, net in enumerate(nets):
        z, ld = coupling(net, z, keep=k % 2)
        log_det = log_det + ld
    log_pz = -0.5 * (z**2).sum(1) - math.log(2 * math.pi)
    return -(log_pz + log_det).mean()


def flow_pair(seed: int, layers: int = 3, width: int = 12):
    model = flows.Flow(dim=2, layers=layers, hidden=width, depth=2, kind="realnvp").to(F64)
    perturb(model, seed)
    nets = nn.ModuleList(plain_mlp([1, width, width, 2], nn.ReLU) for _ in range(layers))
    for net, layer in zip(nets, model.layers, strict=True):
        net.load_state_dict(layer.net.state_dict())
    return model, nets


def test_flow_step_matches_public_nll_and_adam():
    seed = 4
    model, nets = flow_pair(seed)
    x = data.moons(128, seed=seed).to(F64)
    theirs = flows.nll(model, x)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    opt.zero_grad()
    theirs.backward()
    opt.step()
    mine = flow_nll(nets, x)
    opt = torch.optim.Adam(nets.parameters(), lr=5e-3)
    opt.zero_grad()
    mine.backward()
    opt.step()
    assert abs(mine.item() - theirs.item()) < TOL
    assert_same([*nets.parameters()], [*model.parameters()])


def test_flow_log_det_against_autograd():
    """The coupling's log|det J| against the log-determinant of its autograd Jacobian."""
    _, nets = flow_pair(6, layers=1)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(6), dtype=F64)
    _, ld = coupling(nets[0], x, keep=1)
    for i in range(5):
        J = torch.autograd.functional.jacobian(lambda v: coupling(nets[0], v[None], 1)[0][0], x[i])
        assert abs(torch.linalg.slogdet(J)[1].item() - ld[i].item()) < TOL


def test_flow_first_fit_step_is_the_plain_step():
    """The first step of ``flows.fit`` (float32) is the plain step on its first batch."""
    seed, n, batch, width, lr = 1, 300, 100, 12, 5e-3
    x_all = data.moons(n, seed=seed)
    hyper = dict(kind="realnvp", layers=2, hidden=width, depth=2, lr=lr, batch_size=batch)
    fitted = flows.fit(x_all, steps=1, seed=seed, progress=False, device="cpu", **hyper)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # fit builds its model right after seeding
        start = flows.Flow(dim=2, layers=2, hidden=width, depth=2, kind="realnvp", seed=seed)
    nets = nn.ModuleList(plain_mlp([1, width, width, 2], nn.ReLU).float() for _ in range(2))
    for net, layer in zip(nets, start.layers, strict=True):
        net.load_state_dict(layer.net.state_dict())
    rows = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]
    loss = flow_nll(nets, x_all[rows])
    opt = torch.optim.Adam(nets.parameters(), lr=lr)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert abs(loss.item() - fitted.history[0]["nll"]) < 1e-5
    for a, b in zip(nets.parameters(), fitted.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)


# -- diffusion ----------------------------------------------------------------------------------
BETAS = torch.linspace(1e-4, 0.02, 1000, dtype=F64)
ALPHA_BAR = torch.cumprod(1 - BETAS, 0)


def l_simple(net, x0, t, eps):
    """The chapter's L_simple on a batch with its t and ε given."""
    ab = ALPHA_BAR[t - 1].to(x0.dtype)[:, None]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    return ((eps - net(xt, t)) ** 2).sum(1).mean()


def ancestral_step(net, x, t, z):
    """The chapter's x_t → x_{t−1} with σ_t² = β̃_t (no noise at t = 1)."""
    b, ab = BETAS[t - 1], ALPHA_BAR[t - 1]
    ab_prev = ALPHA_BAR[t - 2] if t > 1 else torch.tensor(1.0, dtype=F64)
    eps_hat = net(x, torch.full((x.shape[0],), t))
    mean = (x - b / (1 - ab).sqrt() * eps_hat) / (1 - b).sqrt()
    sigma = ((1 - ab_prev) / (1 - ab) * b).sqrt()
    return mean + sigma * z


def float64_diffusion(seed: int, hidden: int = 16) -> diffusion.DiffusionModel:
    """A perturbed DiffusionModel in float64 (its sinusoidal time features, computed in float32,
    are cast to float64 on their way into the network)."""
    model = diffusion.DiffusionModel(dim=2, hidden=hidden).to(F64)
    model.net.time.register_forward_pre_hook(lambda _, args: (args[0].to(F64),))
    perturb(model, seed, 0.1)
    return model


def test_diffusion_step_matches_loss_simple_and_adam():
    seed, n = 7, 128
    model = float64_diffusion(seed)
    x0 = data.ring(n, seed=seed).to(F64)
    net = float64_diffusion(seed + 1).net
    net.load_state_dict(model.net.state_dict())
    with default_float64():
        theirs = model.loss_simple(x0, generator=torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(1, 1001, (n,), generator=g)
    eps = torch.randn(n, 2, generator=g, dtype=F64)
    mine = l_simple(net, x0, t, eps)
    assert abs(mine.item() - theirs.item()) < TOL
    for params, loss in ((model.parameters(), theirs), (net.parameters(), mine)):
        opt = torch.optim.Adam(params, lr=2e-3)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert_same([*net.parameters()], [*model.net.parameters()])


def test_diffusion_ancestral_step_matches_ddpm_step():
    seed = 8
    model = float64_diffusion(seed)
    g = torch.Generator().manual_seed(seed)
    x, z = torch.randn(50, 2, generator=g, dtype=F64), torch.randn(50, 2, generator=g, dtype=F64)
    with torch.no_grad():
        for t in (1000, 500, 2, 1):
            tt = torch.full((50,), t)
            theirs = model.noise.ddpm_step(x, t, model.eps(x, tt), noise=z)
            mine = ancestral_step(model.net, x, t, z)
            assert (mine - theirs).abs().max().item() < TOL, t
            # the schedule against the companion's tables
            assert abs(ALPHA_BAR[t - 1].item() - model.noise.alpha_bar(t).item()) < TOL


def test_diffusion_first_fit_step_is_the_plain_step():
    """The first step of ``diffusion.fit`` (float32) is the plain step on its first batch, with
    t and ε drawn by the run's generator after the batch order."""
    seed, n, batch, hidden = 2, 300, 100, 16
    x_all = data.ring(n, seed=seed)
    fitted = diffusion.fit(
        x_all, steps=1, seed=seed, progress=False, device="cpu", hidden=hidden, batch_size=batch
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = diffusion.DiffusionModel(dim=2, hidden=hidden).net
    g = torch.Generator().manual_seed(seed)
    rows = torch.randperm(n, generator=g)[:batch]
    t = torch.randint(1, 1001, (batch,), generator=g)
    eps = torch.randn(batch, 2, generator=g)
    shift = x_all.mean(0)
    scale = (x_all - shift).pow(2).mean().sqrt()
    loss = l_simple(net, (x_all[rows] - shift) / scale, t, eps)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert abs(loss.item() - fitted.history[0]["L_simple"]) < 1e-5
    for a, b in zip(net.parameters(), fitted.net.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)
