// /maturity: bring an item's evidence and assessment form into view when a row is chosen in the
// table above it (the table holds every item, so the detail is usually below the fold).
(function () {
  function showItem(_children) {
    var detail = document.getElementById("oc-maturity-detail");
    if (detail) { detail.scrollIntoView({behavior: "smooth", block: "start"}); }
    return window.dash_clientside.no_update;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.opscenter = Object.assign({}, window.dash_clientside.opscenter, {showItem: showItem});
})();
