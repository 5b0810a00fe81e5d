"""Finite σ-algebras and the figures of the chapter "Measure theory".

The σ-algebra helpers work on finite sample spaces, where everything can be enumerated: a
σ-algebra is a set of ``frozenset`` events. The push-forward densities come from
:func:`companion.sampling.pushforward_density`; SciPy provides the reference cdfs.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Hashable, Iterable

import numpy as np
import plotly.graph_objects as go
import torch
from scipy import stats
from torch.distributions import Normal

from .. import sampling as smp
from .._validate import check_int, check_real
from ..figures import Choice, Slider, interactive
from ..theme import OKABE_ITO, side_by_side

__all__ = [
    "generated_sigma_algebra",
    "is_sigma_algebra",
    "is_measurable",
    "simple_function_integral",
    "lebesgue_figure",
    "lebesgue_explorer",
    "TRANSFORMS",
    "transform",
    "pushforward_figure",
    "pushforward_explorer",
    "relu_cdf",
    "mixed_cdf_figure",
    "mixed_cdf_explorer",
    "circle_kl",
]

F64 = torch.float64
_BLUE, _ORANGE, _GREEN, _SKY, _RED = (OKABE_ITO[i] for i in (0, 1, 2, 4, 5))

Event = frozenset


def _as_events(sets: Iterable[Iterable[Hashable]], name: str) -> list[frozenset]:
    if isinstance(sets, (str, bytes)) or not isinstance(sets, Iterable):
        raise TypeError(f"{name} must be a collection of sets")
    out = []
    for s in sets:
        if isinstance(s, (str, bytes)) or not isinstance(s, Iterable):
            raise TypeError(f"every member of {name} must be a set of outcomes; got {s!r}")
        out.append(frozenset(s))
    return out


def generated_sigma_algebra(omega: Iterable[Hashable], sets: Iterable[Iterable[Hashable]]):
    """The smallest σ-algebra on the finite set ``omega`` that contains every set in ``sets``.

    Its **atoms** are the non-empty intersections ``∩_i (A_i or its complement)``; they
    partition ``omega``, and the σ-algebra consists of all ``2^(number of atoms)`` unions of
    atoms. For a partition the atoms are its blocks.

    Returns
    -------
    set[frozenset]
        Every event of the σ-algebra (including ``frozenset()`` and ``omega``).
    """
    omega = frozenset(omega)
    if not omega:
        raise ValueError("omega must be a non-empty set")
    sets = _as_events(sets, "sets")
    for s in sets:
        if not s <= omega:
            raise ValueError(f"{set(s)} is not a subset of omega")
    atoms: set[frozenset] = {omega}
    for s in sets:
        atoms = {piece for a in atoms for piece in (a & s, a - s) if piece}
    atoms_l = sorted(atoms, key=lambda a: sorted(map(repr, a)))
    return {
        frozenset().union(*combo)
        for r in range(len(atoms_l) + 1)
        for combo in itertools.combinations(atoms_l, r)
    }


def is_sigma_algebra(omega: Iterable[Hashable], family: Iterable[Iterable[Hashable]]) -> bool:
    """Whether ``family`` is a σ-algebra on the finite set ``omega``: it contains ``omega``, and
    is closed under complements and (on a finite set, finite = countable) unions."""
    omega = frozenset(omega)
    fam = set(_as_events(family, "family"))
    if omega not in fam or any(not a <= omega for a in fam):
        return False
    if any(omega - a not in fam for a in fam):
        return False
    return all(a | b in fam for a in fam for b in fam)


def is_measurable(
    func: Callable[[Hashable], float] | dict,
    omega: Iterable[Hashable],
    family: Iterable[Iterable[Hashable]],
) -> bool:
    """Whether ``func: omega → R`` is measurable with respect to ``family`` (a σ-algebra on a
    finite ``omega``): every level set ``{ω : func(ω) = v}`` must be an event. On a finite space
    that is equivalent to ``func⁻¹(B) ∈ family`` for every Borel set ``B``, because such a
    pre-image is a union of level sets."""
    omega = frozenset(omega)
    fam = set(_as_events(family, "family"))
    if not is_sigma_algebra(omega, fam):
        raise ValueError("family is not a σ-algebra on omega")
    get = func.__getitem__ if isinstance(func, dict) else func
    if not callable(get):
        raise TypeError("func must be callable or a dict")
    values: dict = {}
    for w in omega:
        values.setdefault(get(w), set()).add(w)
    return all(frozenset(level) in fam for level in values.values())


# --- the Lebesgue integral ---------------------------------------------------------------------


def simple_function_integral(n: int) -> float:
    """``∫ φ_n dλ`` on [0, 1] for ``f(x) = 4x(1 − x)`` and ``φ_n = ⌊2ⁿ f⌋ / 2ⁿ``.

    Layer by layer ({eq}`eq-measure-simple-integral`): ``φ_n = Σ_k 2⁻ⁿ 1{f ≥ k 2⁻ⁿ}``, and the
    level sets of this ``f`` have the exact measure ``λ{f ≥ c} = √(1 − c)`` for ``c ∈ [0, 1]``,
    so ``∫ φ_n = Σ_{k=1}^{2ⁿ} 2⁻ⁿ √(1 − k 2⁻ⁿ)``, which increases to ``∫ f = 2/3``.
    """
    n = check_int(n, "n", minimum=0)
    k = np.arange(1, 2**n + 1)
    return float(np.sum(2.0**-n * np.sqrt(np.clip(1 - k * 2.0**-n, 0, None))))


_LX = np.linspace(0, 1, 1601)
_LF = 4 * _LX * (1 - _LX)


def lebesgue_figure(n: float) -> go.Figure:
    """f(x) = 4x(1 − x), its simple-function approximation from below with 2ⁿ levels, and the
    Riemann lower sum with 2ⁿ equal pieces of the domain, each with its integral."""
    n = round(check_real(n, "n"))
    if not 0 <= n <= 10:
        raise ValueError(f"n must lie in [0, 10]; got {n}")
    phi = np.floor(_LF * 2**n) / 2**n
    edges = np.linspace(0, 1, 2**n + 1)
    # f is unimodal, so its minimum over a cell is at one of the cell's ends.
    lows = np.minimum(4 * edges[:-1] * (1 - edges[:-1]), 4 * edges[1:] * (1 - edges[1:]))
    riemann = float(np.sum(lows) / 2**n)
    lebesgue = simple_function_integral(n)
    rx = np.repeat(edges, 2)[1:-1]
    ry = np.repeat(lows, 2)
    levels_y = [v for k in range(1, 2**n) for v in (k / 2**n, k / 2**n, None)]
    levels_x = [v for _ in range(1, 2**n) for v in (0.0, 1.0, None)]
    traces = [
        dict(
            type="scatter",
            x=levels_x,
            y=levels_y,
            mode="lines",
            name="levels k/2ⁿ",
            line=dict(color="rgba(128,128,128,0.35)", width=1),
        ),
        dict(
            type="scatter",
            x=np.float32(_LX),
            y=np.float32(phi),
            name="simple function φₙ",
            fill="tozeroy",
            line=dict(color=_BLUE, width=1.5, shape="hv"),
        ),
        dict(
            type="scatter",
            x=np.float32(rx),
            y=np.float32(ry),
            name="Riemann lower sum",
            line=dict(color=_ORANGE, dash="dot", width=1.5),
        ),
        dict(
            type="scatter",
            x=np.float32(_LX),
            y=np.float32(_LF),
            name="f(x) = 4x(1 − x)",
            line=dict(color=_RED, width=2.5),
        ),
    ]
    layout = dict(
        title=dict(
            text=(
                f"2ⁿ = {2**n} levels:  ∫φₙ dλ = {lebesgue:.5f},<br>Riemann lower sum "
                f"{riemann:.5f},  ∫f = 2/3 = {2 / 3:.5f}"
            )
        ),
        xaxis=dict(title=dict(text="x"), range=[0, 1]),
        yaxis=dict(title=dict(text="value"), range=[0, 1.05]),
        hovermode=False,
        legend=dict(x=0.5, y=-0.15, xanchor="center", yanchor="top", orientation="h"),
        margin=dict(t=90, b=100),
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def lebesgue_explorer(mode: str | None = None):
    return interactive(
        lebesgue_figure,
        Slider("n", 0, 7, value=2, steps=8, label="n (2ⁿ levels)", fmt=".0f"),
        mode=mode,
        height=480,
    )


# --- push-forward and change of variables ------------------------------------------------------

#: name -> (label, f_t as a torch function of (x, t))
TRANSFORMS: dict[str, tuple[str, Callable]] = {
    "exp": ("(1 − t)x + t eˣ", lambda x, t: (1 - t) * x + t * torch.exp(x)),
    "tanh": ("(1 − t)x + 2t tanh x", lambda x, t: (1 - t) * x + 2 * t * torch.tanh(x)),
    "square": ("(1 − t)x + t x²  (not one-to-one)", lambda x, t: (1 - t) * x + t * x**2),
}


def transform(name: str, t: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The map ``x ↦ f_t(x)`` of the push-forward figure (``t = 0`` is the identity)."""
    if name not in TRANSFORMS:
        raise ValueError(f"transform must be one of {sorted(TRANSFORMS)}; got {name!r}")
    t = check_real(t, "t")
    if not 0 <= t <= 1:
        raise ValueError(f"t must lie in [0, 1]; got {t}")
    fn = TRANSFORMS[name][1]
    return lambda x: fn(x, t)


