"""Figures of the chapter "Variational autoencoders".

* :func:`ppca_explorer`: a one-dimensional-latent probabilistic PCA model and one data point;
  sliders move q = N(m, s²) and the title shows log p(x), the ELBO, their gap and
  KL(q ‖ p(z|x)), all closed form (:class:`companion.vae.LinearGaussian`).
* :func:`latent_traversal`: decode any point of a trained 2-D latent space into an 8×8 image.
* :func:`beta_explorer`: a family of β-VAEs: the rate–distortion curve and samples per β.
* :func:`iwae_figure`: the importance-weighted bounds against k.
* :func:`image_grid`: many 8×8 images as one heatmap (samples, reconstructions).
* :func:`cavi_explorer`: mean-field coordinate-ascent VI on a Gaussian with unknown mean and
  precision: q(μ) q(τ) after each sweep against the exact Normal–Gamma posterior.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
import torch

from .. import vae
from .._validate import check_int, check_real, check_tensor
from ..device import single_thread
from ..divergences import kl_gaussian
from ..figures import Slider, interactive
from ..theme import OKABE_ITO, side_by_side
from ..vae import VAE, LinearGaussian, cavi_normal_gamma, normal_gamma_posterior
from ._plot import figure, legend
from ._plot import title as _title

__all__ = [
    "ppca_model",
    "ppca_values",
    "ppca_figure",
    "ppca_explorer",
    "tile",
    "image_grid",
    "traversal_figure",
    "latent_traversal",
    "beta_figure",
    "beta_explorer",
    "iwae_figure",
    "cavi_example",
    "cavi_figure",
    "cavi_explorer",
]

F64 = torch.float64
_GREYS = [[0.0, "#ffffff"], [1.0, "#111111"]]  # images: white paper, near-black ink
_HI, _BLUE, _GREY7 = OKABE_ITO[5], OKABE_ITO[0], OKABE_ITO[7]
# Computed in companion.vae; the chapter reads them under their explore names.


# --- pPCA: the ELBO identity made visible ----------------------------------------------------
@functools.lru_cache(maxsize=1)
def ppca_model() -> tuple[LinearGaussian, torch.Tensor]:
    """The chapter's pPCA model (D = 2, d = 1: W = (2, 1)ᵀ, b = (0.5, −0.5), s = 0.8) and its
    observed point x = (1.8, 1.6)."""
    model = LinearGaussian(
        torch.tensor([[2.0], [1.0]], dtype=F64), torch.tensor([0.5, -0.5], dtype=F64), 0.8
    )
    return model, torch.tensor([1.8, 1.6], dtype=F64)


def ppca_values(shift: float, ratio: float) -> dict[str, float]:
    """For q = N(m* + shift, (ratio · s*)²), with N(m*, s*²) the exact posterior p(z|x):
    log p(x), the ELBO, the gap and KL(q ‖ p(z|x)) (closed form, nats), and m, s, m*, s*."""
    shift = check_real(shift, "shift")
    ratio = check_real(ratio, "ratio")
    if ratio <= 0:
        raise ValueError(f"ratio must be > 0; got {ratio}")
    model, x = ppca_model()
    mean, cov = model.posterior(x)
    m_star, s_star = float(mean[0]), math.sqrt(float(cov[0, 0]))
    m, s = m_star + shift, ratio * s_star
    log_px = float(model.log_marginal(x))
    elbo = float(model.elbo(x, torch.tensor([m], dtype=F64), torch.tensor([[s * s]], dtype=F64)))
    kl = float(kl_gaussian(m, s, m_star, s_star))
    return {
        "log_px": log_px,
        "elbo": elbo,
        "gap": log_px - elbo,
        "kl": kl,
        "m": m,
        "s": s,
        "m_star": m_star,
        "s_star": s_star,
    }


_Z = np.linspace(-1.5, 3.5, 301)


def _normal_pdf(z: np.ndarray, m: float, s: float) -> np.ndarray:
    normal = torch.distributions.Normal(torch.tensor(m, dtype=F64), torch.tensor(s, dtype=F64))
    return normal.log_prob(torch.from_numpy(z)).exp().numpy()


@functools.lru_cache(maxsize=64)
def _elbo_curve(ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """ELBO of q = N(m* + shift, (ratio s*)²) on a grid of shifts (:meth:`LinearGaussian.elbo`)."""
    model, x = ppca_model()
    v = ppca_values(0.0, ratio)
    shifts = np.linspace(-1.5, 1.5, 61)
    cov = torch.tensor([[v["s"] ** 2]], dtype=F64)
    curve = [float(model.elbo(x, torch.tensor([v["m_star"] + d], dtype=F64), cov)) for d in shifts]
    return shifts, np.array(curve)


def _ppca_traces(v: dict, shifts: np.ndarray, curve: np.ndarray) -> list:
    right = dict(xaxis="x2", yaxis="y2")
    return [
        dict(
            type="scatter",
            x=_Z,
            y=_normal_pdf(_Z, v["m_star"], v["s_star"]),
            name="p(z | x), exact",
            fill="tozeroy",
        ),
        dict(
            type="scatter",
            x=_Z,
            y=_normal_pdf(_Z, v["m"], v["s"]),
            name="q(z) = N(m, s²)",
            fill="tozeroy",
            opacity=0.8,
        ),
        dict(type="scatter", x=v["m_star"] + shifts, y=curve, name="ELBO(m) at this s", **right),
        dict(
            type="scatter",
            x=[v["m_star"] - 1.5, v["m_star"] + 1.5],
            y=[v["log_px"]] * 2,
            name="log p(x)",
            line=dict(dash="dash", color=_GREY7),
            **right,
        ),
        dict(
            type="scatter",
            x=[v["m"], v["m"]],
            y=[v["elbo"], v["log_px"]],
            mode="lines+markers",
            name="gap = KL(q ‖ p(z|x))",
            line=dict(color=_HI, width=3),
            **right,
        ),
    ]


def ppca_figure(shift: float, ratio: float) -> go.Figure:
    """Left: the exact posterior and q over z. Right: the ELBO against q's mean (for the current
    s), below the constant log p(x); the vertical gap at the marker is KL(q ‖ p(z|x))."""
    v = ppca_values(shift, ratio)
    shifts, curve = _elbo_curve(round(float(ratio), 9))
    layout = side_by_side(("over the latent z", "bound against q's mean m"), gap=0.12)
    layout.update(
        title=_title(
            f"log p(x) = {v['log_px']:.6f}   ELBO = {v['elbo']:.6f}   "
            f"gap = {v['gap']:.6f}   KL(q‖p(z|x)) = {v['kl']:.6f} nats"
        ),
        legend=legend(0.01, 0.99, font=dict(size=11)),
        hovermode=False,
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", title="z", range=[-1.5, 3.5]),
        yaxis=dict(anchor="x", title="density", range=[0, 3.2]),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="m"),
        yaxis2=dict(anchor="x2", title="nats", range=[-16.0, -3.0]),
    )
    return figure(_ppca_traces(v, shifts, curve), layout)


def ppca_explorer(mode: str | None = None):
    """Sliders: q's mean as a shift from the exact posterior mean, q's standard deviation as a
    multiple of the exact one (both grids contain the exact posterior: shift 0, ratio 1)."""
    return interactive(
        ppca_figure,
        Slider("shift", -1.5, 1.5, value=0.75, steps=13, label="m − m*"),
        Slider("ratio", 0.25, 1.75, value=1.75, steps=13, label="s / s*"),
        mode=mode,
        height=470,
    )


# --- images ----------------------------------------------------------------------------------
def tile(images: torch.Tensor, cols: int, side: int = 8, gap: int = 1) -> np.ndarray:
    """Arrange flattened ``side × side`` images in a grid with ``cols`` columns (a NaN gap
    between them, drawn transparent); row 0 of the result is the top of the picture."""
    images = check_tensor(images, "images", ndim=2)
    cols = check_int(cols, "cols", minimum=1)
    side = check_int(side, "side", minimum=1)
    if images.shape[1] != side * side:
        raise ValueError(f"images must have {side * side} columns; got {images.shape[1]}")
    n = images.shape[0]
    rows = math.ceil(n / cols)
    step = side + gap
    out = np.full((rows * step - gap, cols * step - gap), np.nan, dtype=np.float32)
    pics = images.detach().cpu().float().numpy().reshape(n, side, side)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * step : r * step + side, c * step : c * step + side] = pics[i]
    return out


def _heatmap(grid: np.ndarray, **extra) -> dict:
    z = np.round(grid[::-1], 3)  # plotly draws row 0 at the bottom
    return dict(
        type="heatmap",
        z=np.where(np.isnan(z), None, z).tolist(),
        colorscale=_GREYS,
        zmin=0.0,
        zmax=1.0,
        showscale=False,
        hoverinfo="skip",
        **extra,
    )


def _image_axes(prefix: str = "") -> dict:
    ax = dict(visible=False, showgrid=False, zeroline=False)
    return {f"xaxis{prefix}": dict(ax), f"yaxis{prefix}": dict(ax, scaleanchor=f"x{prefix}")}


def image_grid(images: torch.Tensor, cols: int = 10, title: str = "", height: int = 320):
    """A plotly figure of flattened 8×8 images (values in [0, 1], dark = 1)."""
    grid = tile(images, cols)
    layout = dict(
        title=_title(title),
        height=height,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        hovermode=False,
        **_image_axes(),
    )
    return figure([_heatmap(grid)], layout)


# --- latent traversal ------------------------------------------------------------------------
def _check_model(model: object, latent_dim: int | None = None) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a companion.vae.VAE; got {type(model).__name__}")
    if model.data_dim != 64:
        raise ValueError("these figures show 8×8 images: the model's data_dim must be 64")
    if latent_dim is not None and model.latent_dim != latent_dim:
        raise ValueError(f"the model needs latent_dim={latent_dim}; it has {model.latent_dim}")
    return model


def traversal_figure(
    model: VAE, z1: float, z2: float, codes: np.ndarray, labels: np.ndarray
) -> go.Figure:
    """Left: the encoder means of the data (coloured by label) and the point (z1, z2).
    Right: the decoder's mean image at that point."""
    z = torch.tensor([[check_real(z1, "z1"), check_real(z2, "z2")]])
    with torch.no_grad(), single_thread():
        img = model.decode(z.to(next(model.parameters()).dtype)).cpu()
    right = dict(xaxis="x2", yaxis="y2")
    data = [
        dict(
            type="scattergl" if len(codes) > 3000 else "scatter",
            x=codes[:, 0],
            y=codes[:, 1],
            mode="markers",
            marker=dict(
                size=4,
                color=labels,
                colorscale="Turbo",
                cmin=0,
                cmax=9,
                opacity=0.6,
                colorbar=dict(title="digit", x=0.47, len=0.8, thickness=12),
            ),
            text=[str(v) for v in labels],
            hoverinfo="text",
            showlegend=False,
        ),
        dict(
            type="scatter",
            x=[z1],
            y=[z2],
            mode="markers",
            marker=dict(size=16, symbol="x", color=_HI, line=dict(width=2)),
            showlegend=False,
            hoverinfo="skip",
        ),
        _heatmap(tile(img, 1), **right),
    ]
    layout = side_by_side(
        ("encoder means μ(x) of the digits", "decoder mean at z"), split=0.55, gap=0.12
    )
    layout.update(_image_axes("2"))
    layout["xaxis2"]["domain"] = [0.62, 1.0]
    layout["yaxis2"]["anchor"] = "x2"
    layout["xaxis2"]["anchor"] = "y2"
    layout.update(
        title=_title(f"z = ({z1:.2f}, {z2:.2f})"),
        xaxis=dict(domain=[0.0, 0.47], anchor="y", title="z₁", range=[-3.2, 3.2]),
        yaxis=dict(anchor="x", title="z₂", range=[-3.2, 3.2]),
        hovermode="closest",
    )
    return figure(data, layout)


