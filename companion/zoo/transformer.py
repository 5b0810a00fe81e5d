"""A tiny causal transformer trained on a second-order Markov chain."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._validate import check_int, check_iterations, check_real, check_tensor
from ..components import layer_norm, scaled_dot_product_attention
from ..models import GenerativeModel, batches, fit_run, merge_hyper
from ._common import _adam_fit


def _check_transition(p: object) -> Tensor:
    p = check_tensor(p, "transition", ndim=3)
    v = p.shape[0]
    if p.shape != (v, v, v):
        raise ValueError(f"transition must have shape (V, V, V); got {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(-1), torch.ones_like(p[..., 0]), atol=1e-6):
        raise ValueError("transition[a, b] must be a probability vector for every (a, b)")
    return p


def markov_sequences(transition: Tensor, n: int, length: int, seed: int = 0) -> Tensor:
    """``n`` int64 sequences of a second-order Markov chain, ``P(x_t = c | x_{t−2} = a,
    x_{t−1} = b) = transition[a, b, c]``, the first two symbols uniform; shape ``(n, length)``."""
    p = _check_transition(transition).double().cpu()  # drawn with a CPU generator
    n, length = check_int(n, "n"), check_int(length, "length", minimum=3)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    v = p.shape[0]
    x = torch.zeros(n, length, dtype=torch.int64)
    x[:, :2] = torch.randint(v, (n, 2), generator=gen)
    for t in range(2, length):
        probs = p[x[:, t - 2], x[:, t - 1]]
        x[:, t] = torch.multinomial(probs, 1, generator=gen)[:, 0]
    return x


def markov_entropy_rate(transition: Tensor) -> float:
    """Entropy rate (nats per symbol) of the second-order chain (eq-zoo-entropy-rate):
    ``sum_{a,b} π(a, b) H(transition[a, b])`` with ``π`` the stationary law of the pair chain
    ``(a, b) → (b, c)``."""
    p = _check_transition(transition).double().cpu()  # a small table: eigenvectors on the CPU
    v = p.shape[0]
    pair = torch.zeros(v * v, v * v, dtype=torch.float64)
    for a in range(v):
        for b in range(v):
            for c in range(v):
                pair[a * v + b, b * v + c] = p[a, b, c]
    evals, evecs = torch.linalg.eig(pair.T)
    k = int(torch.argmin((evals - 1).abs()))
    pi = evecs[:, k].real
    pi = pi / pi.sum()
    h = -(p * torch.log(p.clamp(min=1e-300))).sum(-1).flatten()
    return float((pi * h).sum())


class TinyTransformer(GenerativeModel):
    """One-block causal transformer language model (pre-norm, one head), written with
    :func:`companion.components.scaled_dot_product_attention` and
    :func:`companion.components.layer_norm`."""

    family = "zoo-transformer"

    def __init__(self, vocab: int = 3, context: int = 32, width: int = 32):
        super().__init__(vocab=vocab, context=context, width=width)
        v, c, w = (
            check_int(vocab, "vocab", minimum=2),
            check_int(context, "context"),
            check_int(width, "width"),
        )
        self.tok = nn.Embedding(v, w)
        self.pos = nn.Embedding(c, w)
        self.qkv = nn.Linear(w, 3 * w)
        self.proj = nn.Linear(w, w)
        self.mlp = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, w))
        self.ln = nn.ParameterList([nn.Parameter(torch.ones(w)) for _ in range(3)])
        self.ln_b = nn.ParameterList([nn.Parameter(torch.zeros(w)) for _ in range(3)])
        self.head = nn.Linear(w, v)
        self.vocab, self.context = v, c

    def forward(self, x: Tensor) -> Tensor:
        """Next-symbol logits ``(N, L, V)`` for int64 tokens ``(N, L)``, ``L <= context``."""
        if not isinstance(x, Tensor) or x.dtype != torch.int64 or x.ndim != 2:
            raise TypeError("x must be an int64 tensor of tokens, shape (N, L)")
        if x.shape[1] > self.context:
            raise ValueError(f"sequence length {x.shape[1]} exceeds the context {self.context}")
        if ((x < 0) | (x >= self.vocab)).any():
            raise ValueError(f"tokens must lie in [0, {self.vocab - 1}]")
        x = x.to(self.device)
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        q, k, v = self.qkv(layer_norm(h, 1, self.ln[0], self.ln_b[0])).chunk(3, dim=-1)
        h = h + self.proj(scaled_dot_product_attention(q, k, v, causal=True)[0])
        h = h + self.mlp(layer_norm(h, 1, self.ln[1], self.ln_b[1]))
        return self.head(layer_norm(h, 1, self.ln[2], self.ln_b[2]))

    def nll(self, x: Tensor, skip: int = 2) -> Tensor:
        """Mean next-symbol negative log-likelihood (nats) over positions ``>= skip``
        (``1 <= skip <= L - 1`` for sequences of length ``L``)."""
        if not isinstance(x, Tensor) or x.dtype != torch.int64 or x.ndim != 2 or x.shape[1] < 2:
            raise TypeError("x must be an int64 tensor of tokens, shape (N, L) with L >= 2")
        skip = check_int(skip, "skip", minimum=1, maximum=x.shape[1] - 1)
        logits = self(x[:, :-1])
        target = x[:, 1:].to(self.device)
        lp = torch.log_softmax(logits, dim=-1).gather(2, target[:, :, None])[:, :, 0]
        return -lp[:, skip - 1 :].mean()

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        length: int | None = None,
        temperature: float = 1.0,
        prompt: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Sample ``n`` sequences, each token from ``softmax(logits / temperature)``."""
        n = check_int(n, "n")
        length = self.context if length is None else check_iterations(length, "length")
        t = check_real(temperature, "temperature", positive=True)
        if prompt is None:
            x = torch.randint(self.vocab, (n, 1), generator=generator)
        else:
            x = prompt.expand(n, -1).clone().cpu()  # tokens are drawn on the CPU (generator)
        while x.shape[1] < length:
            logits = self(x[:, -self.context :].to(self.device))[:, -1].cpu() / t
            nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
            x = torch.cat([x, nxt], dim=1)
        return x.to(self.device)