_PF_SAMPLES = 20_000


@functools.lru_cache(maxsize=1)
def _pf_noise() -> torch.Tensor:
    return torch.randn(_PF_SAMPLES, generator=torch.Generator().manual_seed(0), dtype=F64)


def pushforward_figure(name: str, t: float) -> go.Figure:
    """X ~ N(0, 1) and Y = f_t(X): the map (left); a histogram of 20 000 values of f_t(X)
    against the change-of-variables density (right)."""
    f = transform(name, t)
    base = Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    ys_sample = f(_pf_noise())
    lo, hi = (float(v) for v in torch.quantile(ys_sample, torch.tensor([0.003, 0.997], dtype=F64)))
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    grid = torch.linspace(lo, hi, 241, dtype=F64)
    dens = smp.pushforward_density(f, base.log_prob, grid, support=(-9.0, 9.0), grid=1201)
    edges = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(ys_sample.numpy(), edges)
    hist = counts / (_PF_SAMPLES * np.diff(edges))
    xs = torch.linspace(-3.5, 3.5, 141, dtype=F64)
    fx = f(xs)
    # Count the preimages of each plotted y (the cells where f - y changes sign on a fine grid).
    xg = torch.linspace(-9.0, 9.0, 3601, dtype=F64)
    d = f(xg)[None, :] - grid[:, None]
    preimages = int(((d[:, :-1] * d[:, 1:]) < 0).sum(1).max())
    dn = dens.numpy()
    top = float(max(hist.max(), np.nanmax(np.where(np.isfinite(dn), dn, np.nan))))
    right = dict(xaxis="x2", yaxis="y2")
    traces = [
        dict(
            type="scatter",
            x=np.float32(xs),
            y=np.float32(fx),
            name="y = f_t(x)",
            line=dict(color=_BLUE),
        ),
        dict(
            type="bar",
            x=np.float32(0.5 * (edges[1:] + edges[:-1])),
            y=np.float32(hist),
            width=float(edges[1] - edges[0]),
            marker=dict(color=_SKY),
            opacity=0.6,
            name="histogram of f_t(X)",
            **right,
        ),
        dict(
            type="scatter",
            x=np.float32(grid),
            y=np.float32(dens.clamp(max=10)),
            name="p_Y by the change-of-variables formula",
            line=dict(color=_RED),
            **right,
        ),
    ]
    layout = side_by_side(
        ("the map x ↦ y = f_t(x)", "density of Y = f_t(X), X ~ N(0, 1)"), split=0.4, gap=0.1
    )
    layout.update(
        title=dict(
            text=(
                f"f_t(x) = {TRANSFORMS[name][0]},  t = {t:.2f}:  up to {preimages} "
                f"preimage{'s' if preimages > 1 else ''} per y"
                + ("  (p_Y is infinite where f′ = 0)" if preimages > 1 else "")
            )
        ),
        bargap=0,
        hovermode=False,
        legend=dict(orientation="h", x=0.0, y=-0.18, yanchor="top"),
        margin=dict(b=100),
    )
    layout["xaxis"].update(range=[-3.5, 3.5], title=dict(text="x"))
    layout["yaxis"].update(range=[-4, 8], title=dict(text="y"))
    layout["xaxis2"].update(range=[lo, hi], title=dict(text="y"))
    layout["yaxis2"].update(range=[0, min(1.15 * top, 2.5)])
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def pushforward_explorer(mode: str | None = None):
    return interactive(
        pushforward_figure,
        Choice("name", [(TRANSFORMS[k][0], k) for k in TRANSFORMS], label="f_t"),
        Slider("t", 0.0, 1.0, value=0.6, steps=11, label="t (0 = identity)"),
        mode=mode,
        height=520,
    )


