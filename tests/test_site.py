"""The built website, opened page by page in headless Chromium (Debian's, driven by Playwright).

Run after `make book` (``make site-test`` does both in order). The network is cut off: every
request that does not go to the local test server is aborted and counted as a failure, so these
tests also prove that the site works offline. Full-page screenshots go to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# GF_SITE_DIR points the tests at another build (e.g. one chapter built with a private toc).
HTML = Path(os.environ.get("GF_SITE_DIR", ROOT / "_build" / "html")).resolve()
SHOTS = HTML.parent / "screenshots"
# Long pages with many figures load slowly on a busy 2-core machine; override in milliseconds.
TIMEOUT_MS = int(os.environ.get("GF_SITE_TIMEOUT_MS", "120000"))
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static"}


def built_pages() -> list[str]:
    if not (HTML / "index.html").exists():
        return []
    return sorted(
        str(p.relative_to(HTML))
        for p in HTML.rglob("*.html")
        if not (set(p.relative_to(HTML).parts) & SKIP_DIRS)
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html/index.html is missing: run `make book` first")
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class PageLog:
    """Everything that went wrong while a page loaded."""

    def __init__(self, origin: str):
        self.origin = origin
        self.problems: list[str] = []

    def attach(self, context, page):
        def route(r):
            host = urlparse(r.request.url).netloc
            if r.request.url.startswith(("data:", "blob:")) or host == urlparse(self.origin).netloc:
                r.continue_()
            else:
                self.problems.append(f"request to the network: {r.request.url}")
                r.abort()

        context.route("**/*", route)
        page.on(
            "console",
            lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"failed request: {r.url} ({r.failure})"),
        )
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )


def open_page(browser, server, name, *, dark=False):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = PageLog(server)
    log.attach(context, page)
    if dark:
        page.add_init_script(
            "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
        )
    page.goto(f"{server}/{name}", wait_until="load")
    # MathJax typesets asynchronously; wait until it has finished (if the page loads it).
    page.wait_for_function(
        "!window.MathJax || (MathJax.startup && MathJax.startup.promise !== undefined)",
        timeout=TIMEOUT_MS,
    )
    page.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.gf-figure')).every(d => d.dataset.gfReady)",
        timeout=TIMEOUT_MS,
    )
    return context, page, log


@pytest.mark.parametrize("name", built_pages() or ["index.html"])
def test_page_renders_offline(browser, server, name):
    context, page, log = open_page(browser, server, name)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (name.replace("/", "__") + ".png")), full_page=True)

        # Maths: nothing left as raw TeX in the visible text (code blocks aside).
        raw = page.evaluate(
            """() => {
              const clone = document.querySelector('main, article, body').cloneNode(true);
              clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
                   .forEach(n => n.remove());
              const text = clone.innerText;
              const found = ['$$', '\\\\[', '\\\\(', '\\\\begin{'].filter(s => text.includes(s));
              // any TeX command (\\mu, \\frac, ...) or $...$ left in the prose
              const cmd = text.match(/\\\\[a-zA-Z]{2,}/g) || [];
              const dollars = text.match(/(^|[^\\w$])\\$[^$\\s][^$]*\\$/g) || [];
              return found.concat(cmd.slice(0, 5), dollars.slice(0, 3));
            }"""
        )
        assert raw == [], f"{name}: untypeset TeX left on the page: {raw}"
        source_math = page.evaluate("document.querySelectorAll('.math, mjx-container').length")
        typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
        if source_math:
            assert typeset > 0, f"{name}: math present but MathJax typeset nothing"

        # Plotly: every figure has drawn an SVG with at least one trace.
        figs = page.evaluate(
            """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
                 svg: !!gd.querySelector('svg.main-svg'),
                 // scatter/bar traces are '.trace'; heatmaps '.hm'; contours '.contour'
                 traces: gd.querySelectorAll('.trace, .hm, .contour').length,
                 width: gd.getBoundingClientRect().width,
               }))"""
        )
        for i, f in enumerate(figs):
            assert f["svg"] and f["traces"] > 0 and f["width"] > 100, f"{name}: figure {i}: {f}"
        assert page.evaluate(
            "Array.from(document.querySelectorAll('.gf-figure'))"
            ".every(d => d.classList.contains('js-plotly-plot'))"
        ), f"{name}: an interactive figure did not draw"
        # Tables fit the text column (a reader should not have to scroll sideways to see a link).
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('.pst-scrollable-table-container'))
                 .map(c => [c.scrollWidth, c.clientWidth]).filter(([s, c]) => s > c + 2)"""
        )
        assert wide == [], f"{name}: tables wider than the page (scroll, visible width): {wide}"
        # Display equations and code fit their column at 1280 px: nothing cut off or scrolled.
        overflow = page.evaluate(
            """() => {
              const out = [];
              document.querySelectorAll('mjx-container[display="true"]').forEach(c => {
                const m = c.querySelector('mjx-math');
                const box = (c.closest('.math-wrapper, div.math') || c.parentElement);
                const avail = box.getBoundingClientRect().width;
                if (m && m.getBoundingClientRect().width > avail + 2)
                  out.push(['equation', Math.round(m.getBoundingClientRect().width),
                            Math.round(avail), (c.getAttribute('aria-label') || c.textContent)
                            .slice(0, 60)]);
              });
              document.querySelectorAll('.cell_input pre, div.highlight pre').forEach(p => {
                if (p.scrollWidth > p.clientWidth + 2)
                  out.push(['code', p.scrollWidth, p.clientWidth,
                            p.textContent.split('\\n').sort((a, b) => b.length - a.length)[0]
                             .slice(0, 60)]);
              });
              return out;
            }"""
        )
        assert overflow == [], f"{name}: wider than the text column (kind, width, room): {overflow}"
        # No dead ipywidgets areas on the static site.
        assert page.evaluate("document.querySelectorAll('.jupyter-widgets').length") == 0
        assert log.problems == [], f"{name}: " + "\n".join(log.problems)
    finally:
        context.close()


