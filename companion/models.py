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
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ._validate import check_int, check_tensor
from .device import resolve_device
from .progress import progress as progress_bar

__all__ = [
    "GenerativeModel",
    "prepare_data",
    "batches",
    "train",
    "check_fit_args",
    "CHECKPOINT_DIR",
    "checkpoint_path",
    "load_pretrained",
    "file_sha256",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
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
    """Validate a training set (a 2-D floating tensor, one row per example) and move it to
    ``device`` as float32."""
    data = check_tensor(data, "data", ndim=2)
    if data.shape[0] < 2:
        raise ValueError(f"data needs at least 2 rows (examples); got {data.shape[0]}")
    if dim is not None and data.shape[1] != dim:
        raise ValueError(f"data must have {dim} columns; got shape {tuple(data.shape)}")
    return data.detach().to(device=resolve_device(device), dtype=torch.float32)


def check_fit_args(steps: object, seed: object, progress: object, default_steps: int) -> int:
    """Validate the common arguments of every ``fit``; return the number of steps."""
    steps = default_steps if steps is None else check_int(steps, "steps", minimum=1)
    check_int(seed, "seed", minimum=0)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False; got {progress!r}")
    return steps


def batches(data: Tensor, batch_size: int, generator: torch.Generator) -> Iterator[Tensor]:
    """Endless mini-batches: each pass over ``data`` is a fresh random permutation (drawn with
    ``generator`` on the CPU, so the order is the same on every device)."""
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    n = data.shape[0]
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator).to(data.device)
        for start in range(0, n - batch_size + 1, batch_size):
            yield data[order[start : start + batch_size]]


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
