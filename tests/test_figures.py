"""The dual-mode interactive figure: static payload, live updates, controls, bad input."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import figures
from companion.figures import Choice, LiveFigure, Slider, StaticFigure, interactive

X = np.linspace(-1.0, 1.0, 11)


def line(a, b=1.0, kind="lin"):
    y = a * X + b if kind == "lin" else a * X**2 + b
    return go.Figure(
        [go.Scatter(x=X, y=y, name="curve"), go.Scatter(x=X, y=np.zeros_like(X), name="axis")],
        layout=dict(title=f"a = {a:.4f}, b = {b:.4f}, {kind}"),
    )


def decode(arr):
    """Plotly JSON arrays are plain lists or base64 typed arrays ({'dtype', 'bdata'})."""
    if isinstance(arr, dict) and "bdata" in arr:
        import base64

        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"]))
    return np.asarray(arr, dtype=float)


def spec_of(fig: StaticFigure) -> dict:
    html = fig.to_html()
    m = re.search(
        r'<script type="application/json" id="(gf-[0-9a-f]+)-spec">(.*?)</script>', html, re.S
    )
    assert m, "the static figure's HTML carries its frames as JSON"
    assert f'id="{m.group(1)}"' in html
    return json.loads(m.group(2).replace("<\\/", "</"))


# --- static mode ------------------------------------------------------------------------------


def test_static_frames_hold_every_grid_combination():
    fig = interactive(line, Slider("a", -1, 1, steps=5), Slider("b", 0, 2, steps=3), mode="static")
    assert isinstance(fig, StaticFigure)
    spec = spec_of(fig)
    assert [c["size"] for c in spec["controls"]] == [5, 3]
    assert len(spec["frames"]) == 15
    # Only trace 0's y changes; trace 1 and the x arrays are stored once, in the base figure.
    assert spec["traces"] == [0]
    assert spec["keys"] == ["y"]
    # Row-major order: frame k = i_a * 3 + i_b, and it holds make(a_i, b_j) exactly.
    for ia, a in enumerate(np.linspace(-1, 1, 5)):
        for ib, b in enumerate(np.linspace(0, 2, 3)):
            frame = spec["frames"][ia * 3 + ib]
            np.testing.assert_allclose(decode(frame["data"]["y"][0]), a * X + b, rtol=0, atol=1e-12)
            assert frame["layout"]["title"]["text"] == f"a = {a:.4f}, b = {b:.4f}, lin"


def test_static_frame_order_is_c_order_ravel_over_mixed_controls():
    """The contract with gf-figures.js: frame ravel_multi_index((i, j, k), sizes), C order, over
    the controls in the order given, a Choice between two Sliders included; the page finds the
    k-th slider control in layout.sliders[k] and the k-th choice in layout.updatemenus[k]."""

    def make(a, kind, b):
        return line(a, b, kind)

    controls = (
        Slider("a", -1, 1, steps=3),
        Choice("kind", ["lin", "sq"]),
        Slider("b", 0, 2, steps=4),
    )
    fig = interactive(make, *controls, mode="static")
    spec = spec_of(fig)
    sizes = (3, 2, 4)
    assert [c["size"] for c in spec["controls"]] == list(sizes)
    assert [c["kind"] for c in spec["controls"]] == ["slider", "choice", "slider"]
    assert [s.name for s in fig.figure.layout.sliders] == ["a", "b"]
    assert [m.name for m in fig.figure.layout.updatemenus] == ["kind"]
    for i, a in enumerate(np.linspace(-1, 1, 3)):
        for j, kind in enumerate(["lin", "sq"]):
            for k, b in enumerate(np.linspace(0, 2, 4)):
                frame = spec["frames"][np.ravel_multi_index((i, j, k), sizes)]
                assert frame["layout"]["title"]["text"] == f"a = {a:.4f}, b = {b:.4f}, {kind}"


def test_static_sliders_are_native_and_start_at_the_default():
    fig = interactive(
        line,
        Slider("a", -1, 1, value=0.4, steps=11, label="α"),
        Slider("b", 0, 2, value=2, steps=3),
        mode="static",
    )
    sliders = fig.figure.layout.sliders
    assert len(sliders) == 2
    # 0.4 lies on the grid linspace(-1, 1, 11) -> index 7; b = 2 is the last of 3 points.
    assert sliders[0].active == 7 and sliders[1].active == 2
    assert sliders[0].currentvalue.prefix == "α = "
    assert [s.method for s in sliders[0].steps] == ["skip"] * 11
    assert sliders[0].steps[0].label == "-1.00" and sliders[0].steps[-1].label == "1.00"
    # The base figure is the one at the starting values.
    np.testing.assert_allclose(decode(fig.figure.data[0].y), 0.4 * X + 2)


def test_static_choice_becomes_buttons():
    fig = interactive(
        line,
        Slider("a", 0, 1, steps=2),
        Choice("kind", [("linear", "lin"), ("square", "sq")], value="sq"),
        mode="static",
    )
    menu = fig.figure.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == ["linear", "square"]
    assert menu.active == 1
    spec = spec_of(fig)
    assert spec["controls"][1] == {"name": "kind", "kind": "choice", "size": 2}
    last = spec["frames"][1 * 2 + 1]  # a = 1, kind = sq
    np.testing.assert_allclose(decode(last["data"]["y"][0]), X**2 + 1.0)


def test_static_extremes_are_exact_grid_points():
    seen = []

    def make(a):
        seen.append(a)
        return line(a)

    interactive(make, Slider("a", -2.5, 7.25, steps=4), mode="static")
    assert min(seen) == -2.5 and max(seen) == 7.25


def test_static_html_is_safe_and_deterministic():
    def make(a):
        return go.Figure([go.Scatter(x=[0, 1], y=[a, a])], layout=dict(title="</script><b>"))

    one = interactive(make, Slider("a", 0, 1, steps=3), mode="static").to_html()
    two = interactive(make, Slider("a", 0, 1, steps=3), mode="static").to_html()
    assert one == two, "rebuilding the book must give the same HTML"
    body = one.split('-spec">', 1)[1].split("</script>", 1)[0]
    assert "</script>" not in body


def test_static_mimebundle_is_html_only():
    bundle = interactive(line, Slider("a", 0, 1, steps=2), mode="static")._repr_mimebundle_()
    assert set(bundle) == {"text/html"}
    assert "gfFigures.render" in bundle["text/html"]


def test_static_layout_entries_that_vanish_are_cleared():
    def make(a):
        fig = go.Figure([go.Scatter(x=[0, 1], y=[0, a])])
        if a > 0.5:
            fig.add_annotation(text="big", x=0, y=0)
        return fig

    spec = spec_of(interactive(make, Slider("a", 0, 1, value=1, steps=3), mode="static"))
    assert spec["frames"][0]["layout"]["annotations"] == []
    assert spec["frames"][2]["layout"]["annotations"][0]["text"] == "big"


def test_static_rejects_changing_trace_count_and_type():
    def grows(a):
        return go.Figure([go.Scatter(x=[0], y=[0])] * (1 + int(a > 0.5)))

    with pytest.raises(ValueError, match="same number of traces"):
        interactive(grows, Slider("a", 0, 1, steps=3), mode="static")

    def morph(a):
        return go.Figure([go.Scatter(x=[0], y=[a]) if a < 0.5 else go.Bar(x=[0], y=[a])])

    with pytest.raises(ValueError, match="changes its type"):
        interactive(morph, Slider("a", 0, 1, steps=3), mode="static")


def test_static_frame_limit():
    with pytest.raises(ValueError, match="exceed"):
        interactive(line, Slider("a", 0, 1, steps=60), Slider("b", 0, 1, steps=60), mode="static")


# --- live mode --------------------------------------------------------------------------------


def test_live_updates_figure_in_place():
    live = interactive(line, Slider("a", -1, 1, value=0.5), Slider("b", 0, 2, value=1), mode="live")
    assert isinstance(live, LiveFigure)
    fw = live.figure
    assert isinstance(fw, go.FigureWidget)
    np.testing.assert_allclose(np.asarray(fw.data[0].y), 0.5 * X + 1)
    live.update(a=-0.123)  # off the static grid: live mode is continuous
    assert live.figure is fw, "the widget is updated in place, not replaced"
    np.testing.assert_allclose(np.asarray(fw.data[0].y), -0.123 * X + 1)
    assert fw.layout.title.text == "a = -0.1230, b = 1.0000, lin"


def test_live_slider_widgets_follow_the_controls():
    live = interactive(
        line,
        Slider("a", -1, 1, value=0.25, label="α", live_steps=200),
        Choice("kind", ["lin", "sq"]),
        mode="live",
    )
    w = live.controls["a"]
    assert (w.min, w.max, w.value, w.description) == (-1, 1, 0.25, "α")
    assert w.step == pytest.approx(2 / 200)
    # Moving the widget (as a reader does) redraws through the observer.
    w.value = 1.0
    np.testing.assert_allclose(np.asarray(live.figure.data[0].y), X + 1)
    live.controls["kind"].value = "sq"
    np.testing.assert_allclose(np.asarray(live.figure.data[0].y), X**2 + 1)


def test_live_start_values_stay_exact():
    # A step of (3 - 0.25) / 400 would snap sigma = 1 to 0.999375 in the widget.
    live = interactive(line, Slider("a", -1, 1), Slider("b", 0.25, 3.0, value=1.0), mode="live")
    assert live.controls["b"].value == 1.0
    assert live.controls["b"].step == 0.005
    assert figures._nice_step(0.0123) == 0.01 and figures._nice_step(0.03) == 0.02
    assert figures._nice_step(7.0) == 5.0 and figures._nice_step(1e-4) == 1e-4


@pytest.mark.parametrize("a", [-1.0, 1.0])
def test_live_extremes(a):
    live = interactive(line, Slider("a", -1, 1), mode="live")
    live.update(a=a)
    np.testing.assert_allclose(np.asarray(live.figure.data[0].y), a * X + 1)


def test_live_update_rejects_unknown_and_out_of_range():
    live = interactive(line, Slider("a", -1, 1), mode="live")
    with pytest.raises(ValueError, match="unknown control"):
        live.update(c=1)
    with pytest.raises(ValueError, match="outside"):
        live.update(a=1.5)


def test_live_error_is_shown_under_the_figure():
    def fragile(a):
        if a > 0.9:
            raise ValueError("a too large for this demo")
        return line(a)

    live = interactive(fragile, Slider("a", 0, 1, value=0.5), mode="live")
    with pytest.raises(ValueError, match="too large"):
        live.controls["a"].value = 1.0
    assert "too large" in live.error.value


# --- mode selection and argument checking ------------------------------------------------------


def test_mode_resolution(monkeypatch):
    monkeypatch.delenv(figures.ENV_MODE, raising=False)
    assert figures.resolve_mode() == "static"  # plain Python, no kernel
    monkeypatch.setenv(figures.ENV_MODE, "live")
    assert figures.resolve_mode() == "live"
    assert figures.resolve_mode("static") == "static"
    assert figures.resolve_mode("auto") == "live"  # "auto" defers to the variable
    with pytest.raises(ValueError, match="figure mode"):
        figures.resolve_mode("fancy")
    monkeypatch.setenv(figures.ENV_MODE, " Static ")
    assert figures.resolve_mode() == "static"
    monkeypatch.setenv(figures.ENV_MODE, "auto")  # the variable may say "auto" too
    assert figures.resolve_mode() == "static"
    monkeypatch.setenv(figures.ENV_MODE, "fancy")
    with pytest.raises(ValueError, match="figure mode"):
        figures.resolve_mode()


def test_one_home_for_the_mode(monkeypatch):
    from companion import _mode, progress, sphinxext, theme

    assert figures.ENV_MODE == _mode.ENV_MODE == "GF_FIGURE_MODE"
    assert figures.resolve_mode is _mode.resolve_mode is theme.resolve_mode
    monkeypatch.delenv(_mode.ENV_MODE, raising=False)
    assert not _mode.building_static() and _mode.env_mode() is None
    _mode.set_mode("static")  # what the book build does (monkeypatch restores the variable)
    assert _mode.env_mode() == "static" and _mode.building_static()
    assert progress.progress(range(2)).disable
    with pytest.raises(ValueError, match="figure mode"):
        _mode.set_mode("auto")  # only a concrete mode can be handed to the kernels
    # No module but _mode reads or writes the variable.
    for path in Path(_mode.__file__).parent.rglob("*.py"):
        if path.name != "_mode.py":
            text = path.read_text(encoding="utf-8")
            assert "GF_FIGURE_MODE" not in text.replace("``GF_FIGURE_MODE", ""), path
    assert sphinxext.PLOTLY_JS.is_file()


def test_sphinx_extension_imports_neither_torch_nor_plotly():
    code = (
        "import sys, companion.sphinxext; "
        "print(sorted(m for m in ('torch', 'plotly', 'numpy') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", f"import companion.sphinxext loaded {out.stdout.strip()}"


def _companion_import_graph() -> dict[str, set[str]]:
    """Module -> the companion modules it imports (anywhere in the file, function bodies too;
    ``if TYPE_CHECKING:`` blocks aside). A package's own ``__init__`` is not counted as imported
    by its submodules, only when named explicitly."""
    pkg = Path(figures.__file__).resolve().parent

    def name_of(path: Path) -> str:
        parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    files = {name_of(p): p for p in pkg.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges = set()
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in files}
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                if target in files:
                    subs = {f"{target}.{a.name}" for a in node.names}
                    edges |= {s if s in files else target for s in subs}
        graph[name] = edges - {name}
    return graph


def test_companion_modules_import_no_cycle():
    graph = _companion_import_graph()
    # The walk sees the whole package, subpackages included, and real edges.
    assert {"companion.zoo.score", "companion.explore.gan", "companion._mode"} <= set(graph)
    assert "companion.theme" in graph["companion.figures"]
    assert "companion.zoo.energy" in graph["companion.zoo.score"]
    assert "companion.figures" in graph["companion.explore.gan"]
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    # and the light module stays light
    assert graph["companion._mode"] == set() and graph["companion.sphinxext"] == {"companion._mode"}


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        (dict(name="a", min=1, max=1), ValueError, "min < max"),
        (dict(name="a", min=0, max=1, value=2), ValueError, "outside"),
        (dict(name="a", min=0, max=1, steps=1), ValueError, "at least 2"),
        (dict(name="a", min=0, max=1, steps=2.5), TypeError, "integer"),
        (dict(name="a", min="0", max=1), TypeError, "real number"),
        (dict(name="a", min=0, max=float("inf")), ValueError, "finite"),
        (dict(name="not ok", min=0, max=1), ValueError, "identifier"),
        (dict(name="a", min=0, max=1, fmt="%q"), ValueError, "format"),
    ],
)
def test_slider_bad_input(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        Slider(**kwargs)


def test_choice_and_interactive_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        Choice("k", [])
    with pytest.raises(ValueError, match="not one of"):
        Choice("k", ["x"], value="y")
    with pytest.raises(TypeError, match="list or tuple"):
        Choice("k", "abc")
    with pytest.raises(ValueError, match="at least one Slider"):
        interactive(line)
    with pytest.raises(TypeError, match="Slider or Choice"):
        interactive(line, ("a", 0, 1))
    with pytest.raises(ValueError, match="share the name"):
        interactive(line, Slider("a", 0, 1), Slider("a", 0, 2))
    with pytest.raises(TypeError, match="callable"):
        interactive(42, Slider("a", 0, 1))
    with pytest.raises(TypeError, match="must return a plotly"):
        interactive(lambda a: {"data": []}, Slider("a", 0, 1), mode="static")


@settings(max_examples=40, deadline=None)
@given(
    lo=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-6, 1e6, allow_nan=False),
    steps=st.integers(2, 50),
    frac=st.floats(0, 1),
)
def test_slider_grid_properties(lo, width, steps, frac):
    hi = lo + width
    if not lo < hi:  # width lost to rounding at this magnitude
        return
    s = Slider("a", lo, hi, value=min(hi, lo + frac * width), steps=steps)
    g = s.grid()
    assert len(g) == steps and g[0] == lo and g[-1] == pytest.approx(hi)
    assert all(x <= y for x, y in zip(g, g[1:], strict=False))
    k = s.grid_index()
    assert abs(g[k] - s.value) <= width / (steps - 1) / 2 + 1e-9 * max(1.0, abs(hi), abs(lo))