def _figure_state(page, index):
    return page.evaluate(
        """(i) => {
             const gd = document.querySelectorAll('.js-plotly-plot')[i];
             const title = gd.querySelector('.gtitle');
             return JSON.stringify({data: gd.data.map(t => [t.x, t.y]),
                                    title: title ? title.textContent : ''});
           }""",
        index,
    )


def _slider_figures(page):
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                 // one .slider-container holds a .slider-group per slider
                 .map((gd, i) => [i, gd.querySelectorAll('.slider-container .slider-group').length])
                 .filter(x => x[1] > 0)"""
    )


@pytest.mark.parametrize("name", built_pages() or ["index.html"])
def test_sliders_change_the_figure(browser, server, name):
    context, page, log = open_page(browser, server, name)
    try:
        for index, n_sliders in _slider_figures(page):
            for s in range(n_sliders):
                before = _figure_state(page, index)
                # Click the slider's rail one step away from its active step.
                target = page.evaluate(
                    """([i, s]) => {
                         const gd = document.querySelectorAll('.js-plotly-plot')[i];
                         const opts = gd.layout.sliders[s];
                         const n = opts.steps.length, a = opts.active || 0;
                         const next = a + 1 < n ? a + 1 : a - 1;
                         const rail = gd.querySelectorAll('.slider-container .slider-group')[s]
                                        .querySelector('.slider-rail-touch-rect');
                         const r = rail.getBoundingClientRect();
                         const pad = 8;  // plotly keeps the grip's half-width at each end
                         const x = r.left + pad + (r.width - 2 * pad) * next / (n - 1);
                         rail.scrollIntoView({block: 'center'});
                         const r2 = rail.getBoundingClientRect();
                         return {x: r2.left + (x - r.left), y: r2.top + r2.height / 2, next};
                       }""",
                    [index, s],
                )
                page.mouse.click(target["x"], target["y"])
                page.wait_for_timeout(150)
                active = page.evaluate(
                    "([i, s]) => document.querySelectorAll('.js-plotly-plot')[i]"
                    ".layout.sliders[s].active",
                    [index, s],
                )
                assert active == target["next"], f"{name}: slider {s} did not move"
                after = _figure_state(page, index)
                assert after != before, f"{name}: figure {index} slider {s} changed nothing"
        assert log.problems == [], f"{name}: " + "\n".join(log.problems)
    finally:
        context.close()


def test_intro_demo_numbers_match_torch_distributions(browser, server):
    """The title the website shows for each slider position equals torch.distributions."""
    import torch
    from torch.distributions import Normal, kl_divergence

    context, page, log = open_page(browser, server, "book/intro.html")
    try:
        spec = json.loads(
            page.evaluate("document.querySelector('script[id$=\"-spec\"]').textContent")
        )
        mus = [float(s["label"]) for s in spec["figure"]["layout"]["sliders"][0]["steps"]]
        sigmas = [float(s["label"]) for s in spec["figure"]["layout"]["sliders"][1]["steps"]]
        assert len(spec["frames"]) == len(mus) * len(sigmas)
        import re

        for k, frame in enumerate(spec["frames"]):
            mu, sigma = mus[k // len(sigmas)], sigmas[k % len(sigmas)]
            h, kl = map(float, re.findall(r"= (-?\d+\.\d+) nats", frame["layout"]["title"]["text"]))
            p = Normal(
                torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
            )
            q = Normal(
                torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
            )
            assert abs(h - p.entropy().item()) < 1e-6
            assert abs(kl - kl_divergence(p, q).item()) < 1e-6
        # And the page shows the title of the slider position it is at.
        shown = page.evaluate("document.querySelector('.gf-figure .gtitle').textContent")
        assert "1.418939 nats" in shown and "KL(N(μ, σ²) ‖ N(0, 1)) = 0.000000 nats" in shown
    finally:
        context.close()


def test_dark_mode_screenshot(browser, server):
    context, page, log = open_page(browser, server, "book/intro.html", dark=True)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        colour = page.evaluate("document.querySelector('.gf-figure').layout.font.color")
        assert colour == "#e0e0e0", "figure text must switch to a light colour in dark mode"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "book__intro.dark.png"), full_page=True)
        assert log.problems == [], "\n".join(log.problems)
    finally:
        context.close()


# -- the frame-order contract between companion/figures.py and gf-figures.js ----------------------
_PLAIN_JS = """
  function plain(v) {
    if (ArrayBuffer.isView(v)) { return Array.from(v); }
    if (Array.isArray(v)) { return v.map(plain); }
    if (v && typeof v === 'object') {
      const out = {};
      Object.keys(v).filter(k => k !== '_inputArray').forEach(k => { out[k] = plain(v[k]); });
      return out;
    }
    return v;
  }
