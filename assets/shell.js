// The shell follows the URL in the browser: ?kiosk=1 hides navigation, controls and cursor; ?lang=
// chooses the navigation's language, and its links keep it; ?playlist=NAME moves to the playlist's
// next page when the current one has had its seconds.
(function () {
  var shown = {key: null, since: 0};

  function shellClass(search) {
    return new URLSearchParams(search || "").get("kiosk") === "1" ? "oc-shell oc-kiosk" : "oc-shell";
  }

  function navigation(search, text) {
    var asked = new URLSearchParams(search || "").get("lang");
    var lang = text.labels[asked] ? asked : text["default"];
    var pages = window.dash_clientside.callback_context.outputs_list[0].map(function (o) { return o.id.page; });
    return [pages.map(function (page) { return text.labels[lang][page]; }),
            pages.map(function (page) { return "/" + page + (text.labels[asked] ? "?lang=" + asked : ""); })];
  }

  function rotate(_tick, pathname, search, playlists) {
    var noUpdate = window.dash_clientside.no_update;
    var pages = (playlists || {})[new URLSearchParams(search || "").get("playlist")];
    if (!pages || !pages.length) { return noUpdate; }
    if (shown.key !== pathname + search) { shown = {key: pathname + search, since: Date.now()}; }
    var here = pages.findIndex(function (p) { return p.page === pathname; });
    if (here >= 0 && Date.now() - shown.since < pages[here].seconds * 1000) { return noUpdate; }
    var next = pages[(here + 1) % pages.length].page;
    return next === pathname ? noUpdate : window.location.origin + next + search;  // keeps kiosk, lang, playlist
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.opscenter = Object.assign({}, window.dash_clientside.opscenter,
                                                   {shellClass: shellClass, navigation: navigation,
                                                    rotate: rotate});
})();
