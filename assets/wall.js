// The wall's tiles, painted in the browser from the compact tile model the server patches.
// Sparkline points arrive only when new; the last hour is kept here per page.
(function () {
  var HOUR_MS = 3600 * 1000;
  var OTHER = {latency: "errors", errors: "latency"};
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

  // calm tiles get a muted line, filled ones a dark line on their colour
  function sparkline(tile, status) {
    var w = 120, h = 28, colour = (status === "ok" || status === "nodata") ? "#6b7886" : "#000000";
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

  // a chain's headline business figure: status, label, value, tooltip (none: the chain has no headline)
  function paintBusiness(el, figure) {
    if (!el) { return; }
    var shown = figure || ["nodata", "", "", ""];
    setClass(el, "oc-chain-business oc-" + shown[0] + (figure ? "" : " oc-biz-absent"));
    setText(el.querySelector(".oc-biz-wall-value"), shown[2]);
    setText(el.querySelector(".oc-biz-wall-label"), shown[1]);
    if (el.title !== shown[3]) { el.title = shown[3]; }
  }

  function setText(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function setClass(el, name) { if (el && el.className !== name) { el.className = name; } }

  // Tiles are a name from the server and a body made here: hundreds of tiles as Dash components
  // would make every Dash update walk them all. The server never redraws a tile in place (it
  // replaces the chains when they change), so what is made here never fights React.
  function body(tile) {
    var found = tile.querySelector(".oc-tile-metrics");
    if (!found) {
      found = document.createElement("div");
      found.className = "oc-tile-metrics";
      found.innerHTML = '<span class="oc-metric-main"></span><span class="oc-metric-label"></span>' +
        '<span class="oc-tile-side"><span class="oc-rate"></span><span class="oc-other"></span></span>';
      var line = document.createElement("img");
      line.className = "oc-spark";
      line.alt = "";
      tile.append(found, line);
    }
    return found;
  }

  // A chain's sites: name, traffic share and a status shape each; built as text nodes.
  function paintSites(holder, sites) {
    if (!holder) { return; }
    var key = JSON.stringify(sites);
    if (holder.getAttribute("data-key") === key) { return; }
    holder.setAttribute("data-key", key);
    holder.replaceChildren.apply(holder, sites.map(function (site) {
      var el = document.createElement("span");
      el.className = "oc-site oc-" + site[2];
      el.setAttribute("data-site", site[0]);
      el.textContent = site[0] + " " + site[1];
      return el;
    }));
  }

  // row: [status, main figure, its metric, requests/s, the other figure, reasons]
  function paint(model) {
    var labels = model.labels;
    document.querySelectorAll(".oc-tile[data-index]").forEach(function (tile) {
      body(tile);
      var index = Number(tile.getAttribute("data-index"));
      var row = model.rows[index] || ["nodata", "–", "latency", "–", "–", []];
      setClass(tile, "oc-tile oc-" + row[0]);
      tile.setAttribute("data-status", row[0]);
      setText(tile.querySelector(".oc-metric-main"), row[1]);
      setText(tile.querySelector(".oc-metric-label"), labels[row[2]]);
      setText(tile.querySelector(".oc-rate"), row[3]);
      setText(tile.querySelector(".oc-other"), labels[OTHER[row[2]]] + " " + row[4]);
      tile.querySelector(".oc-spark").src = sparkline(index, row[0]);
      var logs = (model.logs || [])[index];
      var title = [tile.getAttribute("data-title")].concat(row[5], logs ? [model.logs_label.replace("{rate}", logs)] : [])
        .join("\n");
      if (tile.title !== title) { tile.title = title; }
    });
    document.querySelectorAll(".oc-chain[data-chain]").forEach(function (chain, i) {
      var state = model.chains[i] || ["nodata", ""];
      setClass(chain, "oc-chain oc-" + state[0]);
      setText(chain.querySelector(".oc-chain-status"), labels[state[0]]);
      setText(chain.querySelector(".oc-chain-why"), state[1]);
      paintSites(chain.querySelector(".oc-chain-sites"), (model.sites || [])[i] || []);
      var budget = (model.budgets || [])[i] || ["nodata", "", ""], badge = chain.querySelector(".oc-chain-budget");
      setClass(badge, "oc-badge oc-chain-budget oc-" + budget[0]);
      setText(badge, budget[1]);
      var budgetTitle = (model.budget_titles || {})[budget[2]] || "";
      if (badge && badge.title !== budgetTitle) { badge.title = budgetTitle; }
      paintBusiness(chain.querySelector(".oc-chain-business"), (model.business || [])[i]);
    });
  }

  // The header: the chains' status raised by an open P1 (critical) or P2 (degraded); while the
  // metrics behind it fail or are late it says so rather than show a colour it cannot know.
  function drawTiles(model) {
    keepSpark(model);
    window.requestAnimationFrame(function () { paint(model); });  // after React has committed new chains
    var header = model.header || {status: "nodata", text: ""};
    var overall = header.status, label = model.labels[overall], text = header.text;
    if (model.unknown) { overall = "nodata"; label = model.labels.unknown; text = model.unknown; }
    if (model.alarm === "crit" || (model.alarm === "warn" && overall !== "crit")) {
      overall = model.alarm;
      label = model.labels[overall];
    }
    return [span("oc-badge oc-" + overall, [span("oc-shape", null), label]), span("oc-attention", text)];
  }

  // "updated HH:MM:SS": when the newest data the server holds was polled, in the display time zone
  function updated(versions) {
    var el = document.querySelector(".oc-updated");
    var asOf = versions && versions.as_of;
    if (!el || !asOf) { return window.dash_clientside.no_update; }
    var time = new Intl.DateTimeFormat("en-GB", {
      timeZone: el.getAttribute("data-tz") || undefined, hour: "2-digit", minute: "2-digit", second: "2-digit",
      hour12: false,
    }).format(new Date(asOf));
    return el.getAttribute("data-template").replace("{time}", time);
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.opscenter = Object.assign({}, window.dash_clientside.opscenter,
                                                   {drawTiles: drawTiles, wallUpdated: updated});
})();
