"""Network components and losses, written from their equations.

The appendix "Network components and losses" states each formula; this module implements it in a
few lines of plain tensor code so that a reader can compare the two, and the tests compare every
function with its :mod:`torch.nn.functional` counterpart (or, for the focal loss, which PyTorch
does not ship, with a direct formula evaluated independently).

Contents
--------
* **Activations** :data:`ACTIVATIONS` — name → ``(f, f')`` with hand-written derivatives.
* **Softmax** with a temperature, its log, and its entropy.
* **Attention** (scaled dot-product, optional boolean or causal mask) and **layer norm**.
* **Convolution**: true convolution and cross-correlation of 1-D signals, circular convolution
  (the convolution theorem), the layer PyTorch calls ``conv1d``/``conv2d`` (a cross-correlation
  with stride, zero padding and dilation), pooling, output sizes, receptive fields and
  parameter counts.
* **Recurrent cells** (Elman RNN, LSTM, GRU, with PyTorch's weight layout) and the norms of the
  Jacobians ``∂h_t/∂h_0`` behind exploding and vanishing gradients.
* **Losses**: binary cross-entropy (on probabilities and on logits), cross-entropy, mean squared
  error, focal loss (binary and multi-class).

Conventions
-----------
* Logarithms are natural (losses in nats).
* ``temperature`` divides the logits: ``softmax(z / T)``.
* Boolean attention masks mark the key positions a query **may** attend to (``True`` = keep), as
  in :func:`torch.nn.functional.scaled_dot_product_attention`.
* "conv" layers compute a cross-correlation, as every deep-learning library does; the true
  convolution flips the kernel (see :func:`convolve1d`).
* Losses average over all elements (``reduction="mean"``) unless ``reduction="sum"`` or
  ``"none"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._validate import (
    check_choice,
    check_dim,
    check_int,
    check_interval,
    check_real,
    check_same_shape,
    check_tensor,
)

__all__ = [
    "ACTIVATIONS",
    "activation",
    "activation_derivative",
    "softmax",
    "log_softmax",
    "softmax_entropy",
    "scaled_dot_product_attention",
    "causal_mask",
    "layer_norm",
    "convolve1d",
    "cross_correlate1d",
    "circular_convolve",
    "fft_circular_convolve",
    "conv1d",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "conv_output_size",
    "receptive_field",
    "conv2d_param_count",
    "dense_param_count",
    "locally_connected_param_count",
    "rnn_cell",
    "lstm_cell",
    "gru_cell",
    "recurrent_jacobian_norms",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "mse_loss",
    "focal_loss",
    "focal_loss_multiclass",
    "focal_batch",
    "positive_loss_share",
    "recurrent_setup",
]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# -- activations -----------------------------------------------------------------------------------
def _sigmoid(x: Tensor) -> Tensor:
    # 1 / (1 + e^{-x}) without overflow for large negative x
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x: Tensor) -> Tensor:
    # log(1 + e^x) = max(x, 0) + log(1 + e^{-|x|})
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def _phi(x: Tensor) -> Tensor:
    return 0.5 * (1 + torch.erf(x / _SQRT2))


LEAKY_SLOPE = 0.01

#: name → (f, f'). Derivatives at kinks follow PyTorch's autograd: ReLU'(0) = 0, leaky ReLU'(0) =
#: the negative slope.
ACTIVATIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "relu": (
        lambda x: torch.where(x > 0, x, torch.zeros_like(x)),
        lambda x: (x > 0).to(x.dtype),
    ),
    "leaky_relu": (
        lambda x: torch.where(x > 0, x, LEAKY_SLOPE * x),
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE)),
    ),
    "elu": (
        lambda x: torch.where(x > 0, x, torch.expm1(torch.clamp(x, max=0))),
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(torch.clamp(x, max=0))),
    ),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
    "softplus": (_softplus, _sigmoid),
    "gelu": (
        lambda x: x * _phi(x),
        lambda x: _phi(x) + x * _INV_SQRT_2PI * torch.exp(-0.5 * x**2),
    ),
    "silu": (
        lambda x: x * _sigmoid(x),
        lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
    ),
}


def _check_activation(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a string; got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return name


def activation(name: str, x: Tensor) -> Tensor:
    """Apply the activation ``name`` (a key of :data:`ACTIVATIONS`) elementwise."""
    name = _check_activation(name)
    return ACTIVATIONS[name][0](check_tensor(x, "x"))


def activation_derivative(name: str, x: Tensor) -> Tensor:
    """The derivative of activation ``name`` at ``x``, from its hand-written formula."""
    name = _check_activation(name)
    return ACTIVATIONS[name][1](check_tensor(x, "x"))


# -- softmax ---------------------------------------------------------------------------------------
def _temperature(t: object) -> float:
    return check_real(t, "temperature", positive=True)


def log_softmax(z: Tensor, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """``log softmax(z / T)`` along ``dim``, stable for large logits (eq-comp-softmax)."""
    z = check_tensor(z, "z", min_ndim=1)
    dim = check_dim(dim, z)
    s = z / _temperature(temperature)
    s = s - s.amax(dim=dim, keepdim=True).detach()
    return s - torch.log(torch.exp(s).sum(dim=dim, keepdim=True))


def softmax(z: Tensor, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """``exp(z_i / T) / sum_j exp(z_j / T)`` along ``dim`` (eq-comp-softmax).

    Subtracting the maximum first changes nothing mathematically and avoids overflow.
    """
    return torch.exp(log_softmax(z, temperature, dim))


def softmax_entropy(z: Tensor, temperature: float = 1.0, dim: int = -1) -> Tensor:
    """Entropy (nats) of ``softmax(z / T)``; it grows with ``T`` from 0 towards ``log K``."""
    lp = log_softmax(z, temperature, dim)
    p = torch.exp(lp)
    return -(p * lp).nan_to_num(0.0).sum(dim=dim)


# -- attention and layer norm ----------------------------------------------------------------------
def causal_mask(n_queries: int, n_keys: int | None = None, *, device=None) -> Tensor:
    """Boolean ``(n_queries, n_keys)`` mask, ``True`` where key ``j <= i`` (no peeking ahead)."""
    n_queries = check_int(n_queries, "n_queries")
    n_keys = n_queries if n_keys is None else check_int(n_keys, "n_keys")
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    *,
    causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``softmax(Q K^T / sqrt(d_k)) V`` (eq-comp-attention); returns ``(output, weights)``.

    Shapes: ``q (..., n, d_k)``, ``k (..., m, d_k)``, ``v (..., m, d_v)``; output
    ``(..., n, d_v)``, weights ``(..., n, m)`` (each row a probability vector). ``mask`` is a
    boolean tensor broadcastable to ``(..., n, m)`` with ``True`` where attending is allowed;
    ``causal=True`` adds :func:`causal_mask`. Every query must be allowed at least one key.
    """
    q = check_tensor(q, "q", min_ndim=2)
    k = check_tensor(k, "k", min_ndim=2)
    v = check_tensor(v, "v", min_ndim=2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k need the same last dimension d_k; got {q.shape[-1]} and {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v need the same number of rows (keys); got {k.shape[-2]} and {v.shape[-2]}"
        )
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be True or False; got {causal!r}")
    d_k = q.shape[-1]
    s = 1.0 / math.sqrt(d_k) if scale is None else check_real(scale, "scale")
    scores = (q @ k.transpose(-2, -1)) * s
    keep = None
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a boolean tensor (True = may attend)")
        keep = mask
    if causal:
        cm = causal_mask(q.shape[-2], k.shape[-2], device=q.device)
        keep = cm if keep is None else keep & cm
    if keep is not None:
        try:
            scores = scores.masked_fill(~keep, float("-inf"))
        except RuntimeError:
            raise ValueError(
                f"mask of shape {tuple(keep.shape)} does not broadcast to the scores' shape "
                f"{tuple(scores.shape)}"
            ) from None
        if (~keep).all(dim=-1).any():
            raise ValueError("every query must be allowed to attend to at least one key")
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def layer_norm(
    x: Tensor,
    normalized_dims: int = 1,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """``γ (x − μ) / sqrt(σ² + ε) + β`` over the last ``normalized_dims`` dims (eq-comp-layernorm).

    ``σ²`` is the *biased* variance (divide by H, not H − 1), as in PyTorch. ``weight`` (γ) and
    ``bias`` (β) have the shape of the normalised dims; ``None`` means 1 and 0.
    """
    x = check_tensor(x, "x", min_ndim=1)
    nd = check_int(normalized_dims, "normalized_dims")
    if nd > x.ndim:
        raise ValueError(f"normalized_dims={nd} exceeds x's {x.ndim} dimensions")
    eps = check_real(eps, "eps", low=0)
    dims = tuple(range(-nd, 0))
    mu = x.mean(dim=dims, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=dims, keepdim=True)
    y = (x - mu) / torch.sqrt(var + eps)
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None:
            check_tensor(t, name)
            if tuple(t.shape) != tuple(x.shape[-nd:]):
                raise ValueError(
                    f"{name} must have shape {tuple(x.shape[-nd:])}; got {tuple(t.shape)}"
                )
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# -- convolution -----------------------------------------------------------------------------------
def convolve1d(f: Tensor, h: Tensor) -> Tensor:
    """Full linear convolution ``(f * h)[u] = sum_t f[t] h[u − t]`` of two 1-D signals.

    Length ``len(f) + len(h) − 1`` (indices where the sum has at least one term), as
    :func:`numpy.convolve` with ``mode="full"``. Commutative.
    """
    f = check_tensor(f, "f", ndim=1)
    h = check_tensor(h, "h", ndim=1)
    n, m = f.shape[0], h.shape[0]
    out = f.new_zeros(n + m - 1)
    for t in range(m):  # the shorter loop would do as well; the sum is the definition
        out[t : t + n] = out[t : t + n] + h[t] * f
    return out


def cross_correlate1d(f: Tensor, h: Tensor) -> Tensor:
    """Valid cross-correlation ``(h ⋆ f)[u] = sum_t h[t] f[u + t]``, ``u = 0 .. len(f) − len(h)``.

    This is what a "convolutional" layer computes; it equals the convolution with the flipped
    kernel ``h[::-1]`` (restricted to full overlaps).
    """
    f = check_tensor(f, "f", ndim=1)
    h = check_tensor(h, "h", ndim=1)
    n, m = f.shape[0], h.shape[0]
    if m > n:
        raise ValueError(f"the kernel (length {m}) is longer than the signal (length {n})")
    out = f.new_zeros(n - m + 1)
    for t in range(m):
        out = out + h[t] * f[t : t + n - m + 1]
    return out


def circular_convolve(f: Tensor, h: Tensor) -> Tensor:
    """Circular convolution ``y[u] = sum_t f[t] h[(u − t) mod n]`` of two length-n signals, by
    the definition (O(n²)); :func:`fft_circular_convolve` is the same thing in O(n log n)."""
    f = check_tensor(f, "f", ndim=1)
    h = check_tensor(h, "h", ndim=1)
    if f.shape != h.shape:
        raise ValueError(f"f and h need the same length; got {f.shape[0]} and {h.shape[0]}")
    n = f.shape[0]
    u = torch.arange(n, device=f.device)
    idx = (u[:, None] - u[None, :]) % n  # idx[u, t] = (u - t) mod n
    return (h[idx] * f[None, :]).sum(dim=1)


def fft_circular_convolve(f: Tensor, h: Tensor) -> Tensor:
    """The convolution theorem: ``f ⊛ h = F⁻¹(F f · F h)`` for the discrete Fourier transform."""
    f = check_tensor(f, "f", ndim=1)
    h = check_tensor(h, "h", ndim=1)
    if f.shape != h.shape:
        raise ValueError(f"f and h need the same length; got {f.shape[0]} and {h.shape[0]}")
    return torch.fft.irfft(torch.fft.rfft(f) * torch.fft.rfft(h), n=f.shape[0])


def _pair(v: object, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an integer or a pair; got {v!r}")
        return check_int(v[0], name, minimum=minimum), check_int(v[1], name, minimum=minimum)
    v = check_int(v, name, minimum=minimum)
    return v, v


def conv_output_size(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """``floor((L + 2p − d(k − 1) − 1) / s) + 1``: outputs of a conv (or pool) along one axis."""
    length = check_int(length, "length")
    k = check_int(kernel_size, "kernel_size")
    s = check_int(stride, "stride")
    p = check_int(padding, "padding", minimum=0)
    d = check_int(dilation, "dilation")
    span = d * (k - 1) + 1
    if length + 2 * p < span:
        raise ValueError(
            f"the dilated kernel spans {span} positions but the padded input has only "
            f"{length + 2 * p}"
        )
    return (length + 2 * p - span) // s + 1


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> Tensor:
    """A 1-D convolutional layer (a cross-correlation, eq-comp-conv-layer).

    ``y[n, o, i] = b[o] + sum_c sum_j w[o, c, j] x_pad[n, c, i s + j d]``; shapes
    ``x (N, C_in, L)``, ``weight (C_out, C_in, k)``, output ``(N, C_out, L_out)``.
    """
    x = check_tensor(x, "x", ndim=3)
    weight = check_tensor(weight, "weight", ndim=3)
    return conv2d(
        x[:, :, None, :],
        weight[:, :, None, :],
        bias,
        stride=(1, stride),
        padding=(0, padding),
        dilation=(1, dilation),
    )[:, :, 0, :]


def _windows(x: Tensor, kh: int, kw: int, s, d) -> tuple[list, int, int]:
    """The strided slices x[..., i s + a d, j s + b d] for every kernel tap (a, b)."""
    h_out = (x.shape[-2] - d[0] * (kh - 1) - 1) // s[0] + 1
    w_out = (x.shape[-1] - d[1] * (kw - 1) - 1) // s[1] + 1
    taps = []
    for a in range(kh):
        for b in range(kw):
            r0, c0 = a * d[0], b * d[1]
            taps.append(
                (
                    a,
                    b,
                    x[
                        ...,
                        r0 : r0 + s[0] * (h_out - 1) + 1 : s[0],
                        c0 : c0 + s[1] * (w_out - 1) + 1 : s[1],
                    ],
                )
            )
    return taps, h_out, w_out


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
) -> Tensor:
    """A 2-D convolutional layer (a cross-correlation with stride, zero padding and dilation).

    ``y[n, o, i, j] = b[o] + sum_{c,a,b} w[o, c, a, b] x_pad[n, c, i s + a d, j s + b d]``;
    shapes ``x (N, C_in, H, W)``, ``weight (C_out, C_in, kh, kw)``. Written as one sum per
    kernel tap, which is the equation read left to right.
    """
    x = check_tensor(x, "x", ndim=4)
    weight = check_tensor(weight, "weight", ndim=4)
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} channels but weight expects {weight.shape[1]} (dim 1)"
        )
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    kh, kw = weight.shape[-2:]
    for axis in (0, 1):
        conv_output_size(x.shape[2 + axis], (kh, kw)[axis], s[axis], p[axis], d[axis])
    xp = torch.nn.functional.pad(x, (p[1], p[1], p[0], p[0]))
    taps, h_out, w_out = _windows(xp, kh, kw, s, d)
    out = x.new_zeros(x.shape[0], weight.shape[0], h_out, w_out)
    for a, b, window in taps:
        out = out + torch.einsum("oc,nchw->nohw", weight[:, :, a, b], window)
    if bias is not None:
        bias = check_tensor(bias, "bias", ndim=1)
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias needs {weight.shape[0]} entries; got {bias.shape[0]}")
        out = out + bias[None, :, None, None]
    return out


def _pool(x: Tensor, kernel_size, stride, reduce: str) -> Tensor:
    x = check_tensor(x, "x", min_ndim=2)
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    for axis in (0, 1):
        conv_output_size(x.shape[-2 + axis], k[axis], s[axis])
    taps, _, _ = _windows(x, k[0], k[1], s, (1, 1))
    stacked = torch.stack([w for _, _, w in taps])
    return stacked.amax(dim=0) if reduce == "max" else stacked.mean(dim=0)


def max_pool2d(x: Tensor, kernel_size, stride=None) -> Tensor:
    """``y[i, j] = max_{0 <= a, b < k} x[i s + a, j s + b]`` over the last two dims (stride
    defaults to the kernel size: non-overlapping windows)."""
    return _pool(x, kernel_size, stride, "max")


def avg_pool2d(x: Tensor, kernel_size, stride=None) -> Tensor:
    """Like :func:`max_pool2d` with the mean of each window."""
    return _pool(x, kernel_size, stride, "mean")


def receptive_field(
    kernel_sizes: Sequence[int],
    strides: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
) -> int:
    """Receptive field (in input positions) of one unit after a stack of conv/pool layers.

    ``r = 1 + sum_l d_l (k_l − 1) prod_{m < l} s_m`` (eq-comp-receptive-field).
    """
    if not isinstance(kernel_sizes, (list, tuple)) or len(kernel_sizes) == 0:
        raise ValueError("kernel_sizes must be a non-empty list of integers")
    n = len(kernel_sizes)
    strides = [1] * n if strides is None else list(strides)
    dilations = [1] * n if dilations is None else list(dilations)
    if len(strides) != n or len(dilations) != n:
        raise ValueError("kernel_sizes, strides and dilations need the same length")
    r, jump = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations, strict=True):
        k, s, d = check_int(k, "kernel size"), check_int(s, "stride"), check_int(d, "dilation")
        r += d * (k - 1) * jump
        jump *= s
    return r


