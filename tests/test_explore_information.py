"""The information-theory chapter's figures and computations, against independent references.

References used: SciPy (entropies, adaptive quadrature, optimisers, the bivariate normal CDF),
torch.distributions (entropies and KL of normals) and closed forms written out here. Nothing
below takes its expected value from companion.explore.information itself.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import plotly.graph_objects as go
import pytest
import scipy.integrate
import scipy.optimize
import scipy.stats
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from companion.explore import information as ei
from companion.figures import LiveFigure, StaticFigure

LOG2 = math.log(2.0)
W_LEFT, W_RIGHT = 0.4, 0.6  # the chapter's mixture: 0.4 N(-s/2, 1) + 0.6 N(s/2, 1)


def numbers(text: str, unit: str) -> list[float]:
    """Every ``= <number> <unit>`` in a title, in order."""
    return [float(v) for v in re.findall(rf"= (-?\d+\.\d+) {unit}", text)]


def decode(arr) -> np.ndarray:
    """Plotly JSON arrays are plain lists or base64 typed arrays ({'dtype', 'bdata'})."""
    if isinstance(arr, dict) and "bdata" in arr:
        import base64

        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))
    return np.asarray(arr, dtype=float)


# ---------------------------------------------------------------------------------------------
# independent references for the two-mode mixture


def log_npdf(x, mu=0.0, sd=1.0):
    return -0.5 * ((x - mu) / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi))


def log_mix(x, s):
    return np.logaddexp(
        math.log(W_LEFT) + log_npdf(x, -s / 2), math.log(W_RIGHT) + log_npdf(x, s / 2)
    )


def kl_quad(mu, sd, s, direction):
    """KL(p‖q) or KL(q‖p) for q = N(mu, sd²) by SciPy's adaptive quadrature."""
    if direction == "forward":

        def g(x):
            return math.exp(log_mix(x, s)) * (log_mix(x, s) - log_npdf(x, mu, sd))

        lo, hi = -s / 2 - 15, s / 2 + 15
    else:

        def g(x):
            return math.exp(log_npdf(x, mu, sd)) * (log_npdf(x, mu, sd) - log_mix(x, s))

        lo, hi = mu - 15 * sd, mu + 15 * sd
    pts = sorted(v for v in {-s / 2, s / 2, mu} if lo < v < hi)
    return scipy.integrate.quad(g, lo, hi, points=pts, limit=200, epsabs=1e-12, epsrel=1e-12)[0]


def moment_match(s):
    """Mean and standard deviation of the mixture, by the law of total variance."""
    w, m = np.array([W_LEFT, W_RIGHT]), np.array([-s / 2, s / 2])
    mean = float((w * m).sum())
    return mean, math.sqrt(1.0 + float((w * (m - mean) ** 2).sum()))


def reverse_reference(s, mu0):
    """SciPy's Nelder–Mead on the quadrature reverse KL over (mu, log sigma), from (mu0, 1)."""
    res = scipy.optimize.minimize(
        lambda v: kl_quad(v[0], math.exp(v[1]), s, "reverse"),
        [mu0, 0.0],
        method="Nelder-Mead",
        options=dict(xatol=1e-6, fatol=1e-11, maxiter=2000),
    )
    return res.x[0], math.exp(res.x[1]), res.fun


# ---------------------------------------------------------------------------------------------
# Bernoulli entropy


@pytest.mark.parametrize("p", [0.0, 0.025, 0.3, 0.5, 0.77, 1.0])
def test_bernoulli_title_matches_scipy(p):
    fig = ei.bernoulli_entropy_figure(p)
    title = fig.layout.title.text
    nats, bits = numbers(title, "nats")[0], numbers(title, "bits")[0]
    ref = scipy.stats.entropy([p, 1 - p])
    assert nats == pytest.approx(ref, abs=1e-6)
    assert bits == pytest.approx(scipy.stats.entropy([p, 1 - p], base=2), abs=1e-6)
    marker = fig.data[2]
    assert list(marker.x) == [p, p] and marker.y[1] == pytest.approx(ref, abs=1e-12)


