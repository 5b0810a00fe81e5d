"""Figures of the linear-algebra chapter: printed numbers against numpy and scikit-learn."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from companion import linalg as la
from companion.explore import linalg as ex


@pytest.mark.parametrize(
    "entries", [(2, 1, 0, 1), (0, -1, 1, 0), (1, 2, 2, 1), (1, 1, 0, 1), (-1, 0, 0, 0)]
)
def test_matrix_title_against_numpy(entries):
    A = np.array(entries, dtype=float).reshape(2, 2)
    fig = ex.matrix_figure(*map(float, entries))
    title = fig.layout.title.text
    sig = [float(v) for v in re.search(r"σ = ([\d.e+-]+), ([\d.e+-]+)", title).groups()]
    np.testing.assert_allclose(sig, np.linalg.svd(A, compute_uv=False), rtol=1e-2, atol=1e-3)
    det = float(re.search(r"det = (-?[\d.e+-]+)", title).group(1))
    assert det == pytest.approx(np.linalg.det(A), abs=1e-3)
    complex_pair = np.abs(np.linalg.eigvals(A).imag).max() > 1e-12
    assert ("complex pair" in title) == complex_pair
    eig_traces = [t for t in fig.data if t.name == "eigenvector directions"]
    assert all((len(t.x) == 0) == complex_pair for t in eig_traces)
    # The image trace is A applied to the circle trace.
    circle, image = (
        np.array([fig.data[0].x, fig.data[0].y]),
        np.array([fig.data[1].x, fig.data[1].y]),
    )
    np.testing.assert_allclose(A @ circle, image, atol=2e-4)


def test_pca_title_against_sklearn():
    from sklearn.decomposition import PCA

    X = la.pca_cloud(45.0, 0.3).numpy()
    sk = PCA(2).fit(X)
    title = ex.pca_figure(45.0, 0.3).layout.title.text
    v1, v2 = (float(v) for v in re.search(r"axes ([\d.]+), ([\d.]+)", title).groups())
    np.testing.assert_allclose([v1, v2], sk.explained_variance_, atol=5e-3)
    off = float(re.search(r"off by ([\d.]+)°", title).group(1))
    ref = math.degrees(
        math.acos(abs(sk.components_[0] @ [math.cos(math.pi / 4), math.sin(math.pi / 4)]))
    )
    assert off == pytest.approx(ref, abs=0.06)
    with pytest.raises(ValueError, match="ratio"):
        la.pca_cloud(0.0, 0.0)
