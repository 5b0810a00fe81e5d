"""companion.data (toy sets, mode metrics) and companion.models (save/load, training loop)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from companion import data, models


def test_shapes_dtypes_and_seeds():
    assert data.moons(7, seed=0).shape == (7, 2)
    assert data.ring(9, seed=0).dtype == torch.float32
    assert torch.equal(data.grid(50, seed=3), data.grid(50, seed=3))
    assert not torch.equal(data.ring(50, seed=1), data.ring(50, seed=2))
    x, t = data.swiss_roll(20, seed=0)
    assert x.shape == (20, 3) and t.shape == (20,)
    assert data.moons(4, seed=0, dtype=torch.float64).dtype == torch.float64


def test_swiss_roll_parameter_is_the_spiral_position():
    # sklearn's roll: x = t cos t, z = t sin t (no noise), so the radius in the (x, z) plane is t.
    x, t = data.swiss_roll(200, seed=0, dtype=torch.float64)
    assert torch.allclose(torch.hypot(x[:, 0], x[:, 2]), t, atol=1e-12)


def test_digits_are_bundled_and_scaled():
    images, labels = data.digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert set(labels.tolist()) == set(range(10))


def test_mixture_statistics_match_their_parameters():
    centers = data.ring_centers(8, 2.0, dtype=torch.float64)
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    pts = data.ring(20000, std=0.1, seed=0, dtype=torch.float64)
    nearest = torch.cdist(pts, centers).argmin(dim=1)
    resid = pts - centers[nearest]
    # per-coordinate std 0.1 within ~4 standard errors (se of a sample std ≈ σ/√(2n))
    assert abs(float(resid.std()) - 0.1) < 4 * 0.1 / math.sqrt(2 * resid.numel())
    counts = torch.bincount(nearest, minlength=8).double()
    assert float((counts / 20000 - 1 / 8).abs().max()) < 4 * math.sqrt(1 / 8 * 7 / 8 / 20000)
    g = data.grid_centers(5, 2.0)
    assert sorted(set(g[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_mode_coverage_counts_modes_and_quality():
    centers = data.ring_centers()
    real = data.ring(2500, seed=0)
    modes, quality = data.mode_coverage(real, centers, 0.02)
    assert modes == 8 and quality > 0.98  # 3σ in 2-D holds 98.9 % of a Gaussian's mass
    collapsed = centers[:1].repeat(100, 1)
    assert data.mode_coverage(collapsed, centers, 0.02) == (1, 1.0)
    far = torch.zeros(10, 2)
    assert data.mode_coverage(far, centers, 0.02) == (0, 0.0)


def _at_modes(counts: dict[int, int], n: int, offset: float = 0.05) -> torch.Tensor:
    """``counts[k]`` points at distance ``offset`` from ring mode ``k``, the other points of the
    ``n`` at the origin (2 away from every mode: low quality)."""
    centers = data.ring_centers().double()
    rows = [
        centers[k] + torch.tensor([0.0, offset], dtype=torch.float64)
        for k, c in counts.items()
        for _ in range(c)
    ]
    rows += [torch.zeros(2, dtype=torch.float64)] * (n - len(rows))
    return torch.stack(rows)


def test_mode_coverage_pacgan_convention_counts_at_the_boundary():
    # PacGAN: a mode is covered by >= 20 high-quality samples of 2 500 (a share of 0.008)
    centers = data.ring_centers()
    x = _at_modes({0: 20, 1: 19, 2: 25, 3: 1}, 2500)
    assert data.PACGAN_MIN_SHARE * 2500 == pytest.approx(20)
    assert data.mode_coverage(x, centers, 0.02) == (2, 65 / 2500)  # modes 0 and 2, not 1 or 3
    # the older convention (one high-quality sample suffices) and an absolute count
    assert data.mode_coverage(x, centers, 0.02, min_share=0.0) == (4, 65 / 2500)
    assert data.mode_coverage(x, centers, 0.02, min_share=0.0, min_count=25) == (1, 65 / 2500)
    # the share scales with the number of samples: 16 of 2 000 count, 15 do not
    y = _at_modes({4: 16, 5: 15}, 2000)
    assert data.mode_coverage(y, centers, 0.02)[0] == 1
    # a point beyond 3σ = 0.06 of its mode is not high quality, so it does not count either
    z = torch.cat([_at_modes({6: 19}, 19), _at_modes({6: 1}, 2481, offset=0.07)])
    assert data.mode_coverage(z, centers, 0.02) == (0, 19 / 2500)
    assert data.mode_coverage(z, centers, 0.02, threshold=4.0) == (1, 20 / 2500)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: data.moons(0), ValueError),
        (lambda: data.moons(5, noise=-1), ValueError),
        (lambda: data.moons(5, seed=1.5), TypeError),
        (lambda: data.ring(5, modes=0), ValueError),
        (lambda: data.grid(5, spacing=0), ValueError),
        (lambda: data.ring(5, dtype=torch.int64), TypeError),
        (lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 3), 0.1), ValueError),
        (lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 2), 0.0), ValueError),
        (
            lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 2), 0.1, min_share=-0.1),
            ValueError,
        ),
        (
            lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 2), 0.1, min_share=1.5),
            ValueError,
        ),
        (
            lambda: data.mode_coverage(
                torch.zeros(3, 2), torch.zeros(3, 2), 0.1, min_share=float("nan")
            ),
            ValueError,
        ),
        (
            lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 2), 0.1, min_share="1%"),
            TypeError,
        ),
        (
            lambda: data.mode_coverage(torch.zeros(3, 2), torch.zeros(3, 2), 0.1, min_count=0),
            ValueError,
        ),
    ],
)
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()


class _Line(models.GenerativeModel):
    family = "test-line"

    def __init__(self, dim: int = 2, scale: float = 1.0):
        super().__init__(dim=dim, scale=scale)
        self.shift = nn.Parameter(torch.zeros(dim))

    def sample(self, n):
        return self.shift + self.config["scale"] * torch.randn(
            n, self.config["dim"], device=self.device
        )


def test_save_load_round_trip(tmp_path):
    model = _Line(dim=3, scale=0.5)
    with torch.no_grad():
        model.shift.copy_(torch.tensor([1.0, 2.0, 3.0]))
    target = torch.tensor([1.0, -1.0, 0.5])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(i):
        opt.zero_grad()
        loss = ((model.shift - target) ** 2).sum()
        loss.backward()
        opt.step()
        return {"loss": loss.detach()}

    history = models.train(step, 50, model=model, progress=False, log_every=10)
    assert [row["step"] for row in history] == [0, 10, 20, 30, 40, 49]
    assert history[-1]["loss"] < history[0]["loss"]
    path = model.save(tmp_path / "line.pt")
    blob = torch.load(path, weights_only=True)
    assert blob["family"] == "test-line" and blob["config"] == {"dim": 3, "scale": 0.5}
    again = _Line.load(path, device="cpu", sha256=models.file_sha256(path))
    assert torch.equal(again.shift, model.shift) and again.config == model.config
    assert again.history == model.history
    with pytest.raises(ValueError, match="SHA-256"):
        _Line.load(path, sha256="0" * 64)


def test_training_stops_on_nan_and_bad_args():
    with pytest.raises(FloatingPointError, match="step 0"):
        models.train(lambda i: {"loss": float("nan")}, 5, progress=False)
    with pytest.raises(ValueError):
        models.prepare_data(torch.zeros(1, 2))
    with pytest.raises(TypeError):
        models.prepare_data([[0.0, 1.0]])
    with pytest.raises(ValueError):
        models.prepare_data(torch.zeros(5, 3), dim=2)
    with pytest.raises(TypeError):
        models.check_fit_args(10, 0, "yes", 100)


def test_batches_cover_every_row_once_per_pass():
    x = torch.arange(10.0).unsqueeze(1)
    it = models.batches(x, 5, torch.Generator().manual_seed(0))
    seen = torch.cat([next(it), next(it)]).squeeze(1)
    assert sorted(seen.tolist()) == list(range(10))


def test_pretrain_registry_and_missing_checkpoint():
    from companion import pretrain

    assert isinstance(pretrain.registry(), dict)
    with pytest.raises(FileNotFoundError, match="companion.pretrain"):
        models.load_pretrained("no_such_model", _Line)
    with pytest.raises(ValueError):
        models.checkpoint_path("../evil")


# -- the fit preamble's helpers -------------------------------------------------------------------
def test_prepare_data_refuses_float64_beyond_float32_range():
    fine = torch.tensor([[3e38, 0.0], [-3e38, 1.0]], dtype=torch.float64)
    assert torch.isfinite(models.prepare_data(fine, device="cpu")).all()
    too_big = torch.tensor([[1e39, 0.0], [0.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="too large for float32"):
        models.prepare_data(too_big, device="cpu")
    with pytest.raises(ValueError, match="NaN"):
        models.prepare_data(torch.tensor([[0.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="empty"):
        models.prepare_data(torch.empty(0, 2))


def test_check_fit_args_bounds_the_number_of_steps():
    assert models.check_fit_args(None, 0, False, 123) == 123
    assert models.check_fit_args(models.MAX_STEPS, 0, False, 1) == models.MAX_STEPS
    with pytest.raises(ValueError, match="steps must be <="):
        models.check_fit_args(models.MAX_STEPS + 1, 0, False, 1)
    with pytest.raises(ValueError, match="seed"):
        models.check_fit_args(1, -1, False, 1)


def test_prepare_tokens():
    tokens = torch.tensor([[0, 1], [2, 3]])
    assert torch.equal(models.prepare_tokens(tokens, device="cpu"), tokens)
    with pytest.raises(TypeError, match="int64"):
        models.prepare_tokens(tokens.float())
    with pytest.raises(ValueError, match="at least 2 rows"):
        models.prepare_tokens(tokens[:1])
    with pytest.raises(ValueError, match=">= 0"):
        models.prepare_tokens(-tokens)


def test_merge_hyper_and_check_labels():
    assert models.merge_hyper({"steps": 5, "lr": 1.0}, {"lr": 2.0}) == {"lr": 2.0}
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        models.merge_hyper({"steps": 5, "lr": 1.0}, {"steps": 3})
    assert models.check_labels(None, 3, "cpu") == (None, 0)
    labels, n_classes = models.check_labels(torch.tensor([0, 4, 1]), 3, "cpu")
    assert n_classes == 5 and labels.tolist() == [0, 4, 1]
    with pytest.raises(ValueError, match="one entry per row"):
        models.check_labels(torch.tensor([0, 1]), 3, "cpu")
    with pytest.raises(TypeError, match="int64"):
        models.check_labels(torch.tensor([0.0, 1.0, 2.0]), 3, "cpu")
    with pytest.raises(ValueError, match="lr must be > 0"):
        models.check_lr(0.0)


def test_batch_indices_are_permutations_from_the_generator():
    it = models.batch_indices(10, 4, torch.Generator().manual_seed(0))
    first_pass = torch.cat([next(it), next(it)])  # 10 // 4 = 2 batches, the tail of 2 dropped
    assert first_pass.dtype == torch.int64 and len(set(first_pass.tolist())) == 8
    reference = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(first_pass, reference[:8])
    assert torch.equal(next(it), torch.randperm(10, generator=_gen_after_one_perm())[:4])


def _gen_after_one_perm() -> torch.Generator:
    gen = torch.Generator().manual_seed(0)
    torch.randperm(10, generator=gen)
    return gen


def test_gaussian_log_prob_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    mean = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    log_sigma = 0.3 * torch.randn(7, 3, generator=gen, dtype=torch.float64)
    ref = torch.distributions.Normal(mean, log_sigma.exp()).log_prob(x).sum(-1)
    assert torch.allclose(models.gaussian_log_prob(x, mean, log_sigma), ref, rtol=1e-12)
    std = torch.distributions.Normal(0.0, 1.0).log_prob(x).sum(-1)
    assert torch.allclose(models.gaussian_log_prob(x), std, rtol=1e-12)
    assert torch.allclose(models.gaussian_log_prob(x, standardized=True), std, rtol=1e-12)
    eps = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    z = mean + log_sigma.exp() * eps
    ref_q = torch.distributions.Normal(mean, log_sigma.exp()).log_prob(z).sum(-1)
    got_q = models.gaussian_log_prob(eps, log_sigma=log_sigma, standardized=True)
    assert torch.allclose(got_q, ref_q, rtol=1e-12)
    shifted = torch.distributions.Normal(mean, 1.0).log_prob(x).sum(-1)
    assert torch.allclose(models.gaussian_log_prob(x, mean), shifted, rtol=1e-12)
