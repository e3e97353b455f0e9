// /maturity: bring an item's evidence and assessment form into view when it is drawn for the row chosen
// in the table above it (the table holds every item, so the detail is usually below the fold), and put
// the item in the address (?item=ID) as soon as it is chosen, replacing the entry, so the view can be linked to.
(function () {
  function showItem(_children) {
    var detail = document.getElementById("oc-maturity-detail");
    if (detail) { detail.scrollIntoView({behavior: "smooth", block: "start"}); }
    return window.dash_clientside.no_update;
  }

  function linkItem(selected) {
    if (selected && selected.length && selected[0].id) {
      var url = new URL(window.location.href);
      if (url.searchParams.get("item") !== selected[0].id) {
        url.searchParams.set("item", selected[0].id);
        window.history.replaceState(window.history.state, "", url.toString());
      }
    }
    return window.dash_clientside.no_update;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.opscenter = Object.assign(
    {}, window.dash_clientside.opscenter, {showItem: showItem, linkItem: linkItem}
  );
})();