# --- a distribution with no density -----------------------------------------------------------


def relu_cdf(y: np.ndarray, mu: float) -> np.ndarray:
    """cdf of ``Y = max(0, X)``, ``X ~ N(μ, 1)``: 0 for y < 0, ``Φ(y − μ)`` for y ≥ 0 — a jump of
    ``Φ(−μ)`` at 0 (an atom) followed by a continuous part."""
    mu = check_real(mu, "mu")
    y = np.asarray(y, dtype=float)
    return np.where(y < 0, 0.0, stats.norm.cdf(y - mu))


@functools.lru_cache(maxsize=1)
def _relu_noise() -> np.ndarray:
    return np.sort(np.random.default_rng(0).normal(size=3000))


def mixed_cdf_figure(mu: float) -> go.Figure:
    """The cdf of ReLU(X), X ~ N(μ, 1): exact (with its jump) against the empirical cdf of 3000
    samples."""
    mu = check_real(mu, "mu")
    ys = np.linspace(-2, 4, 241)
    ys = np.sort(np.r_[ys, -1e-9, 0.0])
    sample = np.maximum(0.0, _relu_noise() + mu)  # sorted, since max(0, ·) is monotone
    ecdf = np.arange(1, len(sample) + 1) / len(sample)
    atom = float(stats.norm.cdf(-mu))
    frac0 = float(np.mean(sample == 0))
    keep = np.unique(np.r_[np.linspace(0, len(sample) - 1, 300).astype(int)])
    traces = [
        dict(
            type="scatter",
            x=np.float32(ys),
            y=np.float32(relu_cdf(ys, mu)),
            name="cdf of max(0, X)",
            line=dict(color=_BLUE, width=3),
        ),
        dict(
            type="scatter",
            x=np.float32(sample[keep]),
            y=np.float32(ecdf[keep]),
            name="empirical cdf (3000 samples)",
            line=dict(color=_ORANGE, shape="hv", dash="dot"),
        ),
        dict(
            type="scatter",
            x=[0.0, 0.0],
            y=[0.0, atom],
            mode="lines+markers",
            name="jump = P(Y = 0)",
            line=dict(color=_RED, dash="dash"),
            marker=dict(size=[7, 10], symbol=["circle-open", "circle"]),
        ),
    ]
    layout = dict(
        title=dict(
            text=(
                f"μ = {mu:.2f}:  P(Y = 0) = Φ(−μ) = {atom:.4f} (samples: {frac0:.4f}).<br>"
                "No density exists: it cannot put mass on a single point"
            )
        ),
        xaxis=dict(title=dict(text="y"), range=[-2, 4]),
        yaxis=dict(title=dict(text="F(y) = P(Y ≤ y)"), range=[-0.02, 1.02]),
        hovermode=False,
        legend=dict(
            x=0.98, y=0.02, xanchor="right", yanchor="bottom", bgcolor="rgba(128,128,128,0.1)"
        ),
        margin=dict(t=90),
    )
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def mixed_cdf_explorer(mode: str | None = None):
    return interactive(
        mixed_cdf_figure,
        Slider("mu", -2.0, 2.0, value=0.0, steps=9, label="μ"),
        mode=mode,
        height=440,
    )