def conv2d_param_count(channels: int, kernel: tuple[int, int], filters: int) -> int:
    """Parameters of a conv layer with ``filters`` kernels of size ``p × q × c``: ``K(pqc + 1)``."""
    c, k = check_int(channels, "channels"), check_int(filters, "filters")
    p, q = _pair(kernel, "kernel", 1)
    return k * (p * q * c + 1)


def dense_param_count(n_in: int, n_out: int) -> int:
    """Weights and biases of a fully connected layer: ``(n_in + 1) n_out``."""
    return (check_int(n_in, "n_in") + 1) * check_int(n_out, "n_out")


def locally_connected_param_count(
    image: tuple[int, int, int], kernel: tuple[int, int], filters: int
) -> int:
    """A layer wired like a valid, stride-1 conv but with no weight sharing:
    ``(pqc + 1) (m − p + 1)(n − q + 1) K`` (every output unit has its own weights and bias)."""
    if not isinstance(image, (list, tuple)) or len(image) != 3:
        raise ValueError(f"image must be (height, width, channels); got {image!r}")
    m, n, c = (check_int(v, "image size") for v in image)
    p, q = _pair(kernel, "kernel", 1)
    k = check_int(filters, "filters")
    return (p * q * c + 1) * conv_output_size(m, p) * conv_output_size(n, q) * k


