/* Generative Foundations: static-site side of companion.figures.
 *
 * A StaticFigure is emitted as <div class="gf-figure" id=ID> plus <script id=ID-spec> holding
 * {figure, controls, traces, keys, frames}. Sliders and buttons use plotly's "skip" method: they
 * move but change nothing themselves. We listen to their events, read the active step of every
 * control, turn that into one frame index and apply that frame with Plotly.update.
 *
 * Frame order (the contract with companion/figures.py, which documents the same): spec.controls
 * lists the controls c_0..c_{k-1} in the order the chapter gave them to interactive(), each with
 * its kind ("slider" or "choice") and grid size n_m. Python stores the frames in the order of
 * itertools.product over the controls' grids: row-major (C order), the LAST control fastest.
 * frameIndex walks spec.controls in order; a "slider" control reads the next entry of
 * gd.layout.sliders, a "choice" control the next entry of gd.layout.updatemenus (Python adds
 * both in the controls' order), and with i_m that entry's active step it returns
 *   index = (...((i_0 * n_1 + i_1) * n_2 + i_2)...) * n_{k-1} + i_{k-1}
 *         = numpy.ravel_multi_index((i_0, ..., i_{k-1}), (n_0, ..., n_{k-1}))
 * (for two controls: i * n_1 + j). tests/test_site.py (test_slider_moves_show_frame_ravel) moves
 * the sliders of a built page and checks that the figure shows exactly that frame.
 *
 * The file also keeps every plotly figure's text readable when the reader toggles dark mode.
 */
(function () {
  "use strict";

  function themeFont() {
    var dark = document.documentElement.dataset.theme === "dark";
    return dark ? "#e0e0e0" : "#3b3b3b";
  }

  function frameIndex(gd, spec) {
    var sliders = (gd.layout.sliders || []);
    var menus = (gd.layout.updatemenus || []);
    var si = 0, mi = 0, index = 0;
    spec.controls.forEach(function (c) {
      var active = 0;
      if (c.kind === "slider") { active = sliders[si].active || 0; si += 1; }
      else { active = menus[mi].active || 0; mi += 1; }
      index = index * c.size + active;
    });
    return index;
  }

  function applyFrame(gd, spec) {
    var frame = spec.frames[frameIndex(gd, spec)];
    var layout = Object.assign({}, frame.layout);
    if (spec.keys.length) {
      Plotly.update(gd, frame.data, layout, spec.traces);
    } else if (Object.keys(layout).length) {
      Plotly.relayout(gd, layout);
    }
  }

  function render(id) {
    var gd = document.getElementById(id);
    var specNode = document.getElementById(id + "-spec");
    if (!gd || !specNode) { return; }
    if (!window.Plotly) {
      gd.textContent = "plotly.js did not load, so this figure cannot be drawn.";
      return;
    }
    var spec = JSON.parse(specNode.textContent);
    var fig = spec.figure;
    fig.layout = fig.layout || {};
    fig.layout.font = Object.assign({}, fig.layout.font, { color: themeFont() });
    Plotly.newPlot(gd, fig.data, fig.layout, { responsive: true, displaylogo: false })
      .then(function () {
        // Controls of this figure change plotly's "active" state first, then fire these events.
        gd.on("plotly_sliderchange", function () { applyFrame(gd, spec); });
        gd.on("plotly_buttonclicked", function () {
          // the button's "active" is set after this event fires
          window.setTimeout(function () { applyFrame(gd, spec); }, 0);
        });
        gd.dataset.gfReady = "1";
      });
  }

  function restyleTheme() {
    var color = themeFont();
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      if (gd.layout) { Plotly.relayout(gd, { "font.color": color }); }
    });
  }

  function watchTheme() {
    if (!window.MutationObserver || !window.Plotly) { return; }
    new MutationObserver(function (records) {
      if (records.some(function (r) { return r.attributeName === "data-theme"; })) {
        restyleTheme();
      }
    }).observe(document.documentElement, { attributes: true });
    // Figures drawn by plain plotly (not through render) get the right colour at load too.
    window.addEventListener("load", restyleTheme);
  }

  window.gfFigures = { render: render, frameIndex: frameIndex };
  watchTheme();
})();
