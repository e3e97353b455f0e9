// Plotly draws in pixels; the page's type size (--oc-fs in opscenter.css) follows the viewport. Give every
// figure the page's type: its text takes the page's type size, and the other pixel sizes its builder drew
// for a 1920 px wide screen (explicit font sizes, margins, marker sizes, line widths, annotation shifts)
// grow in the same proportion, so a 4K wall shows what a 1080p desk shows, twice as large. Pages give
// figures their height in rem or vh (layouts/components/graphs.py), which follow the viewport too.
// Runs after every draw and on resize.
(function () {
  var REFERENCE = 15;  // px: the page's type size at 1920 px wide, for which the figure builders draw
  var LAYOUT_SIZES = {font: ["size"], tickfont: ["size"], margin: ["l", "r", "t", "b", "pad"], line: ["width"],
                      annotations: ["xshift", "yshift"]};
  var TRACE_SIZES = {font: ["size"], textfont: ["size"], marker: ["size"], line: ["width"]};
  var TYPE_SIZED = ["font.size", "hoverlabel.font.size"];  // take the page's type size itself
  var LEGEND_SQUARE = "M6,6H-6V-6H6Z";  // the path of a legend's square, centred on its origin
  var drawn = new WeakMap();  // a figure's object -> its sizes as the builder drew them

  function typeSize() {
    return Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) || REFERENCE);
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Every size ``rules`` names under ``holder``, as {holder, key, path}; arrays of objects only in layouts.
  function sizes(holder, rules, withArrays, path, found) {
    Object.keys(holder).forEach(function (name) {
      var value = holder[name], at = path ? path + "." + name : name;
      if (name === "template") { return; }
      var items = isObject(value) ? [[value, at]] : (withArrays && Array.isArray(value) ?
        value.map(function (item, i) { return [item, at + "[" + i + "]"]; }).filter(function (p) { return isObject(p[0]); }) : []);
      items.forEach(function (pair) {
        (rules[name] || []).forEach(function (key) {
          if (typeof pair[0][key] === "number") { found.push({holder: pair[0], key: key, path: pair[1] + "." + key}); }
        });
        sizes(pair[0], rules, withArrays, pair[1], found);
      });
    });
    return found;
  }

  function scaled(size, k) {
    var sizesDrawn = drawn.get(size.holder) || {};
    if (!(size.key in sizesDrawn)) { sizesDrawn[size.key] = size.holder[size.key]; drawn.set(size.holder, sizesDrawn); }
    return Math.round(sizesDrawn[size.key] * k * 10) / 10;
  }

  function current(object, path) {
    return path.split(".").reduce(function (o, key) { return o && o[key]; }, object);
  }

  // What Plotly.update needs to give ``plot`` the type size ``size``: {traces, layout}, or null when it has it.
  function changes(plot, size) {
    var k = size / REFERENCE, layout = {}, traces = {}, any = false;
    TYPE_SIZED.forEach(function (path) {
      if (current(plot.layout, path) !== size) { layout[path] = size; any = true; }
    });
    sizes(plot.layout, LAYOUT_SIZES, true, "", []).forEach(function (s) {
      if (TYPE_SIZED.indexOf(s.path) >= 0) { return; }
      var value = scaled(s, k);
      if (s.holder[s.key] !== value) { layout[s.path] = value; any = true; }
    });
    plot.data.forEach(function (trace, i) {
      sizes(trace, TRACE_SIZES, false, "", []).forEach(function (s) {
        var value = scaled(s, k);
        if (s.holder[s.key] === value) { return; }
        traces[s.path] = traces[s.path] || new Array(plot.data.length);
        traces[s.path][i] = value;
        any = true;
      });
    });
    return any ? {traces: traces, layout: layout} : null;
  }

  // Plotly draws the legend's squares of bars and areas at a fixed 12 px: grow them with the type, after
  // the translation Plotly placed them with.
  function fitLegend(plot, k) {
    plot.querySelectorAll(".legendpoints path[d='" + LEGEND_SQUARE + "']").forEach(function (square) {
      var placed = (square.getAttribute("transform") || "").replace(/ ?scale\([^)]*\)$/, "");
      square.setAttribute("transform", placed + " scale(" + k + ")");
    });
  }

  function fit(plot) {
    if (!window.Plotly || !plot.layout || !plot.data) { return; }
    var size = typeSize(), update = changes(plot, size);
    if (update) { window.Plotly.update(plot, update.traces, update.layout); }
    fitLegend(plot, size / REFERENCE);
  }

  function watch() {
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      if (plot.dataset.ocFit) { return; }
      plot.dataset.ocFit = "1";
      plot.on("plotly_afterplot", function () { fit(plot); });
      fit(plot);
    });
  }

  new MutationObserver(watch).observe(document.documentElement, {childList: true, subtree: true});
  window.addEventListener("resize", function () { document.querySelectorAll(".js-plotly-plot").forEach(fit); });
})();
