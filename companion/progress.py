"""Progress bars that work in a terminal, in Jupyter and in the (non-interactive) book build."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm.auto import tqdm

from ._mode import building_static

__all__ = ["progress"]


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    enabled: bool = True,
    **kwargs,
):
    """A ``tqdm.auto`` progress bar (a widget in Jupyter, text elsewhere).

    It is switched off when ``enabled`` is false or when the book is being built
    (``GF_FIGURE_MODE=static``), where a bar would only clutter the page. Use ``bar.set_postfix``
    to show a running loss.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, got {enabled!r}")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise ValueError(f"total must be a non-negative integer, got {total!r}")
    return tqdm(
        iterable, total=total, desc=desc, disable=(not enabled) or building_static(), **kwargs
    )
