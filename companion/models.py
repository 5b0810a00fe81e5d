"""What the model families (VAE, GAN, flows, diffusion) share: saving, loading and training.

The contract every family module follows (:mod:`companion.vae`, :mod:`companion.gan`,
:mod:`companion.flows`, :mod:`companion.diffusion`)::

    model = family.fit(data, *, steps=None, seed=0, device=None, progress=True, **hyper)
    x = model.sample(n)          # a tensor on the model's device
    model.save("ring.pt")        # a state_dict file, never a pickled object
    model = family.Model.load("ring.pt", device="cpu")

A model is a :class:`GenerativeModel`: an ``nn.Module`` that remembers the keyword arguments it
was built with (``model.config``, plain numbers and strings) so that a file holding
``{"family", "config", "state_dict", "history"}`` is enough to rebuild it;
``torch.load(..., weights_only=True)`` reads it without executing any code.

Checkpoints that ship with the book (models that train longer than a chapter may take) live in
``companion/checkpoints/`` with their SHA-256 in ``manifest.json``; :func:`load_pretrained`
checks the hash before loading, and ``python -m companion.pretrain NAME`` retrains one from its
seed.

How a ``fit`` works (one preamble for every family and every ``zoo.fit_*``)
----------------------------------------------------------------------------
Every ``fit`` opens :func:`fit_run`, which checks the common arguments (``steps`` between 1 and
:data:`MAX_STEPS`, ``seed`` >= 0, ``progress`` a bool, ``device``), resolves the device,
validates the data (:func:`prepare_data`: a finite 2-D float tensor whose values fit in float32,
at least two rows; or :func:`prepare_tokens` for integer data), creates a private CPU
``torch.Generator`` seeded with ``seed`` (data order and the noise a family draws explicitly),
and runs the block under :func:`seeded`: ``torch.random.fork_rng`` with the CPU generator (and
the CUDA generator of the device) seeded with ``seed`` inside. Module initialisation is
therefore reproducible, and the caller's global random state is exactly what it was before the
fit: ``torch.rand(1)`` after a fit gives the value it would have given without it.

Hyper-parameters: one convention
--------------------------------
Each family publishes one ``DEFAULTS`` dict (``gan.DEFAULTS``, ``vae.DEFAULTS``,
``flows.DEFAULTS``, ``diffusion.DEFAULTS`` and, keyed by function name, ``zoo.DEFAULTS``)
holding every default of its ``fit``, the number of steps included; ``fit`` reads it and refuses
unknown names (:func:`merge_hyper`). The same thing has the same name in every family:

==============  ==============================================================================
``steps``       number of optimiser steps (``None``: the family's ``DEFAULTS["steps"]``)
``seed``        seeds initialisation, data order and noise; the caller's RNG is left alone
``device``      ``None`` (the default device), ``"cpu"``, ``"cuda"``, a ``torch.device``
``progress``    show a progress bar
``lr``          the optimiser's (initial) learning rate
``batch_size``  examples per mini-batch (capped at the number of rows)
``hidden``      hidden width(s) of the networks: a tuple of widths (GAN, VAE) or one width
                (flows, diffusion, zoo), as each model class takes it
``latent_dim``  dimension of the latent space (GAN, VAE)
``layers``      number of flow steps (flows) or of network layers (diffusion)
``labels``      int64 class labels, one per row: a conditional model (GAN, VAE)
==============  ==============================================================================

Names that already differ between model classes (``layers``, ``hidden`` as width or widths) are
model-configuration keys stored in the shipped checkpoints and stay as they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ._validate import check_broadcastable, check_int, check_real, check_tensor
from .device import resolve_device
from .progress import progress as progress_bar

__all__ = [
    "GenerativeModel",
    "prepare_data",
    "prepare_tokens",
    "batches",
    "batch_indices",
    "train",
    "check_fit_args",
    "merge_hyper",
    "check_labels",
    "check_lr",
    "seeded",
    "FitRun",
    "fit_run",
    "MAX_STEPS",
    "LOG_2PI",
    "gaussian_log_prob",
    "CHECKPOINT_DIR",
    "checkpoint_path",
    "load_pretrained",
    "file_sha256",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
#: The most training steps a ``fit`` accepts: a larger request is a typo (or would run for days)
#: and is refused at once instead of starting a loop that looks like a hang.
MAX_STEPS = 10**7
LOG_2PI = math.log(2 * math.pi)
_F32_MAX = torch.finfo(torch.float32).max
_MANIFEST = "manifest.json"


def _plain(value: Any, key: str) -> Any:
    """Check that a config value survives ``weights_only`` loading (numbers, strings, lists)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    raise TypeError(
        f"model config entry {key!r} must be a number, string, bool, None or a list of those; "
        f"got {type(value).__name__}"
    )