def test_bernoulli_curve_is_the_binary_entropy():
    fig = ei.bernoulli_entropy_figure(0.5)
    x, y = np.asarray(fig.data[0].x, dtype=float), np.asarray(fig.data[0].y, dtype=float)
    ref = np.array([scipy.stats.entropy([v, 1 - v]) for v in x])
    np.testing.assert_allclose(y, ref, atol=1e-6)
    assert fig.data[1].y[0] == pytest.approx(LOG2)


# ---------------------------------------------------------------------------------------------
# forward and reverse KL


@pytest.mark.parametrize("s", [0.0, 0.5, 3.0, 4.75, 6.0, 8.0, 12.0])
@pytest.mark.parametrize("start", ["left", "right"])
def test_forward_fit_is_moment_matching(s, start):
    fit = ei.fit_gaussian_kl(s, "forward", start=start)
    mean, sd = moment_match(s)
    assert fit.mu == pytest.approx(mean, abs=1e-4)
    assert fit.sigma == pytest.approx(sd, abs=1e-4)
    assert fit.kl == pytest.approx(kl_quad(mean, sd, s, "forward"), abs=1e-7)


@pytest.mark.parametrize(
    ("mu", "sigma", "s"),
    [(0.0, 1.0, 0.0), (0.3, 2.0, 3.0), (-2.0, 0.5, 6.0), (4.0, 1.0, 8.0), (1.0, 6.0, 12.0)],
)
def test_kl_objectives_match_quadrature(mu, sigma, s):
    assert ei.kl_forward(mu, sigma, s).item() == pytest.approx(
        kl_quad(mu, sigma, s, "forward"), abs=1e-8
    )
    assert ei.kl_reverse(mu, sigma, s).item() == pytest.approx(
        kl_quad(mu, sigma, s, "reverse"), abs=1e-8
    )


def test_kl_objectives_at_zero_separation_are_gaussian_kls():
    # With s = 0 the mixture is N(0, 1): both directions are Gaussian KLs (torch.distributions).
    q = Normal(torch.tensor(0.7, dtype=torch.float64), torch.tensor(1.8, dtype=torch.float64))
    p = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    forward, reverse = ei.kl_forward(0.7, 1.8, 0.0), ei.kl_reverse(0.7, 1.8, 0.0)
    assert forward.item() == pytest.approx(kl_divergence(p, q).item(), abs=1e-10)
    assert reverse.item() == pytest.approx(kl_divergence(q, p).item(), abs=1e-10)


def test_kl_objectives_are_differentiable():
    mu = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    ei.kl_reverse(mu, sigma, 5.0).backward()
    e = 1e-5

    def rev(m, sd):
        return kl_quad(m, sd, 5.0, "reverse")

    fd_mu = (rev(0.4 + e, 1.3) - rev(0.4 - e, 1.3)) / (2 * e)
    fd_sd = (rev(0.4, 1.3 + e) - rev(0.4, 1.3 - e)) / (2 * e)
    assert mu.grad.item() == pytest.approx(fd_mu, abs=1e-5)
    assert sigma.grad.item() == pytest.approx(fd_sd, abs=1e-5)


@pytest.mark.parametrize(("s", "start"), [(2.0, "left"), (6.0, "right"), (6.0, "left")])
def test_reverse_fit_matches_scipy_from_the_same_start(s, start):
    mu0 = -s / 2 if start == "left" else s / 2
    mu_ref, sd_ref, kl_ref = reverse_reference(s, mu0)
    fit = ei.fit_gaussian_kl(s, "reverse", start=start)
    assert fit.mu == pytest.approx(mu_ref, abs=1e-3)
    assert fit.sigma == pytest.approx(sd_ref, abs=1e-3)
    assert fit.kl == pytest.approx(kl_ref, abs=1e-8)


