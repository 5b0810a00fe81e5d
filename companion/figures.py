"""The dual-mode interactive figure: one call, two kinds of reader.

A chapter writes a function ``make(**params) -> plotly.graph_objects.Figure`` and calls::

    interactive(make, Slider("mu", -3, 3, value=0, label="μ"), Slider("sigma", 0.2, 3, value=1))

What the reader gets depends on where the chapter runs:

``"static"`` (the website; the book build selects it)
    ``make`` is evaluated on a grid of parameter values when the book is built. The result is a
    plotly figure with native sliders (and dropdown buttons for :class:`Choice` controls) whose
    steps hold the precomputed traces, titles and annotations. The site's ``gf-figures.js``
    swaps them in when a slider moves, for any combination of controls, with no kernel.

``"live"`` (Jupyter, Binder)
    ipywidgets sliders over the continuous range call ``make`` again on every move and update a
    ``plotly.graph_objects.FigureWidget`` in place, so every value in the range works, not only
    the grid points.

The mode is chosen by :func:`resolve_mode` (it lives in ``companion._mode``, the one place that
reads and writes the mode): the ``GF_FIGURE_MODE`` environment variable when set
(``companion.sphinxext`` sets it to ``"static"`` for the book build), otherwise ``"live"`` inside a
Jupyter kernel and ``"static"`` anywhere else. Put the numbers that matter (a divergence, an
entropy) into the figure's title or annotations: they then change with the slider in both modes.

**Frame order, the Python ↔ JavaScript contract.** A static figure with controls
``c_0, ..., c_{k-1}`` (in the order given to :func:`interactive`, sliders and choices mixed) of
grid sizes ``n_0, ..., n_{k-1}`` stores one frame per combination, in the order of
``itertools.product(c_0.grid(), ..., c_{k-1}.grid())``: row-major (C order), the LAST control
varying fastest. The frame shown for the grid indices ``(i_0, ..., i_{k-1})`` is number ::

    numpy.ravel_multi_index((i_0, ..., i_{k-1}), (n_0, ..., n_{k-1}))   # C order
    == ((i_0 * n_1 + i_1) * n_2 + i_2) ... * n_{k-1} + i_{k-1}

(for two controls, ``i * n_1 + j``). ``gf-figures.js`` (``frameIndex``) computes exactly this
from the spec's ``controls`` list (same order, each with its ``size``): it walks the controls in
order, reading the ``active`` step of the next plotly slider for a ``"slider"`` control and of the
next button row (``updatemenus``) for a ``"choice"`` control, and accumulates
``index = index * size + active``. So the plotly sliders appear in ``layout.sliders`` in the
order of the slider controls and the button rows in ``layout.updatemenus`` in the order of the
choice controls; :meth:`StaticFigure._add_controls` keeps both orders. ``tests/test_figures.py``
checks the Python side and the browser test ``test_slider_moves_show_frame_ravel`` in
``tests/test_site.py`` the page side.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from . import theme
from ._mode import ENV_MODE, resolve_mode
from ._validate import check_real
from .device import single_thread

__all__ = [
    "Slider",
    "Choice",
    "StaticFigure",
    "LiveFigure",
    "interactive",
    "resolve_mode",
    "ENV_MODE",
    "MAX_FRAMES",
]

#: Upper bound on the number of precomputed parameter combinations in one static figure; it keeps
#: a page at a few MB.
MAX_FRAMES = 2000


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{what} name must be a valid Python identifier, got {name!r}")
    return name


def _check_number(value: Any, what: str) -> float:
    return check_real(value, what)


@dataclass(frozen=True)
class Slider:
    """A real-valued parameter on ``[min, max]``.

    Parameters
    ----------
    name
        Keyword under which ``make`` receives the value.
    min, max
        The range; ``min < max``. Both ends are reachable in both modes.
    value
        Starting value (default: the middle of the range). On the static site it snaps to the
        nearest grid point.
    steps
        Number of precomputed values for the static site (``linspace(min, max, steps)``, so the
        ends are included). The live slider is continuous (``live_steps`` increments).
    label
        What the reader sees (e.g. ``"σ"``); defaults to ``name``.
    fmt
        Format spec for the displayed value.
    """

    name: str
    min: float
    max: float
    value: float | None = None
    steps: int = 21
    label: str | None = None
    fmt: str = ".2f"
    live_steps: int = 400

    def __post_init__(self) -> None:
        _check_name(self.name, "Slider")
        lo = _check_number(self.min, f"Slider {self.name!r} min")
        hi = _check_number(self.max, f"Slider {self.name!r} max")
        if not lo < hi:
            raise ValueError(f"Slider {self.name!r} needs min < max, got min={lo}, max={hi}")
        for attr in ("steps", "live_steps"):
            n = getattr(self, attr)
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise TypeError(f"Slider {self.name!r} {attr} must be an integer, got {n!r}")
            if n < 2:
                raise ValueError(f"Slider {self.name!r} {attr} must be at least 2, got {n}")
        value = (lo + hi) / 2 if self.value is None else _check_number(self.value, "value")
        if not lo <= value <= hi:
            raise ValueError(
                f"Slider {self.name!r} value {value} lies outside its range [{lo}, {hi}]"
            )
        try:
            format(1.0, self.fmt)
        except (ValueError, TypeError):
            raise ValueError(
                f"Slider {self.name!r} fmt {self.fmt!r} is not a format spec"
            ) from None
        object.__setattr__(self, "min", lo)
        object.__setattr__(self, "max", hi)
        object.__setattr__(self, "value", value)

    @property
    def display(self) -> str:
        return self.label or self.name

    def grid(self) -> list[float]:
        """The precomputed values used on the static site (ends included)."""
        return [float(v) for v in np.linspace(self.min, self.max, int(self.steps))]

    def grid_index(self) -> int:
        """Index of the grid point nearest the starting value."""
        return int(np.argmin(np.abs(np.asarray(self.grid()) - self.value)))

    def format(self, value: float) -> str:
        return format(value, self.fmt)


@dataclass(frozen=True)
class Choice:
    """A parameter taking one of a few values (a dropdown live, buttons on the static site).

    ``options`` holds either plain values (shown with ``str``) or ``(label, value)`` pairs.
    """

    name: str
    options: Sequence[Any]
    value: Any = None
    label: str | None = None
    _pairs: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "Choice")
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence):
            raise TypeError(f"Choice {self.name!r} options must be a list or tuple")
        if len(self.options) < 1:
            raise ValueError(f"Choice {self.name!r} needs at least one option")
        pairs = []
        for opt in self.options:
            if isinstance(opt, tuple) and len(opt) == 2 and isinstance(opt[0], str):
                pairs.append(opt)
            else:
                pairs.append((str(opt), opt))
        values = [v for _, v in pairs]
        value = values[0] if self.value is None else self.value
        if value not in values:
            raise ValueError(f"Choice {self.name!r} value {value!r} is not one of its options")
        object.__setattr__(self, "_pairs", tuple(pairs))
        object.__setattr__(self, "value", value)

    @property
    def display(self) -> str:
        return self.label or self.name

    def grid(self) -> list[Any]:
        return [v for _, v in self._pairs]

    def grid_index(self) -> int:
        return self.grid().index(self.value)

    def labels(self) -> list[str]:
        return [lbl for lbl, _ in self._pairs]


Control = Slider | Choice


def _check_controls(controls: Sequence[Control]) -> tuple[Control, ...]:
    if not controls:
        raise ValueError("interactive() needs at least one Slider or Choice")
    seen = set()
    for c in controls:
        if not isinstance(c, (Slider, Choice)):
            raise TypeError(f"controls must be Slider or Choice objects, got {type(c).__name__}")
        if c.name in seen:
            raise ValueError(f"two controls share the name {c.name!r}")
        seen.add(c.name)
    return tuple(controls)


def _call(make: Callable[..., go.Figure], params: dict[str, Any]) -> go.Figure:
    with single_thread():  # small tensors: threads only add synchronisation
        fig = make(**params)
    if not isinstance(fig, go.Figure):
        raise TypeError(
            f"the figure function must return a plotly.graph_objects.Figure, "
            f"got {type(fig).__name__} for parameters {params}"
        )
    return fig


def _plain(fig: go.Figure) -> dict:
    """The figure as plain JSON types (numpy arrays become lists, template dropped)."""
    out = json.loads(pio.to_json(fig, validate=False, remove_uids=True))
    out.get("layout", {}).pop("template", None)
    return out


def interactive(
    make: Callable[..., go.Figure],
    *controls: Control,
    mode: str | None = None,
    height: int = 460,
) -> StaticFigure | LiveFigure:
    """Turn ``make(**params) -> go.Figure`` into an interactive figure (see the module docs).

    Parameters
    ----------
    make
        Called with one keyword argument per control. It must return a figure with the same
        number of traces for every parameter value.
    *controls
        :class:`Slider` and :class:`Choice` objects.
    mode
        ``"static"``, ``"live"``, or ``None``/``"auto"`` for :func:`resolve_mode`.
    height
        Figure height in pixels (the controls are added below the plot).

    Returns
    -------
    StaticFigure or LiveFigure
        Displays itself when it is the last expression of a cell.
    """
    if not callable(make):
        raise TypeError(f"make must be callable, got {type(make).__name__}")
    controls = _check_controls(controls)
    if isinstance(height, bool) or not isinstance(height, int) or height < 100:
        raise ValueError(f"height must be an integer of at least 100 pixels, got {height!r}")
    theme.register(make_default=False)
    if resolve_mode(mode) == "static":
        return StaticFigure(make, controls, height=height)
    return LiveFigure(make, controls, height=height)


class StaticFigure:
    """A plotly figure whose controls hold precomputed frames; moves on a page with no kernel.

    Attributes
    ----------
    figure : go.Figure
        The base figure at the controls' starting values, with sliders/buttons in its layout.
    payload : dict
        What ``gf-figures.js`` needs: the controls, the indices of the traces that change, the
        trace attributes that change and, per parameter combination (row-major over controls:
        frame ``numpy.ravel_multi_index(indices, sizes)``, see the module docs), their values
        plus the layout entries (title, annotations, ...) that change.
    """

    def __init__(self, make: Callable[..., go.Figure], controls: Sequence[Control], height=460):
        self.controls = tuple(controls)
        grids = [c.grid() for c in self.controls]
        n_frames = math.prod(len(g) for g in grids)
        if n_frames > MAX_FRAMES:
            raise ValueError(
                f"{n_frames} parameter combinations exceed the static figure's limit of "
                f"{MAX_FRAMES}; lower the sliders' steps"
            )
        names = [c.name for c in self.controls]
        frames = [
            _plain(_call(make, dict(zip(names, combo, strict=True))))
            for combo in itertools.product(*grids)
        ]
        start = [c.grid_index() for c in self.controls]
        base_index = int(np.ravel_multi_index(start, [len(g) for g in grids]))
        self.payload = self._diff(frames, base_index)
        base = frames[base_index]
        self.figure = go.Figure(base)
        self.figure.update_layout(template=theme.TEMPLATE_NAME, height=height)
        self._add_controls(start)

    @staticmethod
    def _diff(frames: list[dict], base_index: int) -> dict:
        base = frames[base_index]
        n_traces = len(base.get("data", []))
        for i, fr in enumerate(frames):
            if len(fr.get("data", [])) != n_traces:
                raise ValueError(
                    "the figure function must return the same number of traces for every "
                    f"parameter value (frame 0 has {n_traces}, frame {i} has "
                    f"{len(fr.get('data', []))})"
                )
        keys: set[str] = set()
        traces: set[int] = set()
        layout_keys: set[str] = set()
        for fr in frames:
            for t, (a, b) in enumerate(zip(fr["data"], base["data"], strict=True)):
                for k in set(a) | set(b):
                    if a.get(k) != b.get(k):
                        if k == "type":
                            raise ValueError(f"trace {t} changes its type between parameters")
                        keys.add(k)
                        traces.add(t)
            la, lb = fr.get("layout", {}), base.get("layout", {})
            for k in set(la) | set(lb):
                if la.get(k) != lb.get(k):
                    layout_keys.add(k)
        keys_l, traces_l, lkeys_l = sorted(keys), sorted(traces), sorted(layout_keys)
        out_frames = []
        for fr in frames:
            data = {k: [fr["data"][t].get(k) for t in traces_l] for k in keys_l}
            # plotly's relayout drops a key given as None; an empty list/dict clears it instead.
            layout = {k: fr.get("layout", {}).get(k, _empty_like(base, k)) for k in lkeys_l}
            out_frames.append({"data": data, "layout": layout})
        return {"traces": traces_l, "keys": keys_l, "frames": out_frames}

    def _add_controls(self, start: list[int]) -> None:
        sliders, menus = [], []
        n_sliders = sum(isinstance(c, Slider) for c in self.controls)
        row = 0
        for pos, c in enumerate(self.controls):
            if isinstance(c, Slider):
                sliders.append(
                    dict(
                        active=start[pos],
                        name=c.name,
                        currentvalue=dict(prefix=f"{c.display} = ", font=dict(size=13)),
                        y=0,
                        yanchor="top",
                        pad=dict(t=60 + 75 * row, b=4),
                        len=0.92,
                        x=0.04,
                        steps=[
                            dict(method="skip", label=c.format(v), args=[None], value=str(k))
                            for k, v in enumerate(c.grid())
                        ],
                        transition=dict(duration=0),
                    )
                )
                row += 1
            else:
                menus.append(
                    dict(
                        type="buttons",
                        direction="right",
                        active=start[pos],
                        showactive=True,
                        x=0.0,
                        xanchor="left",
                        y=1.02,  # rows stacked below, once the plot's height is known
                        yanchor="bottom",
                        pad=dict(b=4),
                        buttons=[dict(method="skip", label=lbl, args=[None]) for lbl in c.labels()],
                        name=c.name,
                    )
                )
        # Room for the controls, on top of whatever margins the figure asked for itself.
        own = self.figure.layout.margin
        margin_b = max(own.b or 0, 75) + 75 * n_sliders if n_sliders else own.b
        margin_t = max(own.t or 60, 80) + 45 * len(menus) if menus else own.t
        height = (self.figure.layout.height or 460) + 75 * n_sliders
        # Button rows 34 px apart whatever the plot's height (a paper-fraction step overlapped
        # the rows of short plots); the top margin leaves 45 px per row.
        plot_h = max(height - (margin_t or 100) - (margin_b or 80), 100)
        for k, menu in enumerate(menus):
            menu["y"] = 1.02 + k * 34 / plot_h
        self.figure.update_layout(
            sliders=sliders or None,
            updatemenus=menus or None,
            margin=dict(b=margin_b, t=margin_t),
            height=height,
        )

    def _spec(self) -> dict:
        return {
            "controls": [
                {
                    "name": c.name,
                    "kind": "slider" if isinstance(c, Slider) else "choice",
                    "size": len(c.grid()),
                }
                for c in self.controls
            ],
            **self.payload,
        }

    def to_html(self) -> str:
        """The HTML placed on the page: the figure's div, its frames as JSON, a render call."""
        fig_json = json.loads(pio.to_json(self.figure, validate=False, remove_uids=True))
        spec = {"figure": fig_json, **self._spec()}
        text = json.dumps(spec, separators=(",", ":"), allow_nan=False)
        div_id = "gf-" + hashlib.sha1(text.encode()).hexdigest()[:12]
        safe = text.replace("</", "<\\/")
        return (
            f'<div class="gf-figure" id="{div_id}" data-gf-controls="{len(self.controls)}">'
            f"</div>\n"
            f'<script type="application/json" id="{div_id}-spec">{safe}</script>\n'
            "<script>(function(){var id=" + json.dumps(div_id) + ";"
            "if(window.gfFigures){window.gfFigures.render(id);}"
            "else{document.getElementById(id).textContent="
            + json.dumps(
                html.escape(
                    "This figure needs the book's page scripts (plotly.js and "
                    "gf-figures.js); open it in the built website."
                )
            )
            + ";}})();</script>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.to_html()}


def _nice_step(raw: float) -> float:
    """The largest of 1, 2, 5 × 10^k not above ``raw``.

    ipywidgets snaps a slider's value to ``min + k * step``; with a round step the round starting
    values and ends that chapters use (σ = 1 on [0.25, 3], say) stay exact instead of becoming
    0.999375.
    """
    exponent = math.floor(math.log10(raw))
    for mantissa in (5, 2, 1):
        step = mantissa * 10.0**exponent
        if step <= raw * (1 + 1e-12):
            return float(f"{step:.12g}")
    return float(f"{10.0 ** (exponent - 1) * 5:.12g}")  # pragma: no cover - unreachable


def _figure_state(fig: go.Figure) -> dict:
    """Trace attributes and layout entries of ``fig`` (template and height left out)."""
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    layout.pop("height", None)
    data = []
    for tr in fig.data:
        props = tr.to_plotly_json()
        props.pop("type", None)
        data.append(props)
    return {"data": data, "layout": layout}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b))
        )
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # containers holding arrays
        return False


