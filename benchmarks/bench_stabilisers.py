"""GAN stabilisers and the f-GAN family on the ring and the grid, over seeds (not a test).

Run from the repository root::

    python benchmarks/bench_stabilisers.py                    # seeds 0 1 2, all variants
    python benchmarks/bench_stabilisers.py --save             # also ship the seed-0 models
    python benchmarks/bench_stabilisers.py --variants default kl --seeds 0 --sets ring

Each variant is the default ``companion.gan.fit`` with one change (``gan.STABILISERS``): the
f-GANs of KL(data ‖ model), KL(model ‖ data), Pearson chi^2 and Jensen-Shannon (the minimax game),
feature matching, minibatch standard deviation, spectral normalisation of the discriminator and
two time scales (discriminator learning rate 4x the generator's). Protocol of
``benchmarks/bench_gan.py``: 2 500 training points (std 0.02) drawn with the seed, the fit with
that seed, 2 500 samples of the averaged generator drawn with seed 1000 + seed, scored by
``companion.data.mode_coverage`` (a sample is high quality within 3 sigma of the nearest mode; a
mode is covered by at least 20 such samples). For every seed-0 ring model whose discriminator
has a per-row output (all but minibatch std) the two Lipschitz bounds of
``gan.lipschitz_estimate`` at 2 000 training points are recorded too.

The table printed is the mean over seeds (min-max in brackets); everything is written to
``companion/checkpoints/gan_stabilisers.json`` (``gan.stabiliser_results()``), which the GAN
chapter quotes and checks against the shipped seed-0 models of ``--save``; without ``--save``
the rows go to ``--out`` only if given (default: a file in /tmp), so a trial run does not
overwrite what ships. Fits run in ``--jobs`` processes of one thread each;
times are each fit's CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_gan import STD, score  # noqa: E402  (the protocol of bench_gan.py)

from companion import gan  # noqa: E402
from companion.data import grid, ring  # noqa: E402

#: Where the rows go: next to the shipped models, which the chapter reads them with.
OUT = ROOT / "companion" / "checkpoints" / f"{gan.STABILISER_CHECKPOINT}.json"


def lipschitz(model: gan.GAN, dataset: str) -> dict[str, float] | None:
    if model.discriminator.minibatch_std:
        return None
    make = ring if dataset == "ring" else grid
    return gan.lipschitz_estimate(model, make(2000, std=STD, seed=0))


def one(job: tuple[str, str, int, int | None]) -> dict:
    variant, dataset, seed, steps = job
    torch.set_num_threads(1)
    cpu = time.process_time()
    model = gan.fit_stabiliser(variant, dataset, seed, **({"steps": steps} if steps else {}))
    cpu = time.process_time() - cpu
    row = {"variant": variant, "dataset": dataset, "seed": seed, "cpu": cpu}
    row |= score(model, dataset, seed)
    if seed == 0 and dataset == "ring":
        row["lipschitz"] = lipschitz(model, dataset)
    if seed == 0:  # a spectrally normalised module does not pickle; its state dict does
        row["model"] = (dict(model.config), model.state_dict())
    return row


def rebuild(config: dict, state: dict) -> gan.GAN:
    model = gan.GAN(**config)
    model.load_state_dict(state)
    return model.eval()


def table(rows: list[dict], variants, sets) -> str:
    lines = [
        f"{'variant':34s} "
        + " ".join(f"{s + ' modes':>16s} {s + ' HQ %':>17s}" for s in sets)
        + f" {'CPU s':>6s}"
    ]
    for v in variants:
        cells = []
        for s in sets:
            r = [x for x in rows if x["variant"] == v and x["dataset"] == s]
            m, q = [x["modes"] for x in r], [100 * x["quality"] for x in r]
            cells.append(
                f"{statistics.fmean(m):5.1f} ({min(m)}-{max(m)}){'':>4s} "
                f"{statistics.fmean(q):5.1f} ({min(q):.1f}-{max(q):.1f})"
            )
        cpu = statistics.fmean(x["cpu"] for x in rows if x["variant"] == v)
        lines.append(f"{gan.STABILISER_LABELS[v]:34s} " + "  ".join(cells) + f" {cpu:6.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--variants", nargs="+", default=list(gan.STABILISERS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="override (smoke runs only)")
    parser.add_argument("--save", action="store_true", help="ship the seed-0 models")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.save and args.steps:
        raise SystemExit("--save ships the default-length fits; drop --steps")
    jobs = [(v, d, s, args.steps) for v in args.variants for d in args.sets for s in args.seeds]
    print(f"{len(jobs)} fits in {args.jobs} processes, load {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = []
        for row in pool.map(one, jobs):
            rows.append(row)
            print(
                f"  {row['variant']:17s} {row['dataset']} seed {row['seed']}: "
                f"{row['modes']} modes, HQ {100 * row['quality']:.1f} %, {row['cpu']:.1f} s",
                flush=True,
            )
    models = {(r["variant"], r["dataset"]): rebuild(*r.pop("model")) for r in rows if "model" in r}
    print(table(rows, args.variants, args.sets))
    print(f"wall {time.perf_counter() - start:.0f} s")
    if args.save:
        if args.seeds[0] != 0 or set(args.variants) != set(gan.STABILISERS):
            raise SystemExit("--save needs every variant and seed 0")
        print("saved, sha256", gan.save_stabilisers(models)[:16])
    out = args.out or (OUT if args.save else Path("/tmp/gan_stabilisers.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "std": STD, "samples": 2500, "seeds": args.seeds}
    out.write_text(json.dumps({"protocol": meta, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