# -- recurrent cells -------------------------------------------------------------------------------
def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    y = x @ w.T
    return y if b is None else y + b


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh") -> Tensor:
    """Elman RNN step ``h' = φ(W_ih x + b_ih + W_hh h + b_hh)`` (eq-comp-rnn), φ = tanh or relu.

    Shapes as :class:`torch.nn.RNNCell`: ``x (N, in)``, ``h (N, hidden)``, ``w_ih (hidden, in)``,
    ``w_hh (hidden, hidden)``.
    """
    for t, name in ((x, "x"), (h, "h"), (w_ih, "w_ih"), (w_hh, "w_hh")):
        check_tensor(t, name, ndim=2)
    check_choice(nonlinearity, "nonlinearity", ("tanh", "relu"))
    a = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return torch.tanh(a) if nonlinearity == "tanh" else a.clamp(min=0)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple[Tensor, Tensor]:
    """One LSTM step (eq-comp-lstm); gates stacked as PyTorch does: input, forget, cell, output.

    ``i, f, o = σ(·)``, ``g = tanh(·)``, ``c' = f ⊙ c + i ⊙ g``, ``h' = o ⊙ tanh(c')``.
    """
    for t, name in ((x, "x"), (h, "h"), (c, "c"), (w_ih, "w_ih"), (w_hh, "w_hh")):
        check_tensor(t, name, ndim=2)
    gates = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_new = _sigmoid(f) * c + _sigmoid(i) * torch.tanh(g)
    return _sigmoid(o) * torch.tanh(c_new), c_new


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """One GRU step (eq-comp-gru), PyTorch's layout (reset, update, new):

    ``r, u = σ(·)``, ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``,
    ``h' = (1 − u) ⊙ n + u ⊙ h`` — here the *update* gate ``u`` keeps the old state.
    """
    for t, name in ((x, "x"), (h, "h"), (w_ih, "w_ih"), (w_hh, "w_hh")):
        check_tensor(t, name, ndim=2)
    gi = _linear(x, w_ih, b_ih)
    gh = _linear(h, w_hh, b_hh)
    ir, iu, i_n = gi.chunk(3, dim=-1)
    hr, hu, h_n = gh.chunk(3, dim=-1)
    r = _sigmoid(ir + hr)
    u = _sigmoid(iu + hu)
    n = torch.tanh(i_n + r * h_n)
    return (1 - u) * n + u * h