def test_reverse_is_mode_seeking_and_forward_mass_covering():
    s = 8.0
    right = ei.fit_gaussian_kl(s, "reverse", start="right")
    left = ei.fit_gaussian_kl(s, "reverse", start="left")
    fwd = ei.fit_gaussian_kl(s, "forward")
    # Each reverse fit sits on one mode, with about the component's width ...
    assert right.mu == pytest.approx(s / 2, abs=0.1) and right.sigma == pytest.approx(1, abs=0.05)
    assert left.mu == pytest.approx(-s / 2, abs=0.1) and left.sigma == pytest.approx(1, abs=0.05)
    # ... and the heavier mode gives the smaller reverse KL (about log(1/0.6) vs log(1/0.4)).
    assert right.kl == pytest.approx(math.log(1 / W_RIGHT), abs=0.01)
    assert left.kl == pytest.approx(math.log(1 / W_LEFT), abs=0.01)
    # The forward fit sits between the modes and is wide enough to cover both.
    assert -s / 2 + 1 < fwd.mu < s / 2 - 1 and fwd.sigma > s / 2 - 0.5
    # Each fit is poor by the other criterion.
    assert kl_quad(right.mu, right.sigma, s, "forward") > 5 * fwd.kl
    assert kl_quad(fwd.mu, fwd.sigma, s, "reverse") > right.kl


def test_reverse_starts_agree_for_close_modes():
    for s in (0.0, 1.0, 2.5):
        a = ei.fit_gaussian_kl(s, "reverse", start="left")
        b = ei.fit_gaussian_kl(s, "reverse", start="right")
        assert a.mu == pytest.approx(b.mu, abs=1e-5) and a.sigma == pytest.approx(b.sigma, abs=1e-5)


def test_fits_are_cached():
    a = ei.fit_gaussian_kl(3.3, "reverse", start="left")
    assert ei.fit_gaussian_kl(3.3, "reverse", start="left") is a


@pytest.mark.parametrize("s", [0.0, 4.75, 6.0, 8.0])
def test_kl_figure_title_and_curves(s):
    fig = ei.kl_fit_figure(s)
    title = fig.layout.title.text
    values = numbers(title, "nats")
    mean, sd = moment_match(s)
    assert values[0] == pytest.approx(kl_quad(mean, sd, s, "forward"), abs=1e-4)
    # reverse values: the right start first, then the left one (when they differ)
    mu_r, _, kl_r = reverse_reference(s, s / 2)
    assert values[1] == pytest.approx(kl_r, abs=1e-4)
    if "both starts agree" in title:
        assert len(values) == 2
    else:
        mu_l, _, kl_l = reverse_reference(s, -s / 2)
        assert len(values) == 3 and values[2] == pytest.approx(kl_l, abs=1e-4)
        assert abs(mu_l - mu_r) > 1e-2
    # The drawn curves: the mixture, and each Gaussian with the parameters in its legend entry.
    x = np.asarray(fig.data[0].x, dtype=float)
    np.testing.assert_allclose(
        np.asarray(fig.data[0].y, dtype=float), np.exp(log_mix(x, s)), rtol=1e-5, atol=1e-7
    )
    for trace in fig.data[1:]:
        mu, sigma = map(float, re.search(r"N\((-?[\d.]+), ([\d.]+)²\)", trace.name).groups())
        np.testing.assert_allclose(
            np.asarray(trace.y, dtype=float),
            scipy.stats.norm.pdf(x, mu, sigma),
            rtol=0,
            atol=5e-3 * scipy.stats.norm.pdf(0, 0, sigma) + 1e-7,  # legend rounds to 2 digits
        )