class GenerativeModel(nn.Module):
    """Base class of the book's generative models.

    Subclasses call ``super().__init__(**config)`` with exactly the keyword arguments their own
    ``__init__`` accepts, set the class attribute ``family`` and implement :meth:`sample`.
    """

    family: ClassVar[str] = "model"

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = {k: _plain(v, k) for k, v in config.items()}
        #: Training record, one dict of floats per logged step (filled by :func:`train`).
        self.history: list[dict[str, float]] = []

    @property
    def device(self) -> torch.device:
        """The device of the model's first parameter or buffer (CPU if it has none)."""
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    def sample(self, n: int) -> Tensor:  # pragma: no cover - every family overrides it
        raise NotImplementedError

    # -- files ---------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``{"family", "config", "state_dict", "history"}`` to ``path`` (a ``.pt`` file
        readable with ``torch.load(path, weights_only=True)``); return the path."""
        path = Path(path)
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        history = {
            k: [float(row.get(k, math.nan)) for row in self.history]
            for k in sorted({k for row in self.history for k in row})
        }
        torch.save(
            {
                "family": self.family,
                "config": dict(self.config),
                "state_dict": state,
                "history": history,
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, device=None, sha256: str | None = None):
        """Rebuild a model saved by :meth:`save` on ``device`` (default: the default device).

        With ``sha256`` the file's hash is checked first and a mismatch raises ``ValueError``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {path}")
        if sha256 is not None:
            actual = file_sha256(path)
            if actual != sha256:
                raise ValueError(
                    f"{path} has SHA-256 {actual}, expected {sha256}: the file is damaged or "
                    "was retrained; run `python -m companion.pretrain` to rebuild it"
                )
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(blob, dict) or "state_dict" not in blob:
            raise ValueError(f"{path} is not a model file written by GenerativeModel.save")
        if blob.get("family") != cls.family:
            raise ValueError(
                f"{path} holds a {blob.get('family')!r} model; {cls.__name__} loads "
                f"{cls.family!r} models"
            )
        model = cls(**blob["config"])
        model.load_state_dict(blob["state_dict"])
        history = blob.get("history") or {}
        keys = list(history)
        rows = len(history[keys[0]]) if keys else 0
        model.history = [{k: history[k][i] for k in keys} for i in range(rows)]
        return model.to(resolve_device(device)).eval()


# -- training helpers ------------------------------------------------------------------------------
def prepare_data(data: object, *, dim: int | None = None, device=None) -> Tensor:
    """Validate a training set (a 2-D floating tensor, one row per example, finite, at least two
    rows) and move it to ``device`` as float32. Values beyond float32's range (float64 data
    above about 3.4e38 in size) are refused instead of silently becoming ``inf``."""
    data = check_tensor(data, "data", ndim=2)
    if data.shape[0] < 2:
        raise ValueError(f"data needs at least 2 rows (examples); got {data.shape[0]}")
    if data.shape[1] < 1:
        raise ValueError(f"data needs at least 1 column; got shape {tuple(data.shape)}")
    if dim is not None and data.shape[1] != dim:
        raise ValueError(f"data must have {dim} columns; got shape {tuple(data.shape)}")
    out = data.detach().to(device=resolve_device(device), dtype=torch.float32)
    if not torch.isfinite(out).all():
        big = float(data.detach().abs().max())
        raise ValueError(
            f"data holds values too large for float32 (largest magnitude {big:.3g}, float32 "
            f"stops at {_F32_MAX:.3g}); rescale the data before training"
        )
    return out


def prepare_tokens(data: object, *, device=None, name: str = "data") -> Tensor:
    """Validate integer training data (an int64 tensor of shape ``(N, D)``, N >= 2, D >= 1,
    no negative entries) and move it to ``device`` unchanged."""
    if not isinstance(data, Tensor) or data.dtype != torch.int64 or data.ndim != 2:
        got = type(data).__name__ if not isinstance(data, Tensor) else f"{data.dtype} {data.ndim}-D"
        raise TypeError(f"{name} must be a 2-D int64 tensor of shape (N, D); got {got}")
    if data.shape[0] < 2 or data.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least 2 rows and 1 column; got shape {tuple(data.shape)}"
        )
    if (data < 0).any():
        raise ValueError(f"{name} must hold indices >= 0")
    return data.to(resolve_device(device))


def check_fit_args(steps: object, seed: object, progress: object, default_steps: int) -> int:
    """Validate the common arguments of every ``fit``; return the number of steps (1 ..
    :data:`MAX_STEPS`)."""
    steps = default_steps if steps is None else check_int(steps, "steps", minimum=1)
    if steps > MAX_STEPS:
        raise ValueError(
            f"steps must be <= {MAX_STEPS:,} (more would train for days); got {steps:,}"
        )
    check_int(seed, "seed", minimum=0)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False; got {progress!r}")
    return steps