def latent_traversal(
    model: VAE,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int = 13,
    mode: str | None = None,
):
    """Two sliders (z₁, z₂ in [−3, 3]) decoding a 2-D latent space live (precomputed frames on
    the website)."""
    model = _check_model(model, latent_dim=2)
    steps = check_int(steps, "steps", minimum=2)
    with torch.no_grad():
        mu, _ = model.encode(images)
    codes = np.round(mu.cpu().double().numpy(), 3)
    labs = labels.cpu().numpy()

    def make(z1: float, z2: float) -> go.Figure:
        return traversal_figure(model, z1, z2, codes, labs)

    return interactive(
        make,
        Slider("z1", -3.0, 3.0, value=0.0, steps=steps, label="z₁"),
        Slider("z2", -3.0, 3.0, value=0.0, steps=steps, label="z₂"),
        mode=mode,
        height=430,
    )


# --- β-VAE: rate and distortion --------------------------------------------------------------
def beta_figure(
    beta: float, table: dict[float, dict[str, float]], pictures: dict[float, np.ndarray]
) -> go.Figure:
    """Left: the rate–distortion points of all β (current one marked). Right: samples."""
    betas = sorted(table)
    if beta not in table:
        raise ValueError(f"beta must be one of {betas}; got {beta}")
    row = table[beta]
    right = dict(xaxis="x2", yaxis="y2")
    data = [
        dict(
            type="scatter",
            x=[table[b]["rate"] for b in betas],
            y=[table[b]["distortion"] for b in betas],
            mode="lines+markers+text",
            text=[f"β={b:g}" for b in betas],
            textposition="top right",
            name="β-VAEs",
            showlegend=False,
        ),
        dict(
            type="scatter",
            x=[row["rate"]],
            y=[row["distortion"]],
            mode="markers",
            marker=dict(size=16, color=_HI),
            showlegend=False,
        ),
        _heatmap(pictures[beta], **right),
    ]
    layout = side_by_side(
        ("rate–distortion plane (nats per image)", "decoder means of z ~ N(0, I)"),
        split=0.5,
        gap=0.08,
    )
    layout.update(_image_axes("2"))
    layout["xaxis2"]["domain"] = [0.54, 1.0]
    layout["xaxis2"]["anchor"] = "y2"
    layout["yaxis2"]["anchor"] = "x2"
    layout.update(
        title=_title(
            f"β = {beta:g}:  rate = {row['rate']:.2f}   distortion = {row['distortion']:.2f}"
            f"   ELBO = {row['elbo']:.2f} nats   active latent dims = {row['active']}"
        ),
        xaxis=dict(
            domain=[0.0, 0.46],
            anchor="y",
            title="rate  KL(q(z|x) ‖ p(z))",
            range=[-0.5, 1.3 * max(table[b]["rate"] for b in betas) + 0.5],
        ),
        yaxis=dict(anchor="x", title="distortion  −E log p(x|z)"),
        hovermode=False,
    )
    return figure(data, layout)


