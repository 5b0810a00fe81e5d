"""CPU threads on a shared machine: the diffusion chapter's training cell in three settings.

The heaviest cell of a model chapter is ``diffusion.fit(ring, seed=0)`` (20 000 Adam steps by
default; the diffusion chapter trains 1 000 of them live and loads the full fit's checkpoint).
Each run starts a fresh Python process that calls ``companion.setup()`` (which picks the thread
count, see ``companion.device.choose_threads``) and times the fit alone, in three settings:

(a) as the machine is now ("quiet": nothing of ours competes; the load average is printed,
    because on a shared machine quiet is not silent);
(b) with one competing busy process (a pure-Python spin loop) running the whole time;
(c) pinned to one core with ``taskset -c 0``.

Each setting runs twice: with the companion's choice (``setup()``'s default) and with PyTorch's
own default, one thread per visible core (``GF_THREADS`` set to the core count), which is what
the book did before. Goal: (b) <= 2 x (a) with the companion's choice.

    python benchmarks/bench_threads.py [--steps 1500] [--repeats 1] [--only-chosen]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

CELL = """
import time, torch, companion
from companion import data, diffusion
companion.setup(seed=0)
ring = data.ring(20_000, seed=0)
start = time.perf_counter()
diffusion.fit(ring, seed=0, steps={steps}, progress=False)
print(torch.get_num_threads(), time.perf_counter() - start)
"""


def run_cell(steps: int, threads: str | None, pin: bool) -> tuple[int, float]:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GF_THREADS"):
        env.pop(name, None)
    if threads is not None:
        env["GF_THREADS"] = threads
    cmd = [sys.executable, "-c", CELL.format(steps=steps)]
    if pin:
        cmd = ["taskset", "-c", "0", *cmd]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    n, seconds = out.split()[-2:]
    return int(n), float(seconds)


def measure(steps: int, threads: str | None, pin: bool, busy: bool) -> tuple[int, float, float]:
    """(threads used, seconds, 1-minute load average just before) of one run."""
    load = os.getloadavg()[0]
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        if spinner is not None:
            time.sleep(0.5)
        n, seconds = run_cell(steps, threads, pin)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return n, seconds, load


def settings(steps: int, threads: str | None, repeats: int) -> tuple:
    """(a), (b), (c), each (threads, median seconds, mean load before); the three settings
    alternate within each repeat, so that they meet the same background load."""
    runs: list[list[tuple[int, float, float]]] = [[], [], []]
    for _ in range(repeats):
        runs[0].append(measure(steps, threads, pin=False, busy=False))
        runs[1].append(measure(steps, threads, pin=False, busy=True))
        runs[2].append(measure(steps, threads, pin=True, busy=False))
    return tuple(
        (r[0][0], statistics.median(t for _, t, _ in r), statistics.mean(x for _, _, x in r))
        for r in runs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="Adam steps (chapter: 10 000)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per setting (median)")
    parser.add_argument(
        "--only-chosen", action="store_true", help="skip PyTorch's default (slow when contended)"
    )
    args = parser.parse_args()
    if shutil.which("taskset") is None:
        sys.exit("taskset (util-linux) is needed for setting (c)")

    cores = str(len(os.sched_getaffinity(0)))
    policies = {"companion.setup() choice": None, f"one thread per core ({cores})": cores}
    print(
        f"diffusion.fit(steps={args.steps}) in a fresh process; {cores} visible cores; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    results = {}
    for label, threads in policies.items():
        if args.only_chosen and threads is not None:
            continue
        results[label] = settings(args.steps, threads, args.repeats)
    print(
        f"{'policy':32s} {'threads':>7s} {'(a) quiet':>10s} {'(b) busy':>10s} "
        f"{'(c) taskset':>11s} {'b/a':>6s} {'c/a':>6s}"
    )
    for label, (a, b, c) in results.items():
        print(
            f"{label:32s} {a[0]:7d} {a[1]:9.2f}s {b[1]:9.2f}s {c[1]:10.2f}s "
            f"{b[1] / a[1]:6.2f} {c[1] / a[1]:6.2f}"
        )
    print(
        "mean 1-minute load average before each:",
        ", ".join(
            f"{label.split()[0]} a/b/c {a[2]:.1f}/{b[2]:.1f}/{c[2]:.1f}"
            for label, (a, b, c) in results.items()
        ),
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    ok = results["companion.setup() choice"]
    print("goal (b) <= 2 x (a):", "met" if ok[1][1] <= 2 * ok[0][1] else "NOT met")


if __name__ == "__main__":
    main()
