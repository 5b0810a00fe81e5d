"""companion.components against torch.nn.functional (and NumPy/SciPy where PyTorch has none)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import FAST, t64
from hypothesis import given
from hypothesis import strategies as st
from scipy import signal

from companion import components as cp

TORCH_ACT = {
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda x: F.softplus(x, threshold=1000.0),  # torch returns x beyond 20
    "gelu": F.gelu,
    "silu": F.silu,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def rand(*shape, seed=0, scale=1.0):
    return t64(np.random.default_rng(seed).normal(size=shape) * scale)


# -- activations -----------------------------------------------------------------------------------
def test_every_activation_has_a_torch_reference():
    assert set(cp.ACTIVATIONS) == set(TORCH_ACT)


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_and_derivative_against_torch(name):
    x = torch.cat([torch.linspace(-30, 30, 2001, dtype=torch.float64), t64([0.0, -1e-9, 1e-9])])
    x.requires_grad_(True)
    y = TORCH_ACT[name](x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(cp.activation(name, x), y, rtol=0, atol=1e-12)
    torch.testing.assert_close(cp.activation_derivative(name, x), grad, rtol=0, atol=1e-12)


@given(st.floats(-50, 50))
@FAST
def test_sigmoid_derivative_bounded(v):
    assert cp.activation_derivative("sigmoid", t64([v])).item() <= 0.25 + 1e-15


def test_activation_bad_input():
    with pytest.raises(ValueError, match="unknown activation"):
        cp.activation("swish2", t64([1.0]))
    with pytest.raises(TypeError, match="string"):
        cp.activation(3, t64([1.0]))
    with pytest.raises(TypeError, match="floating"):
        cp.activation_derivative("relu", torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        cp.activation("relu", [1.0])


# -- softmax ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.01, 0.3, 1.0, 7.0])
def test_softmax_against_torch(temperature):
    z = rand(20, 9, scale=4)
    torch.testing.assert_close(
        cp.softmax(z, temperature), F.softmax(z / temperature, -1), rtol=0, atol=1e-14
    )
    torch.testing.assert_close(
        cp.log_softmax(z, temperature, dim=0), F.log_softmax(z / temperature, 0), rtol=0, atol=1e-11
    )


@given(
    st.lists(st.floats(-20, 20), min_size=2, max_size=8),
    st.floats(0.05, 5.0),
    st.floats(-100, 100),
)
@FAST
def test_softmax_shift_invariance_and_entropy_monotone(values, t, shift):
    z = t64(values)
    torch.testing.assert_close(cp.softmax(z + shift, t), cp.softmax(z, t), rtol=0, atol=1e-12)
    h1, h2 = cp.softmax_entropy(z, t), cp.softmax_entropy(z, 1.5 * t)
    assert h2 >= h1 - 1e-12
    assert h2 <= math.log(len(values)) + 1e-12


def test_softmax_huge_logits_and_bad_temperature():
    assert torch.isfinite(cp.softmax(t64([1e4, 0.0, -1e4]))).all()
    with pytest.raises(ValueError, match="temperature"):
        cp.softmax(t64([1.0, 2.0]), temperature=0.0)
    with pytest.raises(TypeError, match="temperature"):
        cp.softmax(t64([1.0, 2.0]), temperature="hot")
    with pytest.raises(ValueError, match="dimension"):
        cp.softmax(t64(1.0))


# -- attention and layer norm ----------------------------------------------------------------------
@pytest.mark.parametrize("case", ["plain", "causal", "mask", "mask+causal", "scale"])
def test_attention_against_torch(case):
    q, k, v = rand(2, 3, 6, 8, seed=1), rand(2, 3, 6, 8, seed=2), rand(2, 3, 6, 5, seed=3)
    mask = torch.from_numpy(np.random.default_rng(4).random((6, 6)) < 0.6) | torch.eye(
        6, dtype=torch.bool
    )
    ours_kw, ref_kw = {}, {}
    if case == "causal":
        ours_kw, ref_kw = {"causal": True}, {"is_causal": True}
    elif case == "mask":
        ours_kw, ref_kw = {"mask": mask}, {"attn_mask": mask}
    elif case == "mask+causal":
        both = mask & torch.ones(6, 6, dtype=torch.bool).tril()
        ours_kw, ref_kw = {"mask": mask, "causal": True}, {"attn_mask": both}
    elif case == "scale":
        ours_kw, ref_kw = {"scale": 0.7}, {"scale": 0.7}
    out, w = cp.scaled_dot_product_attention(q, k, v, **ours_kw)
    ref = F.scaled_dot_product_attention(q, k, v, **ref_kw)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(w.sum(-1), torch.ones_like(w[..., 0]))


def test_attention_rectangular_and_bad_input():
    q, k, v = rand(4, 8, seed=1), rand(7, 8, seed=2), rand(7, 3, seed=3)
    out, w = cp.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), rtol=0, atol=1e-12)
    assert w.shape == (4, 7)
    with pytest.raises(ValueError, match="d_k"):
        cp.scaled_dot_product_attention(rand(4, 5), k, v)
    with pytest.raises(ValueError, match="rows"):
        cp.scaled_dot_product_attention(q, k, rand(6, 3))
    with pytest.raises(TypeError, match="boolean"):
        cp.scaled_dot_product_attention(q, k, v, mask=torch.ones(4, 7))
    with pytest.raises(ValueError, match="at least one key"):
        cp.scaled_dot_product_attention(q, k, v, mask=torch.zeros(4, 7, dtype=torch.bool))
    with pytest.raises(ValueError, match="broadcast"):
        cp.scaled_dot_product_attention(q, k, v, mask=torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="causal"):
        cp.scaled_dot_product_attention(q, k, v, causal=1)


def test_causal_mask():
    m = cp.causal_mask(3, 4)
    assert m.tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
    ]
    with pytest.raises(ValueError):
        cp.causal_mask(0)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_layer_norm_against_torch(dims):
    x = rand(3, 4, 5, 6, scale=3)
    shape = tuple(x.shape[-dims:])
    w, b = rand(*shape, seed=5), rand(*shape, seed=6)
    for eps in (1e-5, 0.1):
        torch.testing.assert_close(
            cp.layer_norm(x, dims, w, b, eps), F.layer_norm(x, shape, w, b, eps), rtol=0, atol=1e-12
        )
    torch.testing.assert_close(cp.layer_norm(x, dims), F.layer_norm(x, shape), rtol=0, atol=1e-12)


@given(st.floats(0.1, 50), st.floats(-50, 50))
@FAST
def test_layer_norm_invariant_to_affine_input(scale, shift):
    x = rand(5, 16, seed=7)
    torch.testing.assert_close(
        cp.layer_norm(scale * x + shift, eps=0), cp.layer_norm(x, eps=0), rtol=0, atol=1e-9
    )


def test_layer_norm_bad_input():
    x = rand(3, 4)
    with pytest.raises(ValueError, match="exceeds"):
        cp.layer_norm(x, 3)
    with pytest.raises(ValueError, match="weight must have shape"):
        cp.layer_norm(x, 1, rand(5))
    with pytest.raises(ValueError, match="eps"):
        cp.layer_norm(x, eps=-1.0)


# -- convolution -----------------------------------------------------------------------------------
@given(st.integers(1, 30), st.integers(1, 8), st.integers(0, 1000))
@FAST
def test_convolve_and_correlate_against_numpy_scipy(n, m, seed):
    f, h = rand(n, seed=seed), rand(m, seed=seed + 1)
    np.testing.assert_allclose(
        cp.convolve1d(f, h).numpy(), np.convolve(f.numpy(), h.numpy()), atol=1e-12
    )
    torch.testing.assert_close(cp.convolve1d(f, h), cp.convolve1d(h, f), rtol=0, atol=1e-12)
    if m <= n:
        np.testing.assert_allclose(
            cp.cross_correlate1d(f, h).numpy(),
            signal.correlate(f.numpy(), h.numpy(), mode="valid"),
            atol=1e-12,
        )
        torch.testing.assert_close(
            cp.cross_correlate1d(f, h), F.conv1d(f[None, None], h[None, None])[0, 0]
        )


@given(st.integers(1, 64), st.integers(0, 1000))
@FAST
def test_convolution_theorem(n, seed):
    f, h = rand(n, seed=seed), rand(n, seed=seed + 7)
    direct = cp.circular_convolve(f, h)
    torch.testing.assert_close(direct, cp.fft_circular_convolve(f, h), rtol=0, atol=1e-10)
    # The theorem itself with NumPy's FFT: DFT(f ⊛ h) = DFT(f) · DFT(h).
    np.testing.assert_allclose(
        np.fft.fft(direct.numpy()), np.fft.fft(f.numpy()) * np.fft.fft(h.numpy()), atol=1e-9
    )


def test_circular_convolution_by_definition_small_case():
    # f = delta at 1 shifts h by one place (cyclically).
    f = t64([0.0, 1.0, 0.0, 0.0])
    h = t64([1.0, 2.0, 3.0, 4.0])
    assert cp.circular_convolve(f, h).tolist() == [4.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"),
    [(1, 0, 1), (2, 1, 1), (3, 2, 2), ((2, 1), (0, 2), (1, 3)), (1, (3, 0), 2)],
)
def test_conv2d_against_torch(stride, padding, dilation):
    x, w, b = rand(2, 3, 12, 13, seed=1), rand(4, 3, 3, 2, seed=2), rand(4, seed=3)
    torch.testing.assert_close(
        cp.conv2d(x, w, b, stride, padding, dilation),
        F.conv2d(x, w, b, stride, padding, dilation),
        rtol=0,
        atol=1e-12,
    )


@given(
    st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3), st.integers(10, 40)
)
@FAST
def test_conv1d_and_output_size_against_torch(k, s, p, d, length):
    x, w = rand(2, 3, length, seed=length), rand(5, 3, k, seed=k)
    if length + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="spans"):
            cp.conv_output_size(length, k, s, p, d)
        return
    ref = F.conv1d(x, w, None, s, p, d)
    torch.testing.assert_close(cp.conv1d(x, w, None, s, p, d), ref, rtol=0, atol=1e-12)
    assert cp.conv_output_size(length, k, s, p, d) == ref.shape[-1]


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_pooling_against_torch(kernel, stride):
    x = rand(2, 3, 11, 12, seed=9)
    assert torch.equal(cp.max_pool2d(x, kernel, stride), F.max_pool2d(x, kernel, stride))
    torch.testing.assert_close(
        cp.avg_pool2d(x, kernel, stride), F.avg_pool2d(x, kernel, stride), rtol=0, atol=1e-14
    )


def test_conv_bad_input():
    with pytest.raises(ValueError, match="channels"):
        cp.conv2d(rand(1, 2, 5, 5), rand(3, 4, 3, 3))
    with pytest.raises(ValueError, match="bias"):
        cp.conv2d(rand(1, 2, 5, 5), rand(3, 2, 3, 3), rand(4))
    with pytest.raises(ValueError, match="spans"):
        cp.conv2d(rand(1, 2, 2, 2), rand(3, 2, 3, 3))
    with pytest.raises(ValueError, match="longer"):
        cp.cross_correlate1d(rand(3), rand(5))
    with pytest.raises(ValueError, match="same length"):
        cp.circular_convolve(rand(3), rand(4))
    with pytest.raises(ValueError, match="same length"):
        cp.fft_circular_convolve(rand(3), rand(4))
    with pytest.raises(ValueError, match="stride"):
        cp.conv2d(rand(1, 2, 5, 5), rand(3, 2, 3, 3), stride=0)
    with pytest.raises(ValueError, match="pair"):
        cp.conv2d(rand(1, 2, 5, 5), rand(3, 2, 3, 3), padding=(1, 1, 1))
    with pytest.raises(ValueError, match="dimension"):
        cp.conv1d(rand(2, 5), rand(3, 2, 3))


def _measured_span(kernels, strides, dilations, length=300):
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in zip(kernels, strides, dilations, strict=True):
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, y.shape[-1] // 2].backward()
    idx = torch.nonzero(x.grad[0, 0]).flatten()
    return int(idx.max() - idx.min() + 1)


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4
    )
)
@FAST
def test_receptive_field_by_autograd(layers):
    ks, ss, ds = (list(t) for t in zip(*layers, strict=True))
    r = cp.receptive_field(ks, ss, ds)
    if r < 120:
        assert r == _measured_span(ks, ss, ds)


def test_receptive_field_known_values_and_bad_input():
    assert cp.receptive_field([3, 3]) == 5
    assert cp.receptive_field([2, 2, 2, 2], dilations=[1, 2, 4, 8]) == 16
    with pytest.raises(ValueError, match="non-empty"):
        cp.receptive_field([])
    with pytest.raises(ValueError, match="same length"):
        cp.receptive_field([3, 3], [1])


def test_parameter_counts_against_torch_modules():
    conv = torch.nn.Conv2d(3, 16, (5, 4))
    assert cp.conv2d_param_count(3, (5, 4), 16) == sum(p.numel() for p in conv.parameters())
    lin = torch.nn.Linear(30, 7)
    assert cp.dense_param_count(30, 7) == sum(p.numel() for p in lin.parameters())
    # Locally connected = one independent (p q c + 1)-parameter unit per conv output: count by
    # unfolding (each output position's patch) rather than by the formula.
    image = torch.zeros(1, 2, 7, 6)
    patches = F.unfold(image, (3, 2))  # (1, p q c, positions)
    per_unit = patches.shape[1] + 1
    assert cp.locally_connected_param_count((7, 6, 2), (3, 2), 4) == per_unit * patches.shape[2] * 4


# -- recurrent cells -------------------------------------------------------------------------------
def _weights(cell):
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_against_torch(nonlinearity):
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(4, 6, nonlinearity=nonlinearity).double()
    x, h = rand(5, 4), rand(5, 6, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(
            cp.rnn_cell(x, h, *_weights(cell), nonlinearity=nonlinearity), cell(x, h)
        )


def test_lstm_and_gru_cells_against_torch():
    torch.manual_seed(0)
    lstm, gru = torch.nn.LSTMCell(4, 6).double(), torch.nn.GRUCell(4, 6).double()
    x, h, c = rand(5, 4), rand(5, 6, seed=1), rand(5, 6, seed=2)
    with torch.no_grad():
        h1, c1 = cp.lstm_cell(x, h, c, *_weights(lstm))
        h_ref, c_ref = lstm(x, (h, c))
        torch.testing.assert_close(h1, h_ref)
        torch.testing.assert_close(c1, c_ref)
        torch.testing.assert_close(cp.gru_cell(x, h, *_weights(gru)), gru(x, h))
    with pytest.raises(ValueError, match="nonlinearity"):
        cp.rnn_cell(x, h, *_weights(torch.nn.RNNCell(4, 6).double()), nonlinearity="gelu")


@pytest.mark.parametrize("nonlinearity", ["tanh", "linear"])
def test_recurrent_jacobian_norms_against_autograd(nonlinearity):
    w, h0, xs = rand(5, 5, seed=3) * 0.6, rand(5, seed=4), rand(12, 5, seed=5)
    norms = cp.recurrent_jacobian_norms(w, h0, xs, nonlinearity)
    phi = torch.tanh if nonlinearity == "tanh" else (lambda a: a)
    for t in (1, 5, 12):

        def run(h, t=t):
            for x in xs[:t]:
                h = phi(w @ h + x)
            return h

        jac = torch.autograd.functional.jacobian(run, h0)
        assert norms[t - 1].item() == pytest.approx(torch.linalg.matrix_norm(jac, 2).item(), 1e-10)
    # The bound of eq-comp-bptt with gamma = 1.
    smax = torch.linalg.matrix_norm(w, 2).item()
    assert torch.all(norms <= t64([smax**t for t in range(1, 13)]) * (1 + 1e-9))


def test_recurrent_jacobian_bad_input():
    with pytest.raises(ValueError, match="one d"):
        cp.recurrent_jacobian_norms(rand(3, 3), rand(4), rand(5, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        cp.recurrent_jacobian_norms(rand(3, 3), rand(3), rand(5, 3), "relu")


# -- losses ----------------------------------------------------------------------------------------
@pytest.fixture
def binary():
    rng = np.random.default_rng(11)
    logits = t64(rng.normal(size=300) * 4)
    target = t64((rng.random(300) < 0.3).astype(float))
    soft = t64(rng.random(300))
    return logits, target, soft


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses_against_torch(binary, reduction):
    logits, target, soft = binary
    p = torch.sigmoid(logits)
    for y in (target, soft):
        torch.testing.assert_close(
            cp.binary_cross_entropy(p, y, reduction),
            F.binary_cross_entropy(p, y, reduction=reduction),
        )
        torch.testing.assert_close(
            cp.binary_cross_entropy_with_logits(logits, y, reduction),
            F.binary_cross_entropy_with_logits(logits, y, reduction=reduction),
        )
        torch.testing.assert_close(
            cp.mse_loss(p, y, reduction), F.mse_loss(p, y, reduction=reduction)
        )


def test_bce_clamps_like_torch_at_the_ends():
    p, y = t64([0.0, 1.0, 0.0, 1.0]), t64([1.0, 0.0, 0.0, 1.0])
    torch.testing.assert_close(
        cp.binary_cross_entropy(p, y, "none"), F.binary_cross_entropy(p, y, reduction="none")
    )
    big = cp.binary_cross_entropy_with_logits(t64([1000.0, -1000.0]), t64([0.0, 1.0]), "none")
    torch.testing.assert_close(big, t64([1000.0, 1000.0]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_against_torch(reduction):
    rng = np.random.default_rng(12)
    logits = t64(rng.normal(size=(50, 6)) * 5)
    target = torch.as_tensor(rng.integers(0, 6, 50))
    torch.testing.assert_close(
        cp.cross_entropy(logits, target, reduction),
        F.cross_entropy(logits, target, reduction=reduction),
    )


def _focal_numpy(logits, target, gamma, alpha):
    # Independent evaluation of eq-comp-focal for hard 0/1 targets.
    p = 1 / (1 + np.exp(-logits))
    pt = np.where(target == 1, p, 1 - p)
    at = 1.0 if alpha is None else np.where(target == 1, alpha, 1 - alpha)
    return -at * (1 - pt) ** gamma * np.log(pt)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
def test_focal_loss_against_direct_formula(binary, gamma, alpha):
    logits, target, _ = binary
    logits = logits.clamp(-15, 15)  # keep log p_t representable for the naive NumPy formula
    ours = cp.focal_loss(logits, target, gamma, alpha, reduction="none").numpy()
    np.testing.assert_allclose(
        ours, _focal_numpy(logits.numpy(), target.numpy(), gamma, alpha), rtol=1e-10, atol=1e-13
    )


def test_focal_reduces_to_cross_entropy(binary):
    logits, target, soft = binary
    for y in (target, soft):
        torch.testing.assert_close(
            cp.focal_loss(logits, y, gamma=0.0),
            F.binary_cross_entropy_with_logits(logits, y),
        )
    rng = np.random.default_rng(13)
    lc, tc = t64(rng.normal(size=(40, 5)) * 3), torch.as_tensor(rng.integers(0, 5, 40))
    torch.testing.assert_close(cp.focal_loss_multiclass(lc, tc, 0.0), F.cross_entropy(lc, tc))
    pc = torch.softmax(lc, -1).numpy()[np.arange(40), tc.numpy()]
    np.testing.assert_allclose(
        cp.focal_loss_multiclass(lc, tc, 2.0, reduction="none").numpy(),
        -((1 - pc) ** 2) * np.log(pc),
        rtol=1e-10,
    )


@given(st.floats(-20, 20), st.floats(0, 6))
@FAST
def test_focal_never_exceeds_cross_entropy(logit, gamma):
    x, y = t64([logit]), t64([1.0])
    assert cp.focal_loss(x, y, gamma) <= cp.binary_cross_entropy_with_logits(x, y) + 1e-12


def test_focal_gradient_formula():
    # d/dl of -(1-p)^g log p for target 1 is (1-p)^g (g p log p - (1-p)) (exercise in the book).
    for logit, g in ((0.7, 2.0), (-1.3, 0.5), (2.5, 3.0)):
        x = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
        cp.focal_loss(x, t64([1.0]), g).backward()
        p = 1 / (1 + math.exp(-logit))
        assert x.grad.item() == pytest.approx((1 - p) ** g * (g * p * math.log(p) - (1 - p)))


def test_loss_bad_input(binary):
    logits, target, _ = binary
    with pytest.raises(ValueError, match="same shape"):
        cp.mse_loss(logits, target[:-1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cp.binary_cross_entropy(logits, target)
    with pytest.raises(ValueError, match=r"target must lie"):
        cp.focal_loss(logits, target + 2)
    with pytest.raises(ValueError, match="gamma"):
        cp.focal_loss(logits, target, gamma=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        cp.focal_loss(logits, target, alpha=1.5)
    with pytest.raises(ValueError, match="reduction"):
        cp.mse_loss(logits, target, reduction="avg")
    with pytest.raises(TypeError, match="integer"):
        cp.cross_entropy(rand(4, 3), t64([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="class indices"):
        cp.cross_entropy(rand(4, 3), torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="shape"):
        cp.focal_loss_multiclass(rand(4, 3), torch.tensor([0, 1, 2]))


# == moved from explore/components.py ==


def test_focal_batch_and_positive_loss_share_against_the_formula():
    logits, target = cp.focal_batch()
    assert logits.shape == target.shape == (1000,) and int(target.sum()) == 10
    p = torch.sigmoid(logits)
    assert torch.allclose(p[:990], torch.full((990,), 0.05, dtype=torch.float64))
    assert torch.allclose(p[990:], torch.full((10,), 0.3, dtype=torch.float64))
    for gamma in (0.0, 2.0):
        easy = -(0.05**gamma) * math.log(0.95)  # p_t = 0.95 for the negatives
        hard = -(0.7**gamma) * math.log(0.3)  # p_t = 0.3 for the positives
        ref = 10 * hard / (10 * hard + 990 * easy)
        assert cp.positive_loss_share(logits, target, gamma) == pytest.approx(ref, rel=1e-12)


def test_recurrent_setup_is_orthogonal_and_seeded():
    q, h0, inputs = cp.recurrent_setup(d=8, steps=5, seed=2)
    assert torch.allclose(q.T @ q, torch.eye(8, dtype=torch.float64), atol=1e-12)
    assert h0.shape == (8,) and inputs.shape == (5, 8)
    again = cp.recurrent_setup(d=8, steps=5, seed=2)
    assert all(torch.equal(a, b) for a, b in zip((q, h0, inputs), again, strict=True))