def beta_explorer(
    models: dict[float, VAE], x: torch.Tensor, *, n_samples: int = 40, mode: str | None = None
):
    """A slider over the β of a family of trained β-VAEs (their index on the slider)."""
    table = vae.rate_distortion_table(models, x)
    betas = sorted(table)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    pictures = {}
    for b in betas:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            pictures[b] = tile(models[b].sample(n_samples, mean=True, generator=gen).cpu(), 10)

    def make(index: float) -> go.Figure:
        return beta_figure(betas[int(round(index))], table, pictures)

    return interactive(
        make,
        Slider(
            "index",
            0,
            len(betas) - 1,
            value=betas.index(1.0) if 1.0 in betas else 0,
            steps=len(betas),
            label="β index",
            fmt=".0f",
        ),
        mode=mode,
        height=430,
    )


# --- IWAE ------------------------------------------------------------------------------------
def iwae_figure(curve: dict[str, np.ndarray], title: str = "") -> go.Figure:
    """The IWAE bounds against k (log axis) with ±2 standard errors, above the ELBO."""
    k = curve["k"]
    fig = go.Figure(
        [
            go.Scatter(
                x=k,
                y=curve["mean"],
                mode="lines+markers",
                name="IWAE_k",
                error_y=dict(type="data", array=2 * curve["se"], visible=True),
            ),
            go.Scatter(
                x=[k.min(), k.max()],
                y=[curve["elbo"]] * 2,
                name="ELBO",
                line=dict(dash="dash", color=_GREY7),
            ),
        ]
    )
    fig.update_layout(
        title=title,
        xaxis=dict(type="log", title="K (importance samples)"),
        yaxis=dict(title="nats per image"),
        height=380,
        hovermode="x unified",
    )
    return fig


