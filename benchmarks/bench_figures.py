"""Live-update time and static weight of every interactive figure in the book.

Not a test: it prints measurements. Goal: a live slider update (recompute + update the
FigureWidget) in at most 30 ms for the book's figures, measured as the median over moves across
each slider's range (12 evenly spaced values snapped to the live slider's step, most of them off
the static grid) after one warm-up move. Both the wall time and the thread CPU time
(``time.thread_time``) of each update are reported: on a busy machine the wall time also counts
what other processes take, the CPU time does not. Columns: the medians over all moves (wall,
CPU), the worst slider's median CPU time ("max cpu", which the goal is judged on), the static
build time, frame count and page weight. Torch runs on one thread.

Figures whose factory needs arguments (a trained model, prepared data) get them the way their
chapter builds them (book/<chapter>.md), outside the timing; models come from the checkpoints
that ship with the book where the chapter loads one, and are trained as the chapter trains them
otherwise.

    python benchmarks/bench_figures.py              # every figure
    python benchmarks/bench_figures.py optim vae    # figures whose label contains a word
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

GOAL_MS = 30.0


# --- Set-up shared by a chapter's figures (built once, the way the chapter builds it) ----------
@functools.cache
def _diffusion():
    from companion import data, diffusion
    from companion.explore import diffusion as ex
    from companion.models import load_pretrained

    ring = data.ring(20_000, seed=0)
    shift, scale = ring.mean(0), (ring - ring.mean(0)).pow(2).mean().sqrt()
    clouds = ex.forward_clouds((ring[:600] - shift) / scale, T=1000, seed=0)
    # The chapter's model: the shipped checkpoint of diffusion.fit(ring, seed=0).
    model = load_pretrained("diffusion_ring_default", diffusion.DiffusionModel, device="cpu")
    samples, path = model.sample(2000, seed=1, record=range(0, 1001, 50))
    fresh = data.ring(2000, seed=7)
    runs = {"DDPM, 1000 steps": samples}
    for n in (1000, 100, 20, 5):
        runs[f"DDIM, {n} steps"] = model.sample(2000, method="ddim", steps=n, seed=1)
    runs["annealed Langevin, 20×20"] = model.sample(2000, method="langevin", steps=20, seed=1)
    scores = {k: diffusion.sliced_wasserstein(v, fresh) for k, v in runs.items()}
    return dict(ring=ring, clouds=clouds, model=model, path=path, runs=runs, scores=scores)


@functools.cache
def _flows():
    from companion import flows as fl
    from companion.device import single_thread
    from companion.explore import flows as ex

    names = ["moons", "ring", "swissroll"]
    flows = {name: fl.pretrained(name, device="cpu") for name in names}
    data = {name: fl.training_data(name, 4000, seed=7) for name in names}
    with single_thread():
        return ex.prepare(flows, data)


@functools.cache
def _gan_runs():
    from companion import gan
    from companion.models import load_pretrained

    runs = {}
    for name, label, dataset in (
        ("gan_ring", "ring · default fit", "ring"),
        ("gan_ring_minimax", "ring · saturating (minimax)", "ring"),
        ("gan_grid", "grid · default fit", "grid"),
    ):
        model = load_pretrained(name, gan.GAN, device="cpu")
        runs[label] = (model, dataset, gan.snapshot_metrics(model, dataset))
    return runs


@functools.cache
def _gan_stabilisers():
    from companion import gan

    rows = gan.stabiliser_results()
    samples = gan.stabiliser_samples(gan.load_stabilisers(device="cpu"), n=1000)
    return samples, gan.summarise_stabilisers(rows)


@functools.cache
def _vae():
    from companion import models, vae

    images, labels = vae.binarized_digits()
    digits_vae = models.load_pretrained("vae_digits", vae.VAE, device="cpu")
    beta_models = {
        b: models.load_pretrained(f"vae_beta_{name}", vae.VAE).cpu()
        for name, b in vae.BETAS.items()
    }
    return dict(images=images, labels=labels, digits_vae=digits_vae, beta_models=beta_models)


@functools.cache
def _zoo_velocity():
    from companion import data, zoo

    ring_data = data.ring(4000, modes=8, radius=2.0, std=0.1, seed=0)
    velocity = zoo.fit_ode_flow(ring_data, steps=1000, hidden=64, progress=False)
    return velocity, ring_data


@functools.cache
def _zoo_transformer():
    from companion import zoo

    transition = torch.tensor(
        [
            [[0.90, 0.05, 0.05], [0.10, 0.10, 0.80], [0.30, 0.40, 0.30]],
            [[0.05, 0.90, 0.05], [0.50, 0.25, 0.25], [0.10, 0.10, 0.80]],
            [[0.05, 0.05, 0.90], [0.80, 0.10, 0.10], [0.20, 0.60, 0.20]],
        ],
        dtype=torch.float64,
    )
    sequences = zoo.markov_sequences(transition, 2400, 25, seed=0)
    gpt = zoo.fit_transformer(sequences[:2000], steps=250, progress=False)
    return gpt, transition


@functools.cache
def _rl():
    from companion import rl, zoo

    ex = _ex("rl")
    chain = torch.full((4, 4), 0.15, dtype=torch.float64)
    chain.fill_diagonal_(0.55)
    source = zoo.markov_sequences(chain.expand(4, 4, 4).clone(), 4000, 5, seed=0)
    ref = zoo.fit_autoregressive(source, categories=4, steps=300, hidden=64, progress=False)

    def steps_up(x):
        return ((x[:, 1:] - x[:, :-1]) % 4 == 1).sum(dim=1).double()

    world = ex.token_world(ref, steps_up, 5, 4)
    runs = {
        f"β = {b}": (
            b,
            rl.finetune(ref, steps_up, beta=b, steps=150, progress=False, track=world.sequences),
        )
        for b in (0.0, 0.5)
    }
    return {"table": ex.variance_table(), "world": world, "runs": runs}


def _ex(topic: str):
    import importlib

    return importlib.import_module(f"companion.explore.{topic}")


def _plain(topic: str, name: str) -> Callable:
    return lambda: functools.partial(getattr(_ex(topic), name))


# (label, builder): builder() does the set-up and returns factory(mode=...) -> figure.
# Every interactive figure of every chapter, in the order of the table of contents.
FIGURES: list[tuple[str, Callable[[], Callable]]] = [
    ("intro.gaussian_explorer", lambda: _ex("gaussian").gaussian_explorer),
    ("probability.distribution_gallery", _plain("probability", "distribution_gallery")),
    ("probability.bayes_explorer", _plain("probability", "bayes_explorer")),
    ("probability.importance_explorer", _plain("probability", "importance_explorer")),
    ("probability.clt_explorer", _plain("probability", "clt_explorer")),
    ("probability.mvn_explorer", _plain("probability", "mvn_explorer")),
    ("measure.lebesgue_explorer", _plain("measure", "lebesgue_explorer")),
    ("measure.mixed_cdf_explorer", _plain("measure", "mixed_cdf_explorer")),
    ("measure.pushforward_explorer", _plain("measure", "pushforward_explorer")),
    ("inference.cramer_rao_explorer", _plain("inference", "cramer_rao_explorer")),
    ("inference.em_explorer", _plain("inference", "em_explorer")),
    ("inference.markov_explorer", _plain("inference", "markov_explorer")),
    ("inference.mh_explorer", _plain("inference", "mh_explorer")),
    ("inference.gibbs_explorer", _plain("inference", "gibbs_explorer")),
    ("linalg.matrix_explorer", _plain("linalg", "matrix_explorer")),
    ("linalg.pca_explorer", _plain("linalg", "pca_explorer")),
    ("information.bernoulli_entropy_explorer", _plain("information", "bernoulli_entropy_explorer")),
    ("information.kl_fit_explorer", _plain("information", "kl_fit_explorer")),
    ("information.gaussian_mi_explorer", _plain("information", "gaussian_mi_explorer")),
    ("information.bsc_explorer", _plain("information", "bsc_explorer")),
    ("divergences.sinkhorn_explorer", _plain("divergences", "sinkhorn_explorer")),
    ("divergences.mmd_explorer", _plain("divergences", "mmd_explorer")),
    ("divergences.mahalanobis_explorer", _plain("divergences", "mahalanobis_explorer")),
    ("divergences.divergence_explorer", _plain("divergences", "divergence_explorer")),
    ("divergences.disjoint_supports", _plain("divergences", "disjoint_supports")),
    ("functional.cauchy_explorer", _plain("functional", "cauchy_explorer")),
    ("functional.contraction_explorer", _plain("functional", "contraction_explorer")),
    ("functional.krr_explorer", _plain("functional", "krr_explorer")),
    ("functional.gp_explorer", _plain("functional", "gp_explorer")),
    ("functional.kr_explorer", _plain("functional", "kr_explorer")),
    ("functional.witness_explorer", _plain("functional", "witness_explorer")),
    ("optimization.gd_explorer", _plain("optimization", "gd_explorer")),
    ("optimization.sgd_explorer", _plain("optimization", "sgd_explorer")),
    *[
        (
            f"optimization.optimizer_explorer({obj})",
            lambda obj=obj: functools.partial(_ex("optimization").optimizer_explorer, obj),
        )
        for obj in ("rosenbrock", "beale", "quadratic")
    ],
    (
        "optimization.adaptive_explorer(beale)",
        lambda: functools.partial(_ex("optimization").adaptive_explorer, "beale"),
    ),
    ("optimization.minmax_explorer", _plain("optimization", "minmax_explorer")),
    ("optimization.maxent_explorer", _plain("optimization", "maxent_explorer")),
    ("manifolds.embedding_explorer", _plain("manifolds", "embedding_explorer")),
    ("manifolds.norm_explorer", _plain("manifolds", "norm_explorer")),
    ("vae.ppca_explorer", _plain("vae", "ppca_explorer")),
    ("vae.cavi_explorer", _plain("vae", "cavi_explorer")),
    (
        "vae.latent_traversal",
        lambda: functools.partial(
            _ex("vae").latent_traversal, _vae()["digits_vae"], _vae()["images"], _vae()["labels"]
        ),
    ),
    (
        "vae.beta_explorer",
        lambda: functools.partial(
            _ex("vae").beta_explorer, _vae()["beta_models"], _vae()["images"]
        ),
    ),
    ("gan.criterion_explorer", _plain("gan", "criterion_explorer")),
    ("gan.training_explorer", lambda: functools.partial(_ex("gan").training_explorer, _gan_runs())),
    (
        "gan.stabiliser_explorer",
        lambda: functools.partial(_ex("gan").stabiliser_explorer, *_gan_stabilisers()),
    ),
    ("flows.monotone_explorer", _plain("flows", "monotone_explorer")),
    ("flows.layers_explorer", lambda: functools.partial(_ex("flows").layers_explorer, _flows())),
    ("flows.density_explorer", lambda: functools.partial(_ex("flows").density_explorer, _flows())),
    (
        "diffusion.forward_explorer",
        lambda: functools.partial(_ex("diffusion").forward_explorer, _diffusion()["clouds"]),
    ),
    (
        "diffusion.reverse_explorer",
        lambda: functools.partial(
            _ex("diffusion").reverse_explorer,
            _diffusion()["path"],
            _diffusion()["ring"][:2000],
            T=1000,
        ),
    ),
    (
        "diffusion.sampler_explorer",
        lambda: functools.partial(
            _ex("diffusion").sampler_explorer,
            _diffusion()["runs"],
            _diffusion()["scores"],
            _diffusion()["ring"][:2000],
        ),
    ),
    (
        "diffusion.score_explorer",
        lambda: functools.partial(
            _ex("diffusion").score_explorer, _diffusion()["model"], _diffusion()["ring"][:600]
        ),
    ),
    ("zoo.langevin_explorer", _plain("zoo", "langevin_explorer")),
    ("zoo.flow_explorer", lambda: functools.partial(_ex("zoo").flow_explorer, *_zoo_velocity())),
    (
        "zoo.temperature_explorer",
        lambda: functools.partial(_ex("zoo").temperature_explorer, *_zoo_transformer()),
    ),
    ("rl.grid_explorer", _plain("rl", "grid_explorer")),
    (
        "rl.variance_explorer",
        lambda: functools.partial(_ex("rl").variance_explorer, _rl()["table"]),
    ),
    (
        "rl.frontier_explorer",
        lambda: functools.partial(_ex("rl").frontier_explorer, _rl()["world"]),
    ),
    (
        "rl.finetune_explorer",
        lambda: functools.partial(_ex("rl").finetune_explorer, _rl()["world"], _rl()["runs"]),
    ),
    ("components.activation_explorer", _plain("components", "activation_explorer")),
    ("components.softmax_explorer", _plain("components", "softmax_explorer")),
    ("components.recurrent_explorer", _plain("components", "recurrent_explorer")),
    ("components.focal_explorer", _plain("components", "focal_explorer")),
]


def live_update_ms(factory, moves: int = 12) -> tuple[float, float, float]:
    """Median wall and thread-CPU milliseconds of one slider move, and the worst slider's median
    thread-CPU milliseconds.

    Each slider in turn goes across its range (12 evenly spaced values, snapped to the live
    slider's step as ipywidgets does; the other controls stay where they start). Figures with no
    slider (only buttons) are timed over their choices instead.
    """
    fig = factory(mode="live")
    sliders = [c for c in fig.specs if hasattr(c, "min")]
    walls, cpus, per_control = [], [], []

    def move(name, v, mine):
        t0, c0 = time.perf_counter(), time.thread_time()
        fig.update(**{name: v})
        cpu = time.thread_time() - c0
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu)
        mine.append(cpu)

    for c in sliders:
        step = fig.controls[c.name].step
        values = [
            min(c.max, c.min + round((v - c.min) / step) * step)
            for v in np.linspace(c.min, c.max, moves)
        ]
        fig.update(**{c.name: float(values[1])})  # warm-up (caches, first allocation)
        mine: list[float] = []
        for v in values:
            move(c.name, float(v), mine)
        per_control.append(statistics.median(mine))
    if not sliders:
        for c in fig.specs:
            options = c.grid()
            fig.update(**{c.name: options[-1]})  # warm-up
            mine = []
            for v in options * 2:
                move(c.name, v, mine)
            per_control.append(statistics.median(mine))
    return (
        1000 * statistics.median(walls),
        1000 * statistics.median(cpus),
        1000 * max(per_control),
    )


def main(words: list[str]) -> None:
    torch.set_num_threads(1)
    print(
        f"{'figure':44s} {'live ms':>8s} {'cpu ms':>7s} {'max cpu':>8s} {'goal':>6s} "
        f"{'static s':>9s} "
        f"{'frames':>7s} {'KB':>7s}"
    )
    slow = []
    for name, builder in FIGURES:
        if words and not any(w in name for w in words):
            continue
        factory = builder()  # set-up (training, loading, preparing), not timed
        ms, cpu, worst = live_update_ms(factory)
        t0 = time.perf_counter()
        static = factory(mode="static")
        html = static.to_html()
        build = time.perf_counter() - t0
        flag = "ok" if worst <= GOAL_MS else "SLOW"
        if flag == "SLOW":
            slow.append(name)
        print(
            f"{name:44s} {ms:8.1f} {cpu:7.1f} {worst:8.1f} {flag:>6s} {build:9.2f} "
            f"{len(static.payload['frames']):7d} {len(html) / 1024:7.0f}",
            flush=True,
        )
    print(f"\nworst slider over {GOAL_MS:.0f} ms of thread CPU time: {', '.join(slow) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
