"""Training and sampling time of the four model families on the CPU and, when present, on CUDA.

    python benchmarks/bench_device.py [--steps 300] [--threads N]

Each family is fitted with its default hyper-parameters for ``--steps`` steps on the same data
(VAE on the 8×8 digits, GAN on the ring, flow on the moons, diffusion on the ring), once per
device, and then draws 10 000 samples. Printed: milliseconds per training step, sampling time,
and the CPU/CUDA ratio (> 1 means the GPU is faster). The book's models are small, so expect
ratios near or below 1 for the 2-D sets: a GPU pays off only for larger batches and networks.
Only the companion's core modules are imported (no plotly), so it also runs on a bare GPU box.
"""

from __future__ import annotations

import argparse
import time

import torch

from companion import data, diffusion, flows, gan, vae


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device) -> tuple[float, object]:
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - start, out


def families(steps: int):
    ring, moons = data.ring(20_000, seed=0), data.moons(20_000, seed=0)
    digits = data.digits()[0]
    return {
        "vae (digits)": (
            lambda dev: vae.fit(digits, steps=steps, device=dev, progress=False),
            lambda m: m.sample(10_000),
        ),
        "gan (ring)": (
            lambda dev: gan.fit(ring, steps=steps, device=dev, progress=False),
            lambda m: m.sample(10_000),
        ),
        "flow (moons)": (
            lambda dev: flows.fit(moons, steps=steps, device=dev, progress=False),
            lambda m: m.sample(10_000),
        ),
        "diffusion (ring)": (
            lambda dev: diffusion.fit(ring, steps=steps, device=dev, progress=False),
            lambda m: m.sample(10_000, method="ddim", steps=50),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
        print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)
    else:
        print("no CUDA GPU: CPU only | torch", torch.__version__)
    print(f"CPU threads: {torch.get_num_threads()}, {args.steps} training steps per fit\n")
    header = f"{'family':<18}" + "".join(
        f"{d.type + ' ms/step':>16}{d.type + ' sample s':>16}" for d in devices
    )
    print(header + ("   cpu/cuda (train, sample)" if len(devices) > 1 else ""))
    for name, (fit, sample) in families(args.steps).items():
        row, results = f"{name:<18}", []
        for dev in devices:
            if dev.type == "cuda":
                fit(dev)  # warm-up: CUDA context, kernels
            t_fit, model = _time(lambda dev=dev, fit=fit: fit(dev), dev)
            t_sample, out = _time(lambda model=model, sample=sample: sample(model), dev)
            assert torch.isfinite(out).all() and out.device.type == dev.type
            results.append((1000 * t_fit / args.steps, t_sample))
            row += f"{results[-1][0]:16.2f}{results[-1][1]:16.3f}"
        if len(results) > 1:
            row += f"   {results[0][0] / results[1][0]:.2f}×, {results[0][1] / results[1][1]:.2f}×"
        print(row, flush=True)


if __name__ == "__main__":
    main()
