"""Figures of the chapter "Norms, Banach spaces and kernels".

Every number a figure prints comes from :mod:`companion.functional` (and, for the primal
transport cost, :mod:`companion.divergences`); this module only lays them out.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import divergences as dv
from .. import functional as fa
from .._validate import check_real
from ..figures import Choice, Slider, interactive
from ..functional import cos_fixed_point
from ..theme import OKABE_ITO, side_by_side
from ._plot import legend as _legend
from ._plot import title

__all__ = [
    "cauchy_figure",
    "cauchy_explorer",
    "contraction_figure",
    "contraction_explorer",
    "krr_data",
    "krr_figure",
    "krr_explorer",
    "gp_figure",
    "gp_explorer",
    "GP_KERNELS",
    "kr_points",
    "kr_figure",
    "kr_explorer",
    "witness_samples",
    "witness_figure",
    "witness_explorer",
    "WITNESS_KERNELS",
]

F64 = torch.float64
_HI, _GREY7 = OKABE_ITO[5], OKABE_ITO[7]
_TITLE_SIZE = 14  # two lines of numbers fit the text column


# --- a normed space that is not complete ------------------------------------------------------

_T = torch.linspace(0.0, 1.0, 4001, dtype=F64)
_NS = np.arange(1, 41)


def _step(t: torch.Tensor) -> torch.Tensor:
    return (t >= 0.5).to(t.dtype)


def _kinked_grid(n: float) -> torch.Tensor:
    """The plotting grid plus the corners of f_n, f_2n and the step: on it the differences are
    piecewise linear between grid points, so the trapezoidal L¹ norm and the grid maximum are
    exact (up to rounding)."""
    kinks = torch.tensor([0.5 + s / (2 * w) for w in (n, 2 * n) for s in (-1, 1)], dtype=F64)
    return torch.unique(torch.cat([_T, kinks, torch.tensor([0.5 - 1e-12], dtype=F64)]))


def _distances(n: float) -> tuple[float, float, float]:
    t = _kinked_grid(n)
    diff = fa.ramp(t, n) - fa.ramp(t, 2 * n)
    to_step = fa.ramp(t, n) - _step(t)
    return (
        float(fa.function_norm(diff, t, 1)),
        float(fa.function_norm(diff, t, math.inf)),
        float(fa.function_norm(to_step, t, 1)),
    )


@functools.lru_cache(maxsize=1)
def _cauchy_curves():
    values = np.array([_distances(float(n))[:2] for n in _NS])
    return values[:, 0], values[:, 1]


def cauchy_figure(n: float) -> go.Figure:
    """The ramps f_n and f_2n of (eq-fa-ramp) and the step they approach; their L¹ and sup
    distances against n."""
    n = check_real(n, "n")
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n:g}")
    t = _T[::20]
    fn, f2n = fa.ramp(t, n), fa.ramp(t, 2 * n)
    l1, sup, to_step = _distances(n)
    curve_l1, curve_sup = _cauchy_curves()
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
            go.Scatter(
                x=[0, 0.5, 0.5, 1],
                y=[0, 0, 1, 1],
                name="step (not continuous)",
                line=dict(dash="dot", color=_GREY7),
            ),
            go.Scatter(x=t.numpy(), y=fn.numpy(), name="f_n"),
            go.Scatter(x=t.numpy(), y=f2n.numpy(), name="f_2n"),
            go.Scatter(x=_NS, y=curve_l1, name="‖f_n − f_2n‖₁", **right),
            go.Scatter(x=_NS, y=curve_sup, name="‖f_n − f_2n‖∞", **right),
            go.Scatter(
                x=[n, n],
                y=[l1, sup],
                mode="markers",
                showlegend=False,
                marker=dict(size=10, color=_HI),
                **right,
            ),
        ]
    )
    fig.update_layout(
        **side_by_side(("functions on [0, 1]", "distances against n"), gap=0.12),
        title=title(
            f"n = {n:.0f}<br>‖f_n − f_2n‖₁ = {l1:.6f}   ‖f_n − f_2n‖∞ = {sup:.3f}   "
            f"‖f_n − step‖₁ = {to_step:.6f}",
            size=_TITLE_SIZE,
        ),
        legend=_legend(0.01, 0.98),
        margin=dict(t=90),
        hovermode=False,
    )
    fig.update_layout(
        xaxis=dict(range=[0, 1], title="t"),
        yaxis=dict(range=[-0.05, 1.1]),
        xaxis2=dict(title="n"),
        yaxis2=dict(type="log", range=[-3.2, 0]),
    )
    return fig


def cauchy_explorer(mode: str | None = None):
    return interactive(
        cauchy_figure,
        Slider("n", 1.0, 40.0, value=3.0, steps=40, label="n", fmt=".0f"),
        mode=mode,
        height=430,
    )


# --- contractions ------------------------------------------------------------------------------

_X0 = 2.5
_STEPS = 40


def contraction_figure(q: float) -> go.Figure:
    """Fixed-point iteration of T(x) = q cos x: a cobweb and the error against the Banach bound.

    T is a contraction of ℝ exactly when q < 1 (its Lipschitz constant is sup|T'| = q).
    """
    q = check_real(q, "q")
    xs = fa.fixed_point_iterates(lambda x: q * torch.cos(x), _X0, _STEPS).numpy()
    star = cos_fixed_point(q)
    err = np.maximum(np.abs(xs - star), 1e-16)
    k = np.arange(_STEPS + 1)
    if q < 1:
        bound = [fa.banach_bound(q, int(i), abs(xs[1] - xs[0])) for i in k]
        kind = f"a contraction (factor {q:.2f}): Banach's bound holds"
    else:
        bound = []
        local = q * math.sin(star)
        kind = f"not a contraction; |T'(x*)| = {local:.2f} " + (
            "< 1, converges anyway" if local < 1 else "> 1, no convergence"
        )
    web_x, web_y = [xs[0]], [0.0]
    for a, b in zip(xs[:12], xs[1:13], strict=True):
        web_x += [a, b]
        web_y += [b, b]
    grid = np.linspace(-2.0, 2.7, 200)
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
            go.Scatter(x=grid, y=grid, name="y = x", line=dict(color=_GREY7, dash="dot")),
            go.Scatter(x=grid, y=q * np.cos(grid), name="y = q cos x"),
            go.Scatter(x=web_x, y=web_y, name="iterates", line=dict(width=1.5, color=_HI)),
            go.Scatter(
                x=k, y=err, name="|x_n − x*|", mode="lines+markers", marker=dict(size=4), **right
            ),
            go.Scatter(
                x=k if bound else [],
                y=bound,
                name="qⁿ|x₁ − x₀|/(1 − q)",
                line=dict(dash="dash"),
                **right,
            ),
        ]
    )
    fig.update_layout(
        **side_by_side(("cobweb (first 12 steps)", "error against n (log scale)"), gap=0.12),
        title=title(f"q = {q:.2f}: T is {kind}<br>|x₄₀ − x*| = {err[-1]:.2e}", size=_TITLE_SIZE),
        legend=_legend(0.01, 0.02, yanchor="bottom"),
        hovermode=False,
        margin=dict(t=90),
    )
    fig.update_layout(
        xaxis=dict(range=[-2.0, 2.7], title="x"),
        yaxis=dict(range=[-2.0, 2.7], scaleanchor="x"),
        xaxis2=dict(title="n"),
        yaxis2=dict(type="log", range=[-16.5, 1.5], exponentformat="power"),
    )
    return fig


def contraction_explorer(mode: str | None = None):
    return interactive(
        contraction_figure,
        Slider("q", 0.1, 1.6, value=0.8, steps=31, label="q"),
        mode=mode,
        height=470,
    )


# --- kernel ridge regression -------------------------------------------------------------------


def _truth(t: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * math.pi * t) + 0.5 * t


@functools.lru_cache(maxsize=1)
def krr_data(n: int = 25, noise: float = 0.3, seed: int = 0):
    """The regression data: x ~ U[0, 1], y = sin(2πx) + x/2 + noise·ε (private generator)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g, dtype=F64)
    y = _truth(x) + noise * torch.randn(n, generator=g, dtype=F64)
    return x, y


