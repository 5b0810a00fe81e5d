"""companion.flows against zuko's RealNVP on 2-D moons: test NLL and time per training step.

    python benchmarks/bench_flows.py [--steps 2000] [--layers 8] [--hidden 64] [--seeds 3]
                                     [--threads 1] [--quick]

Both flows have the same depth (``--layers`` affine couplings with alternating masks), the same
coupling networks (two hidden layers of ``--hidden`` ReLU units), the same training data
(``moons(10_000, noise=0.05)``), the same mini-batches (the same index stream), the same
optimiser (Adam, cosine-decayed learning rate) and the same number of steps. The two models are
trained *interleaved*, one step of each in turn, and each step (forward, backward, optimiser) is
timed on its own, so that load from other processes on a shared machine hits both alike. The
test NLL (nats per point, lower is better) is measured on 20 000 fresh points.

Goal: companion NLL no worse than zuko's, and time per step ≤ 1.2 × zuko's.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import zuko

from companion import flows as fl
from companion.data import moons


def adam(params, lr, steps):
    opt = torch.optim.Adam(params, lr=lr)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 100)


def run_seed(seed: int, args) -> dict[str, float]:
    train_x = moons(10_000, noise=0.05, seed=seed)
    test_x = moons(20_000, noise=0.05, seed=10_000 + seed)

    torch.manual_seed(seed)
    ours = fl.Flow(dim=2, layers=args.layers, hidden=args.hidden, depth=2, kind="realnvp")
    torch.manual_seed(seed)
    ref = zuko.flows.RealNVP(2, transforms=args.layers, hidden_features=(args.hidden,) * 2)
    n_ours = sum(p.numel() for p in ours.parameters())
    n_ref = sum(p.numel() for p in ref.parameters())

    opt_o, sch_o = adam(ours.parameters(), args.lr, args.steps)
    opt_r, sch_r = adam(ref.parameters(), args.lr, args.steps)
    gen = torch.Generator().manual_seed(seed)
    times = {"ours": [], "zuko": []}

    def step_ours(batch):
        loss = -ours._log_prob(batch).mean()
        opt_o.zero_grad(set_to_none=True)
        loss.backward()
        opt_o.step()
        sch_o.step()

    def step_ref(batch):
        loss = -ref().log_prob(batch).mean()
        opt_r.zero_grad(set_to_none=True)
        loss.backward()
        opt_r.step()
        sch_r.step()

    ours.train()
    for i in range(args.steps):
        idx = torch.randint(0, train_x.shape[0], (args.batch,), generator=gen)
        batch = train_x[idx]
        order = (("ours", step_ours), ("zuko", step_ref))
        for name, fn in order if i % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            fn(batch)
            times[name].append(time.perf_counter() - t0)
    ours.eval()
    with torch.no_grad():
        nll_o = -ours.log_prob(test_x).mean().item()
        nll_r = -ref().log_prob(test_x).mean().item()
    skip = min(50, args.steps // 10)  # leave out warm-up steps
    return {
        "nll_ours": nll_o,
        "nll_zuko": nll_r,
        "ms_ours": 1e3 * statistics.median(times["ours"][skip:]),
        "ms_zuko": 1e3 * statistics.median(times["zuko"][skip:]),
        "mean_ms_ours": 1e3 * statistics.fmean(times["ours"][skip:]),
        "mean_ms_zuko": 1e3 * statistics.fmean(times["zuko"][skip:]),
        "params_ours": n_ours,
        "params_zuko": n_ref,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 steps, 1 seed")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.seeds = 200, 1
    torch.set_num_threads(args.threads)
    print(
        f"moons(noise=0.05): {args.layers} couplings, MLP 2×{args.hidden}, {args.steps} steps, "
        f"batch {args.batch}, Adam lr {args.lr} (cosine), torch threads {args.threads}, "
        f"torch {torch.__version__}, zuko {zuko.__version__}"
    )
    rows = []
    header = (
        f"{'seed':>4} {'NLL ours':>9} {'NLL zuko':>9} {'ΔNLL':>8} "
        f"{'ms/step ours':>13} {'ms/step zuko':>13} {'time ratio':>10}"
    )
    print(header)
    for seed in range(args.seeds):
        r = run_seed(seed, args)
        rows.append(r)
        print(
            f"{seed:>4} {r['nll_ours']:9.4f} {r['nll_zuko']:9.4f} "
            f"{r['nll_ours'] - r['nll_zuko']:+8.4f} {r['ms_ours']:13.3f} {r['ms_zuko']:13.3f} "
            f"{r['ms_ours'] / r['ms_zuko']:10.3f}"
        )
    mean = {k: statistics.fmean(r[k] for r in rows) for k in rows[0]}
    print(
        f"parameters: ours {rows[0]['params_ours']}, zuko {rows[0]['params_zuko']}\n"
        f"mean over {len(rows)} seed(s): NLL ours {mean['nll_ours']:.4f}, zuko "
        f"{mean['nll_zuko']:.4f} (difference {mean['nll_ours'] - mean['nll_zuko']:+.4f} nats; "
        f"goal ≤ 0)\n"
        f"time per step (median): ours {mean['ms_ours']:.3f} ms, zuko {mean['ms_zuko']:.3f} ms, "
        f"ratio {mean['ms_ours'] / mean['ms_zuko']:.3f} (goal ≤ 1.2); with means instead of "
        f"medians: ratio {mean['mean_ms_ours'] / mean['mean_ms_zuko']:.3f}"
    )


if __name__ == "__main__":
    main()
