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
from test_information import bsc_mi_bits_scipy, kl_quad, log_mix, moment_match, reverse_reference
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from companion.explore import information as ei
from companion.figures import LiveFigure

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


# ---------------------------------------------------------------------------------------------
# binary symmetric channel


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


# ---------------------------------------------------------------------------------------------
# Jensen–Shannon vs KL


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
        (lambda: ei.kl_fit_figure(-0.5), ValueError, "separation"),
        (lambda: ei.gaussian_mi_figure(1.0), ValueError, "rho"),
        (lambda: ei.gaussian_mi_figure(-1.0), ValueError, "rho"),
        (lambda: ei.gaussian_mi_figure(None), TypeError, "rho"),
        (lambda: ei.bsc_figure(1.01), ValueError, "eps"),
        (lambda: ei.bsc_explorer(mode="static", steps=1), ValueError, "steps"),
        (lambda: ei.kl_fit_explorer(mode="sideways"), ValueError, "mode"),
    ],
)
def test_bad_input_is_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