_KRR_T = torch.linspace(0.0, 1.0, 201, dtype=F64)


def krr_figure(log10_h: float, log10_lam: float) -> go.Figure:
    """Kernel ridge regression with the Gaussian kernel of bandwidth h and penalty λ."""
    h, lam = 10.0 ** check_real(log10_h, "log10_h"), 10.0 ** check_real(log10_lam, "log10_lam")
    x, y = krr_data()
    model = fa.KernelRidge("rbf", lam=lam, bandwidth=h).fit(x, y)
    fit = model.predict(_KRR_T)
    train = float((model.predict(x) - y).square().mean())
    truth = _truth(_KRR_T)
    test = float((fit - truth).square().mean())
    fig = go.Figure(
        [
            go.Scatter(
                x=_KRR_T.numpy(),
                y=truth.numpy(),
                name="true function",
                line=dict(dash="dot", color=_GREY7),
            ),
            go.Scatter(x=x.numpy(), y=y.numpy(), mode="markers", name="data", marker=dict(size=7)),
            go.Scatter(x=_KRR_T.numpy(), y=fit.numpy(), name="f = Σ αᵢ k(xᵢ, ·)"),
        ]
    )
    fig.update_layout(
        title=title(
            f"h = {h:.3f}, λ = {lam:.1e}<br>training MSE = {train:.4f}   "
            f"error to the truth = {test:.4f}   ‖f‖_H = {float(model.rkhs_norm()):.2f}",
            size=_TITLE_SIZE,
        ),
        margin=dict(t=90),
        xaxis=dict(title="x", range=[0, 1]),
        yaxis=dict(title="y", range=[-2.2, 2.7]),
        legend=_legend(0.99, 0.99, xanchor="right"),
        hovermode=False,
    )
    return fig


