"""Sphinx extension used by the book build (listed in ``_config.yml``).

It makes the website self-contained and puts every chapter's figures into static mode:

* sets ``GF_FIGURE_MODE=static`` in the build process (with ``companion._mode.set_mode``), so
  the kernels that execute the chapters (they inherit the environment) precompute slider frames
  instead of creating ipywidgets;
* removes duplicated inline scripts (sphinx-thebe's configuration is otherwise declared twice);
* copies plotly.js from the installed plotly package, and ``gf-figures.js``/``.css`` from here,
  into ``_static/`` and loads both once on every page: no CDN, no require.js, nothing inlined
  per figure.

Loading it imports neither torch nor plotly (Sphinx reads it before any chapter runs).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from sphinx.util.fileutil import copy_asset_file

from ._mode import set_mode


def _plotly_dir() -> Path:
    """The installed plotly package's folder, found without importing plotly (or torch: this
    module reads the figure mode from the light ``companion._mode``)."""
    spec = find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return Path("plotly-is-not-installed")
    return Path(next(iter(spec.submodule_search_locations)))


PLOTLY_JS = _plotly_dir() / "package_data" / "plotly.min.js"
FIGURES_JS = Path(__file__).parent / "static" / "gf-figures.js"
FIGURES_CSS = Path(__file__).parent / "static" / "gf-figures.css"


def _copy_assets(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for src in (PLOTLY_JS, FIGURES_JS, FIGURES_CSS):
        copy_asset_file(str(src), str(static / src.name))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated identical <script> entries.

    sphinx-thebe (always loaded by Jupyter Book) registers its inline configuration
    (``const THEBE_JS_URL = ...``) each time the environment is read, and a page with it twice
    throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in sorted(scripts, key=lambda j: getattr(j, "priority", 500)):
        attrs = getattr(js, "attributes", {})
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    # In place: it is the builder's own list, which later handlers (MathJax's) append to.
    scripts[:] = unique


def setup(app):
    if not PLOTLY_JS.is_file():
        raise RuntimeError(f"plotly.min.js not found at {PLOTLY_JS}; is plotly installed?")
    set_mode("static")
    # Loaded synchronously in <head>, before the chapters' inline figure scripts run.
    app.add_js_file(PLOTLY_JS.name, priority=400)
    app.add_js_file(FIGURES_JS.name, priority=401)
    app.add_css_file(FIGURES_CSS.name)
    app.connect("build-finished", _copy_assets)
    # Late, after every other handler (MathJax's among them) has added its scripts.
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