# --- variational inference beyond the VAE: CAVI on a Normal–Gamma model ---------------------
#: The example's prior (μ0, λ0, a0, b0), its poor start E_q[τ] = 0.05 and the slider's sweeps.
CAVI_PRIOR = (0.0, 1.0, 2.0, 1.0)
CAVI_TAU_INIT = 0.05
CAVI_SWEEPS = 6


@functools.lru_cache(maxsize=1)
def cavi_example() -> dict[str, object]:
    """Ten draws from N(1, 0.5²), the exact posterior and the CAVI fit after 1..6 sweeps."""
    gen = torch.Generator().manual_seed(0)
    x = 1.0 + 0.5 * torch.randn(10, generator=gen, dtype=F64)
    exact = normal_gamma_posterior(x, *CAVI_PRIOR)
    fits = [
        cavi_normal_gamma(x, *CAVI_PRIOR, iters=k, tau_init=CAVI_TAU_INIT)
        for k in range(1, CAVI_SWEEPS + 1)
    ]
    return {"x": x, "exact": exact, "fits": fits}


def _cavi_grids(exact: dict) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats

    sd_mu = math.sqrt(exact["b"] / (exact["a"] * exact["kappa"]))
    mu = np.linspace(exact["m"] - 4.5 * sd_mu, exact["m"] + 4.5 * sd_mu, 90)
    tau = np.linspace(1e-3, stats.gamma(exact["a"], scale=1 / exact["b"]).ppf(0.999), 90)
    return mu, tau