def test_mixture_log_density_matches_scipy():
    x = torch.linspace(-10, 10, 41, dtype=torch.float64)
    xs = x.numpy()
    ref = np.log(W_LEFT * scipy.stats.norm.pdf(xs, -2.5) + W_RIGHT * scipy.stats.norm.pdf(xs, 2.5))
    np.testing.assert_allclose(ei.mixture_log_density(x, 5.0).numpy(), ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# mutual information of a bivariate normal


def mi_from_torch_entropies(rho):
    """I = h(X) + h(Y) - h(X, Y) from torch.distributions' entropies."""
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    joint = MultivariateNormal(torch.zeros(2, dtype=torch.float64), covariance_matrix=cov)
    h1 = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    return 2 * h1.entropy().item() - joint.entropy().item()


@pytest.mark.parametrize("rho", [-0.99, -0.5, 0.0, 0.36, 0.81, 0.99])
def test_mi_title_matches_torch_entropies(rho):
    fig = ei.gaussian_mi_figure(rho)
    nats = numbers(fig.layout.title.text, "nats")[0]
    bits = numbers(fig.layout.title.text, "bits")[0]
    ref = mi_from_torch_entropies(rho)
    assert nats == pytest.approx(ref, abs=1e-4)
    assert bits == pytest.approx(ref / LOG2, abs=1e-4)
    assert fig.data[3].y[0] == pytest.approx(ref, abs=1e-9)  # the marker on the curve


def test_mi_figure_draws_and_contours():
    rho = 0.81
    fig = ei.gaussian_mi_figure(rho)
    x, y = np.asarray(fig.data[0].x, dtype=float), np.asarray(fig.data[0].y, dtype=float)
    assert len(x) == 300
    # The draws have about the right correlation (300 draws: standard error ≈ (1 - ρ²)/√300).
    assert np.corrcoef(x, y)[0, 1] == pytest.approx(rho, abs=4 * (1 - rho**2) / math.sqrt(300))
    # The contours are the ellipses v^T Σ^{-1} v = r² for r = 1 and 2.
    ex, ey = np.asarray(fig.data[1].x, dtype=float), np.asarray(fig.data[1].y, dtype=float)
    ok = ~np.isnan(ex)
    sigma_inv = np.linalg.inv(np.array([[1.0, rho], [rho, 1.0]]))
    v = np.stack([ex[ok], ey[ok]])
    radius2 = np.einsum("in,ij,jn->n", v, sigma_inv, v)
    assert set(np.round(radius2, 3)) == {1.0, 4.0}


def binned_mi_scipy(rho, edges):
    """Discrete MI of the binned bivariate normal, cells from SciPy's multivariate normal CDF."""
    mvn = scipy.stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]])
    e = np.array(edges, dtype=float)
    cdf = np.array(
        [[mvn.cdf([a, b]) if np.isfinite(a) and np.isfinite(b) else np.nan for b in e] for a in e]
    )
    # fill the infinite edges: F(-inf, .) = 0, F(inf, b) = Φ(b)
    n = len(e)
    for i in range(n):
        for j in range(n):
            a, b = e[i], e[j]
            if a == -np.inf or b == -np.inf:
                cdf[i, j] = 0.0
            elif a == np.inf:
                cdf[i, j] = scipy.stats.norm.cdf(b)
            elif b == np.inf:
                cdf[i, j] = scipy.stats.norm.cdf(a)
    cells = cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]
    cells = np.clip(cells, 0, None)
    px, py = cells.sum(1), cells.sum(0)
    return scipy.stats.entropy(cells.ravel(), np.outer(px, py).ravel())


@pytest.mark.parametrize("rho", [0.0, 0.6, -0.9])
def test_binned_mi_matches_scipy_cdf(rho):
    bins, h = 4, 3.0
    edges = [-np.inf, *np.linspace(-h, h, bins + 1)[1:-1], np.inf]
    ours = ei.gaussian_mi_quantised(rho, bins=bins, half_width=h)
    assert ours == pytest.approx(binned_mi_scipy(rho, edges), abs=2e-5)