#: Every default of :func:`fit_transformer`.
DEFAULTS: dict[str, object] = {
    # number of Adam steps
    "steps": 400,
    # vocabulary size (None: the largest token in the data + 1)
    "vocab": None,
    # width of the embeddings and of the attention block
    "width": 32,
    # Adam's learning rate (constant)
    "lr": 3e-3,
    # sequences per mini-batch (capped at the number of rows)
    "batch_size": 64,
}


def fit_transformer(
    data: Tensor,
    *,
    steps: int | None = None,
    seed: int = 0,
    device=None,
    progress: bool = True,
    **hyper,
) -> TinyTransformer:
    """Train a :class:`TinyTransformer` on int64 sequences ``(N, L + 1)`` by next-symbol
    cross-entropy (teacher forcing); hyper-parameters ``vocab`` (default: the largest token
    + 1), ``width``, ``lr``, ``batch_size`` (defaults in :data:`DEFAULTS`)."""
    h = merge_hyper(DEFAULTS, hyper)
    with fit_run(data, steps, seed, device, progress, DEFAULTS["steps"], tokens=True) as run:
        tokens = run.data
        vocab = h["vocab"]
        vocab = int(tokens.max()) + 1 if vocab is None else check_int(vocab, "vocab", minimum=2)
        model = TinyTransformer(vocab, tokens.shape[1] - 1, h["width"]).to(run.device)
        it = batches(tokens, h["batch_size"], run.generator)

        def loss_fn():
            return model.nll(next(it), skip=1)

        return _adam_fit(model, loss_fn, run, h["lr"], "transformer", "nll")