def recurrent_jacobian_norms(
    w_hh: Tensor, h0: Tensor, inputs: Tensor, nonlinearity: str = "tanh"
) -> Tensor:
    """Spectral norms ``‖∂h_t/∂h_0‖₂`` for ``t = 1..T`` of ``h_t = φ(W h_{t−1} + x_t)``.

    By the chain rule ``∂h_t/∂h_0 = prod_{s=t..1} diag(φ'(a_s)) W`` with ``a_s = W h_{s−1} + x_s``
    (eq-comp-bptt); ``nonlinearity="linear"`` drops the diagonal factors. ``inputs`` is ``(T, d)``
    (the input already multiplied by its weights), ``h0`` is ``(d,)``.
    """
    w_hh = check_tensor(w_hh, "w_hh", ndim=2)
    h0 = check_tensor(h0, "h0", ndim=1)
    inputs = check_tensor(inputs, "inputs", ndim=2)
    d = h0.shape[0]
    if w_hh.shape != (d, d) or inputs.shape[1] != d:
        raise ValueError(
            f"need w_hh (d, d), h0 (d,), inputs (T, d) with one d; got {tuple(w_hh.shape)}, "
            f"{tuple(h0.shape)}, {tuple(inputs.shape)}"
        )
    check_choice(nonlinearity, "nonlinearity", ("tanh", "linear"))
    jac = torch.eye(d, dtype=h0.dtype, device=h0.device)
    h, jacs = h0, []
    for x in inputs:
        a = w_hh @ h + x
        if nonlinearity == "tanh":
            h = torch.tanh(a)
            step = (1 - h**2)[:, None] * w_hh
        else:
            h = a
            step = w_hh
        jac = step @ jac
        jacs.append(jac)
    return torch.linalg.matrix_norm(torch.stack(jacs), ord=2)  # one batched SVD


