"""The figure mode, in one place: ``"static"`` (the website) or ``"live"`` (Jupyter).

The environment variable ``GF_FIGURE_MODE`` carries the mode from the book build to the kernels
that execute the chapters (they inherit the build's environment):

* :func:`set_mode` writes it; ``companion.sphinxext`` calls ``set_mode("static")`` when Sphinx
  loads the extension;
* :func:`resolve_mode` reads it for :func:`companion.figures.interactive` and for the book's
  plotly renderer (``companion.theme``): an explicit ``mode`` argument wins, then the variable,
  then auto-detection (``"live"`` inside a Jupyter kernel, ``"static"`` anywhere else);
* :func:`building_static` reads only the variable: true in the book build, where
  ``companion.progress`` hides its bars. (Auto-detection is left out on purpose: a plain script
  also resolves to ``"static"``, and it should keep its progress bars.)

This module imports nothing heavy (no torch, plotly or numpy), so that Sphinx can load
``companion.sphinxext`` without them.
"""

from __future__ import annotations

import os

__all__ = ["ENV_MODE", "MODES", "resolve_mode", "set_mode", "env_mode", "building_static"]

ENV_MODE = "GF_FIGURE_MODE"
#: The two modes a figure can take.
MODES = ("static", "live")


def _check(mode: object) -> str:
    if mode not in MODES:
        raise ValueError(f"figure mode must be 'static', 'live' or 'auto', got {mode!r}")
    return mode  # type: ignore[return-value]


def env_mode() -> str | None:
    """``$GF_FIGURE_MODE`` stripped and lower-cased, or ``None`` when it is unset or empty."""
    return os.environ.get(ENV_MODE, "").strip().lower() or None


def building_static() -> bool:
    """Whether ``$GF_FIGURE_MODE`` says ``"static"`` (the book build sets it)."""
    return env_mode() == "static"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def resolve_mode(mode: str | None = None) -> str:
    """Which mode a figure uses: ``mode`` if given, else ``$GF_FIGURE_MODE``, else auto-detect.

    Auto-detection picks ``"live"`` inside a Jupyter kernel (where ipywidgets can talk to a
    front end) and ``"static"`` elsewhere. ``None`` and ``"auto"`` (as the argument or as the
    variable's value) both mean "not given".
    """
    if mode is None or mode == "auto":
        mode = env_mode()
    if mode is None or mode == "auto":
        return "live" if _in_kernel() else "static"
    return _check(mode)


def set_mode(mode: str) -> None:
    """Set ``$GF_FIGURE_MODE`` for this process and the kernels it starts."""
    os.environ[ENV_MODE] = _check(mode)