def merge_hyper(defaults: Mapping[str, object], hyper: Mapping[str, object]) -> dict:
    """``defaults`` updated with ``hyper``, refusing names ``defaults`` does not know (its
    ``"steps"`` entry is left out: ``steps`` is an argument of ``fit`` itself)."""
    known = set(defaults) - {"steps"}
    unknown = set(hyper) - known
    if unknown:
        raise TypeError(f"unknown hyper-parameter(s) {sorted(unknown)}; known: {sorted(known)}")
    merged = {**defaults, **hyper}
    merged.pop("steps", None)
    return merged


def check_lr(value: object, name: str = "lr") -> float:
    """A learning rate: a finite number > 0."""
    value = check_real(value, name, positive=True)
    return value


def check_labels(labels: object, n: int, device) -> tuple[Tensor | None, int]:
    """Class labels of a conditional fit: ``None`` (unconditional: returns ``(None, 0)``) or a
    1-D int64 tensor with one entry >= 0 per row of the data; returns the labels on ``device``
    and the number of classes (the largest label + 1)."""
    if labels is None:
        return None, 0
    if not isinstance(labels, Tensor) or labels.dtype != torch.int64 or labels.ndim != 1:
        raise TypeError("labels must be a 1-D int64 tensor")
    if labels.shape[0] != n:
        raise ValueError(f"labels must have one entry per row of data ({n})")
    if (labels < 0).any():
        raise ValueError("labels must be >= 0")
    return labels.to(device), int(labels.max()) + 1


def batch_indices(
    n: int, batch_size: int, generator: torch.Generator, device=None
) -> Iterator[Tensor]:
    """Endless mini-batches of row indices (int64 on ``device``): each pass over ``range(n)`` is a
    fresh ``torch.randperm`` drawn with ``generator`` on the CPU (so the order is the same on
    every device), cut into batches of ``min(batch_size, n)``; a short tail is dropped."""
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    n = check_int(n, "n", minimum=1)
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator).to(device)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def batches(data: Tensor, batch_size: int, generator: torch.Generator) -> Iterator[Tensor]:
    """Endless mini-batches of the rows of ``data``, in the order of :func:`batch_indices`."""
    for rows in batch_indices(data.shape[0], batch_size, generator, data.device):
        yield data[rows]


def _rng_devices(device: torch.device) -> tuple[list, str | None]:
    """The accelerator generators :func:`seeded` forks and seeds for ``device``."""
    if device.type == "cpu":
        return [], None
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return [index], "cuda"
    return [device], device.type  # pragma: no cover - other accelerators


@contextlib.contextmanager
def seeded(seed: int, device=None) -> Iterator[None]:
    """Run the block with torch's global generators (the CPU's, and the one of ``device`` if it
    is an accelerator) seeded with ``seed``, under ``torch.random.fork_rng``: on leaving, every
    global generator is back in the state it had before, so the caller's random numbers do not
    depend on what ran inside."""
    seed = check_int(seed, "seed", minimum=0)
    devices, device_type = _rng_devices(resolve_device(device))
    with torch.random.fork_rng(devices=devices, device_type=device_type):
        torch.random.default_generator.manual_seed(seed)
        if device_type == "cuda":
            torch.cuda.default_generators[devices[0]].manual_seed(seed)
        elif device_type is not None:  # pragma: no cover - other accelerators
            torch.get_device_module(device_type).manual_seed(seed)
        yield


@dataclass(frozen=True)
class FitRun:
    """What :func:`fit_run` hands a family's ``fit``: the checked common arguments, the prepared
    data (``None`` when the fit prepares its own) and a private CPU generator seeded with
    ``seed`` for the data order and the noise the family draws explicitly."""

    steps: int
    seed: int
    device: torch.device
    progress: bool
    data: Tensor | None
    generator: torch.Generator


@contextlib.contextmanager
def fit_run(
    data: object,
    steps: object,
    seed: object,
    device: object,
    progress: object,
    default_steps: int,
    *,
    tokens: bool = False,
) -> Iterator[FitRun]:
    """The preamble every ``fit`` shares (see the module docstring): check ``steps`` (``None``:
    ``default_steps``), ``seed``, ``progress`` and ``device``; prepare ``data`` (float data with
    :func:`prepare_data`, integer data with :func:`prepare_tokens` when ``tokens``; ``None`` is
    passed through); then run the block under :func:`seeded`, so that initialisation is
    reproducible and the caller's global random state is left as it was."""
    steps = check_fit_args(steps, seed, progress, default_steps)
    dev = resolve_device(device)
    if data is not None:
        data = prepare_tokens(data, device=dev) if tokens else prepare_data(data, device=dev)
    generator = torch.Generator().manual_seed(seed)
    with seeded(seed, dev):
        yield FitRun(steps, seed, dev, progress, data, generator)