# -- losses ----------------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    check_choice(reduction, "reduction", _REDUCTIONS)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _check_pair(pred: Tensor, target: Tensor, pname: str) -> None:
    check_same_shape(check_tensor(pred, pname), check_tensor(target, "target"), pname, "target")


def binary_cross_entropy(p: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``−[y log p + (1 − y) log(1 − p)]`` for probabilities ``p`` (eq-comp-bce).

    Each log is clamped below at −100, as PyTorch does, so ``p = 0`` or ``1`` gives a finite
    (huge) loss instead of ``inf``. Prefer :func:`binary_cross_entropy_with_logits`.
    """
    _check_pair(p, target, "p")
    check_interval(p, "p", 0.0, 1.0)
    check_interval(target, "target", 0.0, 1.0)
    log_p = torch.log(p).clamp(min=-100)
    log_1mp = torch.log1p(-p).clamp(min=-100)
    return _reduce(-(target * log_p + (1 - target) * log_1mp), reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Tensor, reduction: str = "mean"
) -> Tensor:
    """BCE of ``p = σ(ℓ)`` written stably: ``max(ℓ, 0) − ℓ y + log(1 + e^{−|ℓ|})``."""
    _check_pair(logits, target, "logits")
    check_interval(target, "target", 0.0, 1.0)
    loss = logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))
    return _reduce(loss, reduction)


def _check_classes(logits: Tensor, target: Tensor) -> None:
    check_tensor(logits, "logits", ndim=2)
    if not isinstance(target, Tensor) or target.dtype not in (torch.int64, torch.int32):
        raise TypeError("target must be an integer tensor of class indices (torch.long)")
    if target.shape != logits.shape[:1]:
        raise ValueError(
            f"target must have shape ({logits.shape[0]},) for logits of shape "
            f"{tuple(logits.shape)}; got {tuple(target.shape)}"
        )
    if ((target < 0) | (target >= logits.shape[1])).any():
        raise ValueError(f"class indices must lie in [0, {logits.shape[1] - 1}]")


def cross_entropy(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``−log softmax(ℓ)_y`` (eq-comp-ce): logits ``(N, C)``, integer targets ``(N,)``."""
    _check_classes(logits, target)
    lp = log_softmax(logits, dim=-1)
    return _reduce(-lp.gather(1, target[:, None].long())[:, 0], reduction)


def mse_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``(pred − target)²`` averaged (eq-comp-mse)."""
    _check_pair(pred, target, "pred")
    return _reduce((pred - target) ** 2, reduction)


def _gamma(gamma: object) -> float:
    return check_real(gamma, "gamma", low=0)


def focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary focal loss ``−α_t (1 − p_t)^γ log p_t`` (eq-comp-focal), ``p = σ(logits)``.

    ``p_t = p`` where the target is 1 and ``1 − p`` where it is 0; ``α_t = α`` or ``1 − α``
    likewise (``alpha=None``: no weighting). With ``γ = 0`` and no ``α`` it is the binary
    cross-entropy. ``log p_t`` is computed from the logits, so the loss stays finite.
    """
    _check_pair(logits, target, "logits")
    check_interval(target, "target", 0.0, 1.0)
    gamma = _gamma(gamma)
    # log p_t = -BCE with logits; for soft targets this interpolates the two cases.
    log_pt = -(logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs())))
    pt = torch.exp(log_pt)
    loss = -((1 - pt).clamp(min=0) ** gamma) * log_pt
    if alpha is not None:
        alpha = check_real(alpha, "alpha")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return _reduce(loss, reduction)


