// Plotly sizes text in pixels: give the drill-down figures the page's type size (--oc-fs, which
// follows the viewport), so a 4K wall reads like a 1080p desk. Runs after every draw and resize.
(function () {
  function typeSize() {
    return Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) || 14);
  }
  function fit(plot) {
    var size = typeSize();
    if (!window.Plotly || !plot.layout || (plot.layout.font && plot.layout.font.size === size)) { return; }
    window.Plotly.relayout(plot, {"font.size": size});
  }
  function watch() {
    document.querySelectorAll(".oc-drill .js-plotly-plot").forEach(function (plot) {
      if (plot.dataset.ocFit) { return; }
      plot.dataset.ocFit = "1";
      plot.on("plotly_afterplot", function () { fit(plot); });
      fit(plot);
    });
  }
  new MutationObserver(watch).observe(document.documentElement, {childList: true, subtree: true});
  window.addEventListener("resize", function () {
    document.querySelectorAll(".oc-drill .js-plotly-plot").forEach(fit);
  });
})();