"""


def _shown(page, fig_id, spec):
    """What the figure draws now, for the trace attributes and layout entries that the frames
    change (typed arrays as lists, plotly's decoded copies left out)."""
    return page.evaluate(
        "([id, traces, keys, lkeys]) => {"
        + _PLAIN_JS
        + """
           const gd = document.getElementById(id);
           const traceValues = k => traces.map(t => plain(gd.data[t][k]));
           return {data: Object.fromEntries(keys.map(k => [k, traceValues(k)])),
                   layout: Object.fromEntries(lkeys.map(k => [k, plain(gd.layout[k])])),
                   sliders: (gd.layout.sliders || []).map(s => s.active || 0),
                   menus: (gd.layout.updatemenus || []).map(m => m.active || 0)};
         }""",
        [fig_id, spec["traces"], spec["keys"], sorted(spec["frames"][0]["layout"])],
    )


def _move(page, fig_id, kind, which, target):
    """Click slider rail ``which`` (or button ``target`` of button row ``which``) as a reader."""
    point = page.evaluate(
        """([id, kind, which, target]) => {
             const gd = document.getElementById(id);
             let node, x;
             if (kind === 'slider') {
               // one .slider-container holds a .slider-group per slider, in layout order
               node = gd.querySelectorAll('.slider-container .slider-group')[which]
                        .querySelector('.slider-rail-touch-rect');
               const n = gd.layout.sliders[which].steps.length, r = node.getBoundingClientRect();
               x = (r2) => r2.left + 8 + (r2.width - 16) * target / (n - 1);  // grip half-width 8
             } else {
               node = gd.querySelectorAll('.updatemenu-container .updatemenu-header-group')[which]
                        .querySelectorAll('.updatemenu-button')[target];
               x = (r2) => r2.left + r2.width / 2;
             }
             node.scrollIntoView({block: 'center'});
             const r2 = node.getBoundingClientRect();
             return {x: x(r2), y: r2.top + r2.height / 2};
           }""",
        [fig_id, kind, which, target],
    )
    page.mouse.click(point["x"], point["y"])
    entry = "sliders" if kind == "slider" else "updatemenus"
    page.wait_for_function(
        "([id, entry, which, target]) => "
        "(document.getElementById(id).layout[entry][which].active || 0) === target",
        arg=[fig_id, entry, which, target],
    )
    page.wait_for_timeout(100)  # the buttons apply their frame in a setTimeout(0)


def _widened(shown, expected) -> bool:
    """An axis tied to another by ``scaleanchor`` (equal scales): plotly widens its range about
    the same centre to keep the aspect ratio, so the frame's range must lie inside the shown one."""
    lo, hi = (float(v) for v in shown)
    a, b = (float(v) for v in expected)
    return lo <= a + 1e-9 and hi >= b - 1e-9 and abs((lo + hi) - (a + b)) < 1e-6 * (1 + hi - lo)


def _holds(shown, expected) -> bool:
    """``shown`` carries every entry of ``expected`` (plotly adds defaults such as an axis'
    ``type`` to the layout it keeps; those are not the frame's business)."""
    if isinstance(expected, dict):
        return isinstance(shown, dict) and all(
            k in shown
            and (
                _widened(shown[k], v)
                if k == "range" and "scaleanchor" in shown
                else _holds(shown[k], v)
            )
            for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(shown, list)
            and len(shown) == len(expected)
            and all(_holds(a, b) for a, b in zip(shown, expected, strict=True))
        )
    return shown == expected


@pytest.mark.parametrize("name", built_pages() or ["index.html"])
def test_slider_moves_show_frame_ravel(browser, server, name):
    """Move each control of every figure with two or more controls, one after the other; after
    each move the figure shows exactly frame ``numpy.ravel_multi_index(actives, sizes)`` (C order,
    the last control fastest) of the frames embedded in the page: the contract documented in
    companion/figures.py and gf-figures.js."""
    import numpy as np

    context, page, log = open_page(browser, server, name)
    try:
        specs = page.evaluate(
            """() => Array.from(document.querySelectorAll('.gf-figure')).map(d =>
                 [d.id, document.getElementById(d.id + '-spec').textContent])"""
        )
        specs = [(i, json.loads(text)) for i, text in specs]
        specs = [(i, s) for i, s in specs if len(s["controls"]) >= 2]
        if not specs:
            pytest.skip(f"{name} has no figure with two or more controls")
        for fig_id, spec in specs:
            sizes = [c["size"] for c in spec["controls"]]
            kinds = [c["kind"] for c in spec["controls"]]
            # the m-th control is the (number of earlier controls of its kind)-th slider/button row
            which = [kinds[:m].count(k) for m, k in enumerate(kinds)]
            shown = _shown(page, fig_id, spec)
            active = [
                (shown["sliders"] if k == "slider" else shown["menus"])[w]
                for k, w in zip(kinds, which, strict=True)
            ]
            told_apart = False
            for m in range(len(sizes)):
                active[m] = (active[m] + 1 + m) % sizes[m]
                _move(page, fig_id, kinds[m], which[m], active[m])
                k = int(np.ravel_multi_index(active, sizes))  # C order
                told_apart |= k != int(np.ravel_multi_index(active, sizes, order="F"))
                frame = spec["frames"][k]
                shown = _shown(page, fig_id, spec)
                where = f"{name} {fig_id}: controls at {active} of {sizes}"
                assert shown["data"] == frame["data"], f"{where}: traces are not frame {k}"
                assert _holds(shown["layout"], frame["layout"]), f"{where}: layout is not frame {k}"
            assert told_apart, f"{fig_id}: no move distinguishes C from F order; pick other moves"
        assert log.problems == [], f"{name}: " + "\n".join(log.problems)
    finally:
        context.close()