def _check_log_prob_args(x: object, mean: object, log_sigma: object) -> None:
    """Kinds and shapes only (no look at the values: this runs in every training step)."""
    x = check_tensor(x, "x", min_ndim=1, finite=False)
    for name, t in (("mean", mean), ("log_sigma", log_sigma)):
        if t is not None:
            check_broadcastable(x, check_tensor(t, name, finite=False), "x", name)
            if t.ndim > x.ndim:
                raise ValueError(f"{name} has more dimensions than x: {tuple(t.shape)}")


def gaussian_log_prob(
    x: Tensor,
    mean: Tensor | None = None,
    log_sigma: Tensor | None = None,
    *,
    standardized: bool = False,
) -> Tensor:
    """``log N(x; mean, diag σ²)`` in nats, summed over the last dimension, σ = exp(log_sigma)
    (``mean`` defaults to 0, ``log_sigma`` to 0): ``Σ_j [−½ log 2π − log σ_j − z_j² / 2]`` with
    ``z = (x − mean) / σ``. With ``standardized=True``, ``x`` already is ``z`` (for instance the
    noise ε of a reparameterised draw μ + σ ε, which is exact where σ ≪ |μ|) and ``mean`` is
    ignored. With neither ``mean`` nor ``log_sigma`` (and not ``standardized``) it is the standard
    normal, computed as ``−½ (‖x‖² + d log 2π)``.

    The one Gaussian log-density of the model families; its forms are the ones their losses were
    written with, so that training, and the shipped checkpoints, do not change by a bit."""
    _check_log_prob_args(x, mean, log_sigma)
    if mean is None and log_sigma is None and not standardized:
        return -0.5 * (x.pow(2).sum(-1) + x.shape[-1] * LOG_2PI)
    z = x
    if not standardized:
        z = z if mean is None else z - mean
        z = z if log_sigma is None else z * torch.exp(-log_sigma)
    const = -0.5 * LOG_2PI if log_sigma is None else -0.5 * LOG_2PI - log_sigma
    return (const - 0.5 * z**2).sum(-1)


def train(
    step: Callable[[int], dict[str, Tensor | float]],
    steps: int,
    *,
    model: GenerativeModel | None = None,
    progress: bool = True,
    desc: str = "training",
    log_every: int = 10,
) -> list[dict[str, float]]:
    """Call ``step(i)`` for ``i = 0 .. steps-1`` behind a progress bar showing its losses.

    ``step`` returns a dict of scalar losses. Every ``log_every`` steps (and at the last) they are
    turned into floats (one device synchronisation), shown on the bar and appended to the returned
    history — and to ``model.history`` when a model is given. A non-finite loss stops training
    with a ``FloatingPointError`` naming the step.
    """
    steps = check_int(steps, "steps", minimum=1)
    log_every = check_int(log_every, "log_every", minimum=1)
    history: list[dict[str, float]] = []
    bar = progress_bar(range(steps), total=steps, desc=desc, enabled=progress, leave=False)
    for i in bar:
        losses = step(i)
        if i % log_every == 0 or i == steps - 1:
            row = {k: float(v) for k, v in losses.items()}
            if not all(math.isfinite(v) for v in row.values()):
                bar.close()
                raise FloatingPointError(
                    f"training diverged at step {i}: {row}; try a smaller learning rate"
                )
            row["step"] = float(i)
            history.append(row)
            bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k != "step"}, refresh=False)
    bar.close()
    if model is not None:
        model.history.extend(history)
    return history


# -- shipped checkpoints --------------------------------------------------------------------------
def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_path(name: str) -> Path:
    """Where the shipped checkpoint ``name`` lives (``companion/checkpoints/NAME.pt``)."""
    if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
        raise ValueError(f"checkpoint name must be a simple identifier; got {name!r}")
    return CHECKPOINT_DIR / f"{name}.pt"


def _manifest() -> dict[str, str]:
    path = CHECKPOINT_DIR / _MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}


def _record(name: str, path: Path) -> str:
    manifest = _manifest()
    manifest[name] = file_sha256(path)
    (CHECKPOINT_DIR / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest[name]


def load_pretrained(name: str, cls: type[GenerativeModel], *, device=None) -> GenerativeModel:
    """Load the shipped checkpoint ``name`` as a ``cls`` after checking its SHA-256 against
    ``companion/checkpoints/manifest.json``."""
    path = checkpoint_path(name)
    expected = _manifest().get(name)
    if expected is None or not path.is_file():
        raise FileNotFoundError(
            f"no shipped checkpoint {name!r}; create it with `python -m companion.pretrain {name}`"
        )
    return cls.load(path, device=device, sha256=expected)