def test_binned_mi_rises_to_the_formula():
    exact = -0.5 * math.log(1 - 0.9**2)
    values = [ei.gaussian_mi_quantised(0.9, bins=b) for b in (5, 10, 20, 40, 80)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < exact and exact - values[-1] < 0.03


# ---------------------------------------------------------------------------------------------
# binary symmetric channel


def bsc_mi_bits_scipy(a, e):
    py1 = a * (1 - e) + (1 - a) * e
    return scipy.stats.entropy([py1, 1 - py1], base=2) - scipy.stats.entropy([e, 1 - e], base=2)


@pytest.mark.parametrize("eps", [0.0, 0.025, 0.1, 0.5, 0.8, 1.0])
def test_bsc_title_is_the_maximised_mutual_information(eps):
    fig = ei.bsc_figure(eps)
    bits = numbers(fig.layout.title.text, "bits per use")[0]
    nats = numbers(fig.layout.title.text, "nats per use")[0]
    res = scipy.optimize.minimize_scalar(
        lambda a: -bsc_mi_bits_scipy(a, eps),
        bounds=(0, 1),
        method="bounded",
        options=dict(xatol=1e-10),
    )
    assert bits == pytest.approx(-res.fun, abs=1e-4)
    assert nats == pytest.approx(-res.fun * LOG2, abs=1e-4)
    # The left panel's curve is I(X; Y) against the input; its marked peak is at 1/2.
    a = np.asarray(fig.data[0].x, dtype=float)
    ref = np.array([bsc_mi_bits_scipy(v, eps) for v in a])
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), ref, atol=1e-6)
    assert fig.data[1].x[0] == 0.5 and fig.data[1].y[0] == pytest.approx(-res.fun, abs=1e-6)


def test_bsc_mutual_information_vectorised_and_in_nats():
    a = torch.tensor([0.0, 0.2, 0.5, 1.0], dtype=torch.float64)
    e = torch.tensor([0.1, 0.1, 0.3, 0.9], dtype=torch.float64)
    ours = ei.bsc_mutual_information(a, e, base=None).numpy()
    ref = np.array([bsc_mi_bits_scipy(x, y) for x, y in zip(a.tolist(), e.tolist(), strict=True)])
    np.testing.assert_allclose(ours, ref * LOG2, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Jensen–Shannon vs KL


def js_quad(d):
    def g(x):
        lp, lq = scipy.stats.norm.logpdf(x), scipy.stats.norm.logpdf(x, d)
        lm = np.logaddexp(lp, lq) - LOG2
        return 0.5 * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm))

    return scipy.integrate.quad(g, -15, d + 15, points=[0, d], limit=200)[0]


@pytest.mark.parametrize("d", [0.0, 0.3, 1.0, 4.0, 10.0])
def test_js_gaussian_shift_matches_quadrature(d):
    assert ei.js_gaussian_shift(d).item() == pytest.approx(js_quad(d), abs=1e-8)


def test_js_kl_figure():
    fig = ei.js_kl_shift_figure()
    d = np.asarray(fig.data[0].x, dtype=float)
    ref_kl = [
        kl_divergence(
            Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)),
            Normal(torch.tensor(v, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)),
        ).item()
        for v in d
    ]
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), ref_kl, rtol=1e-6)
    js = np.asarray(fig.data[1].y, dtype=float)
    assert js.max() <= LOG2 + 1e-6 and js[-1] > LOG2 - 1e-3
    assert np.all(np.diff(js) >= -1e-7)


# ---------------------------------------------------------------------------------------------
# static and live modes


@pytest.mark.parametrize(
    ("make", "values"),
    [
        (ei.bernoulli_entropy_figure, [0.0, 0.5, 1.0]),
        (ei.kl_fit_figure, [0.0, 6.0]),
        (ei.gaussian_mi_figure, [-0.99, 0.0, 0.99]),
        (ei.bsc_figure, [0.0, 0.5, 1.0]),
        (lambda _: ei.js_kl_shift_figure(), [None]),
    ],
)
def test_figures_are_valid_plotly(make, values):
    # The figure functions skip plotly's validation for speed; validate what they build here.
    for v in values:
        spec = make(v).to_plotly_json()
        go.Figure(spec)  # raises ValueError on an invalid property
        assert all(trace["type"] == "scatter" for trace in spec["data"])


