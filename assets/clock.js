// The header clock in the display time zone, incident ages and their updates' staleness, ticking in the browser:
// no server round trip.
(function () {
  function age(since, templates) {
    var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
    var parts = {d: Math.floor(minutes / 1440), h: Math.floor(minutes / 60) % 24, m: minutes % 60};
    var template = parts.d ? templates.d : (parts.h ? templates.h : templates.m);
    return template.replace(/\{(\w)\}/g, function (_all, key) { return parts[key]; });
  }

  function tick() {
    document.querySelectorAll(".oc-clock").forEach(function (el) {
      var tz = el.getAttribute("data-tz") || undefined;
      var label = el.getAttribute("data-label");
      el.textContent = new Intl.DateTimeFormat("en-GB", {
        timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
      }).format(new Date()) + (label ? " " + label : "");
    });
    document.querySelectorAll(".oc-oversight[data-stale-at]").forEach(function (el) {
      el.classList.toggle("oc-overdue", Date.now() >= Number(el.getAttribute("data-stale-at")));
    });
    var wall = document.querySelector(".oc-wall");
    if (wall) {
      var templates = {m: wall.dataset.ageM, h: wall.dataset.ageH, d: wall.dataset.ageD};
      wall.querySelectorAll(".oc-age[data-since]").forEach(function (el) {
        el.textContent = age(Number(el.getAttribute("data-since")), templates);
      });
    }
  }
  setInterval(tick, 1000);
})();