def _cavi_contours(exact: dict, fit: dict) -> list[dict]:
    """Contour traces of the exact Normal–Gamma posterior and of q(μ) q(τ) (same levels)."""
    mu, tau = _cavi_grids(exact)
    mm, tt = (torch.from_numpy(g) for g in np.meshgrid(mu, tau))
    post = vae.normal_gamma_pdf(mm, tt, exact).numpy()
    q = vae.mean_field_pdf(mm, tt, fit).numpy()
    top = post.max()
    levels = dict(coloring="lines", start=0.1 * top, end=0.9 * top, size=0.2 * top)
    styles = [("exact posterior", post, _BLUE, "solid"), ("mean-field q", q, _HI, "dash")]
    return [
        dict(type="contour", x=mu, y=tau, z=np.round(z, 6), contours=levels, name=name,
             colorscale=[[0, colour], [1, colour]], showscale=False, showlegend=True,
             line=dict(width=2, dash=dash))
        for name, z, colour, dash in styles
    ]  # fmt: skip


def cavi_figure(sweeps: float) -> go.Figure:
    """Left: contours of the exact posterior p(μ, τ | x) and of q(μ) q(τ) after ``sweeps``
    CAVI sweeps. Right: the ELBO after each sweep against log p(x)."""
    sweeps = check_real(sweeps, "sweeps")
    if not 1 <= sweeps <= CAVI_SWEEPS:
        raise ValueError(f"sweeps must lie in [1, {CAVI_SWEEPS}]; got {sweeps}")
    ex_ = cavi_example()
    exact, fit = ex_["exact"], ex_["fits"][int(round(sweeps)) - 1]
    elbo, k, log_px = ex_["fits"][-1]["elbo"], len(fit["elbo"]), exact["log_evidence"]
    right = dict(xaxis="x2", yaxis="y2")
    data = _cavi_contours(exact, fit) + [
        dict(type="scatter", x=list(range(1, CAVI_SWEEPS + 1)), y=elbo,
             name="ELBO after each sweep", mode="lines+markers", **right),
        dict(type="scatter", x=[1, CAVI_SWEEPS], y=[log_px] * 2, name="log p(x)",
             mode="lines", line=dict(dash="dot"), **right),
        dict(type="scatter", x=[k], y=[fit["elbo"][-1]], mode="markers", name="now",
             marker=dict(size=12), showlegend=False, **right),
    ]  # fmt: skip
    layout = side_by_side(("p(μ, τ | x) and q(μ) q(τ)", "ELBO by sweep"), gap=0.12)
    gap = log_px - fit["elbo"][-1]
    layout.update(
        title=dict(text=f"sweep {k}: ELBO {fit['elbo'][-1]:.4f}, log p(x) "
                        f"{log_px:.4f}, gap {gap:.4f} nats"),
        xaxis=dict(domain=layout["xaxis"]["domain"], anchor="y", title="μ"),
        yaxis=dict(anchor="x", title="τ (precision)"),
        xaxis2=dict(domain=layout["xaxis2"]["domain"], anchor="y2", title="sweep", dtick=1),
        yaxis2=dict(anchor="x2", title="nats", range=[elbo[0] - 0.5, log_px + 0.5]),
        legend=legend(0.99, 0.04, xanchor="right", yanchor="bottom"),
    )  # fmt: skip
    return figure(data, layout)


def cavi_explorer(mode: str | None = None):
    """Slider over the number of CAVI sweeps (1..6), from the poor start E_q[τ] = 0.05."""
    return interactive(
        cavi_figure,
        Slider("sweeps", 1.0, float(CAVI_SWEEPS), value=1.0, steps=CAVI_SWEEPS, label="sweeps",
               fmt=".0f"),
        mode=mode,
        height=470,
    )  # fmt: skip
