"""Live-update time and static weight of every interactive figure in the book.

Not a test: it prints measurements. Goal: a live slider update (recompute + update the
FigureWidget) in at most 30 ms for the book's figures, measured as the median over moves across
each slider's range after one warm-up move.

    python benchmarks/bench_figures.py
"""

from __future__ import annotations

import importlib
import statistics
import time

import numpy as np

GOAL_MS = 30.0

FIGURES = [
    ("companion.explore.gaussian", "gaussian_explorer"),
    ("companion.explore.divergences", "divergence_explorer"),
    ("companion.explore.divergences", "disjoint_supports"),
    ("companion.explore.divergences", "sinkhorn_explorer"),
    ("companion.explore.divergences", "mmd_explorer"),
    ("companion.explore.divergences", "mahalanobis_explorer"),
    ("companion.explore.information", None),  # every *_explorer it defines, if present
]


def factories():
    for module_name, attr in FIGURES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        names = [attr] if attr else sorted(n for n in dir(module) if n.endswith("_explorer"))
        for name in names:
            yield f"{module_name.rsplit('.', 1)[1]}.{name}", getattr(module, name)


def live_update_ms(factory, moves: int = 12) -> float:
    fig = factory(mode="live")
    sliders = [c for c in fig._specs if hasattr(c, "min")]
    times = []
    for c in sliders:
        values = np.linspace(c.min, c.max, moves)
        fig.update(**{c.name: float(values[1])})  # warm-up (caches, first allocation)
        for v in values:
            t0 = time.perf_counter()
            fig.update(**{c.name: float(v)})
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    print(f"{'figure':42s} {'live ms':>8s} {'goal':>6s} {'static s':>9s} {'frames':>7s} {'KB':>7s}")
    for name, factory in factories():
        ms = live_update_ms(factory)
        t0 = time.perf_counter()
        static = factory(mode="static")
        html = static.to_html()
        build = time.perf_counter() - t0
        flag = "ok" if ms <= GOAL_MS else "SLOW"
        print(
            f"{name:42s} {ms:8.1f} {flag:>6s} {build:9.2f} {len(static.payload['frames']):7d} "
            f"{len(html) / 1024:7.0f}"
        )


if __name__ == "__main__":
    main()