@pytest.mark.parametrize(
    ("explorer", "n_frames", "lo", "hi"),
    [
        (ei.bernoulli_entropy_explorer, 41, 0.0, 1.0),
        (ei.kl_fit_explorer, 33, 0.0, 8.0),
        (ei.gaussian_mi_explorer, 23, -0.99, 0.99),
        (ei.bsc_explorer, 41, 0.0, 1.0),
    ],
)
def test_static_explorers(explorer, n_frames, lo, hi):
    fig = explorer(mode="static")
    assert isinstance(fig, StaticFigure)
    steps = [float(s.label) for s in fig.figure.layout.sliders[0].steps]
    assert len(steps) == n_frames and steps[0] == lo and steps[-1] == hi
    assert len(fig.payload["frames"]) == n_frames
    titles = [f["layout"]["title"]["text"] for f in fig.payload["frames"]]
    assert len(set(titles)) > n_frames // 2  # the printed numbers change with the slider
    html = fig.to_html()
    assert len(html) < 600_000  # keeps the page small


def test_static_frames_hold_the_right_values():
    fig = ei.bernoulli_entropy_explorer(mode="static")
    for k, frame in enumerate(fig.payload["frames"]):
        p = k / 40
        nats = numbers(frame["layout"]["title"]["text"], "nats")[0]
        assert nats == pytest.approx(scipy.stats.entropy([p, 1 - p]), abs=1e-6)
        assert decode(frame["data"]["y"][0])[1] == pytest.approx(nats, abs=1e-6)
    fig = ei.gaussian_mi_explorer(mode="static")
    for k, frame in enumerate(fig.payload["frames"]):
        rho = -0.99 + 0.09 * k
        nats = numbers(frame["layout"]["title"]["text"], "nats")[0]
        assert nats == pytest.approx(-0.5 * math.log(1 - rho**2), abs=1e-4)


