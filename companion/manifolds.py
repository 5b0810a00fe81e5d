"""Manifolds and latent spaces: the chapter "Manifolds and latent spaces" in code.

* Intrinsic dimension: :func:`pca_spectrum` (explained-variance ratios) and
  :func:`mle_intrinsic_dimension`, the Levina–Bickel nearest-neighbour maximum-likelihood
  estimator (eq-man-mle), in the MacKay–Ghahramani form that averages the inverse estimates.
* Embeddings: :func:`embed` runs scikit-learn's PCA, Isomap, LLE or t-SNE (the book does not
  rewrite them) and :func:`unrolling_score` measures how well a 1-D coordinate of an embedding
  recovers the swiss roll's position along the spiral (|Spearman ρ|, 1 = perfectly unrolled).
* Latent paths: :func:`lerp` and :func:`slerp` (eq-man-slerp; direction on the great circle,
  norm interpolated linearly), and
  :func:`gaussian_norm_quantiles`, the exact quantiles of ‖z‖ for z ~ N(0, I_d) (a χ
  distribution), which concentrate around √d.
* The geometry a decoder induces (eq-man-metric): :func:`decoder_jacobian` (J(z), by autograd),
  :func:`pullback_metric` (G(z) = J(z)ᵀ J(z)) and :func:`curve_length` (the length of a latent
  path measured through the decoder, eq-man-length).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ._validate import check_array, check_finite, check_int, check_real, check_tensor

__all__ = [
    "pca_spectrum",
    "mle_intrinsic_dimension",
    "METHODS",
    "embed",
    "unrolling_score",
    "lerp",
    "slerp",
    "gaussian_norm_quantiles",
    "gaussian_norm_mean",
    "decoder_jacobian",
    "pullback_metric",
    "curve_length",
    "magnification",
]

METHODS = ("pca", "isomap", "lle", "tsne")


def _points(x: object, name: str = "x") -> np.ndarray:
    x = check_tensor(x, name, ndim=2)
    if x.shape[0] < 3:
        raise ValueError(f"{name} needs at least 3 rows (points); got {x.shape[0]}")
    return x.detach().cpu().double().numpy()


def pca_spectrum(x: Tensor) -> Tensor:
    """Share of the total variance along each principal direction, largest first (sums to 1).

    The eigenvalues of the sample covariance (divisor n − 1), from an SVD of the centred data."""
    pts = _points(x)
    centred = pts - pts.mean(axis=0)
    sing = np.linalg.svd(centred, compute_uv=False)
    var = sing**2
    if var.sum() == 0:
        raise ValueError("x has zero variance: every point is the same")
    return torch.from_numpy(var / var.sum())


def mle_intrinsic_dimension(x: Tensor, k: int = 10) -> float:
    """The Levina–Bickel maximum-likelihood estimate of intrinsic dimension (eq-man-mle).

    For each point, with T_j its distance to the j-th nearest neighbour,
    m̂_k(x)⁻¹ = (1/(k−1)) Σ_{j<k} log(T_k / T_j); the estimate is the inverse of the average of
    these inverses (MacKay and Ghahramani's correction, less biased than averaging m̂_k).
    Duplicate points are refused (a zero distance has no logarithm)."""
    pts = _points(x)
    k = check_int(k, "k", minimum=2)
    if k >= pts.shape[0]:
        raise ValueError(f"k must be smaller than the number of points ({pts.shape[0]}); got {k}")
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(pts).kneighbors(pts)
    dist = dist[:, 1:]  # drop the point itself
    if (dist[:, 0] <= 0).any():
        raise ValueError("x has duplicate points; remove them before estimating the dimension")
    inv = np.log(dist[:, -1:] / dist[:, :-1]).sum(axis=1) / (k - 1)
    return float(1.0 / inv.mean())


def embed(x: Tensor, method: str, n_neighbors: int = 10, *, seed: int = 0) -> np.ndarray:
    """A 2-D embedding of the rows of ``x`` by scikit-learn's ``method`` (one of
    :data:`METHODS`). ``n_neighbors`` is Isomap's and LLE's neighbourhood size and t-SNE's
    perplexity; PCA ignores it."""
    pts = _points(x)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=2)
    if n_neighbors >= pts.shape[0]:
        raise ValueError(f"n_neighbors must be smaller than the number of points ({pts.shape[0]})")
    seed = check_int(seed, "seed", minimum=0)
    if method == "tsne" and n_neighbors >= pts.shape[0] - 1:
        raise ValueError("t-SNE's perplexity must be smaller than the number of points")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2).fit_transform(pts)
    if method == "isomap":
        from sklearn.manifold import Isomap

        return Isomap(n_neighbors=n_neighbors, n_components=2).fit_transform(pts)
    if method == "lle":
        from sklearn.manifold import LocallyLinearEmbedding

        return LocallyLinearEmbedding(
            n_neighbors=n_neighbors, n_components=2, random_state=seed, eigen_solver="dense"
        ).fit_transform(pts)
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    # One thread: on a small, busy machine extra OpenMP threads only spin (measured: 5× slower).
    with threadpool_limits(limits=1):
        return TSNE(
            n_components=2,
            perplexity=float(min(n_neighbors, (pts.shape[0] - 1) / 3)),
            init="pca",
            max_iter=500,
            random_state=seed,
        ).fit_transform(pts)


def unrolling_score(embedding: np.ndarray | Tensor, t: np.ndarray | Tensor) -> float:
    """How well an embedding unrolls the roll: the largest |Spearman ρ| between ``t`` (the
    position along the spiral) and any direction of the embedding's plane (searched over 180
    angles). 1 means some straight line through the embedding orders the points exactly as the
    roll does; a projection that folds the spiral onto itself scores far lower."""
    from scipy.stats import rankdata

    emb = np.asarray(embedding.detach().cpu() if isinstance(embedding, Tensor) else embedding)
    tt = np.asarray(t.detach().cpu() if isinstance(t, Tensor) else t, dtype=float)
    if emb.ndim != 2 or emb.shape[1] != 2:
        raise ValueError(f"embedding must have shape (n, 2); got {emb.shape}")
    if tt.shape != (emb.shape[0],):
        raise ValueError(f"t must have shape ({emb.shape[0]},); got {tt.shape}")
    if not (np.isfinite(emb).all() and np.isfinite(tt).all()):
        raise ValueError("embedding and t must be finite")
    rt = rankdata(tt)
    rt = (rt - rt.mean()) / rt.std()
    best = 0.0
    for a in np.linspace(0, np.pi, 180, endpoint=False):
        proj = emb[:, 0] * np.cos(a) + emb[:, 1] * np.sin(a)
        rp = rankdata(proj)
        sd = rp.std()
        if sd == 0:
            continue
        best = max(best, abs(float(np.mean(rt * (rp - rp.mean()) / sd))))
    return best


def _pair(a: object, b: object) -> tuple[Tensor, Tensor]:
    a = check_tensor(a, "z0", min_ndim=1)
    b = check_tensor(b, "z1", min_ndim=1)
    if a.shape != b.shape:
        raise ValueError(
            f"z0 and z1 must have the same shape; got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    return a, b


def _fraction(t: object) -> float:
    return check_real(t, "t", low=0, high=1)


def lerp(z0: Tensor, z1: Tensor, t: float) -> Tensor:
    """Linear interpolation (1 − t) z0 + t z1 along the last dimension."""
    z0, z1 = _pair(z0, z1)
    t = _fraction(t)
    return (1 - t) * z0 + t * z1


def slerp(z0: Tensor, z1: Tensor, t: float) -> Tensor:
    """Spherical interpolation (eq-man-slerp) along the last dimension: the direction moves along
    the great circle, [sin((1 − t)Ω) u0 + sin(tΩ) u1] / sin Ω with u = z/‖z‖ and
    cos Ω = ⟨u0, u1⟩, and the norm moves linearly from ‖z0‖ to ‖z1‖.

    For vectors of equal norm this is the classic slerp formula. (Applied to vectors of unequal
    norm, the classic formula can overshoot both norms badly when Ω is close to π; interpolating
    the norm separately cannot.) Nearly parallel or opposite directions fall back to the
    normalised straight path between the directions."""
    z0, z1 = _pair(z0, z1)
    t = _fraction(t)
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    if (n0 == 0).any() or (n1 == 0).any():
        raise ValueError("slerp needs non-zero vectors (the angle to 0 is undefined)")
    u0, u1 = z0 / n0, z1 / n1
    cos = (u0 * u1).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    small = sin.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / safe
    straight = (1 - t) * u0 + t * u1
    straight = straight / straight.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    direction = torch.where(small, straight, direction)
    return ((1 - t) * n0 + t * n1) * direction


def gaussian_norm_quantiles(d: int, probs: Tensor | list[float]) -> Tensor:
    """Quantiles of ‖z‖ for z ~ N(0, I_d): the square roots of χ²_d quantiles (SciPy)."""
    from scipy.stats import chi2

    d = check_int(d, "d", minimum=1)
    p = torch.as_tensor(probs, dtype=torch.float64).cpu()  # SciPy works on the CPU
    check_finite(p, "probs")
    if ((p <= 0) | (p >= 1)).any():
        raise ValueError("probs must lie strictly between 0 and 1")
    return torch.from_numpy(np.sqrt(chi2.ppf(p.numpy(), d)))


def gaussian_norm_mean(d: int) -> float:
    """E‖z‖ for z ~ N(0, I_d): √2 Γ((d+1)/2) / Γ(d/2), which lies just below √d (the gap tends to
    0 like 1/(4√d))."""
    d = check_int(d, "d", minimum=1)
    return math.sqrt(2) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))


def _latent_point(decoder: object, z: object) -> Tensor:
    if not callable(decoder):
        raise TypeError(f"decoder must be a callable map from R^k to R^d; got {type(decoder)}")
    return check_tensor(z, "z", ndim=1)


def decoder_jacobian(decoder, z: Tensor) -> Tensor:
    """The Jacobian J(z) of ``decoder`` (a map from a 1-D tensor of k latent coordinates to a
    1-D tensor of d data coordinates) at ``z``: a d × k matrix, J_ij = ∂x_i/∂z_j, by autograd."""
    z = _latent_point(decoder, z)
    out = decoder(z)
    if not isinstance(out, Tensor) or out.ndim != 1:
        raise ValueError("decoder must return a 1-D tensor (the d coordinates of one point)")
    return torch.autograd.functional.jacobian(decoder, z)


def pullback_metric(decoder, z: Tensor) -> Tensor:
    """The metric the decoder induces on its latent space at ``z`` (eq-man-metric):
    G(z) = J(z)ᵀ J(z), a k × k symmetric positive semi-definite matrix."""
    jac = decoder_jacobian(decoder, z)
    return jac.T @ jac


def curve_length(decoder, path: Tensor) -> float:
    """The length of the decoded curve x(t) = decoder(z(t)) (eq-man-length), for a latent path
    given as an (n, k) tensor of points z(t_0), ..., z(t_{n-1}) with n >= 2.

    Each segment contributes sqrt(Δzᵀ G(z̄) Δz) with G the pull-back metric at the segment's
    midpoint z̄ (the midpoint rule of the length integral); the error falls like 1/n²."""
    path = check_tensor(path, "path", ndim=2)
    if path.shape[0] < 2:
        raise ValueError(f"path needs at least 2 points; got {path.shape[0]}")
    total = 0.0
    for a, b in zip(path[:-1], path[1:], strict=True):
        step = b - a
        g = pullback_metric(decoder, 0.5 * (a + b))
        total += float(torch.sqrt((step @ g @ step).clamp_min(0.0)))
    return total


def magnification(batch_decoder, points: Tensor) -> Tensor:
    """sqrt(det G(z)) at each row of ``points`` (n, k): the factor by which the decoder scales a
    small k-dimensional volume of latent space (the *magnification factor*).

    ``batch_decoder`` maps an (n, k) batch to (n, d), each row on its own (as a VAE's ``decode``
    does), so that all n Jacobians come from one batched autograd call."""
    if not callable(batch_decoder):
        raise TypeError("batch_decoder must be a callable map from (n, k) to (n, d)")
    points = check_tensor(points, "points", ndim=2)
    out = batch_decoder(points)
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != points.shape[0]:
        raise ValueError("batch_decoder must return one row (a 1-D point) per latent point")
    jac = torch.autograd.functional.jacobian(
        lambda zs: batch_decoder(zs).sum(0), points, vectorize=True
    )  # (d, n, k): row i of the output depends on row i of the input only
    jac = jac.permute(1, 0, 2)
    metric = jac.transpose(-1, -2) @ jac
    return torch.linalg.det(metric).clamp_min(0.0).sqrt()


# == moved from explore/manifolds.py ==


def gaussian_norm_pdf(d: int, r: Tensor | np.ndarray) -> np.ndarray:
    """Density of ‖z‖ for z ~ N(0, I_d) at ``r`` (the χ distribution with d degrees of freedom,
    SciPy), as a NumPy array."""
    from scipy.stats import chi

    d = check_int(d, "d", minimum=1)
    return chi(d).pdf(check_array(r, "r"))


def norm_along_paths(d: int, seed: int = 0, n_t: int = 41) -> dict[str, np.ndarray]:
    """Two draws z0, z1 ~ N(0, I_d) (a private generator seeded with ``seed``) and the norms
    along :func:`lerp` and :func:`slerp` between them at ``n_t`` values of t in [0, 1]; plus the
    1 % and 99 % quantiles of ‖z‖ (exact)."""
    d = check_int(d, "d", minimum=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    z0, z1 = torch.randn(2, d, generator=gen, dtype=torch.float64)
    ts = np.linspace(0.0, 1.0, check_int(n_t, "n_t", minimum=2))
    lin = np.array([float(lerp(z0, z1, float(t)).norm()) for t in ts])
    sph = np.array([float(slerp(z0, z1, float(t)).norm()) for t in ts])
    lo, hi = gaussian_norm_quantiles(d, [0.01, 0.99]).tolist()
    return {"t": ts, "lerp": lin, "slerp": sph, "q01": lo, "q99": hi}


__all__ += ["gaussian_norm_pdf", "norm_along_paths"]
