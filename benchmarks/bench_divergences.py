"""Speed and agreement of companion.divergences against SciPy, POT and NumPy (not a test).

Run from the repository root::

    python benchmarks/bench_divergences.py           # full sizes (about 10 minutes on 2 cores,
                                                     # mostly POT's slow log-domain reference)
    python benchmarks/bench_divergences.py --quick   # smaller sizes, no log reference at 0.01

Everything runs on the CPU in float64. Each timing is the median of a few repeats measured with
``time.perf_counter``, ours and the reference alternating so that both see the same machine
load; the ratio is ours / reference (below 1 means ours is faster). ``--threads 1`` pins torch
to one thread, which gives steadier numbers on a machine that is busy with other work. Goals:

* ``wasserstein_1d`` at n = 10^6 vs ``scipy.stats.wasserstein_distance``: ratio <= 1.0;
* ``sinkhorn`` on 2 000 x 2 000 points in 2-D vs ``ot.sinkhorn2`` (default method) at the same
  epsilon, tolerance and iteration cap, for epsilon = 0.1 and 0.01 times mean(C): ratio <= 1.0.
  The POT timing includes building its cost matrix with ``ot.dist``, as ours includes building
  its own. Values are checked against ``ot.sinkhorn2(method="sinkhorn_log")``, the log-domain
  method, which is slow but cannot underflow;
* ``mmd2`` at n = 5 000 vs a plain NumPy/SciPy implementation with ``cdist``.

A last table shows what happens at a small epsilon where POT's default (non-log) method breaks:
the same clouds with the target translated by (20, 0). Translation adds
``|s|^2 + 2 s.(mean(y) - mean(x))`` to every transport cost (the extra terms are separable, so
the entropic plan does not change), so the exact answer is known from the untranslated problem.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import ot
import scipy.spatial.distance
import scipy.stats
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion import divergences as dv  # noqa: E402

MAX_ITER = 100_000
TOL = 1e-9


def timed_pair(ours, reference, repeats: int):
    """Time two functions alternately (so that both see the same machine load).

    Returns (median time of ours, median time of reference, last result of each).
    """
    ours_result, ref_result = ours(), reference()  # warm-up
    ours_times, ref_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours_result = ours()
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ref_result = reference()
        ref_times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(ref_times), ours_result, ref_result


def as_float(value) -> float:
    return float(value.item() if isinstance(value, torch.Tensor) else value)


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    header = f"{'case':<34} {'ours [s]':>10} {'ref [s]':>10} {'ratio':>7} {'goal':>6}  agreement"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row["ours"] / row["ref"]
        print(
            f"{row['case']:<34} {row['ours']:>10.4f} {row['ref']:>10.4f} {ratio:>7.2f} "
            f"{row['goal']:>6}  {row['agreement']}"
        )


def bench_wasserstein(n: int, repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for m in (n, (3 * n) // 5):
        x = rng.normal(size=n)
        y = rng.standard_t(4, size=m) + 0.3
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        ours_t, ref_t, ours, ref = timed_pair(
            lambda xt=xt, yt=yt: dv.wasserstein_1d(xt, yt),
            lambda x=x, y=y: scipy.stats.wasserstein_distance(x, y),
            repeats,
        )
        rel = abs(as_float(ours) - ref) / ref
        rows.append(
            {
                "case": f"wasserstein_1d n={n:.0e} m={m:.0e}",
                "ours": ours_t,
                "ref": ref_t,
                "goal": "<=1.0",
                "agreement": f"rel diff {rel:.1e}",
            }
        )
    return rows


def pot_sinkhorn(
    x: np.ndarray, y: np.ndarray, eps: float, method: str = "sinkhorn", log: bool = False
):
    """POT's value with its own cost matrix; warnings are recorded, not printed.

    Returns (value, sorted warning messages) and, with ``log=True``, POT's iteration count.
    """
    n, m = len(x), len(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cost = ot.dist(x, y)  # squared Euclidean, as ours with p=2
        result = ot.sinkhorn2(
            np.full(n, 1.0 / n),
            np.full(m, 1.0 / m),
            cost,
            eps,
            method=method,
            numItermax=MAX_ITER,
            stopThr=TOL,
            log=log,
        )
    messages = sorted({str(w.message).split(" at iteration")[0] for w in caught})
    if log:
        return float(result[0]), messages, int(result[1]["niter"])
    return float(result), messages


def bench_sinkhorn(n: int, repeats: int, log_reference_fracs) -> tuple[list[dict], list[str]]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, 2)) + np.array([1.0, 0.5])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    mean_cost = ot.dist(x, y).mean()
    rows, notes = [], []
    for frac in (0.1, 0.01):
        eps = frac * mean_cost
        ours_t, ref_t, ours, (pot_value, pot_warnings) = timed_pair(
            lambda eps=eps: dv.sinkhorn(xt, yt, eps, max_iter=MAX_ITER, tol=TOL),
            lambda eps=eps: pot_sinkhorn(x, y, eps),
            repeats,
        )
        _, _, pot_iters = pot_sinkhorn(x, y, eps, log=True)
        ours = as_float(ours)
        agreement = f"rel diff vs POT default {abs(ours - pot_value) / pot_value:.1e}"
        note = (
            f"eps={frac}*mean(C) ({pot_iters} POT iterations): ours {ours:.10f}, POT default "
            f"{pot_value:.10f} (warnings: {pot_warnings or 'none'})"
        )
        if frac in log_reference_fracs:
            start = time.perf_counter()
            log_value, _ = pot_sinkhorn(x, y, eps, method="sinkhorn_log")
            log_t = time.perf_counter() - start
            agreement = f"rel diff vs POT log {abs(ours - log_value) / log_value:.1e}, " + agreement
            note += f", POT sinkhorn_log {log_value:.10f} ({log_t:.1f} s, run once)"
        else:
            note += ", POT sinkhorn_log skipped (--quick)"
        rows.append(
            {
                "case": f"sinkhorn {n}x{n} eps={frac}*mean(C)",
                "ours": ours_t,
                "ref": ref_t,
                "goal": "<=1.0",
                "agreement": agreement,
            }
        )
        notes.append(note)
    return rows, notes


def bench_sinkhorn_underflow(n: int) -> list[str]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, 2)) + np.array([1.0, 0.5])
    shift = np.array([20.0, 0.0])
    xt = torch.from_numpy(x)
    lines = []
    for frac in (0.1, 0.01):
        eps = frac * ot.dist(x, y).mean()
        base, _ = pot_sinkhorn(x, y, eps)
        exact = base + shift @ shift + 2 * shift @ (y.mean(0) - x.mean(0))
        zero_rows = int((np.exp(-ot.dist(x, y + shift) / eps).sum(1) == 0).sum())
        start = time.perf_counter()
        pot_value, pot_warnings = pot_sinkhorn(x, y + shift, eps)
        pot_t = time.perf_counter() - start
        start = time.perf_counter()
        ours = as_float(dv.sinkhorn(xt, torch.from_numpy(y + shift), eps, max_iter=MAX_ITER))
        ours_t = time.perf_counter() - start
        lines.append(
            f"eps={frac}*mean(C), target moved by (20, 0): exp(-C/eps) has {zero_rows}/{n} "
            f"all-zero rows; expected {exact:.8f}\n"
            f"    ours        {ours:.8f}  rel err {abs(ours - exact) / exact:.1e}  "
            f"({ours_t:.2f} s)\n"
            f"    POT default {pot_value:.8f}  rel err {abs(pot_value - exact) / exact:.1e}  "
            f"({pot_t:.2f} s; warnings: {pot_warnings or 'none'})"
        )
    return lines


def mmd2_numpy(x: np.ndarray, y: np.ndarray, h: float) -> float:
    """Unbiased MMD^2 with the RBF kernel, straight from the definition with cdist."""
    n, m = len(x), len(y)
    gamma = 0.5 / h**2
    kxx = np.exp(-gamma * scipy.spatial.distance.cdist(x, x, "sqeuclidean"))
    kyy = np.exp(-gamma * scipy.spatial.distance.cdist(y, y, "sqeuclidean"))
    kxy = np.exp(-gamma * scipy.spatial.distance.cdist(x, y, "sqeuclidean"))
    return (
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def bench_mmd(n: int, repeats: int) -> list[dict]:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, 2)) * 1.2 + 0.1
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    ours_t, ref_t, ours, ref = timed_pair(
        lambda: dv.mmd2(xt, yt, bandwidth=1.0), lambda: mmd2_numpy(x, y, 1.0), repeats
    )
    return [
        {
            "case": f"mmd2 unbiased n=m={n}, d=2",
            "ours": ours_t,
            "ref": ref_t,
            "goal": "-",
            "agreement": f"abs diff {abs(as_float(ours) - ref):.1e} (value {ref:.6f})",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: torch's choice). On a busy machine use 1: "
        "a multi-threaded op waits for its slowest thread, and a thread whose core is taken "
        "by another process stalls every op",
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    n_w1, n_sk, n_mmd, repeats = (
        (100_000, 500, 1_000, 3) if args.quick else (1_000_000, 2_000, 5_000, 5)
    )
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, "
        f"scipy {scipy.__version__}, POT {ot.__version__}; float64 on CPU; "
        f"Sinkhorn tol={TOL:g}, max_iter={MAX_ITER}"
    )
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    print(
        f"load average {load:.2f} on {cores} cores"
        + (" (busy: timings are noisy)" if load > 0.5 else "")
    )
    rows = bench_wasserstein(n_w1, repeats)
    # POT's log-domain reference needs minutes at eps = 0.01 * mean(C); --quick skips it there
    log_fracs = (0.1,) if args.quick else (0.1, 0.01)
    sk_rows, notes = bench_sinkhorn(n_sk, max(1, repeats - 2), log_fracs)
    rows += sk_rows
    rows += bench_mmd(n_mmd, repeats)
    print_table("timings (median of repeats; ratio = ours / reference)", rows)
    print("\nSinkhorn values:")
    for note in notes:
        print("  " + note)
    print(f"\nSinkhorn at a small epsilon where the plain kernel underflows ({n_sk} points):")
    for line in bench_sinkhorn_underflow(n_sk):
        print("  " + line)


if __name__ == "__main__":
    main()