def krr_explorer(mode: str | None = None):
    return interactive(
        krr_figure,
        Slider("log10_h", -2.0, 0.0, value=-1.0, steps=11, label="log₁₀ h"),
        Slider("log10_lam", -6.0, 1.0, value=-2.0, steps=15, label="log₁₀ λ"),
        mode=mode,
        height=470,
    )


# --- Gaussian-process sample paths -------------------------------------------------------------

#: name -> (label, kernel, extra parameters); the length-scale ℓ enters as bandwidth or as t/ℓ.
GP_KERNELS = {
    "rbf": "Gaussian (RBF)",
    "laplace": "Laplace (exponential)",
    "polynomial": "polynomial, degree 2",
}
_GP_T = torch.linspace(-3.0, 3.0, 151, dtype=F64)


def _gp_gram_args(kernel: str, ell: float) -> tuple[torch.Tensor, dict]:
    if kernel == "polynomial":
        return _GP_T / ell, dict(degree=2, coef0=1.0)
    return _GP_T, dict(bandwidth=ell)


def gp_figure(kernel: str, log10_ell: float) -> go.Figure:
    """Five sample paths of the zero-mean GP with the chosen kernel, with a ±2 sd band."""
    if kernel not in GP_KERNELS:
        raise ValueError(f"kernel must be one of {sorted(GP_KERNELS)}; got {kernel!r}")
    ell = 10.0 ** check_real(log10_ell, "log10_ell")
    pts, params = _gp_gram_args(kernel, ell)
    paths = fa.gp_prior_samples(pts, kernel, n_samples=5, seed=3, **params)
    sd = torch.sqrt(fa.gram(kernel, pts, **params).diagonal())
    t = _GP_T.numpy()
    band = go.Scatter(
        x=np.r_[t, t[::-1]],
        y=np.r_[(2 * sd).numpy(), (-2 * sd).numpy()[::-1]],
        fill="toself",
        fillcolor="rgba(128,128,128,0.18)",
        line=dict(width=0),
        name="±2 sd",
    )
    traces = [band] + [
        go.Scatter(x=t, y=p.numpy(), name=f"path {i + 1}", showlegend=False)
        for i, p in enumerate(paths)
    ]
    fig = go.Figure(traces)
    top = float(max(2.2 * sd.max(), paths.abs().max()))
    fig.update_layout(
        title=title(
            f"{GP_KERNELS[kernel]} kernel, length-scale ℓ = {ell:.3f}: five draws of f ~ GP(0, k)",
            size=_TITLE_SIZE,
        ),
        xaxis=dict(title="t", range=[-3, 3]),
        yaxis=dict(title="f(t)", range=[-1.05 * top, 1.05 * top]),
        legend=_legend(0.99, 0.99, xanchor="right"),
        hovermode=False,
    )
    return fig