# --- mutually singular measures ---------------------------------------------------------------


def circle_kl(h: float, angles: int = 400_000) -> float:
    """``KL(P_h ‖ Q_h)`` in nats for the uniform distribution P on the unit circle and Q = N(0, I₂),
    both discretised into square cells of side ``h`` (cells cover [−4, 4]²).

    P is singular with respect to Q (the circle has area 0), so the continuous KL is +∞; the
    discretised one is finite and grows like ``log(1/h)``. P's cell masses come from ``angles``
    equally spaced points on the circle, Q's from the normal cdf, renormalised to the box
    [−4, 4]² (which holds all but 0.013 % of Q's mass).
    """
    from ..divergences import kl_discrete

    h = check_real(h, "h")
    if not 0 < h <= 4:
        raise ValueError(f"h must lie in (0, 4]; got {h}")
    angles = check_int(angles, "angles", minimum=16)
    k = math.ceil(8 / h)
    edges = -4 + h * np.arange(k + 1)
    phi = 2 * np.pi * (np.arange(angles) + 0.5) / angles
    counts, _, _ = np.histogram2d(np.cos(phi), np.sin(phi), bins=[edges, edges])
    p = counts / angles
    q1 = np.diff(stats.norm.cdf(edges))
    q = np.outer(q1, q1)
    q = q / q.sum()
    return float(kl_discrete(torch.from_numpy(p.ravel()), torch.from_numpy(q.ravel())))