@pytest.mark.parametrize(
    ("explorer", "name", "values", "check"),
    [
        (
            ei.bernoulli_entropy_explorer,
            "p",
            [0.123, 0.0, 1.0, 0.6789],
            lambda v, t: (
                numbers(t, "nats")[0] == pytest.approx(scipy.stats.entropy([v, 1 - v]), abs=1e-6)
            ),
        ),
        (
            ei.gaussian_mi_explorer,
            "rho",
            [0.123, -0.99, 0.99, -0.5],
            lambda v, t: (
                numbers(t, "nats")[0] == pytest.approx(mi_from_torch_entropies(v), abs=1e-4)
            ),
        ),
        (
            ei.bsc_explorer,
            "eps",
            [0.0123, 0.0, 1.0, 0.4],
            lambda v, t: (
                numbers(t, "bits per use")[0]
                == pytest.approx(1 - scipy.stats.entropy([v, 1 - v], base=2), abs=1e-4)
            ),
        ),
        (
            ei.kl_fit_explorer,
            "separation",
            [3.3, 0.0, 8.0, 5.7],
            lambda v, t: (
                numbers(t, "nats")[0]
                == pytest.approx(kl_quad(*moment_match(v), v, "forward"), abs=1e-4)
            ),
        ),
    ],
)
def test_live_explorers_update_in_place(explorer, name, values, check):
    fig = explorer(mode="live")
    assert isinstance(fig, LiveFigure)
    widget = fig.figure
    for v in values:
        fig.update(**{name: v})  # off the website's grid too
        assert fig.figure is widget
        assert check(v, fig.figure.layout.title.text), (v, fig.figure.layout.title.text)
    # Timing (informational, not asserted): after warm-up, each update at a visited value.
    times = []
    for v in values:
        t0 = time.perf_counter()
        fig.update(**{name: v})
        times.append(time.perf_counter() - t0)
    print(f"\n{explorer.__name__}: live update {1000 * max(times):.1f} ms (max over {len(times)})")


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: ei.bernoulli_entropy_figure(-0.1), ValueError, "p must lie in"),
        (lambda: ei.bernoulli_entropy_figure(1.5), ValueError, "p must lie in"),
        (lambda: ei.bernoulli_entropy_figure("0.5"), TypeError, "p must be a real number"),
        (lambda: ei.bernoulli_entropy_figure(float("nan")), ValueError, "finite"),
        (lambda: ei.fit_gaussian_kl(-1.0), ValueError, "separation"),
        (lambda: ei.fit_gaussian_kl(13.0), ValueError, "separation"),
        (lambda: ei.fit_gaussian_kl(True), TypeError, "separation"),
        (lambda: ei.fit_gaussian_kl(2.0, "sideways"), ValueError, "direction"),
        (lambda: ei.fit_gaussian_kl(2.0, 1), TypeError, "direction"),
        (lambda: ei.fit_gaussian_kl(2.0, "reverse", start="middle"), ValueError, "start"),
        (lambda: ei.kl_forward(0.0, 0.0, 2.0), ValueError, "sigma"),
        (lambda: ei.kl_reverse(0.0, -1.0, 2.0), ValueError, "sigma"),
        (lambda: ei.kl_reverse(0.0, 11.0, 2.0), ValueError, "sigma"),
        (lambda: ei.kl_reverse(torch.zeros(2), 1.0, 2.0), TypeError, "mu"),
        (lambda: ei.kl_reverse(float("inf"), 1.0, 2.0), ValueError, "mu"),
        (lambda: ei.mixture_log_density([0.0, 1.0], 2.0), TypeError, "x"),
        (lambda: ei.mixture_log_density(torch.arange(3), 2.0), TypeError, "x"),
        (lambda: ei.kl_fit_figure(-0.5), ValueError, "separation"),
        (lambda: ei.gaussian_mi_figure(1.0), ValueError, "rho"),
        (lambda: ei.gaussian_mi_figure(-1.0), ValueError, "rho"),
        (lambda: ei.gaussian_mi_figure(None), TypeError, "rho"),
        (lambda: ei.gaussian_mi_quantised(0.5, bins=1), ValueError, "bins"),
        (lambda: ei.gaussian_mi_quantised(0.5, bins=2.5), TypeError, "bins"),
        (lambda: ei.gaussian_mi_quantised(0.5, half_width=0.0), ValueError, "half_width"),
        (lambda: ei.bsc_figure(1.01), ValueError, "eps"),
        (lambda: ei.bsc_mutual_information(0.5, -0.2), ValueError, "eps"),
        (lambda: ei.bsc_mutual_information(torch.tensor([1, 0]), 0.1), TypeError, "input_p"),
        (lambda: ei.bsc_mutual_information(torch.tensor([0.5, 1.2]), 0.1), ValueError, "input_p"),
        (lambda: ei.js_gaussian_shift(-1.0), ValueError, "delta"),
        (lambda: ei.js_gaussian_shift(torch.tensor([1.0, 11.0])), ValueError, "delta"),
        (lambda: ei.bsc_explorer(mode="static", steps=1), ValueError, "steps"),
        (lambda: ei.kl_fit_explorer(mode="sideways"), ValueError, "mode"),
    ],
)
def test_bad_input_is_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_log_mix_equals_logsumexp_of_the_components():
    """The mixture's log-density (logaddexp of the two components) against a logsumexp."""
    x = torch.linspace(-30.0, 30.0, 6001, dtype=torch.float64)
    for s in (0.0, 0.37, 6.0, ei.MAX_SEPARATION):
        comps = torch.stack(
            [
                math.log(w) - 0.5 * (x - m) ** 2 - 0.5 * math.log(2 * math.pi)
                for w, m in zip(ei.MIXTURE_WEIGHTS, (-s / 2, s / 2), strict=True)
            ]
        )
        ref = torch.logsumexp(comps, dim=0)
        torch.testing.assert_close(ei.mixture_log_density(x, s), ref, rtol=1e-14, atol=1e-12)