def gp_explorer(mode: str | None = None):
    return interactive(
        gp_figure,
        Choice("kernel", [(v, k) for k, v in GP_KERNELS.items()], value="rbf", label="kernel"),
        Slider("log10_ell", -1.0, 0.5, value=-0.2, steps=16, label="log₁₀ ℓ"),
        mode=mode,
        height=470,
    )


# --- Kantorovich-Rubinstein: primal = dual -----------------------------------------------------


@functools.lru_cache(maxsize=1)
def kr_points(seed: int = 4):
    """Six points for P and five for Q (before the shift), uniform weights."""
    g = torch.Generator().manual_seed(seed)
    x = torch.sort(torch.randn(6, generator=g, dtype=F64)).values
    y = torch.sort(0.6 * torch.randn(5, generator=g, dtype=F64) + 0.5).values
    return x, y


_KR_T = torch.linspace(-5.0, 7.0, 241, dtype=F64)


def kr_figure(shift: float) -> go.Figure:
    """The optimal 1-Lipschitz potential of (eq-fa-kr-discrete) and the CDF gap it measures."""
    shift = check_real(shift, "shift")
    x, y0 = kr_points()
    y = y0 + shift
    dual = fa.kantorovich_dual(x, y)
    primal = float(dv.wasserstein_1d(x, y))
    z = torch.cat([x, y])
    phi = fa.lipschitz_extension(z, torch.cat([dual.potential_x, dual.potential_y]), _KR_T)
    slope = torch.diff(phi) / torch.diff(_KR_T)
    mid = 0.5 * (_KR_T[1:] + _KR_T[:-1])
    F = (x[None, :] <= _KR_T[:, None]).double().mean(1)
    G = (y[None, :] <= _KR_T[:, None]).double().mean(1)
    t = _KR_T.numpy()
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
            go.Scatter(x=t, y=phi.numpy(), name="φ (1-Lipschitz)"),
            go.Scatter(
                x=x.numpy(),
                y=dual.potential_x.numpy(),
                mode="markers",
                name="P's atoms",
                marker=dict(size=10),
            ),
            go.Scatter(
                x=y.numpy(),
                y=dual.potential_y.numpy(),
                mode="markers",
                name="Q's atoms",
                marker=dict(size=10, symbol="diamond"),
            ),
            go.Scatter(
                x=t, y=(G - F).numpy(), name="G − F", fill="tozeroy", line=dict(shape="hv"), **right
            ),
            go.Scatter(x=mid.numpy(), y=slope.numpy(), name="φ′", line=dict(dash="dot"), **right),
        ]
    )
    fig.update_layout(
        **side_by_side(
            ("optimal potential φ (line); atoms of P ●, Q ◆", "G − F (shaded) and φ′ (dotted)"),
            gap=0.1,
        ),
        showlegend=False,
        title=title(
            f"shift = {shift:.2f}:  primal W₁ = {primal:.6f}<br>dual Σaᵢφ(xᵢ) − Σbⱼφ(yⱼ) = "
            f"{dual.value:.6f}   |gap| = {abs(primal - dual.value):.1e}",
            size=_TITLE_SIZE,
        ),
        margin=dict(t=90),
        hovermode=False,
    )
    fig.update_layout(
        xaxis=dict(range=[-5, 7], title="t"),
        yaxis=dict(range=[-7, 7]),
        xaxis2=dict(range=[-5, 7], title="t"),
        yaxis2=dict(range=[-1.15, 1.15]),
    )
    return fig


def kr_explorer(mode: str | None = None):
    return interactive(
        kr_figure,
        Slider("shift", -3.0, 3.0, value=1.0, steps=25, label="shift of Q"),
        mode=mode,
        height=450,
    )


# --- the MMD witness and characteristic kernels ------------------------------------------------

