// Liveness: every refresh interval the page asks /health. After two failed answers in a row (no
// answer, or a 5xx) it covers itself with "connection lost since HH:MM:SS" in the page's language;
// the first good answer uncovers it. Without this a stopped server would leave the last picture up,
// its clock (which runs here) still ticking. When two answers in a row name another build than the one
// the page was drawn by (a deploy), an unattended page (the wall, a kiosk or a playlist) reloads itself
// and takes the new code; a page somebody works on is left as it is (a reload would lose what they type).
(function () {
  var FAILURES = 2;
  var RELOAD_AFTER = 2;  // answers of another build in a row: one replica of a rolling deploy is not enough
  var state = {failures: 0, since: null, asking: false, otherBuild: 0};

  function config() { return document.getElementById("oc-liveness"); }

  function words(el) {
    var texts = JSON.parse(el.getAttribute("data-text"));
    var asked = new URLSearchParams(window.location.search).get("lang");
    return texts[asked] || texts[el.getAttribute("data-lang")] || texts.en;
  }

  function clock(el, when) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: el.getAttribute("data-tz") || undefined, hour: "2-digit", minute: "2-digit", second: "2-digit",
      hour12: false,
    }).format(when);
  }

  function cover(el) {
    var found = document.getElementById("oc-lost");
    if (!found) {
      found = document.createElement("div");
      found.id = "oc-lost";
      found.className = "oc-lost";
      found.setAttribute("role", "alert");
      found.innerHTML = '<div class="oc-lost-title"></div><div class="oc-lost-detail"></div>';
      document.body.appendChild(found);
    }
    var text = words(el);
    found.querySelector(".oc-lost-title").textContent = text.lost.replace("{time}", clock(el, state.since));
    found.querySelector(".oc-lost-detail").textContent = text.retrying;
  }

  function uncover() {
    var found = document.getElementById("oc-lost");
    if (found) { found.remove(); }
  }

  function answered(alive) {
    state.asking = false;
    if (alive) {
      state.failures = 0;
      state.since = null;
      uncover();
      return;
    }
    if (!state.failures) { state.since = new Date(); }
    state.failures += 1;
    var el = config();
    if (el && state.failures >= FAILURES) { cover(el); }
  }

  function interval() {
    var el = config();
    return Math.max(1000, Number(el && el.getAttribute("data-interval-ms")) || 5000);
  }

  function unattended() {
    var query = new URLSearchParams(window.location.search);
    return window.location.pathname.indexOf("/wall") === 0 || query.has("kiosk") || query.has("playlist");
  }

  function checkBuild(body) {
    var el = config(), drawn = el && el.getAttribute("data-build");
    var other = Boolean(drawn && body && body.build && body.build !== drawn);
    state.otherBuild = other ? state.otherBuild + 1 : 0;
    if (state.otherBuild >= RELOAD_AFTER && unattended()) { window.location.reload(); }
  }

  function isAlive(response) {
    if (response.status >= 500) { return false; }
    return response.json().then(checkBuild, function () {}).then(function () { return true; });
  }

  function ask() {
    if (config() && !state.asking) {
      state.asking = true;
      var controller = new AbortController();
      var timer = setTimeout(function () { controller.abort(); }, interval());
      fetch("/health", {cache: "no-store", credentials: "same-origin", signal: controller.signal})
        .then(isAlive, function () { return false; })
        .then(function (alive) { clearTimeout(timer); answered(alive); });
    }
    setTimeout(ask, interval());
  }

  setTimeout(ask, 1000);
})();