def _empty_like(base: dict, key: str) -> Any:
    val = base.get("layout", {}).get(key)
    return [] if isinstance(val, list) or key in ("annotations", "shapes", "images") else {}


class LiveFigure:
    """ipywidgets controls driving a ``go.FigureWidget``; every move calls ``make`` again.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Controls above the figure; displayed when the object is the last expression of a cell.
    figure : go.FigureWidget
    controls : dict[str, ipywidgets.Widget]
        One widget per control, by name (``obj.controls["mu"].value = 1.5`` drives the figure).
    """

    def __init__(self, make: Callable[..., go.Figure], controls: Sequence[Control], height=460):
        import ipywidgets as widgets

        self._make = make
        self._specs = tuple(controls)
        self.controls: dict[str, Any] = {}
        for c in self._specs:
            if isinstance(c, Slider):
                w = widgets.FloatSlider(
                    value=c.value,
                    min=c.min,
                    max=c.max,
                    step=_nice_step((c.max - c.min) / c.live_steps),
                    description=c.display,
                    readout_format=c.fmt,
                    continuous_update=True,
                    style={"description_width": "initial"},
                    layout=widgets.Layout(width="95%"),
                )
            else:
                w = widgets.Dropdown(options=list(c._pairs), value=c.value, description=c.display)
            w.observe(self._on_change, names="value")
            self.controls[c.name] = w
        first = _call(make, self.values())
        first.update_layout(template=theme.TEMPLATE_NAME, height=height)
        self.figure = go.FigureWidget(first)
        self._n_traces = len(first.data)
        self._state = _figure_state(first)
        self.error = widgets.HTML()
        self.widget = widgets.VBox([*self.controls.values(), self.figure, self.error])

    @property
    def specs(self) -> tuple[Control, ...]:
        """The :class:`Slider` and :class:`Choice` objects this figure was built from."""
        return self._specs

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: w.value for name, w in self.controls.items()}

    def update(self, **params: Any) -> None:
        """Set controls by name (as a reader moving sliders would) and redraw once."""
        unknown = set(params) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; known: {list(self.controls)}")
        for c in self._specs:
            if c.name in params and isinstance(c, Slider):
                v = _check_number(params[c.name], c.name)
                if not c.min <= v <= c.max:
                    raise ValueError(f"{c.name}={v} lies outside [{c.min}, {c.max}]")
        for name, v in params.items():
            w = self.controls[name]
            w.unobserve(self._on_change, names="value")
            try:
                w.value = v
            finally:
                w.observe(self._on_change, names="value")
        self.redraw()

    def _on_change(self, _change=None) -> None:
        try:
            self.redraw()
            self.error.value = ""
        except Exception as exc:  # show the problem under the figure instead of a silent stall
            self.error.value = f"<pre style='color:#D55E00'>{html.escape(repr(exc))}</pre>"
            raise

    def redraw(self) -> None:
        """Recompute the figure at the current control values and update it in place.

        Only what changed since the last drawing is sent to the widget (trace attributes and
        top-level layout entries), which keeps a slider move cheap.
        """
        new = _call(self._make, self.values())
        if len(new.data) != self._n_traces:
            raise ValueError(
                f"the figure function returned {len(new.data)} traces, expected {self._n_traces}"
            )
        state = _figure_state(new)
        with self.figure.batch_update():
            for i, (old, tr) in enumerate(zip(self._state["data"], state["data"], strict=True)):
                changed = {k: v for k, v in tr.items() if not _same(old.get(k), v)}
                changed.update({k: None for k in old if k not in tr})
                if changed:
                    self.figure.data[i].update(changed, overwrite=True)
            old_layout = self._state["layout"]
            for k, v in state["layout"].items():
                if not _same(old_layout.get(k), v):
                    self.figure.layout[k] = v
            for k in old_layout:
                if k not in state["layout"]:
                    self.figure.layout[k] = None
        self._state = state

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
