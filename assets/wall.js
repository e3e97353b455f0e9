// The wall's tiles, drawn in the browser from the compact tile model the server patches.
// Sparkline points arrive only when new; the last hour is kept here per page.
(function () {
  var HOUR_MS = 3600 * 1000;
  var spark = null;

  function keepSpark(model) {
    var s = model.spark || {t: [], v: [], reset: true};
    if (!spark || spark.page !== model.page || s.reset) {
      spark = {page: model.page, t: s.t.slice(), v: s.v.slice()};
    } else {
      s.t.forEach(function (t, i) {
        if (!spark.t.length || t > spark.t[spark.t.length - 1]) { spark.t.push(t); spark.v.push(s.v[i]); }
      });
    }
    var newest = spark.t.length ? spark.t[spark.t.length - 1] : 0;
    while (spark.t.length && spark.t[0] <= newest - HOUR_MS) { spark.t.shift(); spark.v.shift(); }
  }

  function sparkline(tile, colour) {
    var w = 120, h = 28;
    var values = spark.v.map(function (row) { return row[tile]; }).filter(function (v) { return v !== null && v !== undefined; });
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h +
      '" preserveAspectRatio="none">';
    if (values.length > 1) {
      var high = Math.max.apply(null, values) || 1;  // the scale starts at zero: noise looks like noise
      var points = values.map(function (v, i) {
        return (i * w / (values.length - 1)).toFixed(1) + "," + (h - 2 - v / high * (h - 4)).toFixed(1);
      });
      svg += '<polyline fill="none" stroke="' + colour + '" stroke-width="2" points="' + points.join(" ") + '"/>';
    }
    return "data:image/svg+xml," + encodeURIComponent(svg + "</svg>");
  }

  function span(className, children) {
    return {type: "Span", namespace: "dash_html_components", props: {className: className, children: children}};
  }

  function drawTiles(model) {
    var outputs = window.dash_clientside.callback_context.outputs_list;
    keepSpark(model);
    var rows = outputs[0].map(function (o) { return model.rows[o.id.index] || ["nodata", "–", "–", "–"]; });
    var chains = outputs[5].map(function (o, i) { return model.chains[i] || "nodata"; });
    var counts = ["ok", "warn", "crit"].map(function (s) {
      return span("oc-count oc-" + s, [span("oc-shape", null), String(model.counts[s] || 0)]);
    });
    return [
      rows.map(function (r) { return "oc-tile oc-" + r[0]; }),
      rows.map(function (r) { return r[1]; }),
      rows.map(function (r) { return r[2]; }),
      rows.map(function (r) { return r[3]; }),
      outputs[4].map(function (o, i) { return sparkline(o.id.index, model.colours[rows[i][0]]); }),
      chains.map(function (s) { return "oc-chain oc-" + s; }),
      chains.map(function (s) { return model.labels[s]; }),
      [span("oc-badge oc-" + model.overall, [span("oc-shape", null), model.labels[model.overall]])].concat(counts),
    ];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.opscenter = Object.assign({}, window.dash_clientside.opscenter, {drawTiles: drawTiles});
})();