#: label -> (kernel name, parameters)
WITNESS_KERNELS = {
    "gauss05": ("Gaussian, h = 0.5", "rbf", dict(bandwidth=0.5)),
    "gauss2": ("Gaussian, h = 2", "rbf", dict(bandwidth=2.0)),
    "laplace": ("Laplace, h = 1", "laplace", dict(bandwidth=1.0)),
    "poly2": ("polynomial, degree 2", "polynomial", dict(degree=2, coef0=1.0)),
    "linear": ("linear", "linear", {}),
}
_W_T = torch.linspace(-4.0, 4.0, 161, dtype=F64)


def _standardise(v: torch.Tensor) -> torch.Tensor:
    v = v - v.mean()
    return v / v.square().mean().sqrt()


@functools.lru_cache(maxsize=64)
def witness_samples(s: float, n: int = 300, seed: int = 5):
    """P = N(0, 1) and Q = ½N(−s, 1 − s²) + ½N(s, 1 − s²) (mean 0, variance 1), n draws each,
    both standardised to sample mean 0 and sample variance 1 so their first two moments agree."""
    s = check_real(s, "s")
    if not 0 <= s < 1:
        raise ValueError(f"s must lie in [0, 1); got {s:g}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=F64)
    signs = torch.randint(0, 2, (n,), generator=g).to(F64) * 2 - 1
    y = s * signs + math.sqrt(1 - s * s) * torch.randn(n, generator=g, dtype=F64)
    return _standardise(x), _standardise(y)


def _densities(t: torch.Tensor, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The densities of P = N(0, 1) and Q = ½N(−s, 1 − s²) + ½N(s, 1 − s²) at t."""
    sd = math.sqrt(1 - s * s)
    p = torch.distributions.Normal(t.new_tensor(0.0), t.new_tensor(1.0)).log_prob(t).exp()
    q = dv.Mixture([(0.5, -s, sd), (0.5, s, sd)]).log_pdf(t).exp()
    return p.numpy(), q.numpy()


def witness_figure(kernel: str, s: float) -> go.Figure:
    """Densities of P and Q (equal mean and variance) and the normalised witness of a kernel."""
    if kernel not in WITNESS_KERNELS:
        raise ValueError(f"kernel must be one of {sorted(WITNESS_KERNELS)}; got {kernel!r}")
    label, name, params = WITNESS_KERNELS[kernel]
    s = check_real(s, "s")
    x, y = witness_samples(round(s, 6))
    value = float(fa.mmd2(x, y, name, **params))
    f = fa.mmd_witness(x, y, _W_T, name, **params)
    fx, fy = fa.mmd_witness(x, y, torch.cat([x, y]), name, **params).split([len(x), len(y)])
    gap = float(fx.mean() - fy.mean())
    gap = gap if abs(gap) >= 5e-7 else 0.0  # no "-0.000000" in the title
    t = _W_T.numpy()
    p_dens, q_dens = _densities(_W_T, s)
    right = dict(xaxis="x2", yaxis="y2")
    fig = go.Figure(
        [
            go.Scatter(x=t, y=p_dens, name="p = N(0, 1)"),
            go.Scatter(x=t, y=q_dens, name="q (mean 0, variance 1)"),
            go.Scatter(x=t, y=f.numpy(), name="witness f*", line=dict(color=_HI), **right),
        ]
    )
    fig.update_layout(
        **side_by_side(("", ""), gap=0.1),
        title=title(
            f"{label}, s = {s:.2f}<br>MMD² = {max(value, 0.0):.6f}   "
            f"mean of f* under P − under Q = {gap:.6f}",
            size=_TITLE_SIZE,
        ),
        margin=dict(t=90),
        legend=_legend(0.01, 0.98),
        hovermode=False,
    )
    fig.update_layout(
        xaxis=dict(range=[-4, 4], title="t"),
        yaxis=dict(range=[0, 0.75]),
        xaxis2=dict(range=[-4, 4], title="t"),
        yaxis2=dict(range=[-3, 3]),
    )
    return fig


def witness_explorer(mode: str | None = None):
    return interactive(
        witness_figure,
        Choice(
            "kernel",
            [(v[0], k) for k, v in WITNESS_KERNELS.items()],
            value="gauss05",
            label="kernel",
        ),
        Slider("s", 0.0, 0.95, value=0.8, steps=20, label="s (mode separation)"),
        mode=mode,
        height=450,
    )
