"""The quality goals of the default fits (GAN, diffusion, flows), measured over seeds (not a test).

Run from the repository root::

    python benchmarks/bench_quality.py             # seeds 0, 1, 2: about 10-15 min on 2 cores
    python benchmarks/bench_quality.py --quick     # seed 0 only (a smoke run, a few minutes)
    python benchmarks/bench_quality.py --parts gan --seeds 0 1 2 3 4

Everything runs on the CPU with one PyTorch thread (``companion.device.choose_threads()``, the
book's choice after ``companion.setup``; ``--threads`` overrides it). Fit times are this
process's CPU seconds (user + sys), which a busy shared machine inflates less than wall clock;
both are printed.

Scores (:func:`companion.data.mode_coverage`, its default PacGAN convention): of 2 500 samples, a
sample is *high quality* (HQ) when it lies within 3 sigma of the nearest mode (sigma = 0.02), and a
mode is *covered* when at least 20 of the 2 500 samples are high-quality samples at it.

- GAN: ``gan.fit(data, seed=s)`` as the GAN chapter and ``benchmarks/bench_gan.py`` call it, on
  the ring of 8 Gaussians (radius 2) and the 5x5 grid (spacing 2), 2 500 training points each.
- Diffusion: the chapter's shipped checkpoint ``diffusion_ring_default`` (exactly
  ``diffusion.fit(data.ring(20_000, seed=0), seed=0)``) scored with three sampling seeds, and a
  fresh default fit ``diffusion.fit(data.ring(20_000, seed=s), seed=s)`` per seed (the defaults:
  20 000 Adam steps on batches of 512, hidden layers of 128; about 75 s of CPU each); each sampled
  ancestrally (all T = 1000 steps) and with DDIM in 50 steps.
- Flows: the bare ``flows.fit(data, seed=s)``, which is also the flow chapter's moons model
  (``flows._pretrain``; for seed 0 the fit is checked equal to the shipped ``flow_moons``),
  against zuko's RealNVP at its usual configuration (8 transforms, two hidden layers of 64, Adam
  at 1e-3, batch 256, 3 000 steps), both on the same 8 000 training points; test NLL in nats on
  20 000 fresh points of another seed.

The goals are those of the project's issue on the quality of the default fits; each is printed
next to the measured value with PASS or FAIL. Modes must be met by every seed (the minimum),
the HQ share and the NLL by the mean over seeds, the fit time by the slowest seed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import zuko

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gan import one_run as gan_run  # noqa: E402

from companion import diffusion  # noqa: E402
from companion import flows as fl  # noqa: E402
from companion.data import mode_coverage, ring, ring_centers  # noqa: E402
from companion.device import choose_threads  # noqa: E402
from companion.models import load_pretrained  # noqa: E402

STD = 0.02
N_SAMPLES = 2500
SAMPLERS = {"ancestral": {"method": "ddpm"}, "DDIM-50": {"method": "ddim", "steps": 50}}


def timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its wall-clock seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def diffusion_scores(model, seed: int) -> dict[str, tuple[int, float]]:
    """(modes, HQ share) of 2 500 samples, ancestral and DDIM-50."""
    centers = ring_centers()
    out = {}
    for label, kw in SAMPLERS.items():
        with torch.no_grad():
            x = model.sample(N_SAMPLES, seed=seed, **kw)
        out[label] = mode_coverage(x, centers, STD)
    return out


def show(scores: dict) -> str:
    return ", ".join(
        f"{k} {v[0]} modes HQ {100 * v[1]:.1f} %" for k, v in scores.items() if k in SAMPLERS
    ) + (f", fit {scores['cpu']:.1f} s CPU" if scores["cpu"] == scores["cpu"] else "")


def run_gan(seeds, log) -> dict[str, list[dict]]:
    rows = {"ring": [], "grid": []}
    for name in rows:
        for seed in seeds:
            r = gan_run(name, seed, {})
            rows[name].append(r)
            log(
                f"GAN {name} seed {seed}: {r['modes']} modes, HQ {100 * r['quality']:.1f} %, "
                f"{r['cpu']:.1f} s CPU ({r['wall']:.1f} s wall)"
            )
    return rows


def run_diffusion(seeds, log) -> dict[str, list[dict]]:
    ckpt = load_pretrained("diffusion_ring_default", diffusion.DiffusionModel, device="cpu")
    rows = {"checkpoint": [], "fresh": []}
    for seed in seeds:
        rows["checkpoint"].append({**diffusion_scores(ckpt, 1000 + seed), "cpu": float("nan")})
        log(f"diffusion checkpoint, sampling seed {1000 + seed}: {show(rows['checkpoint'][-1])}")
    for seed in seeds:
        model, wall, cpu = timed(
            diffusion.fit, ring(20_000, seed=seed), seed=seed, device="cpu", progress=False
        )
        rows["fresh"].append({**diffusion_scores(model, 1000 + seed), "cpu": cpu, "wall": wall})
        log(f"diffusion fresh fit seed {seed}: {show(rows['fresh'][-1])}")
    return rows


def fit_zuko(train: torch.Tensor, seed: int, steps: int = 3000):
    torch.manual_seed(seed)  # zuko initialises from the global generator (a benchmark may)
    flow = zuko.flows.RealNVP(2, transforms=8, hidden_features=(64, 64))
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = train[torch.randint(0, train.shape[0], (256,), generator=gen)]
        loss = -flow().log_prob(batch).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return flow


def run_flows(seeds, log) -> list[dict]:
    rows = []
    for seed in seeds:
        train = fl.training_data("moons", 8000, seed=1 + seed)
        test = fl.training_data("moons", 20_000, seed=10_000 + seed)
        row = {}
        model, wall, cpu = timed(fl.fit, train, seed=seed, device="cpu", progress=False)
        if seed == 0:  # the chapter's moons model is this very fit
            shipped = fl.pretrained("moons", device="cpu").state_dict()
            same = all(torch.equal(v, shipped[k]) for k, v in model.state_dict().items())
            log(f"flows seed 0: the fit {'equals' if same else 'DIFFERS FROM'} flow_moons")
        with torch.no_grad():
            row["default = chapter"] = (fl.nll(model, test).item(), cpu, wall)
        ref, wall, cpu = timed(fit_zuko, train, seed)
        with torch.no_grad():
            row["zuko"] = (-ref().log_prob(test).mean().item(), cpu, wall)
        rows.append(row)
        log(
            f"flows seed {seed}: "
            + ", ".join(f"{k} NLL {v[0]:.4f} ({v[1]:.1f} s CPU)" for k, v in row.items())
        )
    return rows


def spread(values) -> str:
    """mean (min–max) of a list of numbers."""
    return f"{statistics.fmean(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def gan_lines(rows) -> list[tuple[str, str, str, bool]]:
    lines = []
    for name, total, hq_goal in (("ring", 8, 0.97), ("grid", 25, 0.90)):
        r = rows[name]
        modes = [x["modes"] for x in r]
        hq = [x["quality"] for x in r]
        cpu = [x["cpu"] for x in r]
        need = total if name == "ring" else 24
        lines += [
            (
                f"GAN {name}: modes (min over seeds)",
                f">= {need}/{total}",
                f"{min(modes)}/{total} (per seed {modes})",
                min(modes) >= need,
            ),
            (
                f"GAN {name}: HQ share",
                f">= {100 * hq_goal:.0f} %",
                f"{100 * statistics.fmean(hq):.1f} % ({100 * min(hq):.1f}–{100 * max(hq):.1f})",
                statistics.fmean(hq) >= hq_goal,
            ),
            (
                f"GAN {name}: fit CPU s (max)",
                "<= 60",
                f"{max(cpu):.1f} (mean {statistics.fmean(cpu):.1f})",
                max(cpu) <= 60,
            ),
        ]
    return lines


def diffusion_lines(rows) -> list[tuple[str, str, str, bool]]:
    lines = []
    for which, r in rows.items():
        for sampler, hq_goal in (("ancestral", 0.97), ("DDIM-50", 0.95)):
            modes = [x[sampler][0] for x in r]
            hq = [x[sampler][1] for x in r]
            lines += [
                (
                    f"diffusion {which}, {sampler}: modes",
                    ">= 8/8",
                    f"{min(modes)}/8 (per seed {modes})",
                    min(modes) >= 8,
                ),
                (
                    f"diffusion {which}, {sampler}: HQ",
                    f">= {100 * hq_goal:.0f} %",
                    f"{100 * statistics.fmean(hq):.1f} % ({100 * min(hq):.1f}–{100 * max(hq):.1f})",
                    statistics.fmean(hq) >= hq_goal,
                ),
            ]
        if which == "fresh":
            cpu = [x["cpu"] for x in r]
            lines.append(
                (
                    "diffusion fresh: fit CPU s (max)",
                    "(none)",
                    f"{max(cpu):.1f} (mean {statistics.fmean(cpu):.1f})",
                    True,
                )
            )
    return lines


def flow_lines(rows) -> list[tuple[str, str, str, bool]]:
    zuko_nll = [r["zuko"][0] for r in rows]
    lines = [("zuko RealNVP: test NLL (nats)", "reference", spread(zuko_nll), True)]
    for label in ("default = chapter",):
        nll = [r[label][0] for r in rows]
        diff = [a - b for a, b in zip(nll, zuko_nll, strict=True)]
        cpu = [r[label][1] for r in rows]
        lines += [
            (f"flows.fit {label}: test NLL (nats)", "", spread(nll), True),
            (
                f"flows.fit {label}: NLL − zuko (mean)",
                "<= 0",
                spread(diff),
                statistics.fmean(diff) <= 0,
            ),
            (f"flows.fit {label}: fit CPU s (max)", "<= 60", f"{max(cpu):.1f}", max(cpu) <= 60),
        ]
    cpu_z = [r["zuko"][1] for r in rows]
    lines.append(("zuko RealNVP: fit CPU s (max)", "", f"{max(cpu_z):.1f}", True))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="seed 0 only (smoke run)")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["gan", "diffusion", "flows"],
        choices=["gan", "diffusion", "flows"],
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: 1)")
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else args.seeds
    torch.set_num_threads(args.threads or choose_threads())
    start = time.perf_counter()
    print(
        f"seeds {seeds}, torch threads {torch.get_num_threads()}, torch {torch.__version__}, "
        f"zuko {zuko.__version__}, load average at the start {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    def log(msg: str) -> None:
        print(f"  [{time.perf_counter() - start:6.0f} s] {msg}", flush=True)

    lines = []
    if "gan" in args.parts:
        lines += gan_lines(run_gan(seeds, log))
    if "diffusion" in args.parts:
        lines += diffusion_lines(run_diffusion(seeds, log))
    if "flows" in args.parts:
        lines += flow_lines(run_flows(seeds, log))
    width = max(len(x[0]) for x in lines)
    print(
        f"\n{'measure':{width}s}  {'goal':>9s}  {'measured: mean (min–max) over seeds':40s} verdict"
    )
    for what, goal, value, ok in lines:
        shown = verdict(ok) if goal not in ("", "reference", "(none)") else ""
        print(f"{what:{width}s}  {goal:>9s}  {value:40s} {shown}")
    print(
        f"\ntotal {time.perf_counter() - start:.0f} s wall; load average at the end "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