def focal_loss_multiclass(
    logits: Tensor, target: Tensor, gamma: float = 2.0, reduction: str = "mean"
) -> Tensor:
    """Multi-class focal loss ``−(1 − p_y)^γ log p_y`` with ``p = softmax(logits)``; γ = 0 gives
    :func:`cross_entropy`."""
    _check_classes(logits, target)
    gamma = _gamma(gamma)
    log_py = log_softmax(logits, dim=-1).gather(1, target[:, None].long())[:, 0]
    return _reduce(-((1 - torch.exp(log_py)).clamp(min=0) ** gamma) * log_py, reduction)


# == moved from explore/components.py ==


def focal_batch(n_easy: int = 990, n_hard: int = 10) -> tuple[Tensor, Tensor]:
    """An imbalanced batch as logits and binary targets: many easy, confidently right negatives
    (``p_t = 0.95``) and a few hard positives the model gets wrong (``p_t = 0.3``)."""
    n_easy, n_hard = check_int(n_easy, "n_easy"), check_int(n_hard, "n_hard")
    easy = torch.full((n_easy,), -math.log(0.95 / 0.05), dtype=torch.float64)  # σ(ℓ) = 0.05
    hard = torch.full((n_hard,), math.log(0.3 / 0.7), dtype=torch.float64)  # σ(ℓ) = 0.3
    logits = torch.cat([easy, hard])
    target = torch.cat([torch.zeros(n_easy, dtype=torch.float64), torch.ones(n_hard)])
    return logits, target.to(torch.float64)


