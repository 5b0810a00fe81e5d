"""Figures of the functional-analysis chapter: the numbers they print against independent
references (closed forms, SciPy, POT, scikit-learn), and both display modes."""

from __future__ import annotations

import math
import re

import numpy as np
import ot
import pytest
import torch
from scipy import stats
from scipy.optimize import brentq
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.metrics import pairwise

from companion import functional as fa
from companion.explore import functional as ex

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"= (-?\d+\.\d+(?:e[-+]\d+)?)", text)]


@pytest.mark.parametrize("n", [1.0, 3.0, 17.0, 40.0])
def test_cauchy_figure_prints_the_closed_forms(n):
    l1, sup, to_step = numbers(ex.cauchy_figure(n).layout.title.text)
    # the title rounds to 6 and 3 decimals
    assert l1 == pytest.approx(1 / (8 * n), abs=1e-6)
    assert sup == pytest.approx(0.25, abs=5e-4)
    assert to_step == pytest.approx(1 / (4 * n), abs=1e-6)
    # unrounded: exact up to rounding, since the grid holds every corner
    assert ex._distances(n) == pytest.approx((1 / (8 * n), 0.25, 1 / (4 * n)), abs=1e-11)


@pytest.mark.parametrize(
    ("q", "verdict"),
    [(0.3, "contraction"), (0.9, "contraction"), (1.1, "converges anyway"), (1.5, "no conv")],
)
def test_contraction_figure(q, verdict):
    fig = ex.contraction_figure(q)
    title = fig.layout.title.text
    assert verdict in title
    star = brentq(lambda x: x - q * math.cos(x), -3, 3, xtol=1e-15)
    assert fa.cos_fixed_point(q) == pytest.approx(star, abs=1e-14)
    # The error trace is |x_n - x*| for the iterates of q cos x, recomputed here in plain Python.
    x, errs = 2.5, []
    for _ in range(41):
        errs.append(max(abs(x - star), 1e-16))
        x = q * math.cos(x)
    np.testing.assert_allclose(fig.data[3].y, errs, rtol=1e-9, atol=1e-15)
    if q < 1:
        bound = np.array(fig.data[4].y)
        assert np.all(np.array(errs) <= bound + 1e-15)
    else:
        assert len(fig.data[4].y) == 0


@pytest.mark.parametrize(("log10_h", "log10_lam"), [(-1.0, -2.0), (-2.0, -6.0), (0.0, 1.0)])
def test_krr_figure_numbers_match_scikit_learn(log10_h, log10_lam):
    h, lam = 10.0**log10_h, 10.0**log10_lam
    x, y = ex.krr_data()
    ref = SkKernelRidge(alpha=lam, kernel="rbf", gamma=1 / (2 * h * h))
    ref.fit(x.numpy()[:, None], y.numpy())
    fig = ex.krr_figure(log10_h, log10_lam)
    train, _, norm = numbers(fig.layout.title.text)[2:]
    mse = np.mean((ref.predict(x.numpy()[:, None]) - y.numpy()) ** 2)
    assert train == pytest.approx(mse, abs=1e-4)
    K = pairwise.rbf_kernel(x.numpy()[:, None], gamma=1 / (2 * h * h))
    assert norm == pytest.approx(math.sqrt(ref.dual_coef_ @ K @ ref.dual_coef_), rel=1e-3, abs=0.01)
    grid = np.asarray(fig.data[2].x)
    np.testing.assert_allclose(fig.data[2].y, ref.predict(grid[:, None]), atol=1e-6)


@pytest.mark.parametrize("kernel", sorted(ex.GP_KERNELS))
def test_gp_figure_band_and_paths(kernel):
    fig = ex.gp_figure(kernel, -0.2)
    ell = 10**-0.2
    t = np.asarray(fig.data[1].x)
    band_top = np.asarray(fig.data[0].y)[: len(t)]
    if kernel == "polynomial":
        expected_sd = (t / ell) ** 2 + 1  # sqrt((t²/ℓ² + 1)²)
    else:
        expected_sd = np.ones_like(t)
    np.testing.assert_allclose(band_top, 2 * expected_sd, rtol=1e-12)
    assert len(fig.data) == 6
    if kernel == "polynomial":
        for tr in fig.data[1:]:
            fit = np.polyval(np.polyfit(t, tr.y, 2), t)
            assert np.abs(fit - tr.y).max() < 1e-3 * max(1.0, np.abs(tr.y).max())


