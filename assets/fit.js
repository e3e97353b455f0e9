// The wall's side panels show whole rows only: rows that do not fit their panel are hidden and
// counted in a "+N more" line with any the server already left out. Never a half-cut row.
(function () {
  var queued = false;

  function fit(body) {
    var rows = Array.prototype.slice.call(body.querySelectorAll("li:not(.oc-more)"));
    var server = body.querySelector("li.oc-more");
    var extra = server ? Number(server.getAttribute("data-count")) || 0 : 0;
    rows.forEach(function (row) { row.hidden = false; });
    if (server) { server.hidden = true; }
    body.removeAttribute("data-more-label");
    var limit = body.getBoundingClientRect().bottom + 0.5;
    var overflows = function () {
      var last = rows.filter(function (row) { return !row.hidden; }).pop();
      return last && last.getBoundingClientRect().bottom > limit;
    };
    if (!extra && !overflows()) { return; }
    limit -= 1.4 * parseFloat(getComputedStyle(body).fontSize);  // room for the "+N more" line
    var hidden = 0;
    for (var i = rows.length - 1; i >= 0 && overflows(); i--) { rows[i].hidden = true; hidden++; }
    var template = (document.querySelector(".oc-wall") || body).getAttribute("data-more") || "+{count}";
    if (hidden + extra) { body.setAttribute("data-more-label", template.replace("{count}", hidden + extra)); }
  }

  // A panel also changes size when a neighbour grows (a longer line in the incidents, the header's duty
  // line): fit again whenever a panel's size changes, not only when rows come or go.
  var resized = new ResizeObserver(function () { queue(); });

  function fitAll() {
    queued = false;
    document.querySelectorAll(".oc-side .oc-panel-body").forEach(function (body) {
      if (!body.dataset.ocFitWatched) { body.dataset.ocFitWatched = "1"; resized.observe(body); }
      fit(body);
    });
  }

  function queue() {
    if (!queued && document.querySelector(".oc-side")) { queued = true; window.requestAnimationFrame(fitAll); }
  }

  new MutationObserver(queue).observe(document.documentElement, {childList: true, subtree: true});
  window.addEventListener("resize", queue);
})();