def positive_loss_share(logits: Tensor, target: Tensor, gamma: float) -> float:
    """The share of a batch's summed focal loss (:func:`focal_loss`, ``gamma = 0``: the
    cross-entropy) that comes from its positive examples (``target == 1``)."""
    per = focal_loss(logits, target, gamma=gamma, reduction="none")
    return float(per[target == 1].sum() / per.sum())


def recurrent_setup(d: int = 16, steps: int = 60, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """A random orthogonal ``Q`` (so ``W = s Q`` has spectral norm ``s``), a start state and
    ``steps`` small random inputs, all ``d``-dimensional, float64, from a private generator."""
    d, steps = check_int(d, "d"), check_int(steps, "steps")
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    h0 = 0.5 * torch.randn(d, generator=gen, dtype=torch.float64)
    inputs = 0.3 * torch.randn(steps, d, generator=gen, dtype=torch.float64)
    return q, h0, inputs


# -- the U-Net: a denoiser for images (eq-comp-unet-params) ----------------------------------------
class _UNetBlock(torch.nn.Module):
    """``SiLU(GroupNorm(conv3×3(x)) + Linear(temb))``: a 3×3 convolution with zero padding
    (shape-preserving), group normalisation, the time embedding added per channel, then SiLU."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = torch.nn.GroupNorm(groups, c_out)
        self.time = torch.nn.Linear(emb_dim, c_out)

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.norm(self.conv(x)) + self.time(temb)[:, :, None, None]
        return torch.nn.functional.silu(h)


class TinyUNet(torch.nn.Module):
    """A two-level U-Net ``ε_θ(x_t, t)`` for ``(N, channels, H, W)`` images, ``H, W`` divisible
    by 4 (e.g. 8×8 digits), with ``N`` integer diffusion steps ``t``.

    Down path: block (``base`` channels, full size) → 2×2 average pool → block (``2·base``,
    half size) → pool → bottleneck block (``4·base``, quarter size). Up path: nearest-neighbour
    upsampling ×2, **concatenation** with the down-path features of the same size (the skip
    connections), a block; twice; then a 1×1 convolution back to ``channels``. The step ``t``
    enters through the sinusoidal embedding of :func:`companion.diffusion.timestep_embedding`
    and a two-layer MLP, added to every block. ``skips=(True, False)`` in :meth:`forward`
    replaces the second skip by zeros (to see what a skip carries).
    """

    def __init__(self, channels: int = 1, base: int = 16, emb_dim: int = 32, groups: int = 4):
        super().__init__()
        c, b = check_int(channels, "channels"), check_int(base, "base")
        e, g = check_int(emb_dim, "emb_dim", minimum=2), check_int(groups, "groups")
        if e % 2 or b % g:
            raise ValueError(f"emb_dim must be even and groups must divide base; got {e}, {g}")
        self.channels, self.emb_dim = c, e
        self.time = torch.nn.Sequential(
            torch.nn.Linear(e, e), torch.nn.SiLU(), torch.nn.Linear(e, e)
        )
        self.down1 = _UNetBlock(c, b, e, g)
        self.down2 = _UNetBlock(b, 2 * b, e, g)
        self.mid = _UNetBlock(2 * b, 4 * b, e, g)
        self.up2 = _UNetBlock(4 * b + 2 * b, 2 * b, e, g)
        self.up1 = _UNetBlock(2 * b + b, b, e, g)
        self.out = torch.nn.Conv2d(b, c, 1)

    def _check(self, x: object, t: object) -> None:
        x = check_tensor(x, "x", ndim=4)
        if x.shape[1] != self.channels:
            raise ValueError(f"x must have {self.channels} channel(s); got shape {tuple(x.shape)}")
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"image height and width must be multiples of 4; got {x.shape[2:]}")
        if not isinstance(t, Tensor) or t.is_floating_point() or t.dtype == torch.bool:
            raise TypeError("t must be an integer tensor of diffusion steps, one per image")
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape ({x.shape[0]},); got {tuple(t.shape)}")
        if t.device != x.device:
            raise ValueError(f"x is on {x.device} but t on {t.device}")

    def levels(self, x: Tensor, t: Tensor, skips: tuple[bool, bool] = (True, True)) -> dict:
        """Every intermediate feature map by name (``"input"`` … ``"output"``), in order."""
        from .diffusion import timestep_embedding

        self._check(x, t)
        if not (isinstance(skips, tuple) and len(skips) == 2):
            raise TypeError(f"skips must be a tuple of two bools; got {skips!r}")
        temb = self.time(timestep_embedding(t, self.emb_dim).to(x.dtype))
        pool, up = torch.nn.functional.avg_pool2d, torch.nn.functional.interpolate
        f = {"input": x, "down1": self.down1(x, temb)}
        f["down2"] = self.down2(pool(f["down1"], 2), temb)
        f["bottleneck"] = self.mid(pool(f["down2"], 2), temb)
        s2 = f["down2"] if skips[1] else torch.zeros_like(f["down2"])
        f["up2"] = self.up2(torch.cat([up(f["bottleneck"], scale_factor=2.0), s2], 1), temb)
        s1 = f["down1"] if skips[0] else torch.zeros_like(f["down1"])
        f["up1"] = self.up1(torch.cat([up(f["up2"], scale_factor=2.0), s1], 1), temb)
        f["output"] = self.out(f["up1"])
        return f

    def forward(self, x: Tensor, t: Tensor, skips: tuple[bool, bool] = (True, True)) -> Tensor:
        """The predicted noise, the same shape as ``x``."""
        return self.levels(x, t, skips)["output"]


__all__ += ["TinyUNet"]
