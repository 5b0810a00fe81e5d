"""Sample quality of companion.diffusion's default fit and sampler against the noise floor.

For the ring of eight Gaussians and the two moons: train ``diffusion.fit(data)`` with its defaults
(20 000 steps of 512, width 128), draw 5 000 samples with the default sampler (ancestral DDPM,
all T = 1000 steps), and compare the sliced Wasserstein distance SW₂ between them and 5 000
fresh data points with the noise floor: SW₂ between two independent data samples of the same
size. Goal: ratio <= 2.

The distances are POT's ``ot.sliced_wasserstein_distance`` (p = 2, 500 projections), averaged
over several pairs. The moons are drawn i.i.d. here (angles uniform on [0, π]) because
scikit-learn's ``make_moons`` spaces points evenly along each moon, which would make two draws
line up and the floor unrealistically low. Also printed: DDIM with 100 and 20 steps, the shipped
20 000-step checkpoints of width 64 when present, training and sampling times (CPU time and
wall clock).

    python benchmarks/bench_diffusion.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import ot
import torch

from companion import data, diffusion
from companion.models import load_pretrained

N = 5000


def iid_moons(n: int, seed: int, noise: float = 0.05) -> torch.Tensor:
    """Two moons with the geometry of ``sklearn.datasets.make_moons`` but i.i.d. positions."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, math.pi, n)
    lower = rng.random(n) < 0.5
    x = np.where(lower, 1 - np.cos(angle), np.cos(angle))
    y = np.where(lower, 0.5 - np.sin(angle), np.sin(angle))
    pts = np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))
    return torch.tensor(pts, dtype=torch.float32)


SETS = {
    "ring": (lambda n, seed: data.ring(n, seed=seed), "diffusion_ring"),
    "moons": (iid_moons, "diffusion_moons"),
}


def sw(x: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    return float(
        ot.sliced_wasserstein_distance(
            x.double().cpu().numpy(), y.double().cpu().numpy(), n_projections=500, p=2, seed=seed
        )
    )


def timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 000 training steps, 1 pair")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = 1 if args.quick else 3
    print(f"threads={args.threads}  load average {os.getloadavg()[0]:.1f}  n={N}")
    for name, (draw, checkpoint) in SETS.items():
        train = data.ring(20_000, seed=0) if name == "ring" else data.moons(20_000, seed=0)
        floor = np.mean([sw(draw(N, 100 + 2 * i), draw(N, 101 + 2 * i), i) for i in range(pairs)])
        steps = 1000 if args.quick else None
        model, cpu, wall = timed(
            lambda train=train, steps=steps: diffusion.fit(
                train, steps=steps, seed=0, device="cpu", progress=False
            )
        )
        print(f"\n{name}: noise floor SW2 = {floor:.4f}")
        print(
            f"  fit ({'1000' if args.quick else 'default 20 000'} steps): "
            f"cpu {cpu:.1f} s, wall {wall:.1f} s"
        )
        models = {"default fit": model}
        try:
            models["checkpoint"] = load_pretrained(
                checkpoint, diffusion.DiffusionModel, device="cpu"
            )
        except FileNotFoundError:
            print(f"  (no checkpoint {checkpoint})")
        for label, m in models.items():
            for method, k in (("ddpm", None), ("ddim", 100), ("ddim", 20)):
                x, cpu, wall = timed(
                    lambda m=m, method=method, k=k: m.sample(N, method=method, steps=k, seed=1)
                )
                value = np.mean([sw(x, draw(N, 200 + i), i) for i in range(pairs)])
                tag = "DDPM 1000 (default)" if method == "ddpm" else f"DDIM {k}"
                print(
                    f"  {label:11s} {tag:20s} SW2 = {value:.4f}  ratio {value / floor:.2f}  "
                    f"(sampling cpu {cpu:.1f} s, wall {wall:.1f} s)"
                )


if __name__ == "__main__":
    main()
