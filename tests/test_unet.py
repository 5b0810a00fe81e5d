"""companion.components.TinyUNet: shapes, a hand-counted parameter total, skips, gradients and
argument checks."""

from __future__ import annotations

import pytest
import torch

from companion import components as cp

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def conv(c_in: int, c_out: int, k: int) -> int:  # k×k kernels and one bias per output channel
    return c_out * (c_in * k * k + 1)


def linear(n_in: int, n_out: int) -> int:
    return n_out * (n_in + 1)


def group_norm(c: int) -> int:  # a scale and a shift per channel
    return 2 * c


def hand_count(channels: int, base: int, emb: int) -> int:
    def block(c_in, c_out):
        return conv(c_in, c_out, 3) + group_norm(c_out) + linear(emb, c_out)

    b = base
    return (
        2 * linear(emb, emb)  # the time MLP
        + block(channels, b)
        + block(b, 2 * b)
        + block(2 * b, 4 * b)  # bottleneck
        + block(4 * b + 2 * b, 2 * b)  # upsampled bottleneck ++ skip from level 2
        + block(2 * b + b, b)  # upsampled ++ skip from level 1
        + conv(b, channels, 1)
    )


@pytest.mark.parametrize(("channels", "base", "emb"), [(1, 16, 32), (3, 8, 16), (2, 4, 8)])
def test_parameter_count_by_hand(channels, base, emb):
    model = cp.TinyUNet(channels, base, emb, groups=4)
    assert sum(p.numel() for p in model.parameters()) == hand_count(channels, base, emb)
    if (channels, base, emb) == (1, 16, 32):
        assert hand_count(1, 16, 32) == 65_633  # the number the chapter quotes


@pytest.mark.parametrize("batch", [1, 2, 7])
@pytest.mark.parametrize("size", [(8, 8), (16, 16), (4, 12)])
def test_output_shape_equals_input_shape(batch, size):
    torch.manual_seed(0)
    model = cp.TinyUNet(1, 8, 16)
    x = torch.randn(batch, 1, *size)
    t = torch.randint(1, 1000, (batch,))
    levels = model.levels(x, t)
    assert levels["output"].shape == x.shape
    h, w = size
    assert levels["down1"].shape == (batch, 8, h, w)
    assert levels["down2"].shape == (batch, 16, h // 2, w // 2)
    assert levels["bottleneck"].shape == (batch, 32, h // 4, w // 4)
    assert levels["up2"].shape == (batch, 16, h // 2, w // 2)
    assert levels["up1"].shape == (batch, 8, h, w)
    assert torch.equal(model(x, t), levels["output"])


def test_skips_matter_and_time_matters():
    torch.manual_seed(1)
    model = cp.TinyUNet(1, 8, 16).double()
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    t = torch.tensor([1, 10, 100, 500])
    full = model(x, t)
    for skips in [(False, True), (True, False), (False, False)]:
        assert (model(x, t, skips=skips) - full).abs().max() > 1e-3, skips
    assert (model(x, t + 1) - full).abs().max() > 1e-6
    # Each image is processed on its own (GroupNorm normalises per sample): batching is harmless.
    single = torch.cat([model(x[i : i + 1], t[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(single, full, atol=1e-12, rtol=0)


def test_receptive_field_covers_the_image():
    torch.manual_seed(2)
    model = cp.TinyUNet(1, 8, 16).double()
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    model(x, torch.tensor([5]))[0, 0, 0, 0].backward()
    assert (x.grad != 0).all()  # one output pixel depends on every input pixel


def test_gradient_reaches_every_parameter():
    torch.manual_seed(3)
    model = cp.TinyUNet(1, 8, 16)
    x = torch.randn(3, 1, 8, 8)
    loss = (model(x, torch.tensor([1, 2, 3])) - x).pow(2).mean()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_bad_input_is_refused():
    model = cp.TinyUNet(1, 8, 16)
    t = torch.tensor([1, 2])
    with pytest.raises(ValueError, match="channel"):
        model(torch.randn(2, 3, 8, 8), t)
    with pytest.raises(ValueError, match="multiples of 4"):
        model(torch.randn(2, 1, 6, 8), t)
    with pytest.raises(ValueError, match="multiples of 4"):
        model(torch.randn(2, 1, 8, 9), t)
    with pytest.raises(ValueError, match="dimension"):
        model(torch.randn(2, 64), t)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        model(torch.randn(2, 1, 8, 8), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        model(torch.randn(2, 1, 8, 8), torch.tensor([[1], [2]]))
    with pytest.raises(TypeError, match="integer"):
        model(torch.randn(2, 1, 8, 8), torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model(torch.randn(2, 1, 8, 8).tolist(), t)
    with pytest.raises(TypeError, match="floating"):
        model(torch.zeros(2, 1, 8, 8, dtype=torch.long), t)
    with pytest.raises(ValueError, match="NaN"):
        model(torch.full((2, 1, 8, 8), float("nan")), t)
    with pytest.raises(TypeError, match="skips"):
        model(torch.randn(2, 1, 8, 8), t, skips=True)
    with pytest.raises(ValueError, match="groups"):
        cp.TinyUNet(1, 6, 16, groups=4)
    with pytest.raises(ValueError, match="even"):
        cp.TinyUNet(1, 8, 15)
    with pytest.raises(ValueError, match="channels"):
        cp.TinyUNet(0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda():
    model = cp.TinyUNet(1, 8, 16).to("cuda")
    x = torch.randn(2, 1, 8, 8, device="cuda")
    out = model(x, torch.tensor([1, 2], device="cuda"))
    assert out.shape == x.shape and out.device == x.device
