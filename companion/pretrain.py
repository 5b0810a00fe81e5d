"""Retrain the checkpoints that ship with the book: ``python -m companion.pretrain [NAME ...]``.

A model that takes longer to train than its chapter's time budget is trained here, from a fixed
seed on the CPU, and saved to ``companion/checkpoints/NAME.pt``; its SHA-256 goes into
``companion/checkpoints/manifest.json``, which :func:`companion.models.load_pretrained` checks on
every load. Each family module lists what it can pretrain in a module-level ``PRETRAINED`` dict
(name → function returning a trained model), so adding one needs no change here.

``python -m companion.pretrain --list`` shows the names; with no name, all are retrained.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable

from .models import GenerativeModel, _record, checkpoint_path

#: Modules searched for a ``PRETRAINED`` dict.
FAMILY_MODULES = ("vae", "gan", "flows", "diffusion", "zoo")


def registry() -> dict[str, Callable[[], GenerativeModel]]:
    """Every pretrainable model: name → zero-argument training function."""
    found: dict[str, Callable[[], GenerativeModel]] = {}
    for module_name in FAMILY_MODULES:
        try:
            module = importlib.import_module(f"companion.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"companion.{module_name}":
                raise
            continue
        for name, fn in getattr(module, "PRETRAINED", {}).items():
            if name in found:
                raise RuntimeError(f"checkpoint name {name!r} is registered twice")
            found[name] = fn
    return found


def pretrain(name: str) -> str:
    """Train the model ``name``, save it and record its hash; return the hash."""
    known = registry()
    if name not in known:
        raise ValueError(
            f"unknown checkpoint {name!r}; known: {', '.join(sorted(known)) or 'none'}"
        )
    model = known[name]()
    path = checkpoint_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.cpu().save(path)
    return _record(name, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m companion.pretrain", description=__doc__)
    parser.add_argument("names", nargs="*", help="checkpoints to retrain (default: all)")
    parser.add_argument("--list", action="store_true", help="list the known names and exit")
    args = parser.parse_args(argv)
    known = registry()
    if args.list:
        for name in sorted(known):
            print(name)
        return
    for name in args.names or sorted(known):
        start = time.perf_counter()
        digest = pretrain(name)
        print(
            f"{name}: {checkpoint_path(name)} sha256={digest[:16]}… "
            f"({time.perf_counter() - start:.1f} s)"
        )


if __name__ == "__main__":
    main()