@pytest.mark.parametrize("shift", [-3.0, 0.0, 1.0, 2.5])
def test_kr_figure_primal_and_dual_match_references(shift):
    fig = ex.kr_figure(shift)
    primal, dual, _gap = numbers(fig.layout.title.text)[1:]
    x, y0 = ex.kr_points()
    y = (y0 + shift).numpy()
    assert primal == pytest.approx(stats.wasserstein_distance(x.numpy(), y), abs=1e-6)
    emd = ot.emd2(np.full(6, 1 / 6), np.full(5, 1 / 5), np.abs(x.numpy()[:, None] - y[None, :]))
    assert dual == pytest.approx(emd, abs=1e-6)
    slopes = np.asarray(fig.data[4].y)
    assert np.all(np.abs(slopes) <= 1 + 1e-9)


def test_kr_figure_far_shift_gives_slope_minus_one():
    fig = ex.kr_figure(3.0)
    x, y0 = ex.kr_points()
    y = y0 + 3.0
    assert x.max() < y.min()  # the chapter's "Try this" relies on it
    assert (y0 - 3.0).max() < x.min()
    mid, slope = np.asarray(fig.data[4].x), np.asarray(fig.data[4].y)
    inside = (mid > x.min().item() + 0.05) & (mid < y.max().item() - 0.05)
    np.testing.assert_allclose(slope[inside], -1.0, atol=1e-9)
    primal = numbers(fig.layout.title.text)[1]
    assert primal == pytest.approx((y.mean() - x.mean()).item(), abs=1e-6)


@pytest.mark.parametrize("kernel", sorted(ex.WITNESS_KERNELS))
@pytest.mark.parametrize("s", [0.0, 0.5, 0.95])
def test_witness_figure(kernel, s):
    fig = ex.witness_figure(kernel, s)
    mmd2, gap = numbers(fig.layout.title.text)[-2:]
    x, y = ex.witness_samples(s)
    xn, yn = x.numpy()[:, None], y.numpy()[:, None]
    assert abs(xn.mean()) < 1e-12 and np.mean(xn**2) == pytest.approx(1.0, abs=1e-12)
    assert abs(yn.mean()) < 1e-12 and np.mean(yn**2) == pytest.approx(1.0, abs=1e-12)
    _, name, params = ex.WITNESS_KERNELS[kernel]
    if name == "rbf":
        g = 1 / (2 * params["bandwidth"] ** 2)
        kfun = lambda a, b: pairwise.rbf_kernel(a, b, gamma=g)  # noqa: E731
    elif name == "laplace":
        kfun = lambda a, b: pairwise.laplacian_kernel(a, b, gamma=1.0)  # noqa: E731
    elif name == "polynomial":
        kfun = lambda a, b: pairwise.polynomial_kernel(a, b, degree=2, gamma=1, coef0=1)  # noqa: E731
    else:
        kfun = pairwise.linear_kernel
    ref = kfun(xn, xn).mean() + kfun(yn, yn).mean() - 2 * kfun(xn, yn).mean()
    assert mmd2 == pytest.approx(max(ref, 0.0), abs=2e-6)
    assert gap == pytest.approx(math.sqrt(max(ref, 0.0)), abs=2e-6 if ref > 1e-10 else 1e-6)
    if name in ("polynomial", "linear"):
        assert ref < 1e-12 and np.all(np.asarray(fig.data[2].y) == 0.0)


def test_witness_characteristic_kernels_see_the_difference():
    for s in (0.5, 0.95):
        for kernel in ("gauss05", "laplace"):
            assert numbers(ex.witness_figure(kernel, s).layout.title.text)[-2] > 1e-4


def test_figures_reject_bad_parameters():
    with pytest.raises(ValueError, match="n must be"):
        ex.cauchy_figure(0.5)
    with pytest.raises(ValueError, match="kernel"):
        ex.gp_figure("cosine", 0.0)
    with pytest.raises(ValueError, match="kernel"):
        ex.witness_figure("cosine", 0.5)
    with pytest.raises(ValueError, match="s must"):
        ex.witness_samples(1.0)
    with pytest.raises(ValueError, match="q must"):
        fa.cos_fixed_point(0.0)
    with pytest.raises(TypeError):
        ex.kr_figure("1")


def test_figures_leave_the_global_random_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    ex.gp_figure("laplace", 0.1)
    ex.witness_samples.cache_clear()
    ex.witness_figure("gauss2", 0.33)
    assert torch.equal(torch.rand(2), expected)
